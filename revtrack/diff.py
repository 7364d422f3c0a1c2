"""Compare two versions of an article: ops, moves, a changes list, sentence view, stats.

``diff_texts`` is the one entry point; everything it returns is plain data that
the renderers (terminal, plain markers, JSON, HTML) turn into output. The word
ops come from :mod:`revtrack.engine`; this module reads structure into them:
which paragraph and sentence each change sits in, whether a number or a quote
changed, which sentences were added, deleted, edited or moved.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Final

from revtrack.engine import DELETE, EQUAL, INSERT, LARGE_BLOCK, Move, Op, align, token_diff
from revtrack.ingest import collapse
from revtrack.segment import Paragraphs, Span, content_end, index_of, paragraph_spans, sentence_spans
from revtrack.tokens import count_words, is_number, words


@dataclass(frozen=True)
class Position:
    """Where a change sits: 1-based paragraph, and sentence within that paragraph."""

    paragraph: int
    sentence: int


@dataclass
class Change:
    """One change a reader would name: an insert, delete, replace or move."""

    kind: str
    old: str
    new: str
    flags: list[str] = field(default_factory=list)
    old_pos: Position | None = None
    new_pos: Position | None = None
    unit: str = "words"  # "words", "paragraph" or "sentence" (moves), or "headline"
    ops: list[Op] = field(default_factory=list)  # the word diff inside a move or headline
    move: int | None = None


@dataclass
class SentenceChange:
    """A sentence (or a group that was split or joined) that changed."""

    kind: str  # "added" | "deleted" | "edited" | "moved"
    old: str
    new: str
    ops: list[Op]
    old_pos: Position | None
    new_pos: Position | None


@dataclass
class Stats:
    """Counts of what changed; moved text counts only for its inner edits."""

    words_added: int = 0
    words_deleted: int = 0
    sentences_added: int = 0
    sentences_deleted: int = 0
    sentences_edited: int = 0
    sentences_moved: int = 0
    paragraphs_added: int = 0
    paragraphs_deleted: int = 0
    paragraphs_moved: int = 0


@dataclass
class ArticleDiff:
    """The comparison of two versions (headline and body) of one article."""

    old_title: str
    new_title: str
    old_body: str
    new_body: str
    title_ops: list[Op]
    ops: list[Op]
    moves: list[Move]
    changes: list[Change]
    sentences: list[SentenceChange]
    stats: Stats

    @property
    def title_changed(self) -> bool:
        return any(op.op != EQUAL for op in self.title_ops)


def diff_texts(old_body: str, new_body: str, old_title: str = "", new_title: str = "") -> ArticleDiff:
    """Diff two versions of an article (bodies and headlines)."""
    alignment = align(old_body, new_body)
    old_paragraphs, new_paragraphs = alignment.paragraphs or (None, None)
    old_layout, new_layout = _Layout(old_body, old_paragraphs), _Layout(new_body, new_paragraphs)
    regions = _regions(alignment.ops, old_body, new_body)
    changes = [
        change
        for region in regions
        for part in _split_by_paragraph(region, old_body, new_body)
        if (change := _change(old_body, new_body, part, old_layout, new_layout)) is not None
    ]
    changes += [_move_change(move, old_layout, new_layout) for move in alignment.moves]
    changes.sort(key=_sort_key)
    title_ops = token_diff(old_title, new_title)
    if any(op.op != EQUAL for op in title_ops):
        changes.insert(0, _headline_change(old_title, new_title, title_ops))
    sentences = _sentence_changes(regions, alignment.moves, old_layout, new_layout, _OpIndex(alignment.ops))
    stats = _stats(alignment.ops, title_ops, alignment.moves, sentences, old_layout, new_layout)
    return ArticleDiff(
        old_title, new_title, old_body, new_body, title_ops, alignment.ops, alignment.moves, changes, sentences, stats
    )


# --- layout of one side ------------------------------------------------------


class _Layout:
    """Paragraph and (lazily) sentence spans of one text, for locating changes."""

    def __init__(self, text: str, paragraphs: Paragraphs | None = None) -> None:
        self.text = text
        self.paragraphs = paragraphs.spans() if paragraphs is not None else paragraph_spans(text)
        self.starts = [start for start, _ in self.paragraphs]
        self._sentences: dict[int, list[Span]] = {}

    def paragraph_at(self, offset: int) -> int:
        return index_of(self.paragraphs, self.starts, offset)

    def sentences(self, paragraph: int) -> list[Span]:
        if paragraph not in self._sentences:
            span = self.paragraphs[paragraph] if self.paragraphs else (0, len(self.text))
            self._sentences[paragraph] = sentence_spans(self.text, span) or [span]
        return self._sentences[paragraph]

    def sentence_at(self, offset: int) -> tuple[int, int]:
        """(paragraph, sentence) indices, 0-based, of the sentence containing ``offset``."""
        paragraph = self.paragraph_at(offset)
        spans = self.sentences(paragraph)
        return paragraph, index_of(spans, [s for s, _ in spans], offset)

    def position(self, offset: int) -> Position:
        paragraph, sentence = self.sentence_at(offset)
        return Position(paragraph + 1, sentence + 1)

    def span_of(self, first: tuple[int, int], last: tuple[int, int]) -> Span:
        """From the start of sentence ``first`` to the visible end of ``last`` (both (paragraph, sentence))."""
        start = self.sentences(first[0])[first[1]][0]
        last_span = self.sentences(last[0])[last[1]]
        return _first_visible(self.text, start, last_span[1]), content_end(self.text, last_span)

    def sentence_text(self, paragraph: int, sentence: int) -> str:
        start, end = self.sentences(paragraph)[sentence]
        return self.text[start:end].strip()

    def touched(self, start: int, end: int) -> list[tuple[int, int]]:
        """Sentences whose visible text overlaps ``[start, end)``.

        An empty range touches the sentence it falls strictly inside (an insertion
        into a sentence edits it; one between sentences touches none).
        """
        text = self.text
        if end > start:
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if start == end:
                return []
            first, last = self.sentence_at(start), self.sentence_at(end - 1)
            return self._between(first, last)
        if not self.paragraphs:
            return []
        paragraph, sentence = self.sentence_at(start)
        s_start, s_end = self.sentences(paragraph)[sentence]
        if s_start < start < content_end(text, (s_start, s_end)):
            return [(paragraph, sentence)]
        return []

    def _between(self, first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        for paragraph in range(first[0], last[0] + 1):
            count = len(self.sentences(paragraph))
            low = first[1] if paragraph == first[0] else 0
            high = last[1] if paragraph == last[0] else count - 1
            found.extend((paragraph, s) for s in range(low, high + 1))
        return found


# --- ops by position ---------------------------------------------------------------


class _OpIndex:
    """Where each op starts on both sides, to cut the ops of a span out instead of diffing it again."""

    def __init__(self, ops: list[Op]) -> None:
        self.ops = ops
        self.a_starts: list[int] = []
        self.b_starts: list[int] = []
        pos_a = pos_b = 0
        for op in ops:
            self.a_starts.append(pos_a)
            self.b_starts.append(pos_b)
            if op.op != INSERT:
                pos_a += len(op.text)
            if op.op != DELETE:
                pos_b += len(op.text)

    def cut(self, a_start: int, a_end: int, b_start: int, b_end: int) -> list[Op] | None:
        """The ops of old[a_start:a_end] -> new[b_start:b_end], or None when the spans do not line up.

        They line up when every unchanged stretch is cut at the same places on
        both sides, and no moved text is inside.
        """
        ops, a_starts, b_starts = self.ops, self.a_starts, self.b_starts
        first = max(0, min(bisect_right(a_starts, a_start), bisect_right(b_starts, b_start)) - 1)
        out: list[Op] = []
        for number in range(first, len(ops)):
            op, pos_a, pos_b = ops[number], a_starts[number], b_starts[number]
            if pos_a >= a_end and pos_b >= b_end:
                break
            size = len(op.text)
            low_a, high_a = max(pos_a, a_start) - pos_a, min(pos_a + size, a_end) - pos_a
            low_b, high_b = max(pos_b, b_start) - pos_b, min(pos_b + size, b_end) - pos_b
            in_a = op.op != INSERT and low_a < high_a
            in_b = op.op != DELETE and low_b < high_b
            if not in_a and not in_b:
                continue
            if op.move is not None or (op.op == EQUAL and (low_a, high_a, in_a) != (low_b, high_b, in_b)):
                return None
            low, high = (low_a, high_a) if in_a else (low_b, high_b)
            out.append(Op(op.op, op.text[low:high]))
        return out


# --- change regions ------------------------------------------------------------


@dataclass
class _Region:
    """A run of inserts/deletes (not moves), joined across whitespace-only equals."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int


