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
"""

from __future__ import annotations

import hashlib
import os
from typing import Final

from revtrack.gitread import git

WINDOW: Final = 50  # objects tried as bases for each one (git's default is 10)
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
    lines = []
    for line in listed.splitlines():
        sha, _, path = line.partition(b" ")
        lines.append(sha + b" " + pack_name(path) if path else sha)
    return b"".join(line + b"\n" for line in lines)


def loose_objects(git_dir: str) -> int:
    """About how many loose objects there are, counted as git's gc does: one folder of 256, times 256."""
    try:
        return 256 * sum(len(name) == 38 for name in os.listdir(os.path.join(git_dir, "objects", "17")))
    except FileNotFoundError:
        return 0


def packs(git_dir: str) -> set[str]:
    """The pack files of the store (``pack-<sha>.pack`` names)."""
    pack_dir = os.path.join(git_dir, "objects", "pack")
    if not os.path.isdir(pack_dir):
        return set()
    return {name for name in os.listdir(pack_dir) if name.startswith("pack-") and name.endswith(".pack")}


def pack_loose(git_dir: str) -> None:
    """Pack the reachable loose objects into one new pack (the versions among them as deltas of each other)."""
    _pack(git_dir, object_list(git_dir, only_loose=True), ["--incremental"])
    git(git_dir, "prune-packed", "-q")


def pack_all(git_dir: str, recompute: bool) -> None:
    """Put every reachable object into one new pack, then drop the old packs and the loose copies.

    ``recompute`` searches every delta again (after a bulk import, whose
    fast-import pack has poor ones); otherwise deltas already in a pack are
    kept and only whole objects are searched (routine maintenance, cheap).
    The new pack is complete and in place before anything is removed, so an
    interrupted run leaves every object readable.
    """
    before = packs(git_dir)
    new_pack = _pack(git_dir, object_list(git_dir), ["--honor-pack-keep", *(["--no-reuse-delta"] if recompute else [])])
    if new_pack is None:
        return  # nothing reachable: an empty store
    pack_dir = os.path.join(git_dir, "objects", "pack")
    for name in sorted(before - {new_pack}):
        stem = os.path.join(pack_dir, name[: -len(".pack")])
        if os.path.exists(stem + ".keep"):
            continue
        # The index first: without it git no longer looks in the pack at all.
        for suffix in (".idx", ".pack", ".rev", ".bitmap", ".mtimes", ".promisor"):
            try:
                os.remove(stem + suffix)
            except FileNotFoundError:
                pass
    git(git_dir, "prune-packed", "-q")


def _pack(git_dir: str, objects: bytes, options: list[str]) -> str | None:
    """Write one pack of ``objects`` (pack-objects' stdin) into the store; return its file name (None: no objects)."""
    if not objects:
        return None
    pack_dir = os.path.join(git_dir, "objects", "pack")
    os.makedirs(pack_dir, exist_ok=True)
    written = git(
        git_dir, "pack-objects", "-q", f"--window={WINDOW}", f"--depth={DEPTH}", "--delta-base-offset", *options,
        os.path.join(pack_dir, "pack"), input_bytes=objects,
    )  # fmt: skip
    return f"pack-{written.decode().strip()}.pack"
