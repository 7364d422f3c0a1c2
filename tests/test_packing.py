"""Packing: every later version of an article is stored as a delta, whatever git's name hash makes of its path.

The articles here are named so that git's own name hash puts all of them in
one group (every path ends in "%2Flive.article.txt"); their versions grow by a
paragraph each, so sorted by size they sit far apart. ``git repack -a -d -f
--window=50`` stores 178 of these 180 text blobs whole (git 2.39); revtrack's
packing must store only the 60 first versions whole.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from revtrack import packfile, packing
from revtrack.model import Snapshot
from revtrack.store import Store
from tests.conftest import fsck

ARTICLES = 60


def _paragraph(rng: random.Random, words: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(words))


def _versions(seed: int) -> list[Snapshot]:
    """Three versions of each article, in the order a collector would see them."""
    rng = random.Random(seed)
    bodies = {f"desk-{n}/live": [_paragraph(rng, rng.randint(300, 340))] for n in range(ARTICLES)}
    snapshots = []
    for version in range(3):
        for article, paragraphs in bodies.items():
            observed = f"2024-01-0{version + 1}T10:00:00Z"
            snapshots.append(Snapshot(article, f"Live: {article}", "\n\n".join(paragraphs), observed))
            paragraphs.append(_paragraph(rng, 70))  # the next version gains a paragraph
    return snapshots


def _whole_text_blobs(store: Path) -> tuple[int, int]:
    """(whole, total) article-text blobs in the store's packs."""
    git = ["git", "--git-dir", str(store)]
    listed = subprocess.run([*git, "rev-list", "--objects", "--all"], capture_output=True, text=True, check=True)
    texts = {line.split(" ", 1)[0] for line in listed.stdout.splitlines() if line.endswith(".article.txt")}
    (index,) = (store / "objects" / "pack").glob("pack-*.idx")
    verified = subprocess.run([*git, "verify-pack", "-v", str(index)], capture_output=True, text=True, check=True)
    whole = total = 0
    for line in verified.stdout.splitlines():
        fields = line.split()
        if fields and fields[0] in texts:
            total += 1
            whole += len(fields) < 7  # a delta's line also names its depth and base
    return whole, total


def test_snapshotted_versions_pack_as_deltas_of_their_article(tmp_path: Path) -> None:
    store_path = tmp_path / "store"
    with Store(str(store_path)) as store:
        for snapshot in _versions(seed=1):
            store.snapshot(snapshot)
        store.maintain()
    assert _whole_text_blobs(store_path) == (ARTICLES, 3 * ARTICLES)
    assert len(packing.packs(str(store_path))) == 1
    assert not list((store_path / "objects").glob("[0-9a-f][0-9a-f]/*")), "loose copies of packed objects remain"
    assert fsck(store_path).returncode == 0
    with Store(str(store_path)) as store:
        assert [r.rev for r in store.log("desk-7/live")] == [1, 2, 3]
        assert store.text(store.revision("desk-7/live", "3")).body.count("\n\n") == 2


def test_maintain_mends_a_store_packed_by_git(tmp_path: Path) -> None:
    store_path = tmp_path / "store"
    with Store(str(store_path)) as store:
        for snapshot in _versions(seed=4):
            store.snapshot(snapshot)
    git_repack = ["git", "--git-dir", str(store_path), "repack", "-a", "-d", "-f", "-q", "--window=50", "--depth=50"]
    subprocess.run(git_repack, check=True)
    whole_by_git, _ = _whole_text_blobs(store_path)
    with Store(str(store_path)) as store:
        store.maintain()
    assert _whole_text_blobs(store_path) == (ARTICLES, 3 * ARTICLES) and whole_by_git > 2 * ARTICLES
    assert fsck(store_path).returncode == 0


def _stored(store: Path) -> dict[str, tuple[str, str | None]]:
    """Every packed object: its type, and the object it is stored as a delta of (None: stored whole)."""
    stored: dict[str, tuple[str, str | None]] = {}
    for index in (store / "objects" / "pack").glob("pack-*.idx"):
        verify = ["git", "--git-dir", str(store), "verify-pack", "-v", str(index)]
        for line in subprocess.run(verify, capture_output=True, text=True, check=True).stdout.splitlines():
            fields = line.split()
            if len(fields) in (5, 7) and fields[1] in ("blob", "tree", "commit"):
                stored[fields[0]] = (fields[1], fields[6] if len(fields) == 7 else None)
    return stored


