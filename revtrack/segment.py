"""Split article text into paragraphs and sentences, as character spans.

A paragraph is a line with visible content together with the whitespace-only
lines after it (news bodies arrive one paragraph per line, usually with blank
lines between; a line holding only a NO-BREAK SPACE is not a paragraph).
Spans are ``(start, end)`` offsets into the text, so callers can map diff
positions onto them without copying text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from typing import Final

Span = tuple[int, int]


def paragraph_spans(text: str) -> list[Span]:
    """Spans of the paragraphs of ``text`` (content line + trailing blank lines); see :meth:`Paragraphs.spans`."""
    return Paragraphs(text).spans()


class Paragraphs:
    """Where each paragraph of a text starts and ends, and its visible text.

    Kept as plain lists: a 50,000-word article has thousands of paragraphs,
    and only the few in changed blocks become movable units (:class:`revtrack.moves.Unit`).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        starts: list[int] = []
        keys: list[str] = []
        pos = 0
        for line in text.split("\n"):
            if line and not line.isspace():
                starts.append(pos)
                # A paragraph's visible text is its one content line: the lines
                # after it, up to the next paragraph, are blank.
                keys.append(line.rstrip())
            pos += len(line) + 1
        if not starts and text or starts and starts[0] > 0:
            starts.insert(0, 0)
            keys.insert(0, "")
        self.starts = starts
        self.ends = starts[1:] + [len(text)]
        self.keys = keys

    def __len__(self) -> int:
        return len(self.starts)

    def spans(self) -> list[Span]:
        """The paragraphs as spans. Whitespace before the first paragraph is not
        part of any span; the spans otherwise tile the text from the first
        paragraph to the end."""
        spans = list(zip(self.starts, self.ends, strict=False))  # an empty text: no starts, one end
        return spans[1:] if self.keys and not self.keys[0] else spans


def content_end(text: str, span: Span) -> int:
    """End of the visible content of a span (trailing whitespace excluded)."""
    start, end = span
    return start + len(text[start:end].rstrip())


# Words after which a full stop does not end a sentence.
_ABBREVIATIONS: Final = frozenset(
    """mr mrs ms dr prof sr jr st mt col gen lt capt cpt maj sgt cmdr adm brig gov
    sen rep pres sec amb rev fr hon no nos vs etc inc ltd co corp dept univ est approx
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    fig al op vol pp ed eds e.g i.e a.m p.m u.s u.k u.n u.s.a e.u""".split()
)

# A sentence ends at a terminator, then optional closing quotes/brackets. Full
# stops in CJK and similar scripts end a sentence with no space after them.
_SENTENCE_END: Final = re.compile(
    r"""
    (?P<cjk>[。！？．](?:[”’"'」』）)\]])*)
  | (?P<term>(?:[.!?…؟।॥۔።။។]+)(?:[”’"'»)\]])*)(?=\s)
    """,
    re.VERBOSE,
)
# Where a sentence end can start. Searched for first: `re` scans for one
# character class fast, but tries a pattern that opens with named groups at
# every position.
_TERMINATOR: Final = re.compile(r"[。！？．.!?…؟।॥۔።။។]")
_WORD_BEFORE: Final = re.compile(r"([\w.]+)$")


def sentence_spans(text: str, span: Span | None = None) -> list[Span]:
    """Spans of the sentences inside ``span`` (default: all of ``text``).

    Each sentence span includes the whitespace that follows it, so the spans
    tile the paragraph. Abbreviations ("U.S.", "Col."), initials ("J. Smith")
    and a lowercase continuation do not end a sentence.
    """
    start, end = span if span is not None else (0, len(text))
    spans: list[Span] = []
    sentence_start = start
    for match in sentence_ends(text, start, end):
        stop = match.end()
        if match.lastgroup == "term" and not _ends_sentence(text, match.start(), stop, end):
            continue
        while stop < end and text[stop].isspace():
            stop += 1
        if stop > sentence_start:
            spans.append((sentence_start, stop))
            sentence_start = stop
    if sentence_start < end:
        if text[sentence_start:end].strip() or not spans:
            spans.append((sentence_start, end))
        else:
            spans[-1] = (spans[-1][0], end)
    return spans


def sentence_ends(text: str, start: int, end: int) -> Iterator[re.Match[str]]:
    """The matches ``_SENTENCE_END.finditer(text, start, end)`` gives, found faster.

    A sentence end starts with a terminator, so the pattern is tried only
    where one stands, skipping those inside the end just found ("?!", "...").
    """
    resume = start
    for candidate in _TERMINATOR.finditer(text, start, end):
        if candidate.start() >= resume and (match := _SENTENCE_END.match(text, candidate.start(), end)) is not None:
            resume = match.end()
            yield match


def _ends_sentence(text: str, term_start: int, term_end: int, limit: int) -> bool:
    """Decide whether a Latin-style terminator really closes a sentence."""
    next_pos = term_end
    while next_pos < limit and text[next_pos].isspace():
        next_pos += 1
    if next_pos >= limit:
        return True
    following = text[next_pos]
    if following.islower():
        return False
    if text[term_start] != ".":
        return True
    before = _WORD_BEFORE.search(text, max(0, term_start - 20), term_start)
    if before is None:
        return True
    word = before.group(1).lower().strip(".")
    if word in _ABBREVIATIONS:
        return False
    # An initial ("J. Smith") or a dotted abbreviation ("U.S.", "a.m.").
    return not (len(word) == 1 and word.isalpha()) and not ("." in word and len(word.replace(".", "")) <= 4)


def index_of(spans: list[Span], starts: list[int], offset: int) -> int:
    """0-based index of the span containing ``offset`` (clamped to the spans)."""
    if not spans:
        return 0
    return max(0, min(len(spans) - 1, bisect_right(starts, offset) - 1))
