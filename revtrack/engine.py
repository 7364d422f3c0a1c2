"""Align two versions of an article: exact ops with paragraph and sentence moves.

Three stages, so that long articles with a few edits cost little more than
their edits:

1. Paragraphs are aligned first (Myers over one code per paragraph); the runs
   of paragraphs that differ are the changed blocks. Paragraphs that moved
   between blocks are found (:mod:`revtrack.moves`) and taken out.
2. The text left in each block is diffed word by word (:mod:`revtrack.wordiff`),
   and the moved paragraphs are spliced back in as one delete and one insert.
3. Whole sentences that the word diff deleted in one place and inserted in
   another become sentence moves (:mod:`revtrack.moves`).

The result rebuilds both texts exactly. The pair is put in a canonical order
before diffing, so ``diff(b, a)`` is exactly the mirror of ``diff(a, b)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import fast_diff_match_patch

from revtrack.moves import PARAGRAPH_RULE, Move, SentenceLayout, Unit, find_moves, sentence_moves
from revtrack.segment import Paragraphs, sentence_spans
from revtrack.wordiff import (
    DELETE,
    EQUAL,
    INSERT,
    CodeBook,
    Op,
    mirror,
    normalize,
    rebuild,
    splice,
    token_diff,
    without,
)

__all__ = ["DELETE", "EQUAL", "INSERT", "Alignment", "Move", "Op", "align", "rebuild", "token_diff"]

# Changed blocks longer than this (characters, both sides) are aligned by
# sentence before the word diff (and a run between anchors still longer is
# shown replaced; so is a group of changed sentences, in diff.py).
LARGE_BLOCK: Final = 60_000


@dataclass
class Alignment:
    """Everything the engine found: exact ops over both texts, and the moves among them."""

    ops: list[Op]
    moves: list[Move]
    # The (old, new) paragraph layouts it worked from, for readers of the ops.
    paragraphs: tuple[Paragraphs, Paragraphs] | None = None


@dataclass
class _Block:
    """A run of paragraphs that differ between the sides, between two equal runs."""

    units_a: list[Unit]
    units_b: list[Unit]
    a_start: int
    a_end: int
    # Paragraphs of each side taken out because they moved: (start, end, move index).
    moved_a: list[tuple[int, int, int]] = field(default_factory=list)
    moved_b: list[tuple[int, int, int]] = field(default_factory=list)
    # The word diff of a block of one paragraph each side, made while looking for moves.
    ops: list[Op] | None = None


def align(a: str, b: str) -> Alignment:
    """Diff ``a`` -> ``b``: exact ops plus paragraph moves (see the module docstring)."""
    if a > b:
        return _mirror(_align(b, a))
    return _number_moves(_align(a, b))


def _align(a: str, b: str) -> Alignment:
    if a == b:
        return Alignment([Op(EQUAL, a)] if a else [], [])
    paragraphs_of_a, paragraphs_of_b = Paragraphs(a), Paragraphs(b)
    blocks = _changed_blocks(paragraphs_of_a, paragraphs_of_b)
    moves: list[Move] = []
    paragraphs_a = [u for k in blocks for u in k.units_a if u.visible]
    paragraphs_b = [u for k in blocks for u in k.units_b if u.visible]
    book = CodeBook()  # one token code table for the whole comparison

    def in_place(unit_a: Unit, unit_b: Unit) -> float | None:
        """Share of characters kept by the word diff of a block's only two paragraphs (kept for the block)."""
        block = blocks[unit_a.block]
        if len(block.units_a) != 1 or len(block.units_b) != 1:
            return None
        size = unit_a.end - unit_a.start + unit_b.end - unit_b.start
        if size > LARGE_BLOCK:
            return None  # left to the sentence-anchored diff of long blocks
        block.ops = token_diff(a[unit_a.start : unit_a.end], b[unit_b.start : unit_b.end], book)
        return 2 * sum(len(op.text) for op in block.ops if op.op == EQUAL) / size

    find_moves(a, b, paragraphs_a, paragraphs_b, moves, PARAGRAPH_RULE, "paragraph", in_place)
    for unit in paragraphs_a:
        if unit.move >= 0:
            blocks[unit.block].moved_a.append((unit.start, unit.end, unit.move))
    for unit in paragraphs_b:
        if unit.move >= 0:
            blocks[unit.block].moved_b.append((unit.start, unit.end, unit.move))
    ops: list[Op] = []
    pos = 0
    for block in blocks:
        ops.append(Op(EQUAL, a[pos : block.a_start]))
        ops.extend(_gap_ops(a, b, block, moves, book))
        pos = block.a_end
    ops.append(Op(EQUAL, a[pos:]))
    ops = sentence_moves(SentenceLayout(paragraphs_of_a), SentenceLayout(paragraphs_of_b), normalize(ops), moves)
    return Alignment(ops, moves, (paragraphs_of_a, paragraphs_of_b))


