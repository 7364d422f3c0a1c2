"""The store's tree layout at many articles, format 2 against format 3: git fast-import alone, then revtrack import.

Every version rewrites each tree on the path from the root to the article's
files, so the layout sets what git must hash, compress and delta per commit.
Format 2 (``<ab>/<cd>/<id>.*``) has a 256-entry root and ``<ab>`` trees that
fill to 256 entries as the store grows; format 3 (``<a>/<b>/<c>/<id>.*``) has
trees of at most 32 folders. Here each format gets the same stream of new
articles (one small version each, ids like a news site's), and git alone
writes it: the cost of the layout, without revtrack's own. Then ``revtrack
import`` loads the same articles into a store of each format (full-text index
and all, the final repack left out), to show what the layout means end to end.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import markdown_table
from revtrack.ids import FORMAT_FLAT, FORMAT_NARROW, LAYOUTS, article_path, file_path
from revtrack.importer import FAST_IMPORT_ENV, import_snapshots, jsonl_snapshots
from revtrack.store import Store

FORMATS = {number: f"format {number}, `{LAYOUTS[number]}`" for number in (FORMAT_FLAT, FORMAT_NARROW)}


def _article(number: int) -> str:
    return f"site-{number % 97}/story-{number}"


def stream(articles: int, store_format: int) -> bytes:
    """One commit per new article with its two small files, in the given layout."""
    parts = []
    for number in range(1, articles + 1):
        article = _article(number)
        path = article_path(article, store_format)
        message = f"{article} r1\n".encode()
        parts.append(
            f"commit refs/heads/main\ncommitter bench <bench@example.org> {1700000000 + number} +0000\n"
            f"data {len(message)}\n".encode() + message + b"\n"
        )  # fmt: skip
        for name in ("article.txt", "meta.json"):
            data = f"{article} {name} {number}\n".encode() * 8
            parts.append(f"M 100644 inline {file_path(path, name)}\ndata {len(data)}\n".encode() + data + b"\n")
        parts.append(b"\n")
    return b"".join(parts)


def fast_import_seconds(commands: bytes, folder: Path) -> tuple[float, int]:
    """Wall seconds git fast-import takes for ``commands`` into a new repository, and the pack's bytes."""
    subprocess.run(["git", "init", "-q", "--bare", str(folder)], check=True)
    start = time.perf_counter()
    subprocess.run(
        ["git", "--git-dir", str(folder), "fast-import", "--quiet"],
        input=commands, check=True, env={**FAST_IMPORT_ENV, **os.environ},
    )  # fmt: skip
    seconds = time.perf_counter() - start
    return seconds, sum(p.stat().st_size for p in (folder / "objects").rglob("*") if p.is_file())


def import_seconds(articles: int, store_format: int, folder: Path) -> float:
    """Seconds ``revtrack import`` takes for that many new short articles into a new store of ``store_format``."""
    records = "".join(
        json.dumps({"article": _article(number), "observed_at": "2024-01-01T10:00:00+00:00",
                    "title": f"Story {number}", "body": f"Paragraph {number} of a short article.\n\nAnother one."})
        + "\n"
        for number in range(1, articles + 1)
    )  # fmt: skip
    with Store(str(folder)) as created:
        created.ensure()
    # An older format is what store.json says (how revtrack reads an older store's layout).
    with open(os.path.join(created.meta_dir, "store.json"), "w", encoding="utf-8") as handle:
        json.dump({"format": store_format, "created_by": "bench/layout.py"}, handle)
    with Store(str(folder)) as store:
        start = time.perf_counter()
        report = import_snapshots(store, jsonl_snapshots(io.StringIO(records)))
        seconds = time.perf_counter() - start
    assert report.recorded == articles, report
    root = subprocess.run(["git", "--git-dir", str(folder), "ls-tree", "--name-only", "main"], capture_output=True)
    assert {len(name) for name in root.stdout.split()} == {2 if store_format == FORMAT_FLAT else 1}, "wrong layout"
    return seconds - report.seconds_packing  # the final repack is not the layout's cost


def run(tiny: bool = False, articles: int | None = None) -> tuple[str, dict[str, float]]:
    count = articles or (300 if tiny else 100_000)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="revtrack-bench-layout-") as folder_name:
        for store_format in FORMATS:
            commands = stream(count, store_format)
            seconds, size = fast_import_seconds(commands, Path(folder_name) / f"format{store_format}.git")
            figures[f"rate_{store_format}"] = count / seconds
            figures[f"mb_{store_format}"] = size / 1e6
            seconds = import_seconds(count, store_format, Path(folder_name) / f"store{store_format}")
            figures[f"import_{store_format}"] = count / seconds
    rows = [
        [label, f"{figures[f'rate_{store_format}']:,.0f}", f"{figures[f'mb_{store_format}']:.1f}",
         f"{figures[f'rate_{store_format}'] / figures[f'rate_{FORMAT_FLAT}']:.2f}×",
         f"{figures[f'import_{store_format}']:,.0f}",
         f"{figures[f'import_{store_format}'] / figures[f'import_{FORMAT_FLAT}']:.2f}×"]
        for store_format, label in FORMATS.items()
    ]  # fmt: skip
    header = [
        "layout", f"git fast-import alone, new articles per second ({count:,})", "pack MB", "vs format 2",
        "`revtrack import`, per second (before the repack)", "vs format 2",
    ]  # fmt: skip
    return markdown_table(header, rows), figures
