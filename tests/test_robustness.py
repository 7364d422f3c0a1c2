"""Never lose a revision: concurrent writers, SIGKILL at any point, damaged indexes and git data."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from revtrack.errors import NotAStore, StoreDamaged, StoreLocked
from revtrack.model import Snapshot
from revtrack.store import Store
from tests.conftest import Cli, fsck, index_pages, leave_free_pages

WORKER = textwrap.dedent(
    """
    import sys
    from revtrack.model import Snapshot
    from revtrack.store import Store

    store_path, worker, article, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = Store(store_path, lock_timeout=120)
    for i in range(count):
        body = f"Body written by worker {worker}, version {i}.\\n\\nA second paragraph that stays the same."
        result = store.snapshot(Snapshot(article, f"Headline {worker}", body, "2024-01-01T00:00:00+00:00"))
        print(worker, i, result.article, result.rev, result.commit, result.changed, flush=True)
    """
)


def git_revisions(store: Path) -> dict[str, list[tuple[int, str]]]:
    """(rev, body) per article, read with plain git from the branch, oldest first."""
    out = subprocess.run(
        [
            "git",
            "--git-dir",
            str(store),
            "log",
            "--reverse",
            "--format=%H %(trailers:key=Revtrack-Article,valueonly,separator=)"
            " %(trailers:key=Revtrack-Rev,valueonly,separator=)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    found: dict[str, list[tuple[int, str]]] = {}
    with Store(str(store)) as reader:
        for line in out:
            if not line.strip():
                continue
            commit, article, rev = line.split()
            revision = next(r for r in reader.index().revisions(article) if r.rev == int(rev))
            assert revision.commit == commit
            found.setdefault(article, []).append((int(rev), reader.text(revision).body))
    return found


@pytest.mark.slow
def test_eight_concurrent_writers_record_every_version_exactly_once(store_dir: Path) -> None:
    workers = []
    for worker in range(8):
        article = "shared" if worker < 4 else f"own-{worker}"
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(store_dir), str(worker), article, "50"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    reports = []
    for process in workers:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        reports += [line.split() for line in out.strip().split("\n")]
    assert len(reports) == 400 and all(r[5] == "True" for r in reports)
    recorded = git_revisions(store_dir)
    assert sorted(recorded) == ["own-4", "own-5", "own-6", "own-7", "shared"]
    for article, revisions in recorded.items():
        assert [rev for rev, _ in revisions] == list(range(1, len(revisions) + 1)), article
    bodies = [body for _, body in recorded["shared"]]
    assert len(bodies) == 200 and len(set(bodies)) == 200  # each version once
    assert all(len(recorded[f"own-{w}"]) == 50 for w in range(4, 8))
    # What each writer was told matches git: same article, revision and commit.
    with Store(str(store_dir)) as reader:
        for _, _, article, rev, commit, _ in reports:
            assert reader.revision(article, rev).commit == commit
    assert fsck(store_dir).returncode == 0
    check = subprocess.run(
        [sys.executable, "-m", "revtrack", "--store", str(store_dir), "check"], capture_output=True, text=True
    )
    assert check.returncode == 0 and "index matches git" in check.stdout, check.stderr


def test_a_writer_that_cannot_get_the_lock_gives_up_cleanly(store_dir: Path, tmp_path: Path) -> None:
    from filelock import FileLock

    with Store(str(store_dir)) as store:
        store.snapshot(Snapshot("a", "T", "Body one.", "2024-01-01T00:00:00+00:00"))
    before = sorted(p.name for p in (store_dir / "objects").rglob("*"))
    lock = FileLock(str(store_dir / "revtrack" / "write.lock"))
    with lock:
        source = tmp_path / "s.txt"
        source.write_text("T\n\nBody two.\n")
        started = time.monotonic()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "revtrack",
                "--store",
                str(store_dir),
                "--lock-timeout",
                "0.5",
                "snapshot",
                str(source),
                "--article",
                "a",
            ],
            capture_output=True,
            text=True,
        )
        waited = time.monotonic() - started
    assert result.returncode == 5
    assert (
        result.stderr.startswith("Error: another revtrack process has been writing to")
        and "--lock-timeout" in result.stderr
    )
    assert waited < 10
    assert sorted(p.name for p in (store_dir / "objects").rglob("*")) == before


def test_a_writer_waits_for_a_store_being_created_instead_of_refusing_it(store_dir: Path, tmp_path: Path) -> None:
    """While one writer runs `git init`, the folder briefly holds git's probe files (random names): another
    writer must wait for the lock, not call the folder someone else's."""
    from filelock import FileLock

    (store_dir / "revtrack").mkdir(parents=True)
    (store_dir / "HEAD").write_text("ref: refs/heads/main\n")
    probe = store_dir / "probe-of-a-future-git"  # a name revtrack does not know as one of git's
    probe.write_text("")
    source = tmp_path / "s.txt"
    source.write_text("T\n\nBody.\n")
    with FileLock(str(store_dir / "revtrack" / "write.lock")):
        writer = subprocess.Popen(
            [sys.executable, "-m", "revtrack", "--store", str(store_dir), "--lock-timeout", "30",
             "snapshot", str(source), "--article", "a"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(1.0)  # the writer has checked the folder and waits for the lock
        assert writer.poll() is None, writer.communicate()
        probe.unlink()  # the creating writer finishes
        (store_dir / "HEAD").unlink()
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    with Store(str(store_dir)) as store:
        assert [r.rev for r in store.log("a")] == [1]


def test_a_store_whose_creation_was_killed_is_created_on_the_next_write(store_dir: Path, tmp_path: Path) -> None:
    """Killed inside `git init`, a writer leaves git's filesystem probe (strace showed "tVacbUH"): the store
    must still be usable, the probe left where it is."""
    subprocess.run(["git", "init", "--bare", "--quiet", str(store_dir)], check=True)
    (store_dir / "tVacbUH").write_text("")
    (store_dir / "\u00e4").write_text("")
    with Store(str(store_dir)) as store:
        assert store.snapshot(Snapshot("a", "T", "Body.", "2024-01-01T00:00:00+00:00")).rev == 1
    assert (store_dir / "tVacbUH").exists()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "tVacbUHX").write_text("precious")  # not git's probe: a folder of someone else's
    with pytest.raises(NotAStore):
        Store(str(other)).snapshot(Snapshot("a", "T", "Body.", "2024-01-01T00:00:00+00:00"))
    assert [p.name for p in other.iterdir()] == ["tVacbUHX"]


def test_a_lock_left_by_a_dead_process_is_not_a_lock(store_dir: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import os, time
            from filelock import FileLock
            os.makedirs({str(store_dir / "revtrack")!r}, exist_ok=True)
            FileLock({str(store_dir / "revtrack" / "write.lock")!r}).acquire()
            print("locked", flush=True)
            time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    with Store(str(store_dir), lock_timeout=2) as store:
        result = store.snapshot(Snapshot("a", "T", "Body.", "2024-01-01T00:00:00+00:00"))
    assert result.rev == 1


# --- crashes ---------------------------------------------------------------------------

CRASH_POINTS = ["after-blobs", "before-ref", "after-ref", "before-index-commit"]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_killed_at_each_write_step_loses_nothing(store_dir: Path, point: str) -> None:
    with Store(str(store_dir)) as store:
        store.snapshot(Snapshot("a", "T", "Version one.", "2024-01-01T00:00:00+00:00"))
    env = {**os.environ, "REVTRACK_CRASH_AT": point}
    crashed = subprocess.run(
        [sys.executable, "-c", WORKER, str(store_dir), "w", "a", "1"], capture_output=True, text=True, env=env
    )
    assert crashed.returncode == -signal.SIGKILL and crashed.stdout == ""
    with Store(str(store_dir)) as store:
        revisions = store.log("a")
        # The ref is the commit point: before it nothing is visible, after it all of it is.
        expected = 2 if point in ("after-ref", "before-index-commit") else 1
        assert [r.rev for r in revisions] == list(range(1, expected + 1))
        assert store.text(revisions[0]).body == "Version one."
        if expected == 2:
            assert store.text(revisions[1]).body.startswith("Body written by worker w, version 0.")
        after = store.snapshot(Snapshot("a", "T", "Version three.", "2024-01-02T00:00:00+00:00"))
        assert after.rev == expected + 1
    assert fsck(store_dir).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("batched", [False, True], ids=["single", "batched"])
def test_sigkill_at_random_points_a_hundred_times(
    store_dir: Path, batched: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fork writers and kill them at random moments; after every kill the record holds.

    Batched writers record 1-7 versions per ``Store.batch`` and report them once
    the batch has ended: a pack per batch, and maintenance every 10 revisions
    joining packs past 4 (the forked writers inherit the lowered limits), so
    joins of packs are killed too."""
    if batched:
        from revtrack import store as store_module

        monkeypatch.setattr(store_module, "_MAINTENANCE_EVERY", 10)
        monkeypatch.setattr(store_module, "_PACK_LIMIT", 4)
    import revtrack.gitwrite  # noqa: F401  (imported before forking, so children start writing at once)
    from revtrack.diff import diff_texts

    diff_texts("warm up the engine", "warm the engine up")
    rng = random.Random(20171027)
    reported: dict[tuple[str, int], str] = {}
    kills = 0
    counter = 0
    while kills < 110:
        counter += 1

        def write_until_killed(report: Callable[[str], None], counter: int = counter) -> None:
            store = Store(str(store_dir), lock_timeout=60)
            child_rng = random.Random(counter)
            written = 0
            while written < 1000:
                size = child_rng.randint(1, 7) if batched else 1
                with store.batch() if batched else contextlib.nullcontext():
                    results = []
                    for i in range(written, written + size):
                        article = f"story-{(counter + i) % 3}"
                        body = f"Round {counter}, version {i}.\n\nSecond paragraph {i % 5}."
                        snapshot = Snapshot(article, f"Headline {i % 2}", body, "2024-01-01T00:00:00+00:00")
                        results.append(store.snapshot(snapshot))
                written += size
                for result in results:
                    report(f"{result.article} {result.rev} {result.commit}")

        for line in _killed_after(write_until_killed, rng.uniform(0.0, 0.3)):
            parts = line.split()
            if len(parts) == 3:  # a line cut by the kill is not a report
                reported[(parts[0], int(parts[1]))] = parts[2]
        kills += 1
        if kills % 10 == 0 or kills == 1:
            _assert_record_holds(store_dir, reported)
    _assert_record_holds(store_dir, reported)
    assert len(reported) > 100
    if batched:  # the batches' packs were joined along the way
        assert len(list((store_dir / "objects" / "pack").glob("*.pack"))) < len(reported) // 7
    with Store(str(store_dir)) as store:
        assert store.snapshot(Snapshot("story-0", "After", "After the storm.", "2024-01-02T00:00:00+00:00")).changed


def _killed_after(work: Callable[[Callable[[str], None]], None], seconds: float) -> list[str]:
    """Run ``work`` in a forked child and SIGKILL it after ``seconds``; return the lines it reported.

    ``work`` reports with the function it is given. The child has its own
    process group, so the git processes it runs die with it, as they would in
    a power cut.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        os.close(read_end)
        try:
            work(lambda line: os.write(write_end, f"{line}\n".encode()))
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(0)
    os.close(write_end)
    time.sleep(seconds)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        return pipe.read().decode().splitlines()


def _assert_record_holds(store_dir: Path, reported: dict[tuple[str, int], str]) -> None:
    if not (store_dir / "revtrack" / "store.json").exists():
        assert not reported  # killed while creating the store: nothing was reported yet
        return
    assert fsck(store_dir).returncode == 0, fsck(store_dir).stderr
    with Store(str(store_dir)) as store:
        for (article, rev), commit in reported.items():
            assert store.revision(article, str(rev)).commit == commit
        for summary in store.articles():
            revisions = store.log(summary.article)
            assert [r.rev for r in revisions] == list(range(1, len(revisions) + 1))
            for document in store.texts(revisions):  # every visible revision is whole
                assert document.title.startswith("Headline") and document.body.startswith("Round ")


# --- the index is a cache -----------------------------------------------------------------


def _seeded_store(store_dir: Path) -> list[str]:
    with Store(str(store_dir)) as store:
        for i in range(4):
            store.snapshot(Snapshot("a", f"T{i}", f"Body {i} with words.", f"2024-01-0{i + 1}T00:00:00+02:00"))
            store.snapshot(Snapshot("b", "T", f"Other {i}.", f"2024-01-0{i + 1}T00:00:00-05:00"))
    return _log_lines(store_dir)


def _log_lines(store_dir: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "revtrack", "--store", str(store_dir), "log", "a", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.dumps(r, sort_keys=True) for r in json.loads(result.stdout)["revisions"]]


def test_deleted_index_is_rebuilt_with_the_same_history(store_dir: Path) -> None:
    before = _seeded_store(store_dir)
    with Store(str(store_dir)) as store:
        articles = store.articles()
    for name in os.listdir(store_dir / "revtrack"):
        if name.startswith("index.sqlite"):
            os.unlink(store_dir / "revtrack" / name)
    assert _log_lines(store_dir) == before
    with Store(str(store_dir)) as store:  # the articles' rows (latest revision, first and last sighting) too
        assert store.articles() == articles and [a.revisions for a in articles] == [4, 4]


def test_corrupt_index_is_rebuilt_with_the_same_history(store_dir: Path) -> None:
    before = _seeded_store(store_dir)
    with Store(str(store_dir)) as store:
        store.index()
    (store_dir / "revtrack" / "index.sqlite").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (store_dir / "revtrack" / f"index.sqlite{suffix}").unlink(missing_ok=True)
    assert _log_lines(store_dir) == before


def test_index_behind_git_catches_up(store_dir: Path) -> None:
    _seeded_store(store_dir)
    db = sqlite3.connect(store_dir / "revtrack" / "index.sqlite")
    db.execute("DELETE FROM revisions WHERE rev = 4")
    first = subprocess.run(
        ["git", "--git-dir", str(store_dir), "rev-list", "--max-count=1", "main~2"], capture_output=True, text=True
    ).stdout.strip()
    db.execute("UPDATE meta SET value=? WHERE key='tip'", (first,))
    db.commit()
    db.close()
    with Store(str(store_dir)) as store:
        assert [r.rev for r in store.log("a")] == [1, 2, 3, 4]


def test_damaged_git_data_is_reported_not_overwritten(tmp_path: Path) -> None:
    store_dir = tmp_path / "damaged"  # not the fsck-checking fixture: this store is damaged on purpose
    _seeded_store(store_dir)
    tip = (store_dir / "refs" / "heads" / "main").read_text().strip()
    (store_dir / "objects" / tip[:2] / tip[2:]).unlink()  # the newest commit is gone
    Path(store_dir / "revtrack" / "index.sqlite").unlink()
    source = tmp_path / "s.txt"
    source.write_text("T\n\nNew body.\n")
    for args in (["log", "a"], ["snapshot", str(source), "--article", "a"], ["check"]):
        result = subprocess.run(
            [sys.executable, "-m", "revtrack", "--store", str(store_dir), *args], capture_output=True, text=True
        )
        assert result.returncode == 6, (args, result.stderr)
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert (store_dir / "refs" / "heads" / "main").read_text().strip() == tip


def test_missing_tip_object_stops_a_writer_that_has_a_current_index(tmp_path: Path) -> None:
    store_dir = tmp_path / "damaged"
    _seeded_store(store_dir)
    tip = (store_dir / "refs" / "heads" / "main").read_text().strip()
    (store_dir / "objects" / tip[:2] / tip[2:]).unlink()
    with Store(str(store_dir)) as store, pytest.raises(StoreDamaged):
        store.snapshot(Snapshot("a", "T", "Another body.", "2024-02-01T00:00:00+00:00"))
    assert (store_dir / "refs" / "heads" / "main").read_text().strip() == tip


def test_store_locked_is_a_domain_error() -> None:
    assert StoreLocked.exit_code == 5 and StoreDamaged.exit_code == 6


def test_stdin_closed(store_dir: Path) -> None:
    closed = subprocess.run(
        f"{sys.executable} -m revtrack --store {store_dir} snapshot - --article x <&-",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert (
        closed.returncode == 4 and closed.stderr == "Error: standard input is closed; give a file or pipe the text in\n"
    )
    empty = subprocess.run(
        [sys.executable, "-m", "revtrack", "--store", str(store_dir), "snapshot", "-", "--article", "x"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert empty.returncode == 4 and empty.stderr == "Error: standard input is empty\n"
    assert not (store_dir / "HEAD").exists()


def test_a_write_the_file_system_refuses_is_one_error_line_and_loses_nothing(store_dir: Path, tmp_path: Path) -> None:
    """A full disk or a file size limit (here RLIMIT_FSIZE: writes past 100 KB fail with EFBIG) is an Error line
    with exit 6, not a traceback, and the store keeps what it had."""
    import resource

    with Store(str(store_dir)) as store:
        store.snapshot(Snapshot("a", "T", "Small first version.", "2024-01-01T00:00:00+00:00"))
    big = tmp_path / "big.txt"
    rng = random.Random(7)
    big.write_text("T\n\n" + " ".join("".join(rng.choice("abcdefghij") for _ in range(8)) for _ in range(60_000)))

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    result = subprocess.run(
        [sys.executable, "-m", "revtrack", "--store", str(store_dir), "snapshot", str(big), "--article", "a"],
        capture_output=True, text=True, preexec_fn=limit_file_size,
    )  # fmt: skip
    assert result.returncode == 6, result.stderr
    assert result.stderr == "Error: File too large; run 'revtrack check' to confirm the store\n"
    with Store(str(store_dir)) as store:
        assert [r.rev for r in store.log("a")] == [1]
        assert store.snapshot(Snapshot("a", "T", "Second version.", "2024-01-02T00:00:00+00:00")).rev == 2


def _file_size_limit(limit: int) -> Callable[[], None]:
    """For ``preexec_fn``: writes past ``limit`` bytes of any file fail (EFBIG), as they would on a full disk."""
    import resource

    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


# From below the size of a new index to above a whole import's writes: each
# write of an import, a snapshot and a batch is refused at one of these.
_FILE_SIZE_LIMITS = [4_000 * 2**power for power in range(9)]


def _refusal_records(path: Path, by_time: bool) -> Path:
    rng = random.Random(11)
    records = [
        {"article": f"a{number:02d}", "observed_at": f"2024-01-0{version + 1}T00:{number:02d}:00+00:00",
         "title": f"T{number}", "body": " ".join(f"w{rng.randrange(100_000)}" for _ in range(300))}
        for version in range(3)
        for number in range(60)
    ]  # fmt: skip
    if not by_time:
        records.sort(key=lambda record: (record["article"], record["observed_at"]))
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def _complaint(stderr: str) -> str:
    """What an Error line blames, without the paths and counts that vary."""
    for kind in ("could not create a git repository", "cannot open the index", "git fast-import failed",
                 "the index could not record", "File too large", "disk I/O error (SQLite)"):  # fmt: skip
        if kind in stderr:
            return kind
    return stderr


def test_a_compaction_the_file_system_refuses_is_one_error_line_and_the_index_stays_whole(store_dir: Path) -> None:
    """`maintain` packs git, then rewrites the index without its free pages (VACUUM). Refused there (the log
    the rewrite goes through, ~110 KB, is past a 64 KB limit; git's pack, ~15 KB, is not), it is exit 6 and
    one Error line, and the index is as it was."""
    rng = random.Random(5)
    words = ["".join(rng.choice("abcdefghij") for _ in range(8)) for _ in range(3_000)]  # an index of ~110 KB
    with Store(str(store_dir)) as store:
        for day in range(1, 4):
            store.snapshot(Snapshot("a", "T", " ".join(words[: 1_000 * day]), f"2024-01-0{day}T00:00:00+00:00"))
    free = leave_free_pages(store_dir, 2)
    size, _ = index_pages(store_dir)
    command = [sys.executable, "-m", "revtrack", "--store", str(store_dir)]
    log = subprocess.run([*command, "log", "a", "--format", "json"], capture_output=True, text=True).stdout
    limited = _file_size_limit(64_000)
    refused = subprocess.run([*command, "maintain"], capture_output=True, text=True, preexec_fn=limited)
    assert refused.returncode == 6
    assert re.fullmatch(
        r"Error: the store is packed, but its index could not be compacted \([^)\n]+\); it answers as before, "
        r"and the next 'revtrack maintain' tries again\n",
        refused.stderr,
    ), refused.stderr
    assert index_pages(store_dir) == (size, free)
    assert subprocess.run([*command, "log", "a", "--format", "json"], capture_output=True, text=True).stdout == log
    assert subprocess.run([*command, "maintain"], capture_output=True).returncode == 0
    assert index_pages(store_dir)[1] == 0
    assert subprocess.run([*command, "check"], capture_output=True).returncode == 0


def test_the_index_is_rewritten_only_once_enough_of_it_is_free(seeded: Cli) -> None:
    """VACUUM rewrites the whole file, so a few free pages in a large index are left for later writes."""
    from revtrack.index import Index

    free = leave_free_pages(seeded.store, 1)
    size, _ = index_pages(seeded.store)
    index = Index(str(seeded.store / "revtrack" / "index.sqlite"))
    try:
        share = free / index.db.execute("PRAGMA page_count").fetchone()[0]
        assert index.compact(from_free_share=share + 0.01) is None
        assert index_pages(seeded.store) == (size, free)
        before, after = index.compact(from_free_share=share - 0.01) or (0, 0)
        assert before == size and after < size - 1_000_000 and index_pages(seeded.store) == (after, 0)
    finally:
        index.close()


def test_compacting_the_index_does_not_wait_for_a_reader_of_its_old_pages(seeded: Cli) -> None:
    """A reader in the middle of a read (another process's `search`, say) keeps the log's old frames. The
    compaction goes on beside it and returns while it reads (the checkpoint would otherwise wait out the
    connection's 30 s busy timeout); the reader's answer is unchanged, and the last close empties the log."""
    import threading

    from revtrack.index import Index

    path = seeded.store / "revtrack" / "index.sqlite"
    leave_free_pages(seeded.store, 1)
    reading, compacted = threading.Event(), threading.Event()
    read = "SELECT count(*), group_concat(title, ' | ') FROM revisions"
    seen: list[Any] = []

    def reader() -> None:
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
            db.execute("BEGIN")
            seen.append(db.execute(read).fetchone())
            reading.set()
            seen.append(compacted.wait(timeout=20))  # False: the compaction waited for this read to end
            seen.append(db.execute(read).fetchone())
            db.execute("COMMIT")

    thread = threading.Thread(target=reader)
    thread.start()
    assert reading.wait(timeout=20)
    index = Index(str(path))
    try:
        assert index.compact() is not None
        compacted.set()
    finally:
        thread.join()
        index.close()
    assert seen[1] is True and seen[0] == seen[2] and seen[0][0] == 3
    assert index_pages(seeded.store)[1] == 0 and not path.with_name("index.sqlite-wal").exists()


def test_a_connection_that_stays_open_cuts_the_log_back_after_a_large_write(seeded: Cli) -> None:
    """A watch keeps its index open for weeks. A large write while another connection reads leaves the
    write-ahead log that large; the first write after the next checkpoint cuts it back to the limit."""
    from revtrack.index import _LOG_SIZE_LIMIT, Index

    path = seeded.store / "revtrack" / "index.sqlite"
    log = path.with_name("index.sqlite-wal")
    index = Index(str(path))
    try:
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as reader:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM revisions").fetchone()
            with index.transaction():  # 24 MB through the log, which the reader keeps from being checkpointed
                index.db.execute("CREATE TABLE filler (data BLOB)")
                index.db.executemany("INSERT INTO filler VALUES (?)", [(os.urandom(10_000),)] * 2_400)
            reader.execute("COMMIT")
        assert log.stat().st_size > 24_000_000
        index.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        with index.transaction(tip=index.tip()):
            pass
        assert log.stat().st_size <= _LOG_SIZE_LIMIT
    finally:
        index.close()


def test_a_git_killed_by_a_signal_is_named_by_the_signal() -> None:
    """git gets no time to say why when SIGXFSZ kills it: the error names the signal instead of "exit -25"."""
    from revtrack.gitread import ended

    assert ended(128) == "exit 128"
    assert ended(-signal.SIGXFSZ) == f"killed by signal {int(signal.SIGXFSZ)}: File size limit exceeded"


def _revisions_in_git(store: Path) -> int:
    listed = subprocess.run(["git", "--git-dir", str(store), "rev-list", "--count", "main"], capture_output=True)
    return int(listed.stdout or 0)


@pytest.mark.slow
@pytest.mark.parametrize("order", ["by-article", "by-time"])
def test_an_import_the_file_system_refuses_anywhere_is_one_error_line_and_all_or_nothing(
    tmp_path: Path, order: str
) -> None:
    """A file size limit (as a full disk would) stops an import at each of its writes in turn.

    Each stop is one Error line with exit 6: not a traceback (an index that could
    not even be created was one), not silence (git fast-import killed by
    SIGXFSZ broke its pipe, which read as revtrack's own reader gone away: exit 1
    and no word). The new store is then either absent or, where the error says
    the versions are in git, whole; the same import without the limit completes.
    """
    records = _refusal_records(tmp_path / "records.jsonl", by_time=order == "by-time")
    complaints = []
    for limit in _FILE_SIZE_LIMITS:
        store = tmp_path / f"store-{limit}"
        command = [sys.executable, "-m", "revtrack", "--store", str(store), "import", str(records)]
        refused = subprocess.run(command, capture_output=True, text=True, preexec_fn=_file_size_limit(limit))
        if refused.returncode == 0:
            complaints.append("none")
        else:
            assert refused.returncode == 6, (limit, refused.stderr)
            assert refused.stderr.startswith("Error: ") and refused.stderr.count("\n") == 1, (limit, refused.stderr)
            complaints.append(_complaint(refused.stderr))
            assert _revisions_in_git(store) == (180 if "are in git" in refused.stderr else 0), refused.stderr
        assert subprocess.run(command, capture_output=True).returncode == 0
        assert subprocess.run([*command[:5], "check"], capture_output=True).returncode == 0
        assert _revisions_in_git(store) == 180
        assert fsck(store).returncode == 0
    # Ordered by article, git fast-import gets each text as it is read, and is the
    # one the limit stops; ordered by time, the texts wait in revtrack's own file.
    stopped_at = "git fast-import failed" if order == "by-article" else "File too large"
    assert {"cannot open the index", stopped_at, "the index could not record", "none"} <= set(complaints), complaints


_BATCH_OF_TWENTY = textwrap.dedent(
    """
    import random, sys
    from revtrack.errors import RevtrackError
    from revtrack.model import Snapshot
    from revtrack.store import Store

    rng = random.Random(4)
    try:
        with Store(sys.argv[1]) as store, store.batch():
            for number in range(20):
                body = " ".join(f"q{rng.randrange(99_999)}" for _ in range(400))
                store.snapshot(Snapshot(f"a{number:02d}", "T", body, "2024-03-01T00:00:00+00:00"))
    except (RevtrackError, OSError) as error:  # what the CLI reports as one Error line
        print(f"Error: {error}", file=sys.stderr)
        sys.exit(6)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("write", ["snapshot", "batch"])
def test_a_write_the_file_system_refuses_anywhere_in_a_store_is_a_store_error_and_loses_nothing(
    tmp_path: Path, write: str
) -> None:
    """The same limits on a snapshot (the CLI) and a batch (the library, as `watch` uses it) into a store of 180.

    Refused before the branch moves, nothing is added; refused as the index
    commits (once a traceback each: the version or batch was already in git),
    the error says the versions are in git, and the next command indexes them.
    An index the file system refuses is not deleted as if it were corrupt.
    """
    records = _refusal_records(tmp_path / "records.jsonl", by_time=False)
    built = tmp_path / "built"
    subprocess.run([sys.executable, "-m", "revtrack", "--store", str(built), "import", str(records)], check=True)
    long_text = tmp_path / "long.txt"
    long_text.write_text("T\n\n" + " ".join(f"z{number}" for number in range(20_000)))
    added = 1 if write == "snapshot" else 20
    complaints = []
    for limit in _FILE_SIZE_LIMITS:
        store = tmp_path / f"store-{limit}"
        shutil.copytree(built, store)
        index_bytes = (store / "revtrack" / "index.sqlite").stat().st_size
        command = (
            [sys.executable, "-m", "revtrack", "--store", str(store), "snapshot", str(long_text), "--article", "a07"]
            if write == "snapshot"
            else [sys.executable, "-c", _BATCH_OF_TWENTY, str(store)]
        )
        refused = subprocess.run(command, capture_output=True, text=True, preexec_fn=_file_size_limit(limit))
        assert "Traceback" not in refused.stderr, refused.stderr
        if refused.returncode == 0:
            complaints.append("none")
            assert _revisions_in_git(store) == 180 + added
        else:
            assert refused.returncode == 6 and refused.stderr.startswith("Error: "), refused.stderr
            assert refused.stderr.count("\n") == 1, refused.stderr
            complaints.append(_complaint(refused.stderr))
            assert _revisions_in_git(store) == 180 + (added if " in git" in refused.stderr else 0), refused.stderr
            if "cannot open the index" in refused.stderr:
                assert (store / "revtrack" / "index.sqlite").stat().st_size == index_bytes  # kept, not rebuilt
            if " in git" in refused.stderr:  # the index is behind git: catching up is refused the same way
                listed = subprocess.run(
                    [sys.executable, "-m", "revtrack", "--store", str(store), "list"],
                    capture_output=True, text=True, preexec_fn=_file_size_limit(limit),
                )  # fmt: skip
                assert listed.returncode == 6, listed.stderr
                assert listed.stderr.startswith("Error: the index could not catch up with git"), listed.stderr
                assert (store / "revtrack" / "index.sqlite").stat().st_size >= index_bytes  # not deleted
        assert subprocess.run(command, capture_output=True).returncode == 0
        checked = subprocess.run(
            [sys.executable, "-m", "revtrack", "--store", str(store), "check"], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout
        assert _revisions_in_git(store) == 180 + added
    assert {"cannot open the index", "the index could not record", "none"} <= set(complaints), complaints


@pytest.mark.slow
def test_imports_killed_at_random_points_are_all_or_nothing(store_dir: Path) -> None:
    """Fork importers and kill them at random moments (inside fast-import, the index thread, the repack).

    Each import is five records, one for each of five articles, every other
    one with its texts held back and given to git by article; after every
    kill the store holds every import that was reported, and of the others
    either all five versions or none, no temporary file is left in the
    store's folder; and the next import works."""
    import io

    import revtrack.gitwrite  # noqa: F401  (imported before forking, so children start at once)
    from revtrack.importer import import_snapshots, jsonl_snapshots

    def import_chunk(store: Store, counter: int, chunk: int) -> str:
        name = f"{counter}.{chunk}"
        minute = counter * 1000 + chunk  # later than every earlier import, for every article
        when = f"2024-01-{1 + minute // 1440:02d}T{minute // 60 % 24:02d}:{minute % 60:02d}:00+00:00"
        records = "".join(
            json.dumps({"article": f"story-{k}", "observed_at": when, "title": "Headline",
                        "body": f"Import {name}, article {k}."}) + "\n"
            for k in range(5)
        )  # fmt: skip
        import_snapshots(store, jsonl_snapshots(io.StringIO(records)), interleaved=chunk % 2 == 1)
        return name

    rng = random.Random(20171028)
    reported: set[str] = set()
    for counter in range(30):

        def import_until_killed(report: Callable[[str], None], counter: int = counter) -> None:
            store = Store(str(store_dir), lock_timeout=60)
            for chunk in range(998):
                report(import_chunk(store, counter, chunk))

        lines = _killed_after(import_until_killed, rng.uniform(0.0, 0.5))
        reported |= {line for line in lines if line.count(".") == 1}  # a line cut by the kill is not a report
        if not (store_dir / "revtrack" / "store.json").exists():
            assert not reported
            continue
        assert fsck(store_dir).returncode == 0, fsck(store_dir).stderr
        assert not [name for name in os.listdir(store_dir) if name.startswith("revtrack-import")]
        imports: dict[str, set[int]] = {}
        with Store(str(store_dir)) as store:
            for k in range(5):
                revisions = store.log(f"story-{k}") if store.articles() else []
                assert [r.rev for r in revisions] == list(range(1, len(revisions) + 1))
                for document in store.texts(revisions):
                    name = document.body.split()[1].rstrip(",")
                    imports.setdefault(name, set()).add(k)
        assert reported <= set(imports), sorted(reported - set(imports))
        assert all(articles == set(range(5)) for articles in imports.values()), imports
        with Store(str(store_dir)) as store:  # whatever the kill left behind (git's lock files too)
            reported.add(import_chunk(store, counter, 999))
    assert len(reported) > 30
    check = subprocess.run([sys.executable, "-m", "revtrack", "--store", str(store_dir), "check"], capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr


def _import_one(store_dir: Path, body: str, day: int) -> int:
    import io

    from revtrack.importer import import_snapshots, jsonl_snapshots

    record = {"article": "a", "observed_at": f"2024-02-{day:02d}T00:00:00+00:00", "title": "T", "body": body}
    with Store(str(store_dir)) as store:
        return import_snapshots(store, jsonl_snapshots(io.StringIO(json.dumps(record) + "\n"))).recorded


def _snapshot_one(store_dir: Path, body: str, day: int) -> int:
    with Store(str(store_dir)) as store:
        return int(store.snapshot(Snapshot("a", "T", body, f"2024-02-{day:02d}T00:00:00+00:00")).changed)


@pytest.mark.parametrize("write", [_snapshot_one, _import_one], ids=["snapshot", "import"])
def test_a_branch_lock_left_by_a_killed_process_is_cleared(store_dir: Path, write) -> None:
    """git's locks on the branch and on HEAD (git takes both to move the branch HEAD names), left by a writer or
    a git it ran when killed, do not block later writes. (Snapshots move the branch themselves and take no lock
    on HEAD; fast-import takes both.)"""
    assert write(store_dir, "One.", 1) == 1
    locks = [store_dir / "refs" / "heads" / "main.lock", store_dir / "HEAD.lock"]
    old = time.time() - 60
    for lock in locks:
        lock.write_text("", encoding="ascii")
        os.utime(lock, (old, old))
    assert write(store_dir, "Two.", 2) == 1
    assert not locks[0].exists()
    assert locks[1].exists() == (write is _snapshot_one)
    with Store(str(store_dir)) as store:
        assert [r.rev for r in store.log("a")] == [1, 2]


@pytest.mark.parametrize("write", [_snapshot_one, _import_one], ids=["snapshot", "import"])
def test_a_branch_lock_held_by_a_live_git_is_waited_for(store_dir: Path, write) -> None:
    """A fresh lock belongs to a git command at work (milliseconds): the write waits for it instead of removing it."""
    import threading

    assert write(store_dir, "One.", 1) == 1
    lock = store_dir / "refs" / "heads" / "main.lock"
    lock.write_text("", encoding="ascii")
    removed_at: list[float] = []

    def release() -> None:
        time.sleep(0.4)
        removed_at.append(time.monotonic())
        lock.unlink()

    holder = threading.Thread(target=release)
    holder.start()
    assert write(store_dir, "Two.", 2) == 1
    done = time.monotonic()
    holder.join()
    assert removed_at and done >= removed_at[0]  # it did not go ahead while the lock was held
    with Store(str(store_dir)) as store:
        assert [r.rev for r in store.log("a")] == [1, 2]


def test_maintenance_runs_again_after_a_killed_run_left_its_locks(store_dir: Path) -> None:
    """A killed `pack-refs` or `commit-graph write` leaves its lock; the next maintenance clears it and runs."""
    with Store(str(store_dir)) as store:
        store.snapshot(Snapshot("a", "T", "One.", "2024-01-01T00:00:00+00:00"))
    locks = [
        store_dir / "packed-refs.lock",
        store_dir / "objects" / "info" / "commit-graphs" / "commit-graph-chain.lock",
    ]
    old = time.time() - 60
    for lock in locks:
        lock.parent.mkdir(parents=True, exist_ok=True)
        lock.write_text("", encoding="ascii")
        os.utime(lock, (old, old))
    with Store(str(store_dir)) as store:
        store.maintain()
    assert not any(lock.exists() for lock in locks)
    assert (store_dir / "objects" / "info" / "commit-graphs" / "commit-graph-chain").exists()
    assert "refs/heads/main" in (store_dir / "packed-refs").read_text(encoding="ascii")
    graph = ["git", "--git-dir", str(store_dir), "commit-graph", "verify"]
    assert subprocess.run(graph, capture_output=True).returncode == 0


def test_maintenance_that_waits_in_vain_for_a_git_lock_does_not_fail_the_write(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone's own git holds packed-refs.lock: automatic maintenance gives up, the snapshot is still recorded."""
    from revtrack import reflock
    from revtrack import store as store_module

    monkeypatch.setattr(store_module, "_MAINTENANCE_EVERY", 2)
    monkeypatch.setattr(store_module, "_LOOSE_LIMIT", -1)  # so that this run packs, then runs git's commands
    monkeypatch.setattr(reflock, "_TRIES", 2)
    with Store(str(store_dir)) as store:
        store.snapshot(Snapshot("a", "T", "One.", "2024-01-01T00:00:00+00:00"))
        (store_dir / "packed-refs.lock").write_text("", encoding="ascii")  # fresh: a live holder
        result = store.snapshot(Snapshot("a", "T", "Two.", "2024-01-02T00:00:00+00:00"))
        assert result.changed and result.rev == 2
        assert (store_dir / "packed-refs.lock").exists()  # a live holder's lock is not taken away
        assert [r.rev for r in store.log("a")] == [1, 2]


def test_check_names_git_locks_a_killed_process_left(store_dir: Path) -> None:
    """Not damage (exit 0), but plain git refuses to write until they go: check says so, and the next write clears."""
    with Store(str(store_dir)) as store:
        store.snapshot(Snapshot("a", "T", "One.", "2024-01-01T00:00:00+00:00"))
    command = [sys.executable, "-m", "revtrack", "--store", str(store_dir), "check"]
    clean = subprocess.run(command, capture_output=True, text=True)
    assert clean.returncode == 0 and "note:" not in clean.stdout
    lock = store_dir / "HEAD.lock"
    lock.write_text("", encoding="ascii")
    recent = time.time() + 30  # as good as just written, however slow this machine is
    os.utime(lock, (recent, recent))
    fresh = subprocess.run(command, capture_output=True, text=True)
    assert fresh.returncode == 0 and "note:" not in fresh.stdout  # a live git may hold it for a moment
    old = time.time() - 60
    os.utime(lock, (old, old))
    stale = subprocess.run(command, capture_output=True, text=True)
    assert stale.returncode == 0, stale.stderr
    assert "note: git lock files left by a killed process: HEAD.lock" in stale.stdout


@pytest.mark.slow
def test_a_search_whose_queued_words_the_file_system_refuses_is_one_error_line(tmp_path: Path) -> None:
    """A search first moves the queued words into the full-text index; a full disk there is an Error line.

    No part of revtrack catches that SQLite error itself: the CLI reports any
    SQLite refusal (index.refused) as it does an OSError, exit 6, where it was
    a traceback. The words stay queued, and a search with room finds them.
    """
    records = _refusal_records(tmp_path / "records.jsonl", by_time=False)
    built = tmp_path / "built"
    subprocess.run([sys.executable, "-m", "revtrack", "--store", str(built), "import", str(records)], check=True)
    subprocess.run([sys.executable, "-c", _BATCH_OF_TWENTY, str(built)], check=True)  # 20 versions' words queued
    word = f"q{random.Random(4).randrange(99_999)}"  # the first word of the batch's first version (a00)
    complaints = []
    for limit in _FILE_SIZE_LIMITS:
        store = tmp_path / f"store-{limit}"
        shutil.copytree(built, store)
        command = [sys.executable, "-m", "revtrack", "--store", str(store), "search", word]
        refused = subprocess.run(command, capture_output=True, text=True, preexec_fn=_file_size_limit(limit))
        assert "Traceback" not in refused.stderr, refused.stderr
        assert refused.returncode in (0, 6), refused.stderr
        if refused.returncode == 6:
            assert refused.stderr.startswith("Error: ") and refused.stderr.count("\n") == 1, refused.stderr
            complaints.append(_complaint(refused.stderr))
        found = subprocess.run(command, capture_output=True, text=True)
        assert found.returncode == 0 and "a00" in found.stdout, found.stdout
    assert "disk I/O error (SQLite)" in complaints, complaints


@pytest.mark.parametrize(
    ("message", "is_refusal"),
    [
        ("disk I/O error", True),
        ("database or disk is full", True),
        ("unable to open database file", True),
        ("attempt to write a readonly database", True),
        ("file is not a database", False),
        ("database disk image is malformed", False),
        ("no such table: meta", False),
    ],
)
def test_an_sqlite_refusal_is_told_from_a_bad_file_by_its_words_where_python_gives_no_code(
    message: str, is_refusal: bool
) -> None:
    """Python 3.10's sqlite3 errors carry no error name: SQLite's own words tell a full disk from a corrupt file
    (the sweeps above exercise 3.11's names). A refusal keeps the index; a bad file is rebuilt."""
    from revtrack.index import refused

    error = sqlite3.OperationalError(message)
    assert getattr(error, "sqlite_errorname", None) is None  # as 3.10 raises them
    assert refused(error) is is_refusal


_QUEUE_THEN_LIMIT = textwrap.dedent(
    """
    import json, random, resource, shutil, sys
    from revtrack.errors import RevtrackError
    from revtrack.model import Snapshot
    from revtrack.store import Store

    base, rng = sys.argv[1], random.Random(8)
    def text(): return " ".join(f"f{rng.randrange(99_999)}" for _ in range(300))
    # 127 versions' passages queued (headline and body: 254); the next snapshot's two make 256 and flush them.
    with Store(base) as store, store.batch():
        for number in range(127):
            store.snapshot(Snapshot(f"a{number:03d}", "T", text(), "2024-01-01T00:00:00+00:00"))
    outcomes = []
    for limit in [40_000 * 2**power for power in range(8)]:
        copy = f"{base}-{limit}"
        shutil.copytree(base, copy)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))  # soft: raised again below
        try:
            with Store(copy) as store:
                store.snapshot(Snapshot("last", "T", "A last version, with zebra.", "2024-01-02T00:00:00+00:00"))
            outcome = "recorded"
        except (RevtrackError, OSError) as error:  # what the CLI reports as one Error line
            outcome = f"{type(error).__name__}: {error}"
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        with Store(copy) as store:
            outcomes.append([copy, outcome, store.index().pending_words()])
    print(json.dumps(outcomes))
    """
)


@pytest.mark.slow
def test_a_snapshot_whose_flush_of_queued_words_the_disk_refuses_is_recorded_and_the_words_wait(
    tmp_path: Path,
) -> None:
    """The 256th queued passage moves every queued word into the full-text index, after the version is
    recorded. A full disk there (an SQLite error out of `snapshot`, a traceback) now leaves the words queued:
    the snapshot succeeds, and the next search, with room, flushes them and finds the new version."""
    from revtrack.history import search

    ran = subprocess.run(
        [sys.executable, "-c", _QUEUE_THEN_LIMIT, str(tmp_path / "store")], capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    outcomes = json.loads(ran.stdout)
    for copy, outcome, _queued in outcomes:
        assert outcome == "recorded" or " is in git" in outcome, outcome
        with Store(copy) as store:
            assert [hit.article for hit in search(store, "zebra").hits] == ["last"]
            assert store.index().pending_words() == 0
    assert any(outcome == "recorded" and queued == 256 for _, outcome, queued in outcomes), outcomes


@pytest.mark.slow
@pytest.mark.parametrize("command", ["import", "maintain"])
def test_a_git_the_disk_stops_mid_pack_leaves_no_temporary_pack_behind(tmp_path: Path, command: str) -> None:
    """git writes a pack as objects/pack/tmp_pack_*, renamed when done; killed by a full disk's SIGXFSZ it
    left that file behind, as large as what filled the disk. fast-import (an import into a store that has
    versions) and pack-objects (maintain) now take theirs with them."""
    records = _refusal_records(tmp_path / "records.jsonl", by_time=False)
    built = tmp_path / "built"
    subprocess.run([sys.executable, "-m", "revtrack", "--store", str(built), "import", str(records)], check=True)
    more = tmp_path / "more.jsonl"
    rng = random.Random(12)
    more.write_text("".join(
        json.dumps({"article": f"b{number:03d}", "observed_at": "2024-02-01T00:00:00+00:00", "title": "T",
                    "body": " ".join(f"m{rng.randrange(100_000)}" for _ in range(300))}) + "\n"
        for number in range(300)
    ))  # fmt: skip
    stopped = []
    for limit in [40_000 * 2**power for power in range(5)]:
        store = tmp_path / f"store-{limit}"
        shutil.copytree(built, store)
        args = ["import", str(more)] if command == "import" else ["maintain"]
        refused = subprocess.run(
            [sys.executable, "-m", "revtrack", "--store", str(store), *args],
            capture_output=True, text=True, preexec_fn=_file_size_limit(limit),
        )  # fmt: skip
        assert "Traceback" not in refused.stderr, refused.stderr
        stopped.append("killed by signal" in refused.stderr)
        left = [name for name in os.listdir(store / "objects" / "pack") if name.startswith("tmp_")]
        assert left == [], (limit, refused.stderr, left)
        assert fsck(store).returncode == 0
    assert any(stopped), "no limit stopped git mid-pack"


def test_temporary_packs_nothing_wrote_to_for_an_hour_are_removed_by_automatic_maintenance(store_dir: Path) -> None:
    """A killed import leaves its fast-import's tmp_pack_* (SIGKILL gives it no chance to clean up); one that
    no git has written to for an hour is a dead git's, and the automatic maintenance every 100 revisions
    removes it (`revtrack maintain` already did, through `git prune --expire=now`). A fresh one may be a
    plain `git gc` at work beside revtrack, and stays."""
    with Store(str(store_dir)) as store:
        store.snapshot(Snapshot("a", "T", "Body.", "2024-01-01T00:00:00+00:00"))
        pack_dir = store_dir / "objects" / "pack"
        pack_dir.mkdir(exist_ok=True)
        for name in ("tmp_pack_dead01", "tmp_idx_dead02", "tmp_pack_live03"):
            (pack_dir / name).write_bytes(b"PACK")
        for name in ("tmp_pack_dead01", "tmp_idx_dead02"):
            os.utime(pack_dir / name, (time.time() - 3_700, time.time() - 3_700))
        store.maintain(auto=True)
    assert sorted(name for name in os.listdir(pack_dir) if name.startswith("tmp_")) == ["tmp_pack_live03"]
    (pack_dir / "tmp_pack_live03").unlink()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads this process's open files from Linux's /proc")
def test_an_index_it_cannot_use_is_closed_before_the_store_deletes_and_rebuilds_it(tmp_path: Path) -> None:
    """An index of another schema is reported with its connection closed, not left open for the rebuild to delete.

    (Windows refuses to delete an open file; elsewhere the connection kept the old file alive. Python 3.13
    reports such a connection as a ResourceWarning when it is collected.)
    """
    from revtrack.index import Index, IndexCorrupt

    path = tmp_path / "index.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('schema', '4')")
        db.commit()

    def open_here() -> list[str]:
        return [os.readlink(fd) for fd in Path("/proc/self/fd").iterdir() if fd.is_symlink()]

    with pytest.raises(IndexCorrupt) as refused:
        Index(str(path))
    assert "index schema 4" in str(refused.value)
    assert refused.value.__traceback__ is not None  # the frames (and the Index) still held here
    assert str(path) not in open_here()
