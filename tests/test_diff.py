"""The diff: exact ops, editor-like grouping, moves, flags, sentences, stats, any script."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.gitoracle import changed_chars, git_word_diff
from revtrack.diff import diff_texts, summarize
from revtrack.engine import DELETE, EQUAL, INSERT, align, rebuild, token_diff
from revtrack.ingest import parse_document
from revtrack.tokens import count_words
from tests.conftest import DATA, seed_versions


def changed(ops):
    """The word changes of ``ops`` (whitespace-only ops are layout, not words)."""
    return [(op.op, op.text) for op in ops if op.op != EQUAL and op.text.strip()]


def load_seed(number: int):
    text = seed_versions()[number - 1].path.read_text(encoding="utf-8")
    return parse_document(text)


# --- table-driven word diffs ---------------------------------------------------

WORD_CASES = [
    pytest.param(
        "there is a ceasefire today",
        "there is no official ceasefire today",
        [(DELETE, "a"), (INSERT, "no official")],
        id="insertion-reads-as-one-edit",
    ),
    pytest.param(
        "a b c", "x b y", [(DELETE, "a"), (INSERT, "x"), (DELETE, "c"), (INSERT, "y")], id="kept-word-anchors"
    ),
    pytest.param("He told Rudaw TV", "He had told Rudaw TV", [(INSERT, "had ")], id="one-word-insert"),
    pytest.param(
        "destroyed three such tanks", "destroyed two such tanks", [(DELETE, "three"), (INSERT, "two")], id="number-word"
    ),
    pytest.param(
        "the toll rose to 12 on Friday", "the toll rose to 17 on Friday", [(DELETE, "12"), (INSERT, "17")], id="digits"
    ),
    pytest.param(
        "grew 3.2% in 2017", "grew 3.5% in 2017", [(DELETE, "3.2%"), (INSERT, "3.5%")], id="percent-stays-whole"
    ),
    pytest.param("at 5:32 pm", "at 5:45 pm", [(DELETE, "5:32"), (INSERT, "5:45")], id="clock-time-stays-whole"),
    pytest.param("1,200 people", "1,300 people", [(DELETE, "1,200"), (INSERT, "1,300")], id="thousands-separator"),
    pytest.param("43,5 km", "43,7 km", [(DELETE, "43,5"), (INSERT, "43,7")], id="decimal-comma"),
    pytest.param(
        "the BBC’s reporter",
        "the BBC’s correspondent",
        [(DELETE, "reporter"), (INSERT, "correspondent")],
        id="apostrophe-word",
    ),
    pytest.param(
        "al-Muhandis said", "al-Amiri said", [(DELETE, "al-Muhandis"), (INSERT, "al-Amiri")], id="hyphenated-word"
    ),
    pytest.param(
        "see https://example.org/a?x=1 now",
        "see https://example.org/b?x=1 now",
        [(DELETE, "https://example.org/a?x=1"), (INSERT, "https://example.org/b?x=1")],
        id="url-whole",
    ),
    pytest.param(
        "我很好。今天天气很好。", "我很好。今天天气不好。", [(DELETE, "很"), (INSERT, "不")], id="chinese-one-character"
    ),
    pytest.param("ละครดีดูที่ช่องวัน", "ละครดีดูที่ช่องสาม", None, id="thai-not-whole-sentence"),
    pytest.param("قال المتحدث إن هناك هدنة", "قال المتحدث إنه لا توجد هدنة", None, id="arabic-rtl"),
    pytest.param("यह सच है।", "यह झूठ है।", [(DELETE, "सच"), (INSERT, "झूठ")], id="hindi-marks-inside-word"),
]


@pytest.mark.parametrize(("old", "new", "expected"), WORD_CASES)
def test_word_diff_cases(old: str, new: str, expected) -> None:
    ops = token_diff(old, new)
    assert rebuild(ops) == (old, new)
    if expected is not None:
        assert changed(ops) == expected
    else:
        # Unspaced and right-to-left scripts: the change is much smaller than the text.
        deleted = sum(len(text) for kind, text in changed(ops) if kind == DELETE)
        assert 0 < deleted < len(old) / 2


def test_whitespace_only_changes_are_not_word_changes() -> None:
    old = "One two three.\nFour five six."
    new = "One  two\nthree. Four five six."
    result = diff_texts(old, new)
    assert rebuild(result.ops) == (old, new)
    assert result.stats.words_added == 0 and result.stats.words_deleted == 0
    assert result.changes == []
    assert summarize(result) == "whitespace only"


def test_rewrapped_text_aligns_word_for_word() -> None:
    words = [f"word{i}" for i in range(60)]
    old = " ".join(words)
    new = "\n".join(" ".join(words[i : i + 7]) for i in range(0, 60, 7)).replace("word30", "WORD30")
    result = diff_texts(old, new)
    assert result.stats.words_added == 1 and result.stats.words_deleted == 1


# --- the seed article: what the README says a good tool must show --------------


def test_seed_v1_to_v2_shows_every_listed_change() -> None:
    v1, v2 = load_seed(1), load_seed(2)
    result = diff_texts(v1.body, v2.body, v1.title, v2.title)
    assert rebuild(result.ops) == (v1.body, v2.body)
    kinds = {(c.kind, c.old, c.new) for c in result.changes}
    # Headline change, with its word diff.
    headline = result.changes[0]
    assert headline.flags[0] == "headline" and headline.unit == "headline"
    assert changed(result.title_ops)[:2] == [(DELETE, "says ceasefire reached between"), (INSERT, "confirms")]
    # Lede, tense changes, the number correction.
    assert ("replace", "a ceasefire between", "that") in kinds
    assert ("insert", "", "are in talks") in kinds
    assert sum(1 for c in result.changes if c.kind == "insert" and c.new == "had") == 2
    number = next(c for c in result.changes if c.old == "three")
    assert number.new == "two" and "number" in number.flags
    # The correction paragraph, inserted, flagged as a quote.
    correction = next(c for c in result.changes if c.new.startswith("He later clarified on Twitter"))
    assert correction.kind == "insert" and "“official ‘ceasefire’”" in correction.new and "quote" in correction.flags
    # New paragraphs.
    for start in ("A Shiite leader told the BBC", "Hadi al-Amiri", "Dillon stressed on Twitter"):
        assert any(c.kind == "insert" and c.new.startswith(start) for c in result.changes), start
    # The mediation paragraph moved from third place to the end, reported once.
    moves = [c for c in result.changes if c.kind == "move"]
    assert len(moves) == 1
    assert moves[0].old.startswith("He said they are trying to mediate")
    assert (moves[0].old_pos.paragraph, moves[0].new_pos.paragraph) == (3, 10)
    assert not any(c.kind in ("insert", "delete") and "trying to mediate" in (c.old + c.new) for c in result.changes)
    stats = result.stats
    assert (stats.paragraphs_added, stats.paragraphs_moved, stats.paragraphs_deleted) == (4, 1, 0)
    assert (stats.sentences_added, stats.sentences_edited, stats.sentences_moved) == (4, 4, 1)
    assert "number changed: three → two" in summarize(result)


def test_seed_v2_to_v3_update_prefix_and_seven_paragraphs_and_the_update_line() -> None:
    v2, v3 = load_seed(2), load_seed(3)
    result = diff_texts(v2.body, v3.body, v2.title, v3.title)
    assert rebuild(result.ops) == (v2.body, v3.body)
    assert changed(result.title_ops) == [(INSERT, "UPDATE: ")]
    inserted = [c.new for c in result.changes if c.kind == "insert"]
    assert len(inserted) == 8
    assert inserted[-1] == "Updated at 5:32 pm"
    assert any("MILAN weapons" in text for text in inserted)
    assert any(text.startswith("Abu Mahdi al-Muhandis") for text in inserted)
    assert result.stats.words_deleted == 0
    assert result.stats.paragraphs_added == 8


def test_sentence_view_pairs_edited_sentences() -> None:
    v1, v2 = load_seed(1), load_seed(2)
    result = diff_texts(v1.body, v2.body)
    edited = [s for s in result.sentences if s.kind == "edited"]
    tanks = next(s for s in edited if "tanks." in s.new and "two" in s.new)
    assert tanks.old == "The Kurdish forces have said they had destroyed three such tanks."
    assert changed(tanks.ops) == [(DELETE, "three"), (INSERT, "two")]
    assert [s.kind for s in result.sentences].count("moved") == 1


@pytest.mark.parametrize(
    ("old", "new", "flag"),
    [
        pytest.param("He said “we will go” today.", "He said “we will stay” today.", "quote", id="quote"),
        pytest.param('He said "ceasefire" today.', "He said “ceasefire” today.", "typographic", id="quote-style"),
        pytest.param("ten days - maybe", "ten days — maybe", "typographic", id="dash"),
        pytest.param("12 people died", "17 people died", "number", id="number"),
    ],
)
def test_flags(old: str, new: str, flag: str) -> None:
    result = diff_texts(old, new)
    assert any(flag in change.flags for change in result.changes), result.changes


def test_sentence_move_within_text_is_a_move_of_its_paragraph() -> None:
    paragraphs = [f"Paragraph {name} has several words in it to be found." for name in "ABCDE"]
    old = "\n\n".join(paragraphs)
    new = "\n\n".join([paragraphs[1], paragraphs[2], paragraphs[3], paragraphs[0], paragraphs[4]])
    result = diff_texts(old, new)
    moves = [c for c in result.changes if c.kind == "move"]
    assert len(moves) == 1 and moves[0].old.startswith("Paragraph A")
    assert result.stats.words_added == 0 and result.stats.words_deleted == 0


def test_nearly_unchanged_moved_paragraph_is_a_move_with_its_edit() -> None:
    para = "The minister said the talks would continue next week in the capital with both sides."
    others = [f"Filler paragraph number {i} talks about something else entirely here." for i in range(4)]
    old = "\n\n".join([para, *others])
    new = "\n\n".join([*others, para.replace("next week", "on Monday")])
    result = diff_texts(old, new)
    moves = [c for c in result.changes if c.kind == "move"]
    assert len(moves) == 1
    assert changed(moves[0].ops) == [(DELETE, "next week"), (INSERT, "on Monday")]


def test_edited_paragraph_moves_are_found_in_scripts_without_spaces() -> None:
    para = "市政府宣布所有学校明天停课一天，交通部门建议市民减少出行并注意安全。"
    others = [f"第{number}段讲的是另外一件完全不同的事情，和天气没有关系。" for number in "一二三四"]
    result = diff_texts("\n\n".join([para, *others]), "\n\n".join([*others, para.replace("明天", "后天")]))
    (move,) = moves_of(result)
    assert move.unit == "paragraph" and changed(move.ops) == [(DELETE, "明"), (INSERT, "后")]


# --- sentence moves ------------------------------------------------------------

MAYOR = "The mayor said the talks had stalled on Monday evening."
RETURN = "Negotiators will return next week to try again."
DEAL = "Nobody expects a quick deal before the winter."
WATER = "Residents queued for water at three distribution points across the city."
POWER = "Power was restored to the northern districts late on Sunday."
SCHOOLS = "Schools in the east stay closed until further notice."
ARMY = "The army said two soldiers were wounded in the clash."


def moves_of(result):
    return [c for c in result.changes if c.kind == "move"]


SENTENCE_MOVE_CASES = [
    pytest.param(
        f"{MAYOR} {RETURN} {DEAL}\n\n{WATER}\n",
        f"{MAYOR} {DEAL}\n\n{WATER} {RETURN}\n",
        [(RETURN, (1, 2), (2, 2))],
        id="to-the-end-of-another-paragraph",
    ),
    pytest.param(
        f"{MAYOR} {RETURN} {DEAL}\n",
        f"{DEAL} {MAYOR} {RETURN}\n",
        [(DEAL, (1, 3), (1, 1))],
        id="within-one-paragraph",
    ),
    pytest.param(
        f"{MAYOR} {RETURN} {DEAL}\n\n{WATER} {POWER} {SCHOOLS}\n",
        f"{MAYOR}\n\n{WATER} {POWER} {SCHOOLS} {RETURN} {DEAL}\n",
        [(RETURN, (1, 2), (2, 4)), (DEAL, (1, 3), (2, 5))],
        id="last-two-sentences-together",
    ),
    pytest.param(
        f"{MAYOR} {RETURN} {DEAL}\n\n{WATER}\n",
        f"{MAYOR}\n\n{RETURN} {DEAL} {WATER}\n",
        [],
        id="regrouped-in-order-is-no-move",
    ),
    pytest.param(
        f"{MAYOR}\n\n{RETURN}\n\n{WATER}\n\n{POWER}\n",
        f"{MAYOR}\n\n{WATER} {POWER} {RETURN}\n",
        [(RETURN, (2, 1), (2, 3))],
        id="paragraph-becomes-a-sentence-of-another",
    ),
    pytest.param(
        f"{MAYOR} {RETURN}\n\n{DEAL}\n",
        f"{RETURN}\n\n{DEAL}\n\n{MAYOR}\n",
        [(MAYOR, (1, 1), (3, 1))],
        id="sentence-leaves-its-paragraph-for-a-new-one",
    ),
    pytest.param(
        f"{MAYOR} {RETURN}\n\n{WATER} {POWER}\n",
        f"{MAYOR} {POWER}\n\n{WATER} {RETURN}\n",
        [(POWER, (2, 2), (1, 2)), (RETURN, (1, 2), (2, 2))],
        id="two-sentences-swap-paragraphs",
    ),
    pytest.param(
        "北京今天下雨了。市政府宣布所有学校停课一天。交通部门建议市民减少出行。\n\n上海的天气很好，公园里有很多游客。\n",
        "北京今天下雨了。交通部门建议市民减少出行。\n\n上海的天气很好，公园里有很多游客。市政府宣布所有学校停课一天。\n",
        [("市政府宣布所有学校停课一天。", (1, 2), (2, 2))],
        id="chinese-no-spaces",
    ),
    # The word diff keeps "The" and "said" in place ("The [-mayor-]{+army+} said"): still two whole moves.
    pytest.param(
        f"{MAYOR} {WATER}\n\n{POWER} {ARMY}\n",
        f"{ARMY} {WATER}\n\n{POWER} {MAYOR}\n",
        [(ARMY, (2, 2), (1, 1)), (MAYOR, (1, 1), (2, 2))],
        id="swap-of-sentences-sharing-words",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), SENTENCE_MOVE_CASES)
def test_sentence_moves(old: str, new: str, expected) -> None:
    result = diff_texts(old, new)
    got = [
        (m.new, (m.old_pos.paragraph, m.old_pos.sentence), (m.new_pos.paragraph, m.new_pos.sentence))
        for m in moves_of(result)
    ]
    assert sorted(got) == sorted(expected)
    assert all(m.unit == "sentence" and m.old == m.new for m in moves_of(result))
    assert rebuild(result.ops) == (old, new)
    assert (result.stats.words_added, result.stats.words_deleted) == (0, 0)
    assert (result.stats.sentences_moved, result.stats.paragraphs_moved) == (len(expected), 0)
    if expected:
        assert summarize(result) == f"{len(expected)} sentence{'s' if len(expected) > 1 else ''} moved"


def test_moved_sentence_that_was_also_edited_is_one_move_with_its_edit() -> None:
    old = f"{MAYOR} {RETURN} {DEAL}\n\n{WATER}\n"
    edited = RETURN.replace("next week", "on Thursday")
    new = f"{MAYOR} {DEAL}\n\n{WATER} {edited}\n"
    (move,) = moves_of(diff_texts(old, new))
    assert (move.unit, move.old, move.new) == ("sentence", RETURN, edited)
    assert changed(move.ops) == [(DELETE, "next week"), (INSERT, "on Thursday")]


def test_short_sentences_and_edits_in_place_are_not_moves() -> None:
    # "He said." recurs in news copy; a sentence rewritten where it stands is an edit.
    old = f"He said. {MAYOR} {RETURN}\n\n{WATER}\n"
    new = f"{MAYOR} {RETURN.replace('next week', 'on Thursday')}\n\n{WATER} He said.\n"
    result = diff_texts(old, new)
    assert moves_of(result) == []
    assert (DELETE, "next week") in changed(result.ops)


def test_sentence_move_renders_inline_where_it_left_and_where_it_arrived() -> None:
    from revtrack.render.diffview import body_lines, sentence_lines
    from revtrack.render.text import TextOutput

    result = diff_texts(f"{MAYOR} {RETURN} {DEAL}\n\n{WATER}\n", f"{MAYOR} {DEAL}\n\n{WATER} {RETURN}\n")
    lines = [TextOutput.plain(line.segments) for line in body_lines(result) if line.segments]
    assert lines == [f"{MAYOR} [⇄ to ¶2.2] {DEAL}", f"{WATER} {{⇄ from ¶1.2: {RETURN}}}"]
    assert [(label, TextOutput.plain(segments)) for label, segments in sentence_lines(result.sentences)] == [
        ("⇄ moved ¶1.2 → ¶2.2", RETURN)
    ]


# --- properties ------------------------------------------------------------------

PIECES = list("ab c\n.,“”'’-12") + [
    "word",
    "ceasefire",
    "三",
    "ก",
    "\u00a0",
    "\n\n",
    "Paragraph one.",
    "\x1b",
    "\x1c",
    "x\x1f ",
]
TEXT = st.lists(st.sampled_from(PIECES), max_size=40).map("".join) | st.text(max_size=30)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(TEXT, TEXT)
def test_ops_rebuild_both_sides(old: str, new: str) -> None:
    result = diff_texts(old, new)
    assert rebuild(result.ops) == (old, new)
    assert rebuild(result.title_ops) == ("", "")
    for sentence in result.sentences:
        if sentence.kind == "edited":
            assert rebuild(sentence.ops) == (sentence.old, sentence.new)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_diff_of_a_text_with_itself_is_all_equal(text: str) -> None:
    ops = align(text, text).ops
    assert all(op.op == EQUAL for op in ops)
    assert "".join(op.text for op in ops) == text


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT)
def test_swapping_sides_swaps_inserts_and_deletes(old: str, new: str) -> None:
    forward = align(old, new)
    backward = align(new, old)
    swap = {INSERT: DELETE, DELETE: INSERT, EQUAL: EQUAL}
    mirrored = sorted((swap[op.op], op.text) for op in backward.ops)
    assert sorted((op.op, op.text) for op in forward.ops) == mirrored
    assert len(forward.moves) == len(backward.moves)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(["Alpha beta gamma delta.", "One two three four five.", "x", "Quote “here” now."]), max_size=8
    ),
    st.randoms(use_true_random=False),
)
def test_reordered_paragraphs_rebuild_and_count_no_words(paragraphs: list[str], rnd) -> None:
    shuffled = list(paragraphs)
    rnd.shuffle(shuffled)
    old, new = "\n\n".join(paragraphs), "\n\n".join(shuffled)
    result = diff_texts(old, new)
    assert rebuild(result.ops) == (old, new)


SENTENCE_POOL = [MAYOR, RETURN, DEAL, WATER, POWER, SCHOOLS, ARMY]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(SENTENCE_POOL), unique=True, min_size=1, max_size=7),
    st.randoms(use_true_random=False),
    st.lists(st.sampled_from([" ", "\n\n"]), min_size=7, max_size=7),
    st.lists(st.sampled_from([" ", "\n\n"]), min_size=7, max_size=7),
)
def test_reordered_sentences_are_moves_that_rebuild_and_mirror(sentences, rnd, breaks_old, breaks_new) -> None:
    """Any reordering and regrouping of distinct sentences is told as moves, both ways round: no word is
    deleted or inserted outside a move (a moved paragraph may show its sentences reordered inside it)."""
    shuffled = list(sentences)
    rnd.shuffle(shuffled)
    old = "".join(s + b for s, b in zip(sentences, breaks_old, strict=False))
    new = "".join(s + b for s, b in zip(shuffled, breaks_new, strict=False))
    forward, backward = diff_texts(old, new), diff_texts(new, old)
    assert rebuild(forward.ops) == (old, new)
    assert rebuild(backward.ops) == (new, old)
    for result in (forward, backward):
        assert sum(count_words(op.text) for op in result.ops if op.op != EQUAL and op.move is None) == 0
    assert sorted(m.old for m in moves_of(forward)) == sorted(m.new for m in moves_of(backward))


# --- real pairs kept in tests/data (Thai, Chinese, Hindi, Russian, English) ---------


def _sample_pairs():
    data = json.loads((DATA / "wikidiff2-sample.json").read_text(encoding="utf-8"))
    for lang, pairs in data["pairs"].items():
        for pair in pairs:
            yield pytest.param(pair["old"], pair["new"], id=f"{lang}-{pair['index']}")


@pytest.mark.parametrize(("old", "new"), list(_sample_pairs()))
def test_real_wikipedia_pairs_rebuild_and_stay_small(old: str, new: str) -> None:
    result = diff_texts(old, new)
    assert rebuild(result.ops) == (old, new)
    ours, _ = changed_chars(result.ops), None
    theirs, _ = git_word_diff(old, new)
    assert ours <= 1.5 * theirs, (ours, theirs)


# --- many distinct tokens -------------------------------------------------------------


def test_more_than_65k_distinct_words_diff_exactly() -> None:
    """Codes run past the Basic Multilingual Plane (70,000 distinct words need astral code points)."""
    old = " ".join(f"w{number}" for number in range(70_000))
    new = old.replace("w12345 ", "changed ").replace("w69998", "last")
    ops = token_diff(old, new)
    assert rebuild(ops) == (old, new)
    assert changed(ops) == [(DELETE, "w12345"), (INSERT, "changed"), (DELETE, "w69998"), (INSERT, "last")]


def test_when_token_codes_run_out_the_character_diff_is_still_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    from revtrack import wordiff

    monkeypatch.setattr(wordiff.CodeBook, "_WORD_RANGES", ((0x4E00, 0x4E09),))  # ten word codes
    old = "one two three four five six seven eight nine ten eleven twelve"
    new = "one two three four five six seven eight nine ten eleven dozen"
    ops = token_diff(old, new)
    assert rebuild(ops) == (old, new)
    assert "".join(op.text for op in ops if op.op == EQUAL).startswith(
        "one two three four five six seven eight nine ten eleven "
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 50), unique=True, max_size=12))
def test_longest_increasing_order_is_increasing_and_longest(values: list[int]) -> None:
    from revtrack.moves import _longest_increasing

    chain = sorted(_longest_increasing(values))
    assert all(values[a] < values[b] for a, b in zip(chain, chain[1:], strict=False))
    longest = [1] * len(values)  # the quadratic textbook answer
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i]:
                longest[i] = max(longest[i], longest[j] + 1)
    assert len(chain) == max(longest, default=0)


OPS = st.lists(
    st.tuples(
        st.sampled_from([EQUAL, DELETE, INSERT]),
        st.sampled_from(["a", "b ", " ", "c d"]),
        st.sampled_from([None, 1, 2]),
    ),
    max_size=14,
)


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_mirrored_ops_are_the_normal_form_of_the_swapped_ops(raw: list[tuple[str, str, int | None]]) -> None:
    from revtrack.wordiff import Op, mirror, normalize

    ops = normalize([Op(kind, text, move if kind != EQUAL else None) for kind, text, move in raw])
    swap = {INSERT: DELETE, DELETE: INSERT, EQUAL: EQUAL}
    assert mirror(ops) == normalize([Op(swap[op.op], op.text, op.move) for op in ops])


MIXED_POOL = [
    *SENTENCE_POOL,
    "北京今天下雨了。",
    "市政府宣布所有学校停课一天。",
    "“We will not go back,” she said.",
    "He said.",
]
SEPARATORS = [" ", "  ", "\n", "\n\n", "\r\n\r\n", "\t", " \n\n", "\u00a0"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(MIXED_POOL), max_size=9), st.randoms(use_true_random=False))
def test_shuffled_edited_sentences_in_any_layout_rebuild_mirror_and_pair_their_moves(sentences, rnd) -> None:
    """Reordered sentences, some edited, in mixed scripts and separators: exact both ways, every move one pair."""
    edited = []
    for sentence in sentences:
        words = sentence.split(" ")
        if len(words) > 3 and rnd.random() < 0.3:
            words[rnd.randrange(len(words))] = rnd.choice(["often", "twelve", "17", "“quoted”", "城市"])
        edited.append(" ".join(words))
    rnd.shuffle(edited)
    old = "".join(s + rnd.choice(SEPARATORS) for s in sentences)
    new = "".join(s + rnd.choice(SEPARATORS) for s in edited)
    for a, b in ((old, new), (new, old)):
        result = diff_texts(a, b)
        assert rebuild(result.ops) == (a, b)
        for sentence in result.sentences:
            if sentence.kind == "edited":
                assert rebuild(sentence.ops) == (sentence.old, sentence.new)
        for move in result.moves:
            assert sorted(op.op for op in result.ops if op.move == move.id) == [DELETE, INSERT]
    swap = {INSERT: DELETE, DELETE: INSERT, EQUAL: EQUAL}
    assert sorted((op.op, op.text) for op in align(old, new).ops) == sorted(
        (swap[op.op], op.text) for op in align(new, old).ops
    )


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_paragraph_spans_start_at_content_lines_and_tile_the_rest(text: str) -> None:
    from revtrack.segment import paragraph_spans

    spans = paragraph_spans(text)
    lines_with_content = [i for i, line in enumerate(text.split("\n")) if line.strip()]
    assert len(spans) == len(lines_with_content)
    for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False):
        assert end == next_start
    if spans:
        assert spans[-1][1] == len(text) and not text[: spans[0][0]].strip()
        assert all(start == 0 or text[start - 1] == "\n" for start, _ in spans)


def test_a_paragraph_its_caller_calls_an_edit_in_place_takes_part_in_no_move() -> None:
    """find_moves' in_place measure: a pair it finds ≥ 90% alike stays put, though another place matches better."""
    from revtrack.moves import PARAGRAPH_RULE, Unit, find_moves

    old = "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10\n\n"
    here = "w1 w2 w3 w4 w5 x6 x7 x8 x9 x10\n\n"  # the counterpart in its own place: half the words
    there = "w1 w2 w3 w4 w5 w6 w7 w8 w9 w11\n\n"  # in another place: nine of ten
    b = here + there

    def units() -> tuple[list[Unit], list[Unit]]:
        side_a = [Unit(0, len(old), old, old.strip(), place=0)]
        side_b = [
            Unit(0, len(here), here, here.strip(), place=0),
            Unit(len(here), len(b), there, there.strip(), place=1),
        ]
        return side_a, side_b

    moves: list = []
    find_moves(old, b, *units(), moves, PARAGRAPH_RULE, "paragraph")
    assert [(m.old_start, m.new_start) for m in moves] == [(0, len(here))]
    calls: list[tuple[int, int]] = []

    def alike(unit_a: Unit, unit_b: Unit) -> float:
        calls.append((unit_a.place, unit_b.place))
        return 0.95

    moves = []
    find_moves(old, b, *units(), moves, PARAGRAPH_RULE, "paragraph", alike)
    assert moves == [] and calls == [(0, 0)]  # asked only about the place with one paragraph each side


