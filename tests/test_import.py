"""Bulk import: one fast-import run, and a store indistinguishable from single snapshots."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEED_ID, SEEDS, Cli, fsck, index_pages, leave_free_pages, seed_versions


def _without_commits(data):
    if isinstance(data, dict):
        return {k: _without_commits(v) for k, v in data.items() if k != "commit"}
    if isinstance(data, list):
        return [_without_commits(v) for v in data]
    return data


def test_imported_seeds_equal_snapshotted_seeds(seeded: Cli, tmp_path: Path) -> None:
    imported = Cli(seeded.runner, tmp_path / "imported")
    result = imported("import", str(SEEDS), "--article", SEED_ID)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 3 new versions (0 unchanged) of 3 read; 1 new articles"
    for args in (
        ["log", SEED_ID, "--format", "json"],
        ["diff", SEED_ID, "1", "2", "--format", "json"],
        ["diff", SEED_ID, "--format", "json"],
        ["show", SEED_ID, "2", "--format", "json"],
        ["list", "--format", "json"],
    ):
        ours = _without_commits(json.loads(imported(*args).stdout))
        theirs = _without_commits(json.loads(seeded(*args).stdout))
        assert ours == theirs, args
    assert imported("diff", SEED_ID, "1", "2").stdout == seeded("diff", SEED_ID, "1", "2").stdout
    for store in (imported.store, seeded.store):
        tree = subprocess.run(
            ["git", "--git-dir", str(store), "ls-tree", "-r", "--name-only", "main"], capture_output=True, text=True
        ).stdout
        assert tree == f"g/t/k/{SEED_ID}.article.txt\ng/t/k/{SEED_ID}.meta.json\n"
    assert fsck(imported.store).returncode == 0
    # The index was written while git ran, its commits filled in afterwards: they are git's.
    assert imported("check").exit_code == 0
    git_log = ["git", "--git-dir", str(imported.store), "log", "--reverse", "--format=%H", "main"]
    commits = subprocess.run(git_log, capture_output=True, text=True).stdout.split()
    revisions = json.loads(imported("log", SEED_ID, "--format", "json").stdout)["revisions"]
    assert [revision["commit"] for revision in revisions] == commits
    again = imported("import", str(SEEDS), "--article", SEED_ID)
    assert again.stdout.strip() == "imported 0 new versions (3 unchanged) of 3 read; 0 new articles"


def test_jsonl_import_from_stdin_continues_an_existing_store(seeded: Cli) -> None:
    lines = [
        {
            "article": SEED_ID,
            "observed_at": "2017-10-28T09:00:00+03:00",
            "title": "Coalition: talks go on",
            "body": "A new body.\n\nSecond paragraph.",
            "url": "https://news.example.org/x",
        },
        {"article": "other/story", "observed_at": "2017-10-28T09:00:00Z", "title": "Other", "body": "One."},
        {"article": "other/story", "observed_at": "2017-10-28T10:00:00Z", "title": "Other", "body": "One.  "},
        {"article": "other/story", "observed_at": "2017-10-28T11:00:00Z", "title": "Other", "body": "Two."},
    ]
    result = seeded("import", "-", "--format", "json", input="\n".join(json.dumps(x) for x in lines) + "\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"read": 4, "recorded": 3, "unchanged": 1, "skipped": 0, "new_articles": 1}
    log = json.loads(seeded("log", SEED_ID, "--format", "json").stdout)["revisions"]
    assert [r["rev"] for r in log] == [1, 2, 3, 4] and log[3]["title"] == "Coalition: talks go on"
    other = json.loads(seeded("log", "other/story", "--format", "json").stdout)["revisions"]
    assert [r["observed_at"] for r in other] == ["2017-10-28T09:00:00+00:00", "2017-10-28T11:00:00+00:00"]
    # The articles' rows (written once, at the end of the import): an older article keeps its first sighting.
    listed = {a["article"]: a for a in json.loads(seeded("list", "--format", "json").stdout)["articles"]}
    assert {name: (a["revisions"], a["first_seen"], a["last_changed"], a["title"]) for name, a in listed.items()} == {
        SEED_ID: (4, log[0]["observed_at"], "2017-10-28T09:00:00+03:00", "Coalition: talks go on"),
        "other/story": (2, "2017-10-28T09:00:00+00:00", "2017-10-28T11:00:00+00:00", "Other"),
    }
    assert seeded("snapshot", "-", "--article", "other/story", input="Other\n\nThree.").stdout.startswith(
        "other/story: recorded rev 3"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param("not json", "stdin line 2: not JSON", id="not-json"),
        pytest.param("[" * 100_000 + "]" * 100_000, "stdin line 2: not JSON (nested too deeply)", id="nested-deep"),
        pytest.param(
            '{"article": "a", "title": "T", "body": "B"}', "missing or non-text field(s): observed_at", id="missing"
        ),
        pytest.param(
            '{"article": "../a", "observed_at": "2020-01-01T00:00:00Z", "title": "T", "body": "B"}',
            "must not contain '..'",
            id="bad-id",
        ),
        pytest.param(
            '{"article": "a", "observed_at": "soon", "title": "T", "body": "B"}', "not an ISO 8601 time", id="bad-time"
        ),
        pytest.param(
            '{"article": "a", "observed_at": "2020-01-01T00:00:00Z", "title": "T", "body": "B", "url": 5}',
            "url must be text",
            id="url-not-text",
        ),
        pytest.param(
            json.dumps(
                {"article": "/".join(["ab"] * 66), "observed_at": "2020-01-01T00:00:00Z", "title": "T", "body": "B"}
            ),
            "too long for a file name",
            id="file-name-too-long",
        ),
    ],
)
def test_bad_jsonl_imports_nothing(seeded: Cli, line: str, message: str) -> None:
    good = json.dumps({"article": "fine", "observed_at": "2020-01-01T00:00:00Z", "title": "T", "body": "B"})
    before = seeded("list", "--format", "json").stdout
    result = seeded("import", "-", input=good + "\n" + line + "\n")
    assert result.exit_code == 4 and result.stderr.startswith("Error: ") and message in result.stderr
    assert seeded("list", "--format", "json").stdout == before


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param(rb'"title": "T", "body": "B \ud800"}', "fine: the version observed", id="unpaired-surrogate"),
        pytest.param(b'"title": "T", "body": "B \xff"}', "fine: the version observed", id="not-utf8-in-body"),
        pytest.param(rb'"title": "T", "body": "B", "url": "https://x/\udc00"}', "line 2:", id="surrogate-in-url"),
        pytest.param(b'"title": "T \xfe", "body": "B"}', "line 2:", id="not-utf8-in-title"),
    ],
)
@pytest.mark.parametrize("through", ["stdin", "file"])
def test_text_that_is_not_unicode_imports_nothing(
    seeded: Cli, tmp_path: Path, line: bytes, message: str, through: str
) -> None:
    """Undecodable bytes, and JSON escapes of half a surrogate pair, cannot be stored: a one-line error naming
    the record, not a traceback."""
    head = b'{"article": "fine", "observed_at": "2020-01-02T00:00:00Z", '
    good = json.dumps({"article": "other", "observed_at": "2020-01-01T00:00:00Z", "title": "T", "body": "B"})
    data = good.encode() + b"\n" + head + line + b"\n"
    before = seeded("list", "--format", "json").stdout
    if through == "file":
        (tmp_path / "records.jsonl").write_bytes(data)
        result = seeded("import", str(tmp_path / "records.jsonl"))
    else:
        result = seeded("import", "-", input=data)
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
    assert message in result.stderr and "not valid UTF-8, or holds an unpaired surrogate" in result.stderr
    assert seeded("list", "--format", "json").stdout == before
    assert fsck(seeded.store).returncode == 0


def test_an_escaped_surrogate_pair_is_one_character_and_imports(cli: Cli) -> None:
    """The other side of the check above: JSON writes an emoji as two escapes, which make one valid character."""
    line = rb'{"article": "e", "observed_at": "2020-01-01T00:00:00Z", "title": "T", "body": "Smile \ud83d\ude00."}'
    assert cli("import", "-", input=line + b"\n").exit_code == 0
    assert cli("show", "e").stdout == "T\n\nSmile \U0001f600."


@pytest.mark.parametrize("records", ["not json\n", "", "\n\n"], ids=["bad-first-record", "empty", "blank-lines"])
def test_an_import_that_records_nothing_does_not_create_the_store(cli: Cli, records: str) -> None:
    """A store that did not exist still does not: the first record is read before anything is created."""
    assert not cli.store.exists()
    result = cli("import", "-", input=records)
    assert result.exit_code == (4 if records.strip() else 0), result.output
    assert not cli.store.exists()


def _entries(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


_TWO = '{"article": "a", "observed_at": "2020-01-01T00:00:00Z", "title": "A", "body": "First."}\n'
_LATER_BAD_RECORDS = {
    "out-of-order": _TWO + '{"article": "a", "observed_at": "2019-01-01T00:00:00Z", "title": "A", "body": "Old."}\n',
    "not-json": _TWO + "not json\n",
    "not-unicode": _TWO + '{"article": "b", "observed_at": "2020-01-01T00:00:00Z", "title": "B", "body": "\\ud800"}\n',
}


@pytest.mark.parametrize("records", list(_LATER_BAD_RECORDS.values()), ids=list(_LATER_BAD_RECORDS))
@pytest.mark.parametrize("folder_was_there", [False, True], ids=["no-folder", "folder-with-readme"])
def test_an_import_refused_after_its_first_record_takes_away_the_store_it_created(
    cli: Cli, records: str, folder_was_there: bool
) -> None:
    """The store was made for the import (its first record was good): refused later, it goes again.

    Only the write lock stays, which another writer may be waiting on; a file the
    folder held before (the project's README) stays too.
    """
    if folder_was_there:
        cli.store.mkdir()
        (cli.store / "README.md").write_text("Snapshots live here.\n", encoding="utf-8")
    before = _entries(cli.store) if folder_was_there else []
    result = cli("import", "-", input=records)
    assert result.exit_code == 4 and result.stderr.startswith("Error: "), result.output
    assert _entries(cli.store) == sorted({*before, "revtrack", "revtrack/write.lock"})
    assert cli("list").stdout == "no articles recorded yet\n"
    again = cli("import", "-", input=_TWO)  # the folder takes a store as before
    assert again.exit_code == 0, again.output
    assert fsck(cli.store).returncode == 0
    if folder_was_there:
        assert (cli.store / "README.md").read_text(encoding="utf-8") == "Snapshots live here.\n"


def test_an_import_whose_versions_reached_git_keeps_the_store_it_created(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index failing after git took the versions does not take the new store away: git is the record."""
    import sqlite3

    from revtrack.index import Index

    def failing(self: Index, revisions: object) -> int:
        raise sqlite3.OperationalError("disk full")

    monkeypatch.setattr(Index, "add_many", failing)
    result = cli("import", "-", input=_TWO)
    assert result.exit_code == 6 and "are in git" in result.stderr, result.output
    monkeypatch.undo()
    assert json.loads(cli("log", "a", "--format", "json").stdout)["revisions"][0]["title"] == "A"
    assert fsck(cli.store).returncode == 0


def test_a_first_snapshot_refused_under_the_lock_leaves_no_store(cli: Cli) -> None:
    """An id too long for the store's file names is found once the store is known: a store made for it goes again."""
    article = "a/" * 70 + "b"
    result = cli("snapshot", "-", "--article", article, "--title", "T", input="Body.\n")
    assert result.exit_code == 4 and "too long for a file name" in result.stderr, result.output
    assert _entries(cli.store) == ["revtrack", "revtrack/write.lock"]
    assert cli("snapshot", "-", "--article", "b", "--title", "T", input="Body.\n").exit_code == 0


def test_out_of_order_import_is_refused_whole(seeded: Cli) -> None:
    lines = [
        {"article": "x", "observed_at": "2020-01-02T00:00:00Z", "title": "T", "body": "Two."},
        {"article": "x", "observed_at": "2020-01-01T00:00:00Z", "title": "T", "body": "One."},
    ]
    result = seeded("import", "-", input="\n".join(json.dumps(x) for x in lines))
    assert result.exit_code == 4 and "must be in observed order" in result.stderr
    assert seeded("log", "x").exit_code == 3


def test_folder_without_versions_table(cli: Cli, tmp_path: Path) -> None:
    result = cli("import", str(tmp_path))
    assert result.exit_code == 4 and "has no versions.tsv" in result.stderr
    assert len(seed_versions()) == 3


@pytest.mark.parametrize("named", ["../outside.txt", "/etc/hostname", "link.txt", "inside/../../outside.txt"])
def test_a_folders_table_cannot_bring_in_files_from_outside_the_folder(cli: Cli, tmp_path: Path, named: str) -> None:
    """An archive from someone else must not put the user's own files (/etc, ~/.ssh) into the store."""
    folder = tmp_path / "archive"
    (folder / "inside").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("Private\n\nNot the archive's.")
    (folder / "link.txt").symlink_to(tmp_path / "outside.txt")
    (folder / "versions.tsv").write_text(f"file\tobserved_at\n{named}\t2024-01-01T00:00:00+00:00\n")
    result = cli("import", str(folder))
    assert result.exit_code == 4, result.output
    assert result.stderr == f"Error: {folder}/versions.tsv line 2: {named} is not in {folder}\n"
    assert not (cli.store / "HEAD").exists()


def test_a_folders_file_reached_by_a_roundabout_path_inside_it_is_imported(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    (folder / "inside").mkdir(parents=True)
    (folder / "v1.txt").write_text("Headline\n\nBody.")
    (folder / "versions.tsv").write_text("file\tobserved_at\ninside/../v1.txt\t2024-01-01T00:00:00+00:00\n")
    assert cli("import", str(folder)).exit_code == 0
    assert cli("show", "archive", "--format", "json").stdout.count("Body.") == 1


def test_a_folders_table_that_is_not_utf8_is_one_error_line(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "versions.tsv").write_bytes(b"\xff\xfefile\tobserved_at\n")
    result = cli("import", str(tmp_path))
    assert result.exit_code == 4 and "versions.tsv is not a UTF-8 table" in result.stderr, result.output


def test_an_index_that_fails_during_import_is_reported_and_caught_up(seeded: Cli, tmp_path: Path) -> None:
    """The index (a cache of git) fails mid-import: one Error line, exit 6, and the next command catches it up."""
    import sqlite3

    index = sqlite3.connect(seeded.store / "revtrack" / "index.sqlite")
    index.execute("CREATE TRIGGER failing BEFORE INSERT ON revisions BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    index.commit()
    index.close()
    record = {"article": "late-story", "observed_at": "2020-01-01T00:00:00Z", "title": "Late", "body": "Story."}
    source = tmp_path / "late.jsonl"
    source.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = seeded("import", str(source))
    assert result.exit_code == 6 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: the index could not record the import (disk full)")
    git_log = ["git", "--git-dir", str(seeded.store), "log", "--format=%s", "-1", "main"]
    assert subprocess.run(git_log, capture_output=True, text=True).stdout.strip() == "late-story: rev 1"
    listed = json.loads(seeded("list", "--format", "json").stdout)
    assert "late-story" in [entry["article"] for entry in listed["articles"]]
    assert seeded("check").exit_code == 0


def test_a_version_repeated_at_the_same_time_is_a_repeat_as_for_single_snapshots(cli: Cli, tmp_path: Path) -> None:
    bodies = ["One.", "Two.", "One.", "Three.", "Two."]
    lines = [{"article": "x", "observed_at": "2020-01-01T00:00:00Z", "title": "T", "body": body} for body in bodies]
    result = cli("import", "-", "--format", "json", input="\n".join(json.dumps(line) for line in lines) + "\n")
    assert json.loads(result.stdout) == {"read": 5, "recorded": 3, "unchanged": 2, "skipped": 0, "new_articles": 1}
    single = Cli(cli.runner, tmp_path / "single")
    for body in bodies:
        recorded = single("snapshot", "-", "--article", "x", "--at", "2020-01-01T00:00:00Z", input=f"T\n\n{body}\n")
        assert recorded.exit_code == 0
    for store in (cli, single):
        log = json.loads(store("log", "x", "--format", "json").stdout)["revisions"]
        assert [revision["rev"] for revision in log] == [1, 2, 3]
    assert _without_commits(json.loads(cli("log", "x", "--format", "json").stdout)) == _without_commits(
        json.loads(single("log", "x", "--format", "json").stdout)
    )


def _fts_rows(store: Path, word: str) -> list[tuple[int, int | None]]:
    """The revisions each passage with ``word`` spans, as the full-text table itself holds them (first rev, the
    first rev without it) (not Index.search, which flushes queued words first)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(store / "revtrack" / "index.sqlite")) as db:
        found = db.execute(
            "SELECT p.first_rev, p.until_rev FROM search s JOIN passages p ON p.id = s.rowid WHERE search MATCH ?",
            (word,),
        )
        return list(found)


def _records(words: list[str], article: str = "x") -> str:
    return "".join(
        json.dumps({"article": article, "observed_at": f"2020-01-0{day}T00:00:00Z", "title": "T", "body": f"{word}."})
        + "\n"
        for day, word in enumerate(words, start=1)
    )


def test_imported_words_are_in_the_full_text_index_when_the_import_ends(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import indexes its revisions and their words in groups, the last group at its end, each row numbered
    as the revision it belongs to."""
    from revtrack import importer
    from revtrack.index import FTS_AUTOMERGE, Index

    monkeypatch.setattr(importer, "_ROWS_EVERY", 2)
    words = ["alpha", "bravo", "charlie", "delta", "echo"]
    result = cli("import", "-", input=_records(words))
    assert result.exit_code == 0, result.output
    index = Index(str(cli.store / "revtrack" / "index.sqlite"))
    try:
        assert index.pending_words() == 0
        settings = dict(index.db.execute("SELECT k, v FROM search_config WHERE k IN ('automerge', 'hashsize')"))
        assert settings == {"automerge": FTS_AUTOMERGE}  # hashsize left at FTS5's default: see Index._set_automerge
    finally:
        index.close()
    assert [_fts_rows(cli.store, word) for word in words] == [[(1, 2)], [(2, 3)], [(3, 4)], [(4, 5)], [(5, None)]]


def test_long_texts_go_to_the_index_in_groups_sqlite_can_take(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A group of revisions goes to SQLite as one JSON text: long articles close a group before it passes
    SQLite's longest string (here lowered to 20,000 bytes; five 6,000-character texts would need 30,000)."""
    import sqlite3

    from revtrack import importer
    from revtrack.index import Index

    if not hasattr(sqlite3.Connection, "setlimit"):
        pytest.skip("lowering SQLite's longest string needs Connection.setlimit (Python 3.11+)")
    opened = Index.__init__

    def with_short_strings(self: Index, path: str) -> None:
        opened(self, path)
        self.db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 20_000)

    monkeypatch.setattr(Index, "__init__", with_short_strings)
    monkeypatch.setattr(importer, "_TEXT_EVERY", 10_000)
    words = ["alpha", "bravo", "charlie", "delta", "echo"]
    lines = [
        {"article": "x", "observed_at": f"2020-01-0{day}T00:00:00Z", "title": "T", "body": f"{word} " * 1000}
        for day, word in enumerate(words, start=1)
    ]
    records = "".join(json.dumps(line) + "\n" for line in lines)
    result = cli("import", "-", input=records)
    assert result.exit_code == 0, result.output
    assert [_fts_rows(cli.store, word) for word in words] == [[(1, 2)], [(2, 3)], [(3, 4)], [(4, 5)], [(5, None)]]


def _sqlite_memory_highwater() -> Callable[[bool], int] | None:
    """SQLite's own allocation high-water mark (reset when asked), where its library can be reached (ctypes)."""
    import ctypes
    import importlib

    try:
        library = ctypes.CDLL(importlib.import_module("_sqlite3").__file__)
        highwater = library.sqlite3_memory_highwater
    except (AttributeError, OSError):
        return None
    highwater.restype = ctypes.c_int64
    highwater.argtypes = [ctypes.c_int]
    return lambda reset: int(highwater(int(reset)))


def test_the_imports_index_statements_are_prepared_once_so_sqlites_memory_stays_flat(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each group of rows and words goes in through the same two statements, the first row id bound.

    Python keeps every distinct statement prepared, each holding the JSON it
    was last given: with the id written into the SQL, SQLite held every
    group's text until the import ended (118 MB for 30,000 versions; 15 MB
    since). Here 20 groups of ~300 KB.
    """
    from revtrack import importer
    from revtrack.index import Index

    monkeypatch.setattr(importer, "_ROWS_EVERY", 3)
    statements: list[str] = []
    opened = Index.__init__

    class Noted:
        """The connection, noting the text of each statement it is given."""

        def __init__(self, db: Any) -> None:
            self.db = db

        def execute(self, sql: str, *args: Any) -> Any:
            statements.append(sql)
            return self.db.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.db, name)

    def noted(self: Index, path: str) -> None:
        opened(self, path)
        self.db = Noted(self.db)  # type: ignore[assignment]

    monkeypatch.setattr(Index, "__init__", noted)
    lines = [
        {"article": f"a{number % 6}", "observed_at": f"2020-01-{1 + number // 6:02d}T00:00:00Z", "title": "T",
         "body": " ".join(f"w{number}x{word}{'y' * 60}" for word in range(2_000))}
        for number in range(60)
    ]  # fmt: skip
    highwater = _sqlite_memory_highwater()
    if highwater is not None:
        highwater(True)
    result = cli("import", "-", input="".join(json.dumps(line) + "\n" for line in lines))
    assert result.exit_code == 0, result.output
    for table in ("revisions", "search"):
        used = [sql for sql in statements if sql.startswith(f"INSERT INTO {table} (") and "json_each" in sql]
        assert len(used) == 20 and len(set(used)) == 1, used[:2]
    if highwater is not None:
        assert highwater(False) < 8 << 20, highwater(False)  # 13.1 MB with the id in the SQL, 5.1 MB bound


def test_an_import_refused_part_way_leaves_no_words_in_the_full_text_index(
    seeded: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Words moved into the full-text index before the refusal go back out with the rest of the import."""
    from revtrack import importer

    monkeypatch.setattr(importer, "_ROWS_EVERY", 2)
    records = _records(["alpha", "bravo", "charlie"]) + _records(["delta"])  # delta goes back to day 1
    result = seeded("import", "-", input=records)
    assert result.exit_code == 4 and "must be in observed order" in result.stderr
    assert [_fts_rows(seeded.store, word) for word in ("alpha", "bravo", "charlie", "delta")] == [[], [], [], []]
    assert seeded("search", "alpha").exit_code == 1


def test_fast_import_keeps_freed_memory_unless_the_user_says_otherwise(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fast-import runs with glibc's trim threshold raised (its zlib buffers are not returned and refetched per
    object); a value the user set is passed on as it is."""
    import shutil

    real_git = shutil.which("git")
    assert real_git is not None
    wrapper_dir = tmp_path / "bin"
    wrapper_dir.mkdir()
    seen = tmp_path / "seen.txt"
    wrapper = wrapper_dir / "git"
    wrapper.write_text(
        f'#!/bin/sh\n[ "$1" = fast-import ] && echo "${{MALLOC_TRIM_THRESHOLD_-unset}}" >> "{seen}"\n'
        f'exec "{real_git}" "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert cli("import", "-", input=_records(["alpha"])).exit_code == 0
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "12345")
    assert cli("import", "-", input=_records(["alpha", "bravo"])).exit_code == 0
    assert seen.read_text(encoding="utf-8").split() == [str(32 << 20), "12345"]


def test_a_version_repeated_out_of_order_is_a_repeat_as_for_single_snapshots(cli: Cli, tmp_path: Path) -> None:
    """Two overlapping exports joined into one file: the second one's records up to the overlap are repeats."""
    first = [("2020-01-01T00:00:00Z", "One."), ("2020-01-02T00:00:00Z", "Two."), ("2020-01-03T00:00:00Z", "Three.")]
    second = [("2020-01-02T00:00:00Z", "Two."), ("2020-01-03T00:00:00Z", "Three."), ("2020-01-04T00:00:00Z", "Four.")]
    records = [{"article": "x", "observed_at": when, "title": "T", "body": body} for when, body in first + second]
    result = cli("import", "-", "--format", "json", input="".join(json.dumps(r) + "\n" for r in records))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"read": 6, "recorded": 4, "unchanged": 2, "skipped": 0, "new_articles": 1}
    single = Cli(cli.runner, tmp_path / "single")
    for record in records:
        text = f"T\n\n{record['body']}\n"
        recorded = single("snapshot", "-", "--article", "x", "--at", record["observed_at"], input=text)
        assert recorded.exit_code == 0, recorded.output
    assert _without_commits(json.loads(cli("log", "x", "--format", "json").stdout)) == _without_commits(
        json.loads(single("log", "x", "--format", "json").stdout)
    )
    assert fsck(cli.store).returncode == 0


def test_an_earlier_record_that_is_not_a_repeat_is_still_out_of_order(cli: Cli) -> None:
    """Same text at another time, or another text at a recorded time: neither is a repeat."""
    for late in ({"observed_at": "2020-01-01T12:00:00Z", "body": "One."},
                 {"observed_at": "2020-01-01T00:00:00Z", "body": "Other."}):  # fmt: skip
        records = [
            {"article": "y", "observed_at": "2020-01-01T00:00:00Z", "title": "T", "body": "One."},
            {"article": "y", "observed_at": "2020-01-02T00:00:00Z", "title": "T", "body": "Two."},
            {"article": "y", "title": "T", **late},
        ]
        result = cli("import", "-", input="".join(json.dumps(r) + "\n" for r in records))
        assert result.exit_code == 4 and "must be in observed order" in result.stderr, result.output
        assert cli("log", "y").exit_code == 3


def test_a_lookup_after_the_index_failed_reports_the_failure(seeded: Cli, tmp_path: Path) -> None:
    """The index thread dies on its first row; the record after it needs a lookup: an error, not a hang."""
    import sqlite3
    import sys

    index = sqlite3.connect(seeded.store / "revtrack" / "index.sqlite")
    index.execute("CREATE TRIGGER failing BEFORE INSERT ON revisions BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    index.commit()
    index.close()
    records = [
        {"article": "z", "observed_at": "2020-01-02T00:00:00Z", "title": "T", "body": "Two."},
        {"article": "z", "observed_at": "2020-01-01T00:00:00Z", "title": "T", "body": "One."},
    ]
    source = tmp_path / "late.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    command = [sys.executable, "-m", "revtrack", "--store", str(seeded.store), "import", str(source)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 6 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("Error: the index could not record the import (disk full)")
    git_log = ["git", "--git-dir", str(seeded.store), "log", "--format=%s", "-1", "main"]
    assert subprocess.run(git_log, capture_output=True, text=True).stdout.strip() == f"{SEED_ID}: rev 3"


def test_a_lookup_that_fails_in_the_index_thread_is_reported(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index cannot be read while answering a lookup (a disk error): the import fails cleanly, not hangs."""
    import io
    import sqlite3
    import threading

    from revtrack.errors import StoreError
    from revtrack.importer import import_snapshots, jsonl_snapshots
    from revtrack.index import Index
    from revtrack.store import Store

    def unreadable(self: Index, article: str, fingerprint: str, observed_at: str) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Index, "same_version", unreadable)
    records = [
        {"article": "z", "observed_at": "2020-01-02T00:00:00Z", "title": "T", "body": "Two."},
        {"article": "z", "observed_at": "2020-01-01T00:00:00Z", "title": "T", "body": "One."},
    ]
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            with Store(str(store_dir)) as store:
                import_snapshots(store, jsonl_snapshots(io.StringIO("".join(json.dumps(r) + "\n" for r in records))))
            outcome.append(None)
        except BaseException as error:  # handed to the test's thread
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the import hung waiting for the index thread's answer"
    assert isinstance(outcome[0], StoreError) and "disk I/O error" in str(outcome[0])
    assert subprocess.run(["git", "--git-dir", str(store_dir), "rev-parse", "-q", "--verify", "main"],
                          capture_output=True).returncode != 0  # fmt: skip


def test_a_fast_import_failure_names_what_went_wrong() -> None:
    """git's advice after a lock error does not name the file; the error line before it does."""
    from revtrack.importer import _first_complaint

    stderr = (
        "error: cannot lock ref 'HEAD': Unable to create '/s/HEAD.lock': File exists.\n\n"
        "Another git process seems to be running in this repository, e.g.\nan editor opened by 'git commit'. "
        "Please make sure all processes\nare terminated then try again. If it still fails, a git process\n"
        "may have crashed in this repository earlier:\nremove the file manually to continue.\n"
    )
    assert _first_complaint(stderr) == "error: cannot lock ref 'HEAD': Unable to create '/s/HEAD.lock': File exists."
    assert _first_complaint("warning: something\nbroken pipe\n") == "broken pipe"
    assert _first_complaint("") == ""


@pytest.mark.parametrize("failing", ["packing", "compacting the index"])
def test_a_failed_maintenance_after_an_import_is_a_warning_not_the_imports_error(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """The versions are recorded before the store is packed and its index compacted; either failing (a full
    disk under pack-objects or VACUUM) is said on stderr, and the import still exits 0 with what it recorded."""
    from revtrack import packing
    from revtrack.errors import StoreError
    from revtrack.index import Index

    def full_disk_for_git(git_dir: str, recompute: bool) -> bool:
        raise StoreError("git pack-objects failed: No space left on device")

    def full_disk_for_sqlite(index: Index) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    if failing == "packing":
        monkeypatch.setattr(packing, "pack_all", full_disk_for_git)
    else:
        monkeypatch.setattr(Index, "compact", full_disk_for_sqlite)
    result = cli("import", "-", "--format", "json", input=_records(["alpha", "bravo"]))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"read": 2, "recorded": 2, "unchanged": 0, "skipped": 0, "new_articles": 1}
    assert result.stderr.startswith("Warning: the versions are recorded, but the maintenance after the import failed")
    said = "No space left on device" if failing == "packing" else "index could not be compacted (database or disk"
    assert said in result.stderr and "run 'revtrack maintain' to finish it" in result.stderr
    assert [r["rev"] for r in json.loads(cli("log", "x", "--format", "json").stdout)["revisions"]] == [1, 2]
    assert fsck(cli.store).returncode == 0


def _text_versions(article: int, versions: int, url_changes: bool) -> list[dict[str, str]]:
    """An article of ~2 KB whose words no other article shares (so no delta crosses articles), edited a little."""
    words = [f"a{article}w{number}" for number in range(300)]
    records = []
    for version in range(versions):
        words[version * 7] = f"edit{version}"
        records.append({
            "article": f"story-{article}",
            "observed_at": f"2024-01-0{1 + version}T{article % 24:02d}:00:00Z",
            "title": f"Story {article}",
            "body": " ".join(words),
            "url": f"https://news.example/{article}" + (f"?v={version}" if url_changes else ""),
        })  # fmt: skip
    return records


def _text_bases(store: Path) -> list[list[tuple[str, str]]]:
    """Each article's texts, oldest version first: (blob, its delta base, all zeros when stored whole)."""

    def git(*args: str, given: str | None = None) -> list[str]:
        run = subprocess.run(["git", "--git-dir", str(store), *args], input=given, capture_output=True, text=True)
        return run.stdout.split()

    texts: dict[str, list[str]] = {}  # path -> its blobs, oldest first
    changes = git("log", "--reverse", "--raw", "--no-abbrev", "--no-renames", "--format=")
    for new, path in zip(changes[3::6], changes[5::6], strict=True):  # :mode mode old new status path
        if path.endswith(".article.txt"):
            texts.setdefault(path, []).append(new)
    checked = git("cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(deltabase)")
    base_of = dict(zip(checked[::2], checked[1::2], strict=True))
    return [[(blob, base_of[blob]) for blob in texts[path]] for path in sorted(texts)]


def _packed_state(store: Path) -> dict[str, int | bool]:
    """How a store's objects are kept: packs, loose objects, packed objects nothing reaches, a commit-graph."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "--git-dir", str(store), *args], capture_output=True, text=True).stdout

    counts = dict(line.split(": ") for line in git("count-objects", "-v").splitlines())
    reachable = len(git("rev-list", "--objects", "--all").splitlines())
    graphs = store / "objects" / "info" / "commit-graphs"
    return {
        "packs": int(counts["packs"]),
        "loose": int(counts["count"]),
        "unreachable": int(counts["in-pack"]) - reachable,
        "commit-graph": graphs.is_dir() and any(graphs.glob("*.graph")),
    }


@pytest.mark.parametrize(
    ("order", "url_changes", "small", "searched"),
    [
        ("article", False, False, False),
        ("time", False, False, True),
        ("time, texts by article", False, False, False),
        ("time, texts by article in runs", False, False, False),
        ("article", True, False, True),
        ("article", False, True, True),
    ],
    ids=[
        "by-article", "by-time", "by-time-texts-by-article", "by-time-texts-by-article-sorted-in-runs",
        "by-article-each-meta-new", "by-article-small",
    ],
)  # fmt: skip
def test_an_import_keeps_fast_imports_text_deltas_only_where_they_are_of_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str, url_changes: bool, small: bool, searched: bool
) -> None:
    """Ordered by article, each text follows its previous version into fast-import's pack, as its delta.

    The final repack then keeps those deltas instead of searching them again
    (three times as fast). Ordered by time, or with a new meta.json stored
    before each text, the texts follow other files, and their deltas are
    searched, unless the import is told the records interleave articles
    (as reading them ahead tells it): then it gives git the texts article by
    article, as an import ordered by article does. Imports too small for a
    search to take long are searched (here, all but the "small" case are made
    to count as large). Either way each article ends as one whole text and
    deltas of it.
    """
    from revtrack import importer, packing
    from revtrack.importer import import_snapshots, jsonl_snapshots
    from revtrack.store import Store

    if not small:
        monkeypatch.setattr(packing, "SEARCH_TEXTS_BELOW", 90)
    if order.endswith("in runs"):  # the held-back texts sorted ~10 at a time, then merged
        monkeypatch.setattr(importer, "_RUN_BYTES", 20_000)

    records = [record for article in range(30) for record in _text_versions(article, 3, url_changes)]
    if order.startswith("time"):
        records.sort(key=lambda record: record["observed_at"])
    lines = "".join(json.dumps(record) + "\n" for record in records)
    with Store(str(tmp_path / "store")) as store:
        report = import_snapshots(store, jsonl_snapshots(io.StringIO(lines)), interleaved="by article" in order)
    assert report.recorded == 90 and report.text_deltas_searched is searched
    # Where nothing needed a search, fast-import's pack is the store as it was written.
    assert report.pack_kept is not searched
    assert _packed_state(tmp_path / "store") == {"packs": 1, "loose": 0, "unreachable": 0, "commit-graph": True}
    texts = _text_bases(tmp_path / "store")
    assert len(texts) == 30
    for blobs in texts:
        shas = [sha for sha, _ in blobs]
        bases = [base for _, base in blobs]
        assert len(blobs) == 3 and bases.count("0" * 40) == 1, blobs  # one whole, two deltas of the article's texts
        assert all(base in shas for base in bases if base != "0" * 40), blobs
        if not searched:  # fast-import's own: each version a delta of the one before
            assert bases == ["0" * 40, shas[0], shas[1]], blobs
    assert fsck(tmp_path / "store").returncode == 0


@pytest.mark.parametrize("shard_texts", [None, 7], ids=["one-shard", "shards-of-7-texts"])
@pytest.mark.parametrize("built", ["imported-by-article", "snapshot-batches"])
def test_maintain_keeps_text_chains_an_import_left_and_searches_a_store_grown_by_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built: str, shard_texts: int | None
) -> None:
    """`revtrack maintain` searches the texts' deltas only where they are not one chain per article already.

    Imported in article order, fast-import's chains (each version a delta of
    the one before) survive a later maintain unchanged. A store grown by watch
    passes (one version of every article a batch, each batch its own pack) has
    its texts searched, and ends with one whole text per article.
    """
    from revtrack import packing
    from revtrack.importer import import_snapshots, jsonl_snapshots
    from revtrack.model import Snapshot
    from revtrack.store import Store

    monkeypatch.setattr(packing, "SEARCH_TEXTS_BELOW", 90)
    if shard_texts is not None:
        monkeypatch.setattr(packing, "_SHARD_TEXTS", shard_texts)
    records = [record for article in range(30) for record in _text_versions(article, 3, False)]
    store_path = tmp_path / "store"
    with Store(str(store_path)) as store:
        if built == "imported-by-article":
            assert import_snapshots(store, jsonl_snapshots(io.StringIO("".join(json.dumps(r) + "\n" for r in records))))
            before = _text_bases(store_path)
        else:
            for version in range(3):
                with store.batch():
                    for r in records[version::3]:
                        store.snapshot(Snapshot(r["article"], r["title"], r["body"], r["observed_at"], r["url"]))
        searched = store.maintain()
    texts = _text_bases(store_path)
    assert searched is (built == "snapshot-batches")
    if built == "imported-by-article":
        assert texts == before and all(bases[1][1] == bases[0][0] for bases in texts)
    for blobs in texts:
        bases = [base for _, base in blobs]
        assert bases.count("0" * 40) == 1 and all(b in {sha for sha, _ in blobs} for b in bases if b != "0" * 40)
    assert fsck(store_path).returncode == 0


@pytest.mark.parametrize("records", [3, 1])
def test_an_import_that_is_most_of_the_store_leaves_its_index_compact(seeded: Cli, records: int) -> None:
    """Most of the store: its full packing compacts the index too (Index.compact). A small part of it: the
    automatic packing, which leaves the free pages to later writes rather than rewrite the whole index."""
    free = leave_free_pages(seeded.store, 1)
    lines = [{"article": f"new/{n}", "observed_at": "2017-10-28T09:00:00Z", "title": "T", "body": f"Body {n}."}
             for n in range(records)]  # fmt: skip
    result = seeded("import", "-", input="".join(json.dumps(line) + "\n" for line in lines))
    assert result.exit_code == 0, result.output
    free_after = index_pages(seeded.store)[1]  # the small import's own writes may take a few of the free pages
    assert free_after == 0 if records == 3 else free_after > free // 2
    assert seeded("search", "Body", "--format", "json").stdout.count('"article": "new/') == records


@pytest.mark.parametrize("before", ["loose", "packed", "a killed first snapshot"])
def test_an_import_into_a_store_with_objects_already_is_repacked_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before: str
) -> None:
    """Only a store without objects keeps fast-import's pack as it is; any other gets one new pack.

    The import is most of the store, so it is packed in full; its texts still
    come in chains (ordered by article), so their deltas are kept, not searched.
    A first snapshot killed before its branch moved leaves a store with no
    versions but with objects, which the full pack drops.
    """
    import signal
    import sys

    from revtrack import packing
    from revtrack.importer import import_snapshots, jsonl_snapshots
    from revtrack.model import Snapshot
    from revtrack.store import Store
    from tests.test_robustness import WORKER

    monkeypatch.setattr(packing, "SEARCH_TEXTS_BELOW", 90)
    records = [record for article in range(31) for record in _text_versions(article, 3, False)]
    store_path = tmp_path / "store"
    if before == "a killed first snapshot":
        env = {**os.environ, "REVTRACK_CRASH_AT": "before-ref"}
        crashed = subprocess.run([sys.executable, "-c", WORKER, str(store_path), "w", "a", "1"], env=env, check=False)
        assert crashed.returncode == -signal.SIGKILL
        assert _packed_state(store_path)["loose"] > 0
    with Store(str(store_path)) as store:
        if before != "a killed first snapshot":
            for r in records[:3]:  # one article's versions, as single snapshots: loose objects
                store.snapshot(Snapshot(r["article"], r["title"], r["body"], r["observed_at"], r["url"]))
        if before == "packed":
            store.maintain()
            assert _packed_state(store_path)["packs"] == 1
        lines = "".join(json.dumps(r) + "\n" for r in records[3:])
        report = import_snapshots(store, jsonl_snapshots(io.StringIO(lines)))
    assert report.recorded == 90 and not report.pack_kept and not report.text_deltas_searched
    assert _packed_state(store_path) == {"packs": 1, "loose": 0, "unreachable": 0, "commit-graph": True}
    assert fsck(store_path).returncode == 0


def test_texts_count_as_chained_with_one_start_per_article_give_or_take_one_percent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule, checked in memory and from a file a shard of articles at a time (as a full repack checks it)."""
    from revtrack import packing

    whole = b"0" * 40

    def chained(texts: dict[bytes, bytes], bases: dict[bytes, bytes]) -> bool:
        found = packing.texts_chained(texts, bases)
        listed = tmp_path / "texts"
        listed.write_bytes(b"".join(b"%s %s %s\n" % (sha, name, bases.get(sha, whole)) for sha, name in texts.items()))
        for shard_texts in (250_000, 1_000, 7):
            monkeypatch.setattr(packing, "_SHARD_TEXTS", shard_texts)
            assert packing._texts_chained_in_file(str(listed), len(texts), str(tmp_path)) is found, shard_texts
        return found

    texts: dict[bytes, bytes] = {}
    bases: dict[bytes, bytes] = {}
    for article in range(100):
        name = b"%015dt" % article
        previous = whole
        for version in range(60):  # each version a delta of the one before
            sha = b"a%019d%020d" % (article, version)
            texts[sha], bases[sha] = name, previous
            previous = sha
    assert len(texts) >= 5_000 and chained(texts, bases)
    later = len(texts) - 100
    starts = [sha for sha in texts if not sha.endswith(b"%020d" % 0)][: later // 100]
    for sha in starts:  # 1% of the later versions whole
        bases[sha] = whole
    assert chained(texts, bases)
    other = next(sha for sha in texts if sha not in starts and not sha.endswith(b"%020d" % 0))
    bases[other] = b"a%019d%020d" % (99, 0)  # one more: a delta of another article's text
    assert not chained(texts, bases)
    bases[other] = b"f" * 40  # or of a file that is no text (a meta.json)
    assert not chained(texts, bases)
    small = dict(list(texts.items())[:4_999])
    assert not chained(small, {sha: bases[sha] for sha in small if sha not in starts and sha != other})


def _log_and_trees(store_path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """What an import leaves, bar the commits' ids and committer dates: each commit's tree, author and message."""
    from revtrack.store import Store

    listed = subprocess.run(
        ["git", "--git-dir", str(store_path), "log", "--reverse", "--format=%T %an %ad%n%B"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    with Store(str(store_path)) as store:
        revisions = [_without_commits(vars(r)) for a in store.articles() for r in store.log(a.article)]
    return listed, revisions


@pytest.mark.parametrize("sorted_in", ["one run", "runs of ~3 texts, read 7 bytes at a time"])
def test_texts_given_to_git_article_by_article_make_the_same_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sorted_in: str
) -> None:
    """Records that interleave articles, their texts held back and given to git by article: the same store.

    Same trees, authors, messages and index rows as the texts given inline in
    the records' order, in two imports (the second continues the first), with
    a text that comes back to an earlier version (a blob git holds already),
    a repeated record and a url that changes; the held-back texts sorted in
    memory at once, or in many runs merged from the file (each read in small
    pieces, so a record straddles them).
    """
    from revtrack import importer
    from revtrack.importer import import_snapshots, jsonl_snapshots
    from revtrack.store import Store

    if sorted_in != "one run":
        monkeypatch.setattr(importer, "_RUN_BYTES", 300)
        monkeypatch.setattr(importer, "_READ_BYTES", 7)

    records = [record for article in range(12) for record in _text_versions(article, 4, article % 3 == 0)]
    # story-1 back to its first text, 30 seconds after its second (a blob git holds already), then that record again
    records.insert(6, {**records[4], "observed_at": records[5]["observed_at"].replace(":00Z", ":30Z")})
    records.insert(7, dict(records[6]))
    records.sort(key=lambda record: record["observed_at"])
    lines = [json.dumps(record) + "\n" for record in records]
    built = []
    for interleaved in (False, True):
        path = tmp_path / f"interleaved-{interleaved}"
        with Store(str(path)) as store:
            first = import_snapshots(store, jsonl_snapshots(io.StringIO("".join(lines[:20]))), interleaved=interleaved)
            rest = import_snapshots(store, jsonl_snapshots(io.StringIO("".join(lines[20:]))), interleaved=interleaved)
        assert (first.recorded + rest.recorded, first.unchanged + rest.unchanged) == (len(records) - 1, 1)
        assert fsck(path).returncode == 0
        built.append(_log_and_trees(path))
    assert built[0] == built[1]
    assert len(built[0][1]) == len(records) - 1


def test_reading_ahead_counts_the_records_and_tells_when_they_interleave_articles() -> None:
    """Interleaved: the runs of one article beyond one an article are over 1% of the records after each first."""
    from revtrack.importer import ReadAhead, read_ahead

    def texts(*articles: str) -> list[tuple[str, bool]]:
        return [(article, False) for article in articles]

    assert read_ahead(texts("a", "a", "b", "b", "c")) == ReadAhead(5, False)
    assert read_ahead(texts("a", "b", "a", "b")) == ReadAhead(4, True)
    assert read_ahead([]) == ReadAhead(0, False)
    by_article = [f"story-{n}" for n in range(100) for _ in range(2)]  # 100 records after each article's first
    one_off = by_article[1:] + by_article[:1]  # story-0's first record last: one run more
    assert read_ahead(texts(*one_off)) == ReadAhead(200, False)
    two_off = by_article[1:3] + by_article[4:] + by_article[:1] + by_article[3:4]  # two runs more
    assert read_ahead(texts(*two_off)) == ReadAhead(200, True)
    counted: list[int] = []
    read_ahead(texts(*["a"] * 2_500), counted.append)
    assert counted == [1_000, 2_000]
    assert read_ahead([("a", False), ("a", True), ("b", False)]) == ReadAhead(3, False, pages=True)


def test_json_lines_are_read_ahead_up_to_the_first_line_that_is_not_a_record_and_rewound() -> None:
    from revtrack.importer import jsonl_articles

    text = '{"article": "a"}\n\n{"article": "b", "body": "x"}\n{"article": "c", "html": "<p>x"}\n{"article": 3}\n'
    stream = io.StringIO(text)
    stream.readline()  # read ahead from where the stream is, and back to there
    assert list(jsonl_articles(stream)) == [("b", False), ("c", True)]
    assert stream.read() == text[len('{"article": "a"}\n') :]
    for bad in ("not json\n", "[1]\n"):
        assert list(jsonl_articles(io.StringIO('{"article": "a"}\n' + bad + '{"article": "b"}\n'))) == [("a", False)]

    class Pipe(io.StringIO):
        def seekable(self) -> bool:
            return False

    assert list(jsonl_articles(Pipe('{"article": "a"}\n'))) == []


def test_a_folders_rows_are_read_ahead_with_the_article_each_would_import_as(tmp_path: Path) -> None:
    from revtrack.importer import folder_articles

    assert list(folder_articles(str(SEEDS))) == [(SEED_ID, False)] * 3
    assert list(folder_articles(str(SEEDS), "chosen")) == [("chosen", False)] * 3
    rows = ["file\tobserved_at\tarticle", "v1.txt\t2024-01-01T00:00:00Z\tx/y", "v2.HTM\t\t"]
    (tmp_path / "versions.tsv").write_text("\n".join(rows) + "\n")
    assert list(folder_articles(str(tmp_path))) == [("x/y", False), (tmp_path.name, True)]
    assert list(folder_articles(str(tmp_path / "missing"))) == []


def test_an_import_piped_in_is_read_ahead_and_its_texts_given_to_git_by_article(tmp_path: Path) -> None:
    """`revtrack import -` from a pipe: copied aside, read ahead, found interleaved, its texts chained in git's pack.

    5,001 versions (enough to keep fast-import's pack) ordered by time: each
    article's texts end as one whole and each later version a delta of the
    one before, which only texts given to git article by article leave
    (a search makes each older version a delta of a newer one).
    """
    import sys

    records = [record for article in range(1_667) for record in _text_versions(article, 3, False)]
    records.sort(key=lambda record: record["observed_at"])
    records = records[:5_001]
    store_path = tmp_path / "store"
    imported = subprocess.run(
        [sys.executable, "-m", "revtrack", "--store", str(store_path), "import", "-", "--format", "json"],
        input="".join(json.dumps(record) + "\n" for record in records), capture_output=True, text=True,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["recorded"] == 5_001
    assert _packed_state(store_path) == {"packs": 1, "loose": 0, "unreachable": 0, "commit-graph": True}
    for blobs in _text_bases(store_path):
        shas = [sha for sha, _ in blobs]
        assert [base for _, base in blobs] == ["0" * 40, *shas[:-1]], blobs
    assert fsck(store_path).returncode == 0


def test_the_import_progress_shows_the_count_of_the_records_read_ahead() -> None:
    from revtrack.render.progress import counter

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    shown = Terminal()
    with counter("importing", shown, 5_000) as (update, stage):
        update(2_500)
        assert "2,500 of 5,000 versions" in shown.getvalue()
        stage("packing the store")
    assert "packing the store" in shown.getvalue().rsplit("2,500 of 5,000 versions", 1)[1]
    shown = Terminal()
    with counter("reading ahead", shown) as (update, _):
        update(2_500)
    assert "reading ahead" in shown.getvalue() and "2,500 versions" in shown.getvalue()


def test_an_import_on_a_terminal_shows_a_bar_of_the_records_read_ahead(tmp_path: Path) -> None:
    """On a terminal (a pseudo-terminal here) the import reads its records ahead and shows its progress out of them."""
    import pty
    import select
    import sys

    controller, terminal = pty.openpty()
    with os.fdopen(controller, "rb", buffering=0) as shown:
        run = subprocess.Popen(
            [sys.executable, "-m", "revtrack", "--store", str(tmp_path / "store"), "import", str(SEEDS)],
            stdout=subprocess.DEVNULL, stderr=terminal, env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
        )  # fmt: skip
        os.close(terminal)
        output = b""
        with contextlib.suppress(OSError):  # the terminal is gone once the import has ended
            # A minute at most: an import that hangs fails here instead of holding up the suite.
            while select.select([shown], [], [], 60)[0] and (chunk := shown.read(4096)):
                output += chunk
        if run.poll() is None:
            run.kill()
    assert run.wait() == 0
    assert b"of 3 versions" in output and b"packing the store" in output, output


def test_held_back_texts_and_piped_records_wait_on_the_stores_disk_not_in_tmp(tmp_path: Path) -> None:
    """The temporary files of an import (its texts held back, records piped in) are unnamed files beside the store.

    ``/tmp`` may be memory; the store's disk takes the texts anyway. Where the
    store does not exist yet, the nearest folder above it that does.
    """
    import sys

    from revtrack.importer import _TextsByArticle

    store_path = tmp_path / "store"
    store_path.mkdir()
    stream = _TextsByArticle(io.BytesIO(), None, "committer x <x> 0 +0000\n", str(store_path))
    try:
        for spool in (stream.texts, stream.commits):
            assert os.readlink(f"/proc/self/fd/{spool.fileno()}").startswith(f"{store_path}/"), spool
    finally:
        stream.close()
    show = "import os, sys; from revtrack.cli import _stdin_text; f = _stdin_text(sys.argv[1]); "
    show += "print(os.readlink(f'/proc/self/fd/{f.buffer.fileno()}')); print(f.read(), end='')"
    for beside, folder in ((store_path, store_path), (tmp_path / "new" / "store", tmp_path)):
        shown = subprocess.run([sys.executable, "-c", show, str(beside)], input="a\nb\n", capture_output=True,
                               text=True, check=True).stdout.splitlines()  # fmt: skip
        assert shown[0].startswith(f"{folder}/") and "(deleted)" in shown[0] and shown[1:] == ["a", "b"], shown


def test_the_texts_chain_check_holds_one_shard_of_articles_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~330 bytes of Python a text while checked: a NewsEdits-size store checks a shard of articles at a time."""
    import tracemalloc

    from revtrack import packing

    listed = tmp_path / "texts"
    lines = (b"%040d %015dt %040d\n" % (article * 10 + version, article, max(0, article * 10 + version - 1))
             for article in range(2_000) for version in range(10))  # fmt: skip
    listed.write_bytes(b"".join(lines))
    peaks = {}
    for shard_texts in (250_000, 2_000):
        monkeypatch.setattr(packing, "_SHARD_TEXTS", shard_texts)
        tracemalloc.start()
        assert packing._texts_chained_in_file(str(listed), 20_000, str(tmp_path))
        peaks[shard_texts] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks[2_000] * 5 < peaks[250_000], peaks


def test_held_back_texts_are_sorted_a_run_at_a_time_and_merged_by_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most a run of texts is held in memory; the runs, merged, give each article's texts in order, then commits."""
    from revtrack import importer
    from revtrack.model import Snapshot

    monkeypatch.setattr(importer, "_RUN_BYTES", 30)  # two texts a run (17 bytes each)
    out = io.BytesIO()
    stream = importer._TextsByArticle(out, io.BytesIO(), "committer x <x> 0 +0000\n", str(tmp_path))
    order = [("b", 1), ("a", 1), ("b", 2), ("c", 1), ("a", 2), ("b", 3), ("a", 3)]
    try:
        for mark, (article, version) in enumerate(order, start=1):
            snapshot = Snapshot(article, f"{article}", f"version {version} of {article}", f"2024-01-01T00:0{mark}:00Z")
            stream.add(snapshot, version, mark, f"0/0/0/{article}", None)
            assert stream.run_bytes < 30 and len(stream.runs) == mark // 2  # what is held goes out as a sorted run
        stream.end()
    finally:
        stream.close()
    sent = out.getvalue()
    texts = [body.split(b"\n\n", 1)[1].rstrip(b"\n").decode() for body in sent.split(b"blob\ndata ")[1:]]
    texts = [text.split("\n")[0] for text in texts]
    assert texts == [f"version {v} of {a}" for a in "bac" for v in (1, 2, 3) if (a, v) in order]
    assert sent.index(b"commit refs/heads/main") > sent.rindex(b"blob\n")
