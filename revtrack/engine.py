"""The word-diff engine: exact operations between two texts, with paragraph moves.

Two stages, so that long articles with a few edits cost little more than their
edits:

1. Paragraphs are aligned first. Paragraphs that occur exactly once on each side
   and keep their order are anchors (the heaviest chain of them: the most
   paragraphs, ties broken by length). A paragraph that left one gap between
   anchors and arrived, unchanged or nearly so, in another is a *move*.
2. The text between anchors is diffed word by word: diff-match-patch over
   tokens (each distinct token mapped to one character), then its semantic
   cleanup, so that "there is a ceasefire" -> "there is no ceasefire" reads as
   one edit and not a scatter of one-word changes. Whitespace tokens all map to
   one character, so re-wrapped text aligns; the differing whitespace comes
   back as separate whitespace-only operations.

The result rebuilds both texts exactly: the ``equal`` and ``delete`` texts in
order give the old text, ``equal`` and ``insert`` give the new one. The pair is
put in a canonical order before diffing, so ``diff(b, a)`` is exactly the
mirror of ``diff(a, b)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, NamedTuple

import fast_diff_match_patch
from diff_match_patch import diff_match_patch

from revtrack.segment import sentence_spans
from revtrack.tokens import count_words, is_word, pieces

EQUAL: Final = "equal"
INSERT: Final = "insert"
DELETE: Final = "delete"

# Changed blocks longer than this (characters, both sides) are aligned by
# sentence before the word diff.
_LARGE_BLOCK: Final = 60_000
# A moved paragraph needs this many words (more when it was also edited).
_MOVE_MIN_WORDS: Final = 3
# Unchanged runs at least this many tokens long always stay unchanged.
_KEEP_EQUALITY: Final = 12
_NEAR_MOVE_MIN_WORDS: Final = 5
_NEAR_MOVE_MIN_SIMILARITY: Final = 0.66
_NEAR_MOVE_MAX_PAIRS: Final = 40_000


class Op(NamedTuple):
    """One diff operation. ``move`` links the delete and insert of a moved paragraph."""

    op: str
    text: str
    move: int | None = None


@dataclass
class Move:
    """A paragraph that left one place and arrived, unchanged or nearly, at another."""

    id: int
    old_start: int
    old_text: str
    new_start: int
    new_text: str
    ops: list[Op] = field(default_factory=list)


@dataclass
class Alignment:
    """Everything the engine found: exact ops over both texts, and the moves among them."""

    ops: list[Op]
    moves: list[Move]


# diff-match-patch in two builds: the C++ one computes the raw diff (Myers'
# algorithm with no deadline, so results never depend on machine load), the
# Python one supplies the cleanup passes that revtrack tunes for words.
_DMP: Final = diff_match_patch()
_RAW_KIND: Final = {"=": 0, "+": 1, "-": -1}


def raw_diff(a: str, b: str) -> list[tuple[int, str]]:
    """Minimal character diff in diff-match-patch's tuple form (-1 delete, 0 equal, 1 insert)."""
    pieces = fast_diff_match_patch.diff(a, b, timelimit=0, checklines=False, cleanup="No", counts_only=False)
    return [(_RAW_KIND[kind], text) for kind, text in pieces]


# --- token level -------------------------------------------------------------


class _CodeBook:
    """Maps tokens to single characters whose classes mimic the tokens'.

    diff-match-patch's lossless cleanup prefers edit boundaries by character
    class, so words get letters (CJK ideographs) and punctuation gets
    private-use characters.
    """

    _WORD_RANGES: Final = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2EBE0))
    _OTHER_RANGES: Final = ((0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD))
    _word_pool: str = ""
    _other_pool: str = ""

    def __init__(self) -> None:
        if not _CodeBook._word_pool:
            _CodeBook._word_pool = "".join(chr(c) for lo, hi in self._WORD_RANGES for c in range(lo, hi + 1))
            _CodeBook._other_pool = "".join(chr(c) for lo, hi in self._OTHER_RANGES for c in range(lo, hi + 1))
        self.codes: dict[str, str] = {}
        self.words = 0
        self.others = 0

    def encode(self, tokens: list[str]) -> str | None:
        """The code string for ``tokens``, or None when the pools run out."""
        codes = self.codes
        for token in set(tokens).difference(codes):
            if is_word(token):
                if self.words >= len(self._word_pool):
                    return None
                codes[token] = self._word_pool[self.words]
                self.words += 1
            else:
                if self.others >= len(self._other_pool):
                    return None
                codes[token] = self._other_pool[self.others]
                self.others += 1
        return "".join(map(codes.__getitem__, tokens))


