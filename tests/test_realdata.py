"""Exactness and minimality on all 250 real Wikipedia revision pairs in ../shared (when it is here)."""

from __future__ import annotations

import pytest

from tests.conftest import realdata


@pytest.mark.slow
def test_all_250_wikipedia_pairs_meet_the_diff_targets() -> None:
    realdata("wikidiff2-revs", "revs.json.gz")
    from bench import realdata_check

    table, ok = realdata_check.run(timed=False)  # the 100 ms limit is checked by the benchmark, not here
    assert ok, table