def _regions(ops: list[Op], old: str, new: str) -> list[_Region]:
    """Runs of plain inserts/deletes, joined when only whitespace lies between them."""
    raw: list[_Region | None] = []
    pos_a = pos_b = 0
    current: _Region | None = None
    for op in ops:
        size = len(op.text)
        if op.op != EQUAL and op.move is None:
            if current is None:
                current = _Region(pos_a, pos_a, pos_b, pos_b)
                raw.append(current)
            if op.op == DELETE:
                current.a_end = pos_a + size
            else:
                current.b_end = pos_b + size
        else:
            current = None
            if op.move is not None:
                raw.append(None)  # never join changes across a moved paragraph
        if op.op != INSERT:
            pos_a += size
        if op.op != DELETE:
            pos_b += size
    merged: list[_Region] = []
    previous: _Region | None = None
    for region in raw:
        if region is None:
            previous = None
            continue
        if (
            previous is not None
            and not old[previous.a_end : region.a_start].strip()
            and not new[previous.b_end : region.b_start].strip()
        ):
            previous.a_end, previous.b_end = region.a_end, region.b_end
            continue
        merged.append(region)
        previous = region
    return merged


def _split_by_paragraph(region: _Region, old: str, new: str) -> list[_Region]:
    """A pure insert or delete of several paragraphs becomes one change per paragraph."""
    has_old = bool(old[region.a_start : region.a_end].strip())
    has_new = bool(new[region.b_start : region.b_end].strip())
    if has_old == has_new:
        return [region]
    deleting = has_old
    text = old if deleting else new
    start, end = (region.a_start, region.a_end) if deleting else (region.b_start, region.b_end)
    parts = []
    for span_start, span_end in paragraph_spans(text[start:end]):
        s, e = start + span_start, start + span_end
        if deleting:
            parts.append(_Region(s, e, region.b_start, region.b_start))
        else:
            parts.append(_Region(region.a_start, region.a_start, s, e))
    return parts or [region]