def token_diff(a: str, b: str, book: _CodeBook | None = None) -> list[Op]:
    """Word-level ops from ``a`` to ``b`` with no paragraph structure (used inside gaps).

    Tokens are aligned with the whitespace after each one riding along (half
    the sequence length of aligning whitespace tokens too, so a quarter of
    the work); whitespace that differs between aligned tokens comes back as
    whitespace-only ops.
    """
    if a == b:
        return [Op(EQUAL, a)] if a else []
    if not a:
        return [Op(INSERT, b)]
    if not b:
        return [Op(DELETE, a)]
    lead_a, pieces_a = pieces(a)
    lead_b, pieces_b = pieces(b)
    book = book if book is not None else _CodeBook()
    codes_a = book.encode([token for token, _ in pieces_a])
    codes_b = book.encode([token for token, _ in pieces_b])
    if codes_a is None or codes_b is None:
        # More distinct tokens than code characters: a character diff is still exact.
        diffs = raw_diff(a, b)
        _DMP.diff_cleanupSemantic(diffs)
        return normalize([Op(_OP_NAMES[kind], text) for kind, text in diffs])
    diffs = raw_diff(codes_a, codes_b)
    _cleanup_semantic(diffs)
    ops = [Op(EQUAL, lead_a)] if lead_a == lead_b else [Op(DELETE, lead_a), Op(INSERT, lead_b)]
    ops.extend(_decode(diffs, pieces_a, pieces_b))
    return _factor_spaces(normalize(ops))


_OP_NAMES: Final = {0: EQUAL, 1: INSERT, -1: DELETE}


def _cleanup_semantic(diffs: list[tuple[int, str]]) -> None:
    """diff-match-patch's semantic cleanup, measured in tokens and strict.

    An equality is folded into the edits around it only when it holds fewer
    tokens than the edits on *both* sides, so "a b c" -> "x b y" keeps "b" as
    an anchor the way an editor marks it, while one kept word next to a whole
    inserted paragraph stays kept; a run of a dozen tokens or more (a clause,
    a sentence, a paragraph) is never folded.
    """
    changed = False
    equalities: list[int] = []
    last_equality: str | None = None
    before_ins = before_del = after_ins = after_del = 0
    pointer = 0
    while pointer < len(diffs):
        kind, codes = diffs[pointer]
        if kind == 0:
            equalities.append(pointer)
            before_ins, after_ins = after_ins, 0
            before_del, after_del = after_del, 0
            last_equality = codes
        else:
            if kind > 0:
                after_ins += len(codes)
            else:
                after_del += len(codes)
            if (
                last_equality is not None
                and len(last_equality) < _KEEP_EQUALITY
                and len(last_equality) < max(before_ins, before_del)
                and len(last_equality) < max(after_ins, after_del)
            ):
                at = equalities[-1]
                diffs.insert(at, (-1, last_equality))
                diffs[at + 1] = (1, diffs[at + 1][1])
                equalities.pop()
                if equalities:
                    equalities.pop()
                pointer = equalities[-1] if equalities else -1
                before_ins = before_del = after_ins = after_del = 0
                last_equality = None
                changed = True
        pointer += 1
    if changed:
        _DMP.diff_cleanupMerge(diffs)
    _DMP.diff_cleanupSemanticLossless(diffs)


def _decode(diffs: list[tuple[int, str]], pieces_a: list[tuple[str, str]], pieces_b: list[tuple[str, str]]) -> list[Op]:
    """Turn code-level diffs back into text ops; split out whitespace that differs."""
    texts_a = [token + space for token, space in pieces_a]
    texts_b = [token + space for token, space in pieces_b]
    ops: list[Op] = []
    i = j = 0
    for kind, codes in diffs:
        n = len(codes)
        if kind == 0:
            if texts_a[i : i + n] == texts_b[j : j + n]:
                ops.append(Op(EQUAL, "".join(texts_a[i : i + n])))
            else:
                ops.extend(_equal_with_space_changes(pieces_a[i : i + n], pieces_b[j : j + n]))
            i += n
            j += n
        elif kind < 0:
            ops.append(Op(DELETE, "".join(texts_a[i : i + n])))
            i += n
        else:
            ops.append(Op(INSERT, "".join(texts_b[j : j + n])))
            j += n
    return ops


