"""Article ids: validated before anything is written, derived from URLs or file names.

An id is one or more segments ``[A-Za-z0-9][A-Za-z0-9._-]*`` joined by ``/``; it
names a folder in the store, so ``..``, absolute paths, backslashes, control
characters and names revtrack uses for its own files are refused.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath
from typing import Final
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from revtrack.errors import InvalidArticleId

MAX_ID_LENGTH: Final = 200
_NAME_MAX: Final = 255  # bytes in one file name on the usual file systems
_SEGMENT: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
RESERVED_NAMES: Final = frozenset({"article.txt", "meta.json", "page.html"})
# Query parameters that identify a campaign or a click, not an article.
_TRACKING: Final = re.compile(
    r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|ocid|cmpid|smid|ref|ref_src|at_.*)$", re.I
)


def validate_article_id(article_id: str) -> str:
    """Return ``article_id`` if it is valid, else raise :class:`InvalidArticleId` saying why."""
    if not article_id:
        raise InvalidArticleId("article id is empty")
    shown = article_id.encode("unicode_escape").decode("ascii")
    if len(article_id) > MAX_ID_LENGTH:
        raise InvalidArticleId(f"article id is longer than {MAX_ID_LENGTH} characters ({len(article_id)})")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in article_id):
        raise InvalidArticleId(f"article id contains control characters: {shown}")
    if article_id.startswith("/"):
        raise InvalidArticleId(f"article id must not be an absolute path: {shown}")
    if "\\" in article_id:
        raise InvalidArticleId(f"article id must not contain backslashes: {shown}")
    segments = article_id.split("/")
    if ".." in segments or "." in segments:
        raise InvalidArticleId(f"article id must not contain '..' or '.' segments: {shown}")
    for segment in segments:
        if not _SEGMENT.fullmatch(segment):
            raise InvalidArticleId(
                f"invalid article id {shown!r}: each '/'-separated part must match [A-Za-z0-9][A-Za-z0-9._-]*"
            )
        if segment in RESERVED_NAMES:
            raise InvalidArticleId(f"article id must not use the reserved name {segment!r}")
    return article_id


def _slug(text: str) -> str:
    """Fold a URL or file-name part into the id alphabet."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text).strip("-.")
    slug = re.sub(r"^[._-]+", "", slug)
    return slug


def canonical_url(url: str) -> str:
    """The URL without its fragment and tracking parameters (utm_*, fbclid, ...)."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), ""))


def id_from_url(url: str) -> str:
    """``https://www.example.org/a/b.html?id=7`` -> ``example.org/a/b.html-id-7``."""
    parts = urlsplit(canonical_url(url))
    host = (parts.hostname or "").removeprefix("www.")
    segments = [_slug(host)] + [_slug(unquote(s)) for s in parts.path.split("/") if s]
    if parts.query:
        segments[-1] = f"{segments[-1]}-{_slug(parts.query)}"
    segments = [s for s in segments if s and s not in RESERVED_NAMES]
    if not segments:
        raise InvalidArticleId(f"cannot derive an article id from the URL {url!r}; give --article")
    article_id = "/".join(segments)[:MAX_ID_LENGTH].rstrip("/.-_")
    return validate_article_id(article_id)


def id_from_filename(path: str) -> str:
    """``seeds/story-v1.txt`` -> ``story-v1`` (the file name without its extension)."""
    slug = _slug(PurePath(path).stem)[:MAX_ID_LENGTH]
    if not slug:
        raise InvalidArticleId(f"cannot derive an article id from the file name {path!r}; give --article")
    return validate_article_id(slug)


def shard(article_id: str) -> str:
    """The two-level fan-out folder of an article (``ab/cd``), so no tree grows large."""
    import hashlib

    digest = hashlib.sha1(article_id.encode("utf-8")).hexdigest()
    return f"{digest[:2]}/{digest[2:4]}"


# Store formats (``revtrack/store.json``). Format 1 gave each article a folder,
# ``articles/<ab>/<cd>/<id>/article.txt``: five or more trees rewritten per
# version (one per id segment too). Format 2 names the files after the id in
# the shard folder, ``<ab>/<cd>/<id>.article.txt`` with "/" in the id written
# "%2F" (ids never contain "%"): three trees per version, which makes imports
# about 1.5x faster and the store smaller. Format-1 stores keep their layout.
FORMAT_FOLDERS: Final = 1
FORMAT_FLAT: Final = 2


def article_path(article_id: str, store_format: int = FORMAT_FLAT) -> str:
    """Where an article's files live in the tree: a folder (format 1) or a file-name prefix (format 2)."""
    if store_format == FORMAT_FOLDERS:
        return f"articles/{shard(article_id)}/{article_id}"
    return f"{shard(article_id)}/{article_id.replace('/', '%2F')}"


def file_path(path: str, name: str) -> str:
    """The tree path of file ``name`` (``article.txt``, ``meta.json``, ``page.html``) of the article at ``path``."""
    return f"{path}/{name}" if path.startswith("articles/") else f"{path}.{name}"


def check_new_article(article_id: str, store_format: int) -> None:
    """Refuse a new article whose file names (store format 2) would be too long for a file system.

    git stores any name, but a checkout of a clone of the store would fail on
    it; only ids with many "/" (each written "%2F") come near the limit.
    """
    if store_format != FORMAT_FLAT:
        return
    name = file_path(article_path(article_id), "article.txt").rsplit("/", 1)[1]
    if len(name.encode("utf-8")) > _NAME_MAX:
        raise InvalidArticleId(
            f"article id {article_id!r} is too long for a file name once each '/' is written '%2F' "
            f"({len(name)} bytes with '.article.txt'; at most {_NAME_MAX}): use fewer or shorter '/' parts"
        )