def _change(old: str, new: str, region: _Region, old_layout: _Layout, new_layout: _Layout) -> Change | None:
    old_text = old[region.a_start : region.a_end]
    new_text = new[region.b_start : region.b_end]
    if not old_text.strip() and not new_text.strip():
        return None  # whitespace-only: never a word change
    kind = "replace" if old_text.strip() and new_text.strip() else "insert" if new_text.strip() else "delete"
    flags = _flags(old_text, new_text, kind)
    if _inside_quotes(old, region.a_start, region.a_end, old_layout) or _inside_quotes(
        new, region.b_start, region.b_end, new_layout
    ):
        flags.append("quote")
    return Change(
        kind,
        old_text.strip(),
        new_text.strip(),
        flags,
        old_layout.position(_first_visible(old, region.a_start, region.a_end)) if kind != "insert" else None,
        new_layout.position(_first_visible(new, region.b_start, region.b_end)) if kind != "delete" else None,
    )


def _first_visible(text: str, start: int, end: int) -> int:
    while start < end and text[start].isspace():
        start += 1
    return start


def _move_change(move: Move, old_layout: _Layout, new_layout: _Layout) -> Change:
    old_text, new_text = move.old_text.strip(), move.new_text.strip()
    flags = _flags(_side_text(move.ops, DELETE), _side_text(move.ops, INSERT), "replace")
    return Change(
        "move",
        old_text,
        new_text,
        flags,
        old_layout.position(_first_visible(old_layout.text, move.old_start, len(old_layout.text))),
        new_layout.position(_first_visible(new_layout.text, move.new_start, len(new_layout.text))),
        unit=move.unit,
        ops=move.ops,
        move=move.id,
    )


