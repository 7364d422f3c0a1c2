"""Helpers shared by the benchmarks: timing, machine description, corpora, result tables."""

from __future__ import annotations

import json
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REALDATA = ROOT.parent / "shared" / "realdata"
SEEDS = ROOT / "seeds" / "rudaw-coalition-ceasefire"


def timings(run: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def interleaved_process_seconds(commands: dict[str, list[str]], repeat: int) -> dict[str, float]:
    """Median wall time of each whole process, the commands taking turns (order reversed every other round).

    Measured one after another, two commands compared with each other also
    compare the machine's phases: the 10,000-article store's `log` measured
    1.24x and 1.41x the 10-article store's right after the other's nine runs,
    and 0.90x taking turns with it (medians of 21).
    """
    times: dict[str, list[float]] = {name: [] for name in commands}

    def run(command: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start

    for command in commands.values():
        run(command)  # warm the page cache
    names = list(commands)
    for round_number in range(repeat):
        for name in names if round_number % 2 == 0 else reversed(names):
            times[name].append(run(commands[name]))
    return {name: statistics.median(values) for name, values in times.items()}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        cpu = f"{names[0]} × {len(names)}" if names else cpu
    except OSError:
        pass
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}; {platform.system()} {platform.release()}; Python {platform.python_version()}; {git}"


def news_paragraphs(limit: int | None = None) -> list[str]:
    """Real news prose: paragraphs of the human-checked article bodies in ../shared (or the seeds)."""
    source = REALDATA / "article-extraction-benchmark" / "ground-truth.json"
    paragraphs: list[str] = []
    if source.exists():
        data = json.loads(source.read_text(encoding="utf-8"))
        for item in data.values():
            paragraphs += [p.strip() for p in item["articleBody"].split("\n") if len(p.split()) >= 12]
    else:
        for name in ("v1.txt", "v2.txt", "v3.txt"):
            paragraphs += [
                p.strip() for p in (SEEDS / name).read_text(encoding="utf-8").split("\n\n") if len(p.split()) >= 12
            ]
    return paragraphs[:limit] if limit else paragraphs


def article_of(words: int, rng: random.Random, paragraphs: list[str]) -> list[str]:
    """Distinct paragraphs (news articles rarely repeat one) adding up to ``words``."""
    order = rng.sample(range(len(paragraphs)), len(paragraphs))
    chosen: list[str] = []
    count = 0
    for index in order:
        if count >= words:
            break
        chosen.append(paragraphs[index])
        count += len(paragraphs[index].split())
    return chosen


def edit(paragraphs: list[str], rng: random.Random, rate: float, pool: list[str]) -> list[str]:
    """Realistic revisions: reworded phrases, changed numbers, added/removed/moved paragraphs."""
    out = []
    for paragraph in paragraphs:
        roll = rng.random()
        if roll < rate * 0.3:
            continue  # paragraph removed
        words = paragraph.split(" ")
        if roll < rate * 3:
            for _ in range(max(1, len(words) // 25)):
                i = rng.randrange(len(words))
                words[i] = rng.choice(["officials", "reportedly", "17", "three", "said", "confirmed", "at least"])
        out.append(" ".join(words))
        if rng.random() < rate * 0.4:
            out.append(rng.choice(pool))  # new paragraph
    if len(out) > 3 and rng.random() < 0.8:
        out.append(out.pop(rng.randrange(len(out) // 2)))  # a paragraph moved to the end
    return out


def repo_bytes(path: Path) -> int:
    """Bytes of a store's git objects (packs, their indexes, loose objects, the commit-graph)."""
    return sum(p.stat().st_size for p in (path / "objects").rglob("*") if p.is_file())


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def python() -> str:
    return sys.executable
