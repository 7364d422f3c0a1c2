"""The ``revtrack`` command: parse options, call the library, render, map errors to exit codes.

Only typer is imported at start-up; each command imports what it needs, so read
commands never load GitPython (see bench/RESULTS.md for the start-up figures).
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import typer

from revtrack import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from revtrack.importer import ImportReport, ReadAhead
    from revtrack.model import Revision, Snapshot
    from revtrack.store import Store


class _ReportErrors(typer.core.TyperGroup):
    """Turn library errors into one ``Error: ...`` line on stderr and the error's exit code."""

    def invoke(self, ctx: Any) -> object:  # a click context (typer's own Context type is narrower)
        from revtrack.errors import RevtrackError

        try:
            return super().invoke(ctx)
        except RevtrackError as error:
            from revtrack.render.safe import visible

            typer.echo(f"Error: {visible(str(error))}", err=True)
            raise typer.Exit(error.exit_code) from None
        except BrokenPipeError:
            raise  # the reader went away: main() ends quietly
        except OSError as error:
            # The file system refused a read or write (a full disk, a size limit,
            # permissions). Writes are atomic, so the store holds each version whole
            # or not at all; `revtrack check` confirms it.
            where = f" ({error.filename})" if error.filename else ""
            _refused(f"{error.strerror or error}{where}")
        except Exception as error:
            # What the library does not catch of SQLite's refusals (a full disk as a
            # search moves the queued words into the full-text index, say): the same
            # as an OSError.
            import sqlite3

            from revtrack.index import refused

            if not (isinstance(error, sqlite3.Error) and refused(error)):
                raise
            _refused(f"{error} (SQLite)")
        finally:
            while _State.opened:
                _State.opened.pop().close()


def _refused(what: str) -> NoReturn:
    """The file system refused a write: one Error line, exit 6 (a store problem)."""
    from revtrack.errors import StoreError
    from revtrack.render.safe import visible

    typer.echo(f"Error: {visible(what)}; run 'revtrack check' to confirm the store", err=True)
    raise typer.Exit(StoreError.exit_code) from None


app = typer.Typer(
    cls=_ReportErrors,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Record every version of a news article in git and show what changed, and when.",
    epilog="Exit codes: 0 ok, 1 no match, 2 usage, 3 not found, 4 invalid input, 5 store locked, "
    "6 store problem, 7 fetch failed, 8 extraction suspect. See README.md.",
)


class TextOrJson(str, Enum):
    text = "text"
    json = "json"


class TableOrJson(str, Enum):
    table = "table"
    json = "json"


class DiffFormat(str, Enum):
    terminal = "terminal"
    json = "json"
    html = "html"


