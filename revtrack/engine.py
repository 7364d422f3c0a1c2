"""The word-diff engine: exact operations between two texts, with paragraph and sentence moves.

Three stages, so that long articles with a few edits cost little more than
their edits:

1. Paragraphs are aligned first (Myers over one code per paragraph); the runs
   of paragraphs that differ are the changed blocks. A paragraph that left one
   block and arrived, unchanged or nearly so, in another is a *move*.
2. The text left in each block is diffed word by word: diff-match-patch over
   tokens (each distinct token mapped to one character), then its semantic
   cleanup, so that "there is a ceasefire" -> "there is no ceasefire" reads as
   one edit and not a scatter of one-word changes. Whitespace tokens all map to
   one character, so re-wrapped text aligns; the differing whitespace comes
   back as separate whitespace-only operations.
3. Whole sentences that the word diff deleted in one run of changes and
   inserted, unchanged or nearly so, in another (in the same paragraph or a
   different one) are relabelled as sentence moves. Only text already marked
   changed is relabelled, so moves never make a diff larger.

Moved text is one delete and one insert linked by the move's number. The
result rebuilds both texts exactly: the ``equal`` and ``delete`` texts in
order give the old text, ``equal`` and ``insert`` give the new one. The pair is
put in a canonical order before diffing, so ``diff(b, a)`` is exactly the
mirror of ``diff(a, b)``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Final, NamedTuple

import fast_diff_match_patch
from diff_match_patch import diff_match_patch

from revtrack.segment import sentence_spans
from revtrack.tokens import count_words, is_word, pieces, split_piece

EQUAL: Final = "equal"
INSERT: Final = "insert"
DELETE: Final = "delete"

# Changed blocks longer than this (characters, both sides) are aligned by
# sentence before the word diff.
_LARGE_BLOCK: Final = 60_000
# Unchanged runs at least this many tokens long always stay unchanged.
_KEEP_EQUALITY: Final = 12
_NEAR_MOVE_MAX_PAIRS: Final = 40_000


class _MoveRule(NamedTuple):
    """How much text a move needs: words for an exact move, words and kept share for an edited one."""

    min_words: int
    near_min_words: int
    near_min_similarity: float


# Sentences need more words than paragraphs: short sentences ("He said.",
# "Police declined to comment.") recur in news copy without having moved.
_PARAGRAPH_RULE: Final = _MoveRule(3, 5, 0.66)
_SENTENCE_RULE: Final = _MoveRule(5, 8, 0.75)


class Op(NamedTuple):
    """One diff operation. ``move`` links the delete and insert of a moved paragraph or sentence."""

    op: str
    text: str
    move: int | None = None


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
    private-use characters. Codes are handed out in order through the ranges
    (computed, not tabled: a table of all 240,000 would cost every ``diff``
    process ~20 ms to build).
    """

    _WORD_RANGES: Final = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2EBE0))
    _OTHER_RANGES: Final = ((0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD))

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}  # token -> code
        self.piece_codes: dict[str, str] = {}  # piece (token + its space) -> the token's code
        self.words = 0
        self.others = 0

    @staticmethod
    def _code(number: int, ranges: tuple[tuple[int, int], ...]) -> str | None:
        for low, high in ranges:
            if number <= high - low:
                return chr(low + number)
            number -= high - low + 1
        return None

    def encode(self, pieces: list[str]) -> str | None:
        """The code string for ``pieces`` (one code per token), or None when the ranges run out."""
        piece_codes = self.piece_codes
        for piece in set(pieces).difference(piece_codes):
            token = split_piece(piece)[0]
            code = self.codes.get(token)
            if code is None:
                if is_word(token):
                    code = self._code(self.words, self._WORD_RANGES)
                    self.words += 1
                else:
                    code = self._code(self.others, self._OTHER_RANGES)
                    self.others += 1
                if code is None:
                    return None
                self.codes[token] = code
            piece_codes[piece] = code
        return "".join(map(piece_codes.__getitem__, pieces))


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
    # Only the part between the shared start and end is tokenised (tokenising
    # costs more than diffing): both are cut at a word start that follows a
    # space, where every tokenisation of either text has a boundary.
    head = _shared_head(a, b)
    tail = _shared_tail(a, b, head)
    if not head and not tail:
        return _token_diff(a, b, book)
    ops = _token_diff(a[head : len(a) - tail], b[head : len(b) - tail], book)  # already normalized
    if head:
        if ops and ops[0].op == EQUAL:
            ops[0] = Op(EQUAL, a[:head] + ops[0].text)
        else:
            ops.insert(0, Op(EQUAL, a[:head]))
    if tail:
        if ops and ops[-1].op == EQUAL:
            ops[-1] = Op(EQUAL, ops[-1].text + a[len(a) - tail :])
        else:
            ops.append(Op(EQUAL, a[len(a) - tail :]))
    return ops


