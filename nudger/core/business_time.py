"""Business days and hours, holidays and timezones.

Pure: every function takes the moment it reasons about; nothing here reads the clock.

Rules chosen where DESIGN.md is silent (also in docs/dates-and-commands.md):

- Business hours are a half-open window ``[start, end)`` within one local day; ``start``
  must be before ``end`` (no overnight shifts). 18:00 sharp is already outside.
- ``holidays`` is a country code of the ``holidays`` package (``"US"``), optionally with a
  subdivision (``"US-CA"``, ``"CA-ON"``). Observed days (``"Independence Day (observed)"``)
  count as holidays. The package is imported on first use only (it costs 0.18 s) and each
  (country, year) is looked up once per process, and once at all where the wiring keeps
  tables on a shelf (``keep_holidays_on``: a file beside the database, state/holiday_file.py).
  An unknown code raises ``ValueError`` on first use; call :func:`check_holidays` to
  validate it eagerly (config, ``doctor``).
- ``add_business_hours`` returns the exact instant the hours run out, which may be the end
  of business hours (18:00); a caller that wants a send time passes it through
  ``next_business_start``. Zero hours means "the next business moment".
- Naive datetimes are refused (``ValueError``): a clock without a zone is a bug here.
- Elapsed time is measured in real (UTC) seconds, so a business day that contains a DST
  change inside business hours is an hour shorter or longer, as the wall clock says.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DEFAULT_DAYS = ("mon", "tue", "wed", "thu", "fri")

# Scanning farther than this without meeting a business day means the calendar has none.
_MAX_SCAN_DAYS = 3700
_MEMO_SIZE = 200_000  # remembered answers per calendar


def check_holidays(code: str, year: int = 2026) -> None:
    """Raise ``ValueError`` unless ``code`` names a country (and subdivision) we can look up."""
    _holiday_table(code, year)


class HolidayShelf(Protocol):
    """Where holiday tables are kept between runs (the wiring chooses: a file beside the
    database). ``get`` answers None for a table it does not hold."""

    def get(self, code: str, year: int) -> dict[date, str] | None: ...

    def put(self, code: str, year: int, table: dict[date, str]) -> None: ...

    def __hash__(self) -> int: ...  # tables are remembered per shelf


_shelf: list[HolidayShelf] = []  # at most one


def keep_holidays_on(shelf: HolidayShelf | None) -> None:
    """Tables the holidays package works out are kept on ``shelf`` and read back from it by
    later processes: importing the package and building one country's year cost 0.18 s of
    CPU, close to half of a cron run that reads one message. None: kept nowhere."""
    _shelf[:] = [shelf] if shelf is not None else []


def _holiday_table(code: str, year: int) -> dict[date, str]:
    """The holidays of one country (or subdivision) and year, as the current shelf has them."""
    return _shelved_table(_shelf[0] if _shelf else None, code, year)


@lru_cache(maxsize=64)
def _shelved_table(shelf: HolidayShelf | None, code: str, year: int) -> dict[date, str]:
    """From the shelf, else from the package (imported only then), then shelved. Remembered
    per shelf: a process that opens two workspaces answers each from its own file."""
    if shelf is not None and (kept := shelf.get(code, year)) is not None:
        return kept
    table = _holidays_from_package(code, year)
    if shelf is not None:
        shelf.put(code, year, table)
    return table


@lru_cache(maxsize=64)
def _holidays_from_package(code: str, year: int) -> dict[date, str]:
    import holidays as holidays_pkg  # 0.18 s: only when a table is not on the shelf

    country, _, subdiv = code.strip().replace("/", "-").partition("-")
    try:
        table = holidays_pkg.country_holidays(
            country.upper(), subdiv=subdiv.upper() or None, years=year
        )
    except NotImplementedError:
        raise ValueError(_unknown_holidays(country.upper(), subdiv.upper(), code)) from None
    return dict(table.items())


def _unknown_holidays(country: str, subdiv: str, code: str) -> str:
    """What is wrong with a code the holidays package refused, with close codes it knows."""
    import holidays as holidays_pkg

    supported: dict[str, list[str]] = holidays_pkg.list_supported_countries()
    if country in supported and subdiv:
        close = difflib.get_close_matches(subdiv, supported[country], n=3, cutoff=0.5)
        hint = (f"did you mean {_quoted(f'{country}-{c}' for c in close)}?" if close else
                f"its subdivisions: {', '.join(supported[country][:40])}"
                + (" …" if len(supported[country]) > 40 else ""))
        return f'"{code}" is not a subdivision of {country} the holidays package knows ({hint})'
    countries = _close_countries(country)
    hint = (f"did you mean {_quoted(f'{c} ({name})' for c, name in countries)}?" if countries else
            "an ISO 3166 code such as US, GB or DE")
    return f'"{code}" is not a country code the holidays package knows ({hint})'


def _close_countries(code: str) -> list[tuple[str, str]]:
    """(code, name) of countries whose three-letter code is one letter from ``code`` ("DEX" →
    DEU, Germany). A two-letter code has too many such neighbours to guess from."""
    if len(code) != 3:
        return []
    try:
        from holidays.registry import COUNTRIES
    except ImportError:  # an internal module of the holidays package; no hint without it
        return []
    names = {alpha3: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name)
             for class_name, _alpha2, alpha3, *_ in COUNTRIES.values()}
    return [(c, names[c]) for c in sorted(names) if sum(a != b for a, b in zip(c, code, strict=True)) == 1][:3]


def _quoted(items: Iterable[str]) -> str:
    found = [f'"{i}"' if " " not in i else f'"{i.split(" ", 1)[0]}" {i.split(" ", 1)[1]}' for i in items]
    return found[0] if len(found) == 1 else f"{', '.join(found[:-1])} or {found[-1]}"


def _parse_day(name: str) -> int:
    key = name.strip().lower()
    if key in DAY_NAMES:
        return DAY_NAMES.index(key)
    if key in _LONG_DAY_NAMES:
        return _LONG_DAY_NAMES.index(key)
    raise ValueError(f"unknown day {name!r}: use mon, tue, wed, thu, fri, sat or sun")


def _parse_clock(text: str) -> time:
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"bad time {text!r}: use HH:MM, e.g. 08:00") from None


@dataclass(frozen=True)
class BusinessCalendar:
    """When someone works: their timezone, working weekdays, hours and public holidays."""

    tz: ZoneInfo
    business_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    start: time = time(8, 0)
    end: time = time(18, 0)
    holidays: str | None = None
    # Day arithmetic remembered per calendar (a schedule pass asks the same questions about
    # the same few hundred days for 100,000 handoffs); bounded, cleared when full.
    _memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, init=False, repr=False, compare=False,
                                              hash=False)

    def __post_init__(self) -> None:
        if not self.business_days:
            raise ValueError("business_days must name at least one day")
        if not all(isinstance(d, int) and 0 <= d <= 6 for d in self.business_days):
            raise ValueError("business_days are weekday numbers 0 (Monday) to 6 (Sunday)")
        if not self.start < self.end:
            raise ValueError(
                f"business hours must start before they end, got {self.start:%H:%M}-{self.end:%H:%M}"
            )

    @classmethod
    def build(
        cls,
        timezone: str,
        business_days: Iterable[str] = _DEFAULT_DAYS,
        business_hours: tuple[str, str] | list[str] = ("08:00", "18:00"),
        holidays: str | None = None,
    ) -> BusinessCalendar:
        """Build from config values (names and "HH:MM" strings), with errors a person can fix."""
        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {timezone!r}, e.g. America/Chicago") from None
        if len(business_hours) != 2:
            raise ValueError(f"business_hours takes two times, got {list(business_hours)!r}")
        return cls(
            tz=tz,
            business_days=frozenset(_parse_day(d) for d in business_days),
            start=_parse_clock(business_hours[0]),
            end=_parse_clock(business_hours[1]),
            holidays=holidays or None,
        )

    # -- days ---------------------------------------------------------------------------

    def is_holiday(self, d: date) -> bool:
        """True on a public holiday of the configured country (never when none is set)."""
        if not self.holidays:
            return False
        return d in _holiday_table(self.holidays, d.year)

    def holiday_name(self, d: date) -> str | None:
        """The holiday's name, for messages like "Thursday is Thanksgiving Day"."""
        if not self.holidays:
            return None
        return _holiday_table(self.holidays, d.year).get(d)

    def is_business_day(self, d: date) -> bool:
        return d.weekday() in self.business_days and not self.is_holiday(d)

    def _step(self, d: date, direction: int) -> date:
        """The nearest business day strictly before (-1) or after (+1) ``d``."""
        for _ in range(_MAX_SCAN_DAYS):
            d += timedelta(days=direction)
            if self.is_business_day(d):
                return d
        raise ValueError("this calendar has no business days")

    def _remember(self, key: tuple[Any, ...], value: Any) -> Any:
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.clear()
        self._memo[key] = value
        return value

    def add_business_days(self, d: date, n: int) -> date:
        """``n`` business days after ``d`` (``d`` itself not counted); negative goes back."""
        found = self._memo.get(("add", d, n))
        return found if found is not None else self._remember(("add", d, n), self._add_business_days(d, n))

    def _add_business_days(self, d: date, n: int) -> date:
        direction = 1 if n >= 0 else -1
        for _ in range(abs(n)):
            d = self._step(d, direction)
        return d

    def business_days_between(self, a: date, b: date) -> int:
        """Business days in ``(a, b]``: how many business days late ``b`` is for a date ``a``."""
        found = self._memo.get(("between", a, b))
        return found if found is not None else self._remember(("between", a, b), self._business_days_between(a, b))

    def _business_days_between(self, a: date, b: date) -> int:
        count = 0
        d = a
        while d < b:
            d += timedelta(days=1)
            if self.is_business_day(d):
                count += 1
        return count

    def last_business_day_on_or_before(self, d: date) -> date:
        found = self._memo.get(("last", d))
        if found is None:
            found = self._remember(("last", d), d if self.is_business_day(d) else self._step(d, -1))
        return found

    def first_business_day_after(self, d: date) -> date:
        found = self._memo.get(("first", d))
        return found if found is not None else self._remember(("first", d), self._step(d, 1))

    # -- instants -----------------------------------------------------------------------

    def local(self, at: datetime) -> datetime:
        """``at`` in this calendar's timezone; naive datetimes are refused."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"naive datetime {at.isoformat()}: pass an aware datetime")
        return at.astimezone(self.tz)

    def at_local(self, d: date, t: time) -> datetime:
        """The aware instant of local date and wall time; a time skipped by DST moves forward."""
        found = self._memo.get(("at", d, t))
        return found if found is not None else self._remember(("at", d, t), self._at_local(d, t))

    def _at_local(self, d: date, t: time) -> datetime:
        naive_aware = datetime.combine(d, t, tzinfo=self.tz)
        # A round trip through UTC turns a non-existent wall time (02:30 on spring-forward
        # day) into the real instant an hour later; ambiguous times keep fold=0 (the first).
        return naive_aware.astimezone(UTC).astimezone(self.tz)

    def _day_window(self, d: date) -> tuple[datetime, datetime]:
        return self.at_local(d, self.start), self.at_local(d, self.end)

    def is_business_time(self, at: datetime) -> bool:
        here = self.local(at)
        if not self.is_business_day(here.date()):
            return False
        opens, closes = self._day_window(here.date())
        return opens <= here < closes

    def next_business_start(self, at: datetime) -> datetime:
        """``at`` if it is business time, else when business hours next begin (in ``self.tz``)."""
        here = self.local(at)
        d = here.date()
        if self.is_business_day(d):
            opens, closes = self._day_window(d)
            if here < opens:
                return opens
            if here < closes:
                return here
        return self.at_local(self.first_business_day_after(d), self.start)

    def add_business_hours(self, at: datetime, hours: float) -> datetime:
        """The instant when ``hours`` of business time have passed since ``at``."""
        if hours < 0:
            raise ValueError("hours must not be negative")
        remaining = timedelta(hours=hours)
        cur = self.next_business_start(at)
        for _ in range(_MAX_SCAN_DAYS):
            closes = self.at_local(cur.date(), self.end)
            available = closes.astimezone(UTC) - cur.astimezone(UTC)
            if remaining <= available:
                return (cur.astimezone(UTC) + remaining).astimezone(self.tz)
            remaining -= available
            cur = self.at_local(self.first_business_day_after(cur.date()), self.start)
        raise ValueError(f"{hours} business hours is too far ahead")

    def business_hours_between(self, a: datetime, b: datetime) -> float:
        """Business hours elapsed from ``a`` to ``b``; 0 when ``b`` is not after ``a``."""
        a_utc, b_utc = self.local(a).astimezone(UTC), self.local(b).astimezone(UTC)
        if b_utc <= a_utc:
            return 0.0
        total = timedelta()
        d, last = self.local(a).date(), self.local(b).date()
        while d <= last:
            if self.is_business_day(d):
                opens, closes = self._day_window(d)
                lo = max(opens.astimezone(UTC), a_utc)
                hi = min(closes.astimezone(UTC), b_utc)
                if hi > lo:
                    total += hi - lo
            d += timedelta(days=1)
        return total.total_seconds() / 3600
