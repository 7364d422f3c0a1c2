"""Fetch a news page and extract its article: httpx, trafilatura, htmldate, lxml.

``fetch_page`` speaks only http(s), follows a bounded number of redirects,
gives up after a timeout, refuses pages over a size cap and anything that is
not HTML, and names itself with a clear user agent. ``extract_article`` takes
the headline, byline and body with trafilatura, the canonical URL from the
page, and the newsroom's own published/updated times from the page's metadata
(``article:published_time``, JSON-LD ``dateModified`` ...) or, failing that,
htmldate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from revtrack import __version__
from revtrack.errors import ExtractionSuspect, FetchError
from revtrack.ingest import collapse

USER_AGENT: Final = f"revtrack/{__version__} (news revision tracker; +https://pypi.org/project/revtrack/)"
DEFAULT_MAX_REDIRECTS: Final = 5
# The longest fetch timeout, seconds (--timeout, a watch list's timeout): httpx
# refuses NaN, and the socket layer fails past time_t on 1e300.
LONGEST_FETCH: Final = 86_400.0
HTML_TYPES: Final = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class Validators:
    """What a server said identifies the copy of a page it sent (RFC 9110 section 8.8).

    Sent back with the next request for the page, they let the server answer
    304 Not Modified instead of the page: a watcher that checks thousands of
    articles every few minutes then downloads and extracts only the changed ones.
    """

    etag: str | None = None
    last_modified: str | None = None

    @classmethod
    def answered(cls, headers: Any) -> Validators:
        """The validators of a response (its ``ETag`` and ``Last-Modified`` headers)."""
        return cls(headers.get("etag"), headers.get("last-modified"))

    @classmethod
    def stored(cls, etag: str | None, last_modified: str | None) -> Validators | None:
        """Validators kept for a copy; None when its server sent neither."""
        return cls(etag, last_modified) if etag or last_modified else None

    def request_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass
class Page:
    url: str  # after redirects
    content: bytes  # empty when not_modified
    content_type: str
    validators: Validators = field(default_factory=Validators)  # the server's for this copy
    not_modified: bool = False  # the server answered 304 to the validators sent (kept in ``validators``)


@dataclass
class Extracted:
    title: str
    body: str
    byline: str | None = None
    canonical_url: str | None = None
    stated: dict[str, Any] = field(default_factory=dict)
    extractor: str = ""


def fetch_page(
    url: str,
    timeout: float = 20.0,
    max_bytes: int = 20 * 1024 * 1024,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
    client: Any = None,
    validators: Validators | None = None,
) -> Page:
    """GET an http(s) page; every failure is a :class:`FetchError` with one clear line.

    With ``validators`` (from an earlier :class:`Page`) the request is
    conditional, and a 304 answer comes back as a page with ``not_modified``
    set and no content.
    """
    import httpx

    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(f"only http and https URLs can be fetched: {url}")
    own = client is None
    client = client or make_client(timeout, max_redirects)
    try:
        headers = validators.request_headers() if validators else {}
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304 and validators is not None and headers:
                return Page(str(response.url), b"", "", validators, not_modified=True)
            if response.status_code >= 400:
                raise FetchError(
                    f"HTTP {response.status_code} {response.reason_phrase} from {response.url}", response.status_code
                )
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type and content_type not in HTML_TYPES:
                raise FetchError(f"{response.url} is not an HTML page (content type {content_type})")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{response.url} is larger than the limit of {max_bytes:,} bytes")
                chunks.append(chunk)
            return Page(str(response.url), b"".join(chunks), content_type, Validators.answered(response.headers))
    except httpx.TooManyRedirects:
        raise FetchError(f"more than {max_redirects} redirects from {url}") from None
    except httpx.TimeoutException:
        raise FetchError(f"no answer from {url} within {timeout:g} s") from None
    except httpx.HTTPError as error:
        raise FetchError(f"could not fetch {url}: {type(error).__name__}: {error}") from None
    finally:
        if own:
            client.close()


def make_client(timeout: float = 20.0, max_redirects: int = DEFAULT_MAX_REDIRECTS) -> Any:
    import httpx

    return httpx.Client(
        follow_redirects=True,
        max_redirects=max_redirects,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml"},
    )


def extract_article(html: bytes | str, url: str | None = None) -> Extracted:
    """Headline, byline, body, canonical URL and stated times of a news page."""
    import trafilatura

    document = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    body = (getattr(document, "text", None) or "").strip() if document is not None else ""
    if not body:
        raise ExtractionSuspect(f"no article text found in {url or 'the page'}")
    title = collapse(getattr(document, "title", None) or "")
    tree = _parse(html)
    stated = page_times(tree, html)
    return Extracted(
        title=title or body.split("\n", 1)[0][:200],
        body=body,
        byline=getattr(document, "author", None) or None,
        canonical_url=_canonical(tree, url),
        stated=stated,
        extractor=f"trafilatura {trafilatura.__version__}",
    )


def _parse(html: bytes | str) -> Any:
    import lxml.html

    try:
        if isinstance(html, str):
            # Text already decoded (a JSON-lines import's page). lxml refuses text that
            # declares an encoding (an XHTML page's <?xml ... encoding="..."?>), which lost
            # the page's canonical URL and stated times: it goes as UTF-8, said so.
            return lxml.html.fromstring(html.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
        return lxml.html.fromstring(html)
    except (ValueError, TypeError, lxml.etree.ParserError):
        return None


def _canonical(tree: Any, url: str | None) -> str | None:
    if tree is None:
        return None
    from urllib.parse import urljoin

    for link in tree.xpath("//link[@rel]"):
        if "canonical" in link.get("rel", "").lower().split() and link.get("href"):
            href: str = link.get("href").strip()
            return urljoin(url, href) if url else href
    return None


_PUBLISHED_KEYS: Final = ("article:published_time", "datePublished", "og:published_time", "pubdate", "date")
_UPDATED_KEYS: Final = ("article:modified_time", "dateModified", "og:updated_time", "last-modified", "lastmod")


def page_times(tree: Any, html: bytes | str) -> dict[str, Any]:
    """The page's own published/updated times: metadata first (with time and offset), htmldate second."""
    found: dict[str, str] = {}
    if tree is not None:
        for meta in tree.xpath("//meta[@content]"):
            key = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
            _remember(found, key, meta.get("content"))
        for script in tree.xpath("//script[@type='application/ld+json']"):
            for item in _json_ld_items(script.text_content()):
                _remember(found, "datePublished", item.get("datePublished"))
                _remember(found, "dateModified", item.get("dateModified"))
    stated: dict[str, Any] = {}
    published = next((found[k] for k in _PUBLISHED_KEYS if k in found), None)
    updated = next((found[k] for k in _UPDATED_KEYS if k in found), None)
    if published is None or updated is None:
        from htmldate import find_date

        published = published or find_date(html, original_date=True, extensive_search=False)
        updated = updated or find_date(html, original_date=False, extensive_search=False)
    if published:
        stated["published"] = published
    if updated and updated != published:
        stated["updated"] = updated
    return stated


def _remember(found: dict[str, str], key: str, value: Any) -> None:
    if isinstance(value, str) and value.strip() and key not in found:
        found[key] = value.strip()


def _json_ld_items(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        return []
    items = data if isinstance(data, list) else [data]
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict):
            out.append(item)
            graph = item.get("@graph")
            if isinstance(graph, list):
                out += [g for g in graph if isinstance(g, dict)]
    return out
