"""How the commands tell time: in one zone (the org's, or ``--tz``), never bare UTC; beside
it, a person's own clock when the time is about their mail; and how long ago.

The store keeps UTC ISO 8601 and ``--json`` prints it so (machine-stable); these are for
the text a person reads.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nudger.config import Config
from nudger.core.records import Handoff


def parse_zone(name: str) -> ZoneInfo:
    """An IANA zone by name (``Europe/Paris``, ``UTC``; any letter case); ValueError naming
    the closest known ones otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    from difflib import get_close_matches
    from zoneinfo import available_timezones

    known = {z.lower(): z for z in available_timezones()}
    if name.strip().lower() in known:
        return ZoneInfo(known[name.strip().lower()])
    close = [known[z] for z in get_close_matches(name.strip().lower(), known, n=3, cutoff=0.6)]
    hint = f"; did you mean {' or '.join(close)}?" if close else " (an IANA name such as America/Chicago, or UTC)"
    raise ValueError(f"unknown timezone {name!r}{hint}")


def org_zone(config: Config) -> ZoneInfo:
    return ZoneInfo(config.org.timezone)


def person_zone(config: Config, email: str | None) -> ZoneInfo:
    """A directory person's own timezone, else the org's (requesters need not be listed)."""
    person = config.person_by_email(email) if email else None
    return ZoneInfo(person.timezone if person else config.org.timezone)


def as_time(value: datetime | str | None) -> datetime | None:
    """A stored time (ISO 8601 text, or already a datetime) as an aware datetime."""
    if value is None or value == "":
        return None
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at if at.tzinfo is not None else at.replace(tzinfo=ZoneInfo("UTC"))


def when(value: datetime | str | None, zone: tzinfo, now: datetime | None = None) -> str:
    """``Mon 23 Nov 09:00 CST``; the year too when it is not ``now``'s (or with no ``now``)."""
    at = as_time(value)
    if at is None:
        return "-"
    local = at.astimezone(zone)
    year = "" if now is not None and now.astimezone(zone).year == local.year else f" {local.year}"
    return f"{short_day(local)}{year} {local:%H:%M} {local.tzname()}"


def theirs(value: datetime | str | None, shown_in: tzinfo, person: tzinfo) -> str:
    """`` (their 10:00 EST)`` when the person's clock reads otherwise than the one shown, else ""."""
    at = as_time(value)
    if at is None:
        return ""
    here, there = at.astimezone(shown_in), at.astimezone(person)
    if here.utcoffset() == there.utcoffset() and here.tzname() == there.tzname():
        return ""
    day = f"{there:%a} " if there.date() != here.date() else ""
    return f" (their {day}{there:%H:%M} {there.tzname()})"


def day(value: date | None, now: datetime | None = None, zone: tzinfo | None = None) -> str:
    """A due date: ``Fri 27 Nov``, with the year when it is not ``now``'s."""
    if value is None:
        return "-"
    year = "" if now is not None and now.astimezone(zone).year == value.year else f" {value.year}"
    return f"{short_day(value)}{year}"


def short_day(value: date) -> str:
    """``Fri 4 Dec``: as the emails write a day (no leading zero), so both read alike."""
    return f"{value:%a} {value.day} {value:%b}"


def ago(value: datetime | str | None, now: datetime) -> str:
    """``just now``, ``5 min ago``, ``2 h ago``, ``3 days ago``; ``in 2 h`` for a later time."""
    at = as_time(value)
    if at is None:
        return ""
    delta = now - at
    later = delta < timedelta(0)
    seconds = abs(delta.total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        amount = f"{int(seconds // 60)} min"
    elif seconds < 2 * 86400:
        amount = f"{int(seconds // 3600)} h"
    else:
        amount = f"{int(seconds // 86400)} days"
    return f"in {amount}" if later else f"{amount} ago"


def is_overdue(config: Config, handoff: Handoff, now: datetime) -> bool:
    """Open and past its due date in the owner's own calendar (the requester's while it has
    no owner): what the emails' ``overdue`` badge says."""
    if not handoff.is_open or handoff.due is None:
        return False
    today = now.astimezone(person_zone(config, handoff.owner or handoff.requester)).date()
    return handoff.due < today
