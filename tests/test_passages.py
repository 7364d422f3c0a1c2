"""The full-text index holds each distinct paragraph of an article once, with the revisions it spans.

Whatever order revisions arrive in (one at a time, queued, an import's groups,
a rebuild from git), a search must answer as if every revision's paragraphs
were searched one by one: that is the brute force these tests compare with.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revtrack import index as index_module
from revtrack.history import search
from revtrack.index import Index
from revtrack.model import Revision
from revtrack.search_text import passages, phrase_query
from revtrack.store import Store
from revtrack.tokens import words
from tests.conftest import Cli

# Paragraphs drawn from a small pool, so that revisions keep, drop and bring back the same ones.
_POOL = [
    "The toll rose to 17.",
    "The toll rose to 23.",
    "Talks went on overnight.",
    "Officials said nothing.",
    "Officials said the talks ended.",
    "Correction: an earlier version gave the toll as 17.",
]
_PHRASES = ["toll rose", "the toll", "talks", "officials said", "ended", "17", "correction", "went on overnight"]

_articles = st.lists(  # each article: its revisions, each a list of paragraphs
    st.lists(st.lists(st.sampled_from(_POOL), max_size=5), min_size=1, max_size=6), min_size=1, max_size=4
)


def _revision(article: str, rev: int) -> Revision:
    return Revision(article, rev, f"{rev:040x}", f"2024-01-01T00:{rev:02d}:00+00:00", f"Story {article}")


def _brute_force(stories: list[list[list[str]]], phrase: str) -> dict[str, tuple[int, int]]:
    """Each article's first and last revision with a paragraph (or the headline) holding the phrase's words."""
    wanted = words(phrase.casefold())
    found: dict[str, tuple[int, int]] = {}
    for number, revisions in enumerate(stories):
        for rev, paragraphs in enumerate(revisions, start=1):
            for text in [f"Story a{number}", *paragraphs]:
                tokens = words(text.casefold())
                if any(tokens[i : i + len(wanted)] == wanted for i in range(len(tokens))):
                    first = found.get(f"a{number}", (rev, rev))[0]
                    found[f"a{number}"] = (first, rev)
                    break
    return found


def _answers(index: Index) -> dict[str, dict[str, tuple[int, int]]]:
    answers = {}
    for phrase in _PHRASES:
        query = phrase_query(phrase)
        assert query is not None
        rows, total = index.search(query)
        assert total == len(rows)
        answers[phrase] = {row.article: (row.first_rev, row.last_rev) for row in rows}
    return answers


def _spans_of(stories: list[list[list[str]]]) -> list[int]:
    """How many passages each story makes: a paragraph opens one where the revision before lacks it."""
    counts = []
    for revisions in stories:
        count = 1  # the headline, the same in every revision
        before: set[str] = set()
        for paragraphs in revisions:
            now = set(paragraphs)
            count += len(now - before)
            before = now
        counts.append(count)
    return counts


@contextlib.contextmanager
def _index(path: Path) -> Iterator[Index]:
    index = Index(str(path))
    try:
        yield index
    finally:
        index.close()


@settings(max_examples=60, deadline=None)
@given(stories=_articles, data=st.data(), range_bits=st.sampled_from([index_module._PASSAGE_BITS, 2]))
def test_a_search_answers_as_every_revision_searched_one_by_one(tmp_path_factory, stories, data, range_bits) -> None:
    """Revisions of interleaved articles, added one at a time (queued or not) or in groups of any size; with
    ranges of three passage ids too, so that articles fill theirs and take more."""
    with (
        mock.patch.object(index_module, "_PASSAGE_BITS", range_bits),
        mock.patch.object(index_module, "_IN_RANGE", (1 << range_bits) - 1),
    ):
        _search_as_brute_force(tmp_path_factory, stories, data)


def _search_as_brute_force(tmp_path_factory, stories, data) -> None:
    # Any interleaving of the articles, each article's revisions in order.
    turns = data.draw(st.permutations([number for number, revisions in enumerate(stories) for _ in revisions]))
    order, next_rev = [], dict.fromkeys(range(len(stories)), 1)
    for number in turns:
        order.append((number, next_rev[number]))
        next_rev[number] += 1
    path = tmp_path_factory.mktemp("passages") / "index.sqlite"
    grouped = data.draw(st.booleans())
    with _index(path) as index, index.transaction():
        items = [
            (_revision(f"a{number}", rev), passages(f"Story a{number}", "\n".join(stories[number][rev - 1])))
            for number, rev in order
        ]
        while items:
            if grouped:
                size = data.draw(st.integers(1, len(items)))
                index.add_many(items[:size])
                items = items[size:]
            else:
                revision, texts = items.pop(0)
                index.add(revision, texts, queue=data.draw(st.booleans()))
    with _index(path) as index:
        assert _answers(index) == {phrase: _brute_force(stories, phrase) for phrase in _PHRASES}
        spans = _spans_of(stories)
        assert index.db.execute("SELECT count(*) FROM passages").fetchone()[0] == sum(spans)
        in_range = index_module._IN_RANGE  # ids 1 to this in each range
        ranges = index.db.execute("SELECT count(*) FROM passage_ranges").fetchone()[0]
        assert ranges == sum(-(-count // in_range) for count in spans)


def test_an_unchanged_paragraph_is_indexed_once_for_all_its_revisions(seeded: Cli) -> None:
    """The seed's three versions share most paragraphs: each is one row, spanning the revisions that have it."""
    found = json.loads(seeded("search", "there is a ceasefire", "--format", "json").stdout)["results"]
    assert [(hit["first_rev"], hit["last_rev"], hit["present_now"]) for hit in found] == [(1, 3, True)]
    with contextlib.closing(sqlite3.connect(seeded.store / "revtrack" / "index.sqlite")) as db:
        rows = db.execute("SELECT count(*) FROM passages").fetchone()[0]
        with Store(str(seeded.store)) as store:
            texts = [store.text(revision) for revision in store.index().revisions(store.index().articles()[0].article)]
        every = sum(len(passages(text.title, text.body)) for text in texts)
        distinct = len({part for text in texts for part in passages(text.title, text.body)})
        assert rows < every and rows >= distinct
        # The spokesman's paragraph: as version 1 has it, then from version 2 on with "had said".
        spans = db.execute(
            "SELECT p.first_rev, p.until_rev FROM search s JOIN passages p ON p.id = s.rowid WHERE search MATCH ?",
            ('"there is a ceasefire"',),
        ).fetchall()
    assert sorted(spans, key=str) == [(1, 2), (2, None)]