def _token_diff(a: str, b: str, book: _CodeBook | None) -> list[Op]:
    if not a or not b:
        return [Op(DELETE, a)] if a else [Op(INSERT, b)] if b else []
    lead_a, pieces_a = pieces(a)
    lead_b, pieces_b = pieces(b)
    book = book if book is not None else _CodeBook()
    codes_a = book.encode(pieces_a)
    codes_b = book.encode(pieces_b)
    if codes_a is None or codes_b is None:
        # More distinct tokens than code characters: a character diff is still exact.
        diffs = raw_diff(a, b)
        _DMP.diff_cleanupSemantic(diffs)
        return normalize([Op(_OP_NAMES[kind], text) for kind, text in diffs])
    diffs = raw_diff(codes_a, codes_b)
    _cleanup_semantic(diffs)
    built = _OpBuilder()
    if lead_a == lead_b:
        built.equal(lead_a)
    else:
        built.change(DELETE, lead_a)
        built.change(INSERT, lead_b)
    _decode(diffs, pieces_a, pieces_b, built)
    return built.finish()


_OP_NAMES: Final = {0: EQUAL, 1: INSERT, -1: DELETE}
_BREAKS: Final = " \n"


def _shared_head(a: str, b: str) -> int:
    """Length of a shared start that ends right after a space or line break and before a non-space."""
    shared = _DMP.diff_commonPrefix(a, b)
    at = shared - 1  # a[at] must be shared too: it starts the first piece after the head
    while at > 0:
        space = max(a.rfind(" ", 0, at), a.rfind("\n", 0, at))
        if space < 0:
            return 0
        if not a[space + 1].isspace():
            return space + 1
        at = space
    return 0


def _shared_tail(a: str, b: str, head: int) -> int:
    """Length of a shared end, not overlapping ``head``, that starts at a non-space after a space or line break."""
    shared = min(_DMP.diff_commonSuffix(a, b), len(a) - head, len(b) - head)
    at = len(a) - shared + 1  # the space before the tail must be shared too
    while at < len(a):
        found = [position for position in (a.find(" ", at), a.find("\n", at)) if position >= 0]
        if not found:
            return 0
        space = min(found)
        if space + 1 < len(a) and not a[space + 1].isspace():
            return len(a) - space - 1
        at = space + 1
    return 0


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


class _OpBuilder:
    """Collects text ops in one pass, in the form :func:`normalize` gives, with shared trailing space factored out.

    Neighbours of one kind merge; in each run of changes the deletes come
    first; and whitespace that a run's delete and insert both end with moves
    out of them: "there is [-a -]{+no official +}ceasefire" becomes
    "there is [-a-]{+no official+} ceasefire".
    """

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.equals: list[str] = []
        self.deleted: list[str] = []
        self.inserted: list[str] = []

    def equal(self, text: str) -> None:
        if self.deleted or self.inserted:
            self._flush_run()
        self.equals.append(text)

    def change(self, kind: str, text: str) -> None:
        if not text:
            return
        if self.equals:
            self._flush_equal()
        (self.deleted if kind == DELETE else self.inserted).append(text)

    def _flush_equal(self) -> None:
        text = "".join(self.equals)
        self.equals.clear()
        if text:
            self.ops.append(Op(EQUAL, text))

    def _flush_run(self) -> None:
        deleted, inserted = "".join(self.deleted), "".join(self.inserted)
        self.deleted.clear()
        self.inserted.clear()
        common = 0
        if deleted and inserted:
            limit = min(len(deleted), len(inserted))
            while common < limit and deleted[-1 - common] == inserted[-1 - common] and deleted[-1 - common].isspace():
                common += 1
        if common:
            deleted, inserted, shared = deleted[:-common], inserted[:-common], deleted[-common:]
        if deleted:
            self.ops.append(Op(DELETE, deleted))
        if inserted:
            self.ops.append(Op(INSERT, inserted))
        if common:
            self.equals.append(shared)

    def finish(self) -> list[Op]:
        if self.deleted or self.inserted:
            self._flush_run()
        self._flush_equal()
        return self.ops


