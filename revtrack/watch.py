"""``revtrack watch``: keep re-fetching tracked articles on an age-based schedule.

The watch list is TOML (default ``revtrack.toml`` beside the store)::

    [[article]]
    url = "https://www.example.org/news/story"
    id = "optional-article-id"

    [[feed]]                      # every entry's link becomes a tracked article
    url = "https://www.example.org/rss.xml"

    [settings]                    # all optional
    per_host_delay = 1.0          # seconds between requests to one host (0 to 3,600)
    concurrency = 4               # hosts fetched at once (1 to 1,024)
    extract_processes = 2         # pages extracted at once (1 to 64; default: the cores, at most 4)
    timeout = 20.0                # seconds per fetch (up to a day)
    record_every = 60.0           # seconds: a longer pass records what it has so far, then goes on
    schedule = [["3h", "15m"], ["1d", "1h"], ["7d", "3h"], ["30d", "3d"], ["365d", "30d"]]

An article is rechecked every 15 minutes for its first 3 hours, hourly for its
first day, every 3 hours for its first week, every 3 days up to 30 days, then
monthly, and no more after a year (each row: up to this age, this often), as
NewsDiffs does. State (first seen, last checked, next due, last error) lives in
``<store>/revtrack/watch.sqlite`` (``revtrack.watchstate``), so it survives
restarts; it is not derived from git and is not part of the index cache.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Final
from urllib.parse import urlsplit

from revtrack.errors import FetchError, InvalidInput, RevtrackError
from revtrack.extractors import MOST_PROCESSES, ExtractorPool, default_processes
from revtrack.ids import canonical_url, validate_article_id
from revtrack.model import Snapshot, SnapshotResult
from revtrack.snapshotting import SnapshotRequest, latest_texts, record_snapshot
from revtrack.store import Store
from revtrack.timeutil import format_epoch, parse_iso
from revtrack.watchstate import DueUrl, PageCopy, WatchState
from revtrack.web import LONGEST_FETCH, Validators, fetch_page, make_client

DEFAULT_SCHEDULE: Final = (("3h", "15m"), ("1d", "1h"), ("7d", "3h"), ("30d", "3d"), ("365d", "30d"))
_DURATION: Final = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


_LONGEST_DURATION: Final = 100 * 365 * 86_400  # seconds; timedelta itself ends at 999,999,999 days


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(str(text).strip())
    if not match:
        raise InvalidInput(f"not a duration: {text!r} (use e.g. 15m, 3h, 7d)")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds > _LONGEST_DURATION:
        raise InvalidInput(f"duration {text!r} is longer than a century")
    return timedelta(seconds=seconds)


def parse_schedule(rows: Iterable[tuple[str, str]] = DEFAULT_SCHEDULE) -> list[tuple[timedelta, timedelta]]:
    """(age, interval) rows as durations, youngest age first: the watch list's schedule (the default's without rows)."""
    return sorted((parse_duration(age), parse_duration(every)) for age, every in rows)


def _number_setting(settings: dict[str, Any], name: str, default: float, lowest: float, highest: float) -> float:
    """A [settings] number within its range (NaN, inf and 1e300 reached the fetcher and the clock as tracebacks)."""
    value = settings.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lowest <= value <= highest:
        raise InvalidInput(f"[settings] {name} must be a number from {lowest:g} to {highest:,g} (got {value!r})")
    return float(value)


@dataclass
class WatchConfig:
    articles: list[tuple[str, str | None]] = field(default_factory=list)  # (url, id)
    feeds: list[str] = field(default_factory=list)
    schedule: list[tuple[timedelta, timedelta]] = field(default_factory=list)
    per_host_delay: float = 1.0
    concurrency: int = 4
    timeout: float = 20.0
    extract_processes: int = field(default_factory=default_processes)
    record_every: float = 60.0  # seconds: a longer pass records what it has found so far, then goes on


def load_config(path: str) -> WatchConfig:
    """Read the TOML watch list; a missing file or a bad entry is one clear error."""
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise InvalidInput(f"no watch list at {path} (create it, or name one with --config)") from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"{path} is not valid TOML: {error}") from None
    settings = data.get("settings", {})
    for key, kind, what in (("settings", dict, "a table: [settings]"), ("article", list, "[[article]] tables"),
                            ("feed", list, "[[feed]] tables")):  # fmt: skip
        if not isinstance(data.get(key, kind()), kind):
            raise InvalidInput(f"{path}: {key} must be {what}")
    try:
        config = WatchConfig(
            per_host_delay=_number_setting(settings, "per_host_delay", 1.0, 0, 3600),
            concurrency=int(_number_setting(settings, "concurrency", 4, 1, 1024)),
            timeout=_number_setting(settings, "timeout", 20.0, 0.001, LONGEST_FETCH),
            extract_processes=int(
                _number_setting(settings, "extract_processes", default_processes(), 1, MOST_PROCESSES)
            ),
            record_every=_number_setting(settings, "record_every", 60.0, 0, 86_400),
        )
        config.schedule = parse_schedule(settings.get("schedule", DEFAULT_SCHEDULE))
    except InvalidInput as error:
        raise InvalidInput(f"{path}: {error}") from None
    except (TypeError, ValueError) as error:
        raise InvalidInput(
            f"{path}: bad [settings] ({error}); per_host_delay, timeout and record_every are seconds, concurrency and "
            'extract_processes whole numbers, schedule a list of [age, interval] pairs such as ["3h", "15m"]'
        ) from None
    for entry in data.get("article", []):
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise InvalidInput(f"{path}: every [[article]] needs an http(s) url (got {url!r})")
        article = entry.get("id")
        if article is not None:  # checked here, not at its first fetch: a bad id would fail every pass
            try:
                if not isinstance(article, str):
                    raise InvalidInput(f"the id must be a string, not {article!r}")
                validate_article_id(article)
            except InvalidInput as error:
                raise InvalidInput(f"{path}: [[article]] {url}: {error}") from None
        config.articles.append((url, article))
    for entry in data.get("feed", []):
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise InvalidInput(f"{path}: every [[feed]] needs an http(s) url (got {url!r})")
        config.feeds.append(url)
    if not config.articles and not config.feeds:
        raise InvalidInput(f"{path} lists no [[article]] and no [[feed]]")
    return config


@dataclass(frozen=True)
class Checked:
    """A due URL once its worker has fetched it (and extracted it, where it is new).

    ``snapshot`` is the version extracted; None when the page is the copy
    recorded last time (a 304, or the same bytes). ``copy`` is None for a 304.
    """

    snapshot: Snapshot | None
    copy: PageCopy | None


@dataclass
class PassReport:
    checked: int = 0
    changed: int = 0
    unchanged: int = 0  # including not_modified
    not_modified: int = 0  # unchanged without extracting the page: a 304, or the same bytes as last time
    gone: int = 0  # recorded pages that answered 404 Not Found or 410 Gone (not counted as failed)
    failed: int = 0
    lines: list[str] = field(default_factory=list)


def run_pass(
    store: Store,
    config: WatchConfig,
    state: WatchState,
    now: float | None = None,
    say: Callable[[str], None] = lambda line: None,
    client: Any = None,
    extractors: ExtractorPool | None = None,
) -> PassReport:
    """One pass: refresh feeds, then fetch every due article (politely) and record changes.

    In rounds of ``config.record_every`` seconds, each recorded as one write
    (a short pass is one round).

    ``extractors`` is a pool kept from pass to pass (see :func:`watch_forever`);
    without one, the pass starts its own, when its first page needs extracting.
    """
    moment = time.time() if now is None else now
    started = time.monotonic()
    report = PassReport()

    def clock() -> float:
        """Now, on the pass's clock: ``moment`` (given in tests and benchmarks) plus the time the pass has run."""
        return moment + time.monotonic() - started

    def fetched_at() -> str:
        """Each version is dated when its page arrived, not when the pass began.

        A pass of many pages on one host spaces them ``per_host_delay`` apart
        (1,000 pages: ~17 minutes at the default); dated at the pass's start,
        a page fetched at its end claimed its text minutes before it was seen.
        """
        return datetime.fromtimestamp(clock(), timezone.utc).astimezone().isoformat()

    def note(line: str) -> None:
        report.lines.append(line)
        say(line)

    http = client or make_client(config.timeout)
    own_extractors = extractors is None
    pool = ExtractorPool(config.extract_processes) if extractors is None else extractors
    try:
        _track(state, config, http, moment, report, note)
        due = state.due(moment)
        last_fetch: dict[str, float] = {}  # host -> when its last fetch ended (time.monotonic), across rounds
        checked_at = moment  # a round's checks are noted at its start (the pass's moment for the first)
        while due:
            # A round fetches for up to record_every seconds, then records what it
            # found as one write: a long pass (a host's pages come per_host_delay
            # apart) keeps its versions as it goes, and Ctrl-C loses one round at most.
            deadline = time.monotonic() + config.record_every
            outcomes = _check_politely(due, config, http, pool, fetched_at, deadline, last_fetch)
            reached = [(item, outcome) for item, outcome in zip(due, outcomes, strict=True) if outcome is not None]
            due = [item for item, outcome in zip(due, outcomes, strict=True) if outcome is None]
            _record_round(store, state, config, reached, checked_at, report, note)
            checked_at = clock()
    finally:
        if own_extractors:
            pool.close()
        if client is None:
            http.close()
    return report


