"""Store.batch: many versions as one write, each still its own commit, nothing lost on error or kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revtrack.errors import StoreError
from revtrack.model import Snapshot
from revtrack.store import Store
from tests.conftest import fsck


def version(article: str, number: int, text: str | None = None) -> Snapshot:
    body = text if text is not None else f"Paragraph one of {article}.\n\nThe toll stands at {number}."
    observed = f"2024-03-{1 + number // 24:02d}T{number % 24:02d}:00:00+00:00"
    return Snapshot(article, f"Headline of {article}", body, observed)


def branch_log(store: Path) -> list[str]:
    return subprocess.run(
        ["git", "--git-dir", str(store), "log", "--reverse", "--format=%s"], capture_output=True, text=True, check=True
    ).stdout.splitlines()


def commit_without_committer(store: Path, commit: str) -> list[str]:
    text = subprocess.run(
        ["git", "--git-dir", str(store), "cat-file", "commit", commit], capture_output=True, text=True, check=True
    ).stdout
    return [line for line in text.splitlines() if not line.startswith(("committer ", "parent "))]


def reflog(store: Path) -> list[str]:
    return (store / "logs" / "refs" / "heads" / "main").read_text().splitlines()


def test_a_batch_records_each_version_as_its_own_commit_and_moves_the_branch_once(store_dir: Path) -> None:
    snapshots = [version(article, n) for n, article in enumerate(["a", "b", "a", "c", "a"])]
    with Store(str(store_dir)) as store:
        store.snapshot(version("z", 0))
        with store.batch():
            results = [store.snapshot(s) for s in snapshots]
            # Inside the batch the writer sees its own versions, texts included.
            assert [r.rev for r in store.log("a")] == [1, 2, 3]
            assert store.text(store.revision("a", "2")).body == snapshots[2].body
        assert [(r.article, r.rev, r.changed) for r in results] == [
            ("a", 1, True),
            ("b", 1, True),
            ("a", 2, True),
            ("c", 1, True),
            ("a", 3, True),
        ]
        assert store.index().tip() == results[-1].commit
    assert len(branch_log(store_dir)) == 6
    assert [line.split("\t")[1] for line in reflog(store_dir)] == [
        "revtrack snapshot: z rev 1",
        "revtrack snapshot: 5 versions in one batch",
    ]
    with Store(str(store_dir)) as reader:
        assert [reader.text(r).body for r in reader.log("a")] == [snapshots[i].body for i in (0, 2, 4)]
        assert [r.commit for r in reader.log("a")] == [results[i].commit for i in (0, 2, 4)]
    assert fsck(store_dir).returncode == 0


def test_other_processes_see_the_store_as_it_was_until_the_batch_ends(store_dir: Path) -> None:
    reader_script = textwrap.dedent(
        """
        import sys
        from revtrack.store import Store
        print(len(Store(sys.argv[1]).log("a")))
        """
    )

    def revisions_seen_elsewhere() -> int:
        out = subprocess.run([sys.executable, "-c", reader_script, str(store_dir)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return int(out.stdout)

    with Store(str(store_dir)) as store:
        store.snapshot(version("a", 0))
        with store.batch():
            store.snapshot(version("a", 1))
            store.snapshot(version("a", 2))
            assert revisions_seen_elsewhere() == 1
        assert revisions_seen_elsewhere() == 3


def test_an_error_inside_a_batch_keeps_the_versions_recorded_before_it(store_dir: Path) -> None:
    with Store(str(store_dir)) as store:
        with pytest.raises(RuntimeError, match="fetch failed"), store.batch():
            store.snapshot(version("a", 0))
            store.snapshot(version("b", 1))
            raise RuntimeError("fetch failed")
        assert [a.article for a in store.articles()] == ["a", "b"]
        assert store.snapshot(version("a", 2)).rev == 2
    assert len(branch_log(store_dir)) == 3
    assert fsck(store_dir).returncode == 0


def test_batches_do_not_nest_and_maintenance_waits_for_the_batch(store_dir: Path) -> None:
    with Store(str(store_dir)) as store, store.batch():
        store.snapshot(version("a", 0))
        with pytest.raises(StoreError, match="already open"), store.batch():
            pass
        with pytest.raises(StoreError, match="cannot be maintained"):
            store.maintain()
    with Store(str(store_dir)) as store:
        assert [r.rev for r in store.log("a")] == [1]


KILLED_BATCH = textwrap.dedent(
    """
    import sys
    from revtrack.model import Snapshot
    from revtrack.store import Store

    store = Store(sys.argv[1])
    with store.batch():
        for n in range(3):
            store.snapshot(Snapshot("a", "T", f"Batch version {n}.", f"2024-02-0{n + 1}T00:00:00+00:00"))
    print("finished", flush=True)
    """
)


@pytest.mark.parametrize(
    ("point", "kept"),
    [("after-blobs", 1), ("batch-before-ref", 1), ("batch-after-ref", 4)],
)
def test_a_batch_killed_at_each_step_keeps_all_or_none_of_it(store_dir: Path, point: str, kept: int) -> None:
    """Killed before the branch moves: the store is as it was. After: every version of the batch is there."""
    with Store(str(store_dir)) as store:
        store.snapshot(Snapshot("a", "T", "Version one.", "2024-01-01T00:00:00+00:00"))
    env = {**os.environ, "REVTRACK_CRASH_AT": point}
    command = [sys.executable, "-c", KILLED_BATCH, str(store_dir)]
    crashed = subprocess.run(command, capture_output=True, text=True, env=env)
    assert crashed.returncode == -signal.SIGKILL and crashed.stdout == ""
    with Store(str(store_dir)) as store:
        revisions = store.log("a")
        assert [r.rev for r in revisions] == list(range(1, kept + 1))
        assert [store.text(r).body for r in revisions][1:] == [f"Batch version {n}." for n in range(kept - 1)]
        assert store.snapshot(Snapshot("a", "T", "After.", "2024-03-01T00:00:00+00:00")).rev == kept + 1
    assert fsck(store_dir).returncode == 0


ARTICLES = st.sampled_from(["a", "b", "site/c"])
TEXTS = st.sampled_from(["One.", "Two.", "One.\n\nTwo.", "Two.\n\nOne.", "Three  words  here."])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.tuples(ARTICLES, TEXTS), min_size=1, max_size=12), cut=st.integers(0, 12))
def test_a_batch_records_exactly_what_single_snapshots_record(
    tmp_path_factory: pytest.TempPathFactory, records: list[tuple[str, str]], cut: int
) -> None:
    """Any run of versions (repeats and unchanged texts included), split anywhere into a batch: same history."""
    snapshots = [version(article, n, text) for n, (article, text) in enumerate(records)]
    folder = tmp_path_factory.mktemp("batch")
    single, batched = folder / "single", folder / "batched"
    with Store(str(single)) as store:
        single_results = [store.snapshot(s) for s in snapshots]
    with Store(str(batched)) as store:
        batched_results = [store.snapshot(s) for s in snapshots[:cut]]
        with store.batch():
            batched_results += [store.snapshot(s) for s in snapshots[cut:]]
    assert [(r.article, r.rev, r.changed) for r in batched_results] == [
        (r.article, r.rev, r.changed) for r in single_results
    ]
    # The same commits but for the time of writing: same trees, author dates and messages.
    assert [commit_without_committer(batched, r.commit) for r in batched_results] == [
        commit_without_committer(single, r.commit) for r in single_results
    ]
    with Store(str(single)) as one, Store(str(batched)) as other:
        for article in {a for a, _ in records}:
            assert [(r.rev, r.observed_at, r.fingerprint, r.words_added, r.summary) for r in one.log(article)] == [
                (r.rev, r.observed_at, r.fingerprint, r.words_added, r.summary) for r in other.log(article)
            ]
            assert [other.text(r) for r in other.log(article)] == [one.text(r) for r in one.log(article)]
    assert fsck(batched).returncode == 0
