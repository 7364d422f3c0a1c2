"""Store formats: new stores fan out three levels of 32 (format 3); stores of formats 1 and 2 keep working."""

from __future__ import annotations

import hashlib
import json
import re
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from revtrack import packfile, record
from revtrack.model import Snapshot
from revtrack.store import Store
from tests.conftest import SEED_ID, SEEDS, Cli, fsck, seed_versions


def _tree(store: Path) -> list[str]:
    listing = subprocess.run(
        ["git", "--git-dir", str(store), "ls-tree", "-r", "--name-only", "main"],
        capture_output=True,
        text=True,
        check=True,
    )
    return listing.stdout.splitlines()


def _old_format_store(cli: Cli, store_format: int) -> None:
    """A store as an older revtrack made it: store.json names the format before the first version."""
    Store(str(cli.store)).ensure()
    (cli.store / "revtrack" / "store.json").write_text(
        json.dumps({"format": store_format, "created_by": "revtrack 0.1"})
    )


def _base32_folders(article_id: str) -> str:
    """Format 3's folders worked out by hand: the first 15 bits of the id's sha1, five bits a folder."""
    bits = bin(int(hashlib.sha1(article_id.encode()).hexdigest()[:4], 16))[2:].zfill(16)
    return "/".join("0123456789abcdefghijklmnopqrstuv"[int(bits[i : i + 5], 2)] for i in (0, 5, 10))


def test_new_stores_fan_files_out_three_levels_of_32(cli: Cli) -> None:
    assert cli("snapshot", "-", "--article", "site/a/b", input="T\n\nBody one.\n").exit_code == 0
    assert json.loads((cli.store / "revtrack" / "store.json").read_text())["format"] == 3
    folders = _base32_folders("site/a/b")
    assert _tree(cli.store) == [f"{folders}/site%2Fa%2Fb.article.txt", f"{folders}/site%2Fa%2Fb.meta.json"]
    shown = json.loads(cli("show", "site/a/b", "--format", "json").stdout)
    assert shown["files"] == {"article.txt": _tree(cli.store)[0], "meta.json": _tree(cli.store)[1]}
    assert cli("check").stdout.splitlines()[1:] == ["store format 3: files at <a>/<b>/<c>/<id>.article.txt"]


def test_no_folder_of_a_new_store_holds_more_than_32_folders(cli: Cli, tmp_path: Path) -> None:
    """2,000 articles: the root fills to 32 folders, no folder has more; each file is where its id says."""
    records = tmp_path / "many.jsonl"
    with records.open("w", encoding="utf-8") as handle:
        for number in range(2000):
            item = {"article": f"desk/{number}", "observed_at": "2024-01-01T10:00:00Z", "title": "T", "body": "B"}
            handle.write(json.dumps(item) + "\n")
    assert cli("import", str(records)).exit_code == 0
    tree = _tree(cli.store)
    assert sorted(tree) == sorted(
        f"{_base32_folders(f'desk/{n}')}/desk%2F{n}.{name}"
        for n in range(2000)
        for name in ("article.txt", "meta.json")
    )
    for depth in (1, 2, 3):
        children: dict[str, set[str]] = {}
        for path in tree:
            parts = path.split("/")
            children.setdefault("/".join(parts[: depth - 1]), set()).add(parts[depth - 1])
        assert max(len(names) for names in children.values()) <= 32, depth
    assert len({path.split("/")[0] for path in tree}) == 32


