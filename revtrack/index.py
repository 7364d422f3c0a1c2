"""The derived SQLite index of articles and revisions, kept inside the store's git dir.

It is a cache: git is the record. It remembers which branch commit it reflects
(``tip``); when the branch has moved on (a writer died between its commit and
its index update, or plain git was used), the store replays the missing commits.
A missing, corrupt or outdated index is deleted and rebuilt from git.
Full-text search uses a contentless FTS5 table over revtrack's own tokens, so
phrases in scripts without spaces match too. It holds each distinct paragraph
of an article once, with the revisions it spans (a *passage*): an article's
next revision adds rows only for its new paragraphs, and closes the spans of
those it dropped. A passage's row id is a number of its article's (a range)
in its high bits, so the matches of a word come grouped by article.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final, NamedTuple

from revtrack.errors import StoreError
from revtrack.model import ArticleSummary, Revision

# 5: symbols newer than Unicode 6.1 go into full-text search re-tokenized (search_text).
# 6: a full-text row per distinct paragraph span (passages), not per revision. Older indexes are rebuilt.
SCHEMA_VERSION: Final = "6"
# A passage's id: a range's number shifted by this many bits, plus the passage's number in the range.
# Few bits keep FTS5's row id deltas short (a varint each; session 22, the benchmark's 10,000 articles:
# 37.9 MB of full-text pages with 32 bits, 23.2 MB numbered one after another); an article with more
# passages than a range holds (a live blog of thousands of revisions) takes another range.
_PASSAGE_BITS: Final = 12
_IN_RANGE: Final = (1 << _PASSAGE_BITS) - 1
# Snapshots queue their words here and the full-text index takes them in
# batches: one FTS5 insert per transaction costs more the larger the index
# (0.75 ms at 30 revisions, 1.75 ms at 30,000, measured here), a queued row
# ~0.3 ms at any size. Searches flush the queue first, so they see everything.
# Counted in passages since schema 6: a new article queues one a paragraph, an
# edited one only its new paragraphs.
FLUSH_PENDING_AT: Final = 256
FTS_AUTOMERGE: Final = 16  # see Index._set_automerge
# Index.compact rewrites the whole file, so it waits until this share of it is free:
# 5% of a 10 GB index is 0.5 GB back for ~1 minute of VACUUM.
COMPACT_FROM_FREE_SHARE: Final = 0.05
_ALL: Final = 2**62  # a limit (search, list, watch --status) above this is no limit
_BUSY_TIMEOUT_MS: Final = 30_000  # how long a write waits for another connection's write to end
_LOG_SIZE_LIMIT: Final = 16 << 20  # bytes of write-ahead log kept once it has been checkpointed; see Index._open

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS revisions (
    id INTEGER PRIMARY KEY,
    article TEXT NOT NULL,
    rev INTEGER NOT NULL,
    commit_id TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    stated TEXT NOT NULL DEFAULT '{}',
    fingerprint TEXT NOT NULL,
    path TEXT NOT NULL,
    words_added INTEGER,
    words_deleted INTEGER,
    summary TEXT,
    UNIQUE (article, rev)
);
CREATE INDEX IF NOT EXISTS revisions_commit ON revisions (commit_id);
CREATE TABLE IF NOT EXISTS articles (
    article TEXT PRIMARY KEY,
    latest_rev INTEGER NOT NULL,
    latest_id INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_changed TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passage_ranges (number INTEGER PRIMARY KEY, article TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS passage_ranges_article ON passage_ranges (article, number);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,  -- (its range's number << _PASSAGE_BITS) + 1..._IN_RANGE; its full-text row
    first_rev INTEGER NOT NULL,
    until_rev INTEGER,  -- the first revision without it; NULL while the article's latest has it
    digest INTEGER NOT NULL  -- of its words (passage_digests), to know it in the article's next revision
);
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(
    words, content='', tokenize='unicode61 remove_diacritics 0'
);
CREATE TABLE IF NOT EXISTS search_pending (id INTEGER PRIMARY KEY, words TEXT NOT NULL);
"""

_COLUMNS: Final = (
    "article, rev, commit_id, observed_at, title, url, stated, fingerprint, words_added, words_deleted, summary, path"
)

