"""From a snapshot request (file, stdin, HTML or URL) to a recorded revision.

Everything that can be checked before reading or writing is checked first (the
article id, the ``--at`` time), so a bad request leaves no trace.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from revtrack.errors import ExtractionSuspect, FetchError, InvalidArticleId
from revtrack.ids import canonical_url, id_from_filename, id_from_url, validate_article_id
from revtrack.ingest import DEFAULT_MAX_BYTES, Document, decode, fingerprint, parse_document, read_source
from revtrack.model import Revision, Snapshot, SnapshotResult
from revtrack.stated import stated_times
from revtrack.store import Store
from revtrack.timeutil import format_iso, now, parse_iso

if TYPE_CHECKING:
    from revtrack.web import Page

# A new extraction with fewer words than this share of the previous revision's
# is more likely a broken page or extractor than a rewrite.
SUSPECT_SHARE = 0.30


@dataclass
class SnapshotRequest:
    source: str
    article: str | None = None
    url: str | None = None
    title: str | None = None
    at: str | None = None
    encoding: str = "utf-8"
    max_bytes: int = DEFAULT_MAX_BYTES
    html: bool = False
    keep_html: bool = False
    force: bool = False
    timeout: float = 20.0
    content: str | None = None  # the page itself, already read (a JSON-lines import's "html"): source only names it

    @property
    def extracts(self) -> bool:
        """Whether the source is a page to extract: a URL, ``--html``, or a saved page's file (``.html``)."""
        return is_url(self.source) or self.html or is_saved_page(self.source)


def _stdin() -> BinaryIO | None:
    return sys.stdin.buffer if sys.stdin is not None else None


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def is_saved_page(name: str) -> bool:
    """A file named as a saved web page (``.html``, ``.htm``): its article is extracted, not its markup kept.

    Recording such a file as text kept every tag of the page as the article.
    """
    return not is_url(name) and name.lower().endswith((".html", ".htm"))


def resolve_article_id(request: SnapshotRequest) -> str | None:
    """The id from --article, --url or the file name; None when it must wait for the page's canonical URL."""
    if "://" in request.source and not is_url(request.source):
        from revtrack.errors import FetchError

        raise FetchError(f"only http and https URLs can be fetched: {request.source}")
    if request.article is not None:
        return validate_article_id(request.article)
    if request.url:
        return id_from_url(request.url)
    if request.extracts:
        return None  # the page's canonical URL names it (else the URL or file name)
    if request.source == "-":
        raise InvalidArticleId("reading standard input: give --article or --url to name the article")
    return id_from_filename(request.source)


def take_snapshot(
    store: Store, request: SnapshotRequest, stdin: BinaryIO | None = None
) -> tuple[SnapshotResult, list[str]]:
    """Read, parse and record one version. Returns the result and warnings for the user."""
    snapshot, notes = prepare_snapshot(request, stdin)
    return record_snapshot(store, snapshot, request), notes


def prepare_snapshot(
    request: SnapshotRequest, stdin: BinaryIO | None = None, page: Page | None = None
) -> tuple[Snapshot, list[str]]:
    """Read and parse one version, ready for :func:`record_snapshot`; and warnings for the user.

    ``page`` is a page already fetched for ``request.source`` (the watcher
    fetches and extracts pages in its workers, and records them in one batch).
    """
    notes: list[str] = []
    article = resolve_article_id(request)
    if request.at is not None:
        observed, note = parse_iso(request.at)
        if note:
            notes.append(note)
    else:
        observed = now()
    if request.extracts:
        snapshot = _from_html(request, article, stdin, page)
    else:
        data = read_source(request.source, request.max_bytes, stdin if stdin is not None else _stdin())
        what = "standard input" if request.source == "-" else request.source
        document = parse_document(decode(data, what, request.encoding), request.title)
        assert article is not None
        snapshot = Snapshot(
            article, document.title, document.body, "", request.url, source=_source_name(request.source)
        )
    snapshot.observed_at = format_iso(observed)
    snapshot.stated = {**stated_times(snapshot.title, snapshot.body, observed), **snapshot.stated}
    return snapshot, notes


def record_snapshot(
    store: Store, snapshot: Snapshot, request: SnapshotRequest, texts: Mapping[str, Document] | None = None
) -> SnapshotResult:
    """Record a prepared version; an extracted page that lost most of the text is refused unless forced.

    ``texts``: latest versions' texts read beforehand (see :func:`latest_texts`).
    """
    if request.extracts:
        check_not_suspect(store, snapshot, request.force, texts)
    return store.snapshot(snapshot)


