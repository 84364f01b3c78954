"""Each person's business calendar: the org's days, hours and holidays in their timezone."""

from __future__ import annotations

from functools import lru_cache

from nudger.config import Config
from nudger.core.business_time import BusinessCalendar, check_holidays
from nudger.errors import ConfigError


@lru_cache(maxsize=64)
def _calendar(timezone: str, days: tuple[str, ...], hours: tuple[str, str], holidays: str | None) -> BusinessCalendar:
    return BusinessCalendar.build(timezone, days, hours, holidays)


@lru_cache(maxsize=8)
def _checked_holidays(code: str, source: str) -> None:
    """The country code is checked when a calendar is first needed, not at start-up: the
    holidays package costs 0.25 s to import and most cron runs are idle."""
    try:
        check_holidays(code)
    except ValueError as exc:
        raise ConfigError(f"{source}: org.holidays: {exc}", fix=(
            'set [org] holidays to a country code the holidays package knows, such as "US", "GB" or "DE" '
            '(a subdivision after a dash: "US-CA"), or remove the key for no public holidays')) from None


def org_calendar(config: Config) -> BusinessCalendar:
    org = config.org
    if org.holidays:
        _checked_holidays(org.holidays, str(config.source or "config"))
    return _calendar(org.timezone, tuple(org.business_days), tuple(org.business_hours), org.holidays)


def calendar_for(config: Config, email: str | None) -> BusinessCalendar:
    """A directory person's own timezone, else the org's (requesters need not be listed).
    Remembered per config (a schedule pass asks for the same people's calendars again and
    again), for directory people and the org: the memo stays as small as the directory."""
    found = config.derived.get(("calendar", email))
    if found is None:
        key = ("calendar", email if email and config.person_by_email(email) else None)
        found = config.derived.get(key)
        if found is None:
            found = config.derived[key] = _calendar_for(config, key[1])
    return found


def _calendar_for(config: Config, email: str | None) -> BusinessCalendar:
    person = config.person_by_email(email) if email else None
    org = config.org
    if org.holidays:
        _checked_holidays(org.holidays, str(config.source or "config"))
    tz = person.timezone if person else org.timezone
    return _calendar(tz, tuple(org.business_days), tuple(org.business_hours), org.holidays)
