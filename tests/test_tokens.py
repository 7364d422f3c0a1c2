"""Tokens: every character in exactly one token; the fast and full tokenizers agree."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from revtrack import tokens
from revtrack.diff import numbers_in
from revtrack.tokens import NUMBER_WORDS, full_patterns, pieces, split_piece, tokenize, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("43,5 1,200 3.2% 5:32 10km", ["43,5", "1,200", "3.2%", "5:32", "10km"], id="numbers"),
        pytest.param("BBC’s al-Muhandis don't", ["BBC’s", "al-Muhandis", "don't"], id="inner-apostrophes-hyphens"),
        pytest.param("see https://example.org/a?b=1.", ["see", "https://example.org/a?b=1", "."], id="url"),
        pytest.param("“official ‘ceasefire’”", ["“", "official", "‘", "ceasefire", "’", "”"], id="quotes"),
        pytest.param("马切伊·兰佩", ["马", "切", "伊", "·", "兰", "佩"], id="han-characters"),
        pytest.param("コンピューターです", ["コンピューター", "で", "す"], id="katakana-run"),
        pytest.param("ละครดี", ["ล", "ะ", "ค", "ร", "ดี"], id="thai-clusters"),
        pytest.param("हिन्दी भाषा", ["हिन्दी", "भाषा"], id="devanagari-with-marks"),
        pytest.param("كوردستان؟", ["كوردستان", "؟"], id="arabic"),
        pytest.param("a\x1b[31mb", ["a", "\x1b", "[", "31mb"], id="control-chars"),
    ],
)
def test_token_table(text: str, expected: list[str]) -> None:
    assert [t for t in tokenize(text) if not t.isspace()] == expected


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_tokens_cover_the_text(text: str) -> None:
    assert "".join(tokenize(text)) == text
    lead, parts = pieces(text)
    assert lead + "".join(parts) == text
    for piece in parts:
        token, space = split_piece(piece)
        assert token and not space.strip(
            " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
            "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
        )


LATIN = st.text(alphabet=st.characters(max_codepoint=0x2FF) | st.sampled_from("“”‘’—–…€²½ЖжΩ"), max_size=60)


@settings(max_examples=500, deadline=None)
@given(LATIN)
def test_fast_path_agrees_with_the_full_tokenizer(text: str) -> None:
    assert tokens._simple(text)
    full = full_patterns()
    assert tokenize(text) == full["token"].findall(text)
    lead, found = pieces(text)
    assert found == full["piece"].findall(text[len(lead) :])
    # Each piece is one full-path token and the whitespace token after it, if any.
    expected, spaces = [], regex.compile(r"\s+")
    for token in full["token"].findall(text[len(lead) :]):
        if spaces.fullmatch(token):
            expected[-1] = (expected[-1][0], token)
        else:
            expected.append((token, ""))
    assert [split_piece(piece) for piece in found] == expected
    assert words(text) == full["word"].findall(text)


def test_text_with_marks_or_unspaced_scripts_takes_the_full_path() -> None:
    for text in ("e\u0301", "हिन्दी", "ไทย", "漢字", "a\u200db"):
        assert not tokens._simple(text)
    assert tokens._simple("“Plain” news — with 3.2% and café.")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60) | LATIN | st.sampled_from(["twelve 12 ٣ ² ½ 3.2% Ⅻ TWENTY-one", "฿5 ๕ 十二"]))
def test_numbers_are_the_number_tokens_among_all_tokens(text: str) -> None:
    """The diff's numbers come from the word tokens alone (the 'number' flag, the log's number changes)."""
    every_token = tokenize(text)
    expected = [
        t for t in every_token if tokens.is_word(t) and (any(c.isdigit() for c in t) or t.lower() in NUMBER_WORDS)
    ]
    assert numbers_in(text) == expected
