"""When did it change: phrase history, blame, search, stated times, log summaries."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revtrack.errors import InvalidInput
from revtrack.history import _as_it_may_stand, _normalized, _offset_in, normalize_phrase, pieces_of, search
from revtrack.stated import describe, stated_times
from revtrack.store import Store
from tests.conftest import SEED_ID, Cli


def when(cli: Cli, *args: str):
    return cli("when", SEED_ID, *args)


def test_when_reports_first_appearance_sentence_and_headline(seeded: Cli) -> None:
    result = when(seeded, "no official ceasefire", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["first_seen"]["rev"] == 2
    assert data["first_seen"]["observed_at"] == "2017-10-27T15:10:00+03:00"
    assert data["first_seen"]["sentence"].startswith(
        "He later clarified on Twitter that there is no “official ‘ceasefire’”"
    )
    assert (
        data["first_seen"]["title"] == "Coalition confirms Peshmerga and Iraqi forces in talks, no 'official ceasefire'"
    )
    assert data["last_seen"]["rev"] == 3 and data["last_seen"]["stated_at"] == "2017-10-27T17:32:00+03:00"
    assert data["present_now"] is True and data["spans"] == [{"from_rev": 2, "to_rev": None}]
    text = when(seeded, "no official ceasefire").stdout
    assert "first seen: rev 2 · 2017-10-27T15:10:00+03:00" in text


def test_when_a_phrase_disappeared(seeded: Cli) -> None:
    data = json.loads(when(seeded, "destroyed three such tanks", "--format", "json").stdout)
    assert data["spans"] == [{"from_rev": 1, "to_rev": 1}] and data["present_now"] is False
    assert data["gone_at"] == {"rev": 2, "observed_at": "2017-10-27T15:10:00+03:00"}
    assert "gone from rev 2" in when(seeded, "destroyed three such tanks").stdout


@pytest.mark.parametrize(
    ("phrase", "args", "first"),
    [
        pytest.param("official ‘ceasefire’", [], 2, id="curly-quotes-in-phrase"),
        pytest.param('"official" ceasefire', [], 2, id="straight-quotes-ignored"),
        pytest.param("no   official\nceasefire", [], 2, id="whitespace-ignored"),
        pytest.param("NO OFFICIAL CEASEFIRE", ["-i"], 2, id="ignore-case"),
        pytest.param("UPDATE:", [], 3, id="headline-only"),
    ],
)
def test_when_matching_rules(seeded: Cli, phrase: str, args: list[str], first: int) -> None:
    data = json.loads(when(seeded, phrase, *args, "--format", "json").stdout)
    assert data["first_seen"]["rev"] == first


@pytest.mark.parametrize("ignore_case", [[], ["-i"]], ids=["case", "ignore-case"])
def test_when_answers_the_same_for_a_phrase_too_long_for_a_pattern(
    seeded: Cli, monkeypatch: pytest.MonkeyPatch, ignore_case: list[str]
) -> None:
    """A phrase past _LONGEST_PATTERN characters is looked for in each normalized text: the same spans and sentences."""
    phrases = [
        "no “official ‘ceasefire’”",
        "no   official\nceasefire",
        "destroyed three such tanks",
        "UPDATE:",
        "unicorns",
    ]

    def answers() -> list[str]:
        return [when(seeded, phrase, *ignore_case, "--format", "json").stdout for phrase in phrases]

    as_patterns = answers()
    monkeypatch.setattr("revtrack.history._LONGEST_PATTERN", 0)
    assert answers() == as_patterns
    assert json.loads(as_patterns[0])["spans"] == [{"from_rev": 2, "to_rev": None}]


def test_when_never_is_exit_one(seeded: Cli) -> None:
    result = when(seeded, "NO OFFICIAL CEASEFIRE", "--format", "json")  # case matters without -i
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "article": SEED_ID, "phrase": "NO OFFICIAL CEASEFIRE", "first_seen": None, "last_seen": None,
        "gone_at": None, "present_now": False, "spans": [],
    }  # fmt: skip
    text = when(seeded, "unicorns")
    assert text.exit_code == 1 and "never appears" in text.stdout


def test_when_a_phrase_comes_back_has_two_spans(cli: Cli, tmp_path) -> None:
    for number, body in enumerate(["Troops left.", "Troops returned.", "Troops left again."]):
        source = tmp_path / f"v{number}.txt"
        source.write_text(f"Head\n\n{body}\n")
        assert cli("snapshot", str(source), "--article", "a", "--at", f"2024-01-0{number + 1}T00:00:00Z").exit_code == 0
    data = json.loads(cli("when", "a", "left", "--format", "json").stdout)
    assert data["spans"] == [{"from_rev": 1, "to_rev": 1}, {"from_rev": 3, "to_rev": None}]


def _by_character(text: str, fold_case: bool) -> tuple[str, list[int]]:
    """The matching rules one character at a time: the normalized text and each of its characters' offset."""
    out: list[str] = []
    offsets: list[int] = []
    in_space = True
    for index, char in enumerate(text):
        if char in "\"'“”‘’«»„‟‚‛‹›":
            continue
        if char.isspace():
            if not in_space:
                out.append(" ")
                offsets.append(index)
            in_space = True
            continue
        folded = char.casefold() if fold_case else char
        out.append(folded)
        offsets += [index] * len(folded)  # "ß" folds to "ss": both lead back to it
        in_space = False
    return "".join(out).rstrip(" "), offsets


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab ß\n\t\u00a0“”'\"«İﬁ.Σς", max_size=40), st.booleans(), st.data())
def test_the_phrase_rules_and_offsets_are_those_of_one_character_at_a_time(
    text: str, fold_case: bool, data: st.DataObject
) -> None:
    normalized, offsets = _by_character(text, fold_case)
    assert _normalized(text, fold_case) == normalized
    letters = [at for at, char in enumerate(normalized) if char != " "]  # a phrase starts with one, never a space
    if letters:
        at = data.draw(st.sampled_from(letters))
        assert _offset_in(text, at, fold_case) == offsets[at]


