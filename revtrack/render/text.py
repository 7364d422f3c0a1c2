"""Human-readable output: rich colours on a terminal, plain text with git-style markers elsewhere.

Colour is on for ``--color always``, off for ``--color never``; with ``auto`` it
follows whether stdout is a terminal and the ``NO_COLOR`` convention. Without
colour, deletions read ``[-…-]`` and insertions ``{+…+}``, as in
``git diff --word-diff=plain``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

from revtrack.render.safe import visible
from revtrack.timeutil import format_epoch

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import Console

    from revtrack.diff import ArticleDiff
    from revtrack.history import BlameItem, PhraseHistory, SearchHit
    from revtrack.ingest import Document
    from revtrack.model import ArticleSummary, Revision
    from revtrack.render.diffview import Segment
    from revtrack.watchstate import UrlStatus, WatchCounts

_STYLES = {
    "equal": "",
    "insert": "green",
    "delete": "red strike",
    "moved-away": "dim cyan",
    "moved-here": "bold cyan",
    "sentence-away": "dim cyan",
    "sentence-here": "bold cyan",
    "moved": "cyan",
    "note": "dim",
    "label": "bold",
    "changed": "yellow",
}
_MARKERS = {
    "insert": ("{+", "+}"),
    "delete": ("[-", "-]"),
    "moved-away": ("⇄ ", ""),
    "moved-here": ("⇄ ", ":"),
    # A moved sentence reads "[⇄ to ¶5.2]" where it was, "{⇄ from ¶2.1: …}" where it is.
    "sentence-away": ("[", "]"),
    "sentence-here": ("{", ""),
    "sentence-end": ("", "}"),
}


def use_color(choice: str, stream: TextIO | None = None) -> bool:
    """Resolve ``--color auto|always|never`` for ``stream`` (stdout by default)."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


