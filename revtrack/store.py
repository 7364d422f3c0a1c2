"""The store: a bare git repository of article versions plus its derived SQLite index.

Layout (readable with plain git)::

    <store>/                      bare git repository (HEAD, objects/, refs/ ...)
    <store>/revtrack/store.json   marks the folder as a revtrack store
    <store>/revtrack/index.sqlite derived index (a cache; delete it and it is rebuilt)
    <store>/revtrack/write.lock   one writer at a time (an OS lock: a dead writer holds nothing)
    tree: <a>/<b>/<c>/<article-id>.article.txt   headline, blank line, body
                                   .meta.json     url, stated times, source, extractor
                                   .page.html     the fetched page (--keep-html)
          (<a>/<b>/<c>: base-32 digits of the sha1 of the id; "/" in the id is
          written "%2F". Stores of formats 1 and 2 keep their layouts,
          articles/<ab>/<cd>/<id>/ and <ab>/<cd>/<id>.*: see ids.py.)

Each new version is one commit on ``main`` whose author date is the observed
time with its UTC offset (to the second) and whose trailers name the article
and revision number. Readers never take the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from revtrack import __version__
from revtrack.errors import (
    ArticleNotFound,
    InvalidTime,
    NotAStore,
    RevisionNotFound,
    StoreDamaged,
    StoreError,
    StoreLocked,
)
from revtrack.gitread import cat_objects, ended, git, is_ancestor, parse_commit, read_ref, rev_list, trailers
from revtrack.ids import FORMAT_NARROW, KNOWN_FORMATS, article_path, check_new_article, file_path, validate_article_id
from revtrack.index import FLUSH_PENDING_AT, Index, IndexBusy, IndexCorrupt, refused
from revtrack.ingest import Document, fingerprint, split_article_text
from revtrack.model import ArticleSummary, Revision, Snapshot, SnapshotResult
from revtrack.timeutil import format_iso, from_git_date, parse_iso

if TYPE_CHECKING:
    from filelock import BaseFileLock

    from revtrack.gitwrite import ObjectWriter

DEFAULT_STORE: Final = "snapshots"
DEFAULT_LOCK_TIMEOUT: Final = 30.0
STORE_FORMAT: Final = FORMAT_NARROW  # what new stores get; older formats stay readable and writable
_MAINTENANCE_EVERY: Final = 100
# A catch-up this long (a lost or outdated index: ~1 s per 2,000) is announced, so a pause is not a hang.
NOTE_CATCH_UP_FROM: Final = 2_000
_LOOSE_LIMIT: Final = 6_700  # git's gc.auto: pack the loose objects beyond about this many
_PACK_LIMIT: Final = 50  # join recent packs beyond this many (git's gc.autoPackLimit)
# Texts per git call where a command reads many in turn: a live blog's 500
# versions of ~100 KB each, held at once, took ~200 MB.
_TEXTS_AT_ONCE: Final = 64
# How maintenance after recorded versions may fail (a full disk under
# pack-objects, a lock someone's own git holds): the versions stand, the
# caller is not told the write failed, and the next maintenance tries again.
MAINTENANCE_FAILURES: Final = (StoreError, StoreLocked, OSError)
_GIT_INIT_PROBE: Final = re.compile("t[0-9A-Za-z]{6}|\u00e4|a\u0308")  # init-db.c: symlink and UTF-8 probes
# What `git init --bare` creates, plus the README the project keeps in ./snapshots.
_INIT_ENTRIES: Final = frozenset(
    {
        "HEAD",
        "config",
        "description",
        "hooks",
        "info",
        "objects",
        "refs",
        "branches",
        "logs",
        "packed-refs",
        "README.md",
        "revtrack",
    }
)


class Store:
    """Record and read article versions. ``Store(path).snapshot(...)``, ``.log(id)``, ``.text(rev)``."""

    def __init__(
        self,
        path: str = DEFAULT_STORE,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.path = os.path.abspath(path)
        # Told about slow work the caller did not ask for (rebuilding a lost or outdated index).
        self.notify = notify
        self.meta_dir = os.path.join(self.path, "revtrack")
        self.index_path = os.path.join(self.meta_dir, "index.sqlite")
        self.lock_timeout = lock_timeout
        self._index: Index | None = None
        self._writer: ObjectWriter | None = None
        self._lock: BaseFileLock | None = None
        self._format: int | None = None
        self._batch: _Batch | None = None

    # --- opening ---------------------------------------------------------------

    def exists(self) -> bool:
        """True when the path holds a revtrack store (raises if it holds something else)."""
        if os.path.isfile(self.path):
            raise NotAStore(f"store path {self.path} is a file, not a folder")
        if os.path.isfile(os.path.join(self.meta_dir, "store.json")):
            return True
        # Names git is creating right now end in ".lock", and `git init` probes
        # the filesystem with a file "t" + 6 random characters and one named "ä":
        # another process may be initialising this store at this very moment,
        # or was killed doing it (then the probe stays, and is left alone).
        if (
            os.path.isdir(self.path)
            and not {n for n in os.listdir(self.path) if not n.endswith(".lock") and not _GIT_INIT_PROBE.fullmatch(n)}
            <= _INIT_ENTRIES
        ):
            raise NotAStore(f"{self.path} is not a revtrack store (it holds other files); choose another --store")
        return False

    def store_format(self) -> int:
        """The store's layout format (see :mod:`revtrack.ids`), from ``revtrack/store.json``."""
        if self._format is None:
            try:
                with open(os.path.join(self.meta_dir, "store.json"), encoding="utf-8") as handle:
                    found = json.load(handle).get("format")
            except FileNotFoundError:
                return STORE_FORMAT  # not created yet: it will get the current format
            except (OSError, ValueError, AttributeError) as error:
                raise StoreDamaged(f"{self.meta_dir}/store.json is unreadable: {error}") from None
            if found not in KNOWN_FORMATS:
                raise StoreError(
                    f"{self.path} has store format {found!r}, which this revtrack does not know; upgrade revtrack"
                )
            self._format = found
        return self._format

    def _require(self) -> None:
        if not self.exists():
            raise ArticleNotFound(f"no revtrack store at {self.path} yet (record a version with 'revtrack snapshot')")

    def _create(self) -> None:
        """Initialise the repository; called with the write lock held, so never twice at once."""
        if self.exists():
            return
        created = subprocess.run(
            ["git", "init", "--bare", "--quiet", "--initial-branch=main", self.path], capture_output=True, check=False
        )
        if created.returncode != 0:
            reason = created.stderr.decode("utf-8", "replace").strip() or ended(created.returncode)
            raise StoreError(f"could not create a git repository at {self.path}: {reason}")
        for key, value in (
            ("core.logAllRefUpdates", "always"),
            ("gc.writeCommitGraph", "true"),
            ("repack.writeBitmaps", "false"),  # bitmaps speed up serving clones, not revtrack
            # gc in the foreground: a detached gc outliving the command races with
            # whatever runs next (a `git fsck` then sees objects vanish mid-scan).
            ("gc.autoDetach", "false"),
            ("revtrack.format", str(STORE_FORMAT)),
        ):
            git(self.path, "config", key, value)
        marker = os.path.join(self.meta_dir, "store.json")
        with open(marker + ".tmp", "w", encoding="utf-8") as handle:
            json.dump({"format": STORE_FORMAT, "created_by": f"revtrack {__version__}"}, handle)
        os.replace(marker + ".tmp", marker)

    @contextmanager
    def _created(self) -> Iterator[None]:
        """Create the store if it does not exist (under the write lock), for the block to write into.

        When the block fails before the branch has its first commit, what was
        created goes again: a first write that fails (a bad record mid-import, an
        article id the store cannot take) leaves no store behind, as the user had
        it. The lock file stays: another writer may have it open, waiting, and
        would lock a deleted file while a third locks a new one (filelock keeps
        its Unix lock files for that reason: tox-dev/filelock#574).
        """
        if self.exists():
            yield
            return
        folders = (self.path, self.meta_dir)
        there_before = {folder: set(os.listdir(folder)) if os.path.isdir(folder) else set() for folder in folders}
        self._create()
        try:
            yield
        except BaseException:
            if read_ref(self.path) is None:
                self._uncreate(there_before)
            raise

    def _uncreate(self, there_before: dict[str, set[str]]) -> None:
        """Remove what :meth:`_created` made, the marker first (so no half-removed folder passes for a store)."""
        import shutil

        self.close()
        self._format = None
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(self.meta_dir, "store.json"))
        for folder in (self.meta_dir, self.path):  # the inner one first: it is an entry of the outer
            for name in set(os.listdir(folder)) - there_before[folder]:
                entry = os.path.join(folder, name)
                if os.path.isdir(entry) and not os.path.islink(entry):
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.remove(entry)

    def ensure(self) -> None:
        """Create the store if it does not exist yet (under the write lock)."""
        with self._write_lock():
            self._create()

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        if self._batch is not None:
            yield  # the open batch holds the lock
            return
        from filelock import FileLock, Timeout

        if self._lock is None:
            try:
                self.exists()  # refuses a file, or a folder holding something else, before touching it
            except NotAStore:
                # Unless another writer is creating the store right now: `git init`
                # probes the filesystem with files of random names. Checked again
                # under the lock (by _create), when that writer has finished.
                if not os.path.isfile(os.path.join(self.meta_dir, "write.lock")):
                    raise
            os.makedirs(self.meta_dir, exist_ok=True)
            self._lock = FileLock(os.path.join(self.meta_dir, "write.lock"), timeout=self.lock_timeout)
        lock = self._lock
        try:
            lock.acquire()
        except Timeout:
            raise StoreLocked(
                f"another revtrack process has been writing to {self.path} for over "
                f"{self.lock_timeout:g} s; try again, or raise --lock-timeout"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the index -------------------------------------------------------------

    def index(self) -> Index:
        """The index, rebuilt if missing or unusable, caught up with the branch."""
        lost = None  # why the index was deleted and made anew, if it was
        if self._index is None:
            try:
                self._index = Index(self.index_path)
            except IndexCorrupt as error:
                lost = str(error)
                self._index = self._new_index()
        try:
            self._catch_up(self._index, lost)
        except IndexCorrupt as error:
            self._index.close()
            self._index = self._new_index()
            self._catch_up(self._index, str(error))
        return self._index

    def _new_index(self) -> Index:
        """An empty index in place of an unusable one (the next catch-up fills it from git)."""
        Index.delete_files(self.index_path)
        return Index(self.index_path)  # a file system that refuses it: StoreError (index.refused)

    def _catch_up(self, index: Index, lost: str | None = None) -> None:
        tip = read_ref(self.path)
        try:
            indexed = index.tip()
            if tip == indexed:
                return
            if tip is None:
                raise IndexCorrupt("index has revisions but the branch has none")
            since = indexed if indexed and is_ancestor(self.path, indexed, tip) else None
            if indexed and since is None:
                raise IndexCorrupt("index does not match the branch")
            commits = rev_list(self.path, tip, since)
            if self.notify is not None and len(commits) >= NOTE_CATCH_UP_FROM:
                self.notify(f"reading {len(commits):,} revisions from git into the index ({_why(lost, indexed)}); "
                            "~2,000 a second")  # fmt: skip
            revisions = self._read_commits(commits)
            with index.transaction():
                if index.tip() != indexed:
                    return  # another process caught up meanwhile; what it missed, the next command adds
                before = index.last_row()
                # Whole statements for a thousand at a time, as an import's: a revision at a
                # time, the passages' statements took a rebuild from 3,408 to 2,156 versions/s.
                for start in range(0, len(revisions), 1_000):
                    index.add_many(revisions[start : start + 1_000])
                index.update_articles(before)
                index.set_tip(tip)
        except sqlite3.DatabaseError as error:
            if refused(error):
                raise StoreError(
                    f"the index could not catch up with git ({error}); git holds every version, "
                    "and the next revtrack command tries again"
                ) from None
            raise IndexCorrupt(str(error)) from None

    def _read_commits(self, commits: list[str]) -> list[tuple[Revision, list[str]]]:
        """Index rows for commits, read from git (a few batched cat-file calls per 500)."""
        found = []
        for start in range(0, len(commits), 500):
            chunk = commits[start : start + 500]
            raw = cat_objects(self.path, chunk)
            parsed = []
            for commit, data in zip(chunk, raw, strict=True):
                if data is None:
                    raise StoreDamaged(f"commit {commit} on the store's branch is missing; run 'git fsck'")
                headers, message = parse_commit(data)
                fields = trailers(message)
                if "Revtrack-Article" not in fields:
                    continue  # a commit made with plain git, not a revision
                parsed.append((commit, headers, fields))
            specs = []
            store_format = self.store_format()
            for commit, _, fields in parsed:
                path = article_path(fields["Revtrack-Article"], store_format)
                specs += [f"{commit}:{file_path(path, 'meta.json')}", f"{commit}:{file_path(path, 'article.txt')}"]
            blobs = cat_objects(self.path, specs)
            for number, (commit, headers, fields) in enumerate(parsed):
                meta_data, text_data = blobs[2 * number], blobs[2 * number + 1]
                if meta_data is None or text_data is None:
                    raise StoreDamaged(f"revision files of commit {commit} are missing; run 'git fsck'")
                found.append(self._revision_from_git(commit, headers, fields, meta_data, text_data, store_format))
        return found

    @staticmethod
    def _revision_from_git(
        commit: str,
        headers: dict[str, str],
        fields: dict[str, str],
        meta_data: bytes,
        text_data: bytes,
        store_format: int,
    ) -> tuple[Revision, list[str]]:
        meta = json.loads(meta_data)
        article = fields["Revtrack-Article"]
        epoch, offset = headers["author"].rsplit(" ", 2)[-2:]
        observed = format_iso(from_git_date(int(epoch), offset))
        from revtrack.search_text import passages

        document = split_article_text(text_data.decode("utf-8"))
        revision = Revision(
            article=article,
            rev=int(fields["Revtrack-Rev"]),
            commit=commit,
            observed_at=observed,
            title=document.title,
            url=meta.get("url"),
            stated=meta.get("stated", {}),
            fingerprint=fingerprint(document.title, document.body),
            path=article_path(article, store_format),
        )
        return revision, passages(document.title, document.body)

    # --- writing ---------------------------------------------------------------

    def snapshot(self, snapshot: Snapshot) -> SnapshotResult:
        """Record a version unless it equals the latest once whitespace is collapsed."""
        validate_article_id(snapshot.article)
        observed, _ = parse_iso(snapshot.observed_at)
        print_fp = fingerprint(snapshot.title, snapshot.body)
        with self._write_lock(), self._created():
            index = self.index()
            latest = index.latest(snapshot.article)
            if latest is None:
                check_new_article(snapshot.article, self.store_format())
            if latest is not None and latest.fingerprint == print_fp:
                return SnapshotResult(snapshot.article, latest.rev, False, latest.commit, latest.observed_at)
            again = index.same_version(snapshot.article, print_fp, snapshot.observed_at) if latest else None
            if again is not None:  # the same record run again (a re-run script, an import)
                return SnapshotResult(snapshot.article, again.rev, False, again.commit, again.observed_at, repeat=True)
            if latest is not None and observed < parse_iso(latest.observed_at)[0]:
                raise InvalidTime(
                    f"--at {snapshot.observed_at} is earlier than rev {latest.rev} of {snapshot.article} "
                    f"(observed {latest.observed_at}); versions are recorded in the order they were seen"
                )
            count_before = index.last_row()
            revision = self._commit(index, snapshot, observed, print_fp, latest)
        if self._batch is None:
            self._after_writes(count_before, index.last_row())
        return SnapshotResult(snapshot.article, revision.rev, True, revision.commit, revision.observed_at)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Record many versions as one write: ``with store.batch(): store.snapshot(...)`` for each.

        Each version is still its own commit and index row, but the lock is
        taken once, the objects go to disk as one pack, the branch moves once
        (to the last commit) and the disk is flushed twice for the whole batch
        instead of twice per version: a watch pass that finds 50 changed pages
        pays for one write, not 50. Until the block ends, other processes see
        the store as it was; if the block raises, the versions recorded before
        the error are still kept. A kill or power cut inside the block loses
        the batch's versions, never older ones. Batches do not nest.
        """
        if self._batch is not None:
            raise StoreError("a batch of snapshots is already open on this store")
        with self._write_lock():
            self._create()
            index = self.index()
            start = read_ref(self.path)
            count_before = index.last_row()
            batch = self._batch = _Batch(start, start)
            writer = self.writer()
            writer.hold()
            failure: BaseException | None = None
            try:
                with index.transaction():
                    try:
                        yield
                    except BaseException as error:  # keep what was recorded before it, then raise it
                        failure = error
                    self._close_batch(index, batch)
            except sqlite3.Error as error:  # a full disk, say, as the index commits: where is the batch?
                if batch.tip not in (batch.start, None) and read_ref(self.path) == batch.tip:
                    raise StoreError(
                        f"the index could not record the batch ({error}); its {batch.versions} version(s) are in "
                        "git, and the next revtrack command brings the index up to date"
                    ) from None
                raise StoreError(f"the index could not record the batch ({error}); none of it was recorded") from None
            finally:
                self._batch = None
                writer.stop_holding()
            count_after = index.last_row()
        if failure is not None:
            raise failure
        self._after_writes(count_before, count_after)

    def _close_batch(self, index: Index, batch: _Batch) -> None:
        """Move the branch to the batch's last commit and let the index say so (inside its transaction)."""
        if batch.tip == batch.start or batch.tip is None:
            return
        from revtrack.gitwrite import update_ref

        self.writer().write_held()
        _crash_point("batch-before-ref")
        update_ref(self.path, batch.tip, batch.start, f"revtrack snapshot: {batch.versions} versions in one batch")
        _crash_point("batch-after-ref")
        index.set_tip(batch.tip)

    def _after_writes(self, count_before: int, count_after: int) -> None:
        """Work that follows new revisions: queued search words, and maintenance every 100 revisions."""
        try:
            self.index().flush_pending(at_least=FLUSH_PENDING_AT)
        except sqlite3.OperationalError as error:
            if not refused(error):
                raise  # a full disk leaves the words queued for the next flush; anything else is a fault
        if count_after // _MAINTENANCE_EVERY > count_before // _MAINTENANCE_EVERY:
            with contextlib.suppress(*MAINTENANCE_FAILURES):  # tried again 100 revisions on
                self.maintain(auto=True)

    def _commit(
        self, index: Index, snapshot: Snapshot, observed: datetime, print_fp: str, latest: Revision | None
    ) -> Revision:
        writer = self.writer()
        batch = self._batch
        tip = batch.tip if batch is not None else read_ref(self.path)
        rev = latest.rev + 1 if latest else 1
        from revtrack import record

        path = article_path(snapshot.article, self.store_format())
        contents = record.files(snapshot)
        files = {name: writer.blob(data) for name, data in contents.items()}
        _crash_point("after-blobs")
        root = writer.root_tree(tip)
        new_root = writer.with_files(root, path, files)
        commit = writer.commit(new_root, tip, observed, record.message(snapshot, rev))
        # Change statistics (words added, the log's summary line) are computed by
        # the first `log` that needs them: collectors write far more than people read.
        revision = Revision(
            snapshot.article, rev, commit, snapshot.observed_at, snapshot.title, snapshot.url,
            snapshot.stated, print_fp, path=path,
        )  # fmt: skip
        from revtrack.search_text import passages

        text = passages(snapshot.title, snapshot.body)
        if batch is not None:
            # Inside the batch's transaction; the branch moves when the batch ends.
            # The savepoint drops a half-added row, so the index never holds a
            # commit the branch will not reach.
            try:
                with index.savepoint():
                    index.add(revision, text, queue=True)
            except sqlite3.Error as error:  # this version is not in the batch; the ones before it are
                raise StoreError(f"the index could not record {snapshot.article} rev {rev} ({error})") from None
            batch.tip, batch.versions = commit, batch.versions + 1
            return revision
        _crash_point("before-ref")
        from revtrack.gitwrite import update_ref

        update_ref(self.path, commit, tip, f"revtrack snapshot: {snapshot.article} rev {rev}")
        _crash_point("after-ref")
        try:
            with index.transaction(commit):
                index.add(revision, text, queue=True)
                _crash_point("before-index-commit")
        except sqlite3.Error as error:  # a full disk, say: git has the version, and the index catches up later
            raise StoreError(
                f"the index could not record {snapshot.article} rev {rev} ({error}); the version is in git, "
                "and the next revtrack command brings the index up to date"
            ) from None
        return revision

    def writer(self) -> ObjectWriter:
        if self._writer is None:
            from revtrack.gitwrite import ObjectWriter

            self._writer = ObjectWriter(self.path)
        return self._writer

    def maintain(self, auto: bool = False, packed: bool = False) -> bool:
        """Pack objects and refresh the commit-graph (with changed-path filters for ``git log -- path``).

        ``auto`` (every 100 revisions) packs only when there are many loose
        objects or many packs, as git's ``gc --auto`` does; otherwise every
        object goes into one pack, the files' deltas searched again (folders
        keep theirs, and so do the article texts where each article's already
        form one chain: :func:`revtrack.packing.texts_chained`). ``packed``:
        the objects are packed as they should be (an import's pack, see
        :func:`revtrack.packing.import_pack_suffices`); only refs, reflogs and
        the commit-graph are refreshed. Returns whether the texts' deltas were
        searched.
        Every run but an automatic one also compacts the index
        (:meth:`revtrack.index.Index.compact`). Runs under the write lock:
        packing, ref packing and reflog expiry must not interleave with a
        writer moving the branch.
        """
        if self._batch is not None:
            # Packing and pruning now would treat the batch's objects as unreachable.
            raise StoreError("the store cannot be maintained while a batch of snapshots is open")
        with self._write_lock():
            return self._maintain(auto, packed)

    def _maintain(self, auto: bool, packed: bool) -> bool:
        # revtrack packs the objects itself (revtrack.packing: git's own repack
        # leaves most versions of an article whole in a store of this layout);
        # the rest of what `git gc` does (prune, reflog expiry, packed refs,
        # commit-graph) runs as git's own commands.
        from revtrack import packing

        packing.remove_abandoned_temporaries(self.path)
        before = packing.packs(self.path)
        texts_searched = False
        if auto:
            if packing.loose_objects(self.path) > _LOOSE_LIMIT:
                packing.pack_loose(self.path)
                git(self.path, "prune", "--expire=2.weeks.ago", check=False)  # leftovers of crashed writers
            if len(packing.packs(self.path)) > _PACK_LIMIT:
                packing.join_recent(self.path)
        elif not packed:
            texts_searched = packing.pack_all(self.path, recompute=True)
            git(self.path, "prune", "--expire=now", check=False)
        if not auto or packing.packs(self.path) != before:
            from revtrack.reflock import MAINTENANCE_LOCKS, clear_stale_locks

            # These commands give up at a lock a killed one left (their failures are
            # not errors: the store is whole), so without this they never ran again.
            clear_stale_locks(self.path, MAINTENANCE_LOCKS)
            git(self.path, "reflog", "expire", "--all", check=False)
            git(self.path, "pack-refs", "--all", "--prune", check=False)
            # Automatic runs add a layer for the new commits only (git merges
            # layers geometrically); a full run replaces the chain with one file.
            split = "--split" if auto else "--split=replace"
            git(self.path, "commit-graph", "write", "--reachable", "--changed-paths", split, check=False)
        if not auto:
            self._compact_index()
        return texts_searched

    def _compact_index(self) -> None:
        # Not in automatic runs: VACUUM writes the whole index anew (~5.6 ms a MB here),
        # which a snapshot should not wait for; the free pages serve later writes meanwhile.
        try:
            self.index().compact()
        except sqlite3.Error as error:  # a full disk, say: VACUUM is one transaction, so the index is as it was
            raise StoreError(
                f"the store is packed, but its index could not be compacted ({error}); it answers as before, "
                "and the next 'revtrack maintain' tries again"
            ) from None

    # --- reading ---------------------------------------------------------------

    def log(self, article: str) -> list[Revision]:
        """All revisions of an article, oldest first, with their change statistics."""
        validate_article_id(article)
        self._require()
        index = self.index()
        revisions = index.revisions(article)
        if not revisions:
            raise ArticleNotFound(f"no article {article!r} in {self.path} (see 'revtrack list')")
        missing = [r for r in revisions if r.words_added is None]
        if missing:
            self._fill_stats(revisions, missing)
        return revisions

    def _fill_stats(self, revisions: list[Revision], missing: list[Revision]) -> None:
        """Compute change statistics the index lacks (after a rebuild or a bulk import)."""
        by_rev = {r.rev: r for r in revisions}
        wanted = {r.rev: r for r in missing}
        needed = sorted(set(wanted) | {rev - 1 for rev in wanted if rev > 1})
        computed = []
        previous: Document | None = None  # of rev - 1, which `needed` holds for each rev wanted, just before it
        for rev, document in zip(needed, self.each_text([by_rev[n] for n in needed]), strict=True):
            revision = wanted.get(rev)
            if revision is not None:
                stats = _change_stats(previous, document)
                revision.words_added, revision.words_deleted, revision.summary = stats
                computed.append((revision, stats))
            previous = document
        index = self.index()
        try:
            # The statistics are a cache: when a writer holds the index (a batch
            # of snapshots), they are shown now and computed again next time.
            with index.transaction(wait=False):
                for revision, stats in computed:
                    index.set_stats(revision.article, revision.rev, *stats)
        except IndexBusy:
            pass

    def revision(self, article: str, ref: str | None = None) -> Revision:
        """Resolve ``ref``: a number, ``latest``, ``latest~N`` / ``~N`` counting back, or a commit prefix."""
        validate_article_id(article)
        self._require()
        index = self.index()
        latest = index.latest(article)
        if latest is None:
            raise ArticleNotFound(f"no article {article!r} in {self.path} (see 'revtrack list')")
        if ref is None or ref == "latest":
            return latest
        back = ref.split("~", 1)[1] if ref.startswith(("latest~", "~")) else None
        counted_back = _as_number(back) if back is not None else None
        number = latest.rev - counted_back if counted_back is not None else _as_number(ref)
        if number is not None:
            found = index.revision(article, number)
            if found is not None:
                return found
            # No such revision: digits can also start a commit id ("20817335").
            if len(ref) < 4 or back is not None or not index.by_commit_prefix(article, ref):
                raise RevisionNotFound(f"{article} has no revision {ref} (it has 1 to {latest.rev})")
        if len(ref) >= 4 and all(c in "0123456789abcdef" for c in ref.lower()):
            matches = index.by_commit_prefix(article, ref.lower())
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise RevisionNotFound(f"commit prefix {ref} is ambiguous in {article}; give more digits")
        raise RevisionNotFound(
            f"{article} has no revision {ref!r} (use a number 1-{latest.rev}, 'latest' or a commit id)"
        )

    def texts(self, revisions: list[Revision]) -> list[Document]:
        """Headline and body of each revision, read from git in one batch."""
        if self._batch is not None:
            self.writer().write_held()  # git reads only what is on disk
        specs = [f"{r.commit}:{file_path(r.path, 'article.txt')}" for r in revisions]
        found = cat_objects(self.path, specs)
        documents = []
        for revision, data in zip(revisions, found, strict=True):
            if data is None:
                raise StoreDamaged(
                    f"the text of {revision.article} rev {revision.rev} is missing from git; run 'git fsck'"
                )
            documents.append(split_article_text(data.decode("utf-8")))
        return documents

    def each_text(self, revisions: list[Revision]) -> Iterator[Document]:
        """The texts of ``revisions`` in turn, read from git a few dozen at a time, so that memory stays flat."""
        for start in range(0, len(revisions), _TEXTS_AT_ONCE):
            yield from self.texts(revisions[start : start + _TEXTS_AT_ONCE])

    def text(self, revision: Revision) -> Document:
        return self.texts([revision])[0]

    def articles(self, since: str | None = None, limit: int | None = None) -> list[ArticleSummary]:
        """Articles by id; ``since``: only those changed at or after it (ISO 8601); ``limit``: at most that many."""
        if not self.exists():
            return []
        return self.index().articles(since, limit)

    def count_articles(self, since: str | None = None) -> int:
        return self.index().count_articles(since) if self.exists() else 0


@dataclass
class _Batch:
    """An open :meth:`Store.batch`: where the branch was, and the commit it will move to."""

    start: str | None
    tip: str | None
    versions: int = 0


def _why(lost: str | None, indexed: str | None) -> str:
    """Why a catch-up reads many revisions: the index was rebuilt, was missing, or lags the branch."""
    if lost:
        return f"the index was rebuilt: {lost}"
    if indexed is None:
        return "the index was missing"
    return "the index lags the branch"


def _as_number(ref: str) -> int | None:
    """``ref`` as a revision number: ASCII digits (``isdigit`` alone lets "²" through to ``int``), nine at most."""
    return int(ref) if len(ref) < 10 and ref.isascii() and ref.isdigit() else None


def _change_stats(old: Document | None, new: Document) -> tuple[int, int, str]:
    """(words added, words deleted, summary line) of ``new`` against the revision before it (None: the first)."""
    if old is None:
        from revtrack.tokens import count_words

        return count_words(new.title) + count_words(new.body), 0, "first version"
    from revtrack.diff import diff_texts, summarize

    result = diff_texts(old.body, new.body, old.title, new.title)
    return result.stats.words_added, result.stats.words_deleted, summarize(result)


_CRASH_AT: Final = os.environ.get("REVTRACK_CRASH_AT", "")


def _crash_point(name: str) -> None:
    """Fault injection for the crash tests: die here, as SIGKILL would, when asked to."""
    if name == _CRASH_AT:
        os.kill(os.getpid(), 9)