def test_a_wholesale_rewrite_of_one_long_paragraph_is_anchored_by_its_kept_sentences() -> None:
    """Past 60,000 characters a block is aligned by sentence first; a run still that long is shown replaced whole.

    (A word diff of two long unrelated texts in one vocabulary costs length × differences.)
    """
    import random

    rng = random.Random(7)
    vocabulary = [f"w{n}" for n in range(50)]

    def sentences(count: int) -> str:
        return " ".join(" ".join(rng.choice(vocabulary) for _ in range(12)).capitalize() + "." for _ in range(count))

    kept = "The minister resigned on Friday after the vote."
    old = f"{kept} {sentences(900)}\n"
    new = f"{kept} {sentences(900)}\n"
    assert len(old) + len(new) > 60_000
    ops = align(old, new).ops
    assert rebuild(ops) == (old, new)
    assert ops[0].op == EQUAL and ops[0].text.startswith(kept)
    assert [op.op for op in ops[1:]] in ([DELETE, INSERT], [DELETE, INSERT, EQUAL])


def test_a_page_replaced_by_an_unrelated_one_is_not_searched_pair_by_pair_for_edited_moves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One place of 1,200 changed paragraphs a side: each paragraph's best match in its place cost 2.9 M
    word-set comparisons (2.2 s of a 5 s diff at 20,000 words); past moves._IN_PLACE_MAX_PAIRS only exact
    moves are looked for. Counted, not timed: the comparisons stay under the cap, and the diff is whole."""
    import random

    from revtrack import moves

    rng = random.Random(3)
    vocabulary = [f"w{number}" for number in range(3_000)] + ["the", "of", "and", "a", "to"] * 200

    def page() -> str:
        return "\n\n".join(" ".join(rng.choice(vocabulary) for _ in range(12)) + "." for _ in range(1_200))

    old, new = page(), page()
    compared = 0
    dice = moves._dice

    def counted(set_a: set[str], set_b: set[str]) -> float:
        nonlocal compared
        compared += 1
        return dice(set_a, set_b)

    monkeypatch.setattr(moves, "_dice", counted)
    result = diff_texts(old, new)
    assert rebuild(result.ops) == (old, new)
    assert compared <= 2 * moves._IN_PLACE_MAX_PAIRS


def test_a_text_replaced_wholesale_lists_its_sentences_as_deleted_and_added_not_as_one_edit() -> None:
    """A page that now serves another article is one replacement touching every sentence of both sides.

    It was one "edited" sentence change holding all of them, word-diffed again (2.1 s of a 20,000-word
    diff); past engine.LARGE_BLOCK characters each sentence is listed as deleted or added, as the engine
    already shows such a block replaced. A small replacement stays one edited sentence."""
    import random

    from revtrack.engine import LARGE_BLOCK

    rng = random.Random(5)

    def page(prefix: str) -> str:
        return "\n\n".join(
            " ".join(f"{prefix}{rng.randrange(9_999)}" for _ in range(15)).capitalize() + "." for _ in range(600)
        )

    old, new = page("o"), page("n")
    assert len(old) + len(new) > LARGE_BLOCK
    result = diff_texts(old, new)
    assert rebuild(result.ops) == (old, new)
    kinds = [change.kind for change in result.sentences]
    assert kinds.count("deleted") == 600 and kinds.count("added") == 600 and "edited" not in kinds
    small = diff_texts("The army said so.", "The mayor said so.")
    assert [change.kind for change in small.sentences] == ["edited"]


def test_a_change_with_many_numbers_lists_the_first_few_in_the_summary() -> None:
    """The log's one line named every number of a change: hundreds for a page replaced by another one."""
    old = "Results: " + ", ".join(str(number) for number in range(10, 30)) + "."
    new = "Results: " + ", ".join(str(number) for number in range(50, 70)) + "."
    line = summarize(diff_texts(old, new))  # twenty changes of one number each
    assert "number changed: 10 → 50 · number changed: 11 → 51 · number changed: 12 → 52 · 17 more numbers changed" in (
        line
    )
    replaced = summarize(diff_texts(old, "Totals were revised: " + " and ".join(str(n) for n in range(50, 70)) + "!"))
    assert "number changed: 10 11 12 13 14 15 … (20 numbers) → 50 51 52 53 54 55 … (20 numbers)" in replaced
    few = summarize(diff_texts("It destroyed three tanks.", "It destroyed two tanks."))
    assert "number changed: three → two" in few
