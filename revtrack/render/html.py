"""A self-contained HTML page of a diff (``diff --format html``), for sharing or archiving.

Every piece of article text goes through ``html.escape`` (after control
characters are made visible): a ``<script>`` in an article is shown, never run.
"""

from __future__ import annotations

from html import escape as _html_escape

from revtrack.diff import ArticleDiff, summarize
from revtrack.model import Revision
from revtrack.render.diffview import Segment, body_lines, collapse, inline_segments
from revtrack.render.safe import visible

_TAGS = {
    "insert": "ins",
    "delete": "del",
    "moved-away": "p class=moved",
    "moved-here": "p class=moved",
    "sentence-away": "span class=moved",
    "sentence-here": "span class=moved",
    "moved": "span class=moved",
    "note": "p class=note",
}
_STYLE = """body{font:16px/1.5 Georgia,serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222}
ins{background:#dfd;text-decoration:none}del{background:#fdd}.moved{color:#067;font-style:italic}
.note{color:#888}header p{margin:.2em 0;font-family:sans-serif;font-size:90%}"""


def escape(text: str) -> str:
    """HTML-escaped, with control characters shown as escapes (as in the terminal)."""
    return _html_escape(visible(text))


def _segments(segments: list[Segment]) -> str:
    out = []
    for kind, text in segments:
        tag = _TAGS.get(kind)
        if tag is None:
            out.append(escape(text))
        else:
            name = tag.split()[0]
            out.append(f"<{tag}>{escape(text)}</{name}>")
    return "".join(out)


def diff_html(article: str, old: Revision, new: Revision, diff: ArticleDiff, context: int, full: bool) -> str:
    lines = collapse(body_lines(diff), context, full)
    body = "\n".join(f"<p>{_segments(line.segments)}</p>" for line in lines)
    headline = _segments(inline_segments(diff.title_ops))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{escape(article)}: rev {old.rev} → rev {new.rev}</title>
<style>{_STYLE}</style></head><body>
<header><p>{escape(article)}: rev {old.rev} ({escape(old.observed_at)}) → rev {new.rev} ({escape(new.observed_at)})</p>
<p>{escape(summarize(diff))}</p></header>
<h1>{headline}</h1>
{body}
</body></html>
"""