def _record_round(
    store: Store,
    state: WatchState,
    config: WatchConfig,
    reached: list[tuple[DueUrl, Checked | RevtrackError]],
    checked_at: float,
    report: PassReport,
    note: Callable[[str], None],
) -> None:
    """Record a round's new versions as one write, then note its checks in the state and tell what changed."""
    checks = _Checks()
    found = [outcome.snapshot for _, outcome in reached if isinstance(outcome, Checked) and outcome.snapshot]
    texts = latest_texts(store, found)
    # One write for the round (see Store.batch), once every page is in and
    # extracted; what it recorded is reported once the batch has landed.
    with store.batch():
        # In the order the pages arrived: two URLs of one article (its page and
        # its AMP copy, say) fetched by two host workers become versions in the
        # order they were seen, as single snapshots must be.
        for item, outcome in _by_arrival(reached):
            report.checked += 1
            if _gone(item, outcome):
                # An article taken down (or moved without a redirect) is news in itself:
                # its versions stay, and the watch keeps checking in case it comes back.
                checks.gone.append((item, str(outcome)))
            elif isinstance(outcome, RevtrackError):
                checks.fail(item.url, outcome, report, note)
            elif outcome.snapshot is None:
                checks.same.append((item, outcome.copy))
            else:
                request = SnapshotRequest(source=item.url, article=item.article)  # a page: its word loss is checked
                try:
                    checks.recorded.append(
                        (item, outcome.copy, record_snapshot(store, outcome.snapshot, request, texts))
                    )
                except RevtrackError as error:
                    checks.fail(item.url, error, report, note)
    checks.save(state, checked_at, config.schedule)
    checks.tell(report, note)


