"""Bulk import: many versions in one ``git fast-import`` run, then one index transaction.

Sources: a JSONL stream of ``{"article", "observed_at", "title", "body", "url"?}``
records (in observed order per article), or a folder holding ``versions.tsv``
(columns ``file``, ``observed_at``, optional ``url``, ``article``) beside the
version files, as in ``seeds/``. Pages are extracted as ``revtrack snapshot
--html`` would: a version file ending ``.html`` (:func:`folder_snapshots`), a
record with ``html`` in place of ``body`` (:func:`jsonl_snapshots`). Each
version goes through the same checks and the same layout (:mod:`revtrack.record`)
as a single snapshot, so an imported store is the same store: same log, same
diffs, ``git fsck`` clean.

The records are read twice: first only their article ids (:func:`read_ahead`),
for their count (the progress bar's total) and their order. Where they
interleave articles, as a log ordered by time does, the texts are held back
in a temporary file and given to git article by article, so that each is
stored as a delta of its previous version (:class:`_TextsByArticle`).

The branch moves once, when fast-import finishes: an import that fails or is
killed records nothing, and is simply run again.

The index is written while git works: a thread with its own SQLite
connection adds the planned revisions inside one open transaction, a
thousand at a time (their rows in one statement, their words into the
full-text index in another, each run by SQLite without Python's lock, so its
full-text indexing, ~0.2 ms a version, overlaps git's and the stream's),
then fills in the commits from fast-import's marks and commits with the new
tip, or rolls everything back if the import failed.

Memory grows with the number of articles, not of versions: marks and text
ids go through files, and mark N's index row is the Nth after those before
(the benchmark's 30,000 versions: peak RSS 215 -> 67 MB this session; 60,000
versions of twice as many articles: 80 MB).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import heapq
import itertools
import json
import os
import queue
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import IO, Any, Final, NamedTuple

from revtrack import packing, record
from revtrack.errors import ExtractionSuspect, InvalidInput, InvalidTime, NotText, RevtrackError, StoreError
from revtrack.extractors import ExtractorPool, default_processes
from revtrack.gitread import ended, read_ref
from revtrack.ids import article_path, check_new_article, file_path, validate_article_id
from revtrack.index import Index
from revtrack.ingest import DEFAULT_MAX_BYTES, collapse, decode, fingerprint, parse_document, read_source
from revtrack.model import Revision, Snapshot
from revtrack.reflock import BRANCH_LOCKS, clear_stale_locks
from revtrack.search_text import passages
from revtrack.snapshotting import SnapshotRequest, is_saved_page, lost_most_words
from revtrack.stated import stated_times
from revtrack.store import MAINTENANCE_FAILURES, Store
from revtrack.timeutil import format_iso, git_date, now, parse_iso
from revtrack.tokens import count_words

# glibc hands the ~270 KB that zlib allocates for each object back to the
# system after every object and faults it in again for the next: 3.6 s of
# fast-import's 14-16 s for 30,000 versions went to that (195,000 brk calls).
# Keeping up to 32 MiB of freed memory (its peak stays ~24 MB) removes it.
FAST_IMPORT_ENV: Final = {"MALLOC_TRIM_THRESHOLD_": str(32 << 20)}


@dataclass
class ImportReport:
    read: int = 0
    recorded: int = 0
    unchanged: int = 0
    articles: int = 0
    seconds_packing: float = 0.0  # of the total, the final repack or gc
    text_deltas_searched: bool = False  # whether that repack searched the texts' deltas again (packing.texts_chained)
    pack_kept: bool = False  # whether fast-import's pack was good as it was and became the store's one pack
    packing_failed: str | None = None  # why the packing after the import failed (the versions are recorded)


@dataclass(frozen=True)
class ReadAhead:
    """What a first reading of the records tells the import: how many, in what order, and whether any is a page."""

    records: int
    interleaved: bool  # see read_ahead
    pages: bool = False  # any record a page to extract (the word-loss check then counts every version's words)


@dataclass(frozen=True)
class PageOptions:
    """What an import does with its pages (a folder's ``.html`` files, JSON lines' ``html`` records)."""

    processes: int | None = None  # worker processes extracting them (None: the cores, at most four)
    keep_html: bool = False  # store each page beside its text, as ``snapshot --keep-html`` does
    # Told each page left out (no article text, or most words lost), with its record and why;
    # None: such a page stops the import (exit 8), as it stops a single snapshot.
    skipped: Callable[[str], None] | None = None


def read_ahead(heads: Iterable[tuple[str, bool]], progress: Callable[[int], None] | None = None) -> ReadAhead:
    """Count the records (given as their article id and whether each is a page, in order), and tell their order.

    In the records' order each run of one article's records would start a new
    chain of text deltas in fast-import's pack (:class:`_TextsInline`). They
    interleave articles when the runs beyond one an article are more than 1%
    of the records after each article's first (the tolerance of
    :func:`revtrack.packing.texts_chained`), as in a log ordered by time;
    :func:`import_snapshots` then gives git the texts article by article.
    Reading the benchmark's 30,000 records ahead (json) takes ~0.37 s.
    """
    records = runs = 0
    seen: set[str] = set()
    previous = None
    pages = False
    for records, (article, page) in enumerate(heads, start=1):
        pages = pages or page
        if article != previous:
            runs += 1
            previous = article
            seen.add(article)
        if progress is not None and records % 1_000 == 0:
            progress(records)
    return ReadAhead(records, (runs - len(seen)) * 100 > records - len(seen), pages)


def jsonl_articles(stream: IO[str]) -> Iterator[tuple[str, bool]]:
    """Each JSON line's article id and whether it is a page (``html``), read ahead; then the stream is rewound.

    Reading stops at the first line that is not a record (blank lines aside):
    the import stops there too, and says why. A stream that cannot be rewound
    is not read ahead.
    """
    if not stream.seekable():
        return
    start = stream.tell()
    for line in stream:
        if not line.strip():
            continue
        try:
            item = _json_line(line)
            article = item.get("article")
        except (ValueError, AttributeError):
            break
        if not isinstance(article, str):
            break
        yield article, "html" in item
    stream.seek(start)


def folder_articles(folder: str, article: str | None = None) -> Iterator[tuple[str, bool]]:
    """Each ``versions.tsv`` row's article id and whether it is a saved page, as :func:`folder_snapshots` reads them."""
    try:
        rows = _folder_rows(folder)
    except (OSError, ValueError, csv.Error):  # the import stops at the same place, and says why
        return
    for row in rows:
        yield _row_article(row, folder, article), is_saved_page(row.get("file") or "")


