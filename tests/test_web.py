"""Snapshots from the web: a real HTTP server on 127.0.0.1 serves pages and feeds (never the internet)."""

from __future__ import annotations

import contextlib
import gzip
import html
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bench.extraction import score
from revtrack.errors import InvalidInput
from revtrack.ingest import parse_document
from revtrack.watch import load_config, parse_duration, parse_schedule
from revtrack.watchstate import WatchState, next_interval
from revtrack.web import extract_article
from tests.conftest import DATA, Cli, seed_versions


def page(version: int, canonical: str, modified: str = "2017-10-27T15:10:00+03:00", extra: str = "") -> str:
    """An HTML page around a seed version, as a news site would serve it."""
    document = parse_document(seed_versions()[version - 1].path.read_text(encoding="utf-8"))
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in document.body.split("\n\n") if p.strip())
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>{html.escape(document.title)} - Rudaw</title>
<link rel="canonical" href="{canonical}">
<meta property="article:published_time" content="2017-10-27T11:40:00+03:00">
<meta property="article:modified_time" content="{modified}">
</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{html.escape(document.title)}</h1><p class="byline">By Rudaw staff</p>{paragraphs}{extra}</article>
<footer>© Rudaw Media Network. All rights reserved.</footer></body></html>"""


@pytest.fixture
def site(httpserver: HTTPServer):
    return httpserver


def test_snapshot_a_url_follows_the_page_over_time(cli: Cli, site: HTTPServer) -> None:
    canonical = site.url_for("/english/kurdistan/ceasefire-story")
    site.expect_request("/english/kurdistan/ceasefire-story").respond_with_data(
        page(1, canonical), content_type="text/html; charset=utf-8"
    )
    result = cli(
        "snapshot",
        site.url_for("/english/kurdistan/ceasefire-story") + "?utm_source=twitter#top",
        "--at",
        "2017-10-27T11:48:00+03:00",
    )
    assert result.exit_code == 0, result.output
    article = "localhost/english/kurdistan/ceasefire-story"
    assert result.stdout.startswith(f"{article}: recorded rev 1")
    site.clear()
    site.expect_request("/english/kurdistan/ceasefire-story").respond_with_data(
        page(2, canonical), content_type="text/html"
    )
    assert cli("snapshot", canonical, "--at", "2017-10-27T15:10:00+03:00").stdout.startswith(
        f"{article}: recorded rev 2"
    )
    shown = json.loads(cli("show", article, "--format", "json").stdout)
    assert shown["title"] == "Coalition confirms Peshmerga and Iraqi forces in talks, no 'official ceasefire'"
    assert "He later clarified on Twitter that there is no “official ‘ceasefire’”" in shown["body"]
    assert "All rights reserved" not in shown["body"] and "Home" not in shown["body"]
    assert shown["url"] == canonical
    assert shown["stated"]["published"] == "2017-10-27T11:40:00+03:00"
    assert shown["stated"]["updated"] == "2017-10-27T15:10:00+03:00"
    diff = cli("diff", article).stdout
    assert "destroyed [-three-]{+two+} such tanks" in diff and "stated: published" in diff
    shown_meta = ["git", "--git-dir", str(cli.store), "show", f"main:{shown['files']['meta.json']}"]
    meta = json.loads(subprocess.run(shown_meta, capture_output=True, text=True, check=True).stdout)
    assert meta["extractor"].startswith("trafilatura ") and meta["source"] == canonical


def test_keep_html_stores_the_page_in_the_same_commit(cli: Cli, site: HTTPServer) -> None:
    site.expect_request("/a").respond_with_data(page(1, site.url_for("/a")), content_type="text/html")
    assert cli("snapshot", site.url_for("/a"), "--keep-html").exit_code == 0
    files = subprocess.run(
        ["git", "--git-dir", str(cli.store), "show", "--stat", "--format=", "main"], capture_output=True, text=True
    ).stdout
    assert "%2Fa.page.html" in files and "%2Fa.article.txt" in files


def test_html_file_and_stdin_go_through_the_same_extraction(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "saved.html"
    source.write_text(page(3, "https://news.example.org/story"), encoding="utf-8")
    result = cli("snapshot", str(source), "--html")
    assert result.stdout.startswith("news.example.org/story: recorded rev 1"), result.output
    piped = cli("snapshot", "-", "--html", "--article", "piped", input=page(3, "https://news.example.org/story"))
    assert piped.exit_code == 0
    assert json.loads(cli("show", "piped", "--format", "json").stdout)["title"].startswith("UPDATE: ")


def test_a_page_that_lost_most_of_its_text_is_not_recorded_without_force(cli: Cli, site: HTTPServer) -> None:
    site.expect_request("/s").respond_with_data(page(3, site.url_for("/s")), content_type="text/html")
    assert cli("snapshot", site.url_for("/s")).exit_code == 0
    site.clear()
    broken = (
        "<html><head><title>Oops</title></head><body><article>"
        "<p>Subscribe to read this story in full, sign in now.</p></article></body></html>"
    )
    site.expect_request("/s").respond_with_data(broken, content_type="text/html")
    refused = cli("snapshot", site.url_for("/s"))
    assert refused.exit_code == 8 and "suspected extraction failure" in refused.stderr and "--force" in refused.stderr
    assert len(json.loads(cli("log", "localhost/s", "--format", "json").stdout)["revisions"]) == 1
    forced = cli("snapshot", site.url_for("/s"), "--force")
    assert forced.exit_code == 0 and "recorded rev 2" in forced.stdout


def _slow(request: Request) -> Response:
    time.sleep(2)
    return Response("<html><body><p>late</p></body></html>", content_type="text/html")


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        pytest.param(
            lambda s: s.expect_request("/x").respond_with_data("gone", status=404), [], "HTTP 404", id="http-404"
        ),
        pytest.param(
            lambda s: s.expect_request("/x").respond_with_data("%PDF-1.4", content_type="application/pdf"),
            [],
            "is not an HTML page (content type application/pdf)",
            id="not-html",
        ),
        pytest.param(
            lambda s: s.expect_request("/x").respond_with_handler(_slow),
            ["--timeout", "0.5"],
            "no answer from",
            id="timeout",
        ),
        pytest.param(
            lambda s: s.expect_request("/x").respond_with_data("", status=302, headers={"Location": "/x"}),
            [],
            "more than 5 redirects",
            id="redirect-loop",
        ),
        pytest.param(
            lambda s: s.expect_request("/x").respond_with_data(
                "<html>" + "x" * 5000 + "</html>", content_type="text/html"
            ),
            ["--max-bytes", "1000"],
            "larger than the limit of 1,000 bytes",
            id="too-big",
        ),
        pytest.param(
            lambda s: s.expect_request("/x").respond_with_data(
                '<html><body><img src="a.png"><script>var x = 1;</script></body></html>', content_type="text/html"
            ),
            [],
            "no article text found",
            id="no-article",
        ),
    ],
)
def test_fetch_failures_are_one_line(cli: Cli, site: HTTPServer, setup, args, message) -> None:
    setup(site)
    result = cli("snapshot", site.url_for("/x"), *args)
    assert result.exit_code in (7, 8), result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr and result.stderr.count("\n") == 1
    assert not (cli.store / "refs" / "heads" / "main").exists()


def test_unreachable_host_is_a_fetch_error(cli: Cli) -> None:
    result = cli("snapshot", "http://127.0.0.1:9/nothing-listens-here", "--timeout", "2")
    assert result.exit_code == 7 and result.stderr.startswith("Error: could not fetch http://127.0.0.1:9/")


def test_other_schemes_are_refused(cli: Cli) -> None:
    result = cli("snapshot", "ftp://example.org/story")
    assert result.exit_code == 7 and "only http and https" in result.stderr


# --- watch ---------------------------------------------------------------------------


def _feed(links: list[str]) -> str:
    items = "".join(f"<item><title>Story {i}</title><link>{link}</link></item>" for i, link in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{items}</channel></rss>'


def test_watch_once_tracks_articles_and_feed_entries(cli: Cli, site: HTTPServer, tmp_path: Path) -> None:
    for name, version in (("one", 1), ("two", 2), ("three", 3)):
        site.expect_request(f"/{name}").respond_with_data(
            page(version, site.url_for(f"/{name}")), content_type="text/html"
        )
    site.expect_request("/broken").respond_with_data("no", status=500)
    site.expect_request("/rss").respond_with_data(
        _feed([site.url_for("/two"), site.url_for("/three")]), content_type="application/rss+xml"
    )
    config = tmp_path / "watch.toml"
    config.write_text(
        f'[[article]]\nurl = "{site.url_for("/one")}"\nid = "first"\n\n'
        f'[[article]]\nurl = "{site.url_for("/broken")}"\n\n'
        f'[[feed]]\nurl = "{site.url_for("/rss")}"\n\n[settings]\nper_host_delay = 0.05\nconcurrency = 2\n'
    )
    result = cli("watch", "--once", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "changed: first rev 1" in result.stdout and "changed: localhost/two rev 1" in result.stdout
    assert "failed: http://localhost" in result.stdout and "HTTP 500" in result.stdout
    summary = result.stdout.split("watch pass\n", 1)[1].splitlines()
    assert summary[0].split() == ["checked", "changed", "unchanged", "not", "modified", "gone", "failed"]
    assert summary[1].split() == ["4", "3", "0", "0", "0", "1"]
    listed = {a["article"] for a in json.loads(cli("list", "--format", "json").stdout)["articles"]}
    assert listed == {"first", "localhost/two", "localhost/three"}
    # The pass recorded its three versions as one write: three commits, one move of the branch.
    moves = (cli.store / "logs" / "refs" / "heads" / "main").read_text().splitlines()
    assert [line.split("\t")[1] for line in moves] == ["revtrack snapshot: 3 versions in one batch"]
    # State survives: nothing is due again straight away, so a second pass checks nothing.
    again = cli("watch", "--once", "--config", str(config))
    assert "changed" not in again.stdout.split("watch pass")[0]
    import sqlite3

    with contextlib.closing(sqlite3.connect(cli.store / "revtrack" / "watch.sqlite")) as state:
        rows = state.execute("SELECT url, checks, changes, last_error IS NOT NULL FROM urls ORDER BY url").fetchall()
    assert len(rows) == 4 and all(checks == 1 for _, checks, _, _ in rows)
    assert sum(changes for _, _, changes, _ in rows) == 3 and sum(err for *_, err in rows) == 1
    # --status shows the same, fetching nothing.
    site.clear()
    status = cli("watch", "--status", "--format", "json")
    assert status.exit_code == 0, status.output
    urls = {item["url"]: item for item in json.loads(status.stdout)["urls"]}
    assert urls == {url: urls[url] for url, *_ in rows} and not site.log
    broken, first = urls[site.url_for("/broken")], urls[site.url_for("/one")]
    assert broken["last_error"].startswith("HTTP 500") and broken["changes"] == 0 and broken["origin"] == "config"
    assert first["article"] == "first" and first["checks"] == first["changes"] == 1 and first["last_error"] is None
    assert urls[site.url_for("/two")]["origin"] == site.url_for("/rss")
    checked, due = (datetime.fromisoformat(first[key]) for key in ("last_checked", "next_due"))
    assert due - checked == timedelta(minutes=15)  # a new article: every 15 minutes
    table = cli("watch", "--status").stdout.splitlines()
    assert table[0].split() == [
        "url",
        "article",
        "checks",
        "changes",
        "last",
        "checked",
        "next",
        "due",
        "last",
        "error",
    ]
    assert len(table) == 6 and "HTTP 500" in next(line for line in table if "/broken" in line)
    assert table[-1] == "4 URLs tracked: 4 on the schedule, 0 due now; 1 failing, 0 of them gone"


_HOURLY: Final = [(timedelta(days=1), timedelta(hours=1))]


def _status_state(store_dir: Path, now: float) -> WatchState:
    """A watch state of six URLs: two due, one failing, one gone, one past its schedule."""
    from revtrack.store import Store

    with Store(str(store_dir)) as store:
        store.ensure()
    state = WatchState(str(store_dir / "revtrack" / "watch.sqlite"))
    with state.transaction():
        for number in range(6):
            state.track(f"https://example.org/{number}", None, "config", now - 3600)  # due since an hour ago
        state.record("https://example.org/1", now - 60, _HOURLY, "HTTP 500 from example.org", False)
        state.record("https://example.org/3", now - 60, _HOURLY, "HTTP 410 from example.org", False, gone=True)
        state.record("https://example.org/4", now - 60, _HOURLY, None, True)
        state.record("https://example.org/5", now - 60, [], None, False)  # past the schedule: no more checks
    return state


def test_watch_status_counts_every_url_and_lists_the_failing_or_the_first(cli: Cli) -> None:
    """At 100,000 URLs the whole list took 2.4 s (4.0 s as JSON): --failing and --limit list what matters."""
    state = _status_state(cli.store, time.time())
    try:
        counts = state.counts(time.time())
    finally:
        state.close()
    assert (counts.tracked, counts.scheduled, counts.due, counts.failing, counts.gone) == (6, 5, 2, 2, 1)
    summary = "6 URLs tracked: 5 on the schedule, 2 due now; 2 failing, 1 of them gone"
    failing = cli("watch", "--status", "--failing")
    assert failing.exit_code == 0, failing.output
    lines = failing.stdout.splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == ["https://example.org/1", "https://example.org/3"]
    assert "gone since" in lines[2] and lines[-1] == summary and not failing.stderr
    first = cli("watch", "--status", "--limit", "2")
    assert [line.split()[0] for line in first.stdout.splitlines()[1:-1]] == [
        "https://example.org/0",
        "https://example.org/1",
    ]
    assert first.stderr == "note: 2 of 6 URLs shown (by URL); --limit 0 shows all\n"
    data = json.loads(cli("watch", "--status", "--failing", "--limit", "1", "--format", "json").stdout)
    assert [item["url"] for item in data["urls"]] == ["https://example.org/1"] and data["total"] == 2
    assert data["counts"] == {"tracked": 6, "scheduled": 5, "due": 2, "failing": 2, "gone": 1}
    everything = json.loads(cli("watch", "--status", "--format", "json").stdout)
    assert len(everything["urls"]) == everything["total"] == 6
    assert cli("watch", "--status", "--limit", "99999999999999999999").stdout.count("https://") == 6


def test_watch_status_failing_exits_1_when_every_check_went_through(cli: Cli) -> None:
    state = _status_state(cli.store, time.time())
    try:
        with state.transaction():
            for number in (1, 3):
                state.record(f"https://example.org/{number}", time.time(), _HOURLY, None, False)
    finally:
        state.close()
    result = cli("watch", "--status", "--failing")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "no URL failed its last check",
        "6 URLs tracked: 5 on the schedule, 2 due now; 0 failing, 0 of them gone",
    ]
    assert json.loads(cli("watch", "--status", "--failing", "--format", "json").stdout)["urls"] == []


def test_watch_status_reads_its_list_and_counts_from_one_moment(cli: Cli) -> None:
    """A pass committing between the list and the counts does not make them disagree."""
    now = time.time()
    state = _status_state(cli.store, now)
    pass_ = WatchState(state.path)
    try:
        with state.reading():
            listed = state.statuses(failing=True)
            with pass_.transaction():
                pass_.record("https://example.org/0", now, _HOURLY, "HTTP 503 from example.org", False)
            assert state.counts(now).failing == len(listed) == 2
        assert state.counts(now).failing == len(state.statuses(failing=True)) == 3
    finally:
        pass_.close()
        state.close()


def test_watch_status_imports_nothing_that_fetches_or_extracts(cli: Cli) -> None:
    """Start-up: revtrack.watch and what it brings (~25 ms) are for passes; --status reads SQLite only."""
    _status_state(cli.store, time.time()).close()
    script = (
        "import sys\nfrom revtrack.cli import main\nsys.argv = ['revtrack', 'watch', '--status']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('revtrack.watch', 'revtrack.extractors', 'revtrack.snapshotting', 'httpx', 'trafilatura', 'git')\n"
        "print([name for name in heavy if name in sys.modules], file=sys.stderr)\n"
    )
    environment = {**os.environ, "REVTRACK_STORE": str(cli.store)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment)
    assert "https://example.org/5" in result.stdout and result.stderr == "[]\n"


def test_watch_status_options_need_status(cli: Cli) -> None:
    for option in (["--failing"], ["--limit", "3"]):
        result = cli("watch", "--once", *option)
        assert result.exit_code == 4 and result.stderr == "Error: --failing and --limit go with --status\n"


def test_watch_status_before_any_watch_is_one_line(cli: Cli) -> None:
    result = cli("watch", "--status")
    assert result.exit_code == 3 and result.stderr.startswith("Error: nothing watched yet")
    assert result.stderr.count("\n") == 1


def test_watch_needs_a_watch_list(cli: Cli, tmp_path: Path) -> None:
    result = cli("watch", "--once", "--config", str(tmp_path / "missing.toml"))
    assert result.exit_code == 4 and "no watch list at" in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[[article]]\nurl = "ftp://x"\n')
    assert "needs an http(s) url" in cli("watch", "--once", "--config", str(bad)).stderr
    for settings in ('concurrency = "many"', 'schedule = [["3h"]]', 'schedule = [["3h", "soon"]]'):
        bad.write_text(f'[[article]]\nurl = "https://example.org/a"\n[settings]\n{settings}\n')
        result = cli("watch", "--once", "--config", str(bad))
        assert result.exit_code == 4 and result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, (
            settings
        )


@pytest.mark.parametrize(
    ("age", "every"),
    [
        ("0m", "15m"),
        ("2h59m", "15m"),
        ("3h", "1h"),
        ("23h", "1h"),
        ("2d", "3h"),
        ("8d", "3d"),
        ("40d", "30d"),
        ("366d", None),
    ],
)
def test_recheck_schedule_by_age(age: str, every: str | None) -> None:
    schedule = parse_schedule()
    parts = [parse_duration(p + u) for p, u in __import__("re").findall(r"(\d+)([smhd])", age)] or [timedelta(0)]
    assert next_interval(sum(parts, timedelta()), schedule) == (parse_duration(every) if every else None)


# --- extraction quality on real pages kept in tests/data -------------------------------


def test_extraction_on_real_news_pages_scores_high() -> None:
    truth = json.loads((DATA / "extraction" / "ground-truth.json").read_text(encoding="utf-8"))
    pairs = []
    for key, item in truth.items():
        with gzip.open(DATA / "extraction" / "html" / f"{key}.html.gz", "rt", encoding="utf-8") as handle:
            pairs.append((item["articleBody"], extract_article(handle.read(), item["url"]).body))
    metrics = score(pairs)
    assert metrics["f1"] >= 0.9, metrics
    # The scorer itself can fail: an empty extraction counts against recall.
    assert score([("a b c d e", "a b c d e"), ("one two three four five", "")])["recall"] == 0.5


# --- watch: conditional requests --------------------------------------------------------


class ConditionalSite:
    """Pages served as a news site's cache would: with an ETag and/or Last-Modified, answering 304 to a match.

    ``honour=False`` makes the server ignore the validators (many do), so the
    watcher can only compare the bytes. Every request's conditional headers are kept.
    """

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.pages: dict[str, tuple[str, dict[str, str]]] = {}
        self.honour = True
        self.requests: list[
            tuple[str, str | None, str | None, int]
        ] = []  # path, If-None-Match, If-Modified-Since, status

    def serve(self, path: str, body: str, **validators: str) -> None:
        headers = {"etag" if k == "etag" else "last-modified": v for k, v in validators.items()}
        if path not in self.pages:
            self.server.expect_request(path).respond_with_handler(lambda request: self._answer(path, request))
        self.pages[path] = (body, headers)

    def _answer(self, path: str, request: Request) -> Response:
        body, headers = self.pages[path]
        match, since = request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")
        fresh = (match is not None and match == headers.get("etag")) or (
            match is None and since is not None and since == headers.get("last-modified")
        )
        status = 304 if self.honour and fresh else 200
        self.requests.append((path, match, since, status))
        if status == 304:
            return Response(status=304, headers=headers)
        return Response(body, content_type="text/html; charset=utf-8", headers=headers)

    def sent(self, path: str) -> list[tuple[str | None, str | None, int]]:
        return [(match, since, status) for p, match, since, status in self.requests if p == path]


def _watch_pass(store_dir: Path, urls: list[str], at: float, feeds: tuple[str, ...] = ()):
    from revtrack.store import Store
    from revtrack.watch import WatchConfig, run_pass

    config = WatchConfig(
        articles=[(url, None) for url in urls],
        feeds=list(feeds),
        schedule=parse_schedule(),
        per_host_delay=0.0,
    )
    with Store(str(store_dir)) as store:
        store.ensure()
        state = WatchState(str(store_dir / "revtrack" / "watch.sqlite"))
        try:
            return run_pass(store, config, state, now=at)
        finally:
            state.close()


def _revisions(cli: Cli, article: str) -> int:
    return len(json.loads(cli("log", article, "--format", "json").stdout)["revisions"])


def test_watch_asks_again_with_the_recorded_copys_validators_and_extracts_only_new_pages(
    cli: Cli, site: HTTPServer
) -> None:
    web = ConditionalSite(site)
    web.serve("/a", page(1, site.url_for("/a")), etag='"a1"')
    web.serve("/b", page(1, site.url_for("/b")), last_modified="Fri, 27 Oct 2017 08:48:00 GMT")
    web.serve("/c", page(1, site.url_for("/c")))  # no validators: only its bytes tell
    urls = [site.url_for(p) for p in ("/a", "/b", "/c")]
    start = time.time()
    first = _watch_pass(cli.store, urls, start)
    assert (first.checked, first.changed, first.not_modified) == (3, 3, 0)
    assert web.sent("/a") == [(None, None, 200)]

    # An hour later (due every 15 minutes): nothing new is extracted.
    again = _watch_pass(cli.store, urls, start + 3600)
    assert (again.checked, again.changed, again.unchanged, again.not_modified, again.failed) == (3, 0, 3, 3, 0)
    assert web.sent("/a")[-1] == ('"a1"', None, 304)
    assert web.sent("/b")[-1] == (None, "Fri, 27 Oct 2017 08:48:00 GMT", 304)
    assert web.sent("/c")[-1] == (None, None, 200)
    # A server that ignores the validators sends the same bytes: recognised too.
    web.honour = False
    ignored = _watch_pass(cli.store, urls, start + 7200)
    assert (ignored.unchanged, ignored.not_modified) == (3, 3) and web.sent("/a")[-1] == ('"a1"', None, 200)
    web.honour = True

    # New text under a new ETag is fetched, recorded, and its ETag sent from then on.
    web.serve("/a", page(2, site.url_for("/a")), etag='"a2"')
    web.serve("/c", page(2, site.url_for("/c")))
    changed = _watch_pass(cli.store, urls, start + 9000)
    assert (changed.changed, changed.not_modified) == (2, 1) and web.sent("/a")[-1] == ('"a1"', None, 200)
    assert _revisions(cli, "localhost/a") == 2 and _revisions(cli, "localhost/c") == 2
    _watch_pass(cli.store, urls, start + 9900)
    assert web.sent("/a")[-1] == ('"a2"', None, 304)

    # A copy that is not recorded (a suspected extraction failure) leaves no validators
    # behind: the next pass sends the recorded copy's, so the page comes in full again.
    broken = "<html><body><article><p>Subscribe to read this story in full.</p></article></body></html>"
    web.serve("/a", broken, etag='"a3"')
    refused = _watch_pass(cli.store, urls, start + 10_800)
    assert refused.failed == 1 and "suspected extraction failure" in "\n".join(refused.lines)
    retried = _watch_pass(cli.store, urls, start + 14_400)
    assert web.sent("/a")[-1] == ('"a2"', None, 200) and retried.failed == 1
    assert _revisions(cli, "localhost/a") == 2


def test_each_version_a_watch_pass_finds_is_dated_when_its_page_arrived(cli: Cli, site: HTTPServer) -> None:
    """Not when the pass began: a host's pages come per_host_delay apart (1,000 pages: ~17 minutes at the default).

    The article's page and a copy of it on a second host (same canonical URL,
    so one article) arrive in the other order than the pass lists them; they
    are recorded in the order they arrived, where an earlier time after a later
    one would be refused.
    """
    from revtrack.store import Store
    from revtrack.watch import WatchConfig, run_pass

    story = site.url_for("/story")
    for path, version, canonical in (("/other", 1, site.url_for("/other")), ("/story", 1, story), ("/copy", 3, story)):
        site.expect_request(path).respond_with_data(page(version, canonical), content_type="text/html")
    second_host = site.url_for("/copy").replace("localhost", "127.0.0.1")
    urls = [site.url_for("/other"), story, second_host]  # /story waits behind /other on its host
    config = WatchConfig(articles=[(url, None) for url in urls], per_host_delay=1.2, extract_processes=1)
    began = datetime(2030, 1, 1, 12, 0, 0).astimezone()
    with Store(str(cli.store)) as store:
        store.ensure()
        state = WatchState(str(cli.store / "revtrack" / "watch.sqlite"))
        report = run_pass(store, config, state, now=began.timestamp())
        state.close()
    assert (report.checked, report.changed, report.failed) == (3, 3, 0), report.lines

    def observed(article: str) -> list[float]:
        revisions = json.loads(cli("log", article, "--format", "json").stdout)["revisions"]
        return [datetime.fromisoformat(r["observed_at"]).timestamp() - began.timestamp() for r in revisions]

    other, versions = observed("localhost/other"), observed("localhost/story")
    assert other == [0.0]  # the first page of its host, fetched at once (times are kept to the second)
    assert len(versions) == 2 and versions[0] == 0.0 and 1.0 <= versions[1] < 10.0, versions
    titles = [r["title"] for r in json.loads(cli("log", "localhost/story", "--format", "json").stdout)["revisions"]]
    seeds = [parse_document(seed.path.read_text(encoding="utf-8")).title for seed in seed_versions()]
    assert titles == [seeds[2], seeds[0]]  # the second host's copy (v3) came first


def test_a_watch_pass_of_edited_pages_is_one_write_and_checks_each_against_its_latest_text(
    cli: Cli, site: HTTPServer
) -> None:
    """Five edited pages: one new pack for the pass (the word-loss checks read the texts before the batch).

    A check reading from git inside the batch first wrote what the batch held as a pack of its own,
    one per page. The sixth page lost most of its words and is refused, as a single snapshot would be.
    """
    paths = [f"/p{number}" for number in range(6)]
    for path in paths:
        site.expect_request(path).respond_with_data(page(2, site.url_for(path)), content_type="text/html")
    urls = [site.url_for(path) for path in paths]
    start = time.time()
    assert _watch_pass(cli.store, urls, start).changed == 6
    packs = set((cli.store / "objects" / "pack").glob("*.pack"))
    site.clear()
    for path in paths[:5]:
        site.expect_request(path).respond_with_data(page(3, site.url_for(path)), content_type="text/html")
    site.expect_request(paths[5]).respond_with_data(
        page(2, site.url_for(paths[5])).split("<p>", 4)[0] + "<p>Most of this story was removed.</p></article>",
        content_type="text/html",
    )
    edited = _watch_pass(cli.store, urls, start + 3600)
    assert (edited.changed, edited.failed) == (5, 1)
    assert f"failed: {urls[5]}: suspected extraction failure" in "\n".join(edited.lines)
    assert len(set((cli.store / "objects" / "pack").glob("*.pack")) - packs) == 1
    assert [_revisions(cli, f"localhost/p{number}") for number in range(6)] == [2, 2, 2, 2, 2, 1]


_CAPTURED = ("2017-10-27T11:48:00+03:00", "2017-10-27T15:10:00+03:00", "2017-10-27T17:32:00+03:00")
_STUB = "<html><body><article><p>Subscribe to read this story in full.</p></article></body></html>"


def _history(who: Cli, article: str = "story") -> list[dict[str, object]]:
    """An article's revisions as `log --format json` gives them, less their commits (which differ between stores)."""
    revisions = json.loads(who("log", article, "--format", "json").stdout)["revisions"]
    return [{key: value for key, value in revision.items() if key != "commit"} for revision in revisions]