@pytest.mark.parametrize(
    ("store_format", "layout", "slash"),
    [(1, "articles/[0-9a-f]{2}/[0-9a-f]{2}/ID/", "/"), (2, "[0-9a-f]{2}/[0-9a-f]{2}/ID.", "%2F")],
)
def test_an_older_store_is_read_written_imported_and_rebuilt_in_its_own_layout(
    cli: Cli, store_format: int, layout: str, slash: str
) -> None:
    _old_format_store(cli, store_format)
    first, second, third = seed_versions()
    for version in (first, second):
        result = cli("snapshot", str(version.path), "--article", SEED_ID, "--at", version.observed_at)
        assert result.exit_code == 0, result.output
    assert cli("snapshot", "-", "--article", "site/x", input="T\n\nOther.\n").exit_code == 0
    assert cli("import", str(SEEDS), "--article", SEED_ID).stdout.startswith("imported 1 new versions")
    tree = _tree(cli.store)
    for article in (SEED_ID, "site/x"):
        files = layout.replace("ID", re.escape(article.replace("/", slash))) + r"(article\.txt|meta\.json)"
        assert sum(bool(re.fullmatch(files, name)) for name in tree) == 2, (files, tree)
    assert len(tree) == 4
    log = json.loads(cli("log", SEED_ID, "--format", "json").stdout)
    assert [r["rev"] for r in log["revisions"]] == [1, 2, 3]
    assert "destroyed [-three-]{+two+} such tanks" in cli("diff", SEED_ID, "1", "2").stdout
    assert cli("show", SEED_ID, "3").stdout == third.path.read_text(encoding="utf-8")
    (cli.store / "revtrack" / "index.sqlite").unlink()
    assert json.loads(cli("log", SEED_ID, "--format", "json").stdout) == log
    check = cli("check")
    assert check.exit_code == 0 and "index matches git" in check.stdout
    assert f"\nstore format {store_format}: files at " in check.stdout
    assert "note: new stores use format 3 (<a>/<b>/<c>/<id>.article.txt)" in check.stdout
    assert json.loads((cli.store / "revtrack" / "store.json").read_text())["format"] == store_format


def test_a_store_of_an_unknown_format_is_refused_untouched(cli: Cli) -> None:
    assert cli("snapshot", "-", "--article", "a", input="T\n\nBody.\n").exit_code == 0
    marker = cli.store / "revtrack" / "store.json"
    marker.write_text(json.dumps({"format": 9}))
    before = _tree(cli.store)
    result = cli("snapshot", "-", "--article", "a", input="T\n\nChanged.\n")
    assert result.exit_code == 6
    assert (
        result.stderr == f"Error: {cli.store} has store format 9, which this revtrack does not know; upgrade revtrack\n"
    )
    assert _tree(cli.store) == before


def test_tree_bytes_match_gitpython_and_git_reads_them(cli: Cli) -> None:
    """revtrack writes trees itself (GitPython's writer re-validates every name): same bytes, same order."""
    from io import BytesIO

    from git.objects.fun import tree_to_stream

    from revtrack.gitwrite import BLOB_MODE, TREE_MODE, ObjectWriter

    Store(str(cli.store)).ensure()
    writer = ObjectWriter(str(cli.store))
    blob = writer.blob(b"text\n")
    folder = writer.tree([(blob, BLOB_MODE, "article.txt")])
    entries = [(blob, BLOB_MODE, "site%2Fb.meta.json"), (folder, TREE_MODE, "site"),
               (blob, BLOB_MODE, "site.article.txt"), (blob, BLOB_MODE, "a-b.article.txt")]  # fmt: skip
    tree = writer.tree(entries)
    expected = BytesIO()
    tree_to_stream(sorted(entries, key=lambda e: e[2] + "/" if e[1] == TREE_MODE else e[2]), expected.write)
    assert writer._read(tree) == (b"tree", expected.getvalue())
    listing = subprocess.run(
        ["git", "--git-dir", str(cli.store), "ls-tree", tree.hex()], capture_output=True, text=True, check=True
    ).stdout
    # git's order compares a folder's name as if it ended in "/".
    assert [line.split("\t")[1] for line in listing.splitlines()] == [
        "a-b.article.txt",
        "site%2Fb.meta.json",
        "site.article.txt",
        "site",
    ]
    writer.close()