_TEXT = st.text(alphabet="ab ß\n\t\x1c\x85\u00a0\u2028\u3000“”'\"«İﬁ.Σς", max_size=30)


@settings(max_examples=500, deadline=None)
@given(_TEXT, _TEXT, st.booleans(), st.data())
def test_a_phrase_is_found_in_the_text_as_it_stands_exactly_when_the_normalized_text_has_it(
    text: str, other: str, fold_case: bool, data: st.DataObject
) -> None:
    start, end = sorted(data.draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=2)))
    phrase = data.draw(st.sampled_from([text[start:end], other]))  # a piece of the text, or any text
    target = normalize_phrase(phrase, fold_case)
    if target:
        found = _as_it_may_stand(target).search(text.casefold() if fold_case else text) is not None
        assert found == (target in _normalized(text, fold_case))


def test_when_finds_the_sentence_past_letters_that_fold_longer(cli: Cli, tmp_path) -> None:
    """-i folds "ß" to "ss": the sentence is found where the phrase is, not one character later per "ß"."""
    source = tmp_path / "v.txt"
    source.write_text("Head\n\nStraße ßßßßßßßßßßßßßßßßßßßß. Zweiter Satz. Dritter Satz. Vierter Satz.\n")
    assert cli("snapshot", str(source), "--article", "a").exit_code == 0
    data = json.loads(cli("when", "a", "ZWEITER", "-i", "--format", "json").stdout)
    assert data["first_seen"]["sentence"] == "Zweiter Satz."


