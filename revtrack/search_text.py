"""The words of a text as the full-text index sees them: revtrack's tokens, words only.

SQLite's own tokenizer would treat a run of Chinese or Thai as one word; feeding
it revtrack's tokens (one Han character, one Thai cluster, whole Latin words)
separated by spaces makes phrase search work the same in every script.
"""

from __future__ import annotations

import re
from typing import Final

from revtrack.tokens import words

# Characters on which SQLite's unicode61 tokenizer and revtrack's word tokens
# agree: a letter or digit to one is a letter or digit to the other, and
# neither splits a run of them. Text made only of these gives the full-text
# index the same terms as it is as it does re-tokenized, so it goes in as it is
# (tokenizing Korean text or a minus sign in Python cost ~4 of the ~23 CPU
# seconds of a 30,000-version import). Left out: the unspaced scripts (revtrack
# splits their runs), and what unicode61, whose tables are Unicode 6.1's,
# counts as a letter but revtrack does not (symbols assigned since, such as
# ₺ ₽ ₿, and unassigned code points).
# tests/test_search_text.py checks every character of the class against SQLite.
_AS_IS_CLASS: Final = (
    "\x00-\u02ff"  # Latin, IPA, spacing modifiers
    "\u0370-\u0377\u037a-\u037f\u0384-\u038a\u038c\u038e-\u03a1\u03a3-\u0482\u048a-\u052f"  # Greek, Cyrillic
    "\u2000-\u200b\u200e-\u2064\u206a-\u206f"  # general punctuation, without ZWNJ/ZWJ and the isolates
    "\u20a0-\u20b9\u2100-\u2189"  # currency signs up to ₹, letter-like symbols, number forms
    "\u2190-\u23f3\u2400-\u2426\u2440-\u244a\u2460-\u26ff\u2701-\u27ff"  # arrows, maths (− ×), technical, dingbats
    "\u3131-\u318e\uac00-\ud7a3"  # Hangul: spaced like Latin
)
_AS_IS: Final = re.compile(f"[{_AS_IS_CLASS}]*")
_NOT_AS_IS: Final = re.compile(f"[^{_AS_IS_CLASS}]")


def search_words(text: str) -> str:
    """What the full-text index is given for ``text``.

    Text the index tokenizes as revtrack does (Latin, Greek, Cyrillic, Korean,
    common symbols) goes in as it is. In other text, only the stretches
    between spaces and line breaks that hold another character go in as
    revtrack's word tokens separated by spaces: neither tokenizer lets a word
    span a space or a line break, so the rest gives the same terms as it is.
    (Of the benchmark's 30,000 news versions, 1,135 hold an emoji or a Chinese
    name: tokenized whole, 570 µs each; this way, 106 µs.)
    """
    if _AS_IS.fullmatch(text):
        return text
    parts: list[str] = []
    copied = 0  # text[:copied] is in parts
    for found in _NOT_AS_IS.finditer(text):
        if found.start() < copied:
            continue  # in a stretch already re-tokenized
        # The stretch: from just after the last space or line break before the
        # character (or where the text not yet copied begins) to the next one.
        start = max(text.rfind(" ", copied, found.start()), text.rfind("\n", copied, found.start()), copied - 1) + 1
        ends = [end for end in (text.find(" ", found.end()), text.find("\n", found.end())) if end >= 0]
        end = min(ends, default=len(text))
        parts += [text[copied:start], " ".join(words(text[start:end]))]
        copied = end
    parts.append(text[copied:])
    return "".join(parts)


def passages(title: str, body: str) -> list[str]:
    """What the full-text index is given for an article's text: its headline and each paragraph, apart.

    The index holds each distinct paragraph of an article once, for the
    revisions it spans (see :mod:`revtrack.index`), so a phrase is found within
    one paragraph. A paragraph is a block between blank lines where the body has
    blank lines (a text wrapped at 72 columns keeps its paragraphs whole), and
    a line where it has none (an extracted page: one paragraph a line).
    """
    blocks = _BLANK_LINE.split(body) if _BLANK_LINE.search(body) else body.split("\n")
    return [search_words(stripped) for part in (title, *blocks) if (stripped := part.strip())]


_BLANK_LINE: Final = re.compile(r"\n[^\S\n]*\n")


def phrase_query(phrase: str) -> str | None:
    """An FTS5 phrase query for ``phrase``, or None when it has no words."""
    tokens = words(phrase)
    if not tokens:
        return None
    return '"' + " ".join(token.replace('"', '""') for token in tokens) + '"'