def _track(
    state: WatchState, config: WatchConfig, http: Any, moment: float, report: PassReport, note: Callable[[str], None]
) -> None:
    """Track the watch list's articles and the entries of its feeds (a feed not modified since is not read again)."""
    tracked = [(canonical_url(url), article, "config") for url, article in config.articles]
    feeds_read: list[tuple[str, Validators]] = []
    for feed in config.feeds:
        try:
            fetched = feed_links(feed, http, config.timeout, state.feed_validators(feed))
        except RevtrackError as error:
            report.failed += 1
            note(f"failed: feed {feed}: {error}")
            continue
        if fetched is None:
            continue  # not modified: its entries are tracked already
        links, validators = fetched
        tracked += [(canonical_url(link), None, feed) for link in links]
        feeds_read.append((feed, validators))
    # Feeds are read first, so that no network wait holds SQLite's write lock.
    with state.transaction():
        for url, article, origin in tracked:
            state.track(url, article, origin, moment)
        for feed, validators in feeds_read:
            state.record_feed(feed, validators)


@dataclass
class _Checks:
    """A pass's checks by what came of them, noted in the state together once the batch has landed."""

    recorded: list[tuple[DueUrl, PageCopy | None, SnapshotResult]] = field(default_factory=list)
    same: list[tuple[DueUrl, PageCopy | None]] = field(default_factory=list)  # the copy recorded last time
    gone: list[tuple[DueUrl, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, url: str, error: RevtrackError, report: PassReport, note: Callable[[str], None]) -> None:
        self.failed.append((url, str(error)))
        report.failed += 1
        note(f"failed: {url}: {error}")

    def save(self, state: WatchState, moment: float, schedule: list[tuple[timedelta, timedelta]]) -> None:
        """The pass's checks in the state, as one SQLite commit (see :meth:`WatchState.transaction`)."""
        with state.transaction():
            for url, message in self.failed:
                state.record(url, moment, schedule, message, False)
            for item, message in self.gone:
                state.record(item.url, moment, schedule, message, False, gone=True)
            for item, copy in self.same:
                state.record(item.url, moment, schedule, None, False, copy)
            for item, copy, result in self.recorded:
                state.record(item.url, moment, schedule, None, result.changed, copy)

    def tell(self, report: PassReport, note: Callable[[str], None]) -> None:
        report.gone = len(self.gone)
        for item, message in self.gone:
            if item.gone_since is None:
                note(f"gone: {item.url}: {message} (its recorded versions stay; still checked)")
        for item in [item for item, _ in self.same] + [item for item, _, _ in self.recorded]:
            if item.gone_since is not None:
                note(f"back: {item.url} (gone since {format_epoch(item.gone_since)})")
        report.unchanged += len(self.same)
        report.not_modified += len(self.same)
        for _, _, result in self.recorded:
            if result.changed:
                report.changed += 1
                note(f"changed: {result.article} rev {result.rev}")
            else:
                report.unchanged += 1


def _by_arrival(
    checks: Iterable[tuple[DueUrl, Checked | RevtrackError]],
) -> list[tuple[DueUrl, Checked | RevtrackError]]:
    """A round's checks with their new versions in the order their pages arrived (the rest as they were)."""

    def arrived(check: tuple[DueUrl, Checked | RevtrackError]) -> datetime:
        outcome = check[1]
        if isinstance(outcome, Checked) and outcome.snapshot is not None:
            return parse_iso(outcome.snapshot.observed_at)[0]
        return _NO_VERSION

    return sorted(checks, key=arrived)


_NO_VERSION: Final = datetime.min.replace(tzinfo=timezone.utc)


def _gone(item: DueUrl, outcome: Checked | RevtrackError) -> bool:
    """Whether a page that was recorded before now answers 404 Not Found or 410 Gone."""
    return item.recorded and isinstance(outcome, FetchError) and outcome.status in (404, 410)


def feed_links(
    feed_url: str, client: Any, timeout: float, validators: Validators | None = None
) -> tuple[list[str], Validators] | None:
    """The entry links of an RSS/Atom feed and its validators (same client and limits); None: not modified."""
    import feedparser

    try:
        response = client.get(feed_url, headers=validators.request_headers() if validators else {})
    except Exception as error:  # httpx raises a family of errors; each is one line here
        raise FetchError(f"could not fetch feed {feed_url}: {type(error).__name__}") from None
    if response.status_code == 304 and validators is not None:
        return None
    if response.status_code >= 400:
        raise FetchError(f"HTTP {response.status_code} from feed {feed_url}")
    parsed = feedparser.parse(response.content)
    if parsed.bozo and not parsed.entries:
        raise FetchError(f"{feed_url} is not an RSS or Atom feed")
    links = [entry.link for entry in parsed.entries if entry.get("link")]
    return links, Validators.answered(response.headers)


def _check_politely(
    due: list[DueUrl],
    config: WatchConfig,
    client: Any,
    extractors: ExtractorPool,
    fetched_at: Callable[[], str],
    deadline: float,
    last_fetch: dict[str, float],
) -> list[Checked | RevtrackError | None]:
    """Fetch and extract due pages until ``deadline``, one host at a time per worker, waiting between a host's pages.

    None for a page left for the next round: one whose fetch would start
    after ``deadline`` (a host's first page in a round is always fetched, so
    every round gets on). ``last_fetch`` carries each host's last fetch from
    round to round, so its pages stay ``per_host_delay`` apart across them.
    A page whose last copy was recorded is asked for conditionally (its
    validators), and not extracted when it is that copy. A new page goes to
    ``extractors`` while its worker fetches the host's next one; only the
    extracted text is kept, not the page, and the store's write lock is
    taken afterwards, only to record. A first pass over 724 real pages (126 MB
    of HTML) peaked at 149-156 MB, 1,448 pages at 170 MB; when every page
    waited in memory for the batch to extract it, 269 and 396 MB.
    """
    results: list[Any] = [None] * len(due)
    by_host: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(due):
        by_host[urlsplit(item.url).netloc].append(index)

    def check(item: DueUrl) -> Checked | _Extracting:
        page = fetch_page(item.url, timeout=config.timeout, client=client, validators=item.validators)
        arrived = fetched_at()
        if page.not_modified:
            return Checked(None, None)
        copy = PageCopy(page.validators, hashlib.sha256(page.content).hexdigest())
        if copy.sha256 == item.page_sha256:
            return Checked(None, copy)  # extracting it again would find the same text
        request = SnapshotRequest(source=item.url, article=item.article, at=arrived)
        extracting = extractors.submit(request, page)
        extracting.add_done_callback(stop_at_a_bug)
        return _Extracting(extracting, copy)

    stopping = threading.Event()

    def stop_at_a_bug(extracted: Future[Snapshot]) -> None:
        # A bug in extraction (not a page's own problem, a RevtrackError) ends the pass, as it
        # did when pages were extracted in these threads: the others stop after the page in hand.
        if not extracted.cancelled() and not isinstance(extracted.exception(), (RevtrackError, type(None))):
            stopping.set()

    def host_worker(host: str, indices: list[int]) -> None:
        for number, index in enumerate(indices):
            wait = max(0.0, last_fetch.get(host, -math.inf) + config.per_host_delay - time.monotonic())
            if number and time.monotonic() + wait >= deadline:
                return  # its next page would start after the round's end: the next round fetches it
            if stopping.wait(wait):
                return
            try:
                results[index] = check(due[index])
            except RevtrackError as error:
                results[index] = error
            finally:
                last_fetch[host] = time.monotonic()

    with ThreadPoolExecutor(max_workers=config.concurrency) as pool:
        futures = [pool.submit(host_worker, host, indices) for host, indices in by_host.items()]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            # Ctrl-C, or a bug in one worker: the others stop after the page in hand,
            # where leaving the pool would wait for every page still due on their hosts.
            stopping.set()
            raise
    return [None if result is None else _extracted(result) for result in results]


@dataclass(frozen=True)
class _Extracting:
    """A fetched page given to the extractors: its snapshot to come, and the copy it was extracted from."""

    snapshot: Future[Snapshot]
    copy: PageCopy


def _extracted(result: Checked | _Extracting | RevtrackError) -> Checked | RevtrackError:
    """A check once its page is extracted (waiting for it)."""
    if not isinstance(result, _Extracting):
        return result
    try:
        return Checked(result.snapshot.result(), result.copy)
    except RevtrackError as error:
        return error


def default_config_path(store_path: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(store_path)), "revtrack.toml")


def watch_forever(
    store: Store, config: WatchConfig, state: WatchState, say: Callable[[str], None], stop: threading.Event
) -> None:
    """Passes until interrupted, sleeping until the next article is due (at most a minute).

    One pool of extracting processes serves every pass (each worker imports
    trafilatura once, ~0.4 s, rather than at every pass).
    """
    with ExtractorPool(config.extract_processes) as extractors:
        while not stop.is_set():
            report = run_pass(store, config, state, say=say, extractors=extractors)
            say(
                f"pass done: checked {report.checked}, changed {report.changed}, "
                f"unchanged {report.unchanged}, failed {report.failed}"
            )
            wake = state.next_wake()
            delay = 60.0 if wake is None else min(60.0, max(1.0, wake - time.time()))
            stop.wait(delay)