def _changed_blocks(old: Paragraphs, new: Paragraphs) -> list[_Block]:
    """Paragraph-level diff (C++ diff-match-patch over one character per paragraph)."""
    # Paragraphs are compared by their visible text, so one that only gained a
    # trailing blank line still pairs with its old self (as a block of its own).
    distinct = dict.fromkeys(old.keys + new.keys)
    if len(distinct) < 0xD7FF:  # the usual case, in C: codes 1, 2, 3 ... below the surrogates
        book = dict(zip(distinct, map(chr, range(1, len(distinct) + 1)), strict=True))
    else:
        book = {key: _paragraph_code(number) for number, key in enumerate(distinct)}
    codes_a = "".join(map(book.__getitem__, old.keys))
    codes_b = "".join(map(book.__getitem__, new.keys))
    pieces = fast_diff_match_patch.diff(codes_a, codes_b, timelimit=0, checklines=False, cleanup="No")
    blocks: list[_Block] = []
    i = j = 0
    current: _Block | None = None
    text_a, text_b = old.text, new.text
    starts_a, ends_a, starts_b, ends_b, keys = old.starts, old.ends, new.starts, new.ends, old.keys
    for kind, count in pieces:
        if kind == "=":
            current = None
            # Same visible text; the paragraphs still differ if the blank lines
            # after them do. One comparison of the whole run usually settles it.
            last_a, last_b = i + count - 1, j + count - 1
            if text_a[starts_a[i] : ends_a[last_a]] != text_b[starts_b[j] : ends_b[last_b]]:
                for x, y in zip(range(i, i + count), range(j, j + count), strict=True):
                    visible = starts_a[x] + len(keys[x])
                    if text_a[visible : ends_a[x]] != text_b[starts_b[y] + len(keys[x]) : ends_b[y]]:
                        unit_a, unit_b = _unit(old, x), _unit(new, y)
                        blocks.append(_Block([unit_a], [unit_b], unit_a.start, unit_a.end))
            i, j = i + count, j + count
            continue
        if current is None:
            at = old.starts[i] if i < len(old) else len(old.text)
            current = _Block([], [], at, at)
            blocks.append(current)
        if kind == "-":
            current.units_a += _units(old, i, i + count)
            current.a_end = old.ends[i + count - 1]
            i += count
        else:
            current.units_b += _units(new, j, j + count)
            j += count
    for number, block in enumerate(blocks):
        for unit in block.units_a + block.units_b:
            unit.place = unit.block = number
    return blocks


def _paragraph_code(number: int) -> str:
    # Any code point but the surrogates, which cannot stand alone in a string.
    return chr(number + 1 if number + 1 < 0xD800 else number + 1 + 0x800)


def _gap_ops(a: str, b: str, block: _Block, moves: list[Move], book: CodeBook) -> list[Op]:
    """Ops for one changed block; moved paragraphs go in as whole deletes/inserts."""
    if block.ops is not None and not block.moved_a and not block.moved_b:
        return block.ops  # its one paragraph each side, diffed while looking for moves
    start_a = block.units_a[0].start if block.units_a else block.a_start
    start_b = block.units_b[0].start if block.units_b else 0
    text_a = without(a, start_a, block.units_a[-1].end if block.units_a else start_a, block.moved_a)
    text_b = without(b, start_b, block.units_b[-1].end if block.units_b else start_b, block.moved_b)
    if len(text_a) + len(text_b) > LARGE_BLOCK:
        ops = _large_block_diff(text_a, text_b)
    else:
        ops = token_diff(text_a, text_b, book)
    # Splicing in text order means everything before the piece being placed is
    # already in the ops, so its offset is simply its distance from the block start.
    for start, _, move in block.moved_a:
        ops = splice(ops, DELETE, start - start_a, moves[move].old_text, move)
    for start, _, move in block.moved_b:
        ops = splice(ops, INSERT, start - start_b, moves[move].new_text, move)
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
            if len(run_a) + len(run_b) > LARGE_BLOCK:
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


def _mirror(alignment: Alignment) -> Alignment:
    ops = mirror(alignment.ops)
    moves = [
        Move(m.id, m.new_start, m.new_text, m.old_start, m.old_text, mirror(m.ops), m.unit) for m in alignment.moves
    ]
    paragraphs = (alignment.paragraphs[1], alignment.paragraphs[0]) if alignment.paragraphs else None
    return _number_moves(Alignment(ops, moves, paragraphs))


def _number_moves(alignment: Alignment) -> Alignment:
    """Number moves 1, 2, ... in the order their new positions appear."""
    order: dict[int, int] = {}
    for op in alignment.ops:
        if op.move is not None and op.op == INSERT and op.move not in order:
            order[op.move] = len(order) + 1
    ops = [Op(op.op, op.text, order[op.move]) if op.move is not None else op for op in alignment.ops]
    moves = sorted(
        (Move(order[m.id], m.old_start, m.old_text, m.new_start, m.new_text, m.ops, m.unit) for m in alignment.moves),
        key=lambda m: m.id,
    )
    return Alignment(ops, moves, alignment.paragraphs)


def _unit(paragraphs: Paragraphs, index: int) -> Unit:
    start, end = paragraphs.starts[index], paragraphs.ends[index]
    return Unit(start, end, paragraphs.text[start:end], paragraphs.keys[index])


def _units(paragraphs: Paragraphs, first: int, stop: int) -> list[Unit]:
    return [_unit(paragraphs, index) for index in range(first, stop)]
