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


def shard(article_id: str, store_format: int) -> str:
    """The fan-out folders of an article, from the sha1 of its id: ``ab/cd`` (formats 1, 2) or ``a/b/c`` (format 3)."""
    import hashlib

    digest = hashlib.sha1(article_id.encode("utf-8")).digest()
    if store_format < FORMAT_NARROW:
        return f"{digest[0]:02x}/{digest[1]:02x}"
    bits = int.from_bytes(digest[:2], "big") >> 1  # the first 15 bits: three base-32 digits
    return f"{_BASE32[bits >> 10]}/{_BASE32[bits >> 5 & 31]}/{_BASE32[bits & 31]}"


# Store formats (``revtrack/store.json``). Each version rewrites every tree on
# the path from the root to the article's files, so the layout sets the cost of
# a commit, for git as much as for revtrack.
# Format 1 gave each article a folder, ``articles/<ab>/<cd>/<id>/article.txt``:
# five or more trees per version (one per id segment too).
# Format 2 named the files after the id in the shard folder,
# ``<ab>/<cd>/<id>.article.txt`` ("/" in the id written "%2F"; ids never hold
# "%"): three trees, but the root and the ``<ab>`` trees fill to 256 entries,
# ~17 KB of trees to write, hash and compress per version at a million articles.
# Format 3 fans out three levels of 32, ``<a>/<b>/<c>/<id>.article.txt``
# (base-32 digits): four trees, three of at most 32 folder entries and a last
# folder of about 40 articles at a million, ~7 KB in all. ``git fast-import`` alone
# took 10.6 s instead of 7.1-7.4 s for 30,000 versions of 10,000 articles, and
# 245 s instead of 128 s for 400,000 new articles (bench/RESULTS.md, session 8).
# Older stores keep their layout.
FORMAT_FOLDERS: Final = 1
FORMAT_FLAT: Final = 2
FORMAT_NARROW: Final = 3
KNOWN_FORMATS: Final = (FORMAT_FOLDERS, FORMAT_FLAT, FORMAT_NARROW)
LAYOUTS: Final = {
    FORMAT_FOLDERS: "articles/<ab>/<cd>/<id>/article.txt",
    FORMAT_FLAT: "<ab>/<cd>/<id>.article.txt",
    FORMAT_NARROW: "<a>/<b>/<c>/<id>.article.txt",
}
_BASE32: Final = "0123456789abcdefghijklmnopqrstuv"  # RFC 4648's base32hex, lower case: safe on any file system


def article_path(article_id: str, store_format: int = FORMAT_NARROW) -> str:
    """Where an article's files live in the tree: a folder (format 1) or a file-name prefix (formats 2, 3)."""
    if store_format == FORMAT_FOLDERS:
        return f"articles/{shard(article_id, store_format)}/{article_id}"
    return f"{shard(article_id, store_format)}/{article_id.replace('/', '%2F')}"


def file_path(path: str, name: str) -> str:
    """The tree path of file ``name`` (``article.txt``, ``meta.json``, ``page.html``) of the article at ``path``."""
    return f"{path}/{name}" if path.startswith("articles/") else f"{path}.{name}"


def check_new_article(article_id: str, store_format: int) -> None:
    """Refuse a new article whose file names (store formats 2, 3) would be too long for a file system.

    git stores any name, but a checkout of a clone of the store would fail on
    it; only ids with many "/" (each written "%2F") come near the limit.
    """
    if store_format == FORMAT_FOLDERS:
        return
    name = file_path(article_path(article_id, store_format), "article.txt").rsplit("/", 1)[1]
    if len(name.encode("utf-8")) > _NAME_MAX:
        raise InvalidArticleId(
            f"article id {article_id!r} is too long for a file name once each '/' is written '%2F' "
            f"({len(name)} bytes with '.article.txt'; at most {_NAME_MAX}): use fewer or shorter '/' parts"
        )
