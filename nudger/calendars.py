"""Each person's business calendar: the org's days, hours and holidays in their timezone."""

from __future__ import annotations

from functools import lru_cache

from nudger.business_time import BusinessCalendar
from nudger.config import Config


@lru_cache(maxsize=64)
def _calendar(timezone: str, days: tuple[str, ...], hours: tuple[str, str], holidays: str | None) -> BusinessCalendar:
    return BusinessCalendar.build(timezone, days, hours, holidays)


def org_calendar(config: Config) -> BusinessCalendar:
    org = config.org
    return _calendar(org.timezone, tuple(org.business_days), tuple(org.business_hours), org.holidays)


def calendar_for(config: Config, email: str | None) -> BusinessCalendar:
    """A directory person's own timezone, else the org's (requesters need not be listed)."""
    person = config.person_by_email(email) if email else None
    org = config.org
    tz = person.timezone if person else org.timezone
    return _calendar(tz, tuple(org.business_days), tuple(org.business_hours), org.holidays)