def test_blame_dates_each_sentence(seeded: Cli) -> None:
    data = json.loads(seeded("blame", SEED_ID, "--format", "json").stdout)
    assert data["rev"] == 3
    by_start = {item["text"][:30]: item for item in data["items"]}
    assert by_start["He later clarified on Twitter "]["rev"] == 2
    assert by_start["Abu Mahdi al-Muhandis, the dep"]["rev"] == 3
    assert by_start["Abu Mahdi al-Muhandis, the dep"]["observed_at"] == "2017-10-27T17:32:00+03:00"
    tanks = next(i for i in data["items"] if "destroyed two such tanks" in i["text"])
    assert tanks["rev"] == 2
    assert data["items"][0]["text"].startswith("UPDATE: ") and data["items"][0]["rev"] == 3
    paragraphs = json.loads(seeded("blame", SEED_ID, "2", "--paragraphs", "--format", "json").stdout)
    assert paragraphs["rev"] == 2 and len(paragraphs["items"]) == 11
    assert "rev 2" in seeded("blame", SEED_ID).stdout


_PARAGRAPH = st.lists(st.sampled_from(["Mr. Smith", "said", "U.S.", "no.", "It", "rose?", "“Yes.”", "a"]), max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_PARAGRAPH.map(" ".join), max_size=5).map("\n\n".join), min_size=1, max_size=4))
def test_pieces_of_paragraphs_met_before_are_those_found_afresh(bodies: list[str]) -> None:
    """blame keeps each paragraph's sentences by its text across revisions: the same as splitting it again."""
    for paragraphs in (False, True):
        known: dict[str, list[str]] = {}
        for body in bodies:
            assert pieces_of(body, paragraphs, known) == pieces_of(body, paragraphs)


