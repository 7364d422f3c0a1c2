"""Run every benchmark, print the tables, and append them with the machine to bench/RESULTS.md.

    .venv/bin/python -m bench.run            # everything (a few minutes: it builds a 10,000-article store)
    .venv/bin/python -m bench.run --tiny     # a smoke run on tiny inputs (what the test suite does)
    .venv/bin/python -m bench.run --only diff,latency
    .venv/bin/python -m bench.run --only layout         # the store layouts at 100,000 articles (~3 min)
    .venv/bin/python -m bench.run --only instructions   # needs valgrind; deterministic counts

Each benchmark compares against a baseline measured in the same run (git's own
word diff, git fast-import, the bare Typer+rich import), so the ratios hold on
any machine even when absolute times do not.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from bench import diffspeed, extraction, history, instructions, latency, layout, realdata_check, scale, watchpass
from bench.common import machine

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTIONS = {
    "latency": ("Start-up of each command (whole process)", latency.run),
    "diff": ("Diff engine against git --word-diff", diffspeed.run),
    "instructions": ("Diff engine against git --word-diff, in CPU instructions (callgrind)", instructions.run),
    "realdata": ("250 real Wikipedia revision pairs", None),
    "scale": ("Cost against store size", scale.run),
    "history": ("Long histories: a live blog against git", history.run),
    "layout": ("Store layout at many articles", layout.run),
    "extraction": ("Article extraction on 181 real news pages", extraction.run),
    "watch": ("A watch pass over real news pages from 127.0.0.1", watchpass.run),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny inputs: check the scripts run, record nothing")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    args = parser.parse_args(argv)
    chosen = [name for name in args.only.split(",") if name]
    out = [f"## {datetime.date.today().isoformat()} · {machine()}" + (" · tiny" if args.tiny else ""), ""]
    ok = True
    for name in chosen:
        title, function = SECTIONS[name]
        if name == "realdata":
            if not realdata_check.DATA.exists():
                table = f"(skipped: {realdata_check.DATA} is not here)"
            else:
                table, passed = realdata_check.run(limit=3 if args.tiny else None)
                ok &= passed
        else:
            assert function is not None
            table = function(tiny=args.tiny)[0]
        section = f"### {title}\n\n{table}\n"
        print(section, flush=True)
        out.append(section)
    if not args.tiny:
        with open(RESULTS, "a", encoding="utf-8") as handle:
            handle.write("\n".join(out) + "\n")
        print(f"appended to {RESULTS}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