def jsonl_snapshots(
    stream: IO[str],
    where: str = "input",
    store: Store | None = None,
    pages: bool | None = None,
    options: PageOptions = PageOptions(),
) -> Iterator[Snapshot]:
    """Snapshots from JSON lines; a bad line stops the import, naming the line.

    A record with ``html`` in place of ``body`` is a page (a crawler's copy):
    extracted as ``revtrack snapshot - --html --url URL`` extracts it (headline
    unless the record gives ``title``, body, the page's stated times, its
    canonical URL when the record has no ``url``), as a folder's saved pages
    are (:func:`folder_snapshots`, ``options``), and checked the same way for
    lost words. ``pages``: whether any record is a page (from
    :func:`read_ahead`); None when not known, which counts the words of every
    version (~0.15 ms a 4 KB text) in case a page follows.
    """
    with ExtractorPool(options.processes or default_processes()) as extractors:
        records = _jsonl_records(stream, where, extractors, options.keep_html)
        yield from _in_order(records, extractors, _PageChecks(pages is not False, store, options.skipped))


def _jsonl_records(stream: IO[str], where: str, extractors: ExtractorPool, keep_html: bool) -> Iterator[_Pending]:
    valid_ids: set[str] = set()  # checked once each: an article usually has several lines
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        at_line = f"{where} line {number}"
        try:
            item = _json_line(line)
        except ValueError as error:
            raise InvalidInput(f"{at_line}: not JSON ({error})") from None
        if not isinstance(item, dict):
            raise InvalidInput(f"{at_line}: expected a JSON object")
        page = "html" in item
        if page and "body" in item:
            raise InvalidInput(f"{at_line}: give either body (the text) or html (the page), not both")
        needed = ("article", "observed_at", "html") if page else ("article", "observed_at", "title", "body")
        missing = [key for key in needed if not isinstance(item.get(key), str)]
        if page and not isinstance(item.get("title", ""), str):
            missing.append("title")
        if missing:
            raise InvalidInput(f"{at_line}: missing or non-text field(s): {', '.join(missing)}")
        if not isinstance(item.get("url", ""), (str, type(None))):
            raise InvalidInput(f"{at_line}: url must be text")
        if not _is_unicode(item.get("url") or "") or not _is_unicode(item.get("title") or ""):
            raise InvalidInput(f"{at_line}: {_NOT_UNICODE}")
        try:
            observed, _ = parse_iso(item["observed_at"])
            if item["article"] not in valid_ids:
                valid_ids.add(validate_article_id(item["article"]))
        except RevtrackError as error:
            raise type(error)(f"{at_line}: {error}") from None
        if page:
            _check_page_text(item["html"], at_line)
            request = SnapshotRequest(
                "import", item["article"], item.get("url"), title=item.get("title"), at=format_iso(observed),
                html=True, keep_html=keep_html, content=item["html"],
            )  # fmt: skip
            yield _Pending(at_line, extractors.submit(request))
            continue
        snapshot = Snapshot(
            item["article"], collapse(item["title"]), item["body"], format_iso(observed),
            item.get("url"), source="import",
        )  # fmt: skip
        yield _Pending(at_line, snapshot)


