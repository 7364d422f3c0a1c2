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

from revtrack.segment import paragraph_spans
from revtrack.tokens import is_word, pieces, tokenize

EQUAL: Final = "equal"
INSERT: Final = "insert"
DELETE: Final = "delete"

# Gaps between anchors larger than this are first split at repeated
# paragraphs (diff-match-patch at paragraph level) before the word diff.
_WHOLE_GAP_WORD_DIFF_LIMIT: Final = 60_000
# A moved paragraph needs this many words (more when it was also edited).
_MOVE_MIN_WORDS: Final = 3
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
        out = []
        for token in tokens:
            code = codes.get(token)
            if code is None:
                if is_word(token):
                    if self.words >= len(self._word_pool):
                        return None
                    code = self._word_pool[self.words]
                    self.words += 1
                else:
                    if self.others >= len(self._other_pool):
                        return None
                    code = self._other_pool[self.others]
                    self.others += 1
                codes[token] = code
            out.append(code)
        return "".join(out)


def token_diff(a: str, b: str) -> list[Op]:
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
    book = _CodeBook()
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
    inserted paragraph stays kept.
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
    for index, op in enumerate(ops):
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
    """A paragraph (or the leading whitespace) of one side, with its match state."""

    start: int
    end: int
    key: str
    words: int = 0
    anchor: int = -1  # index of the matching unit on the other side, if anchored
    move: int = -1  # index into the move-candidate list, if moved
    gap: int = 0


def _units(text: str) -> list[_Unit]:
    spans = paragraph_spans(text)
    units = []
    if spans and spans[0][0] > 0:
        units.append(_Unit(0, spans[0][0], ""))
    elif not spans and text:
        units.append(_Unit(0, len(text), ""))
    for start, end in spans:
        units.append(_Unit(start, end, " ".join(text[start:end].split())))
    return units


def align(a: str, b: str) -> Alignment:
    """Diff ``a`` -> ``b``: exact ops plus paragraph moves (see the module docstring)."""
    if a > b:
        return _mirror(_align(b, a))
    return _number_moves(_align(a, b))


def _align(a: str, b: str) -> Alignment:
    if a == b:
        return Alignment([Op(EQUAL, a)] if a else [], [])
    units_a, units_b = _units(a), _units(b)
    _anchor(units_a, units_b)
    _assign_gaps(units_a)
    _assign_gaps(units_b)
    moves = _find_moves(a, b, units_a, units_b)
    ops: list[Op] = []
    ia = ib = 0
    while ia < len(units_a) or ib < len(units_b):
        ja, jb = ia, ib
        while ja < len(units_a) and units_a[ja].anchor < 0:
            ja += 1
        while jb < len(units_b) and units_b[jb].anchor < 0:
            jb += 1
        ops.extend(_gap_ops(a, b, units_a[ia:ja], units_b[ib:jb], moves))
        if ja < len(units_a) and jb < len(units_b):
            ops.extend(_anchor_ops(a, b, units_a[ja], units_b[jb]))
        ia, ib = ja + 1, jb + 1
    return Alignment(normalize(ops), moves)


def _anchor(units_a: list[_Unit], units_b: list[_Unit]) -> None:
    """Mark the heaviest in-order chain of paragraphs unique on both sides."""
    count_a: dict[str, int] = {}
    for unit in units_a:
        count_a[unit.key] = count_a.get(unit.key, 0) + 1
    where_b: dict[str, int] = {}
    count_b: dict[str, int] = {}
    for index, unit in enumerate(units_b):
        count_b[unit.key] = count_b.get(unit.key, 0) + 1
        where_b[unit.key] = index
    pairs = [
        (i, where_b[u.key])
        for i, u in enumerate(units_a)
        if u.key and count_a[u.key] == 1 and count_b.get(u.key) == 1
    ]
    # Leading whitespace units anchor each other so the gaps start aligned.
    if units_a and units_b and not units_a[0].key and not units_b[0].key:
        pairs.insert(0, (0, 0))
    total = sum(len(units_a[i].key) for i, _ in pairs) + 1
    weights = [1.0 + len(units_a[i].key) / total for i, _ in pairs]
    for index in _heaviest_increasing(pairs, weights, len(units_b)):
        i, j = pairs[index]
        units_a[i].anchor, units_b[j].anchor = j, i


