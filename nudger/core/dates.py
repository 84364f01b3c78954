"""Due-date phrases in notes and replies ("due friday", "by 12/4", "EOW", "in 3 days").

Pure and fast: plain ``re`` with bounded patterns (no nested quantifiers), tried anchored at
a few candidate positions; no dateparser (slow to import, and it reads "next tuesday" on a
Monday as tomorrow). Prefer no date to a wrong date.

Rules chosen where DESIGN.md is silent (also in docs/dates-and-commands.md):

- Where a phrase counts. In a free-text note (``find_due``) dates, weekdays, "today",
  "tomorrow", "next week" and times count only right after a trigger: ``due`` (``due on``,
  ``due by``, ``due date:``, ``is due``), ``by``, ``deadline`` (``deadline:``, ``deadline
  is``), ``no later than``/``NLT``, ``need it``/``needed this``. Only the compact relative
  forms stand alone: ``EOD``, ``COB``, ``EOW``, ``EOM``, ``end of day/week/month`` (without
  "the": "at the end of the day" is an idiom), ``in``/``within N [business] days/weeks``.
  A triggered phrase wins over a stand-alone one; among equals, the first in the text.
- Weekdays: full names and abbreviations (``mon``, ``tue``/``tues``, ``wed``/``weds``,
  ``thu``/``thur``/``thurs``, ``fri``); ``sat``/``sun`` only after ``due``/``deadline``
  ("signed by Sun Li"). A weekday (also "this"/"coming" weekday) is the next such day after
  today, so "due Monday" said on a Monday is a week later; "next <weekday>" is that day in
  next week (weeks run Monday to Sunday). Exception: "EOD Friday" / "Friday EOD" said on a
  Friday is today. "<weekday> next week" is the same as "next <weekday>".
- "today", "tonight", "EOD", "COB", "end of (the business) day", or a time alone ("by 3pm",
  "by noon") → today. "EOD tomorrow", "COB Friday" → that day. A time next to a date is
  ignored (dates only).
- End of week / month: the last business day of this week (of this month) that is not
  before today, else that of the next week (month). "this week" = end of week. "end of
  next week/month" likewise for the next one.
- "next week": "by next week" → the first business day of next week (it must be there when
  next week starts); "due next week" and other triggers → the last business day of next week.
- "in N days" / "within N days" → N calendar days; "in N business/working days" → N
  business days; "in N weeks" → 7·N days. N is a number or a word up to twelve, "a"/"an"
  (1) and "a couple of" (2).
- Explicit dates: ISO ``2026-12-04`` always; ``12/4``, ``12-4``, ``12/4/26``, ``12/4/2026``
  (``4/12`` with date_order "DMY", where ``4.12.2026`` also works: the dotted form needs a
  four-digit year, so versions like 1.2.3 never match); ``Dec 4``, ``Dec. 4th``, ``December 4,
  2026``, ``4 Dec``, ``4th of December``; ``the 4th`` (an ordinal suffix is required). A date
  without a year is the next one on or after today (Feb 29 waits for a leap year); a date
  with a year is kept as written. Two-digit years are 20xx. Numeric dates followed by
  "of" ("3/4 of the order") or "%" are fractions, not dates. Dates on weekends or holidays
  are kept as written.
- ``parse_date`` reads a whole phrase (after a command word): the date, optionally after
  ``by``/``due``/``on``/``until``, optionally followed by a time or words such as "EOD",
  "morning", "please", "latest". ``parse_date_prefix`` reads a date at the start of longer
  text and returns the rest.
- Snooze (``snooze_until``): ``3``, ``3d``, ``3 days``, ``3 business days`` → 3 business days;
  ``1w``, ``1 week``, ``2 weeks`` → 7 days each; an optional leading "for". From the later of
  the current due date and today. At most 260 business days or 52 weeks; 0 is refused.
  Only the first line of the argument counts, so ``Command.args`` with a note works.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from nudger.core.business_time import BusinessCalendar

__all__ = ["find_due", "parse_date", "parse_date_prefix", "snooze_span", "snooze_until"]

_I = re.IGNORECASE

_WEEKDAYS = {
    "monday": 0, "mon": 0,
    "tuesday": 1, "tues": 1, "tue": 1,
    "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
_RISKY_ABBREVIATIONS = {"sat", "sun"}  # ordinary words and names after "by"

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3,
    "april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10,
    "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip


def _alternation(words: dict[str, int] | set[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_WD = rf"(?P<wd>{_alternation(_WEEKDAYS)})\b\.?"
_MON = rf"(?P<mon>{_alternation(_MONTHS)})\b\.?"
_DAYNUM = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\b"
_YEAR = r"(?:,?\s{0,3}(?P<y>(?:19|20)\d\d)\b)?"
_NUM = rf"(?P<n>\d{{1,3}}|{_alternation(_NUMBER_WORDS)}|(?:a\s+)?couple(?:\s+of)?)"
_EOD = (
    r"(?:eod|cob|eob|close\s+of\s+(?:business|play)"
    r"|(?:(?:at\s+)?the\s+)?end\s+of\s+(?:the\s+)?(?:business\s+|work\s*|working\s+)?day"
    r"|(?:(?:at\s+)?the\s+)?end\s+of\s+business(?!\s+(?:week|month)))\b"
)
_TIME = (
    r"(?:(?:at\s+|around\s+)?(?:\d{1,2}(?::[0-5]\d)?\s?(?:am|pm|a\.m\.|p\.m\.)"
    r"|[01]?\d:[0-5]\d|2[0-3]:[0-5]\d|noon|midday|midnight)(?![\w:]))"
)


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _I)


_P_ISO = _compile(r"(?P<y>\d{4})([-/])(?P<m>\d{1,2})\2(?P<d>\d{1,2})(?![\w/-]|\.\d)")
_P_NUMERIC = _compile(
    r"(?!24[/-]7\b)(?P<a>\d{1,2})(?P<sep>[/-])(?P<b>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?"
    r"(?![\w/%-]|\.\d|\s{1,3}of\b)"
)
_P_DOTTED = _compile(r"(?P<a>\d{1,2})\.(?P<b>\d{1,2})\.(?P<y>\d{4})(?![\w.]|\.\d)")
_P_MONTH_DAY = _compile(rf"{_MON}\s{{0,3}}(?:the\s+)?{_DAYNUM}(?![/:.]\d){_YEAR}")
_P_DAY_MONTH = _compile(rf"(?:the\s+)?{_DAYNUM}\s{{0,3}}(?:of\s+)?{_MON}{_YEAR}")
# "by the 4th" but not "by the 4th quarter": only before an end, punctuation or filler.
_P_NTH = _compile(
    r"(?:the\s+)?(?P<d>[0-3]?\d)(?:st|nd|rd|th)\b(?=\s*(?:[\n.,;:!?)\u2013\u2014-]|\Z|\d"
    r"|(?:at|by|eod|cob|please|pls|and|or|so|if|latest|end|morning|afternoon|evening|noon)\b))"
)
_P_RELDAY = _compile(
    r"(?P<rel>(?:the\s+)?day\s+after\s+(?:tomorrow|tmrw)|today|tonight|tomorrow|tomorow"
    r"|tommorow|tommorrow|tmrw|tmr)\b"
)
_P_EOD = _compile(_EOD)
_P_EOW = _compile(
    r"(?:eow|(?:(?:at\s+)?the\s+)?end\s+of\s+(?:the\s+|this\s+)?(?P<next>next\s+)?"
    r"(?:business\s+|work\s*|working\s+)?week)\b"
)
_P_EOM = _compile(
    r"(?:eom|(?:(?:at\s+)?the\s+)?end\s+of\s+(?:the\s+|this\s+)?(?P<next>next\s+)?month)\b"
)
_P_WEEK = _compile(r"(?P<which>this|next|the\s+coming|coming)\s+week\b")
_P_WEEKDAY = _compile(rf"(?:(?P<mod>this|next|coming|the\s+coming|upcoming|on)\s+)?{_WD}")
_P_IN = _compile(
    rf"(?:in|within)\s+{_NUM}\s+(?P<biz>business\s+|working\s+|work\s+)?"
    r"(?P<unit>days?|weeks?|wks?)\b"
)
_P_TIME = _compile(_TIME)

# After a date: tails that change its meaning.
_P_NEXT_WEEK_TAIL = _compile(r"\s{1,3}(?:of\s+)?next\s+week\b")
_P_EOD_TAIL = _compile(rf",?\s{{0,3}}(?:by\s+|at\s+)?{_EOD}")
_P_GAP = _compile(r",?\s{0,3}(?:on\s+|by\s+|at\s+|-\s+)?")

_P_TRIGGER = _compile(
    r"\b(?P<trig>(?:is\s+)?due(?:\s+date)?|deadline|(?:no|not)\s+later\s+than|nlt|by"
    r"|need(?:ed|s)?\s+(?:it|this|that|these|those|them))\b"
    r"(?:\s{0,3}[:=\u2013\u2014-]\s{0,3}|\s{1,3})(?:(?:is|on|by|of|for)\s{1,3})?"
)
_P_STANDALONE = _compile(
    rf"\b(?:(?:{_alternation(_WEEKDAYS)}|today|tomorrow|tmrw)\.?\s{{1,3}}(?:by\s+|at\s+)?"
    r"(?:eod|cob|eob)\b"
    r"|(?:eod|cob|eob|eow|eom)\b|end\s+of\s+(?:business\s+)?(?:day|week|month)\b"
    r"|end\s+of\s+next\s+(?:week|month)\b|(?:in|within)\s+(?:\d{1,3}|[a-z]{1,6}|a\s+couple)\b)"
)
_P_PREFIX = _compile(
    r"\s*(?:(?:is\s+)?due(?:\s+date)?|deadline|by|on|until|till|til|for)\b"
    r"(?:\s{0,3}[:=\u2013\u2014-]\s{0,3}|\s{1,3})(?:(?:on|by)\s{1,3})?"
)
_FILLER_WORDS = frozenset(
    "at around by the latest eod cob eob end of day morning afternoon evening night noon "
    "midday midnight please pls plz thanks thx asap ok okay".split()
)
_P_THE_BEFORE = _compile(r"\bthe\s*\Z")
_P_ANY_TIME = _compile(rf"(?<![\w:]){_TIME}")
_P_WORD = _compile(r"[a-z]+|\d{1,2}(?::\d\d)?(?:am|pm)?|[^\sa-z\d]+")


# -- date arithmetic -----------------------------------------------------------------------


def _valid(y: int, m: int, d: int) -> date | None:
    if 1 <= m <= 12 and 1 <= d <= _stdlib_calendar.monthrange(y, m)[1] and 1900 <= y <= 2199:
        return date(y, m, d)
    return None


def _next_month_day(today: date, m: int, d: int) -> date | None:
    """The next (month, day) on or after today; Feb 29 waits for a leap year."""
    for y in range(today.year, today.year + 9):
        candidate = _valid(y, m, d)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def _next_day_of_month(today: date, d: int) -> date | None:
    """The next date with day-of-month ``d`` on or after today ("by the 4th")."""
    y, m = today.year, today.month
    for _ in range(13):
        candidate = _valid(y, m, d)
        if candidate is not None and candidate >= today:
            return candidate
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return None


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _next_weekday(today: date, wd: int) -> date:
    """The next such weekday strictly after today."""
    return today + timedelta(days=(wd - today.weekday() - 1) % 7 + 1)


def _weekday_next_week(today: date, wd: int) -> date:
    return _monday(today) + timedelta(days=7 + wd)


def _last_business_in(cal: BusinessCalendar, first: date, last: date) -> date | None:
    d = last
    while d >= first:
        if cal.is_business_day(d):
            return d
        d -= timedelta(days=1)
    return None


def _end_of_week(today: date, cal: BusinessCalendar, skip: int = 0) -> date:
    """Last business day of the current week (+skip weeks) not before today."""
    monday = _monday(today) + timedelta(weeks=skip)
    for _ in range(60):
        found = _last_business_in(cal, max(monday, today), monday + timedelta(days=6))
        if found is not None:
            return found
        monday += timedelta(weeks=1)
    return monday  # a calendar without business days: anything but a crash


def _end_of_month(today: date, cal: BusinessCalendar, skip: int = 0) -> date:
    y, m = today.year, today.month
    for i in range(24):
        if i >= skip:
            last = date(y, m, _stdlib_calendar.monthrange(y, m)[1])
            found = _last_business_in(cal, max(date(y, m, 1), today), last)
            if found is not None:
                return found
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return date(y, m, 1)


def _first_business_of_next_week(today: date, cal: BusinessCalendar) -> date:
    return cal.first_business_day_after(_monday(today) + timedelta(days=6))


def _number(word: str) -> int | None:
    word = " ".join(word.lower().split())
    if word.isdigit():
        return int(word)
    if "couple" in word:
        return 2
    return _NUMBER_WORDS.get(word)


def _year(text: str) -> int:
    y = int(text)
    return 2000 + y if len(text) == 2 else y


# -- the date expression at one position -------------------------------------------------


class _Reader:
    """Reads one date expression anchored at a position of ``text``."""

    def __init__(self, text: str, today: date, cal: BusinessCalendar, date_order: str):
        self.text = text
        self.today = today
        self.cal = cal
        self.dmy = date_order.upper() == "DMY"

    def explicit(self, pos: int) -> tuple[date | None, int] | None:
        """Calendar dates: ISO, numeric, month names, "the 4th"."""
        t, today = self.text, self.today
        if m := _P_ISO.match(t, pos):
            return _valid(int(m["y"]), int(m["m"]), int(m["d"])), m.end()
        if self.dmy and (m := _P_DOTTED.match(t, pos)):
            return _valid(int(m["y"]), int(m["b"]), int(m["a"])), m.end()
        if m := _P_NUMERIC.match(t, pos):
            a, b = int(m["a"]), int(m["b"])
            month, day = (b, a) if self.dmy else (a, b)
            if m["y"]:
                return _valid(_year(m["y"]), month, day), m.end()
            return _next_month_day(today, month, day), m.end()
        for pattern in (_P_MONTH_DAY, _P_DAY_MONTH):
            if m := pattern.match(t, pos):
                month, day = _MONTHS[m["mon"].lower()], int(m["d"])
                if m["y"]:
                    return _valid(int(m["y"]), month, day), m.end()
                return _next_month_day(today, month, day), m.end()
        if m := _P_NTH.match(t, pos):
            return _next_day_of_month(today, int(m["d"])), m.end()
        return None

    def read(self, pos: int, trigger: str = "", nested: bool = False) -> tuple[date, int] | None:
        """(date, end) for the expression at ``pos``, or None. ``trigger`` tunes ambiguous words.

        ``nested`` reads the day after "EOD"/"5pm" and allows neither again (no recursion).
        """
        t, today, cal = self.text, self.today, self.cal
        found = self.explicit(pos)
        if found is not None:
            d, end = found
            return (d, end) if d is not None else None

        if m := _P_RELDAY.match(t, pos):
            rel = m["rel"].lower()
            if rel.endswith(("tomorrow", "tmrw")) and "after" in rel:
                return today + timedelta(days=2), m.end()
            if rel in ("today", "tonight"):
                return today, m.end()
            return today + timedelta(days=1), m.end()

        if not nested and (m := _P_EOD.match(t, pos)):
            # "EOD tomorrow", "COB Friday", "end of day on 12/4": the day that follows wins.
            gap = _P_GAP.match(t, m.end())
            after = self.read(gap.end(), trigger, nested=True) if gap else None
            if after is not None and gap is not None and gap.end() > m.end():
                following = _P_WEEKDAY.match(t, gap.end())
                if following and not following["mod"] and _WEEKDAYS[
                    following["wd"].lower()
                ] == today.weekday():
                    return today, after[1]
                return after
            return today, m.end()

        if m := _P_EOW.match(t, pos):
            return _end_of_week(today, cal, 1 if m["next"] else 0), m.end()
        if m := _P_EOM.match(t, pos):
            return _end_of_month(today, cal, 1 if m["next"] else 0), m.end()
        if m := _P_WEEK.match(t, pos):
            if m["which"].lower() == "this":
                return _end_of_week(today, cal), m.end()
            if trigger.lower() == "by":
                return _first_business_of_next_week(today, cal), m.end()
            return _end_of_week(today, cal, 1), m.end()

        if m := _P_WEEKDAY.match(t, pos):
            word = m["wd"].lower()
            if word in _RISKY_ABBREVIATIONS and trigger.lower() in ("by", "need"):
                return None
            wd, end = _WEEKDAYS[word], m.end()
            # "Friday, Dec 4" / "Fri the 4th": the explicit date is the more precise.
            gap = _P_GAP.match(t, end)
            if gap is not None and (exp := self.explicit(gap.end())) is not None:
                return (exp[0], exp[1]) if exp[0] is not None else None
            mod = (m["mod"] or "").lower()
            if tail := _P_NEXT_WEEK_TAIL.match(t, end):
                return _weekday_next_week(today, wd), tail.end()
            if mod == "next":
                return _weekday_next_week(today, wd), end
            if wd == today.weekday() and (tail := _P_EOD_TAIL.match(t, end)):
                return today, tail.end()
            return _next_weekday(today, wd), end

        if m := _P_IN.match(t, pos):
            n = _number(m["n"])
            if n is None:
                return None
            unit = m["unit"].lower()
            if unit.startswith("w"):
                return today + timedelta(weeks=n), m.end()
            if m["biz"]:
                return cal.add_business_days(today, n), m.end()
            return today + timedelta(days=n), m.end()

        if not nested and (m := _P_TIME.match(t, pos)):
            # "by 5pm Friday", "by noon on 12/4"; a time alone is today.
            gap = _P_GAP.match(t, m.end())
            if gap is not None and gap.end() > m.end():
                after = self.read(gap.end(), trigger, nested=True)
                if after is not None:
                    return after
            return today, m.end()
        return None


# -- public API ---------------------------------------------------------------------------


def _trigger_word(m: re.Match[str]) -> str:
    word = m["trig"].lower().split()[-1] if m["trig"] else ""
    if word.startswith("need") or word in ("it", "this", "that", "these", "those", "them"):
        return "need"
    return word


def find_due(
    note: str, today: date, calendar: BusinessCalendar, date_order: str = "MDY"
) -> date | None:
    """The due date a free-text note asks for, or None; see the module docstring for the rules."""
    if not note:
        return None
    reader = _Reader(note, today, calendar, date_order)
    for m in _P_TRIGGER.finditer(note):
        found = reader.read(m.end(), _trigger_word(m))
        if found is not None:
            return found[0]
    for m in _P_STANDALONE.finditer(note):
        if _P_THE_BEFORE.search(note, max(0, m.start() - 8), m.start()):
            continue  # "at the end of the day": an idiom, not a deadline
        found = reader.read(m.start())
        if found is not None:
            return found[0]
    return None


def parse_date_prefix(
    phrase: str, today: date, calendar: BusinessCalendar, date_order: str = "MDY"
) -> tuple[date, str] | None:
    """A date at the start of ``phrase`` (after an optional by/due/on) and the text after it."""
    pos = 0
    trigger = ""
    lead = re.match(r"\s*", phrase)
    pos = lead.end() if lead else 0
    if m := _P_PREFIX.match(phrase, pos):
        trigger = phrase[pos : m.end()].split()[0].lower().rstrip(":=-")
        pos = m.end()
    found = _Reader(phrase, today, calendar, date_order).read(pos, trigger)
    if found is None:
        return None
    d, end = found
    if end < len(phrase) and (phrase[end].isalnum() or phrase[end] in "/@"):
        return None  # "12/4x", "fridays": the date is part of a longer word
    return d, phrase[end:].lstrip(" \t,;:.!-\u2013\u2014").strip()


def parse_date(
    phrase: str, today: date, calendar: BusinessCalendar, date_order: str = "MDY"
) -> date | None:
    """A bare date phrase, as given after a command word ("friday", "12/4", "in 3 days")."""
    found = parse_date_prefix(phrase, today, calendar, date_order)
    if found is None:
        return None
    d, rest = found
    for word in _P_WORD.findall(_P_ANY_TIME.sub(" ", rest).lower()):
        if word in _FILLER_WORDS or not word[0].isalnum():
            continue
        return None
    return d


_P_SNOOZE = _compile(
    rf"\s*(?:for\s+)?(?P<n>\d{{1,3}}|{_alternation(_NUMBER_WORDS)}|(?:a\s+)?couple(?:\s+of)?)"
    r"(?:\s*(?P<unit>d|bd|days?|business\s+days?|working\s+days?|w|wk|wks|weeks?))?\s*(?:[.!]+\s*)?"
)
_MAX_SNOOZE_DAYS = 260
_MAX_SNOOZE_WEEKS = 52


def snooze_span(arg: str) -> tuple[int, Literal["days", "weeks"]] | None:
    """("3d" → (3, "days"), "2 weeks" → (2, "weeks")); None when it is not a snooze length."""
    # Only the first line: a command's args may carry a note ("3d\ncustomer is away").
    m = _P_SNOOZE.fullmatch((arg or "").split("\n", 1)[0])
    if not m:
        return None
    n = _number(m["n"])
    if not n:
        return None
    unit = (m["unit"] or "d").lower()
    if unit.startswith("w"):
        return (n, "weeks") if n <= _MAX_SNOOZE_WEEKS else None
    return (n, "days") if n <= _MAX_SNOOZE_DAYS else None


def snooze_until(
    arg: str, current_due: date | None, today: date, calendar: BusinessCalendar
) -> date | None:
    """The new due date for ``snooze <arg>``: business days or weeks after the later of due/today."""
    span = snooze_span(arg)
    if span is None:
        return None
    n, unit = span
    base = max(current_due or today, today)
    if unit == "weeks":
        return base + timedelta(weeks=n)
    return calendar.add_business_days(base, n)
