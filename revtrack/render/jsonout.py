"""JSON shapes of revtrack's results (documented in the README; scripts rely on them)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Final

from revtrack.diff import ArticleDiff, Change, Position, SentenceChange
from revtrack.engine import Op
from revtrack.history import BlameItem, PhraseHistory, SearchResults, Sighting
from revtrack.ids import file_path
from revtrack.ingest import Document
from revtrack.model import ArticleSummary, Revision, SnapshotResult
from revtrack.timeutil import format_epoch

if TYPE_CHECKING:
    from revtrack.watchstate import UrlStatus, WatchCounts


def ops_json(ops: list[Op]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for op in ops:
        item: dict[str, Any] = {"op": op.op, "text": op.text}
        if op.move is not None:
            item["move"] = op.move
        out.append(item)
    return out


def _pos(pos: Position | None) -> dict[str, int] | None:
    return {"paragraph": pos.paragraph, "sentence": pos.sentence} if pos else None


def change_json(change: Change) -> dict[str, Any]:
    item: dict[str, Any] = {
        "kind": change.kind,
        "old": change.old,
        "new": change.new,
        "flags": change.flags,
        "unit": change.unit,
        "old_pos": _pos(change.old_pos),
        "new_pos": _pos(change.new_pos),
    }
    if change.move is not None:
        item["move"] = change.move
    if change.ops:
        item["ops"] = ops_json(change.ops)
    return item


def sentence_json(sentence: SentenceChange) -> dict[str, Any]:
    return {
        "kind": sentence.kind,
        "old": sentence.old,
        "new": sentence.new,
        "old_pos": _pos(sentence.old_pos),
        "new_pos": _pos(sentence.new_pos),
        "ops": ops_json(sentence.ops),
    }


def revision_ref(revision: Revision) -> dict[str, Any]:
    return {
        "rev": revision.rev,
        "commit": revision.commit,
        "observed_at": revision.observed_at,
        "title": revision.title,
        "stated": revision.stated,
    }


def diff_json(article: str, old: Revision, new: Revision, diff: ArticleDiff) -> dict[str, Any]:
    return {
        "article": article,
        "from": revision_ref(old),
        "to": revision_ref(new),
        "title_ops": ops_json(diff.title_ops),
        "ops": ops_json(diff.ops),
        "changes": [change_json(change) for change in diff.changes],
        "sentences": [sentence_json(sentence) for sentence in diff.sentences],
        "stats": asdict(diff.stats),
    }


def log_json(article: str, revisions: list[Revision]) -> dict[str, Any]:
    return {
        "article": article,
        "revisions": [
            {
                "rev": r.rev,
                "commit": r.commit,
                "observed_at": r.observed_at,
                "title": r.title,
                "words_added": r.words_added,
                "words_deleted": r.words_deleted,
                "summary": r.summary,
                "stated": r.stated,
                "url": r.url,
            }
            for r in revisions
        ],
    }


def show_json(revision: Revision, document: Document) -> dict[str, Any]:
    return {
        "article": revision.article,
        "rev": revision.rev,
        "commit": revision.commit,
        "observed_at": revision.observed_at,
        "title": document.title,
        "body": document.body,
        "url": revision.url,
        "stated": revision.stated,
        "path": revision.path,
        "files": {name: file_path(revision.path, name) for name in ("article.txt", "meta.json")},
    }


def list_json(articles: list[ArticleSummary], total: int) -> dict[str, Any]:
    """``total``: the articles that match, of which ``articles`` are the first (a --limit cuts the list)."""
    return {"total": total, "articles": [asdict(item) for item in articles]}


def watch_status_json(statuses: list[UrlStatus], total: int, counts: WatchCounts) -> dict[str, Any]:
    """``watch --status``: each tracked URL listed, its times in ISO 8601 (``next_due`` null: no longer checked;
    ``gone_since`` null: not gone); ``total``: how many the filter matched; ``counts``: the whole watch list."""
    urls = []
    for status in statuses:
        item = dict(vars(status))  # a shallow copy: asdict's deep copy took most of the time at 100,000 URLs
        for key in _STATUS_TIMES:
            item[key] = format_epoch(item[key]) if item[key] is not None else None
        urls.append(item)
    return {"urls": urls, "total": total, "counts": asdict(counts)}


_STATUS_TIMES: Final = ("first_seen", "last_checked", "next_due", "gone_since")


def snapshot_json(result: SnapshotResult) -> dict[str, Any]:
    return {
        "article": result.article,
        "rev": result.rev,
        "changed": result.changed,
        "commit": result.commit,
        "observed_at": result.observed_at,
    }


def _sighting(sighting: Sighting | None) -> dict[str, Any] | None:
    if sighting is None:
        return None
    return {
        "rev": sighting.rev,
        "observed_at": sighting.observed_at,
        "stated_at": sighting.stated_at,
        "title": sighting.title,
        "sentence": sighting.sentence,
    }


def when_json(history: PhraseHistory) -> dict[str, Any]:
    return {
        "article": history.article,
        "phrase": history.phrase,
        "first_seen": _sighting(history.first_seen),
        "last_seen": _sighting(history.last_seen),
        "gone_at": {"rev": history.gone_at.rev, "observed_at": history.gone_at.observed_at}
        if history.gone_at
        else None,
        "present_now": history.present_now,
        "spans": [{"from_rev": start, "to_rev": end} for start, end in history.spans],
    }


def search_json(phrase: str, found: SearchResults) -> dict[str, Any]:
    return {"phrase": phrase, "total": found.total, "results": [asdict(hit) for hit in found.hits]}


def blame_json(article: str, rev: int, items: list[BlameItem]) -> dict[str, Any]:
    return {"article": article, "rev": rev, "items": [asdict(item) for item in items]}