def _headline_change(old_title: str, new_title: str, title_ops: list[Op]) -> Change:
    kind = "replace" if old_title and new_title else "insert" if new_title else "delete"
    flags = ["headline", *_flags(_side_text(title_ops, DELETE), _side_text(title_ops, INSERT), kind)]
    return Change(kind, old_title, new_title, flags, unit="headline", ops=title_ops)


def _side_text(ops: list[Op], kind: str) -> str:
    return " ".join(op.text for op in ops if op.op == kind)


def _sort_key(change: Change) -> tuple[int, int]:
    """Changes read in the order of the new text (deletions where they were)."""
    pos = change.new_pos or change.old_pos
    return (pos.paragraph, pos.sentence) if pos else (0, 0)


# --- flags ------------------------------------------------------------------------

_TYPOGRAPHIC: Final = str.maketrans(
    {
        "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"',
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'",
        "–": "-", "—": "-", "―": "-", "‐": "-", "‑": "-", "‒": "-", "−": "-",
        "…": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    }
)  # fmt: skip


def typographic_key(text: str) -> str:
    """Text with quote style, dashes and spacing folded (for the 'typographic' flag)."""
    return collapse(text.translate(_TYPOGRAPHIC))


def numbers_in(text: str) -> list[str]:
    """Number tokens of ``text`` in order (digits in any script, English number words)."""
    return [word for word in words(text) if is_number(word)]


def _flags(old_text: str, new_text: str, kind: str) -> list[str]:
    flags = []
    if kind == "replace":
        old_numbers, new_numbers = numbers_in(old_text), numbers_in(new_text)
        if old_numbers != new_numbers and old_numbers and new_numbers:
            flags.append("number")
        if old_text.strip() and old_text != new_text and typographic_key(old_text) == typographic_key(new_text):
            flags.append("typographic")
    return flags


_OPENERS: Final = {"“": "”", "„": "“", "«": "»", "「": "」", "『": "』", '"': '"', "‹": "›"}


_QUOTE_CHARS: Final = re.compile("[" + "".join(sorted(set(_OPENERS) | set(_OPENERS.values()))) + "]")


def quote_spans(text: str, start: int, end: int) -> list[Span]:
    """Spans of double-quoted passages between ``start`` and ``end`` (one paragraph)."""
    spans: list[Span] = []
    open_at, closer = -1, ""
    for match in _QUOTE_CHARS.finditer(text, start, end):
        char, index = match.group(), match.start()
        if open_at >= 0 and char == closer:
            spans.append((open_at, index + 1))
            open_at = -1
        elif open_at < 0 and char in _OPENERS:
            open_at, closer = index, _OPENERS[char]
    if open_at >= 0:
        spans.append((open_at, end))  # a quote running on to the end of the paragraph
    return spans


def _inside_quotes(text: str, start: int, end: int, layout: _Layout) -> bool:
    if not layout.paragraphs:
        return False
    first = layout.paragraph_at(start)
    last = layout.paragraph_at(max(start, end - 1))
    for paragraph in range(first, last + 1):
        p_start, p_end = layout.paragraphs[paragraph]
        for q_start, q_end in quote_spans(text, p_start, p_end):
            if q_start < max(end, start + 1) and start < q_end:
                return True
    return False


# --- sentences and stats -----------------------------------------------------------


