"""Read the store's git data through the ``git`` program, without importing GitPython.

Read commands (log, show, diff, list) must start fast; GitPython costs ~180 ms
to import here, a ``git cat-file --batch`` process about 3 ms. Writes use
GitPython's object database (:mod:`revtrack.gitwrite`).
"""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Final

from revtrack.errors import StoreDamaged

BRANCH: Final = "refs/heads/main"


def git(git_dir: str, *args: str, input_bytes: bytes | None = None, check: bool = True) -> bytes:
    """Run a git command on the store and return its stdout."""
    env = {**os.environ, "GIT_DIR": git_dir, "LC_ALL": "C"}
    env.pop("GIT_WORK_TREE", None)
    result = subprocess.run(["git", *args], input=input_bytes, capture_output=True, env=env, check=False)
    if check and result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise StoreDamaged(f"git {args[0]} failed in {git_dir}: {message[-1] if message else ended(result.returncode)}")
    return result.stdout


def ended(returncode: int) -> str:
    """How a git process ended, for an error that has nothing better: "exit 128", or the signal that killed it.

    A signal leaves git no time to say why (``subprocess`` gives git the default
    action for SIGXFSZ, which Python itself ignores: past a file size limit, git
    is killed where Python gets an error).
    """
    if returncode >= 0:
        return f"exit {returncode}"
    try:
        return f"killed by signal {-returncode}: {signal.strsignal(-returncode) or signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


def read_ref(git_dir: str, ref: str = BRANCH) -> str | None:
    """The commit a ref points at (loose file first, then packed-refs), or None."""
    try:
        with open(os.path.join(git_dir, ref), encoding="ascii") as handle:
            value = handle.read().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as error:
        raise StoreDamaged(f"cannot read {ref} in {git_dir}: {error}") from None
    try:
        with open(os.path.join(git_dir, "packed-refs"), encoding="ascii") as handle:
            for line in handle:
                sha, _, name = line.strip().partition(" ")
                if name == ref:
                    return sha
    except FileNotFoundError:
        return None
    return None


def cat_objects(git_dir: str, specs: list[str]) -> list[bytes | None]:
    """Contents of objects named by ``specs`` (``<commit>:<path>`` or a sha), None if missing."""
    if not specs:
        return []
    if any("\n" in spec for spec in specs):
        raise ValueError("object names cannot contain newlines")
    output = git(git_dir, "cat-file", "--batch", input_bytes=("\n".join(specs) + "\n").encode())
    results: list[bytes | None] = []
    pos = 0
    for _ in specs:
        newline = output.index(b"\n", pos)
        header = output[pos:newline].split(b" ")
        pos = newline + 1
        if len(header) < 3 or header[-1] in (b"missing", b"ambiguous"):
            results.append(None)
            continue
        size = int(header[2])
        results.append(output[pos : pos + size])
        pos += size + 1
    return results


def rev_list(git_dir: str, tip: str, since: str | None = None) -> list[str]:
    """Commits reachable from ``tip`` (and not from ``since``), oldest first."""
    args = ["rev-list", "--reverse", tip] + ([f"^{since}"] if since else [])
    return git(git_dir, *args).decode("ascii").split()


def is_ancestor(git_dir: str, older: str, newer: str) -> bool:
    env = {**os.environ, "GIT_DIR": git_dir}
    result = subprocess.run(
        ["git", "merge-base", "--is-ancestor", older, newer], capture_output=True, env=env, check=False
    )
    return result.returncode == 0


def parse_commit(data: bytes) -> tuple[dict[str, str], str]:
    """Headers (first of each) and message of a raw commit object."""
    head, _, message = data.partition(b"\n\n")
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\n"):
        key, _, value = line.partition(" ")
        headers.setdefault(key, value)
    return headers, message.decode("utf-8", "replace")


def trailers(message: str) -> dict[str, str]:
    """``Key: value`` lines of a commit message's last paragraph."""
    last = message.rstrip("\n").rsplit("\n\n", 1)[-1]
    found = {}
    for line in last.split("\n"):
        key, sep, value = line.partition(": ")
        if sep:
            found[key] = value
    return found