def _check_page_text(html: str, where: str) -> None:
    """A record's page is storable text within a single snapshot's limit (it goes whole to a worker)."""
    try:
        size = len(html.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInput(f"{where}: {_NOT_UNICODE}") from None
    if size > DEFAULT_MAX_BYTES:
        raise NotText(f"{where}: the page is larger than the limit of {DEFAULT_MAX_BYTES:,} bytes")


def _json_line(line: str) -> Any:
    """One JSON line's value; ValueError says why json cannot read it (nesting too deep for json too)."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(error.msg) from None
    except RecursionError:  # json recurses once per "[" or "{": ~1,000 of them end it
        raise ValueError("nested too deeply") from None


_NOT_UNICODE: Final = "the text is not valid UTF-8, or holds an unpaired surrogate escape such as \\ud800"


def _is_unicode(text: str) -> bool:
    """Whether ``text`` can be stored: no unpaired surrogates (JSON escapes them; undecodable bytes become them)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def folder_snapshots(
    folder: str, article: str | None = None, store: Store | None = None, options: PageOptions = PageOptions()
) -> Iterator[Snapshot]:
    """Snapshots from a folder with ``versions.tsv`` (as in ``seeds/``).

    A file ending ``.html`` or ``.htm`` is a saved page (an archive's capture,
    say): extracted as ``revtrack snapshot FILE --html`` extracts it (headline,
    body, the page's stated times, its canonical URL when the row has none), in
    worker processes (:mod:`revtrack.extractors`), a few pages ahead of the
    import, in the table's order. A page that lost most of its article's
    previous words (in this folder, or the latest in ``store``) stops the
    import, as it stops a single snapshot (exit 8), as does a page with no
    article text, unless ``options`` says to skip such pages (:class:`PageOptions`).
    """
    table = os.path.join(folder, "versions.tsv")
    if not os.path.isfile(table):
        raise InvalidInput(f"{folder} has no versions.tsv (columns: file, observed_at, url, article)")
    try:
        rows = _folder_rows(folder)
    except (UnicodeDecodeError, csv.Error) as error:
        raise InvalidInput(f"{table} is not a UTF-8 table of tab-separated columns ({error})") from None
    pages = any(is_saved_page(row.get("file") or "") for row in rows)
    with ExtractorPool(options.processes or default_processes()) as extractors:
        records = _folder_records(folder, table, rows, article, extractors, options.keep_html)
        yield from _in_order(records, extractors, _PageChecks(pages, store, options.skipped))


def _folder_records(
    folder: str,
    table: str,
    rows: list[dict[str, str]],
    article: str | None,
    extractors: ExtractorPool,
    keep_html: bool,
) -> Iterator[_Pending]:
    inside = os.path.realpath(folder)
    for number, row in enumerate(rows, start=2):
        name, when = row.get("file"), row.get("observed_at")
        if not name or not when:
            raise InvalidInput(f"{table} line {number}: needs 'file' and 'observed_at'")
        path = os.path.join(folder, name)
        # A table from someone else's archive must not pull the user's own files into
        # the store (/etc/..., ../../.ssh/...): every file is the folder's, links too.
        if os.path.commonpath([inside, os.path.realpath(path)]) != inside:
            raise InvalidInput(f"{table} line {number}: {name} is not in {folder}")
        observed, _ = parse_iso(when)
        article_id = validate_article_id(_row_article(row, folder, article))
        url = row.get("url") or None
        if is_saved_page(name):
            request = SnapshotRequest(path, article_id, url, at=format_iso(observed), html=True, keep_html=keep_html)
            yield _Pending(f"{table} line {number}: {name}", extractors.submit(request))
        else:
            document = parse_document(decode(read_source(path), path))
            snapshot = Snapshot(article_id, document.title, document.body, format_iso(observed), url, source=name)
            yield _Pending(f"{table} line {number}: {name}", snapshot)


class _Pending(NamedTuple):
    """A record's version: a text as read, or a page being extracted; ``where`` names the record in errors."""

    where: str
    snapshot: Snapshot | Future[Snapshot]  # a future: a page

    @property
    def page(self) -> bool:
        return isinstance(self.snapshot, Future)


def _in_order(records: Iterator[_Pending], extractors: ExtractorPool, checks: _PageChecks) -> Iterator[Snapshot]:
    """The records' versions in their order, pages extracted a few ahead, each through ``checks``."""
    for pending in _ahead(records, extractors):
        snapshot = checks.checked(pending)
        if snapshot is not None:
            yield snapshot


def _ahead(records: Iterator[_Pending], extractors: ExtractorPool) -> Iterator[_Pending]:
    """The records in their order, each once ready, reading on while pages are extracted (two a worker).

    A record that cannot be read stops the import once the pages before it
    are checked: the first bad record is the one the error names.
    """
    from collections import deque

    waiting: deque[_Pending] = deque()
    while True:
        try:
            pending = next(records)
        except StopIteration:
            break
        except RevtrackError:
            while waiting:
                yield waiting.popleft()
            raise
        if not waiting and not pending.page:
            yield pending  # the usual record, a text: nothing to wait for
            continue
        waiting.append(pending)
        while len(waiting) > 2 * extractors.processes or (waiting and _ready(waiting[0])):
            yield waiting.popleft()
    while waiting:
        yield waiting.popleft()


def _ready(pending: _Pending) -> bool:
    return not isinstance(pending.snapshot, Future) or pending.snapshot.done()


class _PageChecks:
    """What a single snapshot would refuse of a page: no article text, or most of its article's words lost.

    Either stops the import (exit 8), naming the record; or, with
    ``skipped``, the page is left out and ``skipped`` told why, as a single
    snapshot of it would have recorded nothing.
    """

    def __init__(self, pages: bool, store: Store | None, skipped: Callable[[str], None] | None) -> None:
        # article -> the words of its previous version (in these records, else the store's
        # latest; None: no version yet): counted only where a record is a page.
        self.previous: dict[str, int | None] | None = {} if pages else None
        self.store = store
        self.skipped = skipped

    def checked(self, pending: _Pending) -> Snapshot | None:
        """A record's version once extracted; None for a page skipped."""
        try:
            snapshot = pending.snapshot.result() if isinstance(pending.snapshot, Future) else pending.snapshot
        except ExtractionSuspect as error:
            self._failed(f"{pending.where}: {error}")
            return None
        except RevtrackError as error:
            raise type(error)(f"{pending.where}: {error}") from None
        if self.previous is None:
            return snapshot
        after = count_words(snapshot.body)
        if pending.page:
            before = self._words_before(snapshot.article)
            if before is not None and lost_most_words(before, after):
                self._failed(
                    f"{pending.where}: suspected extraction failure: the body went from {before} words to {after}"
                )
                return None
        self.previous[snapshot.article] = after
        return snapshot

    def _words_before(self, article: str) -> int | None:
        assert self.previous is not None
        if article not in self.previous:
            store = self.store
            latest = store.index().latest(article) if store is not None and store.exists() else None
            self.previous[article] = count_words(store.text(latest).body) if store and latest else None
        return self.previous[article]

    def _failed(self, why: str) -> None:
        if self.skipped is None:
            raise ExtractionSuspect(f"{why}; nothing imported (remove the line, or give --skip-failed-pages)")
        self.skipped(why)


def _folder_rows(folder: str) -> list[dict[str, str]]:
    with open(os.path.join(folder, "versions.tsv"), encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _row_article(row: dict[str, str], folder: str, article: str | None) -> str:
    """A row's article id: the one asked for, else the row's, else the folder's name."""
    return article or row.get("article") or os.path.basename(os.path.normpath(folder))


def import_snapshots(
    store: Store,
    snapshots: Iterable[Snapshot],
    progress: Callable[[int], None] | None = None,
    interleaved: bool = False,
    stage: Callable[[str], None] | None = None,
) -> ImportReport:
    """Record every changed version in one fast-import run (under the store's write lock).

    ``progress(records read)``; ``stage(what)`` names the work after the
    records are read (git's, then packing). ``interleaved``: the records
    interleave articles, as a log ordered by time does (:func:`read_ahead`):
    their texts are held back and given to git article by article
    (:class:`_TextsByArticle`).
    """
    stage = stage or (lambda what: None)
    report = ImportReport()
    # The first record is read (and checked) before anything is created: a wrong
    # file, or an empty one, leaves a store that did not exist not existing.
    records = iter(snapshots)
    first = next(records, None)
    if first is None:
        return report
    snapshots = itertools.chain([first], records)
    # What grows with the number of versions goes to files here, not to memory:
    # fast-import's marks, and (into a store with no versions yet) the texts' ids.
    with tempfile.TemporaryDirectory(prefix="revtrack-import-") as scratch:
        marks = os.path.join(scratch, "marks")
        with store._write_lock(), store._created():  # a store this import creates goes again if it fails
            index = store.index()
            tip = read_ref(store.path)
            texts = os.path.join(scratch, "texts") if tip is None else None
            writer = _IndexWriter(store.index_path)
            writer.start()
            try:
                store_format = store.store_format()
                plan = _plan(index, snapshots, report, progress, store_format, writer.holds)
                with packing.temporaries_removed_on_failure(store.path):
                    planned = _run_fast_import(
                        store.path, tip, marks, plan, store_format, writer.add, texts, interleaved, stage
                    )
                writer.finish(read_ref(store.path), marks if planned else None, planned)
            finally:
                writer.abandon()  # no-op after a finish; otherwise nothing of the import is kept in the index
            if not planned:
                return report
            report.recorded = planned
            total = index.last_row()
        # fast-import deltas each object only against its predecessor; when the import
        # is most of the store, one full repack finds the deltas that make it small,
        # searching the texts' again only where fast-import's were not of their own
        # previous versions (see packing.texts_chained, and _TextsInline). Where
        # they were and the pack is the whole store, it is kept as it is.
        started = time.perf_counter()
        stage("packing the store")
        try:
            if texts is not None and packing.import_pack_suffices(store.path, texts, report.articles):
                store.maintain(packed=True)
                report.pack_kept = True
            elif report.recorded * 2 >= total:
                report.text_deltas_searched = store.maintain()
            else:
                store.maintain(auto=True)
        except MAINTENANCE_FAILURES as error:  # the branch and the index have moved: not the import's error
            report.packing_failed = str(error)
        report.seconds_packing = time.perf_counter() - started
    return report


def _plan(
    index: Index,
    snapshots: Iterable[Snapshot],
    report: ImportReport,
    progress: Callable[[int], None] | None,
    store_format: int,
    recorded: Callable[[str, str, str], bool],
) -> Iterator[tuple[Snapshot, int, str]]:
    """Yield (snapshot, rev, fingerprint) for each version that is new, checking order.

    ``recorded(article, fingerprint, observed_at)``: whether that version is
    recorded already, in the store or earlier in this import (asked only of
    records older than their article's latest version).
    """
    latest: dict[str, tuple[int, str, str]] = {}  # article -> (rev, fingerprint, observed_at)
    indexed: set[str] = set()  # articles with revisions from before this import
    # article -> fingerprints of its versions observed at its latest time, kept only
    # while there are two or more: a record repeating one is a repeat, as it is for
    # single snapshots. (A record at an earlier time is looked up: see below.)
    same_time: dict[str, set[str]] = {}
    # A store that was empty has no earlier revisions to look up (a first import:
    # 10,000 lookups took ~0.6 s of the thread that feeds git).
    store_was_empty = index.last_row() == 0
    for snapshot in snapshots:
        report.read += 1
        if progress is not None:
            progress(report.read)
        if snapshot.article not in latest:
            found = None if store_was_empty else index.latest(snapshot.article)
            latest[snapshot.article] = (found.rev, found.fingerprint, found.observed_at) if found else (0, "", "")
            if found:
                indexed.add(snapshot.article)
        rev, last_print, last_seen = latest[snapshot.article]
        try:
            print_fp = fingerprint(snapshot.title, snapshot.body)
        except UnicodeEncodeError:  # the body: checked here, where it is encoded anyway
            raise InvalidInput(
                f"{snapshot.article}: the version observed {snapshot.observed_at}: {_NOT_UNICODE}; nothing was imported"
            ) from None
        # A record seen before (an import run again) is skipped. Only revisions from
        # before this import can be looked up: this import's rows are not committed yet.
        if (
            print_fp == last_print
            or (snapshot.observed_at == last_seen and print_fp in same_time.get(snapshot.article, ()))
            or (snapshot.article in indexed and index.same_version(snapshot.article, print_fp, snapshot.observed_at))
        ):
            report.unchanged += 1
            continue
        observed = parse_iso(snapshot.observed_at)[0]
        if last_seen and observed < parse_iso(last_seen)[0]:
            # Older than the article's latest version: a version recorded before at this
            # very time (overlapping exports joined into one file) is a repeat, as it is
            # for single snapshots; any other is out of order.
            if recorded(snapshot.article, print_fp, snapshot.observed_at):
                report.unchanged += 1
                continue
            raise InvalidTime(
                f"{snapshot.article}: version observed {snapshot.observed_at} comes after one observed "
                f"{last_seen}; records must be in observed order per article (nothing was imported)"
            )
        snapshot.stated = {**stated_times(snapshot.title, snapshot.body, observed), **snapshot.stated}
        latest[snapshot.article] = (rev + 1, print_fp, snapshot.observed_at)
        if snapshot.observed_at == last_seen and last_print:
            same_time.setdefault(snapshot.article, {last_print}).add(print_fp)
        else:
            same_time.pop(snapshot.article, None)
        if rev == 0:
            check_new_article(snapshot.article, store_format)
            report.articles += 1
        yield snapshot, rev + 1, print_fp


def _run_fast_import(
    git_dir: str,
    tip: str | None,
    marks: str,
    plan: Iterator[tuple[Snapshot, int, str]],
    store_format: int,
    index: Callable[[int, Revision, list[str]], None],
    texts: str | None,
    interleaved: bool = False,
    stage: Callable[[str], None] = lambda what: None,
) -> int:
    """Stream the planned versions into git; each also goes to ``index`` (mark, revision, passages). Returns the count.

    ``texts``, unless None, is a file to get a line per version: its text's
    blob id, and the id of the text git gets just before it when that is the
    previous version of the same article, else ``-``
    (:func:`revtrack.packing.import_pack_suffices` reads it).
    ``interleaved``: hold the texts back and give them article by article.
    """
    env = {**FAST_IMPORT_ENV, **os.environ, "GIT_DIR": git_dir}  # the user's own setting wins
    clear_stale_locks(git_dir, BRANCH_LOCKS)  # fast-import gives up at a lock a killed process left behind
    process = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done", f"--export-marks={marks}"],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert process.stdin is not None
    count = 0
    ended_early = False
    committer = f"committer {record.identity()} {git_date(now())}\n"
    try:
        with open(texts, "wb") if texts else contextlib.nullcontext() as text_ids:
            stream = (
                _TextsByArticle(process.stdin, text_ids, committer, git_dir)
                if interleaved
                else _TextsInline(process.stdin, text_ids, committer)
            )
            with contextlib.closing(stream):
                for mark, (snapshot, rev, print_fp) in enumerate(plan, start=1):
                    path = article_path(snapshot.article, store_format)
                    stream.add(snapshot, rev, mark, path, tip if mark == 1 else None)
                    revision = Revision(snapshot.article, rev, "", snapshot.observed_at, snapshot.title, snapshot.url,
                                        snapshot.stated, print_fp, path=path)  # fmt: skip
                    index(mark, revision, passages(snapshot.title, snapshot.body))
                    count = mark
                stage("git: the texts, article by article" if interleaved else "git: the last versions")
                stream.end()
        process.stdin.write(b"done\n")
        process.stdin.close()
    except BrokenPipeError:
        # fast-import ended before its input did (it could not write its pack, say);
        # what it wrote on stderr says why. Left to the CLI, a broken pipe reads as
        # a reader of revtrack's output gone away: the import ended without a word.
        ended_early = True
        with contextlib.suppress(OSError):
            process.stdin.close()
    except BaseException:
        process.kill()
        process.wait()
        for pipe in (process.stdin, process.stderr):
            with contextlib.suppress(OSError):  # the pipe broke when fast-import was killed
                pipe.close()  # type: ignore[union-attr]
        raise
    assert process.stderr is not None
    with process.stderr:
        error = process.stderr.read().decode("utf-8", "replace")
    if process.wait() != 0 or ended_early:
        raise StoreError(f"git fast-import failed: {_first_complaint(error) or ended(process.returncode)}")
    return count


def _first_complaint(stderr: str) -> str:
    """The line of git's error output that says what went wrong: its first ``fatal:`` or ``error:`` line.

    git follows it with advice (a lock file's is six lines ending in "remove
    the file manually to continue."), which alone would not name the file.
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[-1] if lines else ""


# The thread indexes revisions a thousand at a time, in two SQL statements
# (Index.add_many), which SQLite runs without Python's lock from start to end.
# Inserted one by one, 30,000 versions imported in 24.9-28.0 s on tmpfs; with
# their words a thousand at a time through a queue table in 20.9-22.2 s
# (alternating runs; the index thread's CPU 12.0 -> 9.2 s). Their rows still
# went in one statement each, and each statement waited for Python's lock once
# the stream's thread held it. Rows and words in one statement a thousand,
# before the final repack, tmpfs, alternating: 1,645-1,713/s -> 1,912-1,924/s
# (two pairs, each order once).
_ROWS_EVERY: Final = 1_000
# ... or sooner, once the group's words reach this many characters: a group goes
# to SQLite as one JSON text, which must stay under SQLite's longest string
# (1,000,000,000 bytes by default) however long the articles are.
_TEXT_EVERY: Final = 16_000_000


class _IndexWriter:
    """Adds the imported revisions to the index in a thread of its own, in one transaction, while git runs.

    Rows go in with an empty commit; :meth:`finish` fills the commits in from
    fast-import's marks and commits with the new tip. Anything else (an error
    in either thread, :meth:`abandon`) rolls the whole transaction back.
    :meth:`holds` asks the thread's connection, which sees the import's rows
    before they are committed.
    """

    _END: Final = None

    def __init__(self, index_path: str) -> None:
        self.index_path = index_path
        # Bounded, so that a slow index holds the reader back instead of piling up texts.
        self.items: queue.Queue[tuple[int, Revision, list[str]] | _Lookup | None] = queue.Queue(maxsize=2_000)
        self.answers: queue.Queue[bool | BaseException] = queue.Queue()  # to lookups, or the thread's error
        self.outcome: queue.Queue[tuple[str | None, str | None] | None] = queue.Queue()  # (tip, marks file)
        self.error: BaseException | None = None
        self.done = False
        # The thread's own: revisions not yet in the index. Mark N's row is the
        # Nth after the rows there before (no dict of them: it would grow with the import).
        self._waiting: list[tuple[int, Revision, list[str]]] = []
        self._waiting_text = 0  # characters of their passages
        self._rows_before = 0
        self.thread = threading.Thread(target=self._run, name="revtrack-import-index", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def add(self, mark: int, revision: Revision, passages: list[str]) -> None:
        if self.error is not None:
            raise self._reported("nothing was imported")
        self.items.put((mark, revision, passages))

    def holds(self, article: str, fingerprint: str, observed_at: str) -> bool:
        """Whether the index holds this version, counting the import's rows so far (they are queued before)."""
        self.items.put(_Lookup(article, fingerprint, observed_at))
        found = self.answers.get()
        if isinstance(found, BaseException):
            raise self._reported("nothing was imported", found)
        return found

    def finish(self, tip: str | None, marks: str | None, count: int) -> None:
        """Fill in the ``count`` commits from fast-import's ``marks`` file and commit the transaction with ``tip``.

        Raises what the thread raised.
        """
        self.items.put(self._END)
        self.outcome.put((tip, marks))
        self.thread.join()
        self.done = True
        if self.error is not None:
            raise self._reported(
                f"the import's {count} new version(s) are in git; the next revtrack command brings the index up to date"
            )

    def _reported(self, outcome: str, error: BaseException | None = None) -> BaseException:
        """The thread's error; an SQLite one as a store error that says what became of the import."""
        error = error or self.error
        assert error is not None
        if isinstance(error, sqlite3.Error):
            return StoreError(f"the index could not record the import ({error}); {outcome}")
        return error

    def abandon(self) -> None:
        if self.done:
            return
        self.done = True
        self.items.put(self._END)
        self.outcome.put(None)  # roll back
        self.thread.join()

    def _run(self) -> None:
        ended = False
        try:
            index = Index(self.index_path)
            try:
                with index.transaction():
                    before = self._rows_before = index.last_row()
                    while (item := self.items.get()) is not self._END:
                        if isinstance(item, _Lookup):
                            self._answer(index, item)
                            continue
                        self._waiting.append(item)
                        self._waiting_text += sum(map(len, item[2]))
                        if len(self._waiting) == _ROWS_EVERY or self._waiting_text >= _TEXT_EVERY:
                            self._add(index)
                    ended = True  # the end marker is taken: nothing is left to let through
                    self._add(index)
                    outcome = self.outcome.get()
                    if outcome is None:
                        raise _Abandoned
                    tip, marks = outcome
                    index.update_articles(before)
                    if marks is not None:
                        index.set_commits((commit, before + mark) for mark, commit in _read_marks(marks))
                    if tip is not None:
                        index.set_tip(tip)
            finally:
                index.close()
        except _Abandoned:
            pass
        except BaseException as error:  # handed to the importing thread
            self.error = error
            while not ended and (item := self.items.get()) is not self._END:  # let the importing thread finish
                if isinstance(item, _Lookup):
                    self.answers.put(error)

    def _add(self, index: Index) -> None:
        """Index the waiting revisions and their passages, each mark's as the row that many after those before."""
        if not self._waiting:
            return
        first = index.add_many([(revision, passages) for _, revision, passages in self._waiting])
        if first != self._rows_before + self._waiting[0][0]:
            raise StoreError(f"the import's rows are out of step with its marks (row {first})")
        self._waiting.clear()
        self._waiting_text = 0

    def _answer(self, index: Index, lookup: _Lookup) -> None:
        try:
            self._add(index)  # the answer counts every row queued before the question
            found = index.same_version(lookup.article, lookup.fingerprint, lookup.observed_at) is not None
        except BaseException as error:
            self.answers.put(error)  # the importing thread is waiting for this answer
            raise
        self.answers.put(found)


@dataclass(frozen=True)
class _Lookup:
    """A question for the index thread: is this version recorded (see :meth:`_IndexWriter.holds`)?"""

    article: str
    fingerprint: str
    observed_at: str


class _Abandoned(Exception):
    """The import failed; the index transaction is rolled back."""


class _ChainNotes:
    """The texts file :func:`revtrack.packing.import_pack_suffices` reads (``out``; None: not wanted).

    A line per text, in the order git gets them: its id, and the id of the
    text git got just before it when that is of the same article (the base
    fast-import should have made it a delta of), else ``-``.
    """

    def __init__(self, out: IO[bytes] | None) -> None:
        self.out = out
        self.article: object = None
        self.previous = b"-"

    def note(self, article: object, text_id: bytes) -> None:
        """The text ``text_id`` of ``article`` (any key naming the article) goes to git next."""
        if self.out is not None:
            self.out.write(b"%s %s\n" % (text_id, self.previous if article == self.article else b"-"))
        self.article, self.previous = article, text_id


class _TextsInline:
    """Each version's commit with its files inline, in the records' order.

    fast-import stores each new file as a delta of the file it stored just
    before (a file git holds already is not stored again), so in an export
    ordered by article each text follows its previous version and goes in as
    its delta, the base git's own search would choose, and the final repack
    keeps those deltas (:func:`revtrack.packing.texts_chained`); into a store
    with no objects yet, fast-import's pack is kept as it is
    (:func:`revtrack.packing.import_pack_suffices`). The benchmark's 30,000
    versions were packed in 3.10-3.16 s this way against 5.31-5.38 s searching
    every text's delta, to 40.51 against 40.45 MB (tmpfs); 1,000 articles of
    20 versions in 1.84 against 2.51 s, to 16.05 against 16.31 MB (over a long
    history each version on the one before beats git's window).
    """

    def __init__(self, out: IO[bytes], text_ids: IO[bytes] | None, committer: str) -> None:
        self.out, self.committer = out, committer
        self.notes = _ChainNotes(text_ids)

    def add(self, snapshot: Snapshot, rev: int, mark: int, path: str, parent: str | None) -> None:
        files = record.files(snapshot)
        self.out.write(_commit_command(snapshot, rev, mark, path, parent, self.committer, files))
        if self.notes.out is not None:  # hashing every text costs ~0.1 s a 100 MB
            self.notes.note(snapshot.article, _blob_id(files["article.txt"]))

    def end(self) -> None:
        pass

    def close(self) -> None:
        pass


class _TextsByArticle:
    """The texts held back and given to git article by article, then every commit, naming its text by id.

    Ordered by time, each text would follow another article's, and only a
    full search of the deltas would make the store small (5.3-5.6 of 15.3-16.6
    s for the benchmark's 30,000 versions, tmpfs). Here the texts are sorted
    by article (first seen first), each article's in their order, the way
    sort(1) sorts what does not fit in memory: up to :data:`_RUN_BYTES` at a
    time in memory, each sorted run then written to an unnamed temporary file
    in the store's folder (whose disk takes the texts anyway, where ``/tmp``
    may be memory; gone with the process, however it ends), and the runs
    merged, each read in order, so the disk is read front to back however the
    articles interleave. The commits wait in another file. Then the texts go
    to fast-import, each article's one after another as from an export ordered
    by article, and the commits after them: the whole import, reading ahead
    included, took 10.9-12.2 s (alternating with the code before), and
    fast-import's pack was kept (40.73 against 40.51 MB).
    """

    _HEADER: Final = struct.Struct("<QQ40s")  # the article's number, the text's length, its blob id

    def __init__(self, out: IO[bytes], text_ids: IO[bytes] | None, committer: str, folder: str) -> None:
        self.out, self.committer = out, committer
        self.notes = _ChainNotes(text_ids)
        # Both are closed (and so removed) by close(), which the importer calls however the stream ends.
        self.texts = tempfile.TemporaryFile(prefix="revtrack-import-texts-", dir=folder)  # noqa: SIM115
        self.commits = tempfile.TemporaryFile(prefix="revtrack-import-commits-", dir=folder)  # noqa: SIM115
        self.numbers: dict[str, int] = {}  # article -> its number, in the order first seen
        self.run: list[tuple[int, int, bytes, bytes]] = []  # (article number, mark: the order, blob id, text)
        self.run_bytes = 0
        self.runs: list[tuple[int, int]] = []  # where each sorted run lies in self.texts (start, end)

    def add(self, snapshot: Snapshot, rev: int, mark: int, path: str, parent: str | None) -> None:
        files = record.files(snapshot)
        text = files["article.txt"]
        text_id = _blob_id(text)
        self.commits.write(_commit_command(snapshot, rev, mark, path, parent, self.committer, files, text_id))
        number = self.numbers.setdefault(snapshot.article, len(self.numbers))
        self.run.append((number, mark, text_id, text))
        self.run_bytes += len(text)
        if self.run_bytes >= _RUN_BYTES:
            self._write_run()

    def _write_run(self) -> None:
        """Sort the texts held in memory by article (then mark: their order) and write them out as one run."""
        if not self.run:
            return
        start = self.texts.tell()
        self.run.sort()  # article numbers and marks are never both equal: the texts themselves are never compared
        for number, _, text_id, text in self.run:
            self.texts.write(self._HEADER.pack(number, len(text), text_id))
            self.texts.write(text)
        self.runs.append((start, self.texts.tell()))
        self.run, self.run_bytes = [], 0

    def close(self) -> None:
        self.texts.close()
        self.commits.close()

    def end(self) -> None:
        self._write_run()
        self.texts.flush()
        # heapq.merge takes equal article numbers from earlier runs first: each article's texts in their order.
        merged = heapq.merge(*(self._read_run(start, end) for start, end in self.runs), key=lambda item: item[0])
        for number, text_id, text in merged:
            self.out.write(b"blob\ndata %d\n" % len(text))
            self.out.write(text)
            self.out.write(b"\n")
            self.notes.note(number, text_id)
        self.commits.seek(0)
        shutil.copyfileobj(self.commits, self.out)

    def _read_run(self, start: int, end: int) -> Iterator[tuple[int, bytes, bytes]]:
        """(article number, blob id, text) of one run, read front to back a chunk at a time."""
        fd, place, buffer, offset = self.texts.fileno(), start, b"", 0

        def have(size: int) -> bool:
            nonlocal place, buffer, offset
            while len(buffer) - offset < size and place < end:
                chunk = os.pread(fd, min(max(_READ_BYTES, size), end - place), place)
                if not chunk:
                    raise StoreError("a temporary file of the import was cut short; nothing was imported")
                place += len(chunk)
                buffer, offset = buffer[offset:] + chunk, 0
            return len(buffer) - offset >= size

        while have(self._HEADER.size):
            number, length, text_id = self._HEADER.unpack_from(buffer, offset)
            offset += self._HEADER.size
            if not have(length):
                raise StoreError("a temporary file of the import was cut short; nothing was imported")
            yield number, text_id, buffer[offset : offset + length]
            offset += length


# Texts sorted in memory at a time when held back (see _TextsByArticle), and how
# much of each sorted run is read at once while they are merged. Memory is about
# a run plus a read per run: at NewsEdits scale (~16.5 GB of texts) ~520 runs,
# ~32 + 66 MB (the sum is least near a run of sqrt(texts x read)); the
# benchmark's 30,000 versions (108 MB), 4 runs.
_RUN_BYTES: Final = 32 << 20
_READ_BYTES: Final = 128 << 10


def _commit_command(
    snapshot: Snapshot,
    rev: int,
    mark: int,
    path: str,
    parent: str | None,
    committer: str,
    files: dict[str, bytes],
    text_id: bytes | None = None,
) -> bytes:
    """One commit of the fast-import stream; ``committer``: the whole committer line.

    The article's text comes last, inline (see :class:`_TextsInline`), or
    named by ``text_id`` when git has it already (:class:`_TextsByArticle`).
    """
    observed, _ = parse_iso(snapshot.observed_at)
    message = record.message(snapshot, rev).encode("utf-8")
    parts = [
        f"commit refs/heads/main\nmark :{mark}\n"
        f"author {record.identity()} {git_date(observed)}\n"
        f"{committer}"
        f"data {len(message)}\n".encode(),
        message,
        b"\n",
    ]
    if parent:
        parts.append(f"from {parent}\n".encode())
    for name, data in sorted(files.items(), key=lambda item: item[0] == "article.txt"):
        if name == "article.txt" and text_id is not None:
            parts.append(b"M 100644 %s %s\n" % (text_id, file_path(path, name).encode()))
            continue
        parts.append(f"M 100644 inline {file_path(path, name)}\ndata {len(data)}\n".encode())
        parts.append(data)
        parts.append(b"\n")
    parts.append(b"\n")
    return b"".join(parts)


def _blob_id(data: bytes) -> bytes:
    """The id (hex) git gives a file of these bytes."""
    digest = hashlib.sha1(b"blob %d\0" % len(data), usedforsecurity=False)
    digest.update(data)
    return digest.hexdigest().encode()


def _read_marks(path: str) -> Iterator[tuple[int, str]]:
    """(mark, commit) from fast-import's marks file, one line at a time."""
    with open(path, encoding="ascii") as handle:
        for line in handle:
            mark, sha = line.split()
            yield int(mark[1:]), sha