def latest_texts(store: Store, snapshots: list[Snapshot]) -> dict[str, Document]:
    """Commit -> text of the latest version of each snapshot's article that the snapshot changes, read in one go.

    For the word-loss checks of a watch pass: one git process for all of
    them, and read before the pass's batch opens. Read inside it, each check
    first wrote the objects the batch held as a pack of their own, so that git
    could see them (181 edited pages: 158 packs, 0.8 of 4.2 s).
    """
    if not store.exists():
        return {}
    index = store.index()
    changed: dict[str, Revision] = {}
    for snapshot in snapshots:
        latest = index.latest(snapshot.article)
        if latest is not None and latest.fingerprint != fingerprint(snapshot.title, snapshot.body):
            changed[latest.commit] = latest
    revisions = list(changed.values())
    return {revision.commit: text for revision, text in zip(revisions, store.texts(revisions), strict=True)}


def _source_name(source: str) -> str:
    return "stdin" if source == "-" else source.rsplit("/", 1)[-1]


def _from_html(request: SnapshotRequest, article: str | None, stdin: BinaryIO | None, page: Page | None) -> Snapshot:
    from revtrack.web import extract_article, fetch_page

    url: str | None
    html: bytes | str
    if is_url(request.source):
        page = page or fetch_page(request.source, timeout=request.timeout, max_bytes=request.max_bytes)
        html, url = page.content, page.url
        if not request.force and redirected_home(request.source, page.url):
            # A site's usual answer for an article it took down (a "soft 404"): its home
            # page is not the article's next version. Told as a 404, so that `watch`
            # keeps the article as gone and checks on in case it comes back.
            raise FetchError(
                f"{request.source} now redirects to the site's home page ({page.url}); not recorded "
                "('revtrack snapshot --force' records it anyway)",
                status=404,
            )
    elif request.content is not None:
        html, url = request.content, request.url
    else:
        html = read_source(request.source, request.max_bytes, stdin if stdin is not None else _stdin())
        url = request.url
    extracted = extract_article(html, url)
    found_url = extracted.canonical_url or url
    page_url = canonical_url(found_url) if found_url else None
    if article is None:
        if page_url:
            article = id_from_url(page_url)
        elif request.source == "-":
            raise InvalidArticleId("the page on standard input has no canonical URL: give --article or --url")
        else:
            article = id_from_filename(request.source)
    return Snapshot(
        article=article,
        title=request.title if request.title is not None else extracted.title,
        body=extracted.body,
        observed_at="",
        url=request.url or page_url,
        stated=extracted.stated,
        source=url or _source_name(request.source),
        extractor=extracted.extractor,
        byline=extracted.byline,
        html=(html.encode("utf-8") if isinstance(html, str) else html) if request.keep_html else None,
    )


def redirected_home(requested: str, final: str) -> bool:
    """Whether a request for a page deeper in a site ended, through redirects, at the site's root."""
    from urllib.parse import urlsplit

    return urlsplit(requested).path.strip("/") != "" and urlsplit(final).path.strip("/") == ""


def lost_most_words(before: int, after: int) -> bool:
    """Whether an extraction of ``after`` words, following one of ``before``, is more likely broken than rewritten."""
    return bool(before) and after < SUSPECT_SHARE * before


def check_not_suspect(
    store: Store, snapshot: Snapshot, force: bool, texts: Mapping[str, Document] | None = None
) -> None:
    """Refuse an extraction that lost most of the text (unless forced); ``texts`` may hold the latest one's."""
    from revtrack.tokens import count_words

    if not store.exists():
        return
    latest = store.index().latest(snapshot.article)
    if latest is None or latest.fingerprint == fingerprint(snapshot.title, snapshot.body):
        return  # a first version, or the latest again (nothing is recorded): no text to read from git
    previous = texts[latest.commit] if texts and latest.commit in texts else store.text(latest)
    before = count_words(previous.body)
    after = count_words(snapshot.body)
    if not force and lost_most_words(before, after):
        raise ExtractionSuspect(
            f"suspected extraction failure for {snapshot.article}: the body went from {before} words "
            f"(rev {latest.rev}) to {after}; not recorded (use --force to record it anyway)"
        )