def test_a_rebuilt_index_holds_the_same_passages(seeded: Cli) -> None:
    index_file = seeded.store / "revtrack" / "index.sqlite"

    def table() -> list[tuple[int, int, int | None, int]]:
        with contextlib.closing(sqlite3.connect(index_file)) as db:
            return db.execute("SELECT id, first_rev, until_rev, digest FROM passages ORDER BY id").fetchall()

    before = table()
    Index.delete_files(str(index_file))
    with Store(str(seeded.store)) as store:
        assert [hit.first_rev for hit in search(store, "official ceasefire").hits] == [2]
    assert table() == before and len(before) > 10


def test_a_paragraph_that_comes_back_is_found_in_both_spans(cli: Cli, tmp_path) -> None:
    source = tmp_path / "story.txt"
    bodies = ("Alpha here.\n\nBravo here.", "Alpha here.", "Alpha here.\n\nBravo here.", "Alpha here.")
    for hour, body in enumerate(bodies):
        source.write_text(f"Story\n\n{body}\n", encoding="utf-8")
        assert cli("snapshot", str(source), "--article", "x", "--at", f"2024-01-01T0{hour}:00:00Z").exit_code == 0
    [hit] = json.loads(cli("search", "bravo here", "--format", "json").stdout)["results"]
    assert (hit["first_rev"], hit["last_rev"], hit["present_now"]) == (1, 3, False)
    with contextlib.closing(sqlite3.connect(cli.store / "revtrack" / "index.sqlite")) as db:
        spans = db.execute(
            "SELECT p.first_rev, p.until_rev FROM search s JOIN passages p ON p.id = s.rowid WHERE search MATCH ?",
            ("bravo",),
        ).fetchall()
    assert sorted(spans) == [(1, 2), (3, 4)]


def test_a_phrase_is_found_within_one_paragraph() -> None:
    """Paragraphs are blocks between blank lines where there are any (text wrapped at 72 columns keeps its
    paragraphs whole), else lines (an extracted page: one paragraph a line)."""
    assert passages("Head", "one two\nthree\n\nfour\n \nfive\n") == ["Head", "one two\nthree", "four", "five"]
    assert passages("Head", "one two\nthree\nfour") == ["Head", "one two", "three", "four"]
    assert passages("", "\n\nonly\n\n") == ["only"]
    assert passages("Head", "") == ["Head"]


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ("wrapped at the\nend of a line\n\nAnother paragraph.", 1),  # one paragraph wrapped
        ("a paragraph that ends in the\n\nend", 0),  # two paragraphs
        ("a page's paragraph that ends in the\nend", 0),  # no blank lines: a paragraph a line
    ],
)
def test_a_search_across_a_line_break_follows_the_paragraphs(cli: Cli, tmp_path, body: str, found: int) -> None:
    source = tmp_path / "story.txt"
    source.write_text(f"Story\n\n{body}\n", encoding="utf-8")
    assert cli("snapshot", str(source), "--article", "x").exit_code == 0
    assert len(json.loads(cli("search", "the end", "--format", "json").stdout)["results"]) == found


