"""Due-date phrases: DESIGN.md's table, the phrases that must not fire, years, DST, speed."""

import time as clock
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nudger.core.business_time import BusinessCalendar
from nudger.core.dates import find_due, parse_date, parse_date_prefix, snooze_span, snooze_until

MONDAY = date(2026, 11, 23)  # the day DESIGN.md's table is written for


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return BusinessCalendar.build("America/Chicago")


@pytest.fixture(scope="module")
def us() -> BusinessCalendar:
    return BusinessCalendar.build("America/Chicago", holidays="US")


# -- DESIGN.md's table, row by row ---------------------------------------------------------

DESIGN_TABLE = [
    ("due: Friday", "MDY", date(2026, 11, 27)),
    ("by fri", "MDY", date(2026, 11, 27)),
    ("due this Friday", "MDY", date(2026, 11, 27)),
    ("due Monday", "MDY", date(2026, 11, 30)),
    ("by next Tuesday", "MDY", date(2026, 12, 1)),
    ("by EOD tomorrow", "MDY", date(2026, 11, 24)),
    ("due tomorrow", "MDY", date(2026, 11, 24)),
    ("due 12/4", "MDY", date(2026, 12, 4)),
    ("due: Dec 4", "MDY", date(2026, 12, 4)),
    ("by 4 December", "MDY", date(2026, 12, 4)),
    ("due 2026-12-04", "MDY", date(2026, 12, 4)),
    ("due 4/12", "DMY", date(2026, 12, 4)),
    ("due 2026-12-04", "DMY", date(2026, 12, 4)),
    ("due: Dec 4", "DMY", date(2026, 12, 4)),
    ("in 3 days", "MDY", date(2026, 11, 26)),
    ("in 2 business days", "MDY", date(2026, 11, 25)),
    ("by end of week", "MDY", date(2026, 11, 27)),
    ("EOW", "MDY", date(2026, 11, 27)),
    ("end of month", "MDY", date(2026, 11, 30)),
]


@pytest.mark.parametrize("note, order, expected", DESIGN_TABLE)
def test_design_table(cal, note, order, expected):
    assert find_due(note, MONDAY, cal, order) == expected


@pytest.mark.parametrize("note, order, expected", DESIGN_TABLE)
def test_design_table_inside_a_real_note(cal, note, order, expected):
    text = f"@dana can you send the W-9 to Acme?\n{note} !rush\nthanks, Sam"
    assert find_due(text, MONDAY, cal, order) == expected