def _heaviest_increasing(pairs: list[tuple[int, int]], weights: list[float], size: int) -> list[int]:
    """Indices of the chain of ``pairs`` increasing in both coordinates with most weight.

    ``pairs`` are sorted by their first coordinate; a Fenwick tree over the second
    keeps the best chain ending below each position (O(k log k)).
    """
    tree_best = [0.0] * (size + 1)
    tree_index = [-1] * (size + 1)
    parent = [-1] * len(pairs)
    best_total, best_end = 0.0, -1
    for index, (_, j) in enumerate(pairs):
        best, best_at = 0.0, -1
        pos = j  # query positions 1..j (i.e. second coordinate < j)
        while pos > 0:
            if tree_best[pos] > best:
                best, best_at = tree_best[pos], tree_index[pos]
            pos -= pos & -pos
        total = best + weights[index]
        parent[index] = best_at
        if total > best_total:
            best_total, best_end = total, index
        pos = j + 1
        while pos <= size:
            if total > tree_best[pos]:
                tree_best[pos], tree_index[pos] = total, index
            pos += pos & -pos
    chain = []
    while best_end >= 0:
        chain.append(best_end)
        best_end = parent[best_end]
    return chain[::-1]


def _assign_gaps(units: list[_Unit]) -> None:
    gap = 0
    for unit in units:
        if unit.anchor >= 0:
            gap += 1
        else:
            unit.gap = gap


def _find_moves(a: str, b: str, units_a: list[_Unit], units_b: list[_Unit]) -> list[Move]:
    """Pair paragraphs that left one gap and arrived in another."""
    loose_a = [u for u in units_a if u.anchor < 0 and u.key]
    loose_b = [u for u in units_b if u.anchor < 0 and u.key]
    moves: list[Move] = []
    # Exact moves: a paragraph found once among each side's unmatched ones, in
    # another gap. Repeated lines (table syntax, "Advertisement") are left to
    # the word diff of their gaps.
    count_a: dict[str, int] = {}
    for unit in loose_a:
        count_a[unit.key] = count_a.get(unit.key, 0) + 1
    by_key: dict[str, list[_Unit]] = {}
    for unit in loose_b:
        by_key.setdefault(unit.key, []).append(unit)
    for unit in loose_a:
        candidates = by_key.get(unit.key, [])
        if count_a[unit.key] == 1 and len(candidates) == 1 and candidates[0].gap != unit.gap:
            if _words(unit.key) >= _MOVE_MIN_WORDS:
                _add_move(moves, a, b, unit, candidates[0])
    _find_near_moves(a, b, [u for u in loose_a if u.move < 0], [u for u in loose_b if u.move < 0], moves)
    return moves


def _find_near_moves(a: str, b: str, loose_a: list[_Unit], loose_b: list[_Unit], moves: list[Move]) -> None:
    """Moves of paragraphs that were also edited: best match lies in another gap."""
    words_a = [(u, set(u.key.split())) for u in loose_a if len(u.key.split()) >= _NEAR_MOVE_MIN_WORDS]
    words_b = [(u, set(u.key.split())) for u in loose_b if len(u.key.split()) >= _NEAR_MOVE_MIN_WORDS]
    if not words_a or not words_b or len(words_a) * len(words_b) > _NEAR_MOVE_MAX_PAIRS:
        return
    scored = []
    for unit_a, set_a in words_a:
        # Only a clearly better match in another gap is a move: a twin in the
        # paragraph's own gap (repeated lines, near-identical list items) wins ties.
        best_here = max((_dice(set_a, s) for u, s in words_b if u.gap == unit_a.gap), default=0.0)
        elsewhere = [(_dice(set_a, s), u) for u, s in words_b if u.gap != unit_a.gap]
        if not elsewhere:
            continue
        score, unit_b = max(elsewhere, key=lambda item: item[0])
        if score >= 0.5 and score > best_here + 0.1:
            scored.append((score, unit_a, unit_b))
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
    kept = sum(_words(op.text) for op in ops if op.op == EQUAL)
    old = kept + sum(_words(op.text) for op in ops if op.op == DELETE)
    new = kept + sum(_words(op.text) for op in ops if op.op == INSERT)
    return 2 * kept / (old + new) if old + new else 1.0


