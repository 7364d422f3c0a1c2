"""The article's own claims about its times: "Updated at 5:32 pm", "UPDATE:", "Correction:".

These are the newsroom's statements, kept beside (never instead of) the time
revtrack observed a version. A time with no date ("5:32 pm") is read on the
observed day in the observed offset, and on the day before when that would put
it after the observation.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta
from typing import Any, Final

from revtrack.timeutil import format_iso

_TIME: Final = r"(?P<h>\d{1,2})[:.](?P<m>\d{2})\s*(?P<ampm>[ap]\.?\s?m\.?)?"
_MONTHS: Final = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DATE: Final = (
    r"(?:(?P<d1>\d{1,2})\s+(?P<mon1>[A-Za-z]{3,9})\.?,?\s+(?P<y1>\d{4})"
    r"|(?P<mon2>[A-Za-z]{3,9})\.?\s+(?P<d2>\d{1,2}),?\s+(?P<y2>\d{4})"
    r"|(?P<y3>\d{4})-(?P<mo3>\d{2})-(?P<d3>\d{2}))"
)
_UPDATE_LINE: Final = re.compile(
    r"^\s*(?P<label>(?:last\s+)?updated?|published|posted)\b[\s:]*(?:at|on)?\s*"
    r"(?P<rest>.*?)\s*$",
    re.IGNORECASE,
)
# A stated time is a dateline: its time or date comes first ("Updated at 5:32 pm",
# "Last updated on Fri, Oct 27, 2017 at 4:05 pm", "Posted: 27/10/2017 16:05"),
# or right after a byline ("Posted by Jane Doe on Oct 27, 2017", "Posted in
# Politics by Jane on 27 Oct 2017"), and the rest of it within a few words. A
# line that only starts with the word ("Update 3: shares fell 0.06 percent", a
# live blog's entry) states no time.
_BYLINE: Final = r"(?:(?:by|in)\s[^\n]{1,60}?\s(?:on|at)\s+)?"
_SEPARATOR: Final = r"(?:[-–—|·•]\s*)?"  # "Updated — 10:45 GMT", "Published | Friday, 27 October 2017"
_WEEKDAY: Final = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+"
_LEADS_WITH_A_TIME: Final = re.compile(
    rf"{_BYLINE}{_SEPARATOR}(?P<when>(?:{_WEEKDAY})?(?:{_TIME}|{_DATE}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}))",
    re.IGNORECASE,
)
_DATELINE: Final = 60  # characters of the line, from its time or date, in which both are looked for
_TIME_ANYWHERE: Final = re.compile(_TIME, re.IGNORECASE)
_DATE_ANYWHERE: Final = re.compile(_DATE)
_CORRECTION: Final = re.compile(r"^\s*(?:correction|clarification|editor[’']s note)\s*:", re.IGNORECASE)
_HEADLINE_FLAG: Final = re.compile(r"^\s*(UPDATED?|BREAKING|CORRECTED|CORRECTION)\s*:", re.IGNORECASE)


def stated_times(title: str, body: str, observed: datetime) -> dict[str, Any]:
    """What the text itself says about when it was published, updated or corrected."""
    stated: dict[str, Any] = {}
    flag = _HEADLINE_FLAG.match(title)
    if flag:
        stated["headline_flag"] = flag.group(1).upper()
    corrections = []
    for line in body.split("\n"):
        if not line or len(line) > 300:  # blank lines (half of them: paragraph breaks) and paragraphs
            continue
        claim = _claim(line)
        if claim is None:
            continue
        kind, dateline = claim
        if kind == "correction":
            corrections.append(line.strip())
            continue
        moment = _parse_when(dateline, observed)
        if moment is None:
            continue
        stated[kind] = format_iso(moment)
        stated[f"{kind}_text"] = line.strip()
    if corrections:
        stated["corrections"] = corrections
    return stated


@functools.lru_cache(maxsize=8192)
def _claim(line: str) -> tuple[str, str] | None:
    """What a line claims whenever it is seen: ("correction", ""), ("updated" or "published", its dateline), or None.

    Cached by the line: a live blog repeats every earlier entry in each
    revision, and reading the same lines again took 638 ms for the 500
    revisions of bench/history.py's blog (44 ms with the cache; its import
    waits on git fast-import, so a watch recording such versions one by one
    gains more). The time itself depends on when the version was observed (a
    time with no date is read on that day), so it is not cached.
    """
    if _CORRECTION.match(line):
        return "correction", ""
    match = _UPDATE_LINE.match(line)
    lead = _LEADS_WITH_A_TIME.match(match.group("rest")) if match else None
    if match is None or lead is None:
        return None
    key = "published" if match.group("label").lower() in ("published", "posted") else "updated"
    return key, lead.string[lead.start("when") :][:_DATELINE]


def _parse_when(text: str, observed: datetime) -> datetime | None:
    time_match = _TIME_ANYWHERE.search(text)
    date_match = _DATE_ANYWHERE.search(text)
    if time_match is None and date_match is None:
        return None
    day = observed.date()
    if date_match is not None:
        parsed = _date(date_match.groupdict())
        if parsed is None:
            return None
        day = parsed
    hour = minute = 0
    if time_match is not None:
        hour, minute = int(time_match.group("h")), int(time_match.group("m"))
        ampm = (time_match.group("ampm") or "").lower().replace(".", "").replace(" ", "")
        if ampm == "pm" and hour < 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
        if hour > 23 or minute > 59:
            return None
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=observed.tzinfo)
    if date_match is None and moment > observed:
        moment -= timedelta(days=1)
    return moment


def _date(parts: dict[str, str | None]) -> Any:
    try:
        if parts["y3"]:
            return datetime(int(parts["y3"]), int(parts["mo3"] or 0), int(parts["d3"] or 0)).date()
        month_name = (parts["mon1"] or parts["mon2"] or "")[:3].lower()
        if month_name not in _MONTHS:
            return None
        day = int(parts["d1"] or parts["d2"] or 0)
        year = int(parts["y1"] or parts["y2"] or 0)
        return datetime(year, _MONTHS.index(month_name) + 1, day).date()
    except ValueError:
        return None


def describe(stated: dict[str, Any], observed_at: str | None = None) -> str:
    """Short human form for ``log``/``diff``: ``stated: updated 17:32 +03:00``.

    The date is left out when it is the observed date.
    """
    parts = []
    observed_day = (observed_at or "")[:10]
    for key in ("published", "updated"):
        if key in stated:
            try:
                moment = datetime.fromisoformat(stated[key])
            except ValueError:
                continue
            offset = moment.strftime("%z")
            day = "" if moment.date().isoformat() == observed_day else f"{moment:%Y-%m-%d} "
            zone = f" {offset[:3]}:{offset[3:]}" if offset else ""
            parts.append(f"{key} {day}{moment:%H:%M}{zone}")
    if stated.get("headline_flag"):
        parts.append(f"headline {stated['headline_flag']}:")
    if stated.get("corrections"):
        parts.append(f"{len(stated['corrections'])} correction note(s)")
    return "stated: " + ", ".join(parts) if parts else ""