def _sentence_changes(
    regions: list[_Region], moves: list[Move], old_layout: _Layout, new_layout: _Layout, index: _OpIndex
) -> list[SentenceChange]:
    """Group changed sentences: regions that share a sentence belong together."""
    parent: dict[tuple[str, int, int], tuple[str, int, int]] = {}

    def find(node: tuple[str, int, int]) -> tuple[str, int, int]:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    order: dict[tuple[str, int, int], int] = {}
    for region in regions:
        nodes = [("a", p, s) for p, s in old_layout.touched(region.a_start, region.a_end)]
        nodes += [("b", p, s) for p, s in new_layout.touched(region.b_start, region.b_end)]
        for node in nodes:
            parent.setdefault(node, node)
            order.setdefault(node, region.b_start)
        for node in nodes[1:]:
            parent[find(node)] = find(nodes[0])
    groups: dict[tuple[str, int, int], list[tuple[str, int, int]]] = {}
    for node in parent:
        groups.setdefault(find(node), []).append(node)
    result = []
    for members in sorted(groups.values(), key=lambda m: min(order[n] for n in m)):
        result.extend(_sentence_group(sorted(members), old_layout, new_layout, index))
    result.extend(_moved_sentences(moves, old_layout, new_layout))
    return result


def _sentence_group(
    members: list[tuple[str, int, int]], old_layout: _Layout, new_layout: _Layout, index: _OpIndex
) -> list[SentenceChange]:
    old_ids = [(p, s) for side, p, s in members if side == "a"]
    new_ids = [(p, s) for side, p, s in members if side == "b"]
    if not new_ids or not old_ids:
        return _whole_sentences(old_ids, new_ids, old_layout, new_layout)
    # A text replaced wholesale (a page that now serves another article) is one
    # replacement touching every sentence of both sides: as one "edited" sentence
    # it said nothing, and word-diffing it cost seconds (20,000 words: 2.1 s).
    a_span, b_span = old_layout.span_of(old_ids[0], old_ids[-1]), new_layout.span_of(new_ids[0], new_ids[-1])
    if a_span[1] - a_span[0] + b_span[1] - b_span[0] > LARGE_BLOCK:
        return _whole_sentences(old_ids, new_ids, old_layout, new_layout)
    first_old, first_new = old_ids[0], new_ids[0]
    ops = None
    if old_ids[-1][0] == first_old[0] and new_ids[-1][0] == first_new[0]:
        # Within one paragraph on each side: the body's ops already say how these sentences changed.
        (a_start, a_end), (b_start, b_end) = a_span, b_span
        ops = index.cut(a_start, a_end, b_start, b_end)
        old, new = old_layout.text[a_start:a_end], new_layout.text[b_start:b_end]
    if ops is None:
        old = " ".join(old_layout.sentence_text(p, s) for p, s in old_ids)
        new = " ".join(new_layout.sentence_text(p, s) for p, s in new_ids)
        ops = token_diff(old, new)
    return [
        SentenceChange(
            "edited",
            old,
            new,
            ops,
            Position(first_old[0] + 1, first_old[1] + 1),
            Position(first_new[0] + 1, first_new[1] + 1),
        )
    ]


def _whole_sentences(
    old_ids: list[tuple[int, int]], new_ids: list[tuple[int, int]], old_layout: _Layout, new_layout: _Layout
) -> list[SentenceChange]:
    """Each sentence of a group as deleted (old side) or added (new side)."""
    return [
        SentenceChange("deleted", old_layout.sentence_text(p, s), "", [], Position(p + 1, s + 1), None)
        for p, s in old_ids
    ] + [
        SentenceChange("added", "", new_layout.sentence_text(p, s), [], None, Position(p + 1, s + 1))
        for p, s in new_ids
    ]


def _moved_sentences(moves: list[Move], old_layout: _Layout, new_layout: _Layout) -> list[SentenceChange]:
    return [
        SentenceChange(
            "moved",
            move.old_text.strip(),
            move.new_text.strip(),
            move.ops,
            old_layout.position(_first_visible(old_layout.text, move.old_start, len(old_layout.text))),
            new_layout.position(_first_visible(new_layout.text, move.new_start, len(new_layout.text))),
        )
        for move in moves
    ]


def _op_words(ops: list[Op], kind: str) -> int:
    return sum(count_words(op.text) for op in ops if op.op == kind)


