"""git's pack file and pack index (version 2), written for a batch of new objects.

A batch of snapshots (:meth:`revtrack.store.Store.batch`) goes to disk as one
pack of whole objects; :mod:`revtrack.packing` later joins packs and finds the
deltas. The format is git's (Documentation/gitformat-pack.txt):

- pack: ``PACK``, version 2, object count; each object as a size-and-type
  header and its zlib-compressed bytes; the SHA-1 of all that.
- index: a magic number and version 2, a 256-entry fan-out table, the object
  names in order, the CRC-32 of each object's packed bytes, their offsets
  (large ones in a second table), the pack's checksum and the index's own.

gitdb writes the same files, but through several Python stream objects per
object (about 0.1 ms each here, five objects a version); this is one
``zlib.compress`` and one ``crc32`` per object. ``tests/test_store_format.py``
checks that ``git index-pack`` derives exactly this index from this pack.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterable
from typing import IO, Final

TYPE_CODES: Final = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}
_INDEX_MAGIC: Final = b"\xfftOc" + struct.pack(">I", 2)
_LARGE_OFFSET: Final = 0x80000000  # offsets from here on go to the index's 8-byte table


def object_header(kind: bytes, size: int) -> bytes:
    """A packed object's header: type in bits 4-6 of the first byte, the size in 4 then 7 bits a byte."""
    byte = (TYPE_CODES[kind] << 4) | (size & 0x0F)
    size >>= 4
    header = bytearray()
    while size:
        header.append(byte | 0x80)
        byte, size = size & 0x7F, size >> 7
    header.append(byte)
    return bytes(header)


def write_pack(objects: Iterable[tuple[bytes, bytes, bytes]], count: int, pack: IO[bytes], index: IO[bytes]) -> bytes:
    """Write ``count`` objects, given as (binary sha, kind, data), as a pack and its index; return the pack's sha.

    Objects are compressed with zlib level 1 (git's ``core.looseCompression``):
    these packs are short-lived, and the next join recompresses them as deltas.
    """
    pack_hash = hashlib.sha1()
    header = b"PACK" + struct.pack(">II", 2, count)
    pack.write(header)
    pack_hash.update(header)
    offset = len(header)
    entries: list[tuple[bytes, int, int]] = []  # (sha, crc32, offset)
    for binsha, kind, data in objects:
        packed = object_header(kind, len(data)) + zlib.compress(data, 1)
        pack.write(packed)
        pack_hash.update(packed)
        entries.append((binsha, zlib.crc32(packed), offset))
        offset += len(packed)
    if len(entries) != count:
        raise ValueError(f"write_pack was told {count} objects and given {len(entries)}")
    pack_sha = pack_hash.digest()
    pack.write(pack_sha)
    index.write(_index_bytes(sorted(entries), pack_sha))
    return pack_sha


def _index_bytes(entries: list[tuple[bytes, int, int]], pack_sha: bytes) -> bytes:
    fanout = [0] * 256
    for binsha, _, _ in entries:
        fanout[binsha[0]] += 1
    running = 0
    for first_byte in range(256):
        running += fanout[first_byte]
        fanout[first_byte] = running
    small: list[int] = []
    large: list[int] = []
    for _, _, offset in entries:
        if offset < _LARGE_OFFSET:
            small.append(offset)
        else:
            small.append(_LARGE_OFFSET | len(large))
            large.append(offset)
    body = b"".join(
        (
            _INDEX_MAGIC,
            struct.pack(">256I", *fanout),
            b"".join(binsha for binsha, _, _ in entries),
            struct.pack(f">{len(entries)}I", *(crc for _, crc, _ in entries)),
            struct.pack(f">{len(small)}I", *small),
            struct.pack(f">{len(large)}Q", *large),
            pack_sha,
        )
    )
    return body + hashlib.sha1(body).digest()
