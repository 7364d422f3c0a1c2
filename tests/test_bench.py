"""The benchmark scripts run (on tiny inputs); their figures live in bench/RESULTS.md, never in tests."""

from __future__ import annotations

import pytest

from bench import run as bench_run


@pytest.mark.slow
def test_every_benchmark_runs_on_a_tiny_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_run.main(["--tiny"]) == 0
    out = capsys.readouterr().out
    for title, _ in bench_run.SECTIONS.values():
        assert f"### {title}" in out
    assert "| `revtrack diff` |" in out and "snapshots per second" in out and "ops / git" in out
    assert "| unchanged, asked with the validators |" in out and "0 / 5 / 5 / 0" in out
    assert "| every page a 304 |" in out and "| pass (ms per URL) | 20 URLs | 100 URLs | ratio | target |" in out
    assert "| the same for real revisions: Wikipedia pages" in out
    assert "(a snapshot's two flushes), ms |" in out and "disk floor per single snapshot: at most" in out
    assert "| `revtrack snapshot` of a new version (process, ms) |" in out
    assert "| JSON lines, `html` records |" in out
    assert "| when (the last update only) |" in out and "a live blog of 20 revisions" in out
    assert "| the index after the import (SQLite, full text included) / raw text |" in out
    assert "The store after the import: git objects" in out
    assert "| `blame` of the 20-revision article (process, ms) |" in out
