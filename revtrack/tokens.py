"""Split text into diff tokens: words, numbers, URLs, punctuation and whitespace runs.

Every character of the input belongs to exactly one token, so joining the tokens
gives the text back. The rules, in the order they are tried at each position:

- URLs (``http://`` / ``https://`` up to whitespace, minus trailing punctuation);
- numbers with their separators and a unit or suffix: ``43,5`` ``1,200`` ``3.2%``
  ``5:32`` ``10km`` ``16th``;
- scripts written without spaces: one Han or Hiragana character, a run of Katakana,
  or one Thai/Lao/Khmer/Myanmar base character with its combining marks (a
  grapheme cluster) - so that one changed word marks a few characters, never a
  whole sentence;
- words of any other script, with their combining marks (Devanagari vowel signs,
  Arabic harakat) and inner apostrophes or hyphens (``BBC’s``, ``al-Muhandis``);
- whitespace runs (including NO-BREAK SPACE);
- any other single character (punctuation, symbols, control characters).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any, Final

# Scripts that do not separate words with spaces; each has its own rule above.
_UNSPACED: Final = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
# A word character: letters, marks, digits, connector, ZWNJ/ZWJ (used inside
# Persian and Indic words), minus the unspaced scripts.
_WORD_CHAR: Final = rf"[[\p{{L}}\p{{M}}\p{{N}}_\u200c\u200d]--[{_UNSPACED}]]"
_URL_TAIL_STOP: Final = r"""\s<>"“”‘’«»\[\]"""

# Every token that is not whitespace; the alternatives are tried in order.
_NON_SPACE: Final = rf"""
    https?://[^{_URL_TAIL_STOP}]*[^{_URL_TAIL_STOP}.,;:!?'")]
  | \p{{Nd}}+(?:[.,:/]\p{{Nd}}+)*(?:%|‰|{_WORD_CHAR}+)?
  | [\p{{Han}}\p{{Hiragana}}]
  | \p{{Katakana}}[\p{{Katakana}}ー]*
  | [\p{{Thai}}\p{{Lao}}\p{{Khmer}}\p{{Myanmar}}][\p{{M}}\u200c\u200d]*
  | {_WORD_CHAR}+(?:['’\-‐]{_WORD_CHAR}+)*
  | \S
"""


@cache
def full_patterns() -> dict[str, Any]:
    """The full tokenizer (the ``regex`` module, for Unicode scripts and marks).

    Compiled on first need: most news text takes the fast path below, and the
    ``regex`` module costs ~30 ms of start-up that a ``show`` or ``log`` should
    not pay.
    """
    import regex

    flags = regex.VERSION1 | regex.VERBOSE | regex.DOTALL
    return {
        "token": regex.compile(rf"{_NON_SPACE} | \s+", flags),
        # Word tokens only (no punctuation, no whitespace): what the search index stores.
        "word": regex.compile(_NON_SPACE.rsplit("|", 1)[0], flags),
        # A token with the whitespace that follows it: what the diff engine aligns.
        "piece": regex.compile(rf"(?:{_NON_SPACE})\s*", flags),
        "needs_full": regex.compile(rf"[\p{{M}}{_UNSPACED}\u200c\u200d]"),
    }


