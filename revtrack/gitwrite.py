"""Write revisions into the store at the object level (GitPython reads; loose objects and packs written here).

A snapshot writes two or three blobs, the few trees on the path from the root
to the article's folder, and one commit; then it moves the branch. No working
tree or whole-repository index is read or rewritten, so the cost of a snapshot
does not grow with the number of articles (trees are fanned out by hash, see
:func:`revtrack.ids.shard`).

Objects are written in process as git's loose objects (no git subprocess per
object; see :meth:`ObjectWriter._store`), or, in a batch of snapshots, held in
memory and written as one pack (:meth:`ObjectWriter.write_held`). The branch
update is the commit point: it is written to ``main.lock`` and renamed over
the ref (git's own protocol, so git tools see a consistent ref), after
checking that the branch still points where this writer started. Objects
written before a crash are unreferenced and harmless.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import zlib
from collections import OrderedDict
from datetime import datetime
from typing import Any, Final

from git import Repo

from revtrack.errors import StoreDamaged, StoreLocked
from revtrack.gitread import BRANCH, read_ref
from revtrack.ids import RESERVED_NAMES, file_path
from revtrack.packfile import TEMPORARY_INDEX, TEMPORARY_PACK, patch_delta, splice_delta, store_pack
from revtrack.record import identity
from revtrack.reflock import create_lock
from revtrack.timeutil import git_date, now

BLOB_MODE: Final = 0o100644
TREE_MODE: Final = 0o040000
Entry = tuple[bytes, int, str]


class _Tree:
    """A tree this writer read or wrote: its entries in git's order, its bytes, and where each entry's sha sits.

    Kept so that replacing one entry of a tree (up to 256 entries in format-2
    stores) is a 20-byte patch of the old bytes rather than a sort, a
    serialisation and a parse.
    """

    __slots__ = ("entries", "data", "_places")

    def __init__(self, entries: list[Entry], data: bytes, places: dict[str, tuple[int, int]] | None = None) -> None:
        self.entries = entries
        self.data = data
        self._places = places

    @property
    def places(self) -> dict[str, tuple[int, int]]:
        """Entry name -> (position in ``entries``, offset of its sha in ``data``)."""
        if self._places is None:
            self._places, offset = {}, 0
            for position, (_, mode, name) in enumerate(self.entries):
                offset += len(b"%o " % mode) + len(name.encode("utf-8", "surrogateescape")) + 1
                self._places[name] = (position, offset)
                offset += 20
        return self._places


class ObjectWriter:
    """Blob, tree and commit writes into one bare repository, with a small tree cache."""

    def __init__(self, git_dir: str) -> None:
        self.git_dir = git_dir
        # Reads go through GitPython's default object database (a persistent
        # `git cat-file`). Writes are loose objects written here (see _store).
        # The default database would pipe each object into `git hash-object
        # --literally`: a process per object, and a writer killed mid-pipe
        # leaves an empty object that fails fsck.
        self.repo = Repo(git_dir)
        self.odb = self.repo.odb
        self.objects_dir = os.path.join(git_dir, "objects")
        self._written = 0  # numbers this writer's temporary files
        # While a batch of snapshots is open, new objects wait here and go to
        # disk as one pack (see hold and write_held).
        self._held: dict[bytes, tuple[bytes, bytes]] | None = None
        # Held trees that are a new version of another held tree: sha -> (base
        # sha, delta chain depth, offset of the one entry's sha replaced, or
        # None when the article's own folder was rebuilt). They go into the
        # batch's pack as deltas (see revtrack.packfile, and _carry).
        self._patched: dict[bytes, tuple[bytes, int, int | None]] = {}
        self._trees: OrderedDict[bytes, _Tree] = OrderedDict()
        self._commit_trees: dict[str, bytes] = {}
        self.identity = identity()
        _remove_stale_temporaries(os.path.join(git_dir, "objects"))

    def close(self) -> None:
        self.repo.close()

    def _store(self, kind: bytes, data: bytes) -> bytes:
        """Write one loose object (git's format: zlib of ``"<kind> <size>\\0" + data``); return its sha.

        A temporary file renamed into place, so a killed writer never leaves a
        half object under a real name. An object already there is not written
        again (an unchanged ``.meta.json``). This replaces gitdb's
        ``LooseObjectDB.store``, which per object draws a random temporary name,
        creates the fan-out folder every time, and retries a chmod: 0.38 ms of
        Python per object against about 0.1 ms here, six or seven objects a snapshot.
        """
        raw = b"%s %d\0" % (kind, len(data)) + data
        binsha = hashlib.sha1(raw).digest()
        if self._held is not None:
            self._held.setdefault(binsha, (kind, data))
            return binsha
        hexsha = binsha.hex()
        target = os.path.join(self.objects_dir, hexsha[:2], hexsha[2:])
        if os.path.exists(target):
            return binsha
        self._written += 1
        temporary = os.path.join(self.objects_dir, f"obj{os.getpid()}-{self._written}")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444)
        except PermissionError:  # a read-only leftover of a dead writer with this pid
            os.unlink(temporary)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444)
        try:
            remaining = memoryview(zlib.compress(raw, 1))  # level 1: git's core.looseCompression
            while remaining:
                remaining = remaining[os.write(fd, remaining) :]
        finally:
            os.close(fd)
        try:
            os.replace(temporary, target)
        except FileNotFoundError:  # a new fan-out folder (git's prune-packed removes empty ones)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(temporary, target)
        return binsha

    def hold(self) -> None:
        """Keep new objects in memory until :meth:`write_held` (a batch of snapshots)."""
        self._held = {}

    def write_held(self) -> None:
        """Write the objects held so far as one pack, and go on holding.

        Two files (the pack and its index) instead of one file per object: on
        this machine's disk creating a file costs 0.3-1.2 ms, and a snapshot
        makes six or seven. :mod:`revtrack.packfile` writes the pack (git's
        pack and index version 2): whole objects, except each new version of a
        folder, which goes in as a delta of the folder it replaces (held, or
        carried into the pack: see :meth:`_carry`). revtrack's
        maintenance later joins it with the others and stores the versions of
        each article as deltas (see :mod:`revtrack.packing`).
        The files go into place as :func:`revtrack.packfile.store_pack` puts
        them, so a killed writer leaves nothing half-read.
        """
        if not self._held:
            return
        objects = [(sha, kind, data, self._delta(sha, data)) for sha, (kind, data) in self._held.items()]
        store_pack(os.path.join(self.objects_dir, "pack"), objects)
        self._held = {}
        self._patched = {}

    def _delta(self, binsha: bytes, data: bytes) -> tuple[bytes, bytes] | None:
        """(base sha, delta data) for a held tree that is a new version of another held tree, else None."""
        patched = self._patched.get(binsha)
        if patched is None:
            return None
        base, _, offset = patched
        if offset is not None:
            return base, patch_delta(len(data), offset, data[offset : offset + 20])
        held = self._held or {}  # written while holding: the base is held (see _derive)
        delta = splice_delta(held[base][1], data)
        return (base, delta) if len(delta) < len(data) else None

    def _carry(self, binsha: bytes, data: bytes) -> None:
        """In a batch, hold an existing tree too, so that its new version can go into the pack as a delta of it.

        A pack may only delta against its own objects, and git's search later
        leaves folders under ~100 bytes whole, so without the previous version
        at hand every folder a batch changes would stay whole for good. Held
        before its new version, so that it comes first in the pack; a
        duplicate of an object in an older pack, until packs are joined.
        """
        if self._held is not None and binsha not in self._held:
            self._held[binsha] = (b"tree", data)

    def _derive(self, new_binsha: bytes, base: bytes, offset: int | None) -> None:
        """In a batch, note that held tree ``new_binsha`` is a new version of held tree ``base``."""
        if self._held is None or base not in self._held or new_binsha == base or new_binsha in self._patched:
            return
        depth = self._patched.get(base, (b"", 0, None))[1] + 1
        if depth <= _DELTA_DEPTH:
            self._patched[new_binsha] = (base, depth, offset)

    def stop_holding(self) -> None:
        """Write objects one by one again; objects still held (a failed batch) are dropped."""
        self._held = None
        self._patched = {}

    def blob(self, data: bytes) -> bytes:
        return self._store(b"blob", data)

    def _read(self, binsha: bytes) -> tuple[bytes, bytes]:
        """(type, data) of an object; a missing or unreadable one means the store is damaged."""
        if self._held and binsha in self._held:
            return self._held[binsha]
        try:
            stream = self.odb.stream(binsha)
            return stream.type, stream.read()
        except Exception as error:  # gitdb and git raise several types for missing/corrupt objects
            raise StoreDamaged(
                f"git object {binsha.hex()} is missing or unreadable ({type(error).__name__}); "
                "the store is damaged - run 'git fsck' on it; nothing was written"
            ) from None

    def tree(self, entries: list[Entry]) -> bytes:
        # git orders entries by name, comparing a tree's name as if it ended in "/".
        ordered = sorted(entries, key=lambda e: e[2] + "/" if e[1] == TREE_MODE else e[2])
        data = serialize_tree(ordered)
        binsha = self._store(b"tree", data)
        self._remember(binsha, _Tree(ordered, data))
        return binsha

    def read_tree(self, binsha: bytes) -> list[Entry]:
        return self._tree(binsha).entries

    def _tree(self, binsha: bytes) -> _Tree:
        cached = self._trees.get(binsha)
        if cached is not None:
            self._trees.move_to_end(binsha)
            return cached
        kind, data = self._read(binsha)
        if kind != b"tree":
            raise StoreDamaged(f"object {binsha.hex()} should be a tree but is a {kind.decode()}")
        tree = _Tree(parse_tree(data, binsha), data)
        self._remember(binsha, tree)
        return tree

    def with_entry(self, binsha: bytes, entry: Entry) -> bytes:
        """Tree ``binsha`` with ``entry`` in place of the entry of that name and mode (added if it has none)."""
        old = self._tree(binsha)
        sha, mode, name = entry
        place = old.places.get(name)
        if place is None or old.entries[place[0]][1] != mode:  # a new entry: a new article's folder
            self._carry(binsha, old.data)
            added = self.tree([e for e in old.entries if e[2] != name] + [entry])
            self._derive(added, binsha, None)
            return added
        position, offset = place
        entries = list(old.entries)
        entries[position] = entry
        data = old.data[:offset] + sha + old.data[offset + 20 :]
        if data != old.data:
            self._carry(binsha, old.data)
        new_binsha = self._store(b"tree", data)
        self._remember(new_binsha, _Tree(entries, data, old.places))  # same names at the same offsets
        self._derive(new_binsha, binsha, offset)
        return new_binsha

    def _remember(self, binsha: bytes, tree: _Tree) -> None:
        self._trees[binsha] = tree
        if len(self._trees) > 4096:
            self._trees.popitem(last=False)

    def root_tree(self, commit_hex: str | None) -> bytes | None:
        if commit_hex is None:
            return None
        if commit_hex in self._commit_trees:
            return self._commit_trees[commit_hex]
        _, data = self._read(bytes.fromhex(commit_hex))
        header = data.split(b"\n", 1)[0]
        if not header.startswith(b"tree "):
            raise StoreDamaged(f"commit {commit_hex} has no tree")
        return bytes.fromhex(header[5:].decode("ascii"))

    def with_files(self, tree: bytes | None, path: str, files: dict[str, bytes]) -> bytes:
        """A new root tree: ``tree`` with the article at ``path`` holding exactly ``files`` (name -> blob sha).

        ``path`` is a folder (store format 1) or ``folder/prefix`` with the files
        named ``prefix.name`` (format 2); see :func:`revtrack.ids.file_path`.
        """
        if path.startswith("articles/"):
            return self._replace(tree, path.split("/"), files, None)
        folder, prefix = path.rsplit("/", 1)
        named = {file_path(path, name).rsplit("/", 1)[1]: sha for name, sha in files.items()}
        return self._replace(tree, folder.split("/"), named, prefix)

    def _replace(self, tree: bytes | None, parts: list[str], files: dict[str, bytes], prefix: str | None) -> bytes:
        if not parts:
            old = self._tree(tree) if tree is not None else None
            entries = old.entries if old is not None else []
            if prefix is None:
                # A format-1 article folder: keep sub-folders (articles whose ids extend this one).
                kept = [e for e in entries if e[1] == TREE_MODE and e[2] not in files]
            else:
                # A shared shard folder: drop only this article's previous files.
                own = {f"{prefix}.{name}" for name in RESERVED_NAMES}
                kept = [e for e in entries if e[2] not in own]
            if tree is None or old is None:  # a new article's folder
                return self.tree(kept + [(sha, BLOB_MODE, name) for name, sha in files.items()])
            self._carry(tree, old.data)
            new_binsha = self.tree(kept + [(sha, BLOB_MODE, name) for name, sha in files.items()])
            self._derive(new_binsha, tree, None)
            return new_binsha
        head, rest = parts[0], parts[1:]
        if tree is None:
            return self.tree([(self._replace(None, rest, files, prefix), TREE_MODE, head)])
        folder = self._tree(tree)
        place = folder.places.get(head)
        child = folder.entries[place[0]] if place is not None else None
        new_child = self._replace(child[0] if child and child[1] == TREE_MODE else None, rest, files, prefix)
        return self.with_entry(tree, (new_child, TREE_MODE, head))

    def commit(self, tree: bytes, parent: str | None, observed: datetime, message: str) -> str:
        """Write a commit whose author date is the observed time (offset kept)."""
        lines = [f"tree {tree.hex()}"]
        if parent:
            lines.append(f"parent {parent}")
        lines.append(f"author {self.identity} {git_date(observed)}")
        lines.append(f"committer {self.identity} {git_date(now())}")
        body = "\n".join(lines) + "\n\n" + message
        commit = self._store(b"commit", body.encode("utf-8")).hex()
        self._commit_trees = {commit: tree}  # the next snapshot in this process starts here
        return commit


def serialize_tree(entries: list[Entry]) -> bytes:
    """Tree object bytes for sorted entries (mode in octal without a leading 0, name, NUL, sha).

    GitPython's ``tree_to_stream`` re-validates every entry name on every call,
    which costs 14 µs an entry: at 10,000 articles that was most of a snapshot's
    time (the shard trees hold hundreds of entries). The names here are folder
    names of validated article ids and our own file names, checked once at the
    edge; ``tests/test_store_format.py`` checks the bytes against GitPython's.
    """
    return b"".join(b"%o %s\0%s" % (mode, name.encode("utf-8", "surrogateescape"), sha) for sha, mode, name in entries)


def parse_tree(data: bytes, binsha: bytes = b"") -> list[Entry]:
    """The entries of a tree object's bytes, in their stored order (the inverse of :func:`serialize_tree`).

    GitPython's ``tree_entries_from_data`` validates every name again, about
    half a millisecond per snapshot at 10,000 articles; these trees were
    written by revtrack or git, and anything malformed is reported as damage.
    """
    entries: list[Entry] = []
    pos, size = 0, len(data)
    try:
        while pos < size:
            space = data.index(b" ", pos)
            nul = data.index(b"\0", space)
            if nul + 21 > size:
                raise ValueError("short sha")
            entries.append(
                (
                    data[nul + 1 : nul + 21],
                    int(data[pos:space], 8),
                    data[space + 1 : nul].decode("utf-8", "surrogateescape"),
                )
            )
            pos = nul + 21
    except ValueError:
        raise StoreDamaged(f"tree {binsha.hex()} is malformed; the store is damaged - run 'git fsck' on it") from None
    return entries


# Longest chain of patched trees in a batch pack: git's default pack depth
# (each read of a tree applies its chain; a new chain starts whole).
_DELTA_DEPTH: Final = 50


def _remove_stale_temporaries(objects_dir: str) -> None:
    """Delete half-written object and pack files (``obj*``, ``pack/tmp_*_revtrack_*``) of a killed writer.

    Called with the store lock held, so no other revtrack writer is mid-write.
    """
    pack_dir = os.path.join(objects_dir, "pack")
    for folder, prefix in ((objects_dir, "obj"), (pack_dir, TEMPORARY_PACK), (pack_dir, TEMPORARY_INDEX)):
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            if name.startswith(prefix) and len(name) > len(prefix):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))


def sync_store(git_dir: str) -> None:
    """Flush the store's filesystem to disk (Linux ``syncfs``; elsewhere ``sync``).

    One call costs about as much as one ``fsync`` here and covers every object a
    snapshot wrote, where an ``fsync`` per object would cost six.
    """
    if not DURABLE:
        return
    syncfs = _syncfs()
    if syncfs is None:
        os.sync()
        return
    fd = os.open(git_dir, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _syncfs() -> Any:
    """libc's syncfs (a ctypes function), or None where there is none."""
    global _SYNCFS
    if _SYNCFS is False:
        try:
            import ctypes

            _SYNCFS = ctypes.CDLL(None, use_errno=True).syncfs
        except (OSError, AttributeError):
            _SYNCFS = None
    return _SYNCFS


_SYNCFS: object = False
# REVTRACK_DURABILITY=none skips the flushes: still safe if the process is
# killed, but a power cut may lose the newest revisions (bulk loads, tests).
DURABLE: Final = os.environ.get("REVTRACK_DURABILITY", "sync") != "none"


def update_ref(git_dir: str, new: str, expected: str | None, reason: str) -> None:
    """Move the branch from ``expected`` to ``new`` atomically (lock file + rename).

    The objects are flushed to disk first, so the branch never points at data a
    power cut could lose; the rename is flushed after.
    """
    ref_path = os.path.join(git_dir, BRANCH)
    lock_path = ref_path + ".lock"  # reflock.BRANCH_LOCKS names it too
    os.makedirs(os.path.dirname(ref_path), exist_ok=True)
    sync_store(git_dir)
    fd = create_lock(lock_path)
    try:
        os.write(fd, (new + "\n").encode("ascii"))
    finally:
        os.close(fd)
    try:
        current = read_ref(git_dir)
        if current != expected:
            raise StoreLocked(f"the store's branch moved during this write (expected {expected}, found {current})")
        os.replace(lock_path, ref_path)
    except BaseException:
        if os.path.exists(lock_path):
            os.unlink(lock_path)
        raise
    _append_reflog(git_dir, expected, new, reason)
    sync_store(git_dir)


def _append_reflog(git_dir: str, old: str | None, new: str, reason: str) -> None:
    """Record the update in git's reflog, so ``git reflog`` shows every recorded version."""
    path = os.path.join(git_dir, "logs", BRANCH)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    line = f"{old or '0' * 40} {new} {identity()} {git_date(now())}\t{reason}\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
