"""Cost against store size: snapshots, history, bulk import, storage, search, the watch's schedule.

Two stores are built with ``revtrack import`` from real news paragraphs: 10
articles and 10,000 articles, 3 versions each. In both, the same work is timed:
in-process snapshots of new versions (target ≥ 300/s, the large store within
1.2× of the small), ``revtrack log`` of a 20-revision article as a whole process
(within 1.2×), ``revtrack search`` as a whole process. Snapshots are timed
both one call each and through ``Store.batch`` ten at a time (a watch pass: one
pack and two disk flushes per batch, the automatic joins of those packs
inside the timed rounds). Snapshots are timed once more with the small store
in memory (where /dev/shm exists), to tell revtrack's own cost from this
disk's. The import of the large store is timed against ``git fast-import``
alone on the same stream (prepared in advance: what git alone needs for this
layout), and its size after ``git gc`` against the raw
text of all versions (target ≤ 0.25×). The same records are imported once
more ordered by time, as a crawler's log holds them: read ahead, they are
found to interleave articles, and their texts are given to git article by
article (before session 15 the final repack searched every text's delta again).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import (
    REALDATA,
    article_of,
    edit,
    interleaved_process_seconds,
    markdown_table,
    news_paragraphs,
    python,
    repo_bytes,
)
from revtrack import record
from revtrack.gitwrite import sync_store
from revtrack.ids import article_path
from revtrack.importer import FAST_IMPORT_ENV, import_snapshots, jsonl_articles, jsonl_snapshots, read_ahead
from revtrack.model import Snapshot
from revtrack.store import Store

BATCH = 10  # versions a batch: a watch pass that finds ten changed pages


def corpus(articles: int, versions: int, rng: random.Random, pool: list[str]) -> list[dict[str, str]]:
    records = []
    for number in range(articles):
        paragraphs = article_of(rng.randint(300, 700), rng, pool)
        for version in range(versions):
            records.append({
                "article": f"site-{number % 97}/story-{number}",
                "observed_at": f"2024-0{1 + version}-01T{number % 24:02d}:00:00+02:00",
                "title": f"Story {number}: {paragraphs[0][:60]}",
                "body": "\n\n".join(paragraphs),
            })  # fmt: skip
            paragraphs = edit(paragraphs, rng, 0.05, pool)
    return records


def build(path: Path, records: list[dict[str, str]]) -> tuple[float, float]:
    """Import the records as `revtrack import` does (read ahead first); versions/s with and without the final repack."""
    stream = io.StringIO("".join(json.dumps(r) + "\n" for r in records))
    start = time.perf_counter()
    with Store(str(path)) as store:
        ahead = read_ahead(jsonl_articles(stream))
        report = import_snapshots(store, jsonl_snapshots(stream, pages=ahead.pages), interleaved=ahead.interleaved)
    elapsed = time.perf_counter() - start
    assert report.recorded + report.unchanged == len(records), report
    return len(records) / elapsed, len(records) / (elapsed - report.seconds_packing)


def fast_import_alone(records: list[dict[str, str]], folder: Path) -> tuple[float, float]:
    """git fast-import on the stream revtrack would send, prepared beforehand: the same layout, files and messages.

    So the import rate can be read against what git itself needs for this store
    layout (``<a>/<b>/<c>/<id>.article.txt``: four trees per commit). Returned:
    versions per second as git runs by default, and with the memory setting
    revtrack gives it (:data:`revtrack.importer.FAST_IMPORT_ENV`).
    """
    revs: dict[str, int] = {}
    parts = []
    for mark, item in enumerate(records, start=1):
        snapshot = Snapshot(item["article"], item["title"], item["body"], item["observed_at"])
        revs[snapshot.article] = rev = revs.get(snapshot.article, 0) + 1
        message = record.message(snapshot, rev).encode()
        path = article_path(snapshot.article)
        parts.append(
            f"commit refs/heads/main\nmark :{mark}\ncommitter {record.identity()} {1700000000 + mark} +0200\n"
            f"data {len(message)}\n".encode() + message + b"\n"
        )  # fmt: skip
        for name, data in record.files(snapshot).items():
            parts.append(f"M 100644 inline {path}/{name}\ndata {len(data)}\n".encode() + data + b"\n")
        parts.append(b"\n")
    stream = b"".join(parts)
    rates = []
    for name, env in (("plain.git", os.environ), ("tuned.git", {**FAST_IMPORT_ENV, **os.environ})):
        git_dir = folder / name
        subprocess.run(["git", "init", "-q", "--bare", str(git_dir)], check=True)
        start = time.perf_counter()
        subprocess.run(["git", "--git-dir", str(git_dir), "fast-import", "--quiet"], input=stream, check=True, env=env)
        rates.append(len(records) / (time.perf_counter() - start))
    return rates[0], rates[1]


def snapshot_rate(
    path: Path,
    records: list[dict[str, str]],
    count: int,
    rng: random.Random,
    pool: list[str],
    first: int = 0,
    batch: int = 0,
) -> float:
    """Snapshots per second of ``count`` edited versions; ``first`` numbers them on from earlier rounds.

    ``batch``: record them through ``Store.batch`` this many at a time (a watch
    pass), automatic maintenance included; 0: one ``snapshot`` call each.
    """
    latest: dict[str, dict[str, str]] = {r["article"]: r for r in records}
    targets = rng.sample(sorted(latest), min(count, len(latest)))
    work = []
    for offset, article in enumerate((targets * (count // len(targets) + 1))[:count]):
        number = first + offset
        body = "\n\n".join(edit(latest[article]["body"].split("\n\n"), rng, 0.05, pool)) + f"\n\nUpdate {number}."
        observed = f"2024-06-01T{number // 3600:02d}:{number // 60 % 60:02d}:{number % 60:02d}+02:00"
        work.append(Snapshot(article, latest[article]["title"], body, observed))
    with Store(str(path)) as store:
        store.snapshot(work[0])  # open the index and the object database before timing
        start = time.perf_counter()
        if not batch:
            for snapshot in work[1:]:
                store.snapshot(snapshot)
        for offset in range(1, len(work), batch or len(work)):
            with store.batch():
                for snapshot in work[offset : offset + batch]:
                    store.snapshot(snapshot)
        return (len(work) - 1) / (time.perf_counter() - start)


def grow_to_twenty(path: Path, article: str, rng: random.Random, pool: list[str]) -> None:
    with Store(str(path)) as store:
        revision = store.revision(article)
        body = store.text(revision).body
        while revision.rev < 20:
            body = "\n\n".join(edit(body.split("\n\n"), rng, 0.05, pool))
            store.snapshot(Snapshot(article, revision.title, body, f"2024-07-{revision.rev:02d}T10:00:00+02:00"))
            revision = store.revision(article)


def _cli_snapshot_seconds(folder: Path, articles: dict[str, str], repeat: int) -> dict[str, float]:
    """Median seconds of ``revtrack snapshot`` of a new version as a whole process, the stores taking turns.

    In one process (the rates above) the smaller store's trees stay in the
    writer's cache from one snapshot to the next, and the larger store's
    mostly do not; a command reads its store's trees afresh at any size.
    """
    seconds: dict[str, list[float]] = {name: [] for name in articles}
    source = folder / "cli-version.txt"
    for turn in range(repeat):
        for name, article in articles.items():
            source.write_text(f"Version {turn}\n\n" + f"A new paragraph {turn} of {name}. " * 20, encoding="utf-8")
            at = f"2030-01-01T00:{turn // 60:02d}:{turn % 60:02d}+00:00"
            command = [python(), "-m", "revtrack", "--store", str(folder / name), "snapshot", str(source)]
            start = time.perf_counter()
            subprocess.run([*command, "--article", article, "--at", at], check=True, capture_output=True)
            seconds[name].append(time.perf_counter() - start)
    return {f"cli_snapshot_{name}": statistics.median(values) for name, values in seconds.items()}


def run(tiny: bool = False) -> tuple[str, dict[str, float]]:
    rng = random.Random(1028)
    pool = news_paragraphs()
    big_count = 60 if tiny else 10_000
    snapshots = 20 if tiny else 300
    repeat = 3 if tiny else 9
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="revtrack-bench-") as folder_name:
        folder = Path(folder_name)
        small_records = corpus(10, 3, rng, pool)
        big_records = corpus(big_count, 3, rng, pool)
        figures["import_small"], figures["import_small_unpacked"] = build(folder / "small", small_records)
        figures["import_big"], figures["import_big_unpacked"] = build(folder / "big", big_records)
        # The same records in the order a crawler's log holds them (by time, articles
        # interleaved): the import holds the texts back and gives them to git by article.
        by_time = sorted(big_records, key=lambda item: item["observed_at"])
        figures["import_by_time"], figures["import_by_time_unpacked"] = build(folder / "by-time", by_time)
        shutil.rmtree(folder / "by-time")
        figures["fast_import_alone"], figures["fast_import_tuned"] = fast_import_alone(big_records, folder)
        raw = sum(len(f"{r['title']}\n\n{r['body']}".encode()) for r in big_records)
        # A plain `git gc` on top of the import's own repack (it keeps revtrack's deltas).
        subprocess.run(["git", "--git-dir", str(folder / "big"), "gc", "--quiet"], check=True)
        figures["storage_ratio"] = repo_bytes(folder / "big") / raw
        figures["index_ratio"] = (folder / "big" / "revtrack" / "index.sqlite").stat().st_size / raw
        figures["raw_mb"] = raw / 1e6
        figures.update(real_pairs_storage(folder / "wikipedia", 3 if tiny else None))
        # Snapshot rates in alternating rounds, the best round of each store
        # counting: the disk's own pauses should not decide the comparison.
        for round_number in range(3):
            for name, records in (("small", small_records), ("big", big_records)):
                first = round_number * snapshots
                rate = snapshot_rate(folder / name, records, snapshots // 3, rng, pool, first)
                figures[f"snap_{name}"] = max(figures.get(f"snap_{name}", 0.0), rate)
        # The same through Store.batch, ten versions a batch as a watch pass
        # records them: one pack per batch, so the automatic joins of those
        # packs fall inside the timed rounds; every round counts.
        for round_number in range(3):
            for name, records in (("small", small_records), ("big", big_records)):
                first = 3 * snapshots + round_number * snapshots
                start = time.perf_counter()
                snapshot_rate(folder / name, records, snapshots, rng, pool, first, batch=BATCH)
                figures[f"batch_seconds_{name}"] = (
                    figures.get(f"batch_seconds_{name}", 0.0) + time.perf_counter() - start
                )
        for name in ("small", "big"):
            figures[f"snap_batched_{name}"] = 3 * snapshots / figures[f"batch_seconds_{name}"]
        # Each store's watch state tracks as many URLs as it has articles.
        for name, tracked in (("small", 10), ("big", big_count)):
            figures[f"watch_due_ms_{name}"] = _watch_due_ms(folder / name / "revtrack" / "watch.sqlite", tracked)
        reads: dict[str, list[str]] = {}
        for name, records in (("small", small_records), ("big", big_records)):
            article = records[0]["article"]
            grow_to_twenty(folder / name, article, rng, pool)
            command = [python(), "-m", "revtrack", "--store", str(folder / name)]
            reads[f"log_{name}"] = [*command, "log", article, "--format", "json"]
            phrase = " ".join(records[len(records) // 2]["body"].split()[5:8])
            reads[f"search_{name}"] = [*command, "search", phrase, "--format", "json"]
            # A word nearly every article has: the answer is cut at the default limit (100 articles).
            reads[f"search_common_{name}"] = [*command, "search", "the", "--format", "json"]
            # ... and every one of them listed: the spans of each article's matching passages.
            reads[f"search_all_{name}"] = [*command, "search", "the", "--limit", "0", "--format", "json"]
            reads[f"watch_status_{name}"] = [*command, "watch", "--status", "--limit", "100", "--format", "json"]
            # The other commands of one article (the 20-revision one), as a reader runs them.
            reads[f"diff_{name}"] = [*command, "diff", article, "19", "20"]
            reads[f"show_{name}"] = [*command, "show", article]
            reads[f"when_{name}"] = [*command, "when", article, " ".join(records[0]["body"].split()[5:8])]
            reads[f"blame_{name}"] = [*command, "blame", article]
        # Both stores' commands take turns, so that the machine's phases fall on both.
        figures.update(interleaved_process_seconds(reads, repeat))
        last_articles = {"small": small_records[-1]["article"], "big": big_records[-1]["article"]}
        figures.update(_cli_snapshot_seconds(folder, last_articles, repeat))
        figures["files_per_snapshot"] = _files_floor(folder)
        figures["flushes_per_snapshot"] = _flush_floor(folder, 20 if tiny else 100)
    # The same snapshots with the store in memory (tmpfs), where there is one:
    # what revtrack itself costs, without this disk's file creation and flushes.
    memory = Path("/dev/shm")
    if memory.is_dir() and os.access(memory, os.W_OK):
        with tempfile.TemporaryDirectory(prefix="revtrack-bench-", dir=memory) as folder_name:
            build(Path(folder_name) / "small", small_records)
            figures["snap_small_tmpfs"] = snapshot_rate(
                Path(folder_name) / "small", small_records, snapshots, rng, pool
            )
            figures["snap_batched_small_tmpfs"] = snapshot_rate(
                Path(folder_name) / "small", small_records, snapshots, rng, pool, snapshots, batch=BATCH
            )
    rows = [
        ["snapshots per second (in process)", f"{figures['snap_small']:.0f}", f"{figures['snap_big']:.0f}",
         f"{figures['snap_small'] / figures['snap_big']:.2f}×", "≥ 300/s; ≤ 1.2×"],
        [f"snapshots per second through `Store.batch`, {BATCH} a batch, maintenance included",
         f"{figures['snap_batched_small']:.0f}", f"{figures['snap_batched_big']:.0f}",
         f"{figures['snap_batched_small'] / figures['snap_batched_big']:.2f}×", "≥ 300/s; ≤ 1.2×"],
        ["`revtrack snapshot` of a new version (process, ms)", f"{figures['cli_snapshot_small'] * 1e3:.0f}",
         f"{figures['cli_snapshot_big'] * 1e3:.0f}",
         f"{figures['cli_snapshot_big'] / figures['cli_snapshot_small']:.2f}×", "(each process reads its trees anew)"],
        ["`log` of a 20-revision article (process, ms)", f"{figures['log_small'] * 1e3:.0f}",
         f"{figures['log_big'] * 1e3:.0f}", f"{figures['log_big'] / figures['log_small']:.2f}×", "≤ 1.2×"],
        *[[f"`{what}` of the 20-revision article (process, ms)", f"{figures[f'{key}_small'] * 1e3:.0f}",
            f"{figures[f'{key}_big'] * 1e3:.0f}", f"{figures[f'{key}_big'] / figures[f'{key}_small']:.2f}×", "flat"]
          for what, key in (("diff 19 20", "diff"), ("show", "show"), ("when", "when"), ("blame", "blame"))],
        ["`search` of a phrase (process, ms)", f"{figures['search_small'] * 1e3:.0f}",
         f"{figures['search_big'] * 1e3:.0f}", f"{figures['search_big'] / figures['search_small']:.2f}×", "flat"],
        ["`search the` (in nearly every article; 100 shown) (process, ms)",
         f"{figures['search_common_small'] * 1e3:.0f}", f"{figures['search_common_big'] * 1e3:.0f}",
         f"{figures['search_common_big'] / figures['search_common_small']:.2f}×", "flat"],
        ["`search the --limit 0` (every matching article listed) (process, ms)",
         f"{figures['search_all_small'] * 1e3:.0f}", f"{figures['search_all_big'] * 1e3:.0f}",
         f"{(figures['search_all_big'] - figures['search_all_small']) / big_count * 1e6:.0f} µs an article more",
         "in proportion to the articles listed"],
        ["a watch pass's due URLs and next wake, 10 due (ms; URLs tracked as articles)",
         f"{figures['watch_due_ms_small']:.3f}", f"{figures['watch_due_ms_big']:.3f}",
         f"{figures['watch_due_ms_big'] / figures['watch_due_ms_small']:.2f}×", "flat"],
        ["`watch --status --limit 100`, with the whole list counted (process, ms)",
         f"{figures['watch_status_small'] * 1e3:.0f}", f"{figures['watch_status_big'] * 1e3:.0f}",
         f"{figures['watch_status_big'] / figures['watch_status_small']:.2f}×", "flat"],
        ["import, versions per second (before the final repack)", f"{figures['import_small_unpacked']:.0f}",
         f"{figures['import_big_unpacked']:.0f}", f"git fast-import alone: {figures['fast_import_alone']:.0f}/s "
         f"({figures['fast_import_tuned']:.0f}/s with revtrack's memory setting)",
         "≥ 2,000/s"],
        ["import, versions per second (including the repack)", f"{figures['import_small']:.0f}",
         f"{figures['import_big']:.0f}", "", ""],
        ["the same records ordered by time, before the final repack / including it", "",
         f"{figures['import_by_time_unpacked']:.0f} / {figures['import_by_time']:.0f}",
         "texts given to git by article", ""],
        ["size after git gc / raw text", "", f"{figures['storage_ratio']:.3f}",
         f"raw text {figures['raw_mb']:.1f} MB", "≤ 0.25×"],
        ["the index after the import (SQLite, full text included) / raw text", "", f"{figures['index_ratio']:.3f}",
         "as the import left it (compacted once 5% of it is free)", ""],
        ["the same for real revisions: Wikipedia pages of 2 versions each (wikidiff2's 250 pairs)", "",
         f"{figures['wikipedia_storage_ratio']:.3f}" if "wikipedia_storage_ratio" in figures else "(no ../shared)",
         f"raw text {figures['wikipedia_raw_mb']:.1f} MB" if "wikipedia_raw_mb" in figures else "", ""],
        ["snapshots per second with the store in memory (tmpfs)",
         f"{figures['snap_small_tmpfs']:.0f}" if "snap_small_tmpfs" in figures else "(no /dev/shm)", "",
         "no disk: revtrack's own cost", "≥ 300/s"],
        [f"the same through `Store.batch`, {BATCH} a batch (tmpfs)",
         f"{figures['snap_batched_small_tmpfs']:.0f}" if "snap_small_tmpfs" in figures else "(no /dev/shm)", "",
         "", "≥ 300/s"],
        ["creating 6 files here (the object files of one snapshot), ms", "", f"{figures['files_per_snapshot']:.2f}",
         "filesystem floor per snapshot", ""],
        ["a small file written and renamed, the disk flushed before and after (a snapshot's two flushes), ms", "",
         f"{figures['flushes_per_snapshot']:.2f}",
         f"disk floor per single snapshot: at most {1e3 / figures['flushes_per_snapshot']:.0f}/s", ""],
    ]  # fmt: skip
    table = markdown_table(["measure", "10 articles", f"{big_count:,} articles", "ratio / baseline", "target"], rows)
    return table, figures


def real_pairs_storage(path: Path, per_language: int | None) -> dict[str, float]:
    """Store size after `git gc` against the raw text for the real revision pairs in ../shared (none: {}).

    The benchmark's own articles are ~3.6 KB with 3 versions, where zlib keeps
    55% of each first version; these are real edits of long pages.
    """
    data = REALDATA / "wikidiff2-revs" / "revs.json.gz"
    if not data.exists():
        return {}
    records = [
        {"article": f"{language}/page-{number}", "observed_at": f"2024-01-0{version + 1}T00:00:00Z",
         "title": f"{language} page {number}", "body": text}
        for language, pairs in json.loads(gzip.decompress(data.read_bytes())).items()
        for number, pair in enumerate(pairs[:per_language])
        for version, text in enumerate(pair)
    ]  # fmt: skip
    build(path, records)
    subprocess.run(["git", "--git-dir", str(path), "gc", "--quiet"], check=True)
    raw = sum(len(f"{r['title']}\n\n{r['body']}".encode()) for r in records)
    return {"wikipedia_storage_ratio": repo_bytes(path) / raw, "wikipedia_raw_mb": raw / 1e6}


def _watch_due_ms(path: Path, tracked: int) -> float:
    """Median milliseconds for a watch pass's two schedule lookups: the URLs due now, and when the next one is.

    ``tracked`` URLs, 10 of them due and a third past their schedule (no
    longer checked, still listed for ``watch --status``).
    """
    from revtrack.watchstate import WatchState

    state = WatchState(str(path))
    now = 1_700_000_000.0
    with state.transaction():
        for number in range(tracked):
            state.track(f"https://example.org/news/{number:07d}", None, "config", now - 86_400)
        state.db.execute("UPDATE urls SET next_due = CASE WHEN rowid % 3 = 0 THEN NULL ELSE ? + rowid END", (now,))
        state.db.execute("UPDATE urls SET next_due = ? WHERE url IN (SELECT url FROM urls LIMIT 10)", (now - 5,))
    seconds = []
    for _ in range(200):
        start = time.perf_counter()
        due, _ = state.due(now), state.next_wake()
        seconds.append(time.perf_counter() - start)
    assert len(due) == min(tracked, 10)
    state.close()
    return statistics.median(seconds) * 1e3


def _flush_floor(folder: Path, rounds: int) -> float:
    """Milliseconds for a single snapshot's disk flushes alone: a small file written, flushed, renamed, flushed.

    As :func:`revtrack.gitwrite.update_ref` does (``syncfs`` on Linux), with
    nothing else written: the disk's share of one durable snapshot, which no
    code in revtrack can lower without flushing less.
    """
    target = folder / "flush-floor"
    target.mkdir()
    start = time.perf_counter()
    for number in range(rounds):
        temporary = target / f"tmp{number}"
        temporary.write_bytes(os.urandom(300))
        sync_store(str(target))
        os.rename(temporary, target / f"ref{number}")
        sync_store(str(target))
    return (time.perf_counter() - start) / rounds * 1e3


def _files_floor(folder: Path) -> float:
    """Milliseconds to create, write and rename 6 small files here: what any loose-object writer pays."""
    target = folder / "floor"
    target.mkdir()
    start = time.perf_counter()
    for number in range(600):
        temporary = target / f"tmp{number}"
        with open(temporary, "wb") as handle:
            handle.write(os.urandom(300))
        os.rename(temporary, target / f"obj{number}")
    return (time.perf_counter() - start) / 100 * 1e3


if __name__ == "__main__":
    print(run()[0])