# Fast path. Text with no combining marks, no ZWNJ/ZWJ and no unspaced script
# tokenizes the same with these standard-library patterns (3-4× faster than
# the `regex` ones): there `\w` is exactly letters, digits and "_", and \d is
# \p{Nd}. tests/test_tokens.py checks that the two paths agree.
# Python's str.isspace (and so re's \s) counts \x1c-\x1f as whitespace; Unicode
# (and `regex`) do not, so these classes leave them out.
_SPACE: Final = r"[^\S\x1c-\x1f]"
_FAST_NON_SPACE: Final = (
    rf"""https?://(?:[^{_URL_TAIL_STOP}]|[\x1c-\x1f])*(?:[^{_URL_TAIL_STOP}.,;:!?'")]|[\x1c-\x1f])"""
    r"""|\d+(?:[.,:/]\d+)*(?:%|‰|\w+)?|\w+(?:['’\-‐]\w+)*|[\S\x1c-\x1f]"""
)
_FAST_TOKEN: Final = re.compile(rf"{_FAST_NON_SPACE}|{_SPACE}+", re.DOTALL)
_FAST_PIECE: Final = re.compile(rf"(?:{_FAST_NON_SPACE}){_SPACE}*", re.DOTALL)
_TRAILING_SPACE: Final = re.compile(rf"{_SPACE}*\Z")
_LEADING_SPACE: Final = re.compile(rf"{_SPACE}*")
_FAST_WORD: Final = re.compile(_FAST_NON_SPACE.rsplit("|", 1)[0], re.DOTALL)
# Latin, Greek, Cyrillic (minus its combining marks), general punctuation (minus
# ZWNJ/ZWJ), currency and letter-like symbols: surely simple, checked by `re` fast.
_SURELY_SIMPLE: Final = re.compile(
    "[\x00-\u02ff\u0370-\u0482\u048a-\u052f\u2000-\u200b\u200e-\u206f\u20a0-\u20cf\u2100-\u218f]*"
)


def surely_simple(text: str) -> bool:
    """True for text in Latin, Greek or Cyrillic letters with common punctuation."""
    return _SURELY_SIMPLE.fullmatch(text) is not None


def _simple(text: str) -> bool:
    """True when the fast patterns give the same tokens as the full ones."""
    if _SURELY_SIMPLE.fullmatch(text):
        return True
    sample = "".join(set(text)) if len(text) > 2000 else text
    return full_patterns()["needs_full"].search(sample) is None


# English number words, for the "number changed" flag ("three" -> "two").
NUMBER_WORDS: Final = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen
    fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty
    sixty seventy eighty ninety hundred hundreds thousand thousands million millions
    billion billions trillion dozen dozens half""".split()
)


def tokenize(text: str) -> list[str]:
    """Return the tokens of ``text``; ``"".join(tokenize(text)) == text``."""
    return (_FAST_TOKEN if _simple(text) else full_patterns()["token"]).findall(text)


def pieces(text: str) -> tuple[str, list[str]]:
    """Leading whitespace, then pieces covering ``text``: each a token with the whitespace after it.

    Strings, not (token, space) pairs: the diff engine codes a piece by its
    token, and most pieces repeat ("the ", "said "), so splitting each piece
    once per distinct text (:func:`split_piece`) is cheaper than building a
    pair for every one.
    """
    lead = _LEADING_SPACE.match(text).group()  # type: ignore[union-attr]
    body = text[len(lead) :]
    pattern = _FAST_PIECE if _simple(body) else full_patterns()["piece"]
    return lead, pattern.findall(body)


def split_piece(piece: str) -> tuple[str, str]:
    """(token, whitespace after it) of one piece from :func:`pieces`."""
    # Python's str.isspace counts \x1c-\x1f as whitespace; the tokenizers do not.
    space = _TRAILING_SPACE.search(piece).group()  # type: ignore[union-attr]
    return piece[: len(piece) - len(space)], space


def is_word(token: str) -> bool:
    """True for tokens that count as words: words, numbers, URLs, CJK/Thai characters."""
    if len(token) > 1:
        return not token.isspace()
    return token.isalnum() or token == "_" or unicodedata.category(token).startswith("M")


def is_number(token: str) -> bool:
    """True for digit tokens (any script) and English number words."""
    if token.isalpha():  # most words: no digit can be in them (one C call, not a loop over characters)
        return token.lower() in NUMBER_WORDS
    return any(ch.isdigit() for ch in token) or token.lower() in NUMBER_WORDS


def words(text: str) -> list[str]:
    """The word tokens of ``text``, in order."""
    return (_FAST_WORD if _simple(text) else full_patterns()["word"]).findall(text)


def count_words(text: str) -> int:
    """Number of word tokens in ``text`` (punctuation and whitespace do not count)."""
    return len(words(text))
