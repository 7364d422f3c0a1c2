"""Lay a diff out as display lines of styled segments, independent of colour or markers.

Both text renderers (rich colours and ``[-…-]``/``{+…+}`` markers) draw from
this layout: paragraphs of the new version with deletions and insertions inline,
moved paragraphs shown once at their new place (with any edits inside) and a
one-line note where they used to be, moved sentences the same way but inline in
their paragraphs, unchanged paragraphs collapsed to ``context`` paragraphs
around each change.
"""

from __future__ import annotations

from dataclasses import dataclass

from revtrack.diff import ArticleDiff, Change, SentenceChange
from revtrack.engine import DELETE, EQUAL, INSERT, Op

# (kind, text). Kinds: equal | insert | delete | note; a moved paragraph's
# moved-away | moved-here lines; a moved sentence's sentence-away note,
# sentence-here label, its text as moved, and sentence-end.
Segment = tuple[str, str]


@dataclass
class Line:
    segments: list[Segment]

    @property
    def changed(self) -> bool:
        return any(kind != EQUAL for kind, _ in self.segments)

    @property
    def blank(self) -> bool:
        return all(not text.strip() for _, text in self.segments)


def preview(text: str, words: int = 8) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def inline_segments(ops: list[Op]) -> list[Segment]:
    """Segments for a short diff shown on one line (headline, a sentence)."""
    segments: list[Segment] = []
    for op in ops:
        if op.op == EQUAL or (op.op == INSERT and not op.text.strip()):
            segments.append((EQUAL, op.text))
        elif op.op == INSERT:
            segments.append((INSERT, op.text))
        elif op.text.strip():
            segments.append((DELETE, op.text))
    return segments


class _LineBuilder:
    def __init__(self) -> None:
        self.lines: list[Line] = [Line([])]

    def add(self, kind: str, text: str) -> None:
        for number, part in enumerate(text.split("\n")):
            if number:
                self.lines.append(Line([]))
            if part:
                self.lines[-1].segments.append((kind, part))

    def mark(self, kind: str) -> None:
        """A segment with no text of its own (a closing marker)."""
        self.lines[-1].segments.append((kind, ""))

    def own_line(self, kind: str, text: str) -> None:
        if self.lines[-1].segments:
            self.lines.append(Line([]))
        self.lines[-1].segments.append((kind, text))
        self.lines.append(Line([]))


def body_lines(diff: ArticleDiff) -> list[Line]:
    """Display lines of the body diff, in the order of the new version."""
    moves = {change.move: change for change in diff.changes if change.kind == "move"}
    builder = _LineBuilder()
    for index, op in enumerate(diff.ops):
        if op.move is not None:
            change = moves[op.move]
            if change.unit == "sentence":
                following = diff.ops[index + 1].text if index + 1 < len(diff.ops) else "\n"
                _add_sentence_move(builder, op, change, alone=following.startswith("\n") and _line_empty(builder))
            else:
                _add_move(builder, op, change)
        elif op.op == EQUAL or (op.op == INSERT and not op.text.strip()):
            builder.add(EQUAL, op.text)
        elif op.op == INSERT:
            builder.add(INSERT, op.text)
        elif op.text.strip():
            builder.add(DELETE, op.text)
    return builder.lines


def _add_move(builder: _LineBuilder, op: Op, change: Change) -> None:
    assert change.old_pos is not None and change.new_pos is not None
    if op.op == DELETE:
        builder.own_line("moved-away", f"moved to ¶{change.new_pos.paragraph}: {preview(change.old)}")
        return
    builder.own_line("moved-here", f"moved from ¶{change.old_pos.paragraph}")
    for segment_kind, text in inline_segments(change.ops):
        builder.add(segment_kind, text)


def _line_empty(builder: _LineBuilder) -> bool:
    return not "".join(text for _, text in builder.lines[-1].segments).strip()


def _add_sentence_move(builder: _LineBuilder, op: Op, change: Change, alone: bool) -> None:
    """A moved sentence, inline: a note where it was, its text (and edits) where it is.

    ``alone``: the sentence was a paragraph of its own, so its note gets a line.
    """
    assert change.old_pos is not None and change.new_pos is not None
    if op.op == DELETE:
        note = f"⇄ to ¶{change.new_pos.paragraph}.{change.new_pos.sentence}"
        if alone:
            builder.own_line("sentence-away", note)
        else:
            builder.add("sentence-away", note)
            builder.add(EQUAL, " ")
        return
    builder.add("sentence-here", f"⇄ from ¶{change.old_pos.paragraph}.{change.old_pos.sentence}: ")
    for kind, text in inline_segments(change.ops):
        builder.add("moved" if kind == EQUAL else kind, text)
    builder.mark("sentence-end")


def collapse(lines: list[Line], context: int, full: bool) -> list[Line]:
    """Paragraphs separated by one blank line; unchanged runs beyond ``context`` folded to a note."""
    paragraphs = [line for line in lines if not line.blank]
    changed = [index for index, line in enumerate(paragraphs) if line.changed]
    if full:
        shown = set(range(len(paragraphs)))
    else:
        shown = {i for c in changed for i in range(max(0, c - context), min(len(paragraphs), c + context + 1))}
    out: list[Line] = []
    hidden = 0
    for index, line in enumerate(paragraphs):
        if index in shown:
            if hidden:
                out.append(Line([("note", _hidden_note(hidden))]))
                hidden = 0
            out.append(line)
        else:
            hidden += 1
    if hidden and out:
        out.append(Line([("note", _hidden_note(hidden))]))
    return out


def _hidden_note(count: int) -> str:
    return f"⋮ {count} unchanged paragraph{'s' if count != 1 else ''}"


def sentence_lines(sentences: list[SentenceChange]) -> list[tuple[str, list[Segment]]]:
    """(label, segments) per changed sentence for ``diff --sentences``."""
    rows = []
    for sentence in sentences:
        where = _where(sentence)
        if sentence.kind == "added":
            rows.append((f"+ added {where}", [(INSERT, sentence.new)]))
        elif sentence.kind == "deleted":
            rows.append((f"- deleted {where}", [(DELETE, sentence.old)]))
        elif sentence.kind == "moved":
            segments = inline_segments(sentence.ops) if sentence.ops else [(EQUAL, sentence.new)]
            rows.append((f"⇄ moved {where}", segments))
        else:
            rows.append((f"~ edited {where}", inline_segments(sentence.ops)))
    return rows


def _where(sentence: SentenceChange) -> str:
    old = f"¶{sentence.old_pos.paragraph}.{sentence.old_pos.sentence}" if sentence.old_pos else ""
    new = f"¶{sentence.new_pos.paragraph}.{sentence.new_pos.sentence}" if sentence.new_pos else ""
    if old and new and old != new:
        return f"{old} → {new}"
    return new or old
