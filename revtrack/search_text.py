"""The words of a text as the full-text index sees them: revtrack's tokens, words only.

SQLite's own tokenizer would treat a run of Chinese or Thai as one word; feeding
it revtrack's tokens (one Han character, one Thai cluster, whole Latin words)
separated by spaces makes phrase search work the same in every script.
"""

from __future__ import annotations

from revtrack.tokens import surely_simple, words


def search_words(text: str) -> str:
    """What the full-text index is given for ``text``.

    Latin, Greek and Cyrillic text goes in as it is (SQLite's tokenizer splits
    it the same way for the text and for the query); other scripts go in as
    revtrack's word tokens separated by spaces.
    """
    return text if surely_simple(text) else " ".join(words(text))


def phrase_query(phrase: str) -> str | None:
    """An FTS5 phrase query for ``phrase``, or None when it has no words."""
    tokens = words(phrase)
    if not tokens:
        return None
    return '"' + " ".join(token.replace('"', '""') for token in tokens) + '"'