class TextOutput:
    """Writes results to a stream, coloured or plain."""

    def __init__(self, color: bool, stream: TextIO | None = None) -> None:
        self.color = color
        self.stream = stream or sys.stdout
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            is_tty = bool(getattr(self.stream, "isatty", lambda: False)())
            self._console = Console(
                file=self.stream,
                force_terminal=self.color,
                no_color=not self.color,
                color_system="auto" if self.color else None,
                markup=False,
                highlight=False,
                emoji=False,
                width=None if is_tty else int(os.environ.get("COLUMNS", "0") or 0) or 160,
            )
        return self._console

    # --- low level -------------------------------------------------------------

    def write_segments(self, segments: list[Segment]) -> None:
        if self.color:
            from rich.text import Text

            text = Text()
            for kind, value in segments:
                text.append(visible(value), style=_STYLES.get(kind, ""))
            self.console.print(text, soft_wrap=True)
        else:
            self.stream.write(self.plain(segments) + "\n")

    @staticmethod
    def plain(segments: list[Segment]) -> str:
        out = []
        for kind, value in segments:
            before, after = _MARKERS.get(kind, ("", ""))
            if kind in ("insert", "delete"):
                # Whitespace at the ends stays outside the markers, as git prints it.
                core = value.strip()
                lead = value[: len(value) - len(value.lstrip())]
                trail = value[len(value.rstrip()) :]
                out.append(f"{lead}{before}{visible(core)}{after}{trail}")
            else:
                out.append(f"{before}{visible(value)}{after}")
        return "".join(out)

    def line(self, text: str, kind: str = "equal") -> None:
        self.write_segments([(kind, text)])

    # --- diff ------------------------------------------------------------------

    def diff(self, diff: ArticleDiff, header: Sequence[Segment], context: int, full: bool) -> None:
        from revtrack.render.diffview import body_lines, collapse, inline_segments

        for segment in header:
            self.write_segments([segment])
        if diff.title_changed:
            self.write_segments([("label", "headline: "), *inline_segments(diff.title_ops)])
        self.write_segments([])
        lines = collapse(body_lines(diff), context, full)
        if not any(line.changed for line in lines):
            self.line("body unchanged" if not full else "", "note")
        for number, line in enumerate(lines):
            if number:
                self.write_segments([])
            self.write_segments(line.segments)

    def sentences(self, diff: ArticleDiff, header: Sequence[Segment]) -> None:
        from revtrack.render.diffview import inline_segments, sentence_lines

        for segment in header:
            self.write_segments([segment])
        if diff.title_changed:
            self.write_segments([("label", "~ headline: "), *inline_segments(diff.title_ops)])
        rows = sentence_lines(diff.sentences)
        if not rows and not diff.title_changed:
            self.line("no sentence changed", "note")
        for label, segments in rows:
            self.write_segments([("label", label)])
            self.write_segments([("equal", "  "), *segments])

    # --- tables ----------------------------------------------------------------

    def table(self, headers: list[str], rows: list[list[Segment]], right: tuple[int, ...] = ()) -> None:
        """Aligned columns, one line per row (greppable in a pipe; no rich.table import).

        Cells are measured as printed: a control character shows as a
        four-character escape, and measuring the raw text misaligned its row.
        ``rows`` are the caller's to give away: each is escaped in place.
        """
        for row in rows:  # escaped in place: a second list of 100,000 rows (watch --status) took 50 MB more
            row[:] = [(kind, visible(text)) for kind, text in row]
        widths = [max([len(h)] + [len(row[i][1]) for row in rows]) for i, h in enumerate(headers)]

        def cells(row: list[Segment]) -> list[Segment]:
            out: list[Segment] = []
            for i, (kind, text) in enumerate(row):
                last = i == len(row) - 1
                out.append((kind, text.rjust(widths[i]) if i in right else text if last else text.ljust(widths[i])))
                if not last:
                    out.append(("equal", "  "))
            return out

        self.write_segments(cells([("label", h) for h in headers]))
        for row in rows:
            self.write_segments(cells(row))

    def log(self, article: str, revisions: list[Revision]) -> None:
        from revtrack.stated import describe

        self.write_segments([("label", article)])
        rows: list[list[Segment]] = []
        previous_title = None
        for revision in revisions:
            changed = previous_title is not None and revision.title != previous_title
            stated = describe(revision.stated, revision.observed_at).removeprefix("stated: ")
            words = f"{_count(revision.words_added, '+')} {_count(revision.words_deleted, '−')}".strip()
            rows.append([
                ("equal", str(revision.rev)), ("equal", revision.observed_at), ("note", stated or "–"),
                ("equal", words), ("changed" if changed else "equal", ("* " if changed else "") + revision.title),
                ("note", revision.summary or ""),
            ])  # fmt: skip
            previous_title = revision.title
        self.table(["rev", "observed", "stated", "words", "headline", "what changed"], rows, right=(0, 3))
        if any(r.title != revisions[0].title for r in revisions):
            self.line("* headline changed in this revision", "note")

    def articles(self, articles: list[ArticleSummary]) -> None:
        if not articles:
            self.line("no articles recorded yet", "note")
            return
        rows: list[list[Segment]] = [
            [
                ("equal", a.article),
                ("equal", str(a.revisions)),
                ("equal", a.first_seen),
                ("equal", a.last_changed),
                ("equal", a.title),
            ]  # fmt: skip
            for a in articles
        ]
        self.table(["article", "revs", "first seen", "last changed", "latest headline"], rows, right=(1,))

    # --- when did it change ---------------------------------------------------

    def when(self, history: PhraseHistory) -> None:
        first, last = history.first_seen, history.last_seen
        self.write_segments([("label", f"“{history.phrase}” in {history.article}")])
        if first is None or last is None:
            self.line("never appears in any revision", "note")
            return
        stated = f" (stated: {first.stated_at})" if first.stated_at else ""
        self.write_segments([("label", f"first seen: rev {first.rev}"), ("equal", f" · {first.observed_at}{stated}")])
        self.write_segments([("note", "  headline then: "), ("equal", first.title)])
        self.write_segments([("note", "  sentence: "), ("equal", first.sentence)])
        if history.present_now:
            self.write_segments([("label", "still there: "), ("equal", f"rev {last.rev} (latest)")])
        else:
            gone = history.gone_at
            where = f"rev {gone.rev} · {gone.observed_at}" if gone else "?"
            self.write_segments([("label", "last seen: "), ("equal", f"rev {last.rev} · {last.observed_at}; "),
                                 ("delete", f"gone from {where}")])  # fmt: skip
        spans = ", ".join(
            f"rev {a}–{b}" if b and b != a else f"rev {a}" if b else f"rev {a}–now" for a, b in history.spans
        )
        self.write_segments([("label", "present in: "), ("equal", spans)])

    def search(self, phrase: str, hits: list[SearchHit]) -> None:
        if not hits:
            self.line(f"no article contains “{phrase}”", "note")
            return
        rows: list[list[Segment]] = [
            [
                ("equal", h.article),
                ("equal", f"rev {h.first_rev} · {h.first_observed_at}"),
                ("equal", f"rev {h.last_rev} · {h.last_observed_at}"),
                ("equal" if h.present_now else "delete", "yes" if h.present_now else "gone"),
                ("equal", h.title),
            ]  # fmt: skip
            for h in hits
        ]
        self.table(["article", "first", "last", "now", "latest headline"], rows)

    def blame(self, article: str, rev: int, items: list[BlameItem]) -> None:
        self.write_segments([("label", f"{article} rev {rev}: each sentence with the revision it dates from")])
        for item in items:
            self.write_segments([("label" if item.rev == rev else "note", f"rev {item.rev:<3} {item.observed_at}  "),
                                 ("equal", item.text)])  # fmt: skip

    # --- watch ----------------------------------------------------------------

    def status(self, message: str):  # type: ignore[no-untyped-def]
        """A spinner while work runs, on a terminal only."""
        from contextlib import nullcontext

        if not getattr(self.stream, "isatty", lambda: False)():
            return nullcontext()
        return self.console.status(message)

    def watch_status(self, statuses: list[UrlStatus], counts: WatchCounts, failing: bool = False) -> None:
        """The tracked URLs listed (``failing``: only those), then the whole watch list counted."""
        if not counts.tracked:
            self.line("no URLs tracked yet", "note")
            return
        if statuses:
            rows: list[list[Segment]] = [
                [
                    ("equal", status.url),
                    ("equal", status.article or "–"),
                    ("equal", str(status.checks)),
                    ("equal", str(status.changes)),
                    ("equal", format_epoch(status.last_checked) if status.last_checked is not None else "never"),
                    ("equal", format_epoch(status.next_due) if status.next_due is not None else "no more"),
                    ("changed" if status.last_error else "equal", _last_error(status)),
                ]  # fmt: skip
                for status in statuses
            ]
            headers = ["url", "article", "checks", "changes", "last checked", "next due", "last error"]
            self.table(headers, rows, right=(2, 3))
        elif failing:
            self.line("no URL failed its last check", "note")
        self.line(
            f"{counts.tracked:,} URLs tracked: {counts.scheduled:,} on the schedule, {counts.due:,} due now; "
            f"{counts.failing:,} failing, {counts.gone:,} of them gone",
            "note",
        )

    def watch_summary(self, report) -> None:  # type: ignore[no-untyped-def]
        self.line("watch pass", "label")
        # "not modified": unchanged without reading the page again (a 304, or the bytes recorded last time).
        counts = [report.checked, report.changed, report.unchanged, report.not_modified, report.gone, report.failed]
        self.table(
            ["checked", "changed", "unchanged", "not modified", "gone", "failed"],
            [[("equal", str(n)) for n in counts]],
            right=(0, 1, 2, 3, 4, 5),
        )


def _last_error(status: UrlStatus) -> str:
    if status.gone_since is not None:
        return f"gone since {format_epoch(status.gone_since)}: {status.last_error}"
    return status.last_error or "–"


def _count(value: int | None, sign: str) -> str:
    return "" if value is None else f"{sign}{value}"


def revision_header(label: str, revision: Revision, stated: str) -> Segment:
    """``--- rev 1 · 2017-10-27T11:48:00+03:00 · headline`` (one header line of a diff)."""
    extra = f" · {stated}" if stated else ""
    return ("label", f"{label} rev {revision.rev} · {revision.observed_at}{extra} · {revision.title}")


def write_show(document: Document, terminal: bool, stream: TextIO | None = None) -> None:
    """``show``: stored text unchanged into a pipe or file; control characters visible on a terminal."""
    from revtrack.ingest import article_text

    stream = stream or sys.stdout
    text = article_text(document)
    if terminal:
        text = visible(text) + ("" if text.endswith("\n") else "\n")
    stream.write(text)
