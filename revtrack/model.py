"""Plain data passed between the store, the index, the diff and the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Snapshot:
    """One observed version of an article, before it is recorded."""

    article: str
    title: str
    body: str
    observed_at: str  # ISO 8601 with the UTC offset as observed
    url: str | None = None
    stated: dict[str, Any] = field(default_factory=dict)  # the article's own published/updated claims
    source: str | None = None  # where the text came from (file name, "stdin", URL)
    extractor: str | None = None  # e.g. "trafilatura 2.3.1" for fetched pages
    byline: str | None = None
    html: bytes | None = None  # kept beside the text with --keep-html


@dataclass
class Revision:
    """A recorded version, as the index knows it."""

    article: str
    rev: int
    commit: str
    observed_at: str
    title: str
    url: str | None = None
    stated: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    words_added: int | None = None
    words_deleted: int | None = None
    summary: str | None = None
    path: str = ""


@dataclass
class ArticleSummary:
    """One row of ``revtrack list``."""

    article: str
    title: str
    revisions: int
    first_seen: str
    last_changed: str
    url: str | None = None


@dataclass
class SnapshotResult:
    """What ``snapshot`` did: a new revision, or nothing because the text was unchanged."""

    article: str
    rev: int
    changed: bool
    commit: str
    observed_at: str
    repeat: bool = False  # this exact version, observed at this time, was recorded before