# The same columns of the revisions table aliased r.
_COLUMNS_OF_R: Final = ", ".join(f"r.{column.strip()}" for column in _COLUMNS.split(","))
# The same columns picked from a JSON array of _row()'s values (Index.add_many).
_COLUMNS_FROM_JSON: Final = ", ".join(
    f"json_extract(value, '$[{number}]')" for number in range(_COLUMNS.count(",") + 1)
)


class SearchRow(NamedTuple):
    """One article that a full-text query matches: its first and last matching revision, and its latest."""

    article: str
    first_rev: int
    first_observed_at: str
    last_rev: int
    last_observed_at: str
    latest_rev: int
    latest_title: str


def refused(error: sqlite3.Error) -> bool:
    """Whether SQLite failed because the file system refused it (a full disk, a size limit, permissions).

    Such an index is not corrupt, and a new one would fail the same way.
    Python 3.11 names the error code; 3.10 has only SQLite's own words for it.
    """
    name = getattr(error, "sqlite_errorname", None)
    if name is not None:
        return bool(name.startswith(("SQLITE_IOERR", "SQLITE_FULL", "SQLITE_CANTOPEN", "SQLITE_READONLY")))
    return str(error).startswith(_REFUSALS)


# sqlite3_errstr() of those codes, for Python 3.10.
_REFUSALS: Final = (
    "disk I/O error", "database or disk is full", "unable to open database file", "attempt to write a readonly database"
)  # fmt: skip


class IndexCorrupt(Exception):
    """The index file cannot be used; the store deletes and rebuilds it."""


class IndexBusy(Exception):
    """Another connection is writing the index (``transaction(wait=False)`` does not wait)."""


