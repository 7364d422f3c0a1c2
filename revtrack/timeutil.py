"""Times as revtrack keeps them: ISO 8601 with the UTC offset exactly as observed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Final

from revtrack.errors import InvalidTime

_ISO: Final = re.compile(
    r"""^(?P<date>\d{4}-\d{2}-\d{2})
    (?:[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?
       (?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?)?$""",
    re.VERBOSE,
)


def now() -> datetime:
    """The current time with the machine's UTC offset, to the second."""
    return datetime.now().astimezone().replace(microsecond=0)


@lru_cache(maxsize=8192)
def parse_iso(text: str) -> tuple[datetime, str | None]:
    """Parse an ISO 8601 time; return it and a note when an offset had to be assumed.

    Works the same on Python 3.10 (whose ``fromisoformat`` lacks ``Z`` and
    ``+0300``). A time without an offset is taken as this machine's local time,
    and the returned note says which offset that was.
    """
    match = _ISO.match(text.strip())
    if not match:
        raise InvalidTime(f"not an ISO 8601 time: {text!r} (expected e.g. 2017-10-27T15:10:00+03:00)")
    parts = match.groupdict()
    try:
        naive = datetime.strptime(parts["date"], "%Y-%m-%d").replace(
            hour=int(parts["h"] or 0),
            minute=int(parts["m"] or 0),
            second=int(parts["s"] or 0),
            microsecond=int((parts["frac"] or "0")[:6].ljust(6, "0")),
        )
    except ValueError as error:
        raise InvalidTime(f"not a valid time: {text!r} ({error})") from None
    zone = parts["tz"]
    if zone is None:
        local = naive.astimezone()
        return local, f"no UTC offset in {text!r}; assumed this machine's offset {format_offset(local)}"
    if zone in ("Z", "z"):
        return naive.replace(tzinfo=timezone.utc), None
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise InvalidTime(f"not a valid UTC offset in {text!r}")
    return naive.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes))), None


def format_iso(moment: datetime) -> str:
    """ISO 8601 with its offset, to the second (git keeps no finer time)."""
    return moment.isoformat(timespec="seconds")


def format_epoch(seconds: float) -> str:
    """A time kept as seconds since the epoch, in ISO 8601 with this machine's offset, to the second."""
    return format_iso(datetime.fromtimestamp(int(seconds)).astimezone())


def format_offset(moment: datetime) -> str:
    """The UTC offset as ``+03:00``."""
    offset = moment.utcoffset() or timedelta(0)
    total = int(offset.total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    return f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


def git_date(moment: datetime) -> str:
    """The ``<epoch> <+hhmm>`` form git keeps in commit objects (the offset is kept)."""
    return f"{int(moment.timestamp())} {format_offset(moment).replace(':', '')}"


def from_git_date(epoch: int, offset: str) -> datetime:
    """Inverse of :func:`git_date`."""
    sign = -1 if offset.startswith("-") else 1
    digits = offset.lstrip("+-")
    zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))
    return datetime.fromtimestamp(epoch, zone)
