"""Long histories: a live blog of many revisions, against git's own answers on the same store.

Live blogs are rewritten hundreds of times a day: an update on top, now and
then a correction further down. Each command runs as a whole process, taking
turns with its baseline, on one store:

- ``revtrack when`` against ``git log -S`` (git's pickaxe: the commits that
  changed how often a string occurs in the article's file);
- ``revtrack blame`` against ``git blame`` of that file (one paragraph a line);
- ``revtrack log`` against ``git log`` of its path;
- ``revtrack diff`` of the first and last revision against ``git diff --word-diff``.

revtrack answers more than git does (a phrase regardless of quotation marks and
line breaks, with its sentence; sentences rather than lines), so the ratio is
the price of that, not a race on equal terms. Peak memory is each command's
alone (its resident set at most, from one more run).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import interleaved_process_seconds, markdown_table, news_paragraphs, python, repo_bytes

ARTICLE = "live-blog"
CORRECTION = "Correction: an earlier version of this post gave the toll as 17; it is 23."
PHRASE = "the toll as 17"


def live_blog(revisions: int, rng: random.Random, pool: list[str]) -> list[dict[str, str]]:
    """One record a revision: an update on top each time, a word corrected in an older post every fifth, and
    the correction note from a tenth of the way in."""
    posts: list[str] = []
    records = []
    for number in range(revisions):
        posts.insert(0, f"Update {number}: {rng.choice(pool)}")
        if number % 5 == 4 and len(posts) > 3:
            older = rng.randrange(1, len(posts))
            words = posts[older].split()
            words[rng.randrange(len(words))] = "corrected"
            posts[older] = " ".join(words)
        note = [CORRECTION] if number >= revisions // 10 else []
        hours, minutes = divmod(number, 60)
        records.append({
            "article": ARTICLE, "title": "Live: the count goes on",
            "observed_at": f"2024-05-{1 + hours // 24:02d}T{hours % 24:02d}:{minutes:02d}:00+00:00",
            "body": "\n\n".join(posts + note),
        })  # fmt: skip
    return records


def peak_mb(command: list[str]) -> float:
    """Peak resident memory of one run of ``command``, in MB (a fresh interpreter waits for it alone)."""
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    answer = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True)
    return int(answer.stdout) / 1024  # kilobytes on Linux


def run(tiny: bool = False) -> tuple[str, dict[str, float]]:
    revisions = 20 if tiny else 500
    repeat = 3 if tiny else 7
    records = live_blog(revisions, random.Random(500), news_paragraphs())
    figures: dict[str, float] = {"revisions": revisions, "megabytes": sum(len(r["body"]) for r in records) / 1e6}
    with tempfile.TemporaryDirectory(prefix="revtrack-history-") as folder:
        store = Path(folder) / "store"
        source = Path(folder) / "live-blog.jsonl"
        source.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
        revtrack = [python(), "-m", "revtrack", "--store", str(store)]
        subprocess.run([*revtrack, "import", str(source)], check=True, capture_output=True)
        figures["git_mb"] = repo_bytes(store) / 1e6
        figures["index_mb"] = (store / "revtrack" / "index.sqlite").stat().st_size / 1e6
        log = json.loads(subprocess.run([*revtrack, "log", ARTICLE, "--format", "json"], check=True,
                                        capture_output=True, text=True).stdout)["revisions"]  # fmt: skip
        first, last = log[0]["commit"], log[-1]["commit"]
        listing = ["git", "--git-dir", str(store), "ls-tree", "-r", "--name-only", last]
        path = next(name for name in subprocess.run(listing, check=True, capture_output=True, text=True).stdout.split()
                    if name.endswith(f"{ARTICLE}.article.txt"))  # fmt: skip
        git = ["git", "--git-dir", str(store)]
        pairs = {
            "when (a correction, there from a tenth of the way in)": (
                [*revtrack, "when", ARTICLE, PHRASE],
                [*git, "log", f"-S{PHRASE}", "--format=%H", last, "--", path],
            ),
            "when (the last update only)": (
                [*revtrack, "when", ARTICLE, f"Update {revisions - 1}:"],
                [*git, "log", f"-SUpdate {revisions - 1}:", "--format=%H", last, "--", path],
            ),
            "blame": ([*revtrack, "blame", ARTICLE], [*git, "blame", "--porcelain", last, "--", path]),
            "log": ([*revtrack, "log", ARTICLE], [*git, "log", "--format=%H %ad %s", last, "--", path]),
            "diff of the first and last revision": (
                [*revtrack, "diff", ARTICLE, "1", str(revisions)],
                [*git, "diff", "--word-diff=porcelain", first, last, "--", path],
            ),
        }
        commands = {f"{name} · {side}": command for name, pair in pairs.items()
                    for side, command in zip(("revtrack", "git"), pair, strict=True)}  # fmt: skip
        commands["floor"] = [python(), "-c", "import typer, rich.console"]  # what any Typer+rich tool pays to start
        figures.update(interleaved_process_seconds(commands, repeat))
        for name, (ours, _) in pairs.items():
            figures[f"{name} · MB"] = peak_mb(ours)
    rows = [["floor: `import typer, rich.console`", f"{figures['floor'] * 1e3:.0f}", "", "", "", ""]]
    for name in pairs:
        ours, theirs = figures[f"{name} · revtrack"], figures[f"{name} · git"]
        rows.append([name, f"{ours * 1e3:.0f}", f"{(ours - figures['floor']) * 1e3:.0f}", f"{theirs * 1e3:.0f}",
                     f"{ours / theirs:.1f}×", f"{figures[f'{name} · MB']:.0f}"])  # fmt: skip
    title = f"a live blog of {revisions} revisions, {figures['megabytes']:.1f} M characters in all"
    headers = [
        f"command ({title}; process, median)",
        "revtrack ms",
        "above the floor",
        "git ms",
        "÷ git",
        "revtrack MB",
    ]
    sizes = (
        f"The store after the import: git objects {figures['git_mb']:.2f} MB, the index (SQLite, full text "
        f"included) {figures['index_mb']:.1f} MB, for {figures['megabytes']:.1f} M characters of text."
    )
    return markdown_table(headers, rows) + "\n\n" + sizes, figures


if __name__ == "__main__":
    print(run()[0])