class Index:
    """Connection to one store's index database."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            try:
                self._open()
            except BaseException:
                # Closed here, or the store's rebuild would delete the file under an open
                # connection (which Windows refuses, and which keeps the old file alive).
                self.db.close()
                raise
        except sqlite3.DatabaseError as error:
            if refused(error):  # the file is not at fault: deleting it would cost a rebuild and win nothing
                raise StoreError(f"cannot open the index {path} ({error})") from None
            raise IndexCorrupt(str(error)) from None

    def _open(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        # The log grows to hold the largest write while a reader keeps its old frames
        # (an import: the size of its rows; a compaction: the whole index), and SQLite
        # keeps the file that size until the last connection closes, which in a watch
        # that runs for weeks it never does. With a limit, the first write after a
        # checkpoint cuts it back.
        self.db.execute(f"PRAGMA journal_size_limit={_LOG_SIZE_LIMIT}")
        version = self._schema_version()
        if version is None:
            self._create()
        elif version != SCHEMA_VERSION:
            raise IndexCorrupt(f"index schema {version}, expected {SCHEMA_VERSION}")

    def _schema_version(self) -> str | None:
        tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables:
            if tables:
                raise IndexCorrupt("index has unexpected tables")
            return None
        row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        return row[0] if row else None

    def _create(self) -> None:
        # One script, one transaction: a reader racing to create the index sees all or nothing.
        self.db.executescript(
            f"BEGIN IMMEDIATE; {_SCHEMA} INSERT OR REPLACE INTO meta VALUES ('schema', '{SCHEMA_VERSION}'); COMMIT;"
        )

    def close(self) -> None:
        self.db.close()

    @staticmethod
    def delete_files(path: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path + suffix)

    # --- the tip of the branch this index reflects ---------------------------

    def tip(self) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key='tip'").fetchone()
        return row[0] if row else None

    @contextmanager
    def transaction(self, tip: str | None = None, wait: bool = True) -> Iterator[None]:
        """One write transaction; with ``tip``, the index also records that it now reflects that commit.

        Nothing of it is kept if the block raises (or the process dies in it).
        Inside an open transaction (a :meth:`Store.batch`) it is a savepoint of
        that one. ``wait=False`` raises :class:`IndexBusy` at once when another
        connection is writing, instead of waiting for it.
        """
        if self.db.in_transaction:
            with self.savepoint():
                yield
                if tip is not None:
                    self.set_tip(tip)
            return
        self._begin(wait)
        try:
            yield
            if tip is not None:
                self.set_tip(tip)
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def _begin(self, wait: bool) -> None:
        if wait:
            self.db.execute("BEGIN IMMEDIATE")
            return
        with self._not_waiting():
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise IndexBusy(str(error)) from None

    @contextmanager
    def _not_waiting(self) -> Iterator[None]:
        """Statements in this block give up at once where another connection is in the way."""
        self.db.execute("PRAGMA busy_timeout=0")
        try:
            yield
        finally:
            self.db.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: undo only this block's writes if it raises."""
        self.db.execute("SAVEPOINT block")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK TO block")
            self.db.execute("RELEASE block")
            raise
        self.db.execute("RELEASE block")

    # --- writes (inside a transaction) -----------------------------------------

    def set_tip(self, tip: str) -> None:
        """Record that the index reflects the branch at ``tip``."""
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('tip', ?)", (tip,))

    def set_commits(self, commits: Iterable[tuple[str, int]]) -> None:
        """Fill in the commits of rows added before their commits existed: (commit, rowid) pairs."""
        self.db.executemany("UPDATE revisions SET commit_id=? WHERE rowid=?", commits)

    def add(self, revision: Revision, passages: list[str], queue: bool = False) -> int | None:
        """Index a revision and its passages (:func:`revtrack.search_text.passages`).

        ``queue``: the words of its new passages wait for the next batch into
        the full-text index. An article's revisions are indexed in order.
        Returns the row's id, or None when the revision was indexed already.
        (An import or a rebuild writes its rows with :meth:`add_many` and
        :meth:`update_articles`.)
        """
        cursor = self.db.execute(
            f"INSERT OR IGNORE INTO revisions ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            _row(revision),
        )
        if cursor.rowcount == 0:
            return None  # already indexed (another reader caught up first)
        rowid = cursor.lastrowid
        self._add_passages([(revision.article, revision.rev, passages)], queue)
        self.db.execute(
            """INSERT INTO articles VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (article) DO UPDATE SET latest_rev=excluded.latest_rev,
               latest_id=excluded.latest_id, last_changed=excluded.last_changed
               WHERE excluded.latest_rev > articles.latest_rev""",
            (revision.article, revision.rev, rowid, revision.observed_at, revision.observed_at),
        )
        return rowid

    def update_articles(self, after_row: int) -> None:
        """Bring the articles' rows up to the revisions added after row ``after_row``, in one statement.

        What :meth:`add` does row by row, for a whole import or rebuild: its first revision
        of a new article is the article's first sighting, its last the latest.
        """
        self.db.execute(
            """INSERT INTO articles
               SELECT last.article, last.rev, last.id, first.observed_at, last.observed_at
               FROM (SELECT article, min(rev) AS low, max(rev) AS high
                     FROM revisions WHERE id > ? GROUP BY article) AS added
               JOIN revisions AS first ON first.article = added.article AND first.rev = added.low
               JOIN revisions AS last ON last.article = added.article AND last.rev = added.high
               WHERE true  -- SQLite's upsert docs ask for one after INSERT ... SELECT (parsing ambiguity)
               ON CONFLICT (article) DO UPDATE SET latest_rev=excluded.latest_rev,
               latest_id=excluded.latest_id, last_changed=excluded.last_changed
               WHERE excluded.latest_rev > articles.latest_rev""",
            (after_row,),
        )

    def set_stats(self, article: str, rev: int, words_added: int, words_deleted: int, summary: str) -> None:
        self.db.execute(
            "UPDATE revisions SET words_added=?, words_deleted=?, summary=? WHERE article=? AND rev=?",
            (words_added, words_deleted, summary, article, rev),
        )

    # --- reads -----------------------------------------------------------------

    def latest(self, article: str) -> Revision | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM revisions WHERE article=? ORDER BY rev DESC LIMIT 1", (article,)
        ).fetchone()
        return _revision(row) if row else None

    def same_version(self, article: str, fingerprint: str, observed_at: str) -> Revision | None:
        """A revision with this text observed at this very time (a re-run of the same record)."""
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM revisions WHERE article=? AND fingerprint=? AND observed_at=? LIMIT 1",
            (article, fingerprint, observed_at),
        ).fetchone()
        return _revision(row) if row else None

    def revisions(self, article: str) -> list[Revision]:
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM revisions WHERE article=? ORDER BY rev", (article,))
        return [_revision(row) for row in rows]

    def revision(self, article: str, rev: int) -> Revision | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM revisions WHERE article=? AND rev=?", (article, rev)).fetchone()
        return _revision(row) if row else None

    def by_commit_prefix(self, article: str, prefix: str) -> list[Revision]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM revisions WHERE article=? AND commit_id >= ? AND commit_id < ? ORDER BY rev",
            (article, prefix, prefix + "g"),
        )
        return [_revision(row) for row in rows]

    def articles(self, since: str | None = None, limit: int | None = None) -> list[ArticleSummary]:
        """Articles by id: those whose latest version was observed at or after ``since`` (ISO 8601), at most ``limit``.

        SQLite's julianday() reads each time's UTC offset, so times with
        different offsets compare as instants. In id order, a limit stops the
        scan early: the first 100 of a million articles read 100 rows.
        """
        where, parameters = _since_clause(since)
        rows = self.db.execute(
            f"""SELECT a.article, r.title, a.latest_rev, a.first_seen, a.last_changed, r.url
                FROM articles a JOIN revisions r ON r.id = a.latest_id{where} ORDER BY a.article LIMIT ?""",
            (*parameters, sql_limit(limit)),
        )
        return [ArticleSummary(*row) for row in rows]

    def count_articles(self, since: str | None = None) -> int:
        where, parameters = _since_clause(since)
        return int(self.db.execute(f"SELECT count(*) FROM articles a{where}", parameters).fetchone()[0])

    def last_row(self) -> int:
        """Row number of the newest revision (O(log n), unlike count(*))."""
        row = self.db.execute("SELECT max(id) FROM revisions").fetchone()
        return int(row[0] or 0)

    def latest_revisions(self, after: str = "", limit: int = 1_000) -> list[Revision]:
        """Each article's latest revision, by article id: the first ``limit`` after article ``after``."""
        rows = self.db.execute(
            f"""SELECT {_COLUMNS_OF_R} FROM articles a JOIN revisions r ON r.id = a.latest_id
                WHERE a.article > ? ORDER BY a.article LIMIT ?""",
            (after, limit),
        )
        return [_revision(row) for row in rows]

    def open_digests(self, articles: list[str]) -> dict[str, set[int]]:
        """The digests of the articles' open passages (those of their latest revisions), for ``check``."""
        (found,) = self.db.execute(
            _open_passages_of("r.article, p.digest"), {"articles": json.dumps(articles, ensure_ascii=False)}
        ).fetchone()
        digests: dict[str, set[int]] = {article: set() for article in articles}
        for article, digest in json.loads(found):
            digests[article].add(digest)
        return digests

    def all_revisions(self) -> list[tuple[str, int, str]]:
        return list(self.db.execute("SELECT article, rev, commit_id FROM revisions ORDER BY article, rev"))

    def pending_words(self) -> int:
        row = self.db.execute("SELECT count(*) FROM search_pending").fetchone()
        return int(row[0])

    def flush_pending(self, at_least: int = 1) -> None:
        """Move queued words into the full-text index, in one transaction, when ``at_least`` are queued."""
        if self.pending_words() < at_least:
            return
        with self.transaction():
            self._set_automerge()
            self.db.execute("INSERT INTO search (rowid, words) SELECT id, words FROM search_pending")
            self.db.execute("DELETE FROM search_pending")

    def add_many(self, revisions: list[tuple[Revision, list[str]]]) -> int:
        """Index revisions and their passages in whole statements; returns the first one's row id (the rest follow on).

        For an import's index thread, inside its write transaction, which no
        other connection can join: so the rows can be numbered here. Each
        statement runs without Python's lock from start to end, where a
        statement a row gives it up and waits for it again once a row (up to
        5 ms each while the thread feeding git holds it). The words go straight
        into the full-text index, not through the snapshots' queue table.
        """
        assert self.db.in_transaction, "rows are numbered here: only inside a write transaction"
        first = self.last_row() + 1
        # The first row id is bound, not written into the SQL: Python keeps each
        # distinct statement prepared (up to 128), and a kept statement holds its
        # last bound JSON. With the id in the text, every group of a thousand
        # was a new statement, and SQLite's memory grew by the group's text:
        # 118 MB at the end of a 30,000-version import, 6 MB bound.
        self.db.execute(
            f"INSERT INTO revisions (id, {_COLUMNS}) SELECT ? + key, {_COLUMNS_FROM_JSON} FROM json_each(?)",
            (first, json.dumps([_row(revision) for revision, _ in revisions], ensure_ascii=False)),
        )
        self._set_automerge()
        self._add_passages([(revision.article, revision.rev, passages) for revision, passages in revisions])
        return first

    def _add_passages(self, revisions: list[tuple[str, int, list[str]]], queue: bool = False) -> None:
        """Index the passages of revisions (article, rev, passages), in order, each statement for all of them.

        Whole statements, not one a row: in an import's index thread each
        statement gives up Python's lock and waits for it again (see
        :meth:`add_many`). Reads each article's open passages, works out which
        this revision keeps, opens and closes (:func:`_spans`), and writes them.
        """
        open_passages, next_ids = self._open_passages(sorted({article for article, _, _ in revisions}))
        rows, words = _spans(revisions, open_passages, next_ids, self._new_range)
        if rows:
            # The new rows, then the closed ones written again with their end: one statement for both
            # (REPLACE, where UPDATE ... FROM would need SQLite 3.33).
            self.db.execute(
                """REPLACE INTO passages (id, first_rev, until_rev, digest)
                   SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
                          json_extract(value, '$[3]')
                   FROM json_each(?) ORDER BY key""",
                (json.dumps(rows),),
            )
        if words:
            # In id order: FTS5 writes out what it holds whenever a row id comes lower than the one before,
            # and an import ordered by time goes from article to article (the benchmark's: 1,767 -> 2,124
            # versions/s before the repack).
            words.sort()
            table = "search_pending (id, words)" if queue else "search (rowid, words)"
            self.db.execute(
                f"""INSERT INTO {table}
                    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)""",
                (json.dumps(words, ensure_ascii=False),),
            )

    def _open_passages(self, articles: list[str]) -> tuple[dict[str, dict[int, tuple[int, int]]], dict[str, int]]:
        """The articles' open passages ({digest: (id, first rev)}), and each one's next passage id.

        Gives a range to each article that has none.
        """
        listed = json.dumps(articles, ensure_ascii=False)
        # One statement, each answer one JSON value: a cursor's every row is a step that gives up
        # Python's lock and waits to take it back, which an import's index thread shares with the
        # thread feeding git (the open passages of an import ordered by time: 0.45 s alone, 4.5 s
        # beside it). A snapshot's statements are most of its cost in the index (0.2 ms).
        open_rows, last_rows = self.db.execute(
            f"""SELECT
                ({_open_passages_of("r.article, p.id, p.first_rev, p.digest")}),
                (SELECT json_group_array(json_array(r.article, coalesce(
                     (SELECT max(id) FROM passages WHERE {_in_range("id")}), r.number << {_PASSAGE_BITS})))
                 -- each article's latest range, and its last passage (or the range's start)
                 FROM json_each(:articles) j
                 JOIN passage_ranges r
                   ON r.number = (SELECT max(number) FROM passage_ranges WHERE article = j.value))""",
            {"articles": listed},
        ).fetchone()
        open_passages: dict[str, dict[int, tuple[int, int]]] = {article: {} for article in articles}
        for article, passage, first_rev, digest in json.loads(open_rows):
            open_passages[article][digest] = (passage, first_rev)
        next_ids = {article: last + 1 for article, last in json.loads(last_rows)}
        if len(next_ids) < len(articles):  # new articles: a range each
            new = json.dumps([article for article in articles if article not in next_ids], ensure_ascii=False)
            self.db.execute("INSERT INTO passage_ranges (article) SELECT value FROM json_each(?)", (new,))
            (first_rows,) = self.db.execute(
                f"""SELECT json_group_array(json_array(r.article, (r.number << {_PASSAGE_BITS}) + 1))
                    FROM json_each(?) j JOIN passage_ranges r ON r.article = j.value""",
                (new,),
            ).fetchone()
            next_ids.update(json.loads(first_rows))
        return open_passages, next_ids

    def _new_range(self, article: str) -> int:
        """Another range of passage ids for an article whose ranges are full; its first id."""
        number = self.db.execute("INSERT INTO passage_ranges (article) VALUES (?)", (article,)).lastrowid
        assert number is not None
        return (number << _PASSAGE_BITS) + 1

    def compact(self, from_free_share: float = COMPACT_FROM_FREE_SHARE) -> tuple[int, int] | None:
        """Give the file's free pages back to the file system when they are at least ``from_free_share`` of it.

        Returns the index's size in bytes (its pages) before and after, or
        None when it was left as it is. FTS5's merges free the pages of the
        segments they join, and SQLite keeps those for later writes: a
        500-revision live blog's import left 8.2 of its index's 24.1 MB free,
        the benchmark's 3,000 articles 4.0 of 23.0 MB, its 10,000 one page of
        63.0 MB. VACUUM writes the index anew without them (~5.6 ms a MB
        here: 0.37 s for those 63 MB, which it made 62.1); in WAL mode readers
        go on meanwhile. The checkpoint after it empties the log, unless a
        reader still reads the old pages: it does not wait for that reader (it
        would, for the connection's 30 s busy timeout), and the last
        connection to close empties it instead. Not inside a transaction; run
        by a full :meth:`revtrack.store.Store.maintain`, under the store's
        write lock.
        """
        size, free = self.space()
        if not free or free < from_free_share * size:
            return None
        self.db.execute("VACUUM")
        with self._not_waiting():
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return size, self.space()[0]

    def space(self) -> tuple[int, int]:
        """The index's size in bytes, and how many of them are free pages (kept by SQLite for later writes)."""
        page_size, pages, free = (
            self.db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_size", "page_count", "freelist_count")
        )
        return pages * page_size, free * page_size

    def _set_automerge(self) -> None:
        # FTS5 merges its segments once 4 of a size pile up (automerge 4); 16 is
        # its largest setting. In a 30,000-revision index a flush of 256 took
        # 63-126 ms with 4 and 38-46 ms with 16; a phrase query 1.38 -> 1.58 ms.
        # Set in a write that happens anyway, so older indexes get it too.
        # (FTS5's hashsize, how many terms it holds before writing a segment, is
        # left at 1 MiB: at 8 MiB an import ran 1-3% faster but left segments
        # whose first merge stalled a later snapshot's flush for 0.83 s.)
        self.db.execute(f"INSERT INTO search (search, rank) VALUES ('automerge', {FTS_AUTOMERGE})")

    def search(self, query: str, limit: int | None = None) -> tuple[list[SearchRow], int]:
        """Articles with revisions whose words match an FTS5 query, by article id, and how many there are.

        A match's article comes from its row id's range, without a join; only
        the articles shown (at most ``limit``) have their matching passages'
        spans read. A common word matches most of a store: `the`, ~125,000
        passages of 10,000 articles (session 22).
        """
        self.flush_pending()
        found = self.db.execute(
            f"""WITH matched AS (SELECT DISTINCT rowid >> {_PASSAGE_BITS} AS number
                                 FROM search WHERE search MATCH :query),
                named AS (SELECT DISTINCT r.article FROM matched m JOIN passage_ranges r ON r.number = m.number),
                shown AS (SELECT article, count(*) OVER () AS total FROM named ORDER BY article LIMIT :limit),
                spans AS (SELECT r.article, min(p.first_rev) AS first_rev,
                                 max(coalesce(p.until_rev, {_ALL})) AS until_rev
                          -- One more pass over the matches, first (CROSS JOIN keeps it the outer loop):
                          -- FTS5 asked again for each shown article's matches, or for its range of row
                          -- ids, evaluates the query that many times (a phrase: 70 ms for a hundred).
                          FROM search s CROSS JOIN passage_ranges r ON r.number = s.rowid >> {_PASSAGE_BITS}
                          CROSS JOIN passages p ON p.id = s.rowid
                          WHERE search MATCH :query AND r.article IN (SELECT article FROM shown)
                          GROUP BY r.article),
                -- Every article shown has a match, so spans holds them all. Not joined to shown
                -- again: SQLite read spans whole for each article (--limit 0 at 10,000: 4.4 s).
                hits AS (SELECT article, first_rev, (SELECT total FROM shown LIMIT 1) AS total,
                                (SELECT max(rev) FROM revisions WHERE article = spans.article AND rev < until_rev)
                                AS last_rev
                         FROM spans)
                SELECT h.article, h.first_rev, f.observed_at, h.last_rev, l.observed_at,
                       coalesce(a.latest_rev, h.last_rev), coalesce(t.title, l.title), h.total
                FROM hits h
                JOIN revisions f ON f.article = h.article AND f.rev = h.first_rev
                JOIN revisions l ON l.article = h.article AND l.rev = h.last_rev
                LEFT JOIN articles a ON a.article = h.article
                LEFT JOIN revisions t ON t.id = a.latest_id
                ORDER BY h.article""",
            {"query": query, "limit": sql_limit(limit)},
        ).fetchall()
        return [SearchRow(*row[:7]) for row in found], int(found[0][7]) if found else 0