def _equal_with_space_changes(run_a: list[tuple[str, str]], run_b: list[tuple[str, str]]) -> list[Op]:
    """Ops for aligned tokens whose following whitespace differs in places."""
    ops: list[Op] = []
    same: list[str] = []
    for (token, space_a), (_, space_b) in zip(run_a, run_b):
        same.append(token)
        if space_a == space_b:
            same.append(space_a)
            continue
        ops.append(Op(EQUAL, "".join(same)))
        same = []
        ops.append(Op(DELETE, space_a))
        ops.append(Op(INSERT, space_b))
    ops.append(Op(EQUAL, "".join(same)))
    return ops


def _factor_spaces(ops: list[Op]) -> list[Op]:
    """Move whitespace that a delete and the insert after it both end with out of them.

    "there is [-a -]{+no official +}ceasefire" becomes
    "there is [-a-]{+no official+} ceasefire".
    """
    out: list[Op] = []
    for op in ops:
        if op.op == INSERT and out and out[-1].op == DELETE and op.move is None and out[-1].move is None:
            deleted = out[-1].text
            common = 0
            while (
                common < min(len(deleted), len(op.text))
                and deleted[-1 - common] == op.text[-1 - common]
                and deleted[-1 - common].isspace()
            ):
                common += 1
            if common:
                out[-1] = Op(DELETE, deleted[:-common])
                out.append(Op(INSERT, op.text[:-common]))
                out.append(Op(EQUAL, op.text[-common:]))
                continue
        out.append(op)
    return normalize(out)


def normalize(ops: list[Op]) -> list[Op]:
    """Merge neighbours of one kind; in each run of changes put deletes first.

    Ops of a move are never merged with others, so the move stays addressable.
    Texts are collected and joined once per output op (long runs of anchors
    would make repeated concatenation quadratic).
    """
    out: list[Op] = []
    equal: list[str] = []
    run: list[Op] = []
    for op in ops:
        if not op.text:
            continue
        if op.op == EQUAL:
            if run:
                _flush_run(run, out)
            equal.append(op.text)
        else:
            if equal:
                out.append(Op(EQUAL, "".join(equal)))
                equal.clear()
            run.append(op)
    _flush_run(run, out)
    if equal:
        out.append(Op(EQUAL, "".join(equal)))
    return out


def _flush_run(run: list[Op], out: list[Op]) -> None:
    """Append a run of inserts/deletes to ``out``: deletes first, plain ones merged."""
    run.sort(key=lambda op: op.op != DELETE)
    merged: list[tuple[str, int | None, list[str]]] = []
    for op in run:
        if merged and merged[-1][0] == op.op and merged[-1][1] is None and op.move is None:
            merged[-1][2].append(op.text)
        else:
            merged.append((op.op, op.move, [op.text]))
    out.extend(Op(kind, "".join(texts), move) for kind, move, texts in merged)
    run.clear()


# --- paragraph level ---------------------------------------------------------


@dataclass
class _Unit:
    """A paragraph (or the leading whitespace) of one side, and where it went."""

    start: int
    end: int
    key: str  # the exact text, trailing whitespace included
    visible: str = ""  # the text without trailing whitespace
    gap: int = 0  # which changed block it belongs to
    move: int = -1  # index into the moves, if it moved


