"""What the full-text index is given: text as it is only where SQLite would find the same terms in it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revtrack.index import SCHEMA_VERSION
from revtrack.search_text import _AS_IS, search_words
from revtrack.tokens import words
from tests.conftest import Cli


@pytest.fixture(scope="module")
def terms() -> Iterator:
    """The terms SQLite's tokenizer (as revtrack's index configures it) finds in a text, in order."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE s USING fts5(w, content='', tokenize='unicode61 remove_diacritics 0')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(s, 'instance')")

    def find(text: str) -> list[str]:
        db.execute("INSERT INTO s(s) VALUES ('delete-all')")
        db.execute("INSERT INTO s(rowid, w) VALUES (1, ?)", (text,))
        return [row[0] for row in db.execute("SELECT term FROM v ORDER BY offset")]

    yield find
    db.close()


def test_every_character_that_goes_in_as_it_is_gives_sqlite_revtracks_words(terms) -> None:
    as_is = [chr(code) for code in range(0x10000) if _AS_IS.fullmatch(chr(code))]
    assert len(as_is) > 14_000  # Latin, Greek, Cyrillic, symbols, Hangul

    def contexts(char: str) -> list[str]:
        return [char, f"a{char}b", f"1{char}2", f"Ж{char}ж", f"가{char}나"]

    def agree(text: str) -> bool:
        return terms(text) == terms(" ".join(words(text)))

    # 512 characters at a time, each context apart (a space is a separator to both); then the culprit alone.
    for start in range(0, len(as_is), 512):
        chunk = as_is[start : start + 512]
        if not agree(" ".join(text for char in chunk for text in contexts(char))):
            culprits = [hex(ord(char)) for char in chunk if not all(agree(text) for text in contexts(char))]
            raise AssertionError(f"SQLite and revtrack split text with these characters differently: {culprits}")


def test_characters_sqlite_splits_differently_are_re_tokenized() -> None:
    # ₽ (Unicode 7) is a letter to SQLite's Unicode 6.1 tables; 天 is one word in a run of Han to SQLite.
    for text in ("₽100", "今天天气", "e\u0301", "\ue000"):
        assert not _AS_IS.fullmatch(text)
        assert search_words(text) == " ".join(words(text))
    assert search_words("Seoul’s 3.2% − 서울의 “rally”") == "Seoul’s 3.2% − 서울의 “rally”"


def test_only_the_stretches_holding_other_characters_are_re_tokenized() -> None:
    # Between spaces and line breaks: "🙂" (a letter to SQLite's Unicode 6.1
    # tables, nothing to revtrack) and "北京" (one word to SQLite) are re-tokenized;
    # the rest, punctuation and spacing included, goes in as it is.
    text = "Seoul’s “rally” 🙂 today,\nwith 北京’s envoy:\n\n3.2% up"
    assert search_words(text) == "Seoul’s “rally”  today,\nwith 北 京 s envoy:\n\n3.2% up"
    assert search_words("x🙂y") == "x y" and search_words("🙂") == ""


# Words, spacing and the characters on which the two tokenizers differ, run
# together: stretches re-tokenized next to stretches that go in as they are.
_PIECES = st.sampled_from(
    ["news", "Seoul’s", "3.2%", "“quote”", "—", "₽100", "🙂", "😀", "⬇\ufe0f", "北京", "ไทย", "e\u0301", "\u200d",
     "हिन्दी", "서울", "https://x.org/a?b=1", ",", "-"]
)  # fmt: skip
_SPACING = st.sampled_from(["", " ", "\n", "  ", "\n\n", "\u00a0", "\t"])
STRETCHES = st.lists(st.tuples(_PIECES, _SPACING), max_size=30).map(lambda pairs: "".join(a + b for a, b in pairs))


@settings(max_examples=500, deadline=None)
@given(STRETCHES)
def test_the_index_finds_revtracks_words_in_text_partly_re_tokenized(terms, text: str) -> None:
    assert terms(search_words(text)) == terms(" ".join(words(text)))


MIXED = st.text(
    alphabet=st.characters(max_codepoint=0x52F)
    | st.sampled_from("“”‘’—–…−×€₹₺₽₿²½ⅻ①⁉✓가나다한국어 天气很好コンピューターไทยहिन्दी\u200c\u200d\u2066\ue000\u0378")
)


@settings(max_examples=500, deadline=None)
@given(MIXED)
def test_the_index_finds_revtracks_words_whichever_way_the_text_goes_in(terms, text: str) -> None:
    assert terms(search_words(text)) == terms(" ".join(words(text)))


def test_search_finds_a_number_beside_a_newer_currency_sign(cli: Cli, tmp_path) -> None:
    # Went into the index as it was, where SQLite read "₽100" as one word: "100" was not found.
    for article, text in (("ru", "Цены\n\nБилет стоит ₽100 в Москве.\n"), ("ko", "서울\n\n서울 관광 − 3.2% 증가.\n")):
        source = tmp_path / f"{article}.txt"
        source.write_text(text, encoding="utf-8")
        assert cli("snapshot", str(source), "--article", article).exit_code == 0
    assert json.loads(cli("search", "стоит 100", "--format", "json").stdout)["results"][0]["article"] == "ru"
    assert json.loads(cli("search", "관광 3.2", "--format", "json").stdout)["results"][0]["article"] == "ko"


def test_an_index_written_under_the_earlier_rule_is_rebuilt(cli: Cli, tmp_path) -> None:
    source = tmp_path / "ru.txt"
    source.write_text("Цены\n\nБилет стоит ₽100 в Москве.\n", encoding="utf-8")
    assert cli("snapshot", str(source), "--article", "ru").exit_code == 0
    path = cli.store / "revtrack" / "index.sqlite"
    with sqlite3.connect(path) as db:  # as schema 4 left it: the text as it was
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
        db.execute("DELETE FROM search_pending")
        db.execute("INSERT INTO search (search) VALUES ('delete-all')")
        db.execute("INSERT INTO search (rowid, words) SELECT id, 'Цены Билет стоит ₽100 в Москве.' FROM revisions")
    db.close()
    assert json.loads(cli("search", "стоит 100", "--format", "json").stdout)["results"][0]["article"] == "ru"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (SCHEMA_VERSION,)
    db.close()


def test_a_long_rebuild_of_the_index_is_announced(cli: Cli, tmp_path, monkeypatch) -> None:
    from revtrack import store

    source = tmp_path / "ru.txt"
    for number in range(3):
        source.write_text(f"Цены\n\nБилет стоит ₽{100 + number}.\n", encoding="utf-8")
        assert cli("snapshot", str(source), "--article", "ru").exit_code == 0
    with sqlite3.connect(cli.store / "revtrack" / "index.sqlite") as db:
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
    db.close()
    monkeypatch.setattr(store, "NOTE_CATCH_UP_FROM", 3)
    result = cli("log", "ru")
    assert result.exit_code == 0 and "101 → 102" in result.stdout
    assert "note: reading 3 revisions from git into the index (the index was rebuilt: index schema 4" in result.stderr
    assert "note:" not in cli("log", "ru").stderr  # once
    for suffix in ("", "-wal", "-shm"):
        (cli.store / "revtrack" / f"index.sqlite{suffix}").unlink(missing_ok=True)
    assert "note: reading 3 revisions from git into the index (the index was missing)" in cli("log", "ru").stderr