def _captures(folder: Path, files: list[tuple[str, str, str]]) -> Path:
    """A folder of saved pages (an archive's captures) with its versions.tsv: (file, observed_at, content)."""
    folder.mkdir()
    for name, _, content in files:
        (folder / name).write_text(content, encoding="utf-8")
    rows = "".join(f"{name}\t{observed}\n" for name, observed, _ in files)
    (folder / "versions.tsv").write_text("file\tobserved_at\n" + rows, encoding="utf-8")
    return folder


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_folder_of_saved_pages_imports_as_single_html_snapshots_would(
    cli: Cli, tmp_path: Path, processes: str
) -> None:
    """Each .html/.htm file is extracted (in the import's process, or in workers) as 'snapshot FILE --html' does."""
    canonical = "https://www.rudaw.net/english/kurdistan/271020171"
    files = [(f"capture-{v}.{'htm' if v == 3 else 'html'}", _CAPTURED[v - 1], page(v, canonical)) for v in (1, 2, 3)]
    folder = _captures(tmp_path / "captures", files)
    imported = cli("import", str(folder), "--article", "story", "--processes", processes)
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("imported 3 new versions")
    single = Cli(cli.runner, tmp_path / "single")
    for name, observed, _ in files:
        result = single("snapshot", str(folder / name), "--html", "--article", "story", "--at", observed)
        assert result.exit_code == 0, result.output

    assert _history(cli) == _history(single) and len(_history(cli)) == 3
    assert _history(cli)[2]["url"] == canonical and _history(cli)[0]["stated"]
    for rev in ("1", "2", "3"):
        assert cli("show", "story", rev).stdout == single("show", "story", rev).stdout
    assert "official ceasefire" in cli("show", "story", "2").stdout