class _Paragraphs:
    """Where each paragraph of a text starts and ends, and its visible text.

    Kept as plain lists: a 50,000-word article has thousands of paragraphs,
    and only the few in changed blocks become :class:`_Unit` objects.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        starts: list[int] = []
        keys: list[str] = []
        pos = 0
        for line in text.split("\n"):
            if line and not line.isspace():
                starts.append(pos)
                # A paragraph's visible text is its one content line: the lines
                # after it, up to the next paragraph, are blank.
                keys.append(line.rstrip())
            pos += len(line) + 1
        if not starts and text or starts and starts[0] > 0:
            starts.insert(0, 0)
            keys.insert(0, "")
        self.starts = starts
        self.ends = starts[1:] + [len(text)]
        self.keys = keys

    def __len__(self) -> int:
        return len(self.starts)

    def unit(self, index: int) -> _Unit:
        start, end = self.starts[index], self.ends[index]
        return _Unit(start, end, self.text[start:end], self.keys[index])

    def units(self, first: int, stop: int) -> list[_Unit]:
        return [self.unit(index) for index in range(first, stop)]

    def raw(self, index: int) -> str:
        return self.text[self.starts[index] : self.ends[index]]


@dataclass
class _Block:
    """A run of paragraphs that differ between the sides, between two equal runs."""

    units_a: list[_Unit]
    units_b: list[_Unit]
    a_start: int
    a_end: int


def align(a: str, b: str) -> Alignment:
    """Diff ``a`` -> ``b``: exact ops plus paragraph moves (see the module docstring)."""
    if a > b:
        return _mirror(_align(b, a))
    return _number_moves(_align(a, b))


def _align(a: str, b: str) -> Alignment:
    if a == b:
        return Alignment([Op(EQUAL, a)] if a else [], [])
    blocks = _changed_blocks(_Paragraphs(a), _Paragraphs(b))
    moves = _find_moves(a, b, [u for k in blocks for u in k.units_a], [u for k in blocks for u in k.units_b])
    ops: list[Op] = []
    pos = 0
    book = _CodeBook()  # one token code table for the whole comparison
    for block in blocks:
        ops.append(Op(EQUAL, a[pos : block.a_start]))
        ops.extend(_gap_ops(a, b, block.units_a, block.units_b, moves, book))
        pos = block.a_end
    ops.append(Op(EQUAL, a[pos:]))
    return Alignment(normalize(ops), moves)


def _changed_blocks(old: _Paragraphs, new: _Paragraphs) -> list[_Block]:
    """Paragraph-level diff (C++ diff-match-patch over one character per paragraph)."""
    # Paragraphs are compared by their visible text, so one that only gained a
    # trailing blank line still pairs with its old self (as a block of its own).
    book: dict[str, str] = {}
    codes_a = "".join([book.setdefault(key, _paragraph_code(len(book))) for key in old.keys])
    codes_b = "".join([book.setdefault(key, _paragraph_code(len(book))) for key in new.keys])
    pieces = fast_diff_match_patch.diff(codes_a, codes_b, timelimit=0, checklines=False, cleanup="No")
    blocks: list[_Block] = []
    i = j = 0
    current: _Block | None = None
    for kind, count in pieces:
        if kind == "=":
            current = None
            for offset in range(count):
                if old.raw(i + offset) != new.raw(j + offset):
                    unit_a, unit_b = old.unit(i + offset), new.unit(j + offset)
                    blocks.append(_Block([unit_a], [unit_b], unit_a.start, unit_a.end))
            i, j = i + count, j + count
            continue
        if current is None:
            at = old.starts[i] if i < len(old) else len(old.text)
            current = _Block([], [], at, at)
            blocks.append(current)
        if kind == "-":
            current.units_a += old.units(i, i + count)
            current.a_end = old.ends[i + count - 1]
            i += count
        else:
            current.units_b += new.units(j, j + count)
            j += count
    for gap, block in enumerate(blocks):
        for unit in block.units_a + block.units_b:
            unit.gap = gap
    return blocks


def _paragraph_code(number: int) -> str:
    # Any code point but the surrogates, which cannot stand alone in a string.
    return chr(number + 1 if number + 1 < 0xD800 else number + 1 + 0x800)


def _find_moves(a: str, b: str, units_a: list[_Unit], units_b: list[_Unit]) -> list[Move]:
    """Pair paragraphs that left one changed block and arrived in another."""
    loose_a = [u for u in units_a if u.visible]
    loose_b = [u for u in units_b if u.visible]
    moves: list[Move] = []
    # Exact moves: a paragraph found once among each side's changed ones, in
    # another block. Repeated lines (table syntax, "Advertisement") are left to
    # the word diff of their blocks.
    count_a: dict[str, int] = {}
    for unit in loose_a:
        count_a[unit.visible] = count_a.get(unit.visible, 0) + 1
    by_key: dict[str, list[_Unit]] = {}
    for unit in loose_b:
        by_key.setdefault(unit.visible, []).append(unit)
    for unit in loose_a:
        candidates = by_key.get(unit.visible, [])
        if count_a[unit.visible] == 1 and len(candidates) == 1 and candidates[0].gap != unit.gap:
            if count_words(unit.visible) >= _MOVE_MIN_WORDS:
                _add_move(moves, a, b, unit, candidates[0])
    _find_near_moves(a, b, [u for u in loose_a if u.move < 0], [u for u in loose_b if u.move < 0], moves)
    return moves


def _find_near_moves(a: str, b: str, loose_a: list[_Unit], loose_b: list[_Unit], moves: list[Move]) -> None:
    """Moves of paragraphs that were also edited: the best match lies in another block."""
    words_a = [(u, set(u.key.split())) for u in loose_a if len(u.key.split()) >= _NEAR_MOVE_MIN_WORDS]
    words_b = [(u, set(u.key.split())) for u in loose_b if len(u.key.split()) >= _NEAR_MOVE_MIN_WORDS]
    if not words_a or not words_b or len(words_a) * len(words_b) > _NEAR_MOVE_MAX_PAIRS:
        return
    by_gap: dict[int, list[tuple[_Unit, set[str]]]] = {}
    for unit_b, set_b in words_b:
        by_gap.setdefault(unit_b.gap, []).append((unit_b, set_b))
    scored = []
    for unit_a, set_a in words_a:
        # Only a clearly better match in another block is a move: a twin in the
        # paragraph's own block (an edit in place, repeated lines) wins ties.
        best_here = max((_dice(set_a, s) for _, s in by_gap.get(unit_a.gap, ())), default=0.0)
        if best_here >= 0.9:
            continue
        need = max(0.5, best_here + 0.1)
        size = len(set_a)
        best, best_unit = 0.0, None
        for unit_b, set_b in words_b:
            # Dice can reach `need` only if the sizes are close enough.
            if unit_b.gap == unit_a.gap or 2 * min(size, len(set_b)) < need * (size + len(set_b)):
                continue
            score = _dice(set_a, set_b)
            if score > best:
                best, best_unit = score, unit_b
        if best_unit is not None and best >= need and best > best_here + 0.1:
            scored.append((best, unit_a, best_unit))
    for _, unit_a, unit_b in sorted(scored, key=lambda item: -item[0]):
        if unit_b.move >= 0:
            continue
        inner = token_diff(a[unit_a.start : unit_a.end], b[unit_b.start : unit_b.end])
        if similarity(inner) >= _NEAR_MOVE_MIN_SIMILARITY:
            _add_move(moves, a, b, unit_a, unit_b, inner)


def _dice(set_a: set[str], set_b: set[str]) -> float:
    return 2 * len(set_a & set_b) / (len(set_a) + len(set_b))


def similarity(ops: list[Op]) -> float:
    """Share of words kept: 2·kept / (old words + new words)."""
    kept = sum(count_words(op.text) for op in ops if op.op == EQUAL)
    old = kept + sum(count_words(op.text) for op in ops if op.op == DELETE)
    new = kept + sum(count_words(op.text) for op in ops if op.op == INSERT)
    return 2 * kept / (old + new) if old + new else 1.0


def _add_move(moves: list[Move], a: str, b: str, unit_a: _Unit, unit_b: _Unit, inner: list[Op] | None = None) -> None:
    old_text, new_text = a[unit_a.start : unit_a.end], b[unit_b.start : unit_b.end]
    unit_a.move = unit_b.move = len(moves)
    ops = inner if inner is not None else token_diff(old_text, new_text)
    moves.append(Move(len(moves), unit_a.start, old_text, unit_b.start, new_text, ops))



def _gap_ops(
    a: str, b: str, gap_a: list[_Unit], gap_b: list[_Unit], moves: list[Move], book: _CodeBook
) -> list[Op]:
    """Ops for one changed block; moved paragraphs go in as whole deletes/inserts."""
    kept_a = [u for u in gap_a if u.move < 0]
    kept_b = [u for u in gap_b if u.move < 0]
    text_a = "".join(a[u.start : u.end] for u in kept_a)
    text_b = "".join(b[u.start : u.end] for u in kept_b)
    if len(text_a) + len(text_b) > _LARGE_BLOCK:
        ops = _large_block_diff(text_a, text_b)
    else:
        ops = token_diff(text_a, text_b, book)
    # Splicing in text order means every unit before the one being placed is
    # already in the ops, so its offset is simply its distance from the gap start.
    for unit in gap_a:
        if unit.move >= 0:
            ops = _splice(ops, DELETE, unit.start - gap_a[0].start, moves[unit.move].old_text, unit.move)
    for unit in gap_b:
        if unit.move >= 0:
            ops = _splice(ops, INSERT, unit.start - gap_b[0].start, moves[unit.move].new_text, unit.move)
    return ops



def _large_block_diff(a: str, b: str) -> list[Op]:
    """A long run of changed paragraphs: align sentences first, then words inside.

    Word-level Myers costs (length × differences); on a wholesale rewrite of a
    long text that is seconds. Sentences that survived anchor the text, and
    only the runs between them are word-diffed; a run still too long to diff
    word by word is shown replaced.
    """
    spans_a, spans_b = sentence_spans(a), sentence_spans(b)
    book: dict[str, str] = {}
    codes_a = "".join(book.setdefault(a[s:e], _paragraph_code(len(book))) for s, e in spans_a)
    codes_b = "".join(book.setdefault(b[s:e], _paragraph_code(len(book))) for s, e in spans_b)
    ops: list[Op] = []
    i = j = 0
    pending: list[int] = [0, 0, 0, 0]  # a_start, a_end, b_start, b_end of the run being collected
    for kind, count in fast_diff_match_patch.diff(codes_a, codes_b, timelimit=0, checklines=False, cleanup="No") + [
        ("=", 0)
    ]:
        if kind == "=":
            run_a, run_b = a[pending[0] : pending[1]], b[pending[2] : pending[3]]
            if len(run_a) + len(run_b) > _LARGE_BLOCK:
                ops += [Op(DELETE, run_a), Op(INSERT, run_b)]
            else:
                ops += token_diff(run_a, run_b)
            if count:
                ops.append(Op(EQUAL, a[spans_a[i][0] : spans_a[i + count - 1][1]]))
            i, j = i + count, j + count
            at_a = spans_a[i][0] if i < len(spans_a) else len(a)
            at_b = spans_b[j][0] if j < len(spans_b) else len(b)
            pending = [at_a, at_a, at_b, at_b]
        elif kind == "-":
            pending[1] = spans_a[i + count - 1][1]
            i += count
        else:
            pending[3] = spans_b[j + count - 1][1]
            j += count
    return ops


def _splice(ops: list[Op], kind: str, offset: int, text: str, move: int) -> list[Op]:
    """Put a whole-unit delete (old side) or insert (new side) at ``offset`` of that side."""
    side = (EQUAL, kind)
    spliced = Op(kind, text, move)
    out: list[Op] = []
    pos = 0
    placed = False
    for op in ops:
        if not placed and op.op in side:
            end = pos + len(op.text)
            if offset == pos:
                out.append(spliced)
                placed = True
            elif offset < end:
                cut = offset - pos
                out.append(Op(op.op, op.text[:cut], op.move))
                out.append(spliced)
                op = Op(op.op, op.text[cut:], op.move)
                placed = True
            pos = end
        out.append(op)
    if not placed:
        out.append(spliced)
    return out


# --- symmetry and numbering -----------------------------------------------


def _mirror(alignment: Alignment) -> Alignment:
    swap = {INSERT: DELETE, DELETE: INSERT, EQUAL: EQUAL}
    ops = normalize([Op(swap[op.op], op.text, op.move) for op in alignment.ops])
    moves = [
        Move(m.id, m.new_start, m.new_text, m.old_start, m.old_text, normalize([Op(swap[o.op], o.text) for o in m.ops]))
        for m in alignment.moves
    ]
    return _number_moves(Alignment(ops, moves))


def _number_moves(alignment: Alignment) -> Alignment:
    """Number moves 1, 2, ... in the order their new positions appear."""
    order: dict[int, int] = {}
    for op in alignment.ops:
        if op.move is not None and op.op == INSERT and op.move not in order:
            order[op.move] = len(order) + 1
    ops = [Op(op.op, op.text, order[op.move]) if op.move is not None else op for op in alignment.ops]
    moves = sorted(
        (Move(order[m.id], m.old_start, m.old_text, m.new_start, m.new_text, m.ops) for m in alignment.moves),
        key=lambda m: m.id,
    )
    return Alignment(ops, moves)


def rebuild(ops: list[Op]) -> tuple[str, str]:
    """The (old, new) texts that ``ops`` describe."""
    old = "".join(op.text for op in ops if op.op != INSERT)
    new = "".join(op.text for op in ops if op.op != DELETE)
    return old, new