# -- more phrases -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "note, expected",
    [
        ("due by Friday", date(2026, 11, 27)),
        ("deadline: friday", date(2026, 11, 27)),
        ("Deadline is Friday", date(2026, 11, 27)),
        ("needed by 12/4", date(2026, 12, 4)),
        ("by Dec 4th", date(2026, 12, 4)),
        ("by the 4th", date(2026, 12, 4)),
        ("by the 4th, please", date(2026, 12, 4)),
        ("due the 30th", date(2026, 11, 30)),
        ("due the 23rd", date(2026, 11, 23)),  # today counts: "on or after today"
        ("due the 22nd", date(2026, 12, 22)),
        ("due today", date(2026, 11, 23)),
        ("by tonight", date(2026, 11, 23)),
        ("by EOD", date(2026, 11, 23)),
        ("COB", date(2026, 11, 23)),
        ("please send EOD", date(2026, 11, 23)),
        ("by end of business", date(2026, 11, 23)),
        ("by close of business Friday", date(2026, 11, 27)),
        ("by the end of the day", date(2026, 11, 23)),
        ("in 1 week", date(2026, 11, 30)),
        ("in two weeks", date(2026, 12, 7)),
        ("in a week", date(2026, 11, 30)),
        ("within 3 days", date(2026, 11, 26)),
        ("in a couple of days", date(2026, 11, 25)),
        ("in 5 working days", date(2026, 11, 30)),
        ("by next week", date(2026, 11, 30)),  # must be there when next week starts
        ("due next week", date(2026, 12, 4)),  # some time next week: its last business day
        ("by this week", date(2026, 11, 27)),
        ("by the end of next week", date(2026, 12, 4)),
        ("end of next month", date(2026, 12, 31)),
        ("EOM", date(2026, 11, 30)),
        ("due Dec. 4", date(2026, 12, 4)),
        ("due December 4, 2026", date(2026, 12, 4)),
        ("due 4 Dec 2026", date(2026, 12, 4)),
        ("due the 4th of December", date(2026, 12, 4)),
        ("due December the 4th", date(2026, 12, 4)),
        ("due 12/4/26", date(2026, 12, 4)),
        ("due 12-4", date(2026, 12, 4)),
        ("due 12/4/2027", date(2027, 12, 4)),
        ("due 2026/12/04", date(2026, 12, 4)),
        ("due 11/20", date(2027, 11, 20)),  # already past this year: next year's
        ("due 11/20/2026", date(2026, 11, 20)),  # with a year: kept as written
        ("by Tues", date(2026, 11, 24)),
        ("by Wed.", date(2026, 11, 25)),
        ("by Thurs", date(2026, 11, 26)),
        ("by Thursday", date(2026, 11, 26)),
        ("due Sat", date(2026, 11, 28)),  # weekend kept as written
        ("due sunday", date(2026, 11, 29)),
        ("by next Monday", date(2026, 11, 30)),
        ("by next Friday", date(2026, 12, 4)),
        ("by Friday next week", date(2026, 12, 4)),
        ("by the coming Wednesday", date(2026, 11, 25)),
        ("by Friday, Dec 4", date(2026, 12, 4)),
        ("by Fri 12/11", date(2026, 12, 11)),
        ("Friday EOD", date(2026, 11, 27)),
        ("EOD Monday", date(2026, 11, 23)),  # said on a Monday: today, not a week later
        ("by Monday EOD", date(2026, 11, 23)),
        ("by Monday", date(2026, 11, 30)),
        ("tomorrow EOD", date(2026, 11, 24)),
        ("by 5pm Friday", date(2026, 11, 27)),
        ("by noon tomorrow", date(2026, 11, 24)),
        ("by 3pm", date(2026, 11, 23)),
        ("by Friday at 3pm", date(2026, 11, 27)),
        ("need this Friday", date(2026, 11, 27)),
        ("need it by tomorrow", date(2026, 11, 24)),
        ("no later than Friday", date(2026, 11, 27)),
        ("NLT 12/4", date(2026, 12, 4)),
        ("is due on Dec 4", date(2026, 12, 4)),
        ("due date: 12/4", date(2026, 12, 4)),
        ("DUE FRIDAY", date(2026, 11, 27)),
        ("due\nFriday", date(2026, 11, 27)),
        ("by the day after tomorrow", date(2026, 11, 25)),
        ("due tmrw", date(2026, 11, 24)),
    ],
)
def test_more_phrases(cal, note, expected):
    assert find_due(note, MONDAY, cal) == expected


def test_dmy_numeric_forms(cal):
    assert find_due("due 4.12.2026", MONDAY, cal, "DMY") == date(2026, 12, 4)
    assert find_due("due 4/12/26", MONDAY, cal, "DMY") == date(2026, 12, 4)
    assert find_due("due 13/12", MONDAY, cal, "DMY") == date(2026, 12, 13)
    assert find_due("due 13/12", MONDAY, cal, "MDY") is None  # no month 13
    assert find_due("due 4.12.2026", MONDAY, cal, "MDY") is None


# -- must not fire -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "note",
    [
        "by the way, the customer called",
        "can you reach them by phone",
        "due to the delay we need a new W-9",
        "send it by email",
        "in the meantime, hold the order",
        "sent by Sam",
        "signed by Sun Li",
        "approved by Sat Nam",
        "call me at 555-123-4567",
        "call me by phone at 312-555-0100",
        "reach me at 1-800-555-1234",
        "the price is $12/4 per unit",
        "3/4 of the order arrived",
        "due 3/4 of the order",
        "fixed by 1.2.3",
        "bumped by v2.1",
        "upgraded to 10.4.2 by 2.5 percent",
        "increased by 10%",
        "at the end of the day, they want a discount",
        "we need it by the 4th quarter",
        "supported by 24/7 staff",
        "pushed back by 3 days",
        "the customer called Friday",
        "meeting on 12/4",
        "the invoice from 2026-12-04",
        "due 2/30",
        "due 2026-13-01",
        "by March",
        "by may",
        "by now",
        "by then",
        "by 5",
        "we need Friday's numbers",
        "",
        "   ",
        "thanks!",
    ],
)
def test_must_not_fire(cal, note):
    assert find_due(note, MONDAY, cal) is None


def test_triggered_phrase_beats_an_earlier_standalone_one(cal):
    note = "last time they paid in 3 days. due Friday please"
    assert find_due(note, MONDAY, cal) == date(2026, 11, 27)


def test_first_triggered_phrase_wins(cal):
    assert find_due("due Friday, or by 12/4 at the latest", MONDAY, cal) == date(2026, 11, 27)


def test_an_impossible_date_does_not_hide_a_later_one(cal):
    assert find_due("due 2/30 — sorry, I mean due 3/2", MONDAY, cal) == date(2027, 3, 2)


