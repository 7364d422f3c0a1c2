"""Whitespace collapsing and the fingerprint built on it: a fast path that must equal the definition."""

from __future__ import annotations

import hashlib
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from revtrack.ingest import collapse, fingerprint
from tests.conftest import seed_versions

WHITESPACE = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()]


def test_no_whitespace_but_the_space_is_printable() -> None:
    """What collapse's fast path rests on, for this Python's Unicode tables."""
    assert [hex(ord(char)) for char in WHITESPACE if char != " " and char.isprintable()] == []


# Mostly printable text (the fast path), with the separators that decide it, and
# any whitespace at all (the slow path).
_PRINTABLE_PIECES = ["a", "é", "語", "word"] * 4 + [" ", "  ", "\n\n"] * 3 + ["\n", "\t", "\u00ad", "\u200b"]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(_PRINTABLE_PIECES), max_size=30).map("".join)
    | st.lists(st.sampled_from([*WHITESPACE, "a", "é"]), max_size=20).map("".join)
    | st.text(max_size=60)
)
def test_collapse_is_split_and_join(text: str) -> None:
    assert collapse(text) == " ".join(text.split())


def test_collapse_fast_path_and_slow_path_on_paragraphs() -> None:
    assert collapse("One.\n\nTwo three.") == "One. Two three."  # paragraph breaks only
    assert collapse(" One.\n\n\nTwo\u00a0three. ") == "One. Two three."  # ends, three newlines, no-break space
    assert collapse("One.\n\n Two") == "One. Two"


def test_fingerprints_of_the_seeds_are_sha256_of_the_collapsed_text() -> None:
    """Stored fingerprints decide what a re-import skips, so their definition must not drift."""
    for version in seed_versions():
        title, _, body = version.path.read_text(encoding="utf-8").partition("\n\n")
        expected = f"{' '.join(title.split())}\n{' '.join(body.split())}"
        assert fingerprint(title, body) == hashlib.sha256(expected.encode()).hexdigest()
