"""A watch pass over real news pages served from 127.0.0.1: what asking conditionally saves.

The 181 pages of ../shared/realdata/article-extraction-benchmark (or the 5 kept
in tests/data when ../shared is absent) are served by a local HTTP server that
sends an ETag with each page and answers 304 to a matching If-None-Match, as a
news site's cache does. One store, one watch list of every page, passes an
hour apart (every page due each time):

1. the first pass records every page (fetch, extract, record);
2. a pass as before conditional requests: the validators and digests are
   cleared first, so every page is fetched and extracted again and found unchanged;
   then the same with every page extracted in the watcher's own threads
   (``extract_processes = 1``, as before session 17), for the worker processes' gain;
3. a pass with the recorded copies' validators: every page answers 304;
4. the same with a server that ignores them: every page comes in full and is
   recognised by its SHA-256;
5. every page served edited: most come out a new version (the rest have no
   " and " in their text), checked for lost words and recorded.

Then the same pages saved as files are imported from a folder, extracted in
worker processes and in the import's own process, taking turns.

Last, the watch list's size: a list of 200 and one of 5,000 short pages
(four real paragraphs each), each recorded by a first pass and then all
answering 304, timed per URL.

Baseline in the same run: plain GETs of every page with the same HTTP client
(the network floor, no extraction, no store).
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import multiprocessing
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.common import REALDATA, ROOT, markdown_table, news_paragraphs

PAGES = REALDATA / "article-extraction-benchmark"
THREADS = "unchanged, extracted in one process"
EDITED = 'every page edited (" and " → " and also "), extracted and recorded'
KEPT_PAGES = ROOT / "tests" / "data" / "extraction"


def _pages(tiny: bool) -> tuple[list[bytes], str]:
    folder = PAGES if (PAGES / "ground-truth.json").exists() else KEPT_PAGES
    keys = sorted(json.loads((folder / "ground-truth.json").read_text(encoding="utf-8")))[: 5 if tiny else None]
    pages = []
    for key in keys:
        with gzip.open(folder / "html" / f"{key}.html.gz", "rb") as handle:
            pages.append(handle.read())
    where = "../shared" if folder == PAGES else "tests/data (../shared is not here)"
    return pages, where


class _Site(http.server.ThreadingHTTPServer):
    pages: list[bytes]
    honour: Any  # a shared multiprocessing.Value: 1 answers 304 to a matching If-None-Match
    edit: Any  # another: 1 serves every page edited (" and " -> " and also ")


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Site

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        number = int(self.path.rsplit("/", 1)[1])
        body = self.server.pages[number]
        if self.server.edit.value:
            body = body.replace(b" and ", b" and also ")
        etag = f'"{hashlib.sha1(body).hexdigest()}"'
        if self.server.honour.value and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
        pass


@dataclass
class _Serving:
    port: int
    honour: Any
    edit: Any


def _serve(pages: list[bytes], honour: Any, edit: Any, ready: Any) -> None:
    site = _Site(("127.0.0.1", 0), _Handler)
    site.pages, site.honour, site.edit = pages, honour, edit
    ready.put(site.server_address[1])
    site.serve_forever()


@contextmanager
def _serving(pages: list[bytes]) -> Iterator[_Serving]:
    """The site in a process of its own: a server thread in the watcher's process competes for its GIL
    (a first pass over 724 pages took 36-39 s that way, 28-29 s with the server in another process)."""
    honour, edit = multiprocessing.Value("b", 1), multiprocessing.Value("b", 0)
    ready: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(pages, honour, edit, ready), daemon=True)
    server.start()
    try:
        yield _Serving(ready.get(timeout=60), honour, edit)
    finally:
        server.terminate()
        server.join()


def run(tiny: bool = False) -> tuple[str, dict[str, float]]:
    from revtrack.store import Store
    from revtrack.watch import WatchConfig, parse_schedule, run_pass
    from revtrack.watchstate import WatchState
    from revtrack.web import make_client

    pages, where = _pages(tiny)
    folder = Path(tempfile.mkdtemp(prefix="revtrack-bench-watch-"))
    figures: dict[str, float] = {}
    rows: list[list[str]] = []
    try:
        with _serving(pages) as site:
            base = f"http://127.0.0.1:{site.port}/page/"
            urls = [f"{base}{number}" for number in range(len(pages))]
            config = WatchConfig(
                articles=[(url, f"page-{number}") for number, url in enumerate(urls)],
                schedule=parse_schedule(),
                per_host_delay=0.0,
            )
            client = make_client()
            start = time.time()
            with Store(str(folder / "snapshots")) as store:
                store.ensure()
                state = WatchState(str(folder / "snapshots" / "revtrack" / "watch.sqlite"))

                def timed_pass(hours: int, processes: int = config.extract_processes) -> tuple[float, str]:
                    began = time.perf_counter()
                    settings = replace(config, extract_processes=processes)
                    report = run_pass(store, settings, state, now=start + hours * 3600, client=client)
                    seconds = time.perf_counter() - began
                    return seconds, f"{report.changed} / {report.unchanged} / {report.not_modified} / {report.failed}"

                def add_row(label: str, timed: tuple[float, str], note: str) -> None:
                    seconds, counts = timed
                    figures[label] = seconds
                    rows.append([label, f"{seconds * 1000:,.0f}", f"{seconds / len(pages) * 1000:.1f}", counts, note])

                add_row("first pass: every page recorded", timed_pass(0), "")
                # Extracting every page again, in the worker processes and in the watcher's
                # threads taking turns (the machine's speed drifts), each the faster of two.
                turns: dict[int, list[tuple[float, str]]] = {config.extract_processes: [], 1: []}
                for hours, processes in enumerate([config.extract_processes, 1] * 2, start=1):
                    state.db.execute("UPDATE urls SET etag=NULL, last_modified=NULL, page_sha256=NULL")
                    turns[processes].append(timed_pass(hours, processes))
                add_row(
                    "unchanged, every page fetched and extracted",
                    min(turns[config.extract_processes]),
                    f"validators and digests cleared first; in {config.extract_processes} worker processes "
                    "(starting them included); the faster of two, taking turns with the next row",
                )
                add_row(THREADS, min(turns[1]), "as above, in the watcher's threads (extract_processes = 1)")
                add_row("unchanged, asked with the validators", timed_pass(5), "every page a 304")
                site.honour.value = 0
                add_row("unchanged, a server that ignores them", timed_pass(6), "same bytes, not extracted")
                site.edit.value = 1
                add_row(EDITED, timed_pass(7), "each page's text checked against its latest version's")
                state.close()
            began = time.perf_counter()
            for url in urls:
                client.get(url).raise_for_status()
            floor = time.perf_counter() - began
            client.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures["plain GETs"] = floor
    rows.append(
        ["plain GET of every page (baseline)", f"{floor * 1000:,.0f}", f"{floor / len(pages) * 1000:.1f}", "", ""]
    )
    before = figures["unchanged, every page fetched and extracted"]
    rows[2][4] += f"; {figures[THREADS] / before:.2f}× the time of the worker processes"
    for row in rows[3:5]:
        row[4] += f"; {before / figures[row[0]]:.1f}× less time than extracting"
    table = markdown_table(["pass", "ms", "ms per page", "changed / unchanged / not modified / failed", "note"], rows)
    total = sum(len(page) for page in pages)
    imported = _import_saved_pages(pages, figures)
    sizes = _watch_list_sizes(tiny, figures)
    return (
        f"{len(pages)} real pages from {where}, {total / len(pages) / 1000:.0f} KB each on average\n\n{table}\n\n"
        f"The same pages, one article each, imported (`revtrack import`):\n\n{imported}\n\n"
        "A watch list of short pages (four real paragraphs each) at two sizes, each pass's time per URL (the "
        f"first pass starts the extraction workers: a fixed cost, spread over more pages in the longer list)"
        f"\n\n{sizes}",
        figures,
    )


def _watch_list_sizes(tiny: bool, figures: dict[str, float]) -> str:
    """A pass's cost per URL as the watch list grows: every page recorded, then every page a 304.

    Short pages, so that thousands are extracted in seconds; one store and
    one site per size. A pass records in rounds of ``record_every`` seconds,
    so its memory is bounded by a round's pages, not by the list.
    """
    from revtrack.store import Store
    from revtrack.watch import WatchConfig, parse_schedule, run_pass
    from revtrack.watchstate import WatchState

    pool, rng = news_paragraphs(), random.Random(20)
    sizes = (20, 100) if tiny else (200, 5_000)
    per_url: dict[tuple[str, int], float] = {}
    for size in sizes:
        pages = [
            f"<html><head><title>Story {number}</title></head><body><article><h1>Story {number}</h1>"
            f"{''.join(f'<p>{rng.choice(pool)}</p>' for _ in range(4))}</article></body></html>".encode()
            for number in range(size)
        ]
        with _serving(pages) as site, tempfile.TemporaryDirectory(prefix="revtrack-bench-list-") as folder:
            config = WatchConfig(
                articles=[(f"http://127.0.0.1:{site.port}/page/{number}", f"page-{number}") for number in range(size)],
                schedule=parse_schedule(),
                per_host_delay=0.0,
            )
            start = time.time()
            with Store(str(Path(folder) / "snapshots")) as store:
                store.ensure()
                state = WatchState(str(Path(folder) / "snapshots" / "revtrack" / "watch.sqlite"))
                for hours, kind in ((0, "first pass: every page recorded"), (5, "every page a 304")):
                    began = time.perf_counter()
                    report = run_pass(store, config, state, now=start + hours * 3600)
                    per_url[kind, size] = (time.perf_counter() - began) / size
                    assert report.failed == 0 and report.checked == size, report
                state.close()
    small, large = sizes
    rows = []
    for kind in ("first pass: every page recorded", "every page a 304"):
        figures[f"{kind}, ms per URL at {small}"] = per_url[kind, small] * 1e3
        figures[f"{kind}, ms per URL at {large}"] = per_url[kind, large] * 1e3
        rows.append([kind, f"{per_url[kind, small] * 1e3:.2f}", f"{per_url[kind, large] * 1e3:.2f}",
                     f"{per_url[kind, large] / per_url[kind, small]:.2f}×", "flat"])  # fmt: skip
    headers = ["pass (ms per URL)", f"{small:,} URLs", f"{large:,} URLs", "ratio", "target"]
    return markdown_table(headers, rows)


def _import_saved_pages(pages: list[bytes], figures: dict[str, float]) -> str:
    """Time ``revtrack import`` of the pages, in worker processes and in the import's own.

    Twice over: as a folder of saved files, and as JSON lines whose records
    hold each page as ``html`` (a crawler's export; the pages decoded as UTF-8,
    any other bytes replaced). Each into a new store, taking turns, the faster
    of two counting.
    """
    from revtrack.extractors import default_processes
    from revtrack.importer import PageOptions, folder_snapshots, import_snapshots, jsonl_snapshots
    from revtrack.store import Store

    processes = default_processes()
    at = "2024-06-01T12:00:00+00:00"
    sources = {"folder": "a folder of `.html` files", "jsonl": "JSON lines, `html` records"}
    seconds: dict[tuple[str, int], list[float]] = {(source, n): [] for source in sources for n in (processes, 1)}
    with tempfile.TemporaryDirectory(prefix="revtrack-bench-pages-") as scratch:
        folder = Path(scratch) / "pages"
        folder.mkdir()
        rows = ["file\tobserved_at\tarticle"]
        records = []
        for number, page in enumerate(pages):
            (folder / f"{number}.html").write_bytes(page)
            rows.append(f"{number}.html\t{at}\tpage-{number}")
            html = page.decode("utf-8", errors="replace")
            records.append(json.dumps({"article": f"page-{number}", "observed_at": at, "html": html}) + "\n")
        (folder / "versions.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        lines = "".join(records)
        for turn, (source, workers) in enumerate(list(seconds) * 2):
            with Store(str(Path(scratch) / f"store-{turn}")) as store:
                began = time.perf_counter()
                snapshots = (
                    folder_snapshots(str(folder), store=store, options=PageOptions(workers))
                    if source == "folder"
                    else jsonl_snapshots(io.StringIO(lines), store=store, pages=True, options=PageOptions(workers))
                )
                report = import_snapshots(store, snapshots)
                seconds[source, workers].append(time.perf_counter() - began)
            assert report.recorded == len(pages), report
    table = []
    for source, name in sources.items():
        best, alone = min(seconds[source, processes]), min(seconds[source, 1])
        prefix = "saved pages" if source == "folder" else "html records"
        figures[f"{prefix} imported, workers"], figures[f"{prefix} imported, one process"] = best, alone
        table += [
            [name, f"{processes} worker processes", f"{best * 1000:,.0f}", f"{best / len(pages) * 1000:.1f}",
             "starting them included; the faster of two, taking turns with the other rows"],
            [name, "the import's own process (`--processes 1`)", f"{alone * 1000:,.0f}",
             f"{alone / len(pages) * 1000:.1f}", f"{alone / best:.2f}× the time of the worker processes"],
        ]  # fmt: skip
    return markdown_table(["source", "extracted in", "ms", "ms per page", "note"], table)


if __name__ == "__main__":
    print(run()[0])