# -- years ----------------------------------------------------------------------------------


def test_year_rollover(cal):
    december = date(2026, 12, 10)
    assert find_due("due 1/5", december, cal) == date(2027, 1, 5)
    assert find_due("due Jan 5", december, cal) == date(2027, 1, 5)
    assert find_due("by the 5th", december, cal) == date(2027, 1, 5)
    assert find_due("due 12/10", december, cal) == date(2026, 12, 10)
    assert find_due("end of month", date(2026, 12, 31), cal) == date(2026, 12, 31)
    assert find_due("in 3 business days", date(2026, 12, 30), cal) == date(2027, 1, 4)


def test_end_of_week_on_a_weekend_is_next_week(cal):
    assert find_due("EOW", date(2026, 11, 28), cal) == date(2026, 12, 4)
    assert find_due("EOW", date(2026, 11, 27), cal) == date(2026, 11, 27)


def test_end_of_month_after_its_last_business_day(cal):
    # 2026-10-31 is a Saturday: October's last business day (Friday the 30th) has passed.
    assert find_due("end of month", date(2026, 10, 31), cal) == date(2026, 11, 30)
    assert find_due("end of month", date(2026, 10, 30), cal) == date(2026, 10, 30)


def test_end_of_week_respects_holidays(us):
    # Christmas 2026 is a Friday.
    assert find_due("EOW", date(2026, 12, 21), us) == date(2026, 12, 24)


def test_feb_29_waits_for_a_leap_year(cal):
    assert find_due("due 2/29", MONDAY, cal) == date(2028, 2, 29)
    assert find_due("by the 31st", date(2026, 11, 5), cal) == date(2026, 12, 31)


def test_holiday_due_date_is_kept_as_written(us):
    assert find_due("due 11/26", MONDAY, us) == date(2026, 11, 26)
    assert find_due("by Thursday", MONDAY, us) == date(2026, 11, 26)
    assert find_due("in 3 business days", MONDAY, us) == date(2026, 11, 27)


# -- DST ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "today, note, expected",
    [
        (date(2026, 3, 6), "due Monday", date(2026, 3, 9)),  # across spring forward (Mar 8)
        (date(2026, 3, 7), "in 2 days", date(2026, 3, 9)),
        (date(2026, 10, 30), "due Monday", date(2026, 11, 2)),  # across fall back (Nov 1)
        (date(2026, 10, 30), "in 1 business day", date(2026, 11, 2)),
        (date(2026, 3, 8), "due today", date(2026, 3, 8)),
    ],
)
def test_dst_transitions_do_not_shift_dates(cal, today, note, expected):
    assert find_due(note, today, cal) == expected


def test_due_date_uses_the_senders_local_day():
    # A note sent Monday 23:30 in Chicago is Tuesday in UTC; the caller passes the local day.
    chicago = BusinessCalendar.build("America/Chicago")
    sent = datetime(2026, 11, 24, 5, 30, tzinfo=BusinessCalendar.build("UTC").tz)
    today = chicago.local(sent).date()
    assert today == MONDAY
    assert find_due("due tomorrow", today, chicago) == date(2026, 11, 24)
    assert chicago.at_local(date(2026, 3, 8), time(8)).utcoffset() == timedelta(hours=-5)


# -- parse_date -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phrase, expected",
    [
        ("friday", date(2026, 11, 27)),
        ("Friday.", date(2026, 11, 27)),
        ("next tuesday", date(2026, 12, 1)),
        ("12/4", date(2026, 12, 4)),
        ("tomorrow", date(2026, 11, 24)),
        ("in 3 days", date(2026, 11, 26)),
        ("eow", date(2026, 11, 27)),
        ("2026-12-04", date(2026, 12, 4)),
        ("Dec 4", date(2026, 12, 4)),
        ("by friday", date(2026, 11, 27)),
        ("due friday", date(2026, 11, 27)),
        ("on Friday", date(2026, 11, 27)),
        ("until 12/4", date(2026, 12, 4)),
        ("friday 5 pm", date(2026, 11, 27)),
        ("friday at 3pm", date(2026, 11, 27)),
        ("friday EOD", date(2026, 11, 27)),
        ("friday morning", date(2026, 11, 27)),
        ("friday please", date(2026, 11, 27)),
        ("friday at the latest", date(2026, 11, 27)),
        ("sat", date(2026, 11, 28)),
        ("end of month", date(2026, 11, 30)),
        ("  in 2 business days  ", date(2026, 11, 25)),
    ],
)
def test_parse_date(cal, phrase, expected):
    assert parse_date(phrase, MONDAY, cal) == expected