def _stats(
    ops: list[Op],
    title_ops: list[Op],
    moves: list[Move],
    sentences: list[SentenceChange],
    old_layout: _Layout,
    new_layout: _Layout,
) -> Stats:
    plain = [op for op in ops if op.move is None]
    inner = [op for move in moves for op in move.ops] + title_ops
    stats = Stats(
        words_added=_op_words(plain, INSERT) + _op_words(inner, INSERT),
        words_deleted=_op_words(plain, DELETE) + _op_words(inner, DELETE),
        paragraphs_moved=sum(move.unit == "paragraph" for move in moves),
    )
    stats.paragraphs_added = _whole_paragraphs(plain, INSERT, new_layout)
    stats.paragraphs_deleted = _whole_paragraphs(plain, DELETE, old_layout)
    for sentence in sentences:
        if sentence.kind == "added":
            stats.sentences_added += 1
        elif sentence.kind == "deleted":
            stats.sentences_deleted += 1
        elif sentence.kind == "edited":
            stats.sentences_edited += 1
        else:
            stats.sentences_moved += len(sentence_spans(sentence.new)) if sentence.new else 1
    return stats


def _whole_paragraphs(ops: list[Op], kind: str, layout: _Layout) -> int:
    """Paragraphs of one side whose visible text lies entirely in ``kind`` ops.

    Only paragraphs that a ``kind`` op touches are examined, so the cost follows
    the size of the change, not of the article.
    """
    covered: list[Span] = []
    pos = 0
    for op in ops:
        if op.op == kind:
            covered.append((pos, pos + len(op.text)))
        if op.op in (EQUAL, kind):
            pos += len(op.text)
    if not covered or not layout.paragraphs:
        return 0
    text = layout.text
    candidates = {
        p for start, end in covered for p in range(layout.paragraph_at(start), layout.paragraph_at(end - 1) + 1)
    }
    ends = [end for _, end in covered]
    count = 0
    for paragraph in sorted(candidates):
        start, end = layout.paragraphs[paragraph]
        visible_end = content_end(text, (start, end))
        pos = start
        index = bisect_right(ends, start)
        whole = True
        while pos < visible_end:
            if index >= len(covered) or covered[index][0] >= visible_end:
                whole = not text[pos:visible_end].strip()
                break
            s, e = covered[index]
            if s > pos and text[pos:s].strip():
                whole = False
                break
            pos = max(pos, e)
            index += 1
        count += whole
    return count


# The log's one line (and the diff's header) named every number of every change: a
# page replaced by another one holds hundreds, a table of results updated dozens.
_LISTED_CHANGES: Final = 3
_LISTED_NUMBERS: Final = 6


def _listed(numbers: list[str]) -> str:
    """The numbers of one side of a change, the first few of them."""
    shown = " ".join(numbers[:_LISTED_NUMBERS])
    return f"{shown} … ({len(numbers):,} numbers)" if len(numbers) > _LISTED_NUMBERS else shown


def summarize(diff: ArticleDiff) -> str:
    """One line for ``log``: "headline changed · +3 paragraphs · number changed: three → two"."""
    stats = diff.stats
    parts = []
    if diff.title_changed:
        parts.append("headline changed")
    for count, label in (
        (stats.paragraphs_added, "+{} paragraph{}"),
        (stats.paragraphs_deleted, "−{} paragraph{}"),
        (stats.paragraphs_moved, "{} paragraph{} moved"),
        (sum(change.unit == "sentence" for change in diff.changes), "{} sentence{} moved"),
        (stats.sentences_edited, "{} sentence{} edited"),
    ):
        if count:
            parts.append(label.format(count, "" if count == 1 else "s"))
    numbered = [change for change in diff.changes if "number" in change.flags]
    for change in numbered[:_LISTED_CHANGES]:
        old = _listed(numbers_in(_side_text(change.ops, DELETE) if change.ops else change.old))
        new = _listed(numbers_in(_side_text(change.ops, INSERT) if change.ops else change.new))
        parts.append(f"number changed: {old} → {new}")
    if len(numbered) > _LISTED_CHANGES:
        parts.append(f"{len(numbered) - _LISTED_CHANGES} more numbers changed")
    if any("quote" in change.flags and change.kind != "insert" for change in diff.changes):
        parts.append("quote changed")
    if not parts and (stats.words_added or stats.words_deleted):
        parts.append(f"+{stats.words_added}/−{stats.words_deleted} words")
    return " · ".join(parts) if parts else "whitespace only"
