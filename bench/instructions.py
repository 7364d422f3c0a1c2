"""Diff engine against git's word diff, counted in CPU instructions (valgrind's callgrind).

Timings on this shared machine wander by 2× within an hour, and Python slows
more than git when the machine is busy, so the time ratio of ``diffspeed``
moves with the hour. Instruction counts do not: the same pair gives the same
count to a few parts in a million. They are not time: git's count leaves out
the kernel's work of starting a process, which is most of git's time on small
pairs (800 words: 1.6× git's instructions, 0.25× its time), and Python's
instructions run at another pace than git's. Read them against revtrack's own
earlier counts: they show whether a change made the engine do less.

revtrack is counted in process: a Python run that reads the pair and aligns it
once (imports, code tables), then the same run aligning it three times more;
the difference over three is one ``align`` (or one ``diff_texts``). git is the
whole ``git diff --no-index --word-diff=porcelain`` process. Same pairs as
``diffspeed``. Skipped, saying so, where valgrind is not installed.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT, article_of, edit, markdown_table, news_paragraphs

_PROGRAM = """
import sys
sys.path.insert(0, {root!r})
from revtrack.diff import diff_texts
from revtrack.engine import align
old = open({old!r}, encoding="utf-8").read()
new = open({new!r}, encoding="utf-8").read()
work = {{"align": align, "diff": diff_texts}}[{what!r}]
work(old, new)
for _ in range({times}):
    work(old, new)
"""


def instructions(command: list[str], env: dict[str, str] | None = None) -> int:
    """Instructions callgrind counts for ``command`` (children not followed; git diff exits 1 on a difference)."""
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False,
    )  # fmt: skip
    found = re.search(r"Collected\s*:\s*(\d+)", result.stderr)
    if found is None or result.returncode not in (0, 1):
        raise RuntimeError(f"callgrind gave no count for {command}: {result.stderr[-300:]}")
    return int(found.group(1))


def revtrack_instructions(old_path: str, new_path: str, what: str, times: int = 3) -> int:
    """Instructions of one ``align`` or ``diff_texts`` of the pair, in process (the mean of ``times``)."""
    env = {"PYTHONHASHSEED": "0"}  # the same set orders, so the same count every run

    def program(times: int) -> list[str]:
        code = _PROGRAM.format(root=str(ROOT), old=old_path, new=new_path, what=what, times=times)
        return [sys.executable, "-c", code]

    return (instructions(program(times), env) - instructions(program(0), env)) // times


def run(tiny: bool = False) -> tuple[str, list[dict[str, int]]]:
    if shutil.which("valgrind") is None:
        return "(skipped: valgrind is not installed here)", []
    rng = random.Random(27102017)  # the pairs of bench/diffspeed.py
    pool = news_paragraphs()
    sizes = (
        [(200, 0.10, "200 (tiny)")]
        if tiny
        else [(800, 0.12, "800, dense"), (5000, 0.03, "5,000"), (50000, 0.02, "50,000")]
    )
    rows, figures = [], []
    with tempfile.TemporaryDirectory(prefix="revtrack-instructions-") as folder:
        for words, rate, label in sizes:
            old_paragraphs = article_of(words, rng, pool)
            old_path, new_path = Path(folder, "old.txt"), Path(folder, "new.txt")
            old_path.write_text("\n\n".join(old_paragraphs), encoding="utf-8")
            new_path.write_text("\n\n".join(edit(old_paragraphs, rng, rate, pool)), encoding="utf-8")
            git = instructions(["git", "diff", "--no-index", "--no-color", "--word-diff=porcelain", str(old_path),
                                str(new_path)])  # fmt: skip
            # The smoke run counts one align only: each count runs Python under valgrind (~6 s).
            ops = revtrack_instructions(str(old_path), str(new_path), "align", times=1 if tiny else 3)
            full = None if tiny else revtrack_instructions(str(old_path), str(new_path), "diff")
            figures.append({"words": words, "git": git, "align": ops, "diff": full or 0})
            rows.append([label, f"{git / 1e6:.1f} M", f"{ops / 1e6:.1f} M", f"{ops / git:.2f}×",
                         f"{full / 1e6:.1f} M" if full else "–", f"{full / git:.2f}×" if full else "–"])  # fmt: skip
    table = markdown_table(
        ["pair (words)", "git --word-diff (whole process)", "revtrack ops (align)", "ops / git", "full diff",
         "full / git"],
        rows,
    )  # fmt: skip
    return table, figures


if __name__ == "__main__":
    print(run()[0])