@pytest.mark.parametrize("name", ["capture.html", "CAPTURE.HTM"])
def test_a_saved_page_named_html_is_extracted_without_html_flag(cli: Cli, tmp_path: Path, name: str) -> None:
    """Recorded as text, the page's every tag became the article; its name says what it is, as in a folder import."""
    saved = tmp_path / name
    saved.write_text(page(2, "https://www.rudaw.net/english/kurdistan/271020171"), encoding="utf-8")
    plain = cli("snapshot", str(saved), "--article", "plain", "--at", _CAPTURED[1])
    flagged = cli("snapshot", str(saved), "--html", "--article", "flagged", "--at", _CAPTURED[1])
    assert (plain.exit_code, flagged.exit_code) == (0, 0), plain.output + flagged.output
    shown = cli("show", "plain").stdout
    assert shown == cli("show", "flagged").stdout and "<p>" not in shown and "official ceasefire" in shown
    # Without --article, the page's canonical URL names it, as with --html.
    assert cli("snapshot", str(saved)).stdout.startswith("rudaw.net/english/kurdistan/271020171: recorded rev 1")


@pytest.mark.parametrize("before", ["a page in the folder", "a text in the folder", "the store's latest"])
def test_a_saved_page_that_lost_most_words_stops_the_import(cli: Cli, tmp_path: Path, before: str) -> None:
    """As a single snapshot refuses it (exit 8): checked against the article's previous version, wherever it is."""
    seed = seed_versions()[1]
    full = {"a page in the folder": ("v2.html", page(2, "https://example.org/a")),
            "a text in the folder": ("v2.txt", seed.path.read_text(encoding="utf-8"))}  # fmt: skip
    files = [(*full[before][:1], _CAPTURED[1], full[before][1])] if before in full else []
    if before == "the store's latest":
        assert cli("snapshot", str(seed.path), "--article", "captures", "--at", _CAPTURED[0]).exit_code == 0
    files.append(("v3.html", _CAPTURED[2], _STUB))
    folder = _captures(tmp_path / "captures", files)
    refused = cli("import", str(folder))
    assert refused.exit_code == 8, refused.output
    line = len(files) + 1
    assert refused.stderr.startswith(f"Error: {folder / 'versions.tsv'} line {line}: v3.html: suspected extraction")
    assert refused.stderr.count("\n") == 1
    if before == "the store's latest":
        assert _revisions(cli, "captures") == 1
    else:  # the import would have created the store: it is not there
        assert not (cli.store / "refs" / "heads" / "main").exists()


