"""Sentence splitting: abbreviations, quotes, non-Latin terminators; the fast scan against a plain one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revtrack import segment
from revtrack.segment import sentence_spans

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


PIECES = st.sampled_from(
    ["a", "B", " ", "  ", "\n", ".", "!", "?", "…", "...", "。", "！", "؟", "।", "”", "’", '"', ")", "»", "」",
     "U.S.", "Col. ", "J. ", "3.5", "x"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, max_size=30).map("".join), st.data())
def test_fast_scan_finds_what_a_plain_scan_finds(text: str, data: st.DataObject) -> None:
    """Only positions holding a terminator can start a sentence end, so searching for those first changes nothing."""
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    for low, high in ((0, len(text)), (start, end)):
        fast = [match.span() for match in segment.sentence_ends(text, low, high)]
        assert fast == [match.span() for match in segment._SENTENCE_END.finditer(text, low, high)]
