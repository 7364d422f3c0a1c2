"""git's lock on the branch (``refs/heads/main.lock``): taken by revtrack's writes, cleared when a dead process left it.

git takes ``<ref>.lock`` (created exclusively) to move a ref, and so do
revtrack's own branch updates (:func:`revtrack.gitwrite.update_ref`).
revtrack's store lock is held around every write, so the only other holders
can be a crashed writer (revtrack, or a git it ran: ``fast-import``,
``reflog expire``) or a git command someone runs on the store
by hand, which holds the lock for milliseconds. A lock older than
:data:`STALE_SECONDS` is therefore left by a dead process, and is removed:
otherwise every later write would fail until someone deleted it by hand.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Final

from revtrack.errors import StoreLocked
from revtrack.gitread import BRANCH

STALE_SECONDS: Final = 1.0
_WAIT_SECONDS: Final = 0.05
_TRIES: Final = 200  # about 10 s of waiting for a live holder


def branch_lock_path(git_dir: str) -> str:
    return os.path.join(git_dir, BRANCH) + ".lock"


def create_lock(lock_path: str) -> int:
    """Create git's ``<ref>.lock`` (an open file descriptor); clear one left behind by a process that died."""
    for _ in range(_TRIES):
        try:
            return os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            _wait_or_clear(lock_path)
    raise StoreLocked(f"{lock_path} is held by another process")


def clear_stale_locks(git_dir: str) -> None:
    """Before a git command that moves the branch itself (``fast-import``): return once the locks it takes
    are free, removing stale ones and waiting for live holders.

    git locks ``HEAD`` too when it moves the branch ``HEAD`` names (for HEAD's
    reflog); it gives up at a lock that exists ("remove the file manually to
    continue").
    """
    for lock_path in (branch_lock_path(git_dir), os.path.join(git_dir, "HEAD.lock")):
        for _ in range(_TRIES):
            if not os.path.exists(lock_path):
                break
            _wait_or_clear(lock_path)
        else:
            raise StoreLocked(f"{lock_path} is held by another process")


def _wait_or_clear(lock_path: str) -> None:
    try:
        age = time.time() - os.stat(lock_path).st_mtime
    except FileNotFoundError:
        return  # released meanwhile
    if age > STALE_SECONDS:
        with contextlib.suppress(FileNotFoundError):  # another writer cleared it first
            os.unlink(lock_path)
        return
    time.sleep(_WAIT_SECONDS)