def sql_limit(limit: int | None) -> int:
    """``limit`` as a LIMIT parameter: -1 (none) for None, and for a number past SQLite's integers (2**63)."""
    return -1 if limit is None or limit > _ALL else limit


def _in_range(column: str) -> str:
    """SQL: ``column`` (a passage id) is in the range ``r`` (a passage_ranges row).

    Built when called, not once: the tests narrow the ranges (_PASSAGE_BITS).
    """
    return f"{column} >= r.number << {_PASSAGE_BITS} AND {column} < (r.number + 1) << {_PASSAGE_BITS}"


def _open_passages_of(columns: str) -> str:
    """SQL: ``columns`` of the open passages (p) of the articles in the JSON list ``:articles``, as one JSON array."""
    return f"""SELECT json_group_array(json_array({columns}))
               FROM json_each(:articles) j JOIN passage_ranges r ON r.article = j.value
               JOIN passages p ON {_in_range("p.id")}
               WHERE p.until_rev IS NULL"""


def passage_digests(passages: list[str]) -> list[int]:
    """What tells each passage from the article's other open ones: 48 bits of BLAKE2b (six bytes in SQLite).

    Two different paragraphs of one revision and the one before it share one
    with a chance of about 1 in 10^12 a pair.
    """
    # Imported here, a revision's passages at a time: hashlib loads OpenSSL's binding,
    # ~5 ms that every command paid at start-up when this module imported it.
    from hashlib import blake2b

    return [int.from_bytes(blake2b(text.encode(), digest_size=6).digest(), "big", signed=True) for text in passages]


