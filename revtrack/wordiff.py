"""Word-level diff of two texts: exact ops, grouped the way an editor marks up copy.

diff-match-patch over tokens: each distinct token (word, number, URL,
punctuation; see :mod:`revtrack.tokens`) becomes one character, the C++ build
runs Myers' algorithm on those, and a word-weighted, strict variant of its
semantic cleanup merges scattered one-word edits, so that "there is a
ceasefire" -> "there is no official ceasefire" reads as one insertion. The
whitespace after each token rides along with it (re-wrapped text aligns);
whitespace that differs comes back as whitespace-only ops.

Only the part between the shared start and end of the two texts is tokenised
(tokenising costs more than diffing). Ops rebuild both texts exactly: the
``equal`` and ``delete`` texts give the old one, ``equal`` and ``insert`` the new.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import fast_diff_match_patch
from diff_match_patch import diff_match_patch

from revtrack.tokens import count_words, is_word, pieces, split_piece

EQUAL: Final = "equal"

INSERT: Final = "insert"

DELETE: Final = "delete"

# Unchanged runs at least this many tokens long always stay unchanged.
_KEEP_EQUALITY: Final = 12


class Op(NamedTuple):
    """One diff operation; ``move`` links the delete and insert of a moved paragraph or sentence (:mod:`.moves`)."""

    op: str
    text: str
    move: int | None = None


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


# Characters that str.isspace() calls whitespace and the tokenizers do not.
_QUIRKS: Final = frozenset("\x1c\x1d\x1e\x1f")


class CodeBook:
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
        new = set(pieces).difference(piece_codes)
        if new:
            codes = self.codes
            for piece in new:
                token = piece.rstrip()
                space = piece[len(token) :]
                if space != " " and not _QUIRKS.isdisjoint(space):
                    token = split_piece(piece)[0]  # a \x1c-\x1f token, which str.rstrip takes for space
                code = codes.get(token)
                if code is None:
                    code = self._new_code(token)
                    if code is None:
                        return None
                    codes[token] = code
                piece_codes[piece] = code
        return "".join(map(piece_codes.__getitem__, pieces))

    def _new_code(self, token: str) -> str | None:
        """The next code of the token's class (word or other), or None when its ranges run out."""
        # The first range of each class inline (1.7% of a long diff's work):
        # nearly every comparison stays in it.
        if is_word(token):
            number = self.words
            self.words += 1
            low, high = self._WORD_RANGES[0]
            return chr(low + number) if number <= high - low else self._code(number, self._WORD_RANGES)
        number = self.others
        self.others += 1
        low, high = self._OTHER_RANGES[0]
        return chr(low + number) if number <= high - low else self._code(number, self._OTHER_RANGES)


def token_diff(a: str, b: str, book: CodeBook | None = None) -> list[Op]:
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


def _token_diff(a: str, b: str, book: CodeBook | None) -> list[Op]:
    if not a or not b:
        return [Op(DELETE, a)] if a else [Op(INSERT, b)] if b else []
    lead_a, pieces_a = pieces(a)
    lead_b, pieces_b = pieces(b)
    book = book if book is not None else CodeBook()
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
    for piece_a, piece_b in zip(run_a, run_b, strict=True):
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


def similarity(ops: list[Op]) -> float:
    """Share of words kept: 2·kept / (old words + new words)."""
    kept = sum(count_words(op.text) for op in ops if op.op == EQUAL)
    old = kept + sum(count_words(op.text) for op in ops if op.op == DELETE)
    new = kept + sum(count_words(op.text) for op in ops if op.op == INSERT)
    return 2 * kept / (old + new) if old + new else 1.0


def without(text: str, start: int, end: int, cuts: list[tuple[int, int, int]]) -> str:
    """``text[start:end]`` with the ``cuts`` (start, end, _) taken out."""
    kept = []
    pos = start
    for cut_start, cut_end, _ in cuts:
        kept.append(text[pos:cut_start])
        pos = cut_end
    kept.append(text[pos:end])
    return "".join(kept)


def splice(ops: list[Op], kind: str, offset: int, text: str, move: int) -> list[Op]:
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


def mirror(ops: list[Op]) -> list[Op]:
    """The ops of the reverse comparison: what :func:`normalize` gives for ``ops`` with the sides swapped.

    For normalized ``ops`` that is one pass without joining any text: each run
    of changes is deletes then inserts, so swapped it is the old inserts (now
    deletes) followed by the old deletes (now inserts), no two neighbours of
    one kind and move.
    """
    out: list[Op] = []
    now_inserted: list[Op] = []  # the run's old deletes, which follow its new deletes
    for op in ops:
        if op.op == EQUAL:
            if now_inserted:
                out.extend(now_inserted)
                now_inserted.clear()
            out.append(op)
        elif op.op == DELETE:
            now_inserted.append(Op(INSERT, op.text, op.move))
        else:
            out.append(Op(DELETE, op.text, op.move))
    out.extend(now_inserted)
    return out


def rebuild(ops: list[Op]) -> tuple[str, str]:
    """The (old, new) texts that ``ops`` describe."""
    old = "".join(op.text for op in ops if op.op != INSERT)
    new = "".join(op.text for op in ops if op.op != DELETE)
    return old, new