def test_a_catch_up_that_another_connection_finished_first_adds_nothing(
    seeded: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two commands find the index behind git at once; the second to write finds the first's rows there and
    leaves them, instead of adding them twice (refused: the index would be thrown away and rebuilt)."""
    from revtrack import store as store_module

    index_file = seeded.store / "revtrack" / "index.sqlite"
    Index.delete_files(str(index_file))
    listed = store_module.rev_list
    other: list[Store] = []
    inodes: list[int] = []

    def racing(*args: object) -> list[str]:
        commits = listed(*args)  # type: ignore[arg-type]
        if not other:  # meanwhile another command catches up, with a connection of its own
            other.append(Store(str(seeded.store)))
            other[0].index()
            inodes.append(index_file.stat().st_ino)
        return commits

    monkeypatch.setattr(store_module, "rev_list", racing)
    with Store(str(seeded.store)) as store:
        notes: list[str] = []
        store.notify = notes.append
        assert [hit.first_rev for hit in search(store, "official ceasefire").hits] == [2]
        assert [index_file.stat().st_ino] == inodes and notes == []
        assert len(store.index().revisions(store.index().articles()[0].article)) == 3
    other[0].close()


def test_an_index_of_a_row_per_revision_is_rebuilt_with_passages(seeded: Cli) -> None:
    """Schema 5 indexed each revision's whole text under the revision's row id; such an index is rebuilt."""
    index_file = seeded.store / "revtrack" / "index.sqlite"
    with contextlib.closing(sqlite3.connect(index_file)) as db, db:
        db.executescript(
            """UPDATE meta SET value = '5' WHERE key = 'schema';
               DROP TABLE passages; DROP TABLE passage_ranges; DELETE FROM search_pending;
               INSERT INTO search (search) VALUES ('delete-all');
               INSERT INTO search (rowid, words) SELECT id, title FROM revisions;"""
        )
    found = json.loads(seeded("search", "official ceasefire", "--format", "json").stdout)["results"]
    assert [(hit["first_rev"], hit["last_rev"]) for hit in found] == [(2, 3)]
    with contextlib.closing(sqlite3.connect(index_file)) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("6",)
        assert db.execute("SELECT count(*) FROM passages").fetchone()[0] > 10


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE passages SET until_rev = 2 WHERE id = (SELECT max(id) FROM passages WHERE until_rev IS NULL)",
        "DELETE FROM passages WHERE id = (SELECT min(id) FROM passages WHERE until_rev IS NULL)",
        "UPDATE passages SET until_rev = NULL WHERE id = (SELECT min(id) FROM passages WHERE until_rev IS NOT NULL)",
    ],
    ids=["an open passage closed", "an open passage lost", "a closed passage open"],
)
def test_check_finds_an_article_whose_search_paragraphs_are_not_its_latest_texts(seeded: Cli, damage: str) -> None:
    assert seeded("check").stdout.startswith("ok: 3 revisions of 1 articles")
    with contextlib.closing(sqlite3.connect(seeded.store / "revtrack" / "index.sqlite")) as db, db:
        assert db.execute(damage).rowcount == 1
    checked = seeded("check")
    assert checked.exit_code == 6
    assert "the search index's paragraphs of 1 article(s) are not their latest text's: rudaw-coalition-ceasefire" in (
        checked.stderr
    )
    Index.delete_files(str(seeded.store / "revtrack" / "index.sqlite"))  # what the message advises
    assert seeded("check").exit_code == 0


def test_check_reads_the_articles_a_page_at_a_time_and_finds_a_wrong_one_on_the_last_page(
    cli: Cli, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from revtrack import checking

    monkeypatch.setattr(checking, "_ARTICLES_AT_ONCE", 2)
    source = tmp_path / "story.txt"
    for number in range(5):
        source.write_text(f"Story {number}\n\nParagraph of story {number}.\n", encoding="utf-8")
        assert cli("snapshot", str(source), "--article", f"a{number}").exit_code == 0
    assert cli("check").exit_code == 0
    with contextlib.closing(sqlite3.connect(cli.store / "revtrack" / "index.sqlite")) as db, db:
        damaged = f"""DELETE FROM passages WHERE id = (SELECT max(p.id) FROM passages p
                      JOIN passage_ranges r ON p.id >> {index_module._PASSAGE_BITS} = r.number
                      WHERE r.article = 'a4')"""
        assert db.execute(damaged).rowcount == 1
    checked = cli("check")
    assert checked.exit_code == 6 and "paragraphs of 1 article(s) are not their latest text's: a4 " in checked.stderr