def _spans(
    revisions: list[tuple[str, int, list[str]]],
    open_passages: dict[str, dict[int, tuple[int, int]]],
    next_ids: dict[str, int],
    new_range: Callable[[str], int],
) -> tuple[list[tuple[int, int, int | None, int]], list[tuple[int, str]]]:
    """The passages that revisions (article, rev, passages) open and close, in order.

    ``open_passages`` (by article: {digest: (id, first rev)}) and ``next_ids``
    hold what the index has before them, and are brought up to date;
    ``new_range`` gives an article whose range is full the first id of another.
    Returns the passages' rows (id, first rev, the first rev without it or
    None, digest): those opened, then those closed, so that a passage opened
    and closed among these revisions ends closed; and the opened ones' words
    (id, words). A passage that a revision drops and a later one brings back
    opens again.
    """
    opened: list[tuple[int, int, int | None, int]] = []
    closed: list[tuple[int, int, int | None, int]] = []
    words: list[tuple[int, str]] = []
    for article, rev, passages in revisions:
        before = open_passages[article]
        now: dict[int, tuple[int, int]] = {}
        for text, digest in zip(passages, passage_digests(passages), strict=True):
            if digest in now:
                continue  # the same paragraph twice in one revision: one passage
            kept = before.pop(digest, None)
            if kept is None:
                passage = next_ids[article]
                if not passage & _IN_RANGE:  # past the range's last id: the next range is another article's
                    passage = new_range(article)
                next_ids[article] = passage + 1
                kept = (passage, rev)
                opened.append((passage, rev, None, digest))
                words.append((passage, text))
            now[digest] = kept
        closed += [(passage, first_rev, rev, digest) for digest, (passage, first_rev) in before.items()]
        open_passages[article] = now
    return opened + closed, words


def _row(revision: Revision) -> tuple[Any, ...]:
    return (
        revision.article,
        revision.rev,
        revision.commit,
        revision.observed_at,
        revision.title,
        revision.url,
        json.dumps(revision.stated, ensure_ascii=False, sort_keys=True),
        revision.fingerprint,
        revision.words_added,
        revision.words_deleted,
        revision.summary,
        revision.path,
    )


def _revision(row: tuple[Any, ...]) -> Revision:
    (article, rev, commit, observed_at, title, url, stated, fingerprint, added, deleted, summary, path) = row
    return Revision(
        article, rev, commit, observed_at, title, url, json.loads(stated), fingerprint, added, deleted, summary, path
    )


def _since_clause(since: str | None) -> tuple[str, tuple[str, ...]]:
    """The WHERE clause (and its parameter) keeping articles last changed at or after ``since``."""
    if since is None:
        return "", ()
    return " WHERE julianday(a.last_changed) >= julianday(?)", (since,)
