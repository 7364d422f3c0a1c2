"""When did it change: phrase history (``when``), sentence blame, cross-article search.

A phrase matches regardless of whitespace and quotation marks (“ ” ‘ ’ « » " '),
so ``no official ceasefire`` finds ``no “official ‘ceasefire’”``; case matters
unless asked otherwise. Blame gives each sentence of a revision the revision
from which it has stood unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from revtrack.errors import InvalidInput
from revtrack.ingest import Document, collapse
from revtrack.model import Revision
from revtrack.search_text import phrase_query
from revtrack.segment import paragraph_spans, sentence_spans
from revtrack.store import Store

_IGNORED: Final = re.compile("[\"'“”‘’«»„‟‚‛‹›]")
_SPACE: Final = re.compile(r"\s+")


def _normalized(text: str, fold_case: bool) -> tuple[str, list[int]]:
    """Text without quotation marks, whitespace runs as one space; and each char's original offset."""
    out: list[str] = []
    offsets: list[int] = []
    in_space = True
    for index, char in enumerate(text):
        if _IGNORED.match(char):
            continue
        if char.isspace():
            if not in_space:
                out.append(" ")
                offsets.append(index)
            in_space = True
            continue
        out.append(char.casefold() if fold_case else char)
        offsets.append(index)
        in_space = False
    return "".join(out), offsets


def normalize_phrase(phrase: str, fold_case: bool) -> str:
    return _normalized(phrase, fold_case)[0].strip()


@dataclass
class Sighting:
    """A revision in which the phrase appears, and the sentence around it."""

    rev: int
    observed_at: str
    stated_at: str | None
    title: str
    sentence: str


@dataclass
class PhraseHistory:
    article: str
    phrase: str
    first_seen: Sighting | None = None
    last_seen: Sighting | None = None
    gone_at: Revision | None = None  # the first revision without it, after its last appearance
    present_now: bool = False
    spans: list[tuple[int, int | None]] = field(default_factory=list)


def when(store: Store, article: str, phrase: str, fold_case: bool = False) -> PhraseHistory:
    """Every span of revisions in which ``phrase`` appears (headline or body)."""
    target = normalize_phrase(phrase, fold_case)
    if not target:
        raise InvalidInput("the phrase is empty once quotation marks and spaces are ignored")
    revisions = store.log(article)
    documents = store.texts(revisions)
    history = PhraseHistory(article, phrase)
    open_from: int | None = None
    for revision, document in zip(revisions, documents, strict=True):
        sighting = _find(target, revision, document, fold_case)
        if sighting is not None:
            history.first_seen = history.first_seen or sighting
            history.last_seen = sighting
            history.gone_at = None
            if open_from is None:
                open_from = revision.rev
        elif open_from is not None:
            history.spans.append((open_from, revision.rev - 1))
            history.gone_at = revision
            open_from = None
    if open_from is not None:
        history.spans.append((open_from, None))
        history.present_now = True
    return history


def _find(target: str, revision: Revision, document: Document, fold_case: bool) -> Sighting | None:
    """The phrase in this revision: the body's sentence when the body has it, else the headline."""
    for text in (document.body, document.title):
        normalized, offsets = _normalized(text, fold_case)
        at = normalized.find(target)
        if at >= 0:
            sentence = _sentence_around(text, offsets[at])
            return Sighting(revision.rev, revision.observed_at, stated_at(revision), document.title, sentence)
    return None


def stated_at(revision: Revision) -> str | None:
    """The article's own latest claimed time for this version, if it makes one."""
    value = revision.stated.get("updated") or revision.stated.get("published")
    return str(value) if value else None


def _sentence_around(text: str, offset: int) -> str:
    for paragraph in paragraph_spans(text):
        if paragraph[0] <= offset < paragraph[1]:
            for start, end in sentence_spans(text, paragraph):
                if start <= offset < end:
                    return collapse(text[start:end])
    return collapse(text)


# --- blame ----------------------------------------------------------------------------


@dataclass
class BlameItem:
    text: str
    rev: int
    observed_at: str


def pieces_of(body: str, paragraphs: bool) -> list[str]:
    """The sentences (or paragraphs) of a body, whitespace collapsed, in reading order."""
    out = []
    for span in paragraph_spans(body):
        if paragraphs:
            out.append(collapse(body[span[0] : span[1]]))
        else:
            out += [collapse(body[s:e]) for s, e in sentence_spans(body, span)]
    return [piece for piece in out if piece]


def blame(
    store: Store, article: str, ref: str | None = None, paragraphs: bool = False
) -> tuple[Revision, list[BlameItem]]:
    """Each sentence of a revision with the revision from which it stood as it is now."""
    target = store.revision(article, ref)
    revisions = [r for r in store.log(article) if r.rev <= target.rev]
    documents = store.texts(revisions)
    present = [set(pieces_of(document.body, paragraphs)) | {collapse(document.title)} for document in documents]
    items = []
    title = collapse(documents[-1].title)
    for piece in [title, *pieces_of(documents[-1].body, paragraphs)]:
        index = len(revisions) - 1
        while index > 0 and piece in present[index - 1]:
            index -= 1
        items.append(BlameItem(piece, revisions[index].rev, revisions[index].observed_at))
    return target, items


# --- search ---------------------------------------------------------------------------


@dataclass
class SearchHit:
    article: str
    title: str
    first_rev: int
    first_observed_at: str
    last_rev: int
    last_observed_at: str
    present_now: bool


@dataclass
class SearchResults:
    hits: list[SearchHit]  # by article id, at most the limit asked for
    total: int  # articles that match, shown or not


def search(store: Store, phrase: str, limit: int | None = None) -> SearchResults:
    """Articles whose revisions contain the phrase, from the full-text index (case-insensitive).

    ``limit``: at most this many articles (by id); ``total`` still counts them all.
    """
    query = phrase_query(phrase)
    if query is None:
        raise InvalidInput("the phrase has no words to search for")
    if limit is not None and limit < 1:
        raise InvalidInput("the limit must be 1 or more")
    if not store.exists():
        return SearchResults([], 0)
    rows, total = store.index().search(query, limit)
    hits = [
        SearchHit(row.article, row.latest_title, row.first_rev, row.first_observed_at, row.last_rev,
                  row.last_observed_at, row.latest_rev == row.last_rev)
        for row in rows
    ]  # fmt: skip
    return SearchResults(hits, total)