def _decode(diffs: list[tuple[int, str]], pieces_a: list[str], pieces_b: list[str], built: _OpBuilder) -> None:
    """Turn code-level diffs back into text ops; split out whitespace that differs."""
    i = j = 0
    for kind, codes in diffs:
        n = len(codes)
        if kind == 0:
            run_a, run_b = pieces_a[i : i + n], pieces_b[j : j + n]
            if run_a == run_b:
                built.equal("".join(run_a))
            else:
                _equal_with_space_changes(run_a, run_b, built)
            i += n
            j += n
        elif kind < 0:
            built.change(DELETE, "".join(pieces_a[i : i + n]))
            i += n
        else:
            built.change(INSERT, "".join(pieces_b[j : j + n]))
            j += n


def _equal_with_space_changes(run_a: list[str], run_b: list[str], built: _OpBuilder) -> None:
    """Ops for aligned tokens whose following whitespace differs in places."""
    same: list[str] = []
    for piece_a, piece_b in zip(run_a, run_b):
        if piece_a == piece_b:
            same.append(piece_a)
            continue
        token, space_a = split_piece(piece_a)
        same.append(token)
        built.equal("".join(same))
        same = []
        built.change(DELETE, space_a)
        built.change(INSERT, piece_b[len(token) :])
    built.equal("".join(same))