def test_a_saved_page_with_no_article_text_stops_the_import_naming_its_line(cli: Cli, tmp_path: Path) -> None:
    folder = _captures(
        tmp_path / "captures",
        [("one.html", _CAPTURED[0], page(1, "https://example.org/a")), ("empty.html", _CAPTURED[1], "<html></html>")],
    )
    refused = cli("import", str(folder))
    assert refused.exit_code == 8, refused.output
    assert refused.stderr == (
        f"Error: {folder / 'versions.tsv'} line 3: empty.html: no article text found in the page; "
        "nothing imported (remove the line, or give --skip-failed-pages)\n"
    )
    assert not (cli.store / "refs" / "heads" / "main").exists()


def _jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


@pytest.mark.parametrize("processes", ["1", "2"])
def test_json_lines_with_pages_import_as_single_html_snapshots_would(cli: Cli, tmp_path: Path, processes: str) -> None:
    """A record with html in place of body is extracted as 'snapshot - --html' extracts the same page."""
    canonical = "https://www.rudaw.net/english/kurdistan/271020171"
    records: list[dict[str, object]] = [
        {"article": "story", "observed_at": _CAPTURED[0], "html": page(1, canonical)},
        {"article": "other", "observed_at": _CAPTURED[0], "title": "A text", "body": "Told in plain text."},
        {"article": "story", "observed_at": _CAPTURED[1], "html": page(2, canonical), "url": canonical + "?amp"},
        {"article": "story", "observed_at": _CAPTURED[2], "html": page(3, canonical), "title": "Given headline"},
    ]
    imported = cli("import", str(_jsonl(tmp_path / "pages.jsonl", records)), "--processes", processes)
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("imported 4 new versions")
    single = Cli(cli.runner, tmp_path / "single")
    for record in records:
        if "html" not in record:
            continue
        options = [f"--{key}={record[key]}" for key in ("url", "title") if key in record]
        args = ["snapshot", "-", "--html", "--article", "story", "--at", str(record["observed_at"]), *options]
        result = single(*args, input=str(record["html"]))
        assert result.exit_code == 0, result.output

    assert _history(cli) == _history(single) and len(_history(cli)) == 3
    assert [revision["url"] for revision in _history(cli)] == [canonical, canonical + "?amp", canonical]
    assert _history(cli)[0]["stated"] and _history(cli)[2]["title"] == "Given headline"
    for rev in ("1", "2", "3"):
        assert cli("show", "story", rev).stdout == single("show", "story", rev).stdout
    assert "official ceasefire" in cli("show", "story", "2").stdout and "<p>" not in cli("show", "story", "2").stdout
    assert cli("show", "other").stdout == "A text\n\nTold in plain text."


def test_an_xhtml_page_in_a_json_lines_record_keeps_its_canonical_url_and_stated_times(
    cli: Cli, tmp_path: Path
) -> None:
    """lxml refuses decoded text that declares its encoding (<?xml ... encoding=...?>): the page's metadata was lost."""
    canonical = "https://www.rudaw.net/english/kurdistan/271020171"
    xhtml = page(2, canonical).replace(
        "<!doctype html><html>",
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml">',
    )
    stream = _jsonl(tmp_path / "pages.jsonl", [{"article": "story", "observed_at": _CAPTURED[1], "html": xhtml}])
    assert cli("import", str(stream)).exit_code == 0
    single = Cli(cli.runner, tmp_path / "single")
    assert single("snapshot", "-", "--html", "--article", "story", "--at", _CAPTURED[1], input=xhtml).exit_code == 0
    imported, snapped = (_history(who)[0] for who in (cli, single))
    assert imported["url"] == canonical
    assert (
        imported["stated"]
        == snapped["stated"]
        == {"published": "2017-10-27T11:40:00+03:00", "updated": "2017-10-27T15:10:00+03:00"}
    )


@pytest.mark.parametrize("before", ["a page", "a text", "the store's latest"])
def test_a_json_lines_page_that_lost_most_words_stops_the_import(cli: Cli, tmp_path: Path, before: str) -> None:
    """Checked against the article's previous version: a record before it (page or text), or the store's latest."""
    seed = seed_versions()[1]
    records: list[dict[str, object]] = []
    if before == "a page":
        records.append({"article": "a", "observed_at": _CAPTURED[1], "html": page(2, "https://example.org/a")})
    elif before == "a text":
        title, body = seed.path.read_text(encoding="utf-8").split("\n\n", 1)
        records.append({"article": "a", "observed_at": _CAPTURED[1], "title": title, "body": body})
    else:
        assert cli("snapshot", str(seed.path), "--article", "a", "--at", _CAPTURED[0]).exit_code == 0
    records.append({"article": "a", "observed_at": _CAPTURED[2], "html": _STUB})
    stream = _jsonl(tmp_path / "pages.jsonl", records)
    refused = cli("import", str(stream))
    assert refused.exit_code == 8, refused.output
    assert refused.stderr.startswith(f"Error: {stream} line {len(records)}: suspected extraction failure")
    assert refused.stderr.count("\n") == 1
    if before == "the store's latest":
        assert _revisions(cli, "a") == 1
        return
    assert not (cli.store / "refs").exists()
    # The stub alone, with no version before it to lose words from, imports.
    alone = cli("import", str(_jsonl(tmp_path / "stub.jsonl", records[-1:])), "--format", "json")
    assert (alone.exit_code, json.loads(alone.stdout)["recorded"]) == (0, 1), alone.output


def test_json_lines_pages_checked_without_reading_ahead(cli: Cli, tmp_path: Path) -> None:
    """A caller of the library that does not read ahead (pages unknown) still gets the word-loss check."""
    import io

    from revtrack.errors import ExtractionSuspect
    from revtrack.importer import import_snapshots, jsonl_snapshots
    from revtrack.store import Store

    title, body = seed_versions()[1].path.read_text(encoding="utf-8").split("\n\n", 1)
    records = [
        {"article": "a", "observed_at": _CAPTURED[1], "title": title, "body": body},
        {"article": "a", "observed_at": _CAPTURED[2], "html": _STUB},
    ]
    with Store(str(cli.store)) as store, pytest.raises(ExtractionSuspect, match="^input line 2: suspected"):
        import_snapshots(
            store, jsonl_snapshots(io.StringIO("".join(json.dumps(r) + "\n" for r in records)), store=store)
        )
    assert not (cli.store / "refs" / "heads" / "main").exists()


@pytest.mark.parametrize(
    ("record", "code", "said"),
    [
        ({"html": "<p>x</p>", "body": "x"}, 4, "line 1: give either body (the text) or html (the page), not both"),
        ({"html": 3}, 4, "line 1: missing or non-text field(s): html"),
        ({"html": page(1, "https://example.org/a"), "title": 3}, 4, "line 1: missing or non-text field(s): title"),
        ({"html": "<p>\ud800</p>"}, 4, "line 1: the text is not valid UTF-8"),
        (
            {"html": "<html></html>", "url": "https://example.org/a"},
            8,
            "line 1: no article text found in https://example.org/a",
        ),
        (
            {"html": "<p>" + "x" * (20 * 1024 * 1024) + "</p>"},
            4,
            "line 1: the page is larger than the limit of 20,971,520",
        ),
    ],  # fmt: skip
)
def test_a_bad_json_lines_page_stops_the_import_naming_its_line(
    cli: Cli, tmp_path: Path, record: dict[str, object], code: int, said: str
) -> None:
    stream = _jsonl(tmp_path / "pages.jsonl", [{"article": "a", "observed_at": _CAPTURED[0], **record}])
    refused = cli("import", str(stream))
    assert refused.exit_code == code, refused.output
    assert refused.stderr.startswith(f"Error: {stream} {said}") and refused.stderr.count("\n") == 1
    assert not (cli.store / "refs").exists()


@pytest.mark.parametrize("source", ["folder", "json lines"])
def test_an_import_keeps_each_page_beside_its_text_as_snapshot_keep_html_does(
    cli: Cli, tmp_path: Path, source: str
) -> None:
    canonical = "https://www.rudaw.net/english/kurdistan/271020171"
    files = [(f"v{v}.html", _CAPTURED[v - 1], page(v, canonical)) for v in (1, 2)]
    folder = _captures(tmp_path / "captures", files)
    if source == "folder":
        given = [str(folder), "--article", "story"]
    else:
        records = [{"article": "story", "observed_at": at, "html": html} for _, at, html in files]
        given = [str(_jsonl(tmp_path / "pages.jsonl", records))]
    assert cli("import", *given, "--keep-html").exit_code == 0
    single = Cli(cli.runner, tmp_path / "single")
    for name, at, _ in files:
        assert single("snapshot", str(folder / name), "--article", "story", "--at", at, "--keep-html").exit_code == 0

    def tree(store: Path) -> list[str]:
        listed = subprocess.run(
            ["git", "--git-dir", str(store), "ls-tree", "-r", "main"], capture_output=True, text=True
        )
        return listed.stdout.splitlines()

    kept = [line for line in tree(cli.store) if line.endswith(".page.html")]
    assert len(kept) == 1 and kept == [line for line in tree(single.store) if line.endswith(".page.html")]
    shown = subprocess.run(
        ["git", "--git-dir", str(cli.store), "cat-file", "blob", kept[0].split()[2]], capture_output=True
    )
    assert shown.stdout == (folder / "v2.html").read_bytes()
    first = subprocess.run(
        ["git", "--git-dir", str(cli.store), "show", "--stat", "--format=", "main~1"], capture_output=True, text=True
    )
    assert ".page.html" in first.stdout  # the first version's page too, in its own commit
    assert cli("show", "story", "2").stdout == single("show", "story", "2").stdout


