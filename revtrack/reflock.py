"""git's lock files in the store (``refs/heads/main.lock`` and others): taken, waited for, cleared when stale.

git takes ``<file>.lock`` (created exclusively) to rewrite a ref, the packed
refs or the commit-graph, and so do revtrack's own branch updates
(:func:`revtrack.gitwrite.update_ref`). revtrack's store lock is held around
every write, so the only other holders can be a crashed writer (revtrack, or
a git it ran: ``fast-import``, ``reflog expire``, ``pack-refs``,
``commit-graph write``) or a git command someone runs on the store by hand,
which holds a lock for milliseconds. A lock older than :data:`STALE_SECONDS`
is therefore left by a dead process, and is removed: git itself gives up at
it ("remove the file manually to continue"), every time, until someone does.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from typing import Final

from revtrack.errors import StoreLocked
from revtrack.gitread import BRANCH

STALE_SECONDS: Final = 1.0
_WAIT_SECONDS: Final = 0.05
_TRIES: Final = 200  # about 10 s of waiting for a live holder

# What git locks when it moves the branch: the branch and, since HEAD names
# it, HEAD (for HEAD's reflog). fast-import and `reflog expire` do.
BRANCH_LOCKS: Final = (f"{BRANCH}.lock", "HEAD.lock")
# What the rest of maintenance locks: `pack-refs` and `commit-graph write`.
MAINTENANCE_LOCKS: Final = (
    *BRANCH_LOCKS,
    "packed-refs.lock",
    "objects/info/commit-graph.lock",
    "objects/info/commit-graphs/commit-graph-chain.lock",
)


def create_lock(lock_path: str) -> int:
    """Create git's ``<ref>.lock`` (an open file descriptor); clear one left behind by a process that died."""
    for _ in range(_TRIES):
        try:
            return os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            _wait_or_clear(lock_path)
    raise StoreLocked(f"{lock_path} is held by another process")


def clear_stale_locks(git_dir: str, names: Iterable[str]) -> None:
    """Before git commands that take these locks themselves: return once they are free, removing stale ones and
    waiting for live holders."""
    for name in names:
        lock_path = os.path.join(git_dir, name)
        for _ in range(_TRIES):
            if not os.path.exists(lock_path):
                break
            _wait_or_clear(lock_path)
        else:
            raise StoreLocked(f"{lock_path} is held by another process")


def stale_locks(git_dir: str) -> list[str]:
    """The lock files among :data:`MAINTENANCE_LOCKS` that a dead process left (older than :data:`STALE_SECONDS`)."""
    return [name for name in MAINTENANCE_LOCKS if _is_stale(os.path.join(git_dir, name))]


def _is_stale(lock_path: str) -> bool:
    """True for a lock older than a live git holds one; False for a younger one or none."""
    try:
        return time.time() - os.stat(lock_path).st_mtime > STALE_SECONDS
    except FileNotFoundError:
        return False


def _wait_or_clear(lock_path: str) -> None:
    if _is_stale(lock_path):
        with contextlib.suppress(FileNotFoundError):  # another writer cleared it first
            os.unlink(lock_path)
    elif os.path.exists(lock_path):  # a live holder (a lock released meanwhile needs no wait)
        time.sleep(_WAIT_SECONDS)
