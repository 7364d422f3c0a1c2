"""What one revision looks like inside git: its files, its commit message, its author line.

Single snapshots (:mod:`revtrack.store`) and bulk imports (:mod:`revtrack.importer`)
both build revisions here, so a store filled either way is the same store.
"""

from __future__ import annotations

import json
import socket
from functools import cache, lru_cache
from typing import Any

from revtrack.ingest import Document, article_text
from revtrack.model import Snapshot


@cache
def identity() -> str:
    """Author and committer of every revision: ``revtrack <revtrack@host>``."""
    return f"revtrack <revtrack@{socket.gethostname() or 'localhost'}>"


def meta(snapshot: Snapshot) -> dict[str, Any]:
    """The contents of ``meta.json``: what the text and the commit do not already say.

    The observed time is the commit's author date, the revision number and the
    article id are commit trailers, the headline is in ``article.txt``. What is
    left rarely changes between versions, so most versions reuse the previous
    ``meta.json`` object instead of storing a new one.
    """
    record: dict[str, Any] = {
        "url": snapshot.url,
        "stated": snapshot.stated,
        "source": snapshot.source,
        "extractor": snapshot.extractor,
        "byline": snapshot.byline,
    }
    return {key: value for key, value in record.items() if value}


def files(snapshot: Snapshot) -> dict[str, bytes]:
    """File name -> bytes for the article's folder in this revision."""
    contents = {
        "article.txt": article_text(Document(snapshot.title, snapshot.body)).encode("utf-8"),
        "meta.json": _meta_file(json.dumps(meta(snapshot), ensure_ascii=False, sort_keys=True)),
    }
    if snapshot.html is not None:
        contents["page.html"] = snapshot.html
    return contents


@lru_cache(maxsize=4096)
def _meta_file(compact: str) -> bytes:
    """``meta.json``'s bytes (indented, for people reading the tree) from the compact form.

    json indents only in Python (~40 µs here), the compact form is written in
    C; most versions repeat an earlier version's metadata, so the indented
    bytes are cached by the compact text, which determines them.
    """
    return json.dumps(json.loads(compact), ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"


def message(snapshot: Snapshot, rev: int) -> str:
    """Commit message: a subject and the trailers the index is rebuilt from."""
    return f"{snapshot.article}: rev {rev}\n\nRevtrack-Article: {snapshot.article}\nRevtrack-Rev: {rev}\n"