@pytest.mark.parametrize(
    "phrase",
    ["", "soon", "asap", "it", "friday and then some", "waiting on legal", "3d", "12/4x", "fridays"],
)
def test_parse_date_none(cal, phrase):
    assert parse_date(phrase, MONDAY, cal) is None


def test_parse_date_prefix_returns_the_rest(cal):
    assert parse_date_prefix("friday - customer moved the meeting", MONDAY, cal) == (
        date(2026, 11, 27),
        "customer moved the meeting",
    )
    assert parse_date_prefix("the customer moved it", MONDAY, cal) is None


def test_parse_date_dmy(cal):
    assert parse_date("4/12", MONDAY, cal, "DMY") == date(2026, 12, 4)
    assert parse_date("4/12", MONDAY, cal) == date(2027, 4, 12)


# -- snooze ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arg, expected",
    [
        ("3d", date(2026, 11, 26)),
        ("3 days", date(2026, 11, 26)),
        ("3", date(2026, 11, 26)),
        ("3 business days", date(2026, 11, 26)),
        ("for 2 days", date(2026, 11, 25)),
        ("5d", date(2026, 11, 30)),
        ("1w", date(2026, 11, 30)),
        ("1 week", date(2026, 11, 30)),
        ("2 weeks", date(2026, 12, 7)),
        ("a week", date(2026, 11, 30)),
        ("2W", date(2026, 12, 7)),
    ],
)
def test_snooze_from_today(cal, arg, expected):
    assert snooze_until(arg, None, MONDAY, cal) == expected


def test_snooze_counts_from_the_later_of_due_and_today(cal):
    assert snooze_until("3d", date(2026, 12, 4), MONDAY, cal) == date(2026, 12, 9)
    assert snooze_until("1w", date(2026, 12, 4), MONDAY, cal) == date(2026, 12, 11)
    # an overdue handoff snoozes from today, not from its old due date
    assert snooze_until("3d", date(2026, 11, 2), MONDAY, cal) == date(2026, 11, 26)


def test_snooze_reads_only_the_first_line(cal):
    assert snooze_until("3d\ncustomer is away this week", None, MONDAY, cal) == date(2026, 11, 26)
    assert snooze_until("\n3d", None, MONDAY, cal) is None


def test_snooze_skips_holidays(us):
    assert snooze_until("3d", None, MONDAY, us) == date(2026, 11, 27)


@pytest.mark.parametrize("arg", ["", "0", "0d", "x", "friday", "3 months", "999", "53 weeks", "-1"])
def test_snooze_refuses(cal, arg):
    assert snooze_until(arg, None, MONDAY, cal) is None
    assert snooze_span(arg) is None


# -- robustness -----------------------------------------------------------------------------

TOKENS = [
    "due", "by", "deadline", "Friday", "fri", "next", "this", "EOD", "COB", "EOW", "end of",
    "week", "month", "in", "3", "days", "business", "12/4", "4/12", "2026-12-04", "Dec",
    "4th", "the", "of", ":", ",", "\n", "tomorrow", "today", "5pm", "noon", "at", "on",
    "need it", "within", "a couple", "24/7", "$", "%", "1.2.3", "no later than", "sat",
]  # fmt: skip


@settings(derandomize=True, deadline=None, max_examples=200)
@given(
    st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)), max_size=40).map(" ".join),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2150, 12, 31)),
    st.sampled_from(["MDY", "DMY"]),
)
def test_find_due_never_raises_and_is_quick(text, today, order):
    cal = BusinessCalendar.build("UTC")
    started = clock.perf_counter()
    result = find_due(text, today, cal, order)
    parse_date(text, today, cal, order)
    assert clock.perf_counter() - started < 10.0  # a catastrophe guard, not a speed target
    assert result is None or isinstance(result, date)


@pytest.mark.parametrize(
    "chunk",
    ["by ", "due ", "EOD ", "in ", "1/", "the ", "is ", "due: ", "by 5pm ", "Friday ", "end of "],
)
def test_adversarial_input_is_linear(cal, chunk):
    text = chunk * 20_000
    started = clock.perf_counter()
    find_due(text, MONDAY, cal)
    parse_date(text, MONDAY, cal)
    assert clock.perf_counter() - started < 20.0  # a catastrophe guard, not a speed target


def test_typical_note_is_fast(cal):
    note = "Hi Dana,\n\n@dana can you send the W-9 to Acme? They asked twice.\n" * 20
    started = clock.perf_counter()
    for _ in range(200):
        find_due(note, MONDAY, cal)
    assert (clock.perf_counter() - started) / 200 < 0.05  # a catastrophe guard, not a speed target
