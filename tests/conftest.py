"""Shared fixtures: a real store in a temp folder, the CLI runner, the seed article, ../shared data."""

from __future__ import annotations

import contextlib
import csv
import os
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revtrack.cli import app_for

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" / "rudaw-coalition-ceasefire"
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
REALDATA = SHARED / "realdata"
SEED_ID = "rudaw-coalition-ceasefire"


@dataclass(frozen=True)
class SeedVersion:
    path: Path
    observed_at: str
    url: str


def seed_versions() -> list[SeedVersion]:
    with open(SEEDS / "versions.tsv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [SeedVersion(SEEDS / row["file"], row["observed_at"], row["url"]) for row in rows]


def realdata(*parts: str) -> Path:
    """A path in ../shared/realdata, skipping the test with a clear reason when it is absent."""
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is not here: this test reads the shared real-world data, which CI has "
            "and a plain clone does not (the suite's own fixtures in tests/data still run)"
        )
    return path


def fsck(store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "--git-dir", str(store), "fsck", "--strict", "--no-progress"],
        capture_output=True,
        text=True,
        check=False,
    )


def leave_free_pages(store: Path, megabytes: int) -> int:
    """Free pages in the store's index, as FTS5's merges leave them (8.2 of a live blog's 24.1 MB after its
    import; bench/RESULTS.md): a table of that size written and dropped. Returns the index's pages now free."""
    with contextlib.closing(sqlite3.connect(store / "revtrack" / "index.sqlite", isolation_level=None)) as db:
        db.execute("CREATE TABLE filler (data BLOB)")
        db.executemany("INSERT INTO filler VALUES (?)", [(os.urandom(10_000),)] * (100 * megabytes))
        db.execute("DROP TABLE filler")
        return int(db.execute("PRAGMA freelist_count").fetchone()[0])


def index_pages(store: Path) -> tuple[int, int]:
    """The store's index: its file's size in bytes and its pages free."""
    path = store / "revtrack" / "index.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        return path.stat().st_size, int(db.execute("PRAGMA freelist_count").fetchone()[0])


@pytest.fixture
def store_dir(tmp_path: Path):
    """A store path; after the test, any store written there must pass ``git fsck --strict``."""
    path = tmp_path / "store"
    yield path
    if (path / "HEAD").exists():
        result = fsck(path)
        assert result.returncode == 0, result.stderr
        assert "error" not in result.stderr.lower(), result.stderr


@dataclass
class Cli:
    runner: CliRunner
    store: Path

    def __call__(self, *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None):
        environment = {"REVTRACK_STORE": str(self.store), "NO_COLOR": "", "COLUMNS": "200", **(env or {})}
        # As main() does: the app with only the command the line names.
        return self.runner.invoke(app_for(list(args)), list(args), input=input, env=environment, catch_exceptions=False)


@pytest.fixture
def cli(store_dir: Path) -> Cli:
    return Cli(CliRunner(), store_dir)


@pytest.fixture
def seeded(cli: Cli) -> Cli:
    """The CLI with the three seed versions recorded at their observed times."""
    for version in seed_versions():
        result = cli(
            "snapshot", str(version.path), "--article", SEED_ID, "--url", version.url, "--at", version.observed_at
        )
        assert result.exit_code == 0, result.output
    return cli


@pytest.fixture(autouse=True)
def _no_color_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REVTRACK_STORE", raising=False)
    monkeypatch.delenv("REVTRACK_CRASH_AT", raising=False)
    os.environ.pop("FORCE_COLOR", None)