def test_a_full_pack_searches_files_again_and_keeps_the_folders_deltas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fast-import deltas each file against the one written before it (here another
    # article's) and each folder against its own previous version; git's search
    # would leave most of these small folders whole.
    from revtrack.importer import import_snapshots

    store_path = tmp_path / "store"
    with monkeypatch.context() as patch, Store(str(store_path)) as store:
        patch.setattr(Store, "maintain", lambda self, auto=False: False)
        import_snapshots(store, _versions(seed=5))
    imported = _stored(store_path)
    folder_deltas = {sha: base for sha, (kind, base) in imported.items() if kind == "tree" and base}
    with Store(str(store_path)) as store:
        store.maintain()
    packed = _stored(store_path)
    assert _whole_text_blobs(store_path) == (ARTICLES, 3 * ARTICLES)
    assert len(folder_deltas) > ARTICLES
    assert {sha: packed[sha][1] for sha in folder_deltas} == folder_deltas
    assert len(packing.packs(str(store_path))) == 1 and packed.keys() == imported.keys()
    assert not list((store_path / "objects").glob("[0-9a-f][0-9a-f]/*"))
    assert fsck(store_path).returncode == 0


def test_loose_objects_pack_into_new_packs_beside_the_old(tmp_path: Path) -> None:
    store_path = tmp_path / "store"
    snapshots = _versions(seed=2)
    with Store(str(store_path)) as store:
        for snapshot in snapshots[:ARTICLES]:
            store.snapshot(snapshot)
        store.maintain()
        (first_pack,) = packing.packs(str(store_path))
        for snapshot in snapshots[ARTICLES:]:
            store.snapshot(snapshot)
        packing.pack_loose(str(store_path))
    # One pack for the folders, one for the files and commits.
    assert first_pack in packing.packs(str(store_path)) and len(packing.packs(str(store_path))) == 3
    assert not list((store_path / "objects").glob("[0-9a-f][0-9a-f]/*"))
    assert fsck(store_path).returncode == 0
    # Joining the packs keeps their deltas and finds bases for the whole versions of the new pack.
    packing.pack_all(str(store_path), recompute=False)
    assert _whole_text_blobs(store_path) == (ARTICLES, 3 * ARTICLES)
    assert fsck(store_path).returncode == 0


@pytest.mark.parametrize("searched", [False, True])
def test_a_full_pack_keeps_no_list_of_every_object_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, searched: bool
) -> None:
    """The object lists go through files; memory holds the blobs' set and the texts' names and bases only.

    1,000 articles x 3 versions (~18,000 objects), maintained after their
    import, with the texts' deltas kept or searched: Python's peak stays under
    2 MB (~1.0 MB measured, 4.0 MB when the lists were read into memory;
    at 30,000 versions 10 against 103 MB).
    """
    import io
    import json
    import tracemalloc

    from revtrack.importer import import_snapshots, jsonl_snapshots

    monkeypatch.setattr(packing, "SEARCH_TEXTS_BELOW", 10**9 if searched else 90)
    records = []
    for article in range(1_000):
        words = [f"a{article}w{number}" for number in range(300)]
        for version in range(3):
            words[version * 7] = f"edit{version}"
            records.append({"article": f"story-{article}", "observed_at": f"2024-01-0{1 + version}T00:00:00Z",
                            "title": f"Story {article}", "body": " ".join(words)})  # fmt: skip
    store_path = tmp_path / "store"
    with Store(str(store_path)) as store:
        import_snapshots(store, jsonl_snapshots(io.StringIO("".join(json.dumps(r) + "\n" for r in records))))
        tracemalloc.start()
        try:
            assert store.maintain() is searched
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 2 << 20, peak
    assert fsck(store_path).returncode == 0


def test_a_full_pack_removes_the_folder_a_killed_one_left_and_its_own(tmp_path: Path) -> None:
    """The object lists' scratch folder in the store goes when the pack is done, and so does a killed run's."""
    store_path = tmp_path / "store"
    with Store(str(store_path)) as store:
        for snapshot in _versions(3):
            store.snapshot(snapshot)
        left = store_path / "revtrack-pack-k1ll3d"
        left.mkdir()
        (left / "objects").write_bytes(b"0" * 40 + b"\n")
        store.maintain()
    assert not [path.name for path in store_path.iterdir() if path.name.startswith("revtrack-pack-")]
    assert fsck(store_path).returncode == 0


