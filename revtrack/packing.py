"""Packing the store so that each version of an article is stored as a delta of another.

git chooses delta bases from a window of objects sorted by a "name hash" that
is built from the last sixteen characters of each file's path (so that
``*.c`` files sit together). Every revtrack article file ends in the same
``.article.txt`` (store format 2) or is called ``article.txt`` (format 1), so
the name hashes of 10,000 articles fall into a few dozen groups. Sorted by size
inside a group, the versions of one article end up hundreds of places apart,
outside git's window: in a 10,000-article store (3 versions each) repacked by
``git repack -a -d -f --window=50``, 16,219 of 29,494 text blobs were stored
whole, where about 10,000 should be.

So revtrack lists the objects itself and gives ``git pack-objects`` a name for
each file that is the same for every version of that file, differs between
files, and ends in the file's last character (``.txt``, ``.json``, ``.html``
keep their own groups). The same store then packs with 9,982 whole blobs and
takes 37 MB instead of 48 MB. Everything else (delta search, compression, the
pack format) is git's own.

Between full packs, new objects arrive loose (single snapshots) or as one
small pack per batch (:meth:`revtrack.store.Store.batch`). Joining all packs
whenever there are many would rewrite the whole store each time, so
:func:`join_recent` joins only the small recent packs, the way git's
``repack --geometric=2`` does, and everything only once the recent packs
together hold half as many objects as the last full pack (the largest):
each object is rewritten a bounded number of times, whatever the size of
the store.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO, Final

from revtrack import packfile
from revtrack.errors import StoreDamaged
from revtrack.gitread import cat_objects, ended, git

# Objects tried as delta bases for each one: git's default. With revtrack's
# names an article's versions sit next to each other, so a wider window only
# finds bases in other articles, and only in a small store, where it spans a
# good part of all of them. Full repack of 30,000 versions of 10,000 news
# articles: 14.5-15.0 s at window 50, 6.4-9.0 s at 10, 39.60 against 39.61 MB.
# 250 Wikipedia pages (2 versions each): 2.29 MB at 50, 2.44 MB at 10 alone;
# imported among those 10,000 articles they add 2.53 MB at 50, 2.54 MB at 10.
WINDOW: Final = 10
DEPTH: Final = 50  # longest delta chain (git's default)


def pack_name(path: bytes) -> bytes:
    """The name pack-objects sorts ``path``'s versions by: 15 hex digits of its hash, then its last character.

    Only the last sixteen characters of a name count in git's hash, the last
    most, so the file kind decides the group and the digest the order within it.
    """
    return hashlib.sha1(path).hexdigest()[:15].encode() + path[-1:]


def object_list(git_dir: str, only_loose: bool = False) -> bytes:
    """Every object reachable from a ref or a reflog (or only the loose ones), as pack-objects reads them.

    Files and folders carry their :func:`pack_name`; the root tree and the
    commits have no path, and git names them nothing either.
    """
    listed = git(git_dir, "rev-list", "--objects", "--all", "--reflog", *(["--unpacked"] if only_loose else []))
    return b"".join(_named(io.BytesIO(listed)))


def _named(listed: Iterable[bytes]) -> Iterator[bytes]:
    """``rev-list --objects`` lines (``sha path``, or a bare sha) with each path as its :func:`pack_name`."""
    for line in listed:
        sha, _, path = line.rstrip(b"\n").partition(b" ")
        yield sha + b" " + pack_name(path) + b"\n" if path else sha + b"\n"


def named_objects(git_dir: str, shas: set[bytes]) -> bytes:
    """These objects (hex shas, as bytes), as pack-objects reads them, named from their commits' changes.

    The commits among them are diffed with their parents (``git diff-tree``),
    which gives the path of every file and folder each one wrote: work in
    proportion to these objects, where a reachability walk would read the
    whole tree the walk stops at (every article's entry).
    """
    if not shas:
        return b""
    checked = git(
        git_dir, "cat-file", "--batch-check=%(objectname) %(objecttype)", input_bytes=b"\n".join(sorted(shas)) + b"\n"
    )
    commits = [line.split()[0] for line in checked.splitlines() if line.endswith(b" commit")]
    names: dict[bytes, bytes] = {}
    if commits:
        changed = git(
            git_dir, "diff-tree", "-r", "-t", "--root", "--no-commit-id", "-z", "--stdin",
            input_bytes=b"\n".join(commits) + b"\n",
        )  # fmt: skip
        fields = changed.split(b"\0")
        for header, path in zip(fields[0::2], fields[1::2], strict=False):
            parts = header.split()  # :<old mode> <new mode> <old sha> <new sha> <status>
            if len(parts) == 5:
                names[parts[3]] = pack_name(path)
    return b"".join(sha + (b" " + names[sha] if sha in names else b"") + b"\n" for sha in sorted(shas))


def _has_loose(git_dir: str) -> bool:
    """Whether any loose object is left (a look into at most 256 folders)."""
    objects_dir = os.path.join(git_dir, "objects")
    with os.scandir(objects_dir) as entries:
        folders = [entry.path for entry in entries if len(entry.name) == 2 and entry.is_dir()]
    return any(any(len(name) == 38 for name in os.listdir(folder)) for folder in folders)


def loose_objects(git_dir: str) -> int:
    """About how many loose objects there are, counted as git's gc does: one folder of 256, times 256."""
    try:
        return 256 * sum(len(name) == 38 for name in os.listdir(os.path.join(git_dir, "objects", "17")))
    except FileNotFoundError:
        return 0


def packs(git_dir: str, with_index_only: bool = True) -> set[str]:
    """The store's packs (``pack-<sha>.pack`` names): those git reads, which have their ``.idx``.

    A pack without one is left by a writer killed between renaming the pack
    and its index (or between deleting them): git ignores it, and so does
    everything here but :func:`pack_all`, which removes it
    (``with_index_only=False`` lists it too).
    """
    pack_dir = os.path.join(git_dir, "objects", "pack")
    if not os.path.isdir(pack_dir):
        return set()
    names = set(os.listdir(pack_dir))
    return {
        name for name in names
        if name.startswith("pack-") and name.endswith(".pack")
        and (not with_index_only or name[: -len(".pack")] + ".idx" in names)
    }  # fmt: skip


def pack_loose(git_dir: str) -> None:
    """Pack the reachable loose objects: the folders into a pack of their own, the rest into another.

    Each folder goes in as a delta of the loose version it replaced: git's
    search leaves folders under ~100 bytes whole, and they would stay so (20
    articles snapshotted 150 times each, one call at a time, then maintained:
    1.46 MB with 9,078 of 12,000 folders whole, 1.20 MB with 343). The files
    and commits go through ``pack-objects`` (an article's versions among them
    as deltas of each other). The folders' pack is flushed to disk and checked
    by ``git verify-pack`` before any loose copy is removed; should the check
    fail, that pack is removed and ``pack-objects`` packs the folders too.
    """
    objects = object_list(git_dir, only_loose=True)
    if not objects:
        return
    pack_dir = os.path.join(git_dir, "objects", "pack")
    folders = folder_versions(git_dir, [line.split(b" ", 1)[0] for line in objects.splitlines()])
    if folders:
        name = packfile.store_pack(pack_dir, folders, durable=True)
        try:
            git(git_dir, "verify-pack", os.path.join(pack_dir, name[: -len(".pack")] + ".idx"))
        except StoreDamaged:  # never expected (tests check these deltas against git); the loose copies stay
            _remove_packs(git_dir, {name})
    _pack(git_dir, objects, ["--incremental"])  # leaves out what a pack holds already: the folders, checked
    git(git_dir, "prune-packed", "-q")


def folder_versions(git_dir: str, loose: list[bytes]) -> list[packfile.PackObject]:
    """The loose folders among ``loose`` (hex shas) as pack objects, each a delta of the loose folder it replaced.

    The commits among them say which folder replaced which: a commit's root
    tree replaced its parent's, the other folders as ``git diff-tree`` says.
    The first loose version of a folder goes in whole. Carrying the packed
    version it replaced into this pack as its base, as a batch does, made no
    difference after a full pack (1,197,203 against 1,196,132 bytes for the
    20 articles above; 3,430,829 against 3,431,423 for 1,000 articles × 3
    versions), only duplicates. A chain of deltas starts whole again after
    ``DEPTH`` links.
    """
    typed = git(git_dir, "cat-file", "--batch-check=%(objectname) %(objecttype)", input_bytes=b"\n".join(loose) + b"\n")
    kinds = dict(line.split() for line in typed.splitlines())
    trees = [sha for sha in loose if kinds.get(sha) == b"tree"]
    if not trees:
        return []
    # Folders and commits only: however many loose files there are, their texts stay on disk.
    loose_commits = [sha for sha in loose if kinds.get(sha) == b"commit"]
    read = _read(git_dir, trees + loose_commits)
    commits = {sha: read[sha] for sha in loose_commits}
    replaced: dict[bytes, bytes] = {}  # new folder -> the folder it replaced
    if commits:
        for old_root, new_root in _commit_roots(git_dir, commits).values():
            replaced.setdefault(new_root, old_root)
        # diff-tree -z: each commit's sha, then a header and a path for each change.
        changed = git(git_dir, "diff-tree", "-r", "-t", "-z", "--stdin", input_bytes=b"\n".join(commits) + b"\n")
        for field in changed.split(b"\0"):
            parts = field.split()  # :<old mode> <new mode> <old sha> <new sha> <status>
            if len(parts) == 5 and parts[:2] == [b":040000", b"040000"] and parts[4] == b"M":
                replaced.setdefault(parts[3], parts[2])
    placed: dict[bytes, int] = {}  # sha -> depth of its delta chain in this pack
    objects: list[packfile.PackObject] = []
    for sha in _bases_first(trees, replaced):
        data = read[sha]
        base = replaced.get(sha)
        delta = None
        if base is not None and base in placed and placed[base] < DEPTH:
            spliced = packfile.splice_delta(read[base], data)
            if len(spliced) < len(data):
                delta = (bytes.fromhex(base.decode()), spliced)
        placed[sha] = placed[base] + 1 if delta is not None and base is not None else 0
        objects.append((bytes.fromhex(sha.decode()), b"tree", data, delta))
    return objects


def _bases_first(shas: list[bytes], replaced: dict[bytes, bytes]) -> list[bytes]:
    """``shas`` ordered so that each comes after the folder it replaced, where that is among them."""
    among = set(shas)
    ordered: list[bytes] = []
    seen: set[bytes] = set()
    for sha in shas:
        chain = []
        while sha in among and sha not in seen:
            seen.add(sha)
            chain.append(sha)
            sha = replaced.get(sha, b"")
        ordered.extend(reversed(chain))
    return ordered


def _commit_roots(git_dir: str, commits: dict[bytes, bytes]) -> dict[bytes, tuple[bytes, bytes]]:
    """Commit -> (its first parent's root tree, its own root tree), for the ``commits`` (sha -> body) with a parent."""
    own: dict[bytes, bytes] = {}
    parents: dict[bytes, bytes] = {}
    for commit, body in commits.items():
        lines = body.split(b"\n", 2)
        own[commit] = lines[0][len(b"tree ") :]
        if len(lines) > 1 and lines[1].startswith(b"parent "):
            parents[commit] = lines[1][len(b"parent ") :]
    outside = [parent for parent in set(parents.values()) if parent not in own]
    for parent, body in _read(git_dir, outside).items():
        own[parent] = body.split(b"\n", 1)[0][len(b"tree ") :]
    return {commit: (own[parent], own[commit]) for commit, parent in parents.items() if parent in own}


def _read(git_dir: str, shas: list[bytes]) -> dict[bytes, bytes]:
    """Hex sha -> contents of each of ``shas`` that git has, read by one ``git cat-file --batch``."""
    contents = cat_objects(git_dir, [sha.decode() for sha in shas])
    return {sha: data for sha, data in zip(shas, contents, strict=True) if data is not None}


def pack_all(git_dir: str, recompute: bool) -> bool:
    """Put every reachable object into one new pack, then drop the old packs and the loose copies.

    ``recompute`` searches the files' deltas again (after a bulk import, whose
    fast-import pack deltas each file against whatever file came before it, and
    on ``revtrack maintain``); otherwise deltas already in a pack are kept and
    only whole objects are searched (routine maintenance, cheap). With
    ``recompute`` the article texts still keep their deltas when they already
    form one chain per article (:func:`texts_chained`): an import ordered by
    article, or a store searched before. Folders and commits keep their deltas either way:
    fast-import and revtrack's batch writer delta each folder against its own
    previous version, and git's search would store most of them whole (it
    keeps a first delta only when it is under half the object's size less 20
    bytes, and a leaf folder is ~80 bytes). The benchmark's 30,000 versions:
    38.40 MB with 14,576 whole folders, against 39.62 MB with 38,762 when
    everything was searched again.
    Each pass writes a complete pack before anything is removed, so an
    interrupted run leaves every object readable. Returns whether the texts'
    deltas were searched.
    """
    if _has_loose(git_dir):
        pack_loose(git_dir)  # so that the loose folders too go in as deltas of the versions they replaced
    before = packs(git_dir, with_index_only=False)
    # The object lists go through files beside the store (as big as ~75 bytes an
    # object), so that memory holds only what the texts' check needs. A run that
    # was killed left its folder; packing runs under the write lock, so none is in use.
    for stale in os.scandir(git_dir):
        if stale.name.startswith(_SCRATCH) and stale.is_dir(follow_symlinks=False):
            shutil.rmtree(stale.path, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=_SCRATCH, dir=git_dir) as scratch:
        objects, files, rest = (os.path.join(scratch, name) for name in ("objects", "files", "rest"))
        if not _write_object_list(git_dir, objects):
            return False  # nothing reachable: an empty store
        texts_searched = False
        if recompute:
            # pack-objects keeps a whole object whole when its candidate base is whole
            # in the same pack (it assumes an earlier run tried that pair), so the
            # files searched again go through a pack of their own first, and the
            # two packs are then joined with every delta kept.
            texts_searched = _split_files(git_dir, objects, files, rest)
            parts = {
                _pack(git_dir, files, ["--honor-pack-keep", "--no-reuse-delta"]),
                _pack(git_dir, rest, ["--honor-pack-keep"]),
            }
            written = {name for name in parts if name is not None}
            _remove_packs(git_dir, before - written)
            git(git_dir, "prune-packed", "-q")
            before = written
        new_pack = _pack(git_dir, objects, ["--honor-pack-keep"])
    _remove_packs(git_dir, before - {new_pack})
    git(git_dir, "prune-packed", "-q")
    return texts_searched


_SCRATCH: Final = "revtrack-pack-"  # the full repack's folder for its object lists, in the store


def _write_object_list(git_dir: str, path: str) -> bool:
    """Write :func:`object_list`'s lines for every reachable object to ``path``, a line at a time; False: none."""
    with open(path, "wb") as listed, _git_lines(git_dir, ["rev-list", "--objects", "--all", "--reflog"]) as lines:
        listed.writelines(_named(lines))
        return listed.tell() > 0


@contextlib.contextmanager
def _git_lines(git_dir: str, args: list[str], stdin: str | None = None) -> Iterator[IO[bytes]]:
    """A git command's output, to read a line at a time (``stdin``: a file it reads); its failure raises."""
    env = {**os.environ, "GIT_DIR": git_dir, "LC_ALL": "C"}
    with open(stdin or os.devnull, "rb") as given:
        process = subprocess.Popen(["git", *args], stdin=given, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None and process.stderr is not None
    with process.stdout, process.stderr:
        try:
            yield process.stdout
        except BaseException:
            process.kill()
            process.wait()
            raise
        error = process.stderr.read().decode("utf-8", "replace").strip().splitlines()
    if process.wait() != 0:
        raise StoreDamaged(f"git {args[0]} failed in {git_dir}: {error[-1] if error else ended(process.returncode)}")


def _split_files(git_dir: str, objects: str, files: str, rest: str) -> bool:
    """Split the object list in file ``objects`` into the files to search and the rest; whether texts are searched.

    The files are the blobs; the article texts stay with the folders and
    commits when :func:`texts_chained` says their deltas are already good.
    git reads the list itself and answers each object's kind and delta base,
    its name passed through. Nothing grows with the store in memory: the
    answers are sorted into three files (the texts with their bases, the other
    blobs, everything else), the texts are checked a shard of articles at a
    time (:func:`_texts_chained_in_file`), and the two lists are joined from
    the three files.
    """
    scratch = os.path.dirname(objects)
    texts, blobs, others = (os.path.join(scratch, name) for name in ("texts", "blobs", "others"))
    count = 0
    check = ["cat-file", "--buffer", "--batch-check=%(objectname) %(objecttype) %(deltabase) %(rest)"]
    with (
        _git_lines(git_dir, check, stdin=objects) as answers,
        open(texts, "wb") as texts_out,
        open(blobs, "wb") as blobs_out,
        open(others, "wb") as others_out,
    ):
        for line in answers:
            sha, kind, base, *name = line.split()
            # The texts' names end in the "t" of ".txt" (pack_name); folders' may too, hence blobs only.
            if kind == b"blob" and name and name[0].endswith(b"t"):
                texts_out.write(b"%s %s %s\n" % (sha, name[0], base))
                count += 1
            else:  # the object list's own line
                (blobs_out if kind == b"blob" else others_out).write(b" ".join([sha, *name]) + b"\n")
    chained = _texts_chained_in_file(texts, count, scratch)
    with open(files, "wb") as inside, open(rest, "wb") as outside:
        for path, out in ((blobs, inside), (others, outside)):
            with open(path, "rb") as listed:
                shutil.copyfileobj(listed, out)
        with open(texts, "rb") as listed:
            (outside if chained else inside).writelines(line.rpartition(b" ")[0] + b"\n" for line in listed)
    for path in (texts, blobs, others):  # not needed while git packs (~2 GB at NewsEdits scale)
        os.remove(path)
    return not chained


# The texts are checked this many at a time at most, each shard holding whole
# articles: ~300 bytes of Python a text while a shard is checked (traced: 58 MB
# for 200,000), so ~75 MB at most, where a NewsEdits-size store (4.6 M texts)
# took ~1.5 GB in one piece.
_SHARD_TEXTS: Final = 250_000


def _texts_chained_in_file(path: str, count: int, scratch: str) -> bool:
    """:func:`texts_chained` for the ``count`` lines ``sha name base`` in file ``path``, a shard of articles at a time.

    A text chained to its own article's previous version has its base in the
    same shard (the shard is chosen by the article's name), so each shard's
    starts are counted alone; the lines are first dealt to one file a shard.
    """
    shards = max(1, -(-count // _SHARD_TEXTS))
    parts = [path] if shards == 1 else [os.path.join(scratch, f"texts-{shard}") for shard in range(shards)]
    if shards > 1:
        with contextlib.ExitStack() as stack, open(path, "rb") as listed:
            outs = [stack.enter_context(open(part, "wb")) for part in parts]
            for line in listed:
                outs[zlib.crc32(line.split(b" ", 2)[1]) % shards].write(line)
    articles = starts = 0
    for part in parts:
        names: dict[bytes, bytes] = {}
        bases: dict[bytes, bytes] = {}
        with open(part, "rb") as listed:
            for line in listed:
                sha, name, base = line.split()
                names[sha], bases[sha] = name, base
        if part != path:
            os.remove(part)
        shard_articles, shard_starts = _chain_starts(names, bases)
        articles, starts = articles + shard_articles, starts + shard_starts
    return _chains_enough(count, articles, starts)


# Below this many texts a full repack searches their deltas anyway: it takes
# under a second (~0.17 ms a version), and in a small store git's window of 10
# spans a good share of all articles, so it can find a base in another
# article. 250 Wikipedia page pairs (some pages in several pairs) packed to
# 2.47 MB searched, 2.57 MB keeping fast-import's deltas; the benchmark's news
# at 1,000 and 3,000 articles 4.10 against 4.11 and 12.42 against 12.44 MB.
SEARCH_TEXTS_BELOW: Final = 5_000


def texts_chained(texts: dict[bytes, bytes], bases: dict[bytes, bytes]) -> bool:
    """Whether the article texts' deltas already chain each article's versions, so a search would not improve them.

    ``texts``: sha -> pack name (one per article), ``bases``: sha -> delta
    base (zeros when whole). A text whose base is not a text of its own article
    (whole, or a delta of another file) starts a chain; one per article is
    expected (its first version). An import gets one from fast-import (its
    texts go to git article by article: see
    :class:`revtrack.importer._TextsInline` and ``_TextsByArticle``), a
    searched store keeps one, while a store grown by snapshots packed a few
    at a time has many. Up to 1% of the later versions may start a chain
    of their own (a ``meta.json`` stored between two versions of a text).
    1,000 articles of 20 versions imported: 16.05 MB with fast-import's chains
    kept, 16.31 MB when `revtrack maintain` searched them again.
    """
    return _chains_enough(len(texts), *_chain_starts(texts, bases))


def _chain_starts(texts: dict[bytes, bytes], bases: dict[bytes, bytes]) -> tuple[int, int]:
    """(articles, chain starts) among ``texts`` (sha -> pack name), given their delta ``bases``."""
    starts = Counter(name for sha, name in texts.items() if texts.get(bases.get(sha, b"")) != name)
    return len(starts), sum(starts.values())


def _chains_enough(texts: int, articles: int, starts: int) -> bool:
    """:func:`texts_chained`'s rule: enough texts, and chain starts beyond one an article ≤ 1% of the rest."""
    return texts >= SEARCH_TEXTS_BELOW and (starts - articles) * 100 <= texts - articles


def import_pack_suffices(git_dir: str, texts: str, articles: int) -> bool:
    """Whether a store whose objects all came from one import may keep fast-import's pack as it is.

    True when the store is that one pack (nothing loose, no other pack) and
    its texts already chain, as :func:`texts_chained` asks: a full repack
    would then keep those deltas and the folders' and copy the rest, for
    little. The benchmark's 30,000 versions: the import 12.6 -> 9.9 s
    (tmpfs), the store 40.52 -> 40.67 MB; with a url per article (a meta.json
    each, which the repack would search) 41.62 -> 41.90 MB.

    ``texts``: a file of a line per version, in the import's order: the
    text's blob id, then the id fast-import deltas it against when the
    article's versions follow one another (the previous version's text), or
    ``-``. ``articles``: how many articles the import holds. git is asked
    for each text's delta base with the line's rest passed through, so
    nothing here grows with the import.
    """
    if _has_loose(git_dir) or len(packs(git_dir)) != 1:
        return False
    count = starts = 0
    with _git_lines(git_dir, ["cat-file", "--buffer", "--batch-check=%(deltabase) %(rest)"], stdin=texts) as answers:
        for line in answers:
            base, _, previous = line.rstrip(b"\n").partition(b" ")
            count += 1
            starts += base != previous  # whole, or a delta of some other file
    return _chains_enough(count, articles, starts)


def join_recent(git_dir: str) -> None:
    """Join the small packs written since the last full pack, keeping them a geometric series (factor 2).

    The pack holding the most objects is the last full pack (or stands for
    it): the rest are recent. Sorted by how many objects they hold, the
    smallest are joined until every remaining pack holds at least twice as
    many as all smaller ones together (git's ``--geometric=2``), so a pack is
    rewritten only when the packs below it have grown as large as it is. Once
    the recent packs hold half as many objects as the full one, everything is
    joined with :func:`pack_all` (its deltas kept), which leaves one pack. The
    objects get revtrack's names from what their own commits changed
    (:func:`named_objects`).
    """
    pack_dir = os.path.join(git_dir, "objects", "pack")
    counted = sorted(
        (_object_count(os.path.join(pack_dir, name)), name)
        for name in packs(git_dir)
        if not os.path.exists(os.path.join(pack_dir, name[: -len(".pack")] + ".keep"))
    )
    if len(counted) < 2:
        return
    recent, (full_count, _) = counted[:-1], counted[-1]
    counts = [count for count, _ in recent]
    if 2 * sum(counts) >= full_count:
        pack_all(git_dir, recompute=False)
        return
    split = geometric_split(counts)
    if split < 2:
        return
    chosen = [name for _, name in recent[:split]]
    wanted = set().union(*(_pack_objects(os.path.join(pack_dir, name)) for name in chosen))
    # Every object of the chosen packs goes into the new one (those nothing
    # reaches are dropped by the next full pack), so removing them loses nothing.
    new_pack = _pack(git_dir, named_objects(git_dir, wanted), [])
    _remove_packs(git_dir, set(chosen) - {new_pack} if new_pack else set(chosen))


def geometric_split(counts: list[int]) -> int:
    """How many of the smallest packs (object ``counts`` ascending) to join so the rest double at each step."""
    split = 0
    total = 0
    for position, count in enumerate(counts):
        if count < 2 * total:
            split = position + 1
        total += count
    return split


def _object_count(pack_path: str) -> int:
    """How many objects a pack holds (from its index's fan-out table)."""
    from gitdb.pack import PackIndexFile

    return int(PackIndexFile(pack_path[: -len(".pack")] + ".idx").size())


def _pack_objects(pack_path: str) -> set[bytes]:
    """The shas (hex, as bytes) a pack holds, read from its index."""
    from gitdb.pack import PackIndexFile

    index = PackIndexFile(pack_path[: -len(".pack")] + ".idx")
    return {index.sha(position).hex().encode() for position in range(index.size())}


def _remove_packs(git_dir: str, names: set[str]) -> None:
    """Delete packs (``.keep`` ones stay), each index first: without it git no longer looks in the pack."""
    pack_dir = os.path.join(git_dir, "objects", "pack")
    for name in sorted(names):
        stem = os.path.join(pack_dir, name[: -len(".pack")])
        if os.path.exists(stem + ".keep"):
            continue
        for suffix in (".idx", ".pack", ".rev", ".bitmap", ".mtimes", ".promisor"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(stem + suffix)


# git writes a pack (and its index) under a temporary name and renames it when
# done; a git that fails (killed by a full disk's SIGXFSZ, say) leaves it behind,
# as large as what it wrote: on a full disk, what keeps the disk full.
_GIT_TEMPORARIES: Final = ("tmp_pack_", "tmp_idx_", "tmp_rev_")


def _git_temporaries(pack_dir: str) -> set[str]:
    try:
        return {name for name in os.listdir(pack_dir) if name.startswith(_GIT_TEMPORARIES)}
    except FileNotFoundError:
        return set()


@contextlib.contextmanager
def temporaries_removed_on_failure(git_dir: str) -> Iterator[None]:
    """Around a git that writes packs: if the block fails, remove the temporary pack files that appeared in it.

    The block must end with the git process ended (waited for), as ``git()`` and
    ``_git_lines`` do. Only files that appeared during the block go: a plain
    ``git gc`` someone runs beside revtrack keeps its own.
    """
    pack_dir = os.path.join(git_dir, "objects", "pack")
    before = _git_temporaries(pack_dir)
    try:
        yield
    except BaseException:
        for name in _git_temporaries(pack_dir) - before:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(pack_dir, name))
        raise


# A temporary pack nothing has written to for this long is a dead git's (a killed
# import's fast-import, say); a git at work writes to its file all along.
_ABANDONED_AFTER: Final = 3600.0


def remove_abandoned_temporaries(git_dir: str, older_than: float = _ABANDONED_AFTER) -> None:
    """Remove temporary pack files no git has written to for ``older_than`` seconds (called under the lock)."""
    pack_dir = os.path.join(git_dir, "objects", "pack")
    now = time.time()
    for name in _git_temporaries(pack_dir):
        path = os.path.join(pack_dir, name)
        with contextlib.suppress(OSError):
            if now - os.stat(path).st_mtime > older_than:
                os.unlink(path)


def _pack(git_dir: str, objects: bytes | str, options: list[str]) -> str | None:
    """Write one pack of ``objects`` into the store; return its file name (None: no objects).

    ``objects``: pack-objects' stdin (bytes), or the path of a file holding it (str).
    """
    if not (os.path.getsize(objects) if isinstance(objects, str) else objects):
        return None
    pack_dir = os.path.join(git_dir, "objects", "pack")
    os.makedirs(pack_dir, exist_ok=True)
    command = ["pack-objects", "-q", f"--window={WINDOW}", f"--depth={DEPTH}", "--delta-base-offset", *options,
               os.path.join(pack_dir, "pack")]  # fmt: skip
    with temporaries_removed_on_failure(git_dir):
        if isinstance(objects, str):
            with _git_lines(git_dir, command, stdin=objects) as answer:
                written = answer.read()
        else:
            written = git(git_dir, *command, input_bytes=objects)
    return f"pack-{written.decode().strip()}.pack"