@pytest.mark.parametrize("source", ["folder", "json lines"])
def test_failed_pages_can_be_skipped_as_single_snapshots_would_record_nothing(
    cli: Cli, tmp_path: Path, source: str
) -> None:
    """--skip-failed-pages: each left out, said on stderr; the next page is checked against the last one kept."""
    url = "https://example.org/a"
    pages = [page(1, url), _STUB, _STUB, "<html></html>", page(3, url)]
    at = [f"2024-06-0{day}T12:00:00+00:00" for day in range(1, 6)]
    if source == "folder":
        given = _captures(tmp_path / "captures", [(f"v{n}.html", at[n], html) for n, html in enumerate(pages)])
        where = [f"{given / 'versions.tsv'} line {n + 2}: v{n}.html" for n in range(5)]
        args = ["import", str(given), "--article", "a"]
    else:
        given = _jsonl(
            tmp_path / "pages.jsonl",
            [{"article": "a", "observed_at": at[n], "html": html} for n, html in enumerate(pages)],
        )
        where = [f"{given} line {n + 1}" for n in range(5)]
        args = ["import", str(given)]
    imported = cli(*args, "--skip-failed-pages", "--processes", "2", "--format", "json")
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout) == {"read": 5, "recorded": 2, "unchanged": 0, "skipped": 3, "new_articles": 1}
    lines = imported.stderr.splitlines()
    assert [line.split(": suspected")[0] for line in lines[:2]] == [f"Warning: skipped {where[n]}" for n in (1, 2)]
    assert "the body went from" in lines[0] and "the body went from" in lines[1]
    assert lines[2:] == [f"Warning: skipped {where[3]}: no article text found in the page"]
    revisions = json.loads(cli("log", "a", "--format", "json").stdout)["revisions"]
    assert [revision["observed_at"] for revision in revisions] == [at[0], at[4]]
    again = cli(*args, "--skip-failed-pages")
    assert again.stdout.strip() == "imported 0 new versions (2 unchanged) of 5 read; 0 new articles; 3 pages skipped"


@pytest.mark.parametrize("source", ["folder", "json lines"])
def test_the_first_bad_record_is_the_one_named_while_pages_are_extracted_ahead(
    cli: Cli, tmp_path: Path, source: str
) -> None:
    """A page with no text, then a record that cannot be read: the page's error, though it was still extracting."""
    if source == "folder":
        files = [("empty.html", _CAPTURED[0], "<html></html>"), ("missing.txt", _CAPTURED[1], "x")]
        folder = _captures(tmp_path / "captures", files)
        (folder / "missing.txt").unlink()
        given, first = str(folder), f"{folder / 'versions.tsv'} line 2: empty.html: "
    else:
        stream = _jsonl(tmp_path / "pages.jsonl", [{"article": "a", "observed_at": _CAPTURED[0], "html": "<p></p>"}])
        with stream.open("a") as handle:
            handle.write("not json\n")
        given, first = str(stream), f"{stream} line 1: "
    refused = cli("import", given, "--processes", "2")
    assert refused.exit_code == 8, refused.output
    assert refused.stderr.startswith(f"Error: {first}no article text found in the page; nothing imported")
    assert not (cli.store / "refs").exists()


def test_watch_asks_for_feeds_conditionally(cli: Cli, site: HTTPServer) -> None:
    web = ConditionalSite(site)
    for name in ("one", "two"):
        web.serve(f"/{name}", page(1, site.url_for(f"/{name}")))
    web.serve("/rss", _feed([site.url_for("/one")]), etag='"f1"')
    start = time.time()
    assert _watch_pass(cli.store, [], start, feeds=(site.url_for("/rss"),)).changed == 1
    assert _watch_pass(cli.store, [], start + 3600, feeds=(site.url_for("/rss"),)).not_modified == 1
    assert web.sent("/rss") == [(None, None, 200), ('"f1"', None, 304)]
    web.serve("/rss", _feed([site.url_for("/one"), site.url_for("/two")]), etag='"f2"')
    assert _watch_pass(cli.store, [], start + 7200, feeds=(site.url_for("/rss"),)).changed == 1
    assert web.sent("/rss")[-1] == ('"f1"', None, 200)
    assert _revisions(cli, "localhost/two") == 1


def test_a_watch_state_from_before_conditional_requests_gains_their_columns(cli: Cli, site: HTTPServer) -> None:
    import sqlite3

    web = ConditionalSite(site)
    web.serve("/a", page(1, site.url_for("/a")), etag='"a1"')
    (cli.store / "revtrack").mkdir(parents=True)
    _old_watch_state(cli.store / "revtrack" / "watch.sqlite")
    old = sqlite3.connect(cli.store / "revtrack" / "watch.sqlite")
    start = time.time()  # one URL checked before
    old.execute(
        "INSERT INTO urls VALUES (?, NULL, 'config', ?, ?, ?, NULL, 1, 0)", (site.url_for("/a"), start, start, start)
    )
    old.commit()
    old.close()
    assert _watch_pass(cli.store, [site.url_for("/a")], start + 60).changed == 1
    assert _watch_pass(cli.store, [site.url_for("/a")], start + 3600).not_modified == 1
    assert web.sent("/a") == [(None, None, 200), ('"a1"', None, 304)]


def test_a_watch_pass_notes_its_urls_in_two_commits_not_one_per_url(cli: Cli, site: HTTPServer) -> None:
    from revtrack.store import Store
    from revtrack.watch import WatchConfig, run_pass

    web = ConditionalSite(site)
    for name in ("a", "b", "c"):
        web.serve(f"/{name}", page(1, site.url_for(f"/{name}")))
    web.serve("/rss", _feed([site.url_for("/c")]), etag='"f1"')
    config = WatchConfig(
        articles=[(site.url_for("/a"), None), (site.url_for("/b"), None)],
        feeds=[site.url_for("/rss"), site.url_for("/missing")],
        schedule=parse_schedule(),
        per_host_delay=0.0,
    )
    with Store(str(cli.store)) as store:
        store.ensure()
        state = WatchState(str(cli.store / "revtrack" / "watch.sqlite"))
        statements: list[str] = []
        state.db.set_trace_callback(statements.append)
        report = run_pass(store, config, state)
        state.close()
    assert (report.changed, report.failed) == (3, 1)
    writes, open_transaction, commits = 0, False, 0
    for statement in statements:
        verb = statement.split()[0].upper()
        if verb == "BEGIN":
            open_transaction = True
        elif verb == "COMMIT":
            open_transaction, commits = False, commits + 1
        elif verb in ("INSERT", "UPDATE"):
            assert open_transaction, statement
            writes += 1
    assert commits == 2 and writes >= 3 + 1 + 3  # tracked urls, the feed, the checks


def test_a_failed_watch_state_transaction_changes_nothing(tmp_path: Path) -> None:

    state = WatchState(str(tmp_path / "watch.sqlite"))
    state.track("https://example.org/a", None, "config", 1.0)
    with pytest.raises(RuntimeError), state.transaction():
        state.track("https://example.org/b", None, "config", 2.0)
        raise RuntimeError("a pass interrupted")
    assert [status.url for status in state.statuses()] == ["https://example.org/a"]
    with state.transaction():  # and the connection is usable again
        state.track("https://example.org/c", None, "config", 3.0)
    assert len(state.statuses()) == 2
    state.close()


def _old_watch_state(path: Path) -> None:
    import sqlite3

    old = sqlite3.connect(path)
    old.execute(  # the table as the first watch release made it
        """CREATE TABLE urls (url TEXT PRIMARY KEY, article TEXT, origin TEXT, first_seen REAL NOT NULL,
           last_checked REAL, next_due REAL, last_error TEXT, checks INTEGER NOT NULL DEFAULT 0,
           changes INTEGER NOT NULL DEFAULT 0)"""
    )
    old.commit()
    old.close()


@pytest.mark.parametrize("old", [False, True], ids=["new-state", "state-of-the-first-release"])
def test_the_urls_due_are_looked_up_in_an_index_not_by_reading_every_url(tmp_path: Path, old: bool) -> None:
    """A pass's due URLs and the watcher's next wake: a scan of every URL ever tracked cost 7-8 ms each at 100,000."""

    path = tmp_path / "watch.sqlite"
    if old:
        _old_watch_state(path)
    state = WatchState(str(path))
    for number in range(50):
        state.track(f"https://example.org/{number}", None, "config", float(number))
    statements: list[str] = []
    state.db.set_trace_callback(statements.append)
    assert [item.url for item in state.due(9.5)] == [f"https://example.org/{number}" for number in range(10)]
    assert state.next_wake() == 0.0
    state.db.set_trace_callback(None)
    queries = [statement for statement in statements if statement.lstrip().startswith("SELECT")]
    assert len(queries) == 2
    for query in queries:
        plan = " ".join(row[3] for row in state.db.execute(f"EXPLAIN QUERY PLAN {query}"))
        assert "USING" in plan and "INDEX urls_by_next_due" in plan, plan
    state.close()


def test_an_up_to_date_watch_state_opens_while_a_pass_holds_its_write_lock(tmp_path: Path) -> None:
    """`watch --status` during a pass: opening writes nothing, so it does not wait (30 s, then an error)."""
    import sqlite3

    path = tmp_path / "watch.sqlite"
    WatchState(str(path)).close()
    with contextlib.closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as pass_in_progress:
        pass_in_progress.execute("BEGIN IMMEDIATE")
        pass_in_progress.execute("UPDATE urls SET checks = checks + 1")
        state = WatchState(str(path))
        assert state.statuses() == []
        state.close()
        pass_in_progress.execute("ROLLBACK")


def test_a_watch_state_upgraded_by_another_process_meanwhile_still_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two watchers (or a watcher and --status) opening an old state at once: the second finds it brought up to date.

    The other process upgrades the file between this one's look at its schema
    and its own upgrade (which then adds nothing twice).
    """
    import sqlite3

    path = tmp_path / "watch.sqlite"
    _old_watch_state(path)
    connect = sqlite3.connect

    class Raced:
        """A connection that another process's WatchState beats to the upgrade, once it has looked."""

        raced = False

        def __init__(self, *args: object, **kwargs: object) -> None:
            self.inner = connect(*args, **kwargs)  # type: ignore[arg-type]

        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            if sql.startswith("BEGIN IMMEDIATE") and not Raced.raced:
                Raced.raced = True
                WatchState(str(path)).close()  # through this class too: it must not race itself
            return self.inner.execute(sql, *args)

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

    monkeypatch.setattr(sqlite3, "connect", Raced)
    state = WatchState(str(path))
    monkeypatch.undo()
    assert Raced.raced
    state.track("https://example.org/a", None, "config", 1.0)
    assert state.due(2.0)[0].page_sha256 is None
    state.close()
    with contextlib.closing(sqlite3.connect(path)) as state:
        columns = {row[1] for row in state.execute("PRAGMA table_info(urls)")}
        made = {row[0] for row in state.execute("SELECT name FROM sqlite_master")}
    assert {"etag", "last_modified", "page_sha256", "gone_since"} <= columns
    assert {"feeds", "urls_by_next_due"} <= made