class ColorChoice(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


class _State:
    store_path: str = "snapshots"
    lock_timeout: float = 30.0
    opened: list[Store] = []


def _version(value: bool) -> None:
    if value:
        typer.echo(f"revtrack {__version__}")
        raise typer.Exit()


def _wait_seconds(value: float) -> float:
    """``--lock-timeout``: 0 or more seconds; ``inf`` waits as long as it takes (NaN would pass ``min=0``)."""
    if not value >= 0:
        raise typer.BadParameter("must be 0 or more seconds (inf: wait as long as it takes)")
    return value


def _fetch_seconds(value: float) -> float:
    """``--timeout``: more than 0 seconds and at most :data:`revtrack.web.LONGEST_FETCH`."""
    from revtrack.web import LONGEST_FETCH

    if not 0 < value <= LONGEST_FETCH:
        raise typer.BadParameter(f"must be more than 0 and at most {LONGEST_FETCH:,.0f} seconds")
    return value


@app.callback()
def _global(
    store: str = typer.Option(
        "snapshots", "--store", envvar="REVTRACK_STORE", help="Store folder (a bare git repository).", show_default=True
    ),
    lock_timeout: float = typer.Option(
        30.0, "--lock-timeout", callback=_wait_seconds, help="Seconds to wait for another writer (inf: no limit)."
    ),
    version: bool | None = typer.Option(None, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Record every version of a news article in git and show what changed, and when."""
    _State.store_path = store
    _State.lock_timeout = lock_timeout


def _store() -> Store:
    """The store named by --store, closed (index, git processes) when the command ends."""
    from revtrack.store import Store

    store = Store(_State.store_path, lock_timeout=_State.lock_timeout, notify=_note)
    _State.opened.append(store)
    return store


def _emit_json(data: object) -> None:
    from revtrack.render.safe import to_json

    sys.stdout.write(to_json(data) + "\n")


def _note(message: str) -> None:
    from revtrack.render.safe import visible

    sys.stderr.write(f"note: {visible(message)}\n")


def _note_cut(shown: int, total: int, what: str = "articles", order: str = "id") -> None:
    """The note under a table that ``--limit`` cut (``list``, ``search``, ``watch --status``)."""
    if total > shown:
        _note(f"{shown} of {total:,} {what} shown (by {order}); --limit 0 shows all")


def _warn(message: str) -> None:
    from revtrack.render.safe import visible

    sys.stderr.write(f"Warning: {visible(message)}\n")


# --- snapshot ---------------------------------------------------------------------


@app.command(
    epilog="Examples:  revtrack snapshot seeds/rudaw-coalition-ceasefire/v1.txt --article rudaw "
    "--at 2017-10-27T11:48:00+03:00   |   curl -s URL | revtrack snapshot - --html --url URL"
)
def snapshot(
    source: str = typer.Argument(..., help="A file, '-' for standard input, or an http(s) URL to fetch."),
    article: str | None = typer.Option(None, "--article", help="Article id (default: from --url or the file name)."),
    url: str | None = typer.Option(None, "--url", help="The article's URL (kept in the record)."),
    title: str | None = typer.Option(None, "--title", help="Headline; then the whole input is the body."),
    at: str | None = typer.Option(None, "--at", help="Observed time, ISO 8601 with offset (default: now)."),
    output: TextOrJson = typer.Option(TextOrJson.text, "--format", help="Output format."),
    encoding: str = typer.Option("utf-8", "--encoding", help="Encoding of the input text."),
    max_bytes: int = typer.Option(
        20 * 1024 * 1024, "--max-bytes", min=1, max=2**40, help="Refuse inputs larger than this."
    ),
    html: bool = typer.Option(
        False, "--html", help="The input is an HTML page: extract the article (implied for a .html/.htm file)."
    ),
    keep_html: bool = typer.Option(False, "--keep-html", help="Also store the HTML page in the revision."),
    force: bool = typer.Option(False, "--force", help="Record even when extraction lost most of the text."),
    timeout: float = typer.Option(20.0, "--timeout", callback=_fetch_seconds, help="Fetch: seconds before giving up."),
) -> None:
    """Record a version of an article (prints the new revision, or 'unchanged since rev N')."""
    from revtrack.snapshotting import SnapshotRequest, take_snapshot

    request = SnapshotRequest(
        source=source, article=article, url=url, title=title, at=at, encoding=encoding, max_bytes=max_bytes,
        html=html, keep_html=keep_html, force=force, timeout=timeout,
    )  # fmt: skip
    result, notes = take_snapshot(_store(), request)
    for note in notes:
        _warn(note)
    if output == TextOrJson.json:
        from revtrack.render.jsonout import snapshot_json

        _emit_json(snapshot_json(result))
    elif result.changed:
        typer.echo(f"{result.article}: recorded rev {result.rev} ({result.observed_at}, commit {result.commit[:10]})")
    elif result.repeat:
        typer.echo(f"{result.article}: already recorded as rev {result.rev} ({result.observed_at})")
    else:
        typer.echo(f"{result.article}: unchanged since rev {result.rev}")


@app.command(
    "import", epilog="Examples:  revtrack import seeds/rudaw-coalition-ceasefire   |   revtrack import versions.jsonl"
)
def import_command(
    source: str = typer.Argument(
        ..., help="A folder with versions.tsv, a .jsonl file, or '-' for JSON lines on stdin."
    ),
    article: str | None = typer.Option(None, "--article", help="Article id for a folder (default: the folder name)."),
    output: TextOrJson = typer.Option(TextOrJson.text, "--format", help="Output format."),
    processes: int | None = typer.Option(
        None,
        "--processes",
        min=1,
        max=64,
        help="Worker processes extracting pages (.html files, html records) [default: the cores, at most 4].",
    ),
    skip_failed_pages: bool = typer.Option(
        False,
        "--skip-failed-pages",
        help="Leave out a page with no article text, or one that lost most of its article's words, "
        "saying so on stderr, instead of stopping the import.",
    ),
    keep_html: bool = typer.Option(False, "--keep-html", help="Also store each page in its revision."),
) -> None:
    """Load many versions at once (git fast-import), in observed order per article."""
    from revtrack.importer import PageOptions, folder_articles, folder_snapshots, jsonl_articles, jsonl_snapshots

    store = _store()
    skipped: list[str] = []

    def skip(why: str) -> None:
        _warn(f"skipped {why}")
        skipped.append(why)

    options = PageOptions(processes, keep_html, skip if skip_failed_pages else None)
    if os.path.isdir(source):
        report = _run_import(
            store, lambda _: folder_snapshots(source, article, store, options), folder_articles(source, article)
        )
    else:
        from revtrack.errors import NotText

        if source != "-" and not os.path.isfile(source):
            raise NotText(f"no such file or folder: {source}")
        # Bytes that are not UTF-8 become unpaired surrogates, which the import refuses
        # naming the record (a decoding error would name only a position in a chunk).
        with (
            open(source, encoding="utf-8", errors="surrogateescape") if source != "-" else _stdin_text(store.path)
        ) as stream:
            where = source if source != "-" else "stdin"

            def snapshots(ahead: ReadAhead) -> Iterable[Snapshot]:
                return jsonl_snapshots(stream, where, store, ahead.pages, options)

            report = _run_import(store, snapshots, jsonl_articles(stream))
    if report.packing_failed is not None:
        _warn(f"the versions are recorded, but the maintenance after the import failed ({report.packing_failed}); "
              "run 'revtrack maintain' to finish it")  # fmt: skip
    read = report.read + len(skipped)  # every record: recorded, unchanged or skipped
    if output == TextOrJson.json:
        _emit_json({"read": read, "recorded": report.recorded, "unchanged": report.unchanged,
                    "skipped": len(skipped), "new_articles": report.articles})  # fmt: skip
    else:
        typer.echo(
            f"imported {report.recorded} new versions ({report.unchanged} unchanged) of {read} read; "
            f"{report.articles} new articles" + (f"; {len(skipped)} pages skipped" if skip_failed_pages else "")
        )


def _run_import(
    store: Store, snapshots: Callable[[ReadAhead], Iterable[Snapshot]], heads: Iterable[tuple[str, bool]]
) -> ImportReport:
    """Read the records' heads ahead (count, order, any page), then import them, showing progress on a terminal."""
    from revtrack.importer import import_snapshots, read_ahead
    from revtrack.render.progress import counter

    with counter("reading ahead", sys.stderr) as (progress, _):
        ahead = read_ahead(heads, progress)
    with counter("importing", sys.stderr, ahead.records) as (progress, stage):
        return import_snapshots(store, snapshots(ahead), progress, ahead.interleaved, stage)


def _stdin_text(beside: str) -> TextIO:
    """Standard input as text that can be read twice (the import reads its records ahead).

    A pipe is copied to an unnamed temporary file first, on the disk of the
    store at ``beside`` (its folder, or the nearest folder above it that
    exists), which takes the texts anyway where ``/tmp`` may be memory. The
    file is gone when closed, however the process ends.
    """
    import io

    if sys.stdin is None:
        from revtrack.errors import NotText

        raise NotText("standard input is closed")
    raw = sys.stdin.buffer
    if not raw.seekable():
        import shutil
        import tempfile

        folder = os.path.abspath(beside)
        while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
            folder = os.path.dirname(folder)
        copy = tempfile.TemporaryFile(prefix="revtrack-stdin-", dir=folder)  # noqa: SIM115 (the text wrapper closes it)
        shutil.copyfileobj(raw, copy)
        copy.seek(0)
        raw = copy
    return io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape")


# --- reading ------------------------------------------------------------------------


@app.command("log", epilog="Example:  revtrack log rudaw --format json")
def log_command(
    article: str = typer.Argument(..., help="Article id."),
    output: TableOrJson = typer.Option(TableOrJson.table, "--format", help="Output format."),
    color: ColorChoice = typer.Option(ColorChoice.auto, "--color", help="Colour: auto, always or never."),
) -> None:
    """List an article's revisions with observed times, word counts and what changed."""
    revisions = _store().log(article)
    if output == TableOrJson.json:
        from revtrack.render.jsonout import log_json

        _emit_json(log_json(article, revisions))
        return
    from revtrack.render.text import TextOutput, use_color

    TextOutput(use_color(color.value)).log(article, revisions)


@app.command(
    epilog="Examples:  revtrack diff rudaw 1 2   |   revtrack diff rudaw --sentences   |   "
    "revtrack diff rudaw --format json"
)
def diff(
    article: str = typer.Argument(..., help="Article id."),
    old: str | None = typer.Argument(None, metavar="[FROM]", help="Older revision (default: the one before TO)."),
    new: str | None = typer.Argument(None, metavar="[TO]", help="Newer revision (default: latest)."),
    output: DiffFormat = typer.Option(DiffFormat.terminal, "--format", help="terminal, json or html."),
    context: int = typer.Option(1, "--context", min=0, help="Unchanged paragraphs shown around each change."),
    full: bool = typer.Option(False, "--full", help="Show every paragraph."),
    sentences: bool = typer.Option(False, "--sentences", help="Show changed sentences, old → new."),
    color: ColorChoice = typer.Option(ColorChoice.auto, "--color", help="Colour: auto, always or never."),
) -> None:
    """Show what changed between two revisions, word by word."""
    from revtrack.diff import diff_texts
    from revtrack.errors import InvalidInput
    from revtrack.ingest import Document

    store = _store()
    to_rev = store.revision(article, new)
    from_rev = store.revision(article, old) if old is not None else _previous(store, to_rev)
    if from_rev is not None and from_rev.rev > to_rev.rev:
        raise InvalidInput(f"FROM (rev {from_rev.rev}) is later than TO (rev {to_rev.rev}); swap them")
    documents = store.texts([r for r in (from_rev, to_rev) if r is not None])
    old_doc = documents[0] if from_rev is not None else Document("", "")
    new_doc = documents[-1]
    result = diff_texts(old_doc.body, new_doc.body, old_doc.title, new_doc.title)
    if output == DiffFormat.json:
        from revtrack.render.jsonout import diff_json

        _emit_json(diff_json(article, from_rev or _empty(to_rev), to_rev, result))
        return
    if output == DiffFormat.html:
        from revtrack.render.html import diff_html

        sys.stdout.write(diff_html(article, from_rev or _empty(to_rev), to_rev, result, context, full))
        return
    _print_diff(article, from_rev, to_rev, result, context, full, sentences, color)


def _print_diff(article, from_rev, to_rev, result, context, full, sentences, color) -> None:  # type: ignore[no-untyped-def]
    from revtrack.diff import summarize
    from revtrack.render.text import TextOutput, revision_header, use_color
    from revtrack.stated import describe

    header = [
        ("label", f"{article}: rev {from_rev.rev if from_rev else 0} → rev {to_rev.rev}"),
        revision_header("---", from_rev, describe(from_rev.stated, from_rev.observed_at))
        if from_rev
        else ("label", f"--- nothing before rev {to_rev.rev} (its first version)"),
        revision_header("+++", to_rev, describe(to_rev.stated, to_rev.observed_at)),
        ("note", _stats_line(result) + " · " + summarize(result)),
    ]
    out = TextOutput(use_color(color.value))
    if sentences:
        out.sentences(result, header)
    else:
        out.diff(result, header, context, full)


def _stats_line(result) -> str:  # type: ignore[no-untyped-def]
    stats = result.stats
    return f"+{stats.words_added} −{stats.words_deleted} words"


def _previous(store: Store, revision: Revision) -> Revision | None:
    return store.revision(revision.article, str(revision.rev - 1)) if revision.rev > 1 else None


def _empty(revision: Revision) -> Revision:
    from revtrack.model import Revision

    return Revision(revision.article, 0, "", "", "")


@app.command(epilog="Examples:  revtrack show rudaw 2   |   revtrack show rudaw --format json")
def show(
    article: str = typer.Argument(..., help="Article id."),
    rev: str | None = typer.Argument(None, metavar="[REV]", help="Revision (default: latest)."),
    output: TextOrJson = typer.Option(TextOrJson.text, "--format", help="Output format."),
) -> None:
    """Print one revision: headline, blank line, body (exactly as stored)."""
    store = _store()
    revision = store.revision(article, rev)
    document = store.text(revision)
    if output == TextOrJson.json:
        from revtrack.render.jsonout import show_json

        _emit_json(show_json(revision, document))
        return
    from revtrack.render.text import write_show

    write_show(document, terminal=sys.stdout.isatty())


@app.command("list", epilog="Examples:  revtrack list --since 2017-10-27T12:00+03:00   |   revtrack list --format json")
def list_command(
    since: str | None = typer.Option(
        None, "--since", metavar="TIME", help="Only articles changed at or after TIME (ISO 8601, as --at)."
    ),
    limit: int = typer.Option(0, "--limit", min=0, help="Show at most this many articles (by id); 0: all."),
    output: TableOrJson = typer.Option(TableOrJson.table, "--format", help="Output format."),
    color: ColorChoice = typer.Option(ColorChoice.auto, "--color", help="Colour: auto, always or never."),
) -> None:
    """List every article: latest headline, revisions, first seen, last changed."""
    from revtrack.timeutil import format_iso, parse_iso

    after = None
    if since is not None:
        moment, assumed = parse_iso(since)
        after = format_iso(moment)
        if assumed:
            _note(assumed)
    store = _store()
    articles = store.articles(after, limit or None)
    total = store.count_articles(after) if limit and len(articles) == limit else len(articles)
    if output == TableOrJson.json:
        from revtrack.render.jsonout import list_json

        _emit_json(list_json(articles, total))
    else:
        from revtrack.render.text import TextOutput, use_color

        TextOutput(use_color(color.value)).articles(articles)
        _note_cut(len(articles), total)
    if since is not None and not articles:
        raise typer.Exit(1)  # nothing changed since then: no match, as for search and when


@app.command(
    epilog='Examples:  revtrack when rudaw-coalition-ceasefire "no official ceasefire"   |   '
    'revtrack when ID "Ceasefire" -i --format json'
)
def when(
    article: str = typer.Argument(..., help="Article id."),
    phrase: str = typer.Argument(..., help="Text to look for; quotation marks and spacing are ignored."),
    ignore_case: bool = typer.Option(False, "-i", "--ignore-case", help="Match regardless of case."),
    output: TextOrJson = typer.Option(TextOrJson.text, "--format", help="Output format."),
    color: ColorChoice = typer.Option(ColorChoice.auto, "--color", help="Colour: auto, always or never."),
) -> None:
    """When a phrase first appeared in an article, when it went, and the sentence it sits in."""
    from revtrack.history import when as phrase_history

    history = phrase_history(_store(), article, phrase, ignore_case)
    if output == TextOrJson.json:
        from revtrack.render.jsonout import when_json

        _emit_json(when_json(history))
    else:
        from revtrack.render.text import TextOutput, use_color

        TextOutput(use_color(color.value)).when(history)
    if history.first_seen is None:
        raise typer.Exit(1)


@app.command(epilog='Examples:  revtrack search "official ceasefire"   |   revtrack search "ceasefire" --format json')
def search(
    phrase: str = typer.Argument(..., help="Words to find, as a phrase (case-insensitive)."),
    limit: int = typer.Option(100, "--limit", min=0, help="Show at most this many articles (by id); 0: all."),
    output: TableOrJson = typer.Option(TableOrJson.table, "--format", help="Output format."),
    color: ColorChoice = typer.Option(ColorChoice.auto, "--color", help="Colour: auto, always or never."),
) -> None:
    """Every article whose revisions contain a phrase, with first and last revision (from the index)."""
    from revtrack.history import search as find

    found = find(_store(), phrase, limit or None)
    if output == TableOrJson.json:
        from revtrack.render.jsonout import search_json

        _emit_json(search_json(phrase, found))
    else:
        from revtrack.render.text import TextOutput, use_color

        TextOutput(use_color(color.value)).search(phrase, found.hits)
        _note_cut(len(found.hits), found.total)
    if not found.hits:
        raise typer.Exit(1)


@app.command(
    epilog="Examples:  revtrack blame rudaw-coalition-ceasefire   |   revtrack blame ID 2 --paragraphs --format json"
)
def blame(
    article: str = typer.Argument(..., help="Article id."),
    rev: str | None = typer.Argument(None, metavar="[REV]", help="Revision (default: latest)."),
    paragraphs: bool = typer.Option(False, "--paragraphs", help="Annotate paragraphs instead of sentences."),
    output: TextOrJson = typer.Option(TextOrJson.text, "--format", help="Output format."),
    color: ColorChoice = typer.Option(ColorChoice.auto, "--color", help="Colour: auto, always or never."),
) -> None:
    """Each sentence of a revision with the revision (and time) at which it took its current form."""
    from revtrack.history import blame as annotate

    revision, items = annotate(_store(), article, rev, paragraphs)
    if output == TextOrJson.json:
        from revtrack.render.jsonout import blame_json

        _emit_json(blame_json(article, revision.rev, items))
    else:
        from revtrack.render.text import TextOutput, use_color

        TextOutput(use_color(color.value)).blame(article, revision.rev, items)


@app.command(
    epilog="Examples:  revtrack watch --once   |   revtrack watch --config newsroom.toml   |   revtrack watch --status"
)
def watch(
    config: str | None = typer.Option(
        None, "--config", help="Watch list (TOML); default revtrack.toml beside the store."
    ),
    once: bool = typer.Option(False, "--once", help="Do one pass and exit (for cron)."),
    status: bool = typer.Option(
        False, "--status", help="List every tracked URL: checks, changes, last check, next due, last error."
    ),
    failing: bool = typer.Option(False, "--failing", help="With --status: only URLs whose last check failed."),
    limit: int = typer.Option(0, "--limit", min=0, help="With --status: at most this many URLs (by URL); 0: all."),
    output: TableOrJson = typer.Option(TableOrJson.table, "--format", help="Output format of --status."),
) -> None:
    """Re-fetch tracked articles and feeds on an age-based schedule, recording every change."""
    store = _store()
    if status:  # reads the state only: without the fetching and extraction revtrack.watch imports (~25 ms)
        _watch_status(store, output, failing, limit or None)
        return
    if failing or limit:
        from revtrack.errors import InvalidInput

        raise InvalidInput("--failing and --limit go with --status")
    import threading

    from revtrack.render.text import TextOutput, use_color
    from revtrack.watch import default_config_path, load_config, run_pass, watch_forever
    from revtrack.watchstate import WatchState

    settings = load_config(config or default_config_path(store.path))
    store.ensure()
    state = WatchState(os.path.join(store.meta_dir, "watch.sqlite"))
    out = TextOutput(use_color("auto"))
    try:
        if once:
            with out.status("checking articles…"):
                report = run_pass(store, settings, state, say=out.line)
            out.watch_summary(report)
            if report.failed and not (report.changed or report.unchanged or report.gone):
                raise typer.Exit(7)
        else:
            stop = threading.Event()
            try:
                watch_forever(store, settings, state, out.line, stop)
            except KeyboardInterrupt:
                stop.set()
    finally:
        state.close()


def _watch_status(store: Store, output: TableOrJson, failing: bool, limit: int | None) -> None:
    import time

    from revtrack.errors import NotFound
    from revtrack.watchstate import WatchState

    path = os.path.join(store.meta_dir, "watch.sqlite")
    if not os.path.exists(path):
        raise NotFound(f"nothing watched yet: no {path} (run 'revtrack watch --once' first)")
    state = WatchState(path)
    try:
        with state.reading():  # the list and its counts from one moment, even while a pass records
            statuses = state.statuses(failing, limit)
            counts = state.counts(time.time())
    finally:
        state.close()
    total = counts.failing if failing else counts.tracked
    if output == TableOrJson.json:
        from revtrack.render.jsonout import watch_status_json

        _emit_json(watch_status_json(statuses, total, counts))
    else:
        from revtrack.render.text import TextOutput, use_color

        TextOutput(use_color("auto")).watch_status(statuses, counts, failing)
        _note_cut(len(statuses), total, "URLs", "URL")
    if failing and not statuses:
        raise typer.Exit(1)  # no URL failing: no match, as for search and list --since


@app.command(epilog="Example:  revtrack check")
def check() -> None:
    """Verify the store: git fsck, and the index against git (exit 6 when damaged)."""
    from revtrack.checking import check_store

    report = check_store(_store())
    for line in report:
        typer.echo(line)


@app.command(epilog="Example:  revtrack maintain")
def maintain() -> None:
    """Pack the store into one pack, every version a delta of its article's others, and refresh the commit-graph."""
    store = _store()
    if not store.exists():
        from revtrack.errors import NotAStore

        raise NotAStore(f"no revtrack store at {store.path}")
    index_before = _file_size(store.index_path)
    store.maintain(auto=False)
    typer.echo(f"maintained {store.path}")
    index_after = _file_size(store.index_path)
    if index_before and index_after < index_before:
        typer.echo(f"index: {index_before / 1e6:.1f} MB -> {index_after / 1e6:.1f} MB (its free pages given back)")


def _file_size(path: str) -> int:
    """Bytes in the file at ``path``, 0 when there is none."""
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


# --- entry point --------------------------------------------------------------------


# Options of the group itself (_global) that take a value: the word after them is not a
# command (tests/test_cli.py checks this against the group's own options).
_GLOBAL_OPTIONS_WITH_VALUE = ("--store", "--lock-timeout")


def command_named(args: list[str]) -> str | None:
    """The command word of a command line (after the group's own options), or None when it has none."""
    words = iter(args)
    for word in words:
        if word in _GLOBAL_OPTIONS_WITH_VALUE:
            next(words, None)
        elif word == "--":
            return next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def app_for(args: list[str]) -> typer.Typer:
    """The app with only the command ``args`` names, or every command when it names none of them.

    Typer turns every registered command into a click command (signatures,
    annotations, parameter types) each time the program starts: ~6 ms of the
    ~85 ms any Typer + rich tool pays here (bench/RESULTS.md). A command line
    needs only its own; the group's help, and click's "No such command" with its
    suggestions, still see them all.
    """
    import copy

    from typer.main import get_command_name

    def name_of(info: typer.models.CommandInfo) -> str | None:
        return info.name or (get_command_name(info.callback.__name__) if info.callback else None)

    name = command_named(args)
    named = [info for info in app.registered_commands if name_of(info) == name] if name is not None else []
    if not named:
        return app
    one = copy.copy(app)
    one.registered_commands = named
    return one


def main() -> None:
    """Entry point (``revtrack`` and ``python -m revtrack``)."""
    try:
        app_for(sys.argv[1:])()
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted\n")
        raise SystemExit(130) from None
    except BrokenPipeError:
        # The reader went away (e.g. `revtrack log X | head`); that is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(0) from None