def normalize(ops: list[Op]) -> list[Op]:
    """Merge neighbours of one kind; in each run of changes put deletes first.

    Ops of a move are merged only with pieces of the same move, so each move
    stays one delete and one insert.
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
    """Append a run of inserts/deletes to ``out``: deletes first, neighbours of one kind and move merged."""
    run.sort(key=lambda op: op.op != DELETE)
    merged: list[tuple[str, int | None, list[str]]] = []
    for op in run:
        if merged and merged[-1][0] == op.op and merged[-1][1] == op.move:
            merged[-1][2].append(op.text)
        else:
            merged.append((op.op, op.move, [op.text]))
    out.extend(Op(kind, "".join(texts), move) for kind, move, texts in merged)
    run.clear()


# --- paragraph level ---------------------------------------------------------


@dataclass
class _Unit:
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



@dataclass
class _Block:
    """A run of paragraphs that differ between the sides, between two equal runs."""

    units_a: list[_Unit]
    units_b: list[_Unit]
    a_start: int
    a_end: int
    # Paragraphs of each side taken out because they moved: (start, end, move index).
    moved_a: list[tuple[int, int, int]] = field(default_factory=list)
    moved_b: list[tuple[int, int, int]] = field(default_factory=list)


def align(a: str, b: str) -> Alignment:
    """Diff ``a`` -> ``b``: exact ops plus paragraph moves (see the module docstring)."""
    if a > b:
        return _mirror(_align(b, a))
    return _number_moves(_align(a, b))


def _align(a: str, b: str) -> Alignment:
    if a == b:
        return Alignment([Op(EQUAL, a)] if a else [], [])
    paragraphs_of_a, paragraphs_of_b = _Paragraphs(a), _Paragraphs(b)
    blocks = _changed_blocks(paragraphs_of_a, paragraphs_of_b)
    moves: list[Move] = []
    paragraphs_a = [u for k in blocks for u in k.units_a if u.visible]
    paragraphs_b = [u for k in blocks for u in k.units_b if u.visible]
    _find_moves(a, b, paragraphs_a, paragraphs_b, moves, _PARAGRAPH_RULE, "paragraph")
    for unit in paragraphs_a:
        if unit.move >= 0:
            blocks[unit.block].moved_a.append((unit.start, unit.end, unit.move))
    for unit in paragraphs_b:
        if unit.move >= 0:
            blocks[unit.block].moved_b.append((unit.start, unit.end, unit.move))
    ops: list[Op] = []
    pos = 0
    book = _CodeBook()  # one token code table for the whole comparison
    for block in blocks:
        ops.append(Op(EQUAL, a[pos : block.a_start]))
        ops.extend(_gap_ops(a, b, block, moves, book))
        pos = block.a_end
    ops.append(Op(EQUAL, a[pos:]))
    ops = _sentence_moves(_SentenceLayout(paragraphs_of_a), _SentenceLayout(paragraphs_of_b), normalize(ops), moves)
    return Alignment(ops, moves)


def _changed_blocks(old: _Paragraphs, new: _Paragraphs) -> list[_Block]:
    """Paragraph-level diff (C++ diff-match-patch over one character per paragraph)."""
    # Paragraphs are compared by their visible text, so one that only gained a
    # trailing blank line still pairs with its old self (as a block of its own).
    book: dict[str, str] = dict.fromkeys(old.keys + new.keys, "")
    for number, key in enumerate(book):
        book[key] = _paragraph_code(number)
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
            for x, y in zip(range(i, i + count), range(j, j + count)):
                # Same visible text; the paragraphs still differ if the blank lines after them do.
                visible = starts_a[x] + len(keys[x])
                if text_a[visible : ends_a[x]] != text_b[starts_b[y] + len(keys[x]) : ends_b[y]]:
                    unit_a, unit_b = old.unit(x), new.unit(y)
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
    for number, block in enumerate(blocks):
        for unit in block.units_a + block.units_b:
            unit.place = unit.block = number
    return blocks


def _paragraph_code(number: int) -> str:
    # Any code point but the surrogates, which cannot stand alone in a string.
    return chr(number + 1 if number + 1 < 0xD800 else number + 1 + 0x800)


def _find_moves(
    a: str, b: str, units_a: list[_Unit], units_b: list[_Unit], moves: list[Move], rule: _MoveRule, kind: str
) -> None:
    """Pair units (paragraphs or sentences) that left one changed place and arrived in another."""
    # Exact moves: a text found once among each side's loose units, in another
    # place. Repeated lines (table syntax, "Advertisement") are left to the
    # word diff of their blocks.
    count_a: dict[str, int] = {}
    for unit in units_a:
        count_a[unit.visible] = count_a.get(unit.visible, 0) + 1
    by_key: dict[str, list[_Unit]] = {}
    for unit in units_b:
        by_key.setdefault(unit.visible, []).append(unit)
    for unit in units_a:
        candidates = by_key.get(unit.visible, [])
        if count_a[unit.visible] == 1 and len(candidates) == 1 and candidates[0].place != unit.place:
            if count_words(unit.visible) >= rule.min_words:
                _add_move(moves, a, b, unit, candidates[0], kind)
    _find_near_moves(a, b, [u for u in units_a if u.move < 0], [u for u in units_b if u.move < 0], moves, rule, kind)


def _find_near_moves(
    a: str, b: str, loose_a: list[_Unit], loose_b: list[_Unit], moves: list[Move], rule: _MoveRule, kind: str
) -> None:
    """Moves of units that were also edited: the best match lies in another place."""
    words_a = [(u, words) for u in loose_a if len(words := set(u.key.split())) >= rule.near_min_words]
    words_b = [(u, words) for u in loose_b if len(words := set(u.key.split())) >= rule.near_min_words]
    if not words_a or not words_b or len(words_a) * len(words_b) > _NEAR_MOVE_MAX_PAIRS:
        return
    by_place: dict[int, list[tuple[_Unit, set[str]]]] = {}
    for unit_b, set_b in words_b:
        by_place.setdefault(unit_b.place, []).append((unit_b, set_b))
    # Candidates sorted by set size: Dice can reach `need` only between sizes
    # within a factor (2 - need) / need of each other, a range found by bisection.
    by_size = sorted(range(len(words_b)), key=lambda number: len(words_b[number][1]))
    sizes = [len(words_b[number][1]) for number in by_size]
    scored = []
    for unit_a, set_a in words_a:
        # Only a clearly better match in another place is a move: a twin in the
        # unit's own place (an edit in place, repeated lines) wins ties.
        best_here = max((_dice(set_a, s) for _, s in by_place.get(unit_a.place, ())), default=0.0)
        if best_here >= 0.9:
            continue
        need = max(0.5, best_here + 0.1)
        size = len(set_a)
        low = bisect_left(sizes, size * need / (2 - need))
        high = bisect_right(sizes, size * (2 - need) / need)
        best, best_number, best_unit = 0.0, -1, None
        for number in by_size[low:high]:
            unit_b, set_b = words_b[number]
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

    def __init__(self, a: str, b: str, loose_a: list[_Unit], loose_b: list[_Unit]) -> None:
        self.a, self.b = a, b
        # All loose paragraphs of each side, to look a sentence up in with one substring search.
        self.loose_a = "\n".join(u.visible for u in loose_a)
        self.loose_b = "\n".join(u.visible for u in loose_b)

    @staticmethod
    def _sentences(text: str, unit: _Unit) -> set[str]:
        return {text[s:e].strip() for s, e in sentence_spans(text, (unit.start, unit.end))} - {""}

    def traded_sentences(self, unit_a: _Unit, unit_b: _Unit) -> bool:
        """Whether a sentence that one paragraph lacks sits, unchanged, in a loose paragraph of the other side.

        "A B" -> "A" with "B" now elsewhere is a sentence move, not a
        paragraph that moved and lost a sentence.
        """
        old, new = self._sentences(self.a, unit_a), self._sentences(self.b, unit_b)
        enough = _SENTENCE_RULE.min_words
        lost = any(len(s.split()) >= enough and s in self.loose_b for s in old - new)
        gained = any(len(s.split()) >= enough and s in self.loose_a for s in new - old)
        return lost or gained


def _dice(set_a: set[str], set_b: set[str]) -> float:
    return 2 * len(set_a & set_b) / (len(set_a) + len(set_b))


def similarity(ops: list[Op]) -> float:
    """Share of words kept: 2·kept / (old words + new words)."""
    kept = sum(count_words(op.text) for op in ops if op.op == EQUAL)
    old = kept + sum(count_words(op.text) for op in ops if op.op == DELETE)
    new = kept + sum(count_words(op.text) for op in ops if op.op == INSERT)
    return 2 * kept / (old + new) if old + new else 1.0


def _inner_diff(old_text: str, new_text: str) -> list[Op]:
    """The edits inside a moved piece; the space around it stayed behind, so it is left out."""
    return token_diff(old_text.strip(), new_text.strip())


def _add_move(
    moves: list[Move], a: str, b: str, unit_a: _Unit, unit_b: _Unit, kind: str, inner: list[Op] | None = None
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
        if op.op == EQUAL and len(op.text.split(None, _RUN_BREAK_WORDS)) >= _RUN_BREAK_WORDS:
            current = None
        elif op.op != EQUAL:
            if current is None:
                current = _Run(index, index, pos_a, pos_a, pos_b, pos_b)
                runs.append(current)
            current.stop = index + 1
            if op.move is None:
                (current.deleted if op.op == DELETE else current.inserted).extend(op.text.split())
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
            for triple in set(zip(run.deleted, run.deleted[1:], run.deleted[2:])):
                triples_a.setdefault(triple, []).append(number)
    old_side: set[int] = set()
    new_side: set[int] = set()
    if not triples_a:
        return old_side, new_side
    for number, run in enumerate(runs):
        if len(run.inserted) < _SENTENCE_RULE.min_words:
            continue
        shared: dict[int, int] = {}
        for triple in set(zip(run.inserted, run.inserted[1:], run.inserted[2:])):
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
    ops: list[Op], runs: list[_Run], wanted: set[int], layout_a: _SentenceLayout, layout_b: _SentenceLayout
) -> None:
    """Set the head and tail of the ``wanted`` runs: the unchanged words around them that finish their sentences."""
    taken = 0  # how much of the equal op before the run the previous run's tail took
    for number, run in enumerate(runs):
        if number not in wanted:
            taken = 0
            continue
        if run.first > 0:
            room = len(ops[run.first - 1].text) - (taken if number and runs[number - 1].stop == run.first - 1 else 0)
            needs = [offset - layout.sentence_at(offset)[0] for layout, offset in ((layout_a, run.a_start), (layout_b, run.b_start))]
            run.head = _few_words(ops[run.first - 1].text, max([0] + [n for n in needs if n <= room]), from_end=True)
        taken = 0
        if run.stop < len(ops) and ops[run.stop].op == EQUAL:
            needs = []
            for layout, offset in ((layout_a, run.a_end), (layout_b, run.b_end)):
                start, visible_end = layout.sentence_at(offset)
                needs.append(visible_end - offset if start < offset else 0)
            room = len(ops[run.stop].text)
            run.tail = taken = _few_words(ops[run.stop].text, max([0] + [n for n in needs if n <= room]), from_end=False)


def _few_words(text: str, size: int, from_end: bool) -> int:
    """``size`` if that many characters at the start (or end) of ``text`` hold only a few words, else 0."""
    piece = text[len(text) - size :] if from_end else text[:size]
    return size if size and len(piece.split()) < _RUN_BREAK_WORDS else 0


# An unchanged stretch of at least this many words separates two runs of changes.
_RUN_BREAK_WORDS: Final = 4


def _sentence_moves(layout_a: _SentenceLayout, layout_b: _SentenceLayout, ops: list[Op], moves: list[Move]) -> list[Op]:
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
    units_a: list[_Unit] = []
    units_b: list[_Unit] = []
    for number, run in enumerate(runs):
        if number in old_side:
            units_a += _outside(layout_a.whole_sentences(run.a_start - run.head, run.a_end + run.tail, number), run.moved_a)
        if number in new_side:
            units_b += _outside(layout_b.whole_sentences(run.b_start - run.head, run.b_end + run.tail, number), run.moved_b)
    if not units_a or not units_b:
        return ops
    _find_moves(a, b, units_a, units_b, moves, _SENTENCE_RULE, "sentence")
    _reordered_in_runs(a, b, units_a, units_b, moves)
    moved_a = [u for u in units_a if u.move >= 0]
    moved_b = [u for u in units_b if u.move >= 0]
    if not moved_a and not moved_b:
        return ops
    return _rediff_runs(a, b, ops, runs, moved_a, moved_b, moves)


def _outside(units: list[_Unit], taken: list[tuple[int, int, int]]) -> list[_Unit]:
    """The units that overlap none of the ``taken`` spans (sentences of a moved paragraph stay with it)."""
    return [u for u in units if not any(start < u.end and u.start < end for start, end, _ in taken)]


def _reordered_in_runs(a: str, b: str, units_a: list[_Unit], units_b: list[_Unit], moves: list[Move]) -> None:
    """Within one run, sentences that came back in another order: all but the longest common order moved."""
    by_run: dict[int, tuple[list[_Unit], list[_Unit]]] = {}
    for unit in units_a:
        if unit.move < 0:
            by_run.setdefault(unit.place, ([], []))[0].append(unit)
    for unit in units_b:
        if unit.move < 0 and unit.place in by_run:
            by_run[unit.place][1].append(unit)
    for side_a, side_b in by_run.values():
        texts_a = [u.visible for u in side_a]
        texts_b = [u.visible for u in side_b]
        pairs = [
            (i, texts_b.index(text))
            for i, text in enumerate(texts_a)
            if texts_a.count(text) == 1 and texts_b.count(text) == 1 and count_words(text) >= _SENTENCE_RULE.min_words
        ]
        if len(pairs) < 2:
            continue
        kept = _longest_increasing([j for _, j in pairs])
        for index, (i, j) in enumerate(pairs):
            if index not in kept:
                _add_move(moves, a, b, side_a[i], side_b[j], "sentence")


def _longest_increasing(values: list[int]) -> set[int]:
    """Indices of one longest strictly increasing subsequence (the few sentences of a run: quadratic is fine)."""
    best = [1] * len(values)
    previous = [-1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i] and best[j] + 1 > best[i]:
                best[i], previous[i] = best[j] + 1, j
    index = max(range(len(values)), key=best.__getitem__)
    chain = set()
    while index >= 0:
        chain.add(index)
        index = previous[index]
    return chain


def _rediff_runs(
    a: str, b: str, ops: list[Op], runs: list[_Run], moved_a: list[_Unit], moved_b: list[_Unit], moves: list[Move]
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
        kept_a = _without(a, start_a, run.a_end + tail, old_cuts)
        kept_b = _without(b, start_b, run.b_end + tail, new_cuts)
        fresh = token_diff(kept_a, kept_b)
        for start, _, move in old_cuts:
            fresh = _splice(fresh, DELETE, start - start_a, moves[move].old_text, move)
        for start, _, move in new_cuts:
            fresh = _splice(fresh, INSERT, start - start_b, moves[move].new_text, move)
        out.extend(fresh)
        at = run.stop
        if tail:
            out.append(Op(EQUAL, ops[run.stop].text[tail:]))
            at += 1
    out.extend(ops[at:])
    return normalize(out)


class _SentenceLayout:
    """Paragraph starts of one side and, on demand, the sentences of a paragraph."""

    def __init__(self, paragraphs: _Paragraphs) -> None:
        self.text = paragraphs.text
        self.paragraphs = paragraphs
        self._sentences: dict[int, list[tuple[int, int]]] = {}

    def sentences_of(self, number: int) -> list[tuple[int, int]]:
        if number not in self._sentences:
            self._sentences[number] = sentence_spans(self.text, (self.paragraphs.starts[number], self.paragraphs.ends[number]))
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

    def whole_sentences(self, start: int, end: int, place: int) -> list[_Unit]:
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
                    found.append(_Unit(visible_start, visible_end, visible, visible, place=place))
        return found


def _gap_ops(a: str, b: str, block: _Block, moves: list[Move], book: _CodeBook) -> list[Op]:
    """Ops for one changed block; moved paragraphs go in as whole deletes/inserts."""
    start_a = block.units_a[0].start if block.units_a else block.a_start
    start_b = block.units_b[0].start if block.units_b else 0
    text_a = _without(a, start_a, block.units_a[-1].end if block.units_a else start_a, block.moved_a)
    text_b = _without(b, start_b, block.units_b[-1].end if block.units_b else start_b, block.moved_b)
    if len(text_a) + len(text_b) > _LARGE_BLOCK:
        ops = _large_block_diff(text_a, text_b)
    else:
        ops = token_diff(text_a, text_b, book)
    # Splicing in text order means everything before the piece being placed is
    # already in the ops, so its offset is simply its distance from the block start.
    for start, _, move in block.moved_a:
        ops = _splice(ops, DELETE, start - start_a, moves[move].old_text, move)
    for start, _, move in block.moved_b:
        ops = _splice(ops, INSERT, start - start_b, moves[move].new_text, move)
    return ops


def _without(text: str, start: int, end: int, cuts: list[tuple[int, int, int]]) -> str:
    """``text[start:end]`` with the ``cuts`` (start, end, _) taken out."""
    kept = []
    pos = start
    for cut_start, cut_end, _ in cuts:
        kept.append(text[pos:cut_start])
        pos = cut_end
    kept.append(text[pos:end])
    return "".join(kept)


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
        Move(
            m.id, m.new_start, m.new_text, m.old_start, m.old_text, normalize([Op(swap[o.op], o.text) for o in m.ops]), m.unit
        )
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
        (Move(order[m.id], m.old_start, m.old_text, m.new_start, m.new_text, m.ops, m.unit) for m in alignment.moves),
        key=lambda m: m.id,
    )
    return Alignment(ops, moves)


def rebuild(ops: list[Op]) -> tuple[str, str]:
    """The (old, new) texts that ``ops`` describe."""
    old = "".join(op.text for op in ops if op.op != INSERT)
    new = "".join(op.text for op in ops if op.op != DELETE)
    return old, new
