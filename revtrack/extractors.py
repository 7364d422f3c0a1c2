"""Extract pages in worker processes, so that a watch pass, or an import of pages, uses every core.

trafilatura and lxml hold Python's lock for most of an extraction (25-40 ms a
real news page here), so the watcher's fetch threads, however many, extracted
one page at a time: a first pass over 10,000 articles is ~5 minutes of
extraction on one core. Here each page goes to a pool of processes (spawned,
not forked: the watcher has threads running), and the thread that fetched it
goes on to its host's next page while the page is extracted.

A worker that dies (a segfault in a parser, the kernel's out-of-memory killer)
fails only the pages in its pool at the time, each reported as an extraction
failure, and the next page starts a new pool; before, the same crash in a
thread ended the watcher. ``processes = 1`` extracts in the calling thread, as
the watcher did before, with no process started. An import of pages (a folder's
saved pages, JSON lines' html records: :mod:`revtrack.importer`) hands them over
the same way, a few ahead, and takes them back in its records' order.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Final

from revtrack.errors import ExtractionSuspect

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from revtrack.model import Snapshot
    from revtrack.snapshotting import SnapshotRequest
    from revtrack.web import Page

# Each worker holds ~100 MB once it has extracted a few hundred real pages.
_DEFAULT_MOST: Final = 4
MOST_PROCESSES: Final = 64
# Pages fetched and waiting for a worker, per worker: enough to keep each busy
# while its next page arrives, without holding a pass's pages in memory (a
# first pass over 724 real pages peaked at 269 MB when every page waited).
_WAITING_PER_PROCESS: Final = 2


def default_processes() -> int:
    """The cores this process may run on, at most four."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, _DEFAULT_MOST))


class ExtractorPool:
    """Pages in, snapshots out (as futures), on ``processes`` worker processes started at the first page."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # fetch threads submit at once
        self._waiting = threading.BoundedSemaphore(processes * _WAITING_PER_PROCESS)

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers; pages not yet started are dropped (a pass that was interrupted)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, request: SnapshotRequest, page: Page | None = None) -> Future[Snapshot]:
        """Extract ``page`` (fetched for ``request``; None: the file it names); errors come out of the future.

        Waits while every worker already has its share of pages waiting.
        """
        if self.processes == 1:
            done: Future[Snapshot] = Future()
            try:
                done.set_result(prepare(request, page))
            except Exception as error:  # a RevtrackError, or a bug, raised from .result() as before
                done.set_exception(error)
            return done
        self._waiting.acquire()
        try:
            future = self._submit(request, page)
        except BaseException:
            self._waiting.release()
            raise
        future.add_done_callback(lambda _: self._waiting.release())
        return _explained(future, request.source)

    def _submit(self, request: SnapshotRequest, page: Page | None) -> Future[Snapshot]:
        # Imported here, not at start-up: multiprocessing cost `watch` and `import` 3-5 ms
        # (of ~95) there, and most watch passes (every page a 304) and every JSON-lines
        # import start no worker.
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        with self._lock:
            if self._pool is not None:
                try:
                    return _submitted(self._pool, request, page)
                except BrokenProcessPool:  # a worker died: its pages have failed, and a new pool takes this one
                    self._pool.shutdown(wait=False, cancel_futures=True)
            import multiprocessing

            self._pool = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker
            )
            return _submitted(self._pool, request, page)


def _submitted(pool: ProcessPoolExecutor, request: SnapshotRequest, page: Page | None) -> Future[Snapshot]:
    """``pool.submit``, which starts a worker while the pool has fewer than it may, with SIGINT held back."""
    # Not around the pool's creation: it starts multiprocessing's resource tracker,
    # which unblocks SIGINT in the calling thread afterwards (whatever it was before).
    with _sigint_blocked():
        return pool.submit(prepare, request, page)


def prepare(request: SnapshotRequest, page: Page | None) -> Snapshot:
    """The snapshot of a fetched page, or of the file ``request`` names (in a worker process: pickled both ways)."""
    from revtrack.snapshotting import prepare_snapshot

    snapshot, _ = prepare_snapshot(request, page=page)
    return snapshot


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT held back from this thread, and from the processes it starts, until they ignore it.

    Ctrl-C reaches every process of the terminal's group. A worker it reached
    while Python was still starting printed "Fatal Python error:
    init_import_site" and a traceback, before :func:`_start_worker` could
    ignore it. A process inherits its starter's signal mask, so the signal
    waits until the worker ignores it. (CPython starts its resource tracker
    so.) Here, a Ctrl-C meanwhile is raised as the block ends.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no process groups to signal
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _start_worker() -> None:
    # The watcher (or import) stops its workers itself at Ctrl-C; a worker's own
    # KeyboardInterrupt would only print a traceback and break the pool under
    # pages still waiting. The signal was blocked since the worker started
    # (_sigint_blocked): ignored now, one that came meanwhile is dropped.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    import trafilatura  # noqa: F401 (imported once, while the watcher still fetches)


def _explained(future: Future[Snapshot], source: str) -> Future[Snapshot]:
    """``future``, with a worker's death told as this page's extraction failure instead of BrokenProcessPool."""
    told: Future[Snapshot] = Future()

    def tell(finished: Future[Snapshot]) -> None:
        from concurrent.futures.process import BrokenProcessPool  # loaded: a pool gave this future

        if finished.cancelled():  # the pool closed under it (Ctrl-C)
            told.cancel()
            return
        error = finished.exception()
        if isinstance(error, BrokenProcessPool):
            told.set_exception(
                ExtractionSuspect(
                    f"the process extracting {source} ended abruptly (a crash in the page's parser, or "
                    "out of memory); not recorded, and fetched in full at its next check"
                )
            )
        elif error is not None:
            told.set_exception(error)
        else:
            told.set_result(finished.result())

    future.add_done_callback(tell)
    return told
