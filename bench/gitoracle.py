"""git's own word diff as the yardstick: how many non-whitespace characters it marks changed."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time


def git_word_diff(old: str, new: str) -> tuple[int, float]:
    """(changed non-whitespace characters, seconds) of ``git diff --no-index --word-diff=porcelain``.

    The time is the whole git process, as a user would pay it.
    """
    with tempfile.TemporaryDirectory() as folder:
        a, b = os.path.join(folder, "a"), os.path.join(folder, "b")
        with open(a, "w", encoding="utf-8") as handle:
            handle.write(old)
        with open(b, "w", encoding="utf-8") as handle:
            handle.write(new)
        start = time.perf_counter()
        result = subprocess.run(
            ["git", "diff", "--no-index", "--no-color", "--word-diff=porcelain", a, b],
            capture_output=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
    changed = 0
    in_hunk = False
    for line in result.stdout.decode("utf-8", "replace").split("\n"):
        if line.startswith("@@"):
            in_hunk = True
        elif in_hunk and line[:1] in ("+", "-"):
            changed += sum(1 for ch in line[1:] if not ch.isspace())
    return changed, elapsed


def changed_chars(ops) -> int:  # type: ignore[no-untyped-def]
    """Non-whitespace characters in the insert and delete ops of a revtrack diff."""
    return sum(sum(1 for ch in op.text if not ch.isspace()) for op in ops if op.op != "equal")
