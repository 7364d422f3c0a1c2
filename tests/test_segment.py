"""Sentence splitting: abbreviations, quotes, non-Latin terminators; the fast scan against a plain one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revtrack import segment
from revtrack.segment import Span, sentence_spans

CASES = [
    pytest.param("The U.S. Army said so. Col. Smith agreed.", ["The U.S. Army said so. ", "Col. Smith agreed."],
                 id="abbreviations"),
    pytest.param("He said “we will stay.” Then he left.", ["He said “we will stay.” ", "Then he left."],
                 id="closing-quote"),
    pytest.param("北京今天下雨了。市政府宣布停课！真的吗？是的。",
                 ["北京今天下雨了。", "市政府宣布停课！", "真的吗？", "是的。"], id="chinese-no-spaces"),
    pytest.param("هل انتهى؟ نعم انتهى.", ["هل انتهى؟ ", "نعم انتهى."], id="arabic-question-mark"),
    pytest.param("यह सच है। वह गया।", ["यह सच है। ", "वह गया।"], id="devanagari-danda"),
    pytest.param("J. Smith arrived at 5 p.m. on Friday. The vote was 3.5 percent.",
                 ["J. Smith arrived at 5 p.m. on Friday. ", "The vote was 3.5 percent."], id="initial-and-time"),
    pytest.param("Wait... what? Yes!", ["Wait... what? ", "Yes!"], id="ellipsis-lowercase-continues"),
    pytest.param("No end here", ["No end here"], id="no-terminator"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_sentences(text: str, expected: list[str]) -> None:
    assert [text[start:end] for start, end in sentence_spans(text)] == expected


def _plain_scan(text: str, span: Span | None = None) -> list[Span]:
    """sentence_spans as first written: the sentence-end pattern tried at every position."""
    start, end = span if span is not None else (0, len(text))
    spans: list[Span] = []
    sentence_start = start
    for match in segment._SENTENCE_END.finditer(text, start, end):
        stop = match.end()
        if match.lastgroup == "term" and not segment._ends_sentence(text, match.start(), stop, end):
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


PIECES = st.sampled_from(
    ["a", "B", " ", "  ", "\n", ".", "!", "?", "…", "...", "。", "！", "؟", "।", "”", "’", '"', ")", "»", "」",
     "U.S.", "Col. ", "J. ", "3.5", "x"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, max_size=30).map("".join), st.data())
def test_fast_scan_finds_what_a_plain_scan_finds(text: str, data: st.DataObject) -> None:
    """Only positions holding a terminator can start a sentence end, so searching for those first changes nothing."""
    assert sentence_spans(text) == _plain_scan(text)
    start = data.draw(st.integers(0, len(text)))
    span = (start, data.draw(st.integers(start, len(text))))
    assert sentence_spans(text, span) == _plain_scan(text, span)
