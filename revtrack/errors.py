"""Domain exceptions. The CLI prints each as one ``Error: ...`` line and exits with its code.

Exit codes (also in the README):

== ======================================================================
0  success
1  no match (``when``, ``search``: the phrase never appears), like grep
2  usage error: unknown option, missing argument (from the CLI parser)
3  not found: unknown article or revision
4  invalid input: unreadable/binary/non-UTF-8/empty/oversized source, bad
   article id, bad ``--at``, FROM later than TO
5  the store is locked by another writer (``--lock-timeout`` passed)
6  store problem: the path is not a revtrack store, or its git data is damaged
7  fetch failed: network error, HTTP error, not an HTML page
8  extraction suspect: the page lost most of its text (``--force`` records it)
== ======================================================================
"""

from __future__ import annotations


class RevtrackError(Exception):
    """Base class: a problem the user can act on, reported without a traceback."""

    exit_code = 1


class InvalidInput(RevtrackError):
    exit_code = 4


class InvalidArticleId(InvalidInput):
    pass


class InvalidTime(InvalidInput):
    pass


class NotText(InvalidInput):
    """The source is binary, not in the expected encoding, empty, or too large."""


class NotFound(RevtrackError):
    exit_code = 3


class ArticleNotFound(NotFound):
    pass


class RevisionNotFound(NotFound):
    pass


class StoreLocked(RevtrackError):
    exit_code = 5


class StoreError(RevtrackError):
    exit_code = 6


class NotAStore(StoreError):
    pass


class StoreDamaged(StoreError):
    pass


class FetchError(RevtrackError):
    exit_code = 7

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status, when the server answered with an error


class ExtractionSuspect(RevtrackError):
    exit_code = 8