def _words(text: str) -> int:
    return sum(1 for token in tokenize(text) if is_word(token))


def _add_move(moves: list[Move], a: str, b: str, unit_a: _Unit, unit_b: _Unit, inner: list[Op] | None = None) -> None:
    old_text, new_text = a[unit_a.start : unit_a.end], b[unit_b.start : unit_b.end]
    unit_a.move = unit_b.move = len(moves)
    ops = inner if inner is not None else token_diff(old_text, new_text)
    moves.append(Move(len(moves), unit_a.start, old_text, unit_b.start, new_text, ops))


def _anchor_ops(a: str, b: str, unit_a: _Unit, unit_b: _Unit) -> list[Op]:
    text_a, text_b = a[unit_a.start : unit_a.end], b[unit_b.start : unit_b.end]
    return [Op(EQUAL, text_a)] if text_a == text_b else token_diff(text_a, text_b)


def _gap_ops(a: str, b: str, gap_a: list[_Unit], gap_b: list[_Unit], moves: list[Move]) -> list[Op]:
    """Ops for the units between two anchors; moved units go in as whole deletes/inserts."""
    kept_a = [u for u in gap_a if u.move < 0]
    kept_b = [u for u in gap_b if u.move < 0]
    text_a = "".join(a[u.start : u.end] for u in kept_a)
    text_b = "".join(b[u.start : u.end] for u in kept_b)
    if len(text_a) + len(text_b) > _WHOLE_GAP_WORD_DIFF_LIMIT:
        ops = _blockwise_diff(a, b, kept_a, kept_b)
    else:
        ops = token_diff(text_a, text_b)
    # Splicing in text order means every unit before the one being placed is
    # already in the ops, so its offset is simply its distance from the gap start.
    for unit in gap_a:
        if unit.move >= 0:
            ops = _splice(ops, DELETE, unit.start - gap_a[0].start, moves[unit.move].old_text, unit.move)
    for unit in gap_b:
        if unit.move >= 0:
            ops = _splice(ops, INSERT, unit.start - gap_b[0].start, moves[unit.move].new_text, unit.move)
    return ops


def _blockwise_diff(a: str, b: str, units_a: list[_Unit], units_b: list[_Unit]) -> list[Op]:
    """A large gap: paragraph-level diff first, then a word diff inside each changed block."""
    book: dict[str, str] = {}
    codes_a = "".join(book.setdefault(u.key, chr(0xE000 + len(book))) for u in units_a)
    codes_b = "".join(book.setdefault(u.key, chr(0xE000 + len(book))) for u in units_b)
    if len(book) > 0x10FFFD - 0xE000:
        return token_diff("".join(a[u.start : u.end] for u in units_a), "".join(b[u.start : u.end] for u in units_b))
    ops: list[Op] = []
    ia = ib = 0
    pending_a: list[_Unit] = []
    pending_b: list[_Unit] = []
    for kind, codes in raw_diff(codes_a, codes_b) + [(0, "")]:
        n = len(codes)
        if kind < 0:
            pending_a.extend(units_a[ia : ia + n])
            ia += n
        elif kind > 0:
            pending_b.extend(units_b[ib : ib + n])
            ib += n
        else:
            ops.extend(
                token_diff("".join(a[u.start : u.end] for u in pending_a), "".join(b[u.start : u.end] for u in pending_b))
            )
            pending_a, pending_b = [], []
            for unit_a, unit_b in zip(units_a[ia : ia + n], units_b[ib : ib + n]):
                ops.extend(_anchor_ops(a, b, unit_a, unit_b))
            ia += n
            ib += n
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
