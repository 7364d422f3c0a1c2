"""Turn a source (file or stdin) into a headline and a body, refusing what is not text.

Plain text: the first paragraph (up to the first blank line) is the headline,
its whitespace collapsed; the rest is the body, kept as it came. Markdown: a
leading ``# `` line is the headline. Every non-whitespace character of the
input ends up in the headline or the body, in order.
"""

from __future__ import annotations

import codecs
import os
import sys
from dataclasses import dataclass
from typing import BinaryIO, Final

from revtrack.errors import NotText

DEFAULT_MAX_BYTES: Final = 20 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """A headline and body ready to be snapshotted."""

    title: str
    body: str


def read_source(source: str, max_bytes: int = DEFAULT_MAX_BYTES, stdin: BinaryIO | None = None) -> bytes:
    """Read a file path, or stdin for ``-``, refusing directories and anything over ``max_bytes``."""
    if source == "-":
        if stdin is None and sys.stdin is None:
            raise NotText("standard input is closed; give a file or pipe the text in")
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            data = stream.read(max_bytes + 1)
        except (OSError, ValueError) as error:
            raise NotText(f"could not read standard input: {error}") from None
        what = "standard input"
    else:
        if os.path.isdir(source):
            raise NotText(f"{source} is a directory, not a file")
        try:
            with open(source, "rb") as handle:
                data = handle.read(max_bytes + 1)
        except FileNotFoundError:
            raise NotText(f"no such file: {source}") from None
        except OSError as error:
            raise NotText(f"cannot read {source}: {error.strerror or error}") from None
        what = source
    if len(data) > max_bytes:
        raise NotText(f"{what} is larger than the limit of {max_bytes:,} bytes (raise it with --max-bytes)")
    return data


def decode(data: bytes, what: str, encoding: str = "utf-8") -> str:
    """Bytes to text: refuse binary data, name the first bad byte, drop a UTF-8 BOM."""
    if not data.strip():
        raise NotText(f"{what} is empty")
    nul = data.find(b"\x00")
    if nul >= 0 and encoding.lower().replace("-", "") not in ("utf16", "utf32", "utf16le", "utf16be"):
        raise NotText(f"{what} looks binary (NUL byte at offset {nul}); revtrack records text")
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise NotText(f"unknown encoding {encoding!r}") from None
    # rot13, base64, hex, zlib... are codecs but not text encodings: bytes.decode refuses them.
    if not getattr(codec, "_is_text_encoding", True):
        raise NotText(f"{encoding!r} is not a text encoding (use one such as utf-8, cp1252 or shift_jis)")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        line = data.count(b"\n", 0, error.start) + 1
        raise NotText(
            f"{what} is not valid {encoding}: byte 0x{bad} at offset {error.start} (line {line}); "
            "if it is in another encoding, say which with --encoding (e.g. --encoding cp1252)"
        ) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise NotText(f"{what} is empty")
    return text


def parse_document(text: str, title: str | None = None) -> Document:
    """Split text into headline and body (``title`` given: the whole text is the body)."""
    if title is not None:
        return Document(collapse(title), text.strip("\n"))
    stripped = text.lstrip()
    first_line, _, after_first = stripped.partition("\n")
    if first_line.startswith("# "):
        return Document(collapse(first_line[2:]), after_first.lstrip("\n"))
    lines = stripped.split("\n")
    for index, line in enumerate(lines):
        if not line.strip():
            return Document(collapse("\n".join(lines[:index])), _drop_blank_lines("\n".join(lines[index:])))
    return Document(collapse(stripped), "")


def _drop_blank_lines(text: str) -> str:
    """Remove the whitespace-only lines between headline and body; keep the rest as it is."""
    lines = text.split("\n")
    index = 0
    while index < len(lines) - 1 and not lines[index].strip():
        index += 1
    return "\n".join(lines[index:])


def collapse(text: str) -> str:
    """Whitespace runs to single spaces, ends trimmed (``" ".join(text.split())``).

    Most bodies are already that once each paragraph break is a space, and two
    C-speed scans can tell: every whitespace character but the space is
    unprintable (tests/test_ingest.py checks every code point), so printable
    text without two spaces in a row or one at either end has nothing left to
    collapse. 31-40 µs instead of 67-73 µs for a 3.6 KB body, which every
    version's fingerprint pays (an import of 30,000 versions: ~1 s).
    """
    simple = text.replace("\n\n", " ")
    if simple.isprintable() and "  " not in simple and simple[:1] != " " and simple[-1:] != " ":
        return simple
    return " ".join(text.split())


def fingerprint(title: str, body: str) -> str:
    """Identity of a version once whitespace is collapsed (re-wrapped text is unchanged)."""
    import hashlib

    return hashlib.sha256(f"{collapse(title)}\n{collapse(body)}".encode()).hexdigest()


def article_text(document: Document) -> str:
    """The stored form: headline, blank line, body (what ``show`` prints)."""
    return f"{document.title}\n\n{document.body}" if document.body else f"{document.title}\n"


def split_article_text(text: str) -> Document:
    """Inverse of :func:`article_text` for stored revisions."""
    title, _, body = text.partition("\n\n")
    return Document(title.rstrip("\n"), body)
