"""Snapshots from the web: a real HTTP server on 127.0.0.1 serves pages and feeds (never the internet)."""

from __future__ import annotations

import gzip
import html
import json
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bench.extraction import score
from revtrack.ingest import parse_document
from revtrack.watch import DEFAULT_SCHEDULE, next_interval, parse_duration
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
    assert summary[0].split() == ["checked", "changed", "unchanged", "failed"] and summary[1].split() == [
        "4",
        "3",
        "0",
        "1",
    ]
    listed = {a["article"] for a in json.loads(cli("list", "--format", "json").stdout)["articles"]}
    assert listed == {"first", "localhost/two", "localhost/three"}
    # The pass recorded its three versions as one write: three commits, one move of the branch.
    moves = (cli.store / "logs" / "refs" / "heads" / "main").read_text().splitlines()
    assert [line.split("\t")[1] for line in moves] == ["revtrack snapshot: 3 versions in one batch"]
    # State survives: nothing is due again straight away, so a second pass checks nothing.
    again = cli("watch", "--once", "--config", str(config))
    assert "changed" not in again.stdout.split("watch pass")[0]
    import sqlite3

    rows = (
        sqlite3.connect(cli.store / "revtrack" / "watch.sqlite")
        .execute("SELECT url, checks, changes, last_error IS NOT NULL FROM urls ORDER BY url")
        .fetchall()
    )
    assert len(rows) == 4 and all(checks == 1 for _, checks, _, _ in rows)
    assert sum(changes for _, _, changes, _ in rows) == 3 and sum(err for *_, err in rows) == 1


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
    schedule = sorted((parse_duration(a), parse_duration(b)) for a, b in DEFAULT_SCHEDULE)
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