def test_history_reads_texts_a_few_at_a_time_with_the_same_answers(
    cli: Cli, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """when, blame and log statistics read long histories in chunks (memory stays flat): chunks of 2 change nothing."""
    bodies = ["Troops left. Talks began.", "Troops left. Talks stalled.", "Talks stalled.", "Troops left again."]
    for number, body in enumerate([*bodies, bodies[1]]):
        source = tmp_path / f"v{number}.txt"
        source.write_text(f"Head {number % 2}\n\n{body}\n\nA closing line.\n")
        assert cli("snapshot", str(source), "--article", "a", "--at", f"2024-01-0{number + 1}T00:00:00Z").exit_code == 0
    commands = [["when", "a", "Troops left"], ["when", "a", "Talks stalled"], ["blame", "a"], ["blame", "a", "3"]]

    def answers() -> list[str]:
        with contextlib.closing(sqlite3.connect(cli.store / "revtrack" / "index.sqlite")) as index, index:
            index.execute("UPDATE revisions SET words_added = NULL")  # so that log computes them again
        return [cli(*command, "--format", "json").stdout for command in [*commands, ["log", "a"]]]

    whole = answers()
    monkeypatch.setattr("revtrack.store._TEXTS_AT_ONCE", 2)
    assert answers() == whole
    assert json.loads(whole[0])["spans"] == [{"from_rev": 1, "to_rev": 2}, {"from_rev": 4, "to_rev": None}]


def test_search_answers_from_the_index(seeded: Cli) -> None:
    data = json.loads(seeded("search", "official ceasefire", "--format", "json").stdout)
    [hit] = data["results"]
    assert (hit["article"], hit["first_rev"], hit["last_rev"], hit["present_now"]) == (SEED_ID, 2, 3, True)
    gone = json.loads(seeded("search", "three such tanks", "--format", "json").stdout)["results"][0]
    assert (gone["first_rev"], gone["last_rev"], gone["present_now"]) == (1, 1, False)
    none = seeded("search", "zebra crossing", "--format", "json")
    assert none.exit_code == 1 and json.loads(none.stdout) == {"phrase": "zebra crossing", "total": 0, "results": []}


def test_search_shows_a_limited_number_of_articles_and_counts_them_all(cli: Cli, tmp_path) -> None:
    # Articles a0..a4: the phrase in every version of a0, a2, a4; in the first version only of a1 and a3.
    source = tmp_path / "story.txt"
    for number in range(5):
        for version in (1, 2, 3):
            kept = number % 2 == 0 or version == 1
            body = f"Version {version}. " + ("The talks went on overnight." if kept else "The talks ended.")
            source.write_text(f"Story {number}\n\n{body}\n", encoding="utf-8")
            assert cli("snapshot", str(source), "--article", f"a{number}").exit_code == 0
    everything = json.loads(cli("search", "talks went on", "--format", "json").stdout)
    assert everything["total"] == 5
    seen = [(h["article"], h["first_rev"], h["last_rev"], h["present_now"]) for h in everything["results"]]
    assert seen == [
        ("a0", 1, 3, True),
        ("a1", 1, 1, False),
        ("a2", 1, 3, True),
        ("a3", 1, 1, False),
        ("a4", 1, 3, True),
    ]
    first_two = json.loads(cli("search", "talks went on", "--limit", "2", "--format", "json").stdout)
    assert first_two["total"] == 5 and first_two["results"] == everything["results"][:2]
    table = cli("search", "talks went on", "--limit", "2")
    assert table.exit_code == 0 and "a1" in table.stdout and "a2" not in table.stdout
    assert "note: 2 of 5 articles shown (by id); --limit 0 shows all" in table.stderr
    assert "note:" not in cli("search", "talks went on", "--limit", "0").stderr
    assert cli("search", "talks went on", "--limit", "-1").exit_code == 2


def test_search_in_the_library_refuses_a_limit_below_one(seeded: Cli) -> None:
    with Store(str(seeded.store)) as store:
        assert [hit.article for hit in search(store, "official ceasefire", 1).hits] == [SEED_ID]
        with pytest.raises(InvalidInput, match="the limit must be 1 or more"):
            search(store, "official ceasefire", 0)


def test_search_finds_unspaced_scripts(cli: Cli, tmp_path) -> None:
    source = tmp_path / "zh.txt"
    source.write_text("标题\n\n今天天气很好。我们去公园。\n", encoding="utf-8")
    assert cli("snapshot", str(source), "--article", "zh").exit_code == 0
    assert json.loads(cli("search", "天气很好", "--format", "json").stdout)["results"][0]["article"] == "zh"
    assert cli("search", "天气不好").exit_code == 1


def test_search_survives_an_index_rebuild(seeded: Cli) -> None:
    (seeded.store / "revtrack" / "index.sqlite").unlink()
    for suffix in ("-wal", "-shm"):
        (seeded.store / "revtrack" / f"index.sqlite{suffix}").unlink(missing_ok=True)
    assert json.loads(seeded("search", "official ceasefire", "--format", "json").stdout)["results"][0]["first_rev"] == 2


def test_snapshot_words_wait_in_a_queue_that_fills_the_search_index_in_batches(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from revtrack import store as store_module
    from revtrack.index import FTS_AUTOMERGE, Index

    monkeypatch.setattr(store_module, "FLUSH_PENDING_AT", 5)
    queued = []
    for number in range(1, 5):
        assert (
            cli("snapshot", "-", "--article", f"a{number}", input=f"T\n\nStory number {number} of many.\n").exit_code
            == 0
        )
        index = Index(str(cli.store / "revtrack" / "index.sqlite"))
        queued.append(index.pending_words())
        index.close()
    assert queued == [2, 4, 0, 2]  # two passages each (headline, paragraph); the third snapshot moved six
    found = json.loads(cli("search", "Story number 4", "--format", "json").stdout)["results"]
    assert [hit["article"] for hit in found] == ["a4"]  # a search empties the queue first
    index = Index(str(cli.store / "revtrack" / "index.sqlite"))
    assert index.pending_words() == 0
    # Each flush also sets how eagerly FTS5 merges its segments (cheaper flushes in large indexes).
    assert index.db.execute("SELECT v FROM search_config WHERE k='automerge'").fetchone() == (FTS_AUTOMERGE,)
    index.close()


EAST = timezone(timedelta(hours=3))


# Datelines in other shapes: (line, what it states, when).
_DATELINES: Final = [
    ("Updated Friday 27 October 2017 17.32 BST", "updated", "2017-10-27T17:32:00+03:00"),
    ("Published 10:48 GMT, 27 Oct 2017", "published", "2017-10-27T10:48:00+03:00"),
    ("Posted: 27/10/2017 16:05", "published", "2017-10-27T16:05:00+03:00"),
    ("UPDATE 5.32pm: Police made two arrests.", "updated", "2017-10-27T17:32:00+03:00"),
    ("Updated — 10:45 GMT", "updated", "2017-10-27T10:45:00+03:00"),
    ("Published | Friday, 27 October 2017, 10:48", "published", "2017-10-27T10:48:00+03:00"),
    ("Posted by Jane Doe on Oct 27, 2017", "published", "2017-10-27T00:00:00+03:00"),
    ("Published by Reuters at 10:45 GMT", "published", "2017-10-27T10:45:00+03:00"),
    ("Posted in Politics by Jane on 27 Oct 2017", "published", "2017-10-27T00:00:00+03:00"),
]


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        pytest.param(
            "UPDATE: Talks",
            "Text.\n\nUpdated at 5:32 pm",
            {"headline_flag": "UPDATE", "updated": "2017-10-27T17:32:00+03:00"},
            id="time-only",
        ),
        pytest.param(
            "T", "Last updated: October 27, 2017 4:05 pm", {"updated": "2017-10-27T16:05:00+03:00"}, id="date-and-time"
        ),
        pytest.param("T", "Published 27 Oct 2017", {"published": "2017-10-27T00:00:00+03:00"}, id="published-date"),
        pytest.param(
            "T",
            "Updated at 11:30 pm",
            {"updated": "2017-10-26T23:30:00+03:00"},
            id="later-than-observed-means-yesterday",
        ),
        pytest.param(
            "T",
            "Correction: An earlier version misspelled Dillon.",
            {"corrections": ["Correction: An earlier version misspelled Dillon."]},
            id="correction",
        ),
        pytest.param("T", "He updated his profile.", {}, id="not-an-update-line"),
        *[pytest.param("T", line, {kind: moment}, id=line) for line, kind, moment in _DATELINES],
        # A live blog's entry, or a line about an update, is no dateline: its numbers are not times.
        pytest.param("T", "Update 3: The company reported 0.06 percent growth.", {}, id="entry-with-a-decimal"),
        pytest.param("T", "Updated: shares fell to 12.50 after the call.", {}, id="price-not-a-time"),
    ],
)
def test_stated_times(title: str, body: str, expected: dict) -> None:
    observed = datetime(2017, 10, 27, 18, 0, tzinfo=EAST)
    found = stated_times(title, body, observed)
    assert {k: v for k, v in found.items() if not k.endswith("_text")} == expected


def test_a_line_seen_again_states_its_time_on_the_day_of_each_version() -> None:
    """What a line claims is remembered line by line (a live blog repeats every entry in each revision);
    a time without a date is still read on the day each version was observed."""
    body = "Text.\n\nUpdated at 5:32 pm"
    days = [stated_times("T", body, datetime(2017, 10, day, 18, 0, tzinfo=EAST))["updated"] for day in (27, 28, 27)]
    assert days == ["2017-10-27T17:32:00+03:00", "2017-10-28T17:32:00+03:00", "2017-10-27T17:32:00+03:00"]
    late = stated_times("T", body, datetime(2017, 10, 28, 17, 0, tzinfo=EAST))  # 5:32 pm not yet: the day before
    assert late["updated"] == "2017-10-27T17:32:00+03:00"


def test_describe_stated() -> None:
    assert (
        describe({"updated": "2017-10-27T17:32:00+03:00"}, "2017-10-27T18:00:00+03:00")
        == "stated: updated 17:32 +03:00"
    )
    assert describe({}) == ""