def test_loose_objects_are_what_git_writes_and_reads(cli: Cli) -> None:
    """revtrack writes loose objects itself: git hashes the same bytes to the same sha and reads them back."""
    import os
    import shutil

    from revtrack.gitwrite import ObjectWriter

    Store(str(cli.store)).ensure()
    writer = ObjectWriter(str(cli.store))
    data = "Erbil, 27 October — “ceasefire”\n".encode() * 500 + bytes(range(256))
    binsha = writer.blob(data)
    hashed = (
        subprocess.run(
            ["git", "--git-dir", str(cli.store), "hash-object", "--stdin"], input=data, capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    assert binsha.hex() == hashed
    path = cli.store / "objects" / hashed[:2] / hashed[2:]
    read = subprocess.run(
        ["git", "--git-dir", str(cli.store), "cat-file", "blob", hashed], capture_output=True, check=True
    )
    assert read.stdout == data
    assert oct(path.stat().st_mode & 0o777) == oct(0o444)  # as git leaves its own objects
    first = path.stat()
    assert writer.blob(data) == binsha  # present already: not written again
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    # git's prune-packed removes empty fan-out folders; the writer makes them again.
    shutil.rmtree(path.parent)
    assert writer.blob(data) == binsha and path.is_file()
    assert not [name for name in os.listdir(cli.store / "objects") if name.startswith("obj")]  # no temporaries left
    fsck = subprocess.run(["git", "--git-dir", str(cli.store), "fsck", "--strict"], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr
    writer.close()


def test_a_killed_writers_half_files_are_removed_by_the_next_writer(cli: Cli) -> None:
    """A writer killed mid-write leaves temporaries: an object's and a batch pack's (git would read a *.idx)."""
    from revtrack.gitwrite import ObjectWriter

    Store(str(cli.store)).ensure()
    pack_dir = cli.store / "objects" / "pack"
    pack_dir.mkdir(parents=True, exist_ok=True)
    leftovers = [
        cli.store / "objects" / "obj999-1",
        pack_dir / "tmp_pack_revtrack_999",
        pack_dir / "tmp_idx_revtrack_999",
    ]
    for path in leftovers:
        path.write_bytes(b"PACK\0\0")
    keep = pack_dir / "tmp_pack_AbC123"  # git's own temporary: git's prune deals with it, not revtrack
    keep.write_bytes(b"x")
    ObjectWriter(str(cli.store)).close()
    assert [path.exists() for path in leftovers] == [False, False, False] and keep.exists()


def test_an_index_transaction_that_raises_keeps_nothing(cli: Cli) -> None:
    import pytest

    from revtrack.index import Index

    assert cli("snapshot", "-", "--article", "a", input="T\n\nBody.\n").exit_code == 0
    index = Index(str(cli.store / "revtrack" / "index.sqlite"))
    tip, rows = index.tip(), index.all_revisions()
    latest = index.latest("a")
    assert latest is not None
    with pytest.raises(RuntimeError), index.transaction("f" * 40):
        index.set_stats("a", 1, 99, 99, "changed inside")
        raise RuntimeError("stop")
    assert (index.tip(), index.all_revisions()) == (tip, rows)
    assert index.latest("a") == latest
    index.close()


def test_tree_parsing_and_patching_agree_with_gitpython(cli: Cli) -> None:
    """Trees are read by revtrack's parser and one entry is replaced by patching the old bytes: same as writing anew."""
    import pytest
    from git.objects.fun import tree_entries_from_data

    from revtrack.errors import StoreDamaged
    from revtrack.gitwrite import BLOB_MODE, TREE_MODE, ObjectWriter, parse_tree, serialize_tree

    Store(str(cli.store)).ensure()
    writer = ObjectWriter(str(cli.store))
    blobs = [writer.blob(f"text {n}\n".encode()) for n in range(4)]
    folder = writer.tree([(blobs[0], BLOB_MODE, "article.txt")])
    entries = [
        (blobs[1], BLOB_MODE, "ä%2Fb.meta.json"), (folder, TREE_MODE, "a"), (blobs[2], BLOB_MODE, "a.article.txt")
    ]  # fmt: skip
    tree = writer.tree(entries)
    data = writer._read(tree)[1]
    assert parse_tree(data) == tree_entries_from_data(data)
    patched = writer.with_entry(tree, (blobs[3], BLOB_MODE, "a.article.txt"))  # replaced in place
    fresh = ObjectWriter(str(cli.store))  # no cache: reads and parses what was written
    assert fresh.read_tree(patched) == parse_tree(writer._read(patched)[1])
    written_anew = [entries[0], entries[1], (blobs[3], BLOB_MODE, "a.article.txt")]
    git_order = sorted(written_anew, key=lambda e: e[2] + "/" if e[1] == TREE_MODE else e[2])
    assert writer._read(patched)[1] == serialize_tree(git_order)
    grown = fresh.with_entry(patched, (folder, TREE_MODE, "b"))  # a new name: written anew, in git's order
    assert [name for _, _, name in fresh.read_tree(grown)] == ["a.article.txt", "a", "b", "ä%2Fb.meta.json"]
    check = subprocess.run(["git", "--git-dir", str(cli.store), "fsck", "--strict"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    with pytest.raises(StoreDamaged):
        parse_tree(data[:-5])
    writer.close()
    fresh.close()


@pytest.mark.parametrize("store_format", [2, 3])
def test_a_new_id_too_long_for_a_file_name_is_refused(cli: Cli, store_format: int) -> None:
    """Each "/" is written "%2F" in formats 2 and 3: 50 two-letter parts make a 259-byte file name.

    git would store it, but a checkout of a clone of the store could not.
    """
    if store_format != 3:
        _old_format_store(cli, store_format)
    long_id, fits = "/".join(["ab"] * 50), "/".join(["ab"] * 49)  # 254 bytes: the longest that fits
    article = cli.store.parent / "a.txt"
    article.write_text("Headline\n\nBody.\n", encoding="utf-8")
    assert cli("snapshot", str(article), "--article", fits).exit_code == 0
    before = _tree(cli.store)
    refused = cli("snapshot", str(article), "--article", long_id)
    assert refused.exit_code == 4 and refused.stderr.startswith("Error: ")
    assert "too long for a file name" in refused.stderr
    assert _tree(cli.store) == before
    assert max(len(path.rsplit("/", 1)[1]) for path in before) == 254


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    url=st.none() | st.text(max_size=20),
    stated=st.dictionaries(st.text(max_size=8), _JSON_VALUES, max_size=4),
    source=st.none() | st.text(max_size=10),
    byline=st.none() | st.text(max_size=10),
)
def test_meta_file_is_the_indented_json_of_the_metadata(url, stated, source, byline) -> None:
    """meta.json's bytes come from a cache keyed by the compact JSON; they must be what indenting gives."""
    snapshot = Snapshot("a", "T", "B", "2020-01-01T00:00:00+00:00", url, stated, source, byline=byline)
    expected = json.dumps(record.meta(snapshot), ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"
    assert record.files(snapshot)["meta.json"] == expected
    assert record.files(snapshot)["meta.json"] == expected  # the second time from the cache


def _git_object_sha(kind: bytes, data: bytes) -> bytes:
    return hashlib.sha1(b"%s %d\0" % (kind, len(data)) + data).digest()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from([b"blob", b"tree", b"commit"]),
            st.binary(max_size=300) | st.binary(min_size=1, max_size=40).map(lambda part: part * 300),
        ),
        min_size=1,
        max_size=12,
        unique_by=lambda item: item,
    )
)
def test_batch_packs_are_what_git_index_pack_derives(tmp_path_factory, objects) -> None:
    """revtrack's pack writer: git reads the pack, and derives exactly revtrack's index from it."""
    folder = tmp_path_factory.mktemp("pack")
    named = [(_git_object_sha(kind, data), kind, data, None) for kind, data in objects]
    with open(folder / "ours.pack", "wb") as pack, open(folder / "ours.idx", "wb") as index:
        pack_sha = packfile.write_pack(named, pack, index)
    assert (folder / "ours.pack").read_bytes()[-20:] == pack_sha
    derived = subprocess.run(["git", "index-pack", "-o", str(folder / "git.idx"), str(folder / "ours.pack")],
                             capture_output=True, text=True)  # fmt: skip
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout.strip() == pack_sha.hex()
    assert (folder / "ours.idx").read_bytes() == (folder / "git.idx").read_bytes()
    listed = subprocess.run(["git", "verify-pack", "-v", str(folder / "ours.idx")], capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    kinds = {line.split()[0]: line.split()[1] for line in listed.stdout.splitlines() if len(line.split()) >= 5}
    assert kinds == {sha.hex(): kind.decode() for sha, kind, _, _ in named}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.binary(min_size=20, max_size=300) | st.binary(min_size=1, max_size=40).map(lambda part: part * 2000),
    patches=st.lists(
        st.tuples(st.floats(min_value=0, max_value=1), st.binary(min_size=20, max_size=20)), min_size=1, max_size=6
    ),
)
def test_patched_objects_go_in_as_deltas_git_resolves(tmp_path_factory, base, patches) -> None:
    """A chain of objects, each the previous with 20 bytes replaced, written as OFS_DELTAs: git rebuilds every one."""
    folder = tmp_path_factory.mktemp("delta")
    subprocess.run(["git", "init", "-q", "--bare", str(folder / "repo.git")], check=True)
    objects, data = [(_git_object_sha(b"tree", base), b"tree", base, None)], base
    for where, replacement in patches:
        offset = int(where * (len(data) - 20))
        target = data[:offset] + replacement + data[offset + 20 :]
        delta = (_git_object_sha(b"tree", data), packfile.patch_delta(len(data), offset, replacement))
        if _git_object_sha(b"tree", target) not in {sha for sha, *_ in objects}:
            objects.append((_git_object_sha(b"tree", target), b"tree", target, delta))
        data = target
    pack_dir = folder / "repo.git" / "objects" / "pack"
    with open(pack_dir / "pack-new.pack", "wb") as pack, open(folder / "ours.idx", "wb") as index:
        packfile.write_pack(objects, pack, index)
    derived = subprocess.run(
        ["git", "index-pack", "-o", str(pack_dir / "pack-new.idx"), str(pack_dir / "pack-new.pack")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert derived.returncode == 0, derived.stderr
    assert (folder / "ours.idx").read_bytes() == (pack_dir / "pack-new.idx").read_bytes()
    verify = ["git", "verify-pack", "-v", str(pack_dir / "pack-new.idx")]
    listed = subprocess.run(verify, capture_output=True, text=True)
    # Delta rows have seven fields: sha, type, size, packed size, offset, depth, base.
    deltas = [line for line in listed.stdout.splitlines() if len(line.split()) == 7]
    assert len(deltas) == len(objects) - 1
    for sha, _, expected, _ in objects:
        shown = subprocess.run(
            ["git", "--git-dir", str(folder / "repo.git"), "cat-file", "tree", sha.hex()], capture_output=True
        )
        assert shown.returncode == 0 and shown.stdout == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.binary(max_size=300),
    old_middle=st.binary(max_size=300),
    new_middle=st.binary(max_size=300),
    end=st.binary(max_size=300) | st.binary(min_size=1, max_size=40).map(lambda part: part * 2000),
)
def test_spliced_objects_go_in_as_deltas_git_resolves(tmp_path_factory, start, old_middle, new_middle, end) -> None:
    """A new version sharing any start and end with the old (either may be empty): git rebuilds it from the delta."""
    source, target = start + old_middle + end, start + new_middle + end
    assume(source != target and target)  # git refuses a delta under 4 bytes; the writer stores such objects whole
    delta = packfile.splice_delta(source, target)
    assert len(delta) <= len(new_middle) + len(new_middle) // 127 + 30  # the common start and end are copied
    folder = tmp_path_factory.mktemp("splice")
    subprocess.run(["git", "init", "-q", "--bare", str(folder / "repo.git")], check=True)
    objects = [
        (_git_object_sha(b"blob", source), b"blob", source, None),
        (_git_object_sha(b"blob", target), b"blob", target, (_git_object_sha(b"blob", source), delta)),
    ]
    pack_dir = folder / "repo.git" / "objects" / "pack"
    with open(pack_dir / "pack-new.pack", "wb") as pack, open(pack_dir / "pack-new.idx", "wb") as index:
        packfile.write_pack(objects, pack, index)
    listed = subprocess.run(
        ["git", "verify-pack", "-v", str(pack_dir / "pack-new.idx")], capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    assert sum(len(line.split()) == 7 for line in listed.stdout.splitlines()) == 1  # stored as a delta
    shown = subprocess.run(
        ["git", "--git-dir", str(folder / "repo.git"), "cat-file", "blob", objects[1][0].hex()], capture_output=True
    )
    assert shown.returncode == 0 and shown.stdout == target


def test_a_batch_writes_every_folder_it_changes_as_a_delta_of_its_previous_version(cli: Cli) -> None:
    """New versions of ten articles and five new articles in one batch: each folder that replaces one, the root
    too, is a delta of the folder it replaces.

    The first version's folders replace folders of a commit before the batch,
    which the batch carries into its pack as bases; a new article's folder
    changes its parent folders by an added entry.
    """
    from revtrack.model import Snapshot

    git = ["git", "--git-dir", str(cli.store)]
    with Store(str(cli.store)) as store:
        for number in range(20):  # a root tree with entries for several shard folders
            store.snapshot(Snapshot(f"a{number}", "T", f"Body {number}.", "2020-01-01T00:00:00+00:00"))
        with store.batch():
            for number in range(10):
                store.snapshot(Snapshot(f"a{number}", "T", f"Body {number}, later.", "2020-01-02T00:00:00+00:00"))
            for number in range(5):
                store.snapshot(Snapshot(f"new{number}", "T", f"New {number}.", "2020-01-02T00:00:00+00:00"))
    packs = sorted((cli.store / "objects" / "pack").glob("*.idx"))
    assert len(packs) == 1
    listed = subprocess.run(["git", "verify-pack", "-v", str(packs[0])], capture_output=True, text=True, check=True)
    # Delta rows have seven fields: sha, type, size, packed size, offset, depth, base.
    bases = {fields[0]: fields[6] for fields in map(str.split, listed.stdout.splitlines()) if len(fields) == 7}
    replaced = {}  # new folder -> the folder it replaced, for each commit of the batch
    for commit in subprocess.run(
        [*git, "rev-list", "-15", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.split():
        roots = subprocess.run([*git, "rev-parse", f"{commit}^^{{tree}}", f"{commit}^{{tree}}"],
                               capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
        replaced[roots[1]] = roots[0]
        changed = subprocess.run([*git, "diff-tree", "-r", "-t", commit], capture_output=True, text=True, check=True)
        for fields in map(str.split, changed.stdout.splitlines()[1:]):
            if fields[1] == "040000" and fields[4] == "M":  # :old-mode new-mode old-sha new-sha status path
                replaced[fields[3]] = fields[2]
    assert len(replaced) >= 10 * 4 + 5  # the root and three levels of folders for each new version; the root at least
    # for each new article
    assert {new: bases.get(new) for new in replaced} == replaced
    assert fsck(cli.store).returncode == 0


def test_a_batch_pack_compresses_as_tightly_as_git_packs(tmp_path: Path) -> None:
    """Joins copy packed objects as they are, so a batch pack's objects must be as small as in git's own packs."""
    text = " ".join(f"paragraph {number % 97} of the story, as the desk rewrote it" for number in range(400)).encode()
    sha = _git_object_sha(b"blob", text)
    with open(tmp_path / "ours.pack", "wb") as pack, open(tmp_path / "ours.idx", "wb") as index:
        packfile.write_pack([(sha, b"blob", text, None)], pack, index)
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "repo.git")], check=True)
    git = ["git", "--git-dir", str(tmp_path / "repo.git")]
    subprocess.run([*git, "hash-object", "-w", "--stdin"], input=text, check=True, capture_output=True)
    packed = subprocess.run([*git, "pack-objects", "-q", str(tmp_path / "git")], input=sha.hex().encode() + b"\n",
                            capture_output=True, check=True).stdout.decode().strip()  # fmt: skip
    assert (tmp_path / "ours.pack").stat().st_size <= (tmp_path / f"git-{packed}.pack").stat().st_size


def test_pack_index_puts_offsets_past_2_gib_in_its_large_table() -> None:
    entries = [(b"\x01" * 20, 7, 12), (b"\x02" * 20, 8, 0x80000000 + 5)]
    data = packfile._index_bytes(entries, b"\x00" * 20)
    offsets_at = 8 + 256 * 4 + 2 * 20 + 2 * 4
    # The second offset is a reference to entry 0 of the large table.
    assert struct.unpack(">II", data[offsets_at : offsets_at + 8]) == (12, 0x80000000)
    assert struct.unpack(">Q", data[offsets_at + 8 : offsets_at + 16]) == (0x80000000 + 5,)
    assert data[-20:] == hashlib.sha1(data[:-20]).digest()


def test_object_headers_carry_type_and_size() -> None:
    assert packfile.object_header(packfile.TYPE_CODES[b"blob"], 5) == bytes([0x35])
    assert packfile.object_header(packfile.TYPE_CODES[b"commit"], 16) == bytes([0x90, 0x01])
    assert packfile.object_header(packfile.TYPE_CODES[b"tree"], 1_000_000) == bytes([0xA0, 0xA4, 0xE8, 0x03])
