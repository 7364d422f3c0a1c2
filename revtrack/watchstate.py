"""What the watcher knows of each tracked URL and feed, kept in ``<store>/revtrack/watch.sqlite``.

First seen, last checked, next due (from the age-based schedule), last error,
the recorded copy's validators and digest, and each feed's validators. It
survives restarts; it is not derived from git, so it is never rebuilt or
replaced. ``revtrack watch --status`` reads only this module, not the fetching
and extraction that ``revtrack.watch`` brings in.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from revtrack.errors import StoreError
from revtrack.index import refused, sql_limit
from revtrack.web import Validators


def next_interval(age: timedelta, schedule: list[tuple[timedelta, timedelta]]) -> timedelta | None:
    """How long until the next check for an article this old; None once it is past the schedule."""
    for limit, every in schedule:
        if age < limit:
            return every
    return None


@dataclass(frozen=True)
class UrlStatus:
    """One tracked URL as the watcher last left it (times: seconds since the epoch)."""

    url: str
    article: str | None  # the id the watch list gave it; None: from the page's canonical URL
    origin: str  # "config", or the feed it came from
    first_seen: float
    last_checked: float | None
    next_due: float | None  # None: past the schedule, no longer checked
    last_error: str | None  # of the last check; None when it went through
    checks: int
    changes: int
    gone_since: float | None = None  # a recorded page has answered 404 or 410 since then


@dataclass(frozen=True)
class WatchCounts:
    """The watch list at a glance (``revtrack watch --status``)."""

    tracked: int
    scheduled: int  # still on the schedule (the rest are past it: no longer checked)
    due: int  # scheduled for now or earlier: the next pass checks them
    failing: int  # whose last check failed, gone pages included
    gone: int  # recorded pages answering 404 or 410


@dataclass(frozen=True)
class PageCopy:
    """What identifies a copy of a page once its bytes are gone: the server's validators and the bytes' digest."""

    validators: Validators
    sha256: str


@dataclass(frozen=True)
class DueUrl:
    """A tracked URL due for a check, with what the last recorded copy of its page left behind."""

    url: str
    article: str | None
    validators: Validators | None  # the server's ETag / Last-Modified for that copy
    page_sha256: str | None  # of its bytes: a server that ignores validators may send the same page again
    recorded: bool = False  # a copy of the page was recorded (changed or unchanged) at some check
    gone_since: float | None = None


# Made after the urls table: the feeds' validators, and the index of URLs by next check.
_MADE: Final = ("feeds", "urls_by_next_due")


class WatchState:
    """What the watcher knows of each URL and feed, in SQLite beside the index."""

    # Added after the first release of watch.sqlite; older files get them on open.
    _ADDED_COLUMNS: Final = {"etag": "TEXT", "last_modified": "TEXT", "page_sha256": "TEXT", "gone_since": "REAL"}

    def __init__(self, path: str) -> None:
        self.path = path
        self.db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        try:
            self._open()
        except sqlite3.DatabaseError as error:
            self.db.close()
            if refused(error):  # a full disk, say: the file is fine, and moving it aside would lose its state
                raise StoreError(f"cannot open the watch state {path} ({error})") from None
            # Not derived from git (first sightings, schedules), so never rebuilt or replaced here.
            raise StoreError(
                f"{path} is not a readable watch state ({error}); move it aside and the next watch starts afresh"
            ) from None

    def _open(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        if self._schema_complete():
            return  # the usual open: nothing written, so no wait for a pass holding the write lock
        # Created or brought up to date in one transaction: each page goes into the
        # write-ahead log once (one statement each wrote its own copies), and
        # another process opening the same old file waits, then finds it done.
        self.db.execute("BEGIN IMMEDIATE")
        try:
            columns = ", ".join(f"{column} {kind}" for column, kind in self._ADDED_COLUMNS.items())
            self.db.execute(
                f"""CREATE TABLE IF NOT EXISTS urls (
                    url TEXT PRIMARY KEY, article TEXT, origin TEXT, first_seen REAL NOT NULL,
                    last_checked REAL, next_due REAL, last_error TEXT, checks INTEGER NOT NULL DEFAULT 0,
                    changes INTEGER NOT NULL DEFAULT 0, {columns})"""
            )
            present = {row[1] for row in self.db.execute("PRAGMA table_info(urls)")}
            for column, kind in self._ADDED_COLUMNS.items():
                if column not in present:
                    self.db.execute(f"ALTER TABLE urls ADD COLUMN {column} {kind}")
            self.db.execute("CREATE TABLE IF NOT EXISTS feeds (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT)")
            # Each pass asks for the URLs due and the watcher for the next one due: without
            # this index both read every URL ever tracked (15 ms a pass at 100,000 URLs, and
            # growing with the list; URLs past their schedule stay listed, for --status).
            self.db.execute("CREATE INDEX IF NOT EXISTS urls_by_next_due ON urls (next_due) WHERE next_due IS NOT NULL")
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK")
            raise

    def _schema_complete(self) -> bool:
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(urls)")}
        made = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE name IN (?, ?)", _MADE)}
        return set(self._ADDED_COLUMNS) <= columns and made == set(_MADE)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The statements inside as one commit: one sync, where each would sync on its own.

        A pass notes every URL it checked: 10,000 of them took 3.14 s one
        commit each, 0.12 s in one commit (and tracking them 1.68 s, 0.05 s).
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException as error:
            if self.db.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # a disk that refused the commit may refuse this too
                    self.db.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error) and refused(error):
                raise StoreError(f"cannot write the watch state {self.path} ({error})") from None
            raise

    @contextmanager
    def reading(self) -> Iterator[None]:
        """The queries inside see one moment of the state, whatever a pass commits meanwhile (a WAL read)."""
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("COMMIT")

    def track(self, url: str, article: str | None, origin: str, now: float) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO urls (url, article, origin, first_seen, next_due) VALUES (?, ?, ?, ?, ?)",
            (url, article, origin, now, now),
        )

    def due(self, now: float) -> list[DueUrl]:
        rows = self.db.execute(
            """SELECT url, article, etag, last_modified, page_sha256,
                      page_sha256 IS NOT NULL OR changes > 0 OR gone_since IS NOT NULL, gone_since
               FROM urls WHERE next_due IS NOT NULL AND next_due <= ? ORDER BY next_due""",
            (now,),
        )
        return [
            DueUrl(url, article, Validators.stored(etag, modified), sha, bool(seen), gone)
            for url, article, etag, modified, sha, seen, gone in rows
        ]

    def record(
        self,
        url: str,
        now: float,
        schedule: list[tuple[timedelta, timedelta]],
        error: str | None,
        changed: bool,
        copy: PageCopy | None = None,
        gone: bool = False,
    ) -> None:
        """Note a check of ``url``; ``copy`` is the page now recorded (or found the same again), to send back next time.

        A failed check, or a 304, keeps what the last recorded copy left: sent
        again after a failure, it makes the server send the page in full.
        ``gone``: a recorded page answered 404 or 410 (since the first such
        check, until one goes through again).
        """
        first_seen = self.db.execute("SELECT first_seen FROM urls WHERE url=?", (url,)).fetchone()[0]
        interval = next_interval(timedelta(seconds=now - first_seen), schedule)
        self.db.execute(
            """UPDATE urls SET last_checked=?, next_due=?, last_error=?, checks=checks+1, changes=changes+?,
                   gone_since = CASE WHEN ? THEN coalesce(gone_since, ?) WHEN ? IS NULL THEN NULL ELSE gone_since END
               WHERE url=?""",
            (
                now,
                None if interval is None else now + interval.total_seconds(),
                error,
                int(changed),
                gone,
                now,
                error,
                url,
            ),
        )
        if copy is not None:
            self.db.execute(
                "UPDATE urls SET etag=?, last_modified=?, page_sha256=? WHERE url=?",
                (copy.validators.etag, copy.validators.last_modified, copy.sha256, url),
            )

    def feed_validators(self, url: str) -> Validators | None:
        row = self.db.execute("SELECT etag, last_modified FROM feeds WHERE url=?", (url,)).fetchone()
        return Validators.stored(*row) if row else None

    def record_feed(self, url: str, validators: Validators) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO feeds (url, etag, last_modified) VALUES (?, ?, ?)",
            (url, validators.etag, validators.last_modified),
        )

    def next_wake(self) -> float | None:
        row = self.db.execute("SELECT min(next_due) FROM urls WHERE next_due IS NOT NULL").fetchone()
        return float(row[0]) if row[0] is not None else None

    def statuses(self, failing: bool = False, limit: int | None = None) -> list[UrlStatus]:
        """Tracked URLs by URL, at most ``limit``: what ``revtrack watch --status`` shows.

        ``failing``: only those whose last check failed (gone pages included).
        In URL order (the primary key), a limit stops the scan early.
        """
        where = " WHERE last_error IS NOT NULL" if failing else ""
        rows = self.db.execute(
            "SELECT url, article, origin, first_seen, last_checked, next_due, last_error, checks, changes, gone_since "
            f"FROM urls{where} ORDER BY url LIMIT ?",
            (sql_limit(limit),),
        )
        return [UrlStatus(*row) for row in rows]

    def counts(self, now: float) -> WatchCounts:
        """How many URLs are tracked, still scheduled, due at ``now``, failing and gone: one pass over the table."""
        row = self.db.execute(
            "SELECT count(*), count(next_due), coalesce(sum(next_due <= ?), 0), count(last_error), count(gone_since) "
            "FROM urls",
            (now,),
        ).fetchone()
        return WatchCounts(*row)
