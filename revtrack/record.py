"""What one revision looks like inside git: its files, its commit message, its author line.

Single snapshots (:mod:`revtrack.store`) and bulk imports (:mod:`revtrack.importer`)
both build revisions here, so a store filled either way is the same store.
"""

from __future__ import annotations

import json
import socket
from functools import cache
from typing import Any

from revtrack import __version__
from revtrack.ingest import Document, article_text
from revtrack.model import Snapshot


@cache
def identity() -> str:
    """Author and committer of every revision: ``revtrack <revtrack@host>``."""
    return f"revtrack <revtrack@{socket.gethostname() or 'localhost'}>"


def meta(snapshot: Snapshot, rev: int, print_fp: str) -> dict[str, Any]:
    """The contents of ``meta.json``."""
    record: dict[str, Any] = {
        "article": snapshot.article,
        "rev": rev,
        "title": snapshot.title,
        "url": snapshot.url,
        "observed_at": snapshot.observed_at,
        "stated": snapshot.stated,
        "fingerprint": print_fp,
        "source": snapshot.source,
        "extractor": snapshot.extractor,
        "recorded_by": f"revtrack {__version__}",
    }
    if snapshot.byline:
        record["byline"] = snapshot.byline
    return record


def files(snapshot: Snapshot, rev: int, print_fp: str) -> dict[str, bytes]:
    """File name -> bytes for the article's folder in this revision."""
    contents = {
        "article.txt": article_text(Document(snapshot.title, snapshot.body)).encode("utf-8"),
        "meta.json": json.dumps(meta(snapshot, rev, print_fp), ensure_ascii=False, indent=2, sort_keys=True).encode()
        + b"\n",
    }
    if snapshot.html is not None:
        contents["page.html"] = snapshot.html
    return contents


def message(snapshot: Snapshot, rev: int) -> str:
    """Commit message: a subject, the headline, and trailers the index is rebuilt from."""
    return (
        f"{snapshot.article}: rev {rev}\n\n{snapshot.title}\n\n"
        f"Revtrack-Article: {snapshot.article}\nRevtrack-Rev: {rev}\n"
    )