def _folder_replacements(store: Path) -> dict[str, str]:
    """New folder -> the folder it replaced, for every commit (the root tree against the parent's)."""
    git = ["git", "--git-dir", str(store)]
    logged = subprocess.run([*git, "log", "--format=%H %T %P"], capture_output=True, text=True, check=True).stdout
    commits = [line.split() for line in logged.splitlines()]
    roots = {commit: tree for commit, tree, *_ in commits}
    replaced = {tree: roots[parents[0]] for _, tree, *parents in commits if parents}
    for commit, *_ in commits:
        changed = subprocess.run([*git, "diff-tree", "-r", "-t", commit], capture_output=True, text=True, check=True)
        for fields in map(str.split, changed.stdout.splitlines()[1:]):
            if fields[:2] == [":040000", "040000"] and fields[4] == "M":
                replaced[fields[3]] = fields[2]
    return replaced


def test_loose_folders_pack_as_deltas_of_the_versions_they_replaced(tmp_path: Path) -> None:
    # git's own search stores most of these ~100-byte folders whole.
    store_path = tmp_path / "store"
    with Store(str(store_path)) as store:
        # 24 articles, two versions each: 48 root trees, a chain of deltas within git's depth of 50.
        for snapshot in _versions(seed=8)[:24] + _versions(seed=9)[:24]:
            store.snapshot(snapshot)
        loose_before = {path.parent.name + path.name for path in (store_path / "objects").glob("[0-9a-f][0-9a-f]/*")}
        packing.pack_loose(str(store_path))
    replaced = _folder_replacements(store_path)
    assert len(replaced) >= 47 * 2  # the root and at least one more folder for each commit after the first
    stored = _stored(store_path)
    assert {new: stored[new][1] for new in replaced} == replaced
    assert loose_before == set(stored) and not list((store_path / "objects").glob("[0-9a-f][0-9a-f]/*"))
    # Two packs, the folders' and the rest, with no object in both.
    held = [packing._pack_objects(str(path)) for path in (store_path / "objects" / "pack").glob("*.pack")]
    assert len(held) == 2 and not held[0] & held[1] and {sha.decode() for sha in held[0] | held[1]} == loose_before
    assert fsck(store_path).returncode == 0


def test_a_folder_pack_that_fails_its_check_is_removed_and_nothing_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_path = tmp_path / "store"
    with Store(str(store_path)) as store:
        for snapshot in _versions(seed=10)[:30] + _versions(seed=11)[:30]:
            store.snapshot(snapshot)
        loose_before = {path.parent.name + path.name for path in (store_path / "objects").glob("[0-9a-f][0-9a-f]/*")}

        right = packfile.splice_delta

        def wrong(source: bytes, target: bytes) -> bytes:  # a delta that rebuilds something else
            return right(source, target[:-1] + bytes([target[-1] ^ 1]))

        monkeypatch.setattr(packfile, "splice_delta", wrong)
        packing.pack_loose(str(store_path))
    stored = _stored(store_path)
    assert len(packing.packs(str(store_path))) == 1  # the folders went with everything else, through pack-objects
    assert loose_before == set(stored) and all(base is None or stored[base] for _, base in stored.values())
    assert not list((store_path / "objects").glob("[0-9a-f][0-9a-f]/*"))
    assert fsck(store_path).returncode == 0
    with Store(str(store_path)) as store:
        assert [r.rev for r in store.log("desk-3/live")] == [1, 2]


def test_a_full_pack_packs_loose_folders_as_deltas_of_the_versions_they_replaced(tmp_path: Path) -> None:
    # Single snapshots leave their folders loose; maintain packs them the way pack_loose does, not by git's search.
    store_path = tmp_path / "store"
    with Store(str(store_path)) as store:
        for snapshot in _versions(seed=12)[:24] + _versions(seed=13)[:24]:  # 48 root trees: one chain of deltas
            store.snapshot(snapshot)
        assert list((store_path / "objects").glob("[0-9a-f][0-9a-f]/*")), "nothing loose to pack"
        store.maintain()
    replaced = _folder_replacements(store_path)
    stored = _stored(store_path)
    assert len(replaced) >= 47 * 2 and {new: stored[new][1] for new in replaced} == replaced
    assert len(packing.packs(str(store_path))) == 1 and fsck(store_path).returncode == 0


def test_a_kept_pack_is_left_alone(tmp_path: Path) -> None:
    store_path = tmp_path / "store"
    with Store(str(store_path)) as store:
        for snapshot in _versions(seed=3)[:5]:
            store.snapshot(snapshot)
        store.maintain()
        (kept,) = packing.packs(str(store_path))
        (store_path / "objects" / "pack" / kept.replace(".pack", ".keep")).write_text("archive\n")
        for snapshot in _versions(seed=3)[5:10]:
            store.snapshot(snapshot)
        store.maintain()
    assert kept in packing.packs(str(store_path)) and len(packing.packs(str(store_path))) == 2
    assert fsck(store_path).returncode == 0