def test_a_watch_pass_extracts_pages_before_it_takes_the_write_lock(
    cli: Cli, site: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers fetch and extract; the batch (the store's write lock) only records what they extracted.

    On the in-thread path (extract_processes = 1), where a spy on the extractor can see the store;
    the processes' path is test_extracting_processes_record_what_the_watcher_would.
    """
    from revtrack import web
    from revtrack.store import Store
    from revtrack.watch import WatchConfig, run_pass

    for name in ("a", "b"):
        site.expect_request(f"/{name}").respond_with_data(page(1, site.url_for(f"/{name}")), content_type="text/html")
    extract = web.extract_article
    batch_open: list[bool] = []
    with Store(str(cli.store)) as store:

        def watched_extract(html: bytes | str, url: str | None = None) -> web.Extracted:
            batch_open.append(store._batch is not None)
            return extract(html, url)

        monkeypatch.setattr(web, "extract_article", watched_extract)
        store.ensure()
        state = WatchState(str(cli.store / "revtrack" / "watch.sqlite"))
        config = WatchConfig(
            articles=[(site.url_for("/a"), None), (site.url_for("/b"), None)], per_host_delay=0.0, extract_processes=1
        )
        config.schedule = parse_schedule()
        report = run_pass(store, config, state)
        state.close()
    assert report.changed == 2 and batch_open == [False, False]


def test_extracting_processes_record_what_the_watcher_would(
    tmp_path: Path, site: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """extract_processes = 2 records the same versions, and the same failures, as extracting in the watcher.

    A spy on the extractor in the watcher's process sees every page with 1, and none with 2: the
    pages were extracted in the workers (spawned, so the spy is not there).
    """
    from revtrack import web
    from revtrack.store import Store
    from revtrack.watch import WatchConfig, run_pass

    paths = [f"/news/{n}" for n in range(6)]
    for number, path in enumerate(paths):
        site.expect_request(path).respond_with_data(page(number % 3 + 1, site.url_for(path)), content_type="text/html")
    site.expect_request("/news/empty").respond_with_data("<html><body></body></html>", content_type="text/html")
    site.expect_request("/news/moved").respond_with_data("", status=301, headers={"Location": site.url_for("/")})
    site.expect_request("/").respond_with_data(_home_page(), content_type="text/html")
    extract = web.extract_article
    seen: list[str | None] = []

    def watched_extract(html: bytes | str, url: str | None = None) -> web.Extracted:
        seen.append(url)
        return extract(html, url)

    monkeypatch.setattr(web, "extract_article", watched_extract)
    at = time.time()
    recorded: dict[int, tuple[list[str], list[tuple[object, ...]]]] = {}
    for processes in (1, 2):
        config = WatchConfig(
            articles=[(site.url_for(path), None) for path in [*paths, "/news/empty", "/news/moved"]],
            schedule=parse_schedule(),
            per_host_delay=0.0,
            extract_processes=processes,
        )
        seen.clear()
        with Store(str(tmp_path / f"store-{processes}")) as store:
            store.ensure()
            state = WatchState(str(tmp_path / f"store-{processes}" / "revtrack" / "watch.sqlite"))
            try:
                report = run_pass(store, config, state, now=at)
            finally:
                state.close()
            versions = []
            for summary in store.articles():
                for revision in store.log(summary.article):
                    text = store.text(revision)
                    versions.append(
                        (revision.article, revision.rev, revision.url, revision.stated, text.title, text.body)
                    )
        assert (report.changed, report.failed) == (6, 2)
        assert len(seen) == (7 if processes == 1 else 0)  # six pages and the empty one; the redirect is refused first
        recorded[processes] = (sorted(report.lines), versions)
    assert recorded[1] == recorded[2]
    assert any("no article text found" in line for line in recorded[2][0])
    assert any("now redirects to the site's home page" in line for line in recorded[2][0])


def _slow_page(url: str) -> bytes:
    """A 2.5 MB page (~2 s to extract here), so that a worker can be stopped in the middle of it."""
    lines = "".join(f"<p>Entry {n} of a long live blog, with enough words to count as text.</p>" for n in range(30_000))
    return page(1, url).replace("</article>", lines + "</article>").encode("utf-8")


def _pool_workers() -> list[int]:
    import multiprocessing

    return [child.pid for child in multiprocessing.active_children() if child.pid is not None]


def test_a_worker_that_dies_fails_its_page_and_the_next_page_gets_a_new_pool() -> None:
    """A crash in a page's parser, or the out-of-memory killer, as a SIGKILL to the worker mid-extraction."""
    import os
    import signal

    from revtrack.errors import ExtractionSuspect
    from revtrack.extractors import ExtractorPool
    from revtrack.snapshotting import SnapshotRequest
    from revtrack.web import Page

    url = "https://example.org/news/a"
    request = SnapshotRequest(source=url, article="a", at="2026-11-27T03:00:00+00:00")
    small = Page(url, page(1, url).encode("utf-8"), "text/html")
    with ExtractorPool(1 + 1) as pool:
        assert pool.submit(request, small).result(timeout=60).title.startswith("Coalition says")
        workers = _pool_workers()
        assert workers
        slow = pool.submit(request, Page(url, _slow_page(url), "text/html"))
        time.sleep(0.5)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(ExtractionSuspect, match="the process extracting https://example.org/news/a ended abruptly"):
            slow.result(timeout=60)
        again = pool.submit(request, small).result(timeout=60)
        assert again.title.startswith("Coalition says") and not set(workers) & set(_pool_workers())


def test_pages_wait_for_the_extracting_workers_two_a_worker_not_all_in_memory() -> None:
    """A fetch thread that finds every worker with two pages waiting holds its next page until one is done."""
    from revtrack.extractors import ExtractorPool
    from revtrack.snapshotting import SnapshotRequest
    from revtrack.web import Page

    url = "https://example.org/news/a"
    request = SnapshotRequest(source=url, article="a", at="2026-11-27T03:00:00+00:00")
    fetched = Page(url, page(1, url).encode("utf-8"), "text/html")
    with ExtractorPool(2) as pool:
        waiting = [pool.submit(request, fetched) for _ in range(4)]  # the workers are still starting
        assert not any(future.done() for future in waiting)
        fifth = pool.submit(request, fetched)
        assert any(future.done() for future in waiting)
        assert {future.result(timeout=60).body for future in [*waiting, fifth]} == {waiting[0].result().body}


def test_ctrl_c_in_the_terminal_does_not_break_the_extracting_workers() -> None:
    """SIGINT reaches every process of the terminal's group; the watcher stops its workers itself."""
    import os
    import signal

    from revtrack.extractors import ExtractorPool
    from revtrack.snapshotting import SnapshotRequest
    from revtrack.web import Page

    url = "https://example.org/news/a"
    request = SnapshotRequest(source=url, article="a", at="2026-11-27T03:00:00+00:00")
    with ExtractorPool(2) as pool:
        first = pool.submit(request, Page(url, page(1, url).encode("utf-8"), "text/html")).result(timeout=60)
        workers = _pool_workers()
        for pid in workers:
            os.kill(pid, signal.SIGINT)
        time.sleep(0.5)
        second = pool.submit(request, Page(url, page(2, url).encode("utf-8"), "text/html")).result(timeout=60)
        assert first.body != second.body and set(workers) == set(_pool_workers())


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the workers' signal masks from /proc")
def test_a_worker_holds_sigint_back_from_its_start_until_it_ignores_it() -> None:
    """A Ctrl-C while a worker was still starting Python printed "Fatal Python error" and a traceback."""
    import os
    import signal

    from revtrack.extractors import ExtractorPool
    from revtrack.snapshotting import SnapshotRequest
    from revtrack.web import Page

    def held_back(pid: int) -> bool:  # SIGINT (signal 2: bit 1) blocked or ignored
        status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        return bool((int(status["SigBlk"], 16) | int(status["SigIgn"], 16)) & 1 << (signal.SIGINT - 1))

    url = "https://example.org/news/a"
    request = SnapshotRequest(source=url, article="a", at="2026-11-27T03:00:00+00:00")
    fetched = Page(url, page(1, url).encode("utf-8"), "text/html")
    with ExtractorPool(2) as pool:
        started = pool.submit(request, fetched)
        workers = _pool_workers()  # at once: Python is still starting in them
        assert workers and all(held_back(pid) for pid in workers)
        started.result(timeout=60)
        assert all(held_back(pid) for pid in workers)  # and ignored once started
    assert not held_back(os.getpid())  # the import or watcher itself still stops at Ctrl-C


def test_a_recorded_page_that_answers_404_or_410_is_gone_until_it_comes_back(cli: Cli, site: HTTPServer) -> None:
    """Not a failure but news: the page was taken down. Its versions stay; the watch keeps checking."""
    web = ConditionalSite(site)
    web.serve("/a", page(1, site.url_for("/a")), etag='"a1"')
    site.expect_request("/never").respond_with_data("no such page", status=404)
    urls = [site.url_for("/a"), site.url_for("/never")]
    start = time.time()
    first = _watch_pass(cli.store, urls, start)
    assert (first.changed, first.gone, first.failed) == (1, 0, 1)  # never recorded: a plain failure
    site.clear()
    site.expect_request("/a").respond_with_data("taken down", status=410)
    site.expect_request("/never").respond_with_data("no such page", status=404)
    removed = _watch_pass(cli.store, urls, start + 3600)
    assert (removed.gone, removed.failed) == (1, 1)
    assert any(line.startswith(f"gone: {site.url_for('/a')}: HTTP 410") for line in removed.lines)
    site.clear()
    site.expect_request("/a").respond_with_data("not found", status=404)
    site.expect_request("/never").respond_with_data("no such page", status=404)
    again = _watch_pass(cli.store, urls, start + 7200)
    assert again.gone == 1 and not any(line.startswith("gone:") for line in again.lines)  # said once
    status = {item["url"]: item for item in json.loads(cli("watch", "--status", "--format", "json").stdout)["urls"]}
    gone_since = datetime.fromisoformat(status[site.url_for("/a")]["gone_since"])
    assert gone_since.timestamp() == int(start + 3600) and status[site.url_for("/never")]["gone_since"] is None
    assert "gone since" in cli("watch", "--status").stdout
    counts = json.loads(cli("watch", "--status", "--format", "json").stdout)["counts"]
    assert (counts["failing"], counts["gone"]) == (2, 1)
    assert _revisions(cli, "localhost/a") == 1  # the recorded version stays
    # Back with the copy recorded before (a 304 to its ETag): no longer gone.
    site.clear()
    web = ConditionalSite(site)
    web.serve("/a", page(1, site.url_for("/a")), etag='"a1"')
    back = _watch_pass(cli.store, urls[:1], start + 9000)
    assert (back.gone, back.not_modified) == (0, 1) and web.sent("/a")[-1] == ('"a1"', None, 304)
    assert any(line.startswith(f"back: {site.url_for('/a')} (gone since ") for line in back.lines)
    status = {item["url"]: item for item in json.loads(cli("watch", "--status", "--format", "json").stdout)["urls"]}
    assert status[site.url_for("/a")]["gone_since"] is None and status[site.url_for("/a")]["last_error"] is None
    assert cli("watch", "--status", "--failing").stdout.splitlines()[1].startswith(site.url_for("/never"))


def test_watch_once_exits_7_only_when_every_check_failed(cli: Cli, site: HTTPServer, tmp_path: Path) -> None:
    site.expect_request("/a").respond_with_data(page(1, site.url_for("/a")), content_type="text/html")
    config = tmp_path / "watch.toml"
    settings = '[settings]\nper_host_delay = 0\nschedule = [["1d", "0s"]]\n'  # due again at once
    down = '[[article]]\nurl = "http://127.0.0.1:9/nothing"\n\n'  # fails every time
    config.write_text(f'[[article]]\nurl = "{site.url_for("/a")}"\n\n{down}{settings}timeout = 2\n')
    assert cli("watch", "--once", "--config", str(config)).exit_code == 0
    site.clear()
    site.expect_request("/a").respond_with_data("removed", status=410)
    taken_down = cli("watch", "--once", "--config", str(config))
    assert taken_down.exit_code == 0 and f"gone: {site.url_for('/a')}: HTTP 410" in taken_down.stdout
    assert "failed: http://127.0.0.1:9/nothing" in taken_down.stdout  # the server that answered counts
    unreachable = tmp_path / "down.toml"
    unreachable.write_text(f"{down}{settings}timeout = 2\n")
    down = cli("watch", "--once", "--config", str(unreachable), env={"REVTRACK_STORE": str(tmp_path / "other")})
    assert down.exit_code == 7 and "failed: http://127.0.0.1:9/nothing" in down.stdout


def _paced_site(site: HTTPServer, count: int) -> tuple[list[str], list[float]]:
    """``count`` pages on one host, and the moments (time.monotonic) the server began answering each request."""
    arrivals: list[float] = []
    urls = [site.url_for(f"/p{number}") for number in range(count)]

    def answer(request: Request) -> Response:
        arrivals.append(time.monotonic())
        return Response(page(1 + int(request.path[2:]) % 3, site.url_for(request.path)), content_type="text/html")

    for number in range(count):
        site.expect_request(f"/p{number}").respond_with_handler(answer)
    return urls, arrivals


def test_a_pass_longer_than_record_every_records_as_it_goes_and_stays_polite(cli: Cli, site: HTTPServer) -> None:
    """A host's pages come per_host_delay apart, so a long list on one site spans minutes: each round's
    versions are written when the round ends (here after 0.5 s: a page or two), not all at the end."""
    from revtrack.store import Store
    from revtrack.watch import WatchConfig, run_pass

    urls, arrivals = _paced_site(site, 5)
    config = WatchConfig(
        articles=[(url, None) for url in urls], per_host_delay=0.3, extract_processes=1, record_every=0.5
    )
    config.schedule = parse_schedule()
    said: list[str] = []
    with Store(str(cli.store)) as store:
        store.ensure()
        state = WatchState(str(cli.store / "revtrack" / "watch.sqlite"))
        report = run_pass(store, config, state, say=said.append)
        state.close()
    assert (report.checked, report.changed, report.failed) == (5, 5, 0), report.lines
    moves = subprocess.run(["git", "--git-dir", str(cli.store), "reflog", "main"], capture_output=True, text=True)
    batches = [line for line in moves.stdout.splitlines() if "in one batch" in line]
    assert 2 <= len(batches) <= 5, moves.stdout  # rounds of one or two pages (in-thread extraction takes time too)
    assert said == [f"changed: localhost/p{number} rev 1" for number in range(5)]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    assert len(arrivals) == 5 and min(gaps) >= 0.3, gaps  # across rounds too


def _pass_with_a_bug(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, urls: list[str], broken: str, **settings: Any
) -> dict[str, int]:
    """A pass over ``urls`` whose extraction of ``broken`` has a bug (in this process); each URL's checks after."""
    from revtrack import extractors
    from revtrack.store import Store
    from revtrack.watch import WatchConfig, run_pass

    prepare = extractors.prepare

    def failing_prepare(request, page):  # type: ignore[no-untyped-def]
        if request.source == broken:
            raise RuntimeError("a bug in extraction")
        return prepare(request, page)

    monkeypatch.setattr(extractors, "prepare", failing_prepare)
    config = WatchConfig(articles=[(url, None) for url in urls], extract_processes=1, **settings)
    config.schedule = parse_schedule()
    with Store(str(cli.store)) as store:
        store.ensure()
        state = WatchState(str(cli.store / "revtrack" / "watch.sqlite"))
        with pytest.raises(RuntimeError, match="a bug in extraction"):
            run_pass(store, config, state)
        checks = {status.url: status.checks for status in state.statuses()}
        state.close()
    return checks


def test_a_pass_that_breaks_keeps_the_rounds_it_recorded(
    cli: Cli, site: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (or Ctrl-C) in a pass's second round loses that round, not the first one's versions and checks."""
    urls, _ = _paced_site(site, 4)
    checks = _pass_with_a_bug(cli, monkeypatch, urls, urls[3], per_host_delay=0.3, record_every=0.5)
    kept = sorted(url.rsplit("/", 1)[1] for url, count in checks.items() if count)
    assert checks[urls[0]] == 1 and checks[urls[3]] == 0 and set(checks.values()) == {0, 1}, checks
    listed = json.loads(cli("list", "--format", "json").stdout)["articles"]
    assert sorted(article["article"] for article in listed) == [f"localhost/{name}" for name in kept]


def test_a_pass_that_breaks_stops_every_host_worker_soon(
    cli: Cli, site: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C, or a bug in one worker, must not wait for every page still due on the other hosts.

    The bug is put into extraction in the watcher's process (extract_processes = 1); in a worker
    process it reaches the watcher the same way, through the page's future.
    """
    broken = site.url_for("/a").replace("localhost", "127.0.0.1")  # a host of its own
    slow = [site.url_for(f"/b{number}") for number in range(20)]  # a second host, a page every 0.2 s
    for url in [broken, *slow]:
        path = url.split(str(site.port), 1)[1]
        site.expect_request(path).respond_with_data(page(1, url), content_type="text/html")
    _pass_with_a_bug(cli, monkeypatch, [broken, *slow], broken, per_host_delay=0.2)
    served = [request.path for request, _ in site.log if request.path.startswith("/b")]
    assert 1 <= len(served) < 5, served


def test_a_damaged_watch_state_is_one_error_line_and_stays_as_it_was(cli: Cli, tmp_path: Path) -> None:
    state = cli.store / "revtrack" / "watch.sqlite"
    state.parent.mkdir(parents=True)
    damaged = b"not a database: a disk error wrote this over the watcher's state " * 4
    state.write_bytes(damaged)
    config = tmp_path / "watch.toml"
    config.write_text('[[article]]\nurl = "http://127.0.0.1:9/nothing"\n')
    for args in (["watch", "--status"], ["watch", "--once", "--config", str(config)]):
        result = cli(*args)
        assert result.exit_code == 6, result.output
        assert result.stderr.startswith("Error: ") and "is not a readable watch state" in result.stderr
        assert result.stderr.count("\n") == 1
    assert state.read_bytes() == damaged


@pytest.mark.parametrize("entry", ["python -m revtrack", "the revtrack script"])
def test_watch_from_the_command_line_extracts_in_spawned_workers(site: HTTPServer, tmp_path: Path, entry: str) -> None:
    """A spawned worker starts by importing the watcher's main module: both ways of running revtrack allow it."""
    import sys

    for number in range(4):
        site.expect_request(f"/p{number}").respond_with_data(
            page(1 + number % 3, site.url_for(f"/p{number}")), content_type="text/html"
        )
    config, store = tmp_path / "watch.toml", tmp_path / "store"
    config.write_text(
        "".join(f'[[article]]\nurl = "{site.url_for(f"/p{n}")}"\n\n' for n in range(4))
        + "[settings]\nextract_processes = 2\nper_host_delay = 0\n"
    )
    script = Path(sys.executable).parent / "revtrack"
    program = [sys.executable, "-m", "revtrack"] if entry.startswith("python") else [str(script)]
    ran = subprocess.run(
        [*program, "--store", str(store), "watch", "--once", "--config", str(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (ran.returncode, ran.stderr) == (0, ""), ran.stderr
    assert sorted(line.split(" rev ")[0] for line in ran.stdout.splitlines() if line.startswith("changed:")) == [
        f"changed: localhost/p{n}" for n in range(4)
    ]
    counted = subprocess.run(["git", "--git-dir", str(store), "rev-list", "--count", "main"], capture_output=True)
    assert int(counted.stdout) == 4


def _session_processes(session: int) -> list[str]:
    """Command lines of the live processes in a session (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(command)
    return found


def _interrupt(group: subprocess.Popen[str], under_way: Callable[[], bool]) -> None:
    """Ctrl-C to a revtrack process's group once ``under_way()``: exit 130, nothing on stderr, no process left."""
    import os
    import signal

    try:
        assert under_way()
        os.killpg(group.pid, signal.SIGINT)
        _, err = group.communicate(timeout=60)
    finally:
        group.kill()
    assert (group.returncode, err) == (130, ""), err
    deadline = time.monotonic() + 10
    while _session_processes(group.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session_processes(group.pid) == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the processes from Linux's /proc")
def test_ctrl_c_in_the_middle_of_a_watch_pass_exits_130_and_leaves_no_worker(site: HTTPServer, tmp_path: Path) -> None:
    """Ctrl-C reaches the watcher and its workers (one process group): no traceback, no process left, no write."""
    import sys
    import threading

    asked = threading.Semaphore(0)

    def answer(request: Request) -> Response:
        asked.release()
        return Response(page(1, request.url), content_type="text/html")

    for number in range(60):
        site.expect_request(f"/p{number}").respond_with_handler(answer)
    config, store = tmp_path / "watch.toml", tmp_path / "store"
    config.write_text(
        "".join(f'[[article]]\nurl = "{site.url_for(f"/p{n}")}"\n\n' for n in range(60))
        + "[settings]\nextract_processes = 2\nper_host_delay = 0.05\n"
    )
    watcher = subprocess.Popen(
        [sys.executable, "-m", "revtrack", "--store", str(store), "watch", "--once", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    # Under way once four pages are fetched: workers extracting.
    _interrupt(watcher, lambda: all(asked.acquire(timeout=60) for _ in range(4)))
    assert not (store / "refs" / "heads" / "main").exists()  # a round (here the whole pass) records once it is in


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the processes from Linux's /proc")
def test_ctrl_c_after_a_round_of_a_watch_pass_keeps_that_round(site: HTTPServer, tmp_path: Path) -> None:
    """The rounds recorded before Ctrl-C stay, with their checks noted; the store checks clean."""
    import sys

    urls, _ = _paced_site(site, 30)
    config, store = tmp_path / "watch.toml", tmp_path / "store"
    config.write_text(
        "".join(f'[[article]]\nurl = "{url}"\n\n' for url in urls)
        + "[settings]\nextract_processes = 2\nper_host_delay = 0.2\nrecord_every = 0.5\n"
    )
    watcher = subprocess.Popen(
        [sys.executable, "-m", "revtrack", "--store", str(store), "watch", "--once", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip

    def checked() -> list[str]:
        state = WatchState(str(store / "revtrack" / "watch.sqlite"))
        try:
            return [status.url for status in state.statuses() if status.checks]
        finally:
            state.close()

    def first_round_noted() -> bool:  # recorded, and its checks noted in the watch state
        deadline = time.monotonic() + 60
        while not ((store / "revtrack" / "watch.sqlite").exists() and checked()) and time.monotonic() < deadline:
            time.sleep(0.01)
        return watcher.poll() is None

    _interrupt(watcher, first_round_noted)
    command = [sys.executable, "-m", "revtrack", "--store", str(store), "list", "--format", "json"]
    listed = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)["articles"]
    recorded = {f"{site.url_for('/')}{article['article'].split('/', 1)[1]}" for article in listed}
    # Every page noted as checked was recorded (one a Ctrl-C caught between the two may be recorded, not noted).
    assert len(checked()) >= 1 and set(checked()) <= recorded and len(recorded) < 30, (checked(), recorded)
    assert subprocess.run(["git", "--git-dir", str(store), "fsck", "--strict"], capture_output=True).returncode == 0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the processes from Linux's /proc")
def test_ctrl_c_in_the_middle_of_an_import_of_pages_exits_130_and_leaves_no_worker(tmp_path: Path) -> None:
    """As for a watch pass: the import and its extracting workers stop, nothing on stderr, nothing recorded."""
    import sys

    canonical = "https://example.org/story"
    records = [
        {"article": f"a{n}", "observed_at": _CAPTURED[0], "html": page(1 + n % 3, canonical)} for n in range(400)
    ]
    stream, store = _jsonl(tmp_path / "pages.jsonl", records), tmp_path / "store"
    importer = subprocess.Popen(
        [sys.executable, "-m", "revtrack", "--store", str(store), "import", str(stream), "--processes", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip

    def workers_started() -> bool:  # the import, its resource tracker, a worker (still starting, most often)
        deadline = time.monotonic() + 60
        while len(_session_processes(importer.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        return importer.poll() is None

    _interrupt(importer, workers_started)
    assert not (store / "refs" / "heads" / "main").exists()


@pytest.mark.slow
def test_a_watch_pass_the_file_system_refuses_anywhere_is_one_error_line_and_keeps_its_state(
    site: HTTPServer, tmp_path: Path
) -> None:
    """A file size limit (as a full disk would) from 6 KB to 192 KB stops a first watch pass at each write.

    Each stop is one Error line with exit 6. A watch state SQLite cannot write
    is reported as such: not called unreadable with advice to move it aside,
    which would throw away its schedules and first sightings. The next pass
    without the limit records all six pages, and the store checks clean.
    The limits fall midway between whole frames of SQLite's write-ahead log
    (32 bytes, then 4,120 a page): the watch state's schema takes 8 frames,
    its first transaction the 9th, the index's schema then follows.
    """
    import resource
    import sys

    for number in range(6):
        site.expect_request(f"/p{number}").respond_with_data(
            page(1 + number % 3, site.url_for(f"/p{number}")), content_type="text/html"
        )
    complaints = []
    for limit in [32 + 4_120 * frames + 2_060 for frames in (1, 7, 8, 9, 16, 32, 46)]:
        store, config = tmp_path / f"store-{limit}", tmp_path / f"watch-{limit}.toml"
        config.write_text("".join(f'[[article]]\nurl = "{site.url_for(f"/p{n}")}"\n\n' for n in range(6)))
        command = [sys.executable, "-m", "revtrack", "--store", str(store), "watch", "--once", "--config", str(config)]
        refused = subprocess.run(
            command, capture_output=True, text=True,
            preexec_fn=lambda limit=limit: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)),
        )  # fmt: skip
        if refused.returncode == 0:
            complaints.append("none")
        else:
            assert refused.returncode == 6, refused.stderr
            assert refused.stderr.startswith("Error: ") and refused.stderr.count("\n") == 1, refused.stderr
            assert "move it aside" not in refused.stderr
            complaints.append(refused.stderr.split(" /")[0].split(" (")[0])
        assert subprocess.run(command, capture_output=True).returncode == 0
        counted = subprocess.run(["git", "--git-dir", str(store), "rev-list", "--count", "main"], capture_output=True)
        assert int(counted.stdout) == 6
        assert subprocess.run([*command[:5], "check"], capture_output=True).returncode == 0
    expected = {"Error: cannot open the watch state", "Error: cannot write the watch state",
                "Error: the index could not record the batch", "none"}  # fmt: skip
    assert expected <= set(complaints), complaints


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ("settings = 5", "settings must be a table"),
        ("article = 5", "article must be [[article]] tables"),
        ("[settings]\ntimeout = nan", "timeout must be a number from 0.001 to 86,400 (got nan)"),
        ("[settings]\ntimeout = 1e300", "timeout must be a number"),  # past time_t in the socket layer
        ("[settings]\ntimeout = inf", "timeout must be a number"),
        ("[settings]\ntimeout = 0", "timeout must be a number"),
        ("[settings]\nper_host_delay = inf", "per_host_delay must be a number from 0 to 3,600"),
        ("[settings]\nper_host_delay = nan", "per_host_delay must be a number"),
        ("[settings]\nconcurrency = inf", "concurrency must be a number from 1 to 1,024"),
        ("[settings]\nconcurrency = 99999999999999999999", "concurrency must be a number"),
        ('[settings]\nconcurrency = "4"', "concurrency must be a number"),
        ("[settings]\nextract_processes = 0", "extract_processes must be a number from 1 to 64"),
        ("[settings]\nextract_processes = 65", "extract_processes must be a number from 1 to 64"),
        ("[settings]\nextract_processes = true", "extract_processes must be a number"),
        ("[settings]\nrecord_every = -1", "record_every must be a number from 0 to 86,400"),
        ("[settings]\nrecord_every = inf", "record_every must be a number from 0 to 86,400"),
        ('[settings]\nschedule = [["99999999999999999999h", "1m"]]', "longer than a century"),
        ('[settings]\nschedule = [["3h"]]', "bad [settings]"),
        ('[[article]]\nurl = "https://example.org/a"\nid = 5', "the id must be a string, not 5"),
        ('[[article]]\nurl = "https://example.org/a"\nid = "../x"', "'..'"),
    ],
)
def test_a_watch_list_with_a_setting_out_of_range_is_refused_when_read(tmp_path: Path, toml: str, says: str) -> None:
    """Each of these reached the fetcher, the clock or the thread pool as a traceback, or failed every pass."""
    config = tmp_path / "watch.toml"
    config.write_text(toml + ('\n\n[[feed]]\nurl = "https://example.org/rss"\n' if "[[article]]" not in toml else ""))
    with pytest.raises(InvalidInput) as refused:
        load_config(str(config))
    assert str(refused.value).startswith(f"{config}: ") and says in str(refused.value)


def test_a_watch_list_within_range_is_read_as_written(tmp_path: Path) -> None:
    config = tmp_path / "watch.toml"
    config.write_text(
        '[[article]]\nurl = "https://example.org/a"\nid = "site/a"\n\n'
        "[settings]\ntimeout = 5\nper_host_delay = 0\nconcurrency = 2\nextract_processes = 3\nrecord_every = 30\n"
        'schedule = [["1d", "2h"]]\n'
    )
    read = load_config(str(config))
    assert (read.timeout, read.per_host_delay, read.concurrency, read.extract_processes) == (5.0, 0.0, 2, 3)
    assert read.record_every == 30.0
    assert read.articles == [("https://example.org/a", "site/a")]
    assert read.schedule == [(timedelta(days=1), timedelta(hours=2))]


def _home_page() -> str:
    links = "".join(f'<li><a href="/news/{n}">Story {n} of the day, with a long headline</a></li>' for n in range(30))
    return f"<html><head><title>Example News</title></head><body><h1>Example News</h1><ul>{links}</ul></body></html>"


def test_a_page_that_now_redirects_to_the_sites_home_page_is_gone_not_a_new_version(cli: Cli, site: HTTPServer) -> None:
    """A site's usual answer for an article it took down (a "soft 404") is a redirect to its home page. That
    page is not the article's next version: `snapshot` refuses it (exit 7, --force records it), and `watch`
    keeps the article as gone, as for a 404, until the article answers again."""
    story = site.url_for("/news/story")
    site.expect_request("/news/story").respond_with_data(page(1, story), content_type="text/html")
    first = _watch_pass(cli.store, [story], time.time())
    assert first.changed == 1
    site.clear()
    site.expect_request("/news/story").respond_with_data("", status=301, headers={"Location": site.url_for("/")})
    site.expect_request("/").respond_with_data(_home_page(), content_type="text/html")
    refused = cli("snapshot", story, "--article", "localhost/news/story")
    assert refused.exit_code == 7, refused.output
    assert refused.stderr.startswith(f"Error: {story} now redirects to the site's home page ({site.url_for('/')})")
    taken_down = _watch_pass(cli.store, [story], time.time() + 3600)
    assert (taken_down.gone, taken_down.changed, taken_down.failed) == (1, 0, 0)
    assert any(line.startswith(f"gone: {story}: {story} now redirects to the site") for line in taken_down.lines)
    assert _revisions(cli, "localhost/news/story") == 1
    forced = cli("snapshot", story, "--article", "localhost/news/story", "--force")
    assert forced.exit_code == 0 and _revisions(cli, "localhost/news/story") == 2


def test_a_redirect_to_another_page_deeper_in_the_site_is_followed_as_before() -> None:
    from revtrack.snapshotting import redirected_home

    assert redirected_home("https://example.org/news/a", "https://example.org/")
    assert redirected_home("https://example.org/news/a", "https://www.example.org/?from=404")
    assert not redirected_home("https://example.org/news/a", "https://example.org/news/a-new-slug")
    assert not redirected_home("https://example.org/", "https://example.org/")  # the home page itself, tracked
    assert not redirected_home("https://example.org/?p=123", "https://example.org/2024/01/slug/")
