"""The words of a text as the full-text index sees them: revtrack's tokens, words only.

SQLite's own tokenizer would treat a run of Chinese or Thai as one word; feeding
it revtrack's tokens (one Han character, one Thai cluster, whole Latin words)
separated by spaces makes phrase search work the same in every script.
"""

from __future__ import annotations

from revtrack.tokens import words


def search_words(text: str) -> str:
    """Space-separated word tokens of ``text`` (punctuation and quotes dropped)."""
    return " ".join(words(text))


def phrase_query(phrase: str) -> str | None:
    """An FTS5 phrase query for ``phrase``, or None when it has no words."""
    words = search_words(phrase).split()
    if not words:
        return None
    return '"' + " ".join(word.replace('"', '""') for word in words) + '"'
