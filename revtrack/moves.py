"""Moves: paragraphs and sentences that left one place and arrived, unchanged or nearly so, at another.

Paragraphs first (:func:`find_moves` over the paragraphs of the changed blocks,
before the word diff): one found once among each side's changed paragraphs,
in another block, is a move; so is one whose best word match (Dice of word
sets, then the word diff's kept share) lies clearly in another block, unless
what it lost or gained is a sentence that sits unchanged elsewhere.

Sentences after the word diff (:func:`sentence_moves`): whole sentences that
the word diff deleted in one run of changes and inserted in another, or that
came back in another order inside one run, become moves, and each run that
lost or gained one is diffed again without it. Only text the word diff had
already marked changed is relabelled, so a move never makes a diff larger.

A move is one delete and one insert carrying the same ``move`` number, plus
the word diff between its two texts.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from revtrack.segment import Paragraphs, sentence_spans
from revtrack.tokens import count_words, surely_simple, words
from revtrack.wordiff import DELETE, EQUAL, INSERT, Op, normalize, similarity, splice, token_diff, without

_NEAR_MOVE_MAX_PAIRS: Final = 40_000
# Each unit's best match in its own place is looked for among every unit of the
# other side there: a page replaced by an unrelated one is one place of ~1,150
# paragraphs a side (20,000 words), 2.6 M word-set comparisons, 2.2 s. Past
# this many, a place is a rewrite, not edits with moves among them, and only
# exact moves are looked for (wikidiff2 likewise stops looking for moves past
# a number of changed lines). The 250 Wikipedia pairs reach 10,220 at most.
_IN_PLACE_MAX_PAIRS: Final = 100_000


class _MoveRule(NamedTuple):
    """How much text a move needs: words for an exact move, words and kept share for an edited one."""

    min_words: int
    near_min_words: int
    near_min_similarity: float


# Sentences need more words than paragraphs: short sentences ("He said.",
# "Police declined to comment.") recur in news copy without having moved.
PARAGRAPH_RULE: Final = _MoveRule(3, 5, 0.66)

_SENTENCE_RULE: Final = _MoveRule(5, 8, 0.75)


@dataclass
class Move:
    """A paragraph or sentence that left one place and arrived, unchanged or nearly, at another.

    ``old_text``/``new_text`` are exactly what the move's delete and insert ops
    hold; ``ops`` is the word diff between their visible texts.
    """

    id: int
    old_start: int
    old_text: str
    new_start: int
    new_text: str
    ops: list[Op] = field(default_factory=list)
    unit: str = "paragraph"  # or "sentence"


@dataclass
class Unit:
    """A paragraph or sentence of one side that may have moved.

    ``start``/``end`` is the text a move takes (a paragraph with its trailing
    blank lines, a sentence without the space around it); ``place`` says which
    run of changed text it sits in, so that a pairing within one run reads as
    an edit in place and only one across runs as a move.
    """

    start: int
    end: int
    key: str  # the exact text, trailing whitespace included
    visible: str = ""  # the text without surrounding whitespace
    place: int = 0  # the changed run it sits in (block for paragraphs, hole between kept sentences)
    block: int = 0  # the changed block it belongs to
    move: int = -1  # index into the moves, if it moved


# How alike a unit and its counterpart in its own place must be for it to take
# part in no move (an edit in place); measured with Dice over their word sets,
# or by the caller's `in_place` measure where it has one.
_NEARLY_EQUAL: Final = 0.9

# The caller's similarity of the only two loose units of one place (None: no opinion).
InPlace = Callable[[Unit, Unit], "float | None"]


def find_moves(
    a: str,
    b: str,
    units_a: list[Unit],
    units_b: list[Unit],
    moves: list[Move],
    rule: _MoveRule,
    kind: str,
    in_place: InPlace | None = None,
) -> None:
    """Pair units (paragraphs or sentences) that left one changed place and arrived in another.

    ``in_place`` lets the caller say how alike the two units of a place that
    holds one on each side are: at :data:`_NEARLY_EQUAL` or more, they are an
    edit in place and their word sets are never built (most changed paragraphs
    are such edits, and the sets cost more than the rest of the search).
    """
    # Exact moves: a text found once among each side's loose units, in another
    # place. Repeated lines (table syntax, "Advertisement") are left to the
    # word diff of their blocks.
    count_a: dict[str, int] = {}
    for unit in units_a:
        count_a[unit.visible] = count_a.get(unit.visible, 0) + 1
    by_key: dict[str, list[Unit]] = {}
    for unit in units_b:
        by_key.setdefault(unit.visible, []).append(unit)
    for unit in units_a:
        candidates = by_key.get(unit.visible, [])
        if (
            count_a[unit.visible] == 1
            and len(candidates) == 1
            and candidates[0].place != unit.place
            and count_words(unit.visible) >= rule.min_words
        ):
            _add_move(moves, a, b, unit, candidates[0], kind)
    loose_a, loose_b = [u for u in units_a if u.move < 0], [u for u in units_b if u.move < 0]
    _find_near_moves(a, b, loose_a, loose_b, moves, rule, kind, _staying(loose_a, loose_b, in_place))


def _staying(loose_a: list[Unit], loose_b: list[Unit], in_place: InPlace | None) -> set[int]:
    """Ids of the units that ``in_place`` finds nearly equal to the only counterpart in their place."""
    if in_place is None:
        return set()
    by_place: dict[int, tuple[list[Unit], list[Unit]]] = {}
    for side, units in ((0, loose_a), (1, loose_b)):
        for unit in units:
            by_place.setdefault(unit.place, ([], []))[side].append(unit)
    staying: set[int] = set()
    for place_a, place_b in by_place.values():
        if len(place_a) == 1 and len(place_b) == 1:
            alike = in_place(place_a[0], place_b[0])
            if alike is not None and alike >= _NEARLY_EQUAL:
                staying.update((id(place_a[0]), id(place_b[0])))
    return staying


def _find_near_moves(
    a: str,
    b: str,
    loose_a: list[Unit],
    loose_b: list[Unit],
    moves: list[Move],
    rule: _MoveRule,
    kind: str,
    staying: set[int],
) -> None:
    """Moves of units that were also edited: the best match lies in another place."""
    words_a = [
        (u, found) for u in loose_a if id(u) not in staying and len(found := set(_words(u.key))) >= rule.near_min_words
    ]
    words_b = [
        (u, found) for u in loose_b if id(u) not in staying and len(found := set(_words(u.key))) >= rule.near_min_words
    ]
    if not words_a or not words_b:
        return
    per_place = Counter(unit.place for unit, _ in words_b)
    if sum(per_place[unit.place] for unit, _ in words_a) > _IN_PLACE_MAX_PAIRS:
        return
    # Only a clearly better match in another place is a move: a twin in the
    # unit's own place (an edit in place, repeated lines) wins ties, and a unit
    # that nearly equals a counterpart in its own place takes part in no move.
    here_a = _best_in_place(words_a, words_b)
    here_b = _best_in_place(words_b, words_a)
    movable_a = [
        (unit, found, best) for (unit, found), best in zip(words_a, here_a, strict=True) if best < _NEARLY_EQUAL
    ]
    movable_b = [(unit, found) for (unit, found), best in zip(words_b, here_b, strict=True) if best < _NEARLY_EQUAL]
    if not movable_a or not movable_b or len(movable_a) * len(movable_b) > _NEAR_MOVE_MAX_PAIRS:
        return
    # Candidates sorted by set size: Dice can reach `need` only between sizes
    # within a factor (2 - need) / need of each other, a range found by bisection.
    by_size = sorted(range(len(movable_b)), key=lambda number: len(movable_b[number][1]))
    sizes = [len(movable_b[number][1]) for number in by_size]
    scored = []
    for unit_a, set_a, best_here in movable_a:
        need = max(0.5, best_here + 0.1)
        size = len(set_a)
        low = bisect_left(sizes, size * need / (2 - need))
        high = bisect_right(sizes, size * (2 - need) / need)
        best, best_number, best_unit = 0.0, -1, None
        for number in by_size[low:high]:
            unit_b, set_b = movable_b[number]
            if unit_b.place == unit_a.place:
                continue
            score = _dice(set_a, set_b)
            # The earliest of equally good candidates wins, whatever the size order.
            if score > best or (score == best and best_unit is not None and number < best_number):
                best, best_number, best_unit = score, number, unit_b
        if best_unit is not None and best >= need and best > best_here + 0.1:
            scored.append((best, unit_a, best_unit))
    split = _SentenceSplit(a, b, loose_a, loose_b) if kind == "paragraph" and scored else None
    for _, unit_a, unit_b in sorted(scored, key=lambda item: -item[0]):
        if unit_b.move >= 0:
            continue
        if split is not None and split.traded_sentences(unit_a, unit_b):
            continue
        inner = _inner_diff(a[unit_a.start : unit_a.end], b[unit_b.start : unit_b.end])
        if similarity(inner) >= rule.near_min_similarity:
            _add_move(moves, a, b, unit_a, unit_b, kind, inner)


class _SentenceSplit:
    """Tells an edited paragraph from one whose sentences went elsewhere."""

    def __init__(self, a: str, b: str, loose_a: list[Unit], loose_b: list[Unit]) -> None:
        self.a, self.b = a, b
        # All loose paragraphs of each side, to look a sentence up in with one substring search.
        self.loose_a = "\n".join(u.visible for u in loose_a)
        self.loose_b = "\n".join(u.visible for u in loose_b)

    @staticmethod
    def _sentences(text: str, unit: Unit) -> set[str]:
        return {text[s:e].strip() for s, e in sentence_spans(text, (unit.start, unit.end))} - {""}

    def traded_sentences(self, unit_a: Unit, unit_b: Unit) -> bool:
        """Whether a sentence that one paragraph lacks sits, unchanged, in a loose paragraph of the other side.

        "A B" -> "A" with "B" now elsewhere is a sentence move, not a
        paragraph that moved and lost a sentence.
        """
        old, new = self._sentences(self.a, unit_a), self._sentences(self.b, unit_b)
        enough = _SENTENCE_RULE.min_words
        lost = any(len(_words(s)) >= enough and s in self.loose_b for s in old - new)
        gained = any(len(_words(s)) >= enough and s in self.loose_a for s in new - old)
        return lost or gained


def _best_in_place(units: list[tuple[Unit, set[str]]], others: list[tuple[Unit, set[str]]]) -> list[float]:
    """For each unit, its best Dice with a unit of the other side in the same place (0 if none)."""
    by_place: dict[int, list[set[str]]] = {}
    for unit, found in others:
        by_place.setdefault(unit.place, []).append(found)
    return [max((_dice(found, other) for other in by_place.get(unit.place, ())), default=0.0) for unit, found in units]


def _dice(set_a: set[str], set_b: set[str]) -> float:
    return 2 * len(set_a & set_b) / (len(set_a) + len(set_b))


def _inner_diff(old_text: str, new_text: str) -> list[Op]:
    """The edits inside a moved piece; the space around it stayed behind, so it is left out."""
    return token_diff(old_text.strip(), new_text.strip())


def _add_move(
    moves: list[Move], a: str, b: str, unit_a: Unit, unit_b: Unit, kind: str, inner: list[Op] | None = None
) -> None:
    old_text, new_text = a[unit_a.start : unit_a.end], b[unit_b.start : unit_b.end]
    unit_a.move = unit_b.move = len(moves)
    ops = inner if inner is not None else _inner_diff(old_text, new_text)
    moves.append(Move(len(moves), unit_a.start, old_text, unit_b.start, new_text, ops, kind))


# --- sentence level -----------------------------------------------------------


@dataclass
class _Run:
    """A run of changes between two stretches of unchanged text: ``ops[first:stop]``."""

    first: int
    stop: int
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    # The few words of the unchanged text around the run that belong to the
    # sentences it starts and ends in: a sentence whose first word or closing
    # full stop the word diff kept ("The [-army-]{+mayor+} said") still moved whole.
    head: int = 0
    tail: int = 0
    deleted: list[str] = field(default_factory=list)  # words of the plain (not moved) deletes
    inserted: list[str] = field(default_factory=list)
    # Moved paragraphs inside the run, per side: (start, end, move number).
    moved_a: list[tuple[int, int, int]] = field(default_factory=list)
    moved_b: list[tuple[int, int, int]] = field(default_factory=list)


def _change_runs(ops: list[Op]) -> list[_Run]:
    """The runs of inserts and deletes, joined across equal ops of a few words.

    A word or two that the word diff happened to keep ("the") should not stop
    a sentence from counting as wholly deleted or inserted.
    """
    runs: list[_Run] = []
    current: _Run | None = None
    pos_a = pos_b = 0
    for index, op in enumerate(ops):
        if op.op == EQUAL and _has_words(op.text, _RUN_BREAK_WORDS):
            current = None
        elif op.op != EQUAL:
            if current is None:
                current = _Run(index, index, pos_a, pos_a, pos_b, pos_b)
                runs.append(current)
            current.stop = index + 1
            if op.move is None:
                (current.deleted if op.op == DELETE else current.inserted).extend(_words(op.text))
            else:
                spans = current.moved_a if op.op == DELETE else current.moved_b
                at = pos_a if op.op == DELETE else pos_b
                spans.append((at, at + len(op.text), op.move))
        if op.op != INSERT:
            pos_a += len(op.text)
        if op.op != DELETE:
            pos_b += len(op.text)
        if op.op != EQUAL and current is not None:
            # A run ends, on both sides, after its last change.
            current.a_end, current.b_end = pos_a, pos_b
    return runs


def _sharing_runs(runs: list[_Run]) -> tuple[set[int], set[int]]:
    """Runs whose deleted words and runs whose inserted words share word triples with the other side.

    A sentence that moved, even with an edit, leaves runs of three words
    deleted in one place and inserted in another; only such runs are split
    into sentences (most edits are a few words and cost nothing here).
    """
    triples_a: dict[tuple[str, str, str], list[int]] = {}
    for number, run in enumerate(runs):
        if len(run.deleted) >= _SENTENCE_RULE.min_words:
            for triple in set(zip(run.deleted, run.deleted[1:], run.deleted[2:], strict=False)):
                triples_a.setdefault(triple, []).append(number)
    old_side: set[int] = set()
    new_side: set[int] = set()
    if not triples_a:
        return old_side, new_side
    for number, run in enumerate(runs):
        if len(run.inserted) < _SENTENCE_RULE.min_words:
            continue
        shared: dict[int, int] = {}
        for triple in set(zip(run.inserted, run.inserted[1:], run.inserted[2:], strict=False)):
            for other in triples_a.get(triple, ()):
                shared[other] = shared.get(other, 0) + 1
        partners = {other for other, count in shared.items() if count >= _SHARED_TRIPLES}
        if partners:
            new_side.add(number)
            old_side |= partners
    return old_side, new_side


# Word triples a deleted and an inserted run must share to be searched for a moved sentence.
_SHARED_TRIPLES: Final = 2


def _sentence_edges(
    ops: list[Op], runs: list[_Run], wanted: set[int], layout_a: SentenceLayout, layout_b: SentenceLayout
) -> None:
    """Set the head and tail of the ``wanted`` runs: the unchanged words around them that finish their sentences."""
    taken = 0  # how much of the equal op before the run the previous run's tail took
    for number, run in enumerate(runs):
        if number not in wanted:
            taken = 0
            continue
        if run.first > 0:
            room = len(ops[run.first - 1].text) - (taken if number and runs[number - 1].stop == run.first - 1 else 0)
            needs = [
                offset - layout.sentence_at(offset)[0]
                for layout, offset in ((layout_a, run.a_start), (layout_b, run.b_start))
            ]
            run.head = _few_words(ops[run.first - 1].text, max([0] + [n for n in needs if n <= room]), from_end=True)
        taken = 0
        if run.stop < len(ops) and ops[run.stop].op == EQUAL:
            needs = []
            for layout, offset in ((layout_a, run.a_end), (layout_b, run.b_end)):
                start, visible_end = layout.sentence_at(offset)
                needs.append(visible_end - offset if start < offset else 0)
            room = len(ops[run.stop].text)
            run.tail = taken = _few_words(
                ops[run.stop].text, max([0] + [n for n in needs if n <= room]), from_end=False
            )


def _words(text: str) -> list[str]:
    """The words of ``text``: split at spaces where that is exact, else revtrack's word tokens.

    Chinese, Japanese and Thai are written without spaces; there every Han
    character or Thai cluster counts as a word, as in the word diff.
    """
    return text.split() if surely_simple(text) else words(text)


def _has_words(text: str, count: int) -> bool:
    """Whether ``text`` holds at least ``count`` words (a long text surely does: not counted)."""
    return len(text) > 200 or len(_words(text)) >= count


def _few_words(text: str, size: int, from_end: bool) -> int:
    """``size`` if that many characters at the start (or end) of ``text`` hold only a few words, else 0."""
    piece = text[len(text) - size :] if from_end else text[:size]
    return size if size and len(_words(piece)) < _RUN_BREAK_WORDS else 0


# An unchanged stretch of at least this many words separates two runs of changes.
_RUN_BREAK_WORDS: Final = 4


def sentence_moves(layout_a: SentenceLayout, layout_b: SentenceLayout, ops: list[Op], moves: list[Move]) -> list[Op]:
    """Find whole sentences that the word diff deleted in one place and inserted in another; make them moves.

    A place is a run of changes between two unchanged stretches. Sentences
    deleted in one run and inserted in another are moves; within one run,
    sentences that come back in another order are moves too (those in the
    longest common order stay). Each run that lost or gained a moved sentence
    is diffed again without it, so the sentences around it can align.
    A sentence that the word diff split around a kept word or two ("The
    [-army-]{+mayor+} said ...") still counts as whole (see :class:`_Run`).
    """
    a, b = layout_a.text, layout_b.text
    runs = _change_runs(ops)
    old_side, new_side = _sharing_runs(runs)
    if not old_side or not new_side:
        return ops
    _sentence_edges(ops, runs, old_side | new_side, layout_a, layout_b)
    units_a: list[Unit] = []
    units_b: list[Unit] = []
    for number, run in enumerate(runs):
        if number in old_side:
            units_a += _outside(
                layout_a.whole_sentences(run.a_start - run.head, run.a_end + run.tail, number), run.moved_a
            )
        if number in new_side:
            units_b += _outside(
                layout_b.whole_sentences(run.b_start - run.head, run.b_end + run.tail, number), run.moved_b
            )
    if not units_a or not units_b:
        return ops
    find_moves(a, b, units_a, units_b, moves, _SENTENCE_RULE, "sentence")
    _reordered_in_runs(a, b, units_a, units_b, moves)
    moved_a = [u for u in units_a if u.move >= 0]
    moved_b = [u for u in units_b if u.move >= 0]
    if not moved_a and not moved_b:
        return ops
    return _rediff_runs(a, b, ops, runs, moved_a, moved_b, moves)


def _outside(units: list[Unit], taken: list[tuple[int, int, int]]) -> list[Unit]:
    """The units that overlap none of the ``taken`` spans (sentences of a moved paragraph stay with it)."""
    return [u for u in units if not any(start < u.end and u.start < end for start, end, _ in taken)]


def _reordered_in_runs(a: str, b: str, units_a: list[Unit], units_b: list[Unit], moves: list[Move]) -> None:
    """Within one run, sentences that came back in another order: all but the longest common order moved."""
    by_run: dict[int, tuple[list[Unit], list[Unit]]] = {}
    for unit in units_a:
        if unit.move < 0:
            by_run.setdefault(unit.place, ([], []))[0].append(unit)
    for unit in units_b:
        if unit.move < 0 and unit.place in by_run:
            by_run[unit.place][1].append(unit)
    for side_a, side_b in by_run.values():
        count_a = Counter(u.visible for u in side_a)
        count_b = Counter(u.visible for u in side_b)
        where_b = {u.visible: j for j, u in enumerate(side_b)}
        pairs = [
            (i, where_b[unit.visible])
            for i, unit in enumerate(side_a)
            if count_a[unit.visible] == 1
            and count_b[unit.visible] == 1
            and count_words(unit.visible) >= _SENTENCE_RULE.min_words
        ]
        if len(pairs) < 2:
            continue
        kept = _longest_increasing([j for _, j in pairs])
        for index, (i, j) in enumerate(pairs):
            if index not in kept:
                _add_move(moves, a, b, side_a[i], side_b[j], "sentence")


def _longest_increasing(values: list[int]) -> set[int]:
    """Indices of one longest strictly increasing subsequence (patience sorting, n log n)."""
    tails: list[int] = []  # tails[k]: index of the smallest last value of an increasing run of length k + 1
    tail_values: list[int] = []
    previous = [-1] * len(values)
    for index, value in enumerate(values):
        length = bisect_left(tail_values, value)
        if length:
            previous[index] = tails[length - 1]
        if length == len(tails):
            tails.append(index)
            tail_values.append(value)
        else:
            tails[length] = index
            tail_values[length] = value
    chain = set()
    index = tails[-1] if tails else -1
    while index >= 0:
        chain.add(index)
        index = previous[index]
    return chain


def _rediff_runs(
    a: str, b: str, ops: list[Op], runs: list[_Run], moved_a: list[Unit], moved_b: list[Unit], moves: list[Move]
) -> list[Op]:
    """Replace each run that lost or gained a moved sentence by a fresh diff with the sentence spliced in."""
    cuts_a: dict[int, list[tuple[int, int, int]]] = {}
    cuts_b: dict[int, list[tuple[int, int, int]]] = {}
    for unit in moved_a:
        cuts_a.setdefault(unit.place, []).append((unit.start, unit.end, unit.move))
    for unit in moved_b:
        cuts_b.setdefault(unit.place, []).append((unit.start, unit.end, unit.move))
    out: list[Op] = []
    at = 0
    for number, run in enumerate(runs):
        if number not in cuts_a and number not in cuts_b:
            continue
        out.extend(ops[at : run.first])
        head, tail = run.head, run.tail
        if head:
            # The run takes the end of the equal op before it (emitted just now
            # or, if the previous run took its start, still to come).
            out[-1] = Op(EQUAL, out[-1].text[:-head])
        start_a, start_b = run.a_start - head, run.b_start - head
        old_cuts = sorted(cuts_a.get(number, []) + run.moved_a)
        new_cuts = sorted(cuts_b.get(number, []) + run.moved_b)
        kept_a = without(a, start_a, run.a_end + tail, old_cuts)
        kept_b = without(b, start_b, run.b_end + tail, new_cuts)
        fresh = token_diff(kept_a, kept_b)
        for start, _, move in old_cuts:
            fresh = splice(fresh, DELETE, start - start_a, moves[move].old_text, move)
        for start, _, move in new_cuts:
            fresh = splice(fresh, INSERT, start - start_b, moves[move].new_text, move)
        out.extend(fresh)
        at = run.stop
        if tail:
            out.append(Op(EQUAL, ops[run.stop].text[tail:]))
            at += 1
    out.extend(ops[at:])
    return normalize(out)


class SentenceLayout:
    """Paragraph starts of one side and, on demand, the sentences of a paragraph."""

    def __init__(self, paragraphs: Paragraphs) -> None:
        self.text = paragraphs.text
        self.paragraphs = paragraphs
        self._sentences: dict[int, list[tuple[int, int]]] = {}

    def sentences_of(self, number: int) -> list[tuple[int, int]]:
        if number not in self._sentences:
            self._sentences[number] = sentence_spans(
                self.text, (self.paragraphs.starts[number], self.paragraphs.ends[number])
            )
        return self._sentences[number]

    def sentence_at(self, offset: int) -> tuple[int, int]:
        """(start, visible end) of the sentence holding ``offset``, or (offset, offset) between paragraphs."""
        number = bisect_right(self.paragraphs.starts, offset) - 1
        if number < 0 or offset >= len(self.text):
            return offset, offset
        for start, end in self.sentences_of(number):
            if start <= offset < end:
                return start, start + len(self.text[start:end].rstrip())
        return offset, offset

    def whole_sentences(self, start: int, end: int, place: int) -> list[Unit]:
        """Sentences whose visible text lies entirely inside ``[start, end)``, as movable units."""
        paragraphs = self.paragraphs
        first = max(0, bisect_right(paragraphs.starts, start) - 1)
        found = []
        for number in range(first, len(paragraphs)):
            if paragraphs.starts[number] >= end:
                break
            for span_start, span_end in self.sentences_of(number):
                raw = self.text[span_start:span_end]
                visible_start = span_start + len(raw) - len(raw.lstrip())
                visible_end = span_start + len(raw.rstrip())
                if start <= visible_start < visible_end <= end:
                    visible = self.text[visible_start:visible_end]
                    found.append(Unit(visible_start, visible_end, visible, visible, place=place))
        return found