def test_pack_names_keep_one_file_together_and_kinds_apart() -> None:
    name = packing.pack_name(b"ab/cd/desk-1%2Flive.article.txt")
    assert name == packing.pack_name(b"ab/cd/desk-1%2Flive.article.txt") and len(name) == 16
    assert name != packing.pack_name(b"ab/cd/desk-2%2Flive.article.txt")
    assert name.endswith(b"t") and packing.pack_name(b"ab/cd/desk-1%2Flive.meta.json").endswith(b"n")


def test_automatic_maintenance_packs_loose_objects_then_joins_packs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every 100 revisions: loose objects past the limit go into a new pack, and packs past their limit are
    joined: the recent ones among themselves, or everything once they hold half as much as the last full pack."""
    from revtrack import store as store_module

    store_path = tmp_path / "store"
    snapshots = _versions(seed=5)
    monkeypatch.setattr(store_module, "_LOOSE_LIMIT", -1)  # always "too many loose objects"
    monkeypatch.setattr(store_module, "_PACK_LIMIT", 1)  # so a second pack is always joined
    with Store(str(store_path)) as store:
        for round_number in range(3):
            for snapshot in snapshots[round_number * ARTICLES : (round_number + 1) * ARTICLES]:
                store.snapshot(snapshot)
            store.maintain(auto=True)
            assert not list((store_path / "objects").glob("[0-9a-f][0-9a-f]/*")), "loose objects left after packing"
            pack_dir = store_path / "objects" / "pack"
            counts = sorted(packing._object_count(str(pack_dir / name)) for name in packing.packs(str(store_path)))
            # Past the limit, the recent packs are joined until they double at each step, and all of them
            # once they hold half as much as the full pack (pack_loose writes two: folders, then the rest).
            recent = counts[:-1]
            assert packing.geometric_split(recent) < 2 and 2 * sum(recent) < counts[-1], f"packs not joined: {counts}"
        # Each automatic run added a commit-graph layer for the new commits only; git reads the chain.
        chain = (store_path / "objects" / "info" / "commit-graphs" / "commit-graph-chain").read_text().split()
        assert chain
        verify = subprocess.run(["git", "--git-dir", str(store_path), "commit-graph", "verify"], capture_output=True)
        assert verify.returncode == 0, verify.stderr
        store.maintain()
    assert _whole_text_blobs(store_path) == (ARTICLES, 3 * ARTICLES)
    assert fsck(store_path).returncode == 0


def _batch_of(store: Store, snapshots: list[Snapshot]) -> None:
    with store.batch():
        for snapshot in snapshots:
            store.snapshot(snapshot)


def test_geometric_split_joins_the_small_packs_until_the_rest_double() -> None:
    assert packing.geometric_split([]) == 0
    assert packing.geometric_split([4, 16, 64]) == 0  # already a doubling series
    assert packing.geometric_split([5, 5, 5]) == 3
    assert packing.geometric_split([5, 5, 100, 1000]) == 2
    assert packing.geometric_split([1, 10, 12, 500]) == 3  # 12 < 2 × 11


def test_recent_packs_are_joined_without_touching_the_full_pack(tmp_path: Path) -> None:
    """Batches write one pack each; joining them leaves the last full pack as it is, loses nothing, and names
    the files so that the versions of one article in the joined packs become deltas of each other."""
    store_path = tmp_path / "store"
    snapshots = _versions(seed=6)
    second, third = snapshots[ARTICLES : 2 * ARTICLES], snapshots[2 * ARTICLES :]
    with Store(str(store_path)) as store:
        for snapshot in snapshots[:ARTICLES]:
            store.snapshot(snapshot)
        store.maintain()
        (full,) = packing.packs(str(store_path))
        for batch in (second[:4], second[4:8], third[:4], third[4:8]):  # articles 0-7, versions 2 and 3
            _batch_of(store, batch)
        pack_dir = store_path / "objects" / "pack"
        counts = sorted(packing._object_count(str(pack_dir / name)) for name in packing.packs(str(store_path)))
        # Below half the full pack's objects (each batch also carries the folders its versions replace).
        assert 2 * sum(counts[:-1]) < counts[-1]
        # A pack whose objects nothing reaches (a batch killed before the branch moved).
        writer = store.writer()
        writer.hold()
        orphan = writer.blob(b"never recorded\n").hex()
        writer.write_held()
        writer.stop_holding()
        assert len(packing.packs(str(store_path))) == 6
        packing.join_recent(str(store_path))
        after = packing.packs(str(store_path))
        assert full in after and len(after) == 2

        def present(sha: str) -> bool:
            found = subprocess.run(["git", "--git-dir", str(store_path), "cat-file", "-e", sha], capture_output=True)
            return found.returncode == 0

        assert present(orphan)  # joining keeps every object; the next full pack drops what nothing reaches
        for version, batch in ((2, second[:8]), (3, third[:8])):
            for snapshot in batch:
                assert store.text(store.revision(snapshot.article, str(version))).body == snapshot.body
        assert fsck(store_path).returncode == 0
        (joined,) = after - {full}
        listed = subprocess.run(["git", "--git-dir", str(store_path), "verify-pack", "-v",
                                 str(pack_dir / joined.replace(".pack", ".idx"))],
                                capture_output=True, text=True, check=True).stdout  # fmt: skip
        deltas = {line.split()[0] for line in listed.splitlines() if len(line.split()) >= 7}

        def text_blob(article: str, rev: str) -> str:
            revision = store.revision(article, rev)
            spec = f"{revision.commit}:{revision.path}.article.txt"
            return subprocess.run(["git", "--git-dir", str(store_path), "rev-parse", spec],
                                  capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip

        # git keeps the larger (newer) version whole and stores the older as its delta.
        paired = [s.article for s in third[:8] if {text_blob(s.article, "2"), text_blob(s.article, "3")} & deltas]
        assert len(paired) >= 7, "the two versions of an article were not stored as deltas of each other"
        packing.pack_all(str(store_path), recompute=False)
        assert not present(orphan)
    assert fsck(store_path).returncode == 0


def test_join_recent_makes_one_pack_when_no_pack_stands_out(tmp_path: Path) -> None:
    """Two packs of one size: the recent one holds as much as the largest, so everything becomes one pack."""
    store_path = tmp_path / "store"
    with Store(str(store_path)) as store:
        _batch_of(store, _versions(seed=7)[:10])
        _batch_of(store, _versions(seed=7)[10:20])
    assert len(packing.packs(str(store_path))) == 2
    packing.join_recent(str(store_path))
    assert len(packing.packs(str(store_path))) == 1
    assert fsck(store_path).returncode == 0


def test_a_pack_without_its_index_is_ignored_then_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer killed between renaming a pack and its index (or deleting them) leaves a .pack alone: git ignores
    it, maintenance must not trip over it (found by the batched kill test), and the next full pack removes it."""
    from revtrack import store as store_module

    store_path = tmp_path / "store"
    monkeypatch.setattr(store_module, "_PACK_LIMIT", 1)
    snapshots = _versions(seed=8)
    with Store(str(store_path)) as store:
        _batch_of(store, snapshots[:ARTICLES])
        store.maintain()
        pack_dir = store_path / "objects" / "pack"
        (full,) = packing.packs(str(store_path))
        dangling = pack_dir / ("pack-" + "d" * 40 + ".pack")
        dangling.write_bytes((pack_dir / full).read_bytes())
        assert packing.packs(str(store_path)) == {full}
        for start in (ARTICLES, ARTICLES + 3, ARTICLES + 6):
            _batch_of(store, snapshots[start : start + 3])
        store.maintain(auto=True)  # joins the recent packs; the dangling one is not among them
        assert dangling.exists() and full in packing.packs(str(store_path))
        store.maintain()
        assert not dangling.exists() and len(packing.packs(str(store_path))) == 1
    assert fsck(store_path).returncode == 0


def test_failed_automatic_maintenance_does_not_fail_the_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from revtrack import store as store_module
    from revtrack.errors import StoreDamaged

    def broken(git_dir: str) -> None:
        raise StoreDamaged("git pack-objects failed: No space left on device")

    monkeypatch.setattr(store_module, "_MAINTENANCE_EVERY", 2)
    monkeypatch.setattr(store_module, "_PACK_LIMIT", 0)
    monkeypatch.setattr(packing, "join_recent", broken)
    store_path = tmp_path / "store"
    with Store(str(store_path)) as store:
        _batch_of(store, _versions(seed=9)[:3])  # a pack, and the maintenance after it fails
        result = store.snapshot(_versions(seed=9)[3])  # loose objects; maintenance fails again
        assert result.changed and result.rev == 1
        assert len(store.articles()) == 4
    assert fsck(store_path).returncode == 0
