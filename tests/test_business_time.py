"""Business days and hours: weekends, holidays, timezones, nights and DST."""

import subprocess
import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from nudger.core.business_time import BusinessCalendar, check_holidays

NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")
UTC = ZoneInfo("UTC")


@pytest.fixture
def cal() -> BusinessCalendar:
    return BusinessCalendar.build("America/New_York")


@pytest.fixture
def us() -> BusinessCalendar:
    return BusinessCalendar.build("America/New_York", holidays="US")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


# -- building -------------------------------------------------------------------------


def test_build_defaults():
    c = BusinessCalendar.build("America/Chicago")
    assert c.tz == CHI
    assert c.business_days == frozenset({0, 1, 2, 3, 4})
    assert (c.start, c.end) == (time(8), time(18))
    assert c.holidays is None


def test_build_custom_days_and_hours():
    c = BusinessCalendar.build("Asia/Dubai", ["Sun", "mon", "tue", "wed", "thursday"], ["09:30", "17:00"])
    assert c.business_days == frozenset({6, 0, 1, 2, 3})
    assert (c.start, c.end) == (time(9, 30), time(17))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"timezone": "UTC", "business_days": ["funday"]}, "unknown day"),
        ({"timezone": "UTC", "business_days": []}, "at least one day"),
        ({"timezone": "UTC", "business_hours": ("18:00", "08:00")}, "start before"),
        ({"timezone": "UTC", "business_hours": ("8am", "6pm")}, "HH:MM"),
    ],
)
def test_build_errors_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.build(**kwargs)


def test_unknown_holiday_country_is_an_error_on_use():
    c = BusinessCalendar.build("UTC", holidays="XX")
    with pytest.raises(ValueError, match="XX"):
        c.is_holiday(date(2026, 1, 1))
    with pytest.raises(ValueError):
        check_holidays("XX")
    check_holidays("US")
    check_holidays("US-CA")


def test_holidays_are_not_imported_until_needed():
    code = (
        "import sys; from datetime import date; from nudger.core.business_time import BusinessCalendar;"
        "c = BusinessCalendar.build('UTC'); c.add_business_days(date(2026, 1, 1), 30);"
        "print('holidays' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- days -----------------------------------------------------------------------------


def test_weekends_are_not_business_days(cal):
    assert cal.is_business_day(date(2026, 11, 27))  # Friday
    assert not cal.is_business_day(date(2026, 11, 28))  # Saturday
    assert not cal.is_business_day(date(2026, 11, 29))  # Sunday
    assert cal.is_business_day(date(2026, 11, 30))  # Monday


def test_thanksgiving_is_a_us_holiday(cal, us):
    thanksgiving = date(2026, 11, 26)
    assert us.is_holiday(thanksgiving)
    assert us.holiday_name(thanksgiving) == "Thanksgiving Day"
    assert not us.is_business_day(thanksgiving)
    assert cal.is_business_day(thanksgiving)  # no holidays configured
    assert not cal.is_holiday(thanksgiving)
    assert cal.holiday_name(thanksgiving) is None


def test_observed_holiday_counts(us):
    # 2026-07-04 is a Saturday; the federal holiday is observed on Friday 07-03.
    assert us.is_holiday(date(2026, 7, 3))
    assert not us.is_business_day(date(2026, 7, 3))


def test_subdivision_holidays():
    ca = BusinessCalendar.build("America/Los_Angeles", holidays="US-CA")
    assert ca.is_holiday(date(2026, 3, 31))  # Cesar Chavez Day, California only
    assert not BusinessCalendar.build("UTC", holidays="US").is_holiday(date(2026, 3, 31))


@pytest.mark.parametrize(
    "start, n, expected",
    [
        (date(2026, 11, 23), 0, date(2026, 11, 23)),
        (date(2026, 11, 23), 1, date(2026, 11, 24)),
        (date(2026, 11, 23), 3, date(2026, 11, 26)),
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 → Monday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday + 1 → Monday
        (date(2026, 11, 23), 5, date(2026, 11, 30)),
        (date(2026, 11, 23), 10, date(2026, 12, 7)),
        (date(2026, 11, 30), -1, date(2026, 11, 27)),
    ],
)
def test_add_business_days(cal, start, n, expected):
    assert cal.add_business_days(start, n) == expected


def test_add_business_days_skips_thanksgiving(us):
    assert us.add_business_days(date(2026, 11, 23), 3) == date(2026, 11, 27)
    assert us.add_business_days(date(2026, 11, 25), 1) == date(2026, 11, 27)
    # Christmas (Fri) and New Year's Day (Fri) 2026.
    assert us.add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 28)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (date(2026, 11, 23), date(2026, 11, 23), 0),
        (date(2026, 11, 23), date(2026, 11, 20), 0),
        (date(2026, 11, 23), date(2026, 11, 24), 1),
        (date(2026, 11, 27), date(2026, 11, 30), 1),  # Fri → Mon: one business day late
        (date(2026, 11, 20), date(2026, 11, 30), 6),
        (date(2026, 11, 28), date(2026, 11, 29), 0),  # a weekend
    ],
)
def test_business_days_between(cal, a, b, expected):
    assert cal.business_days_between(a, b) == expected


def test_business_days_between_and_add_are_inverse(us):
    start = date(2026, 11, 20)
    for n in range(0, 30):
        assert us.business_days_between(start, us.add_business_days(start, n)) == n


def test_last_and_first_business_day(us):
    assert us.last_business_day_on_or_before(date(2026, 11, 29)) == date(2026, 11, 27)
    assert us.last_business_day_on_or_before(date(2026, 11, 26)) == date(2026, 11, 25)
    assert us.last_business_day_on_or_before(date(2026, 11, 25)) == date(2026, 11, 25)
    assert us.first_business_day_after(date(2026, 11, 25)) == date(2026, 11, 27)
    assert us.first_business_day_after(date(2026, 11, 27)) == date(2026, 11, 30)


def test_weekend_only_calendar_still_terminates():
    c = BusinessCalendar.build("UTC", business_days=["sat", "sun"])
    assert c.add_business_days(date(2026, 11, 23), 1) == date(2026, 11, 28)
    assert c.first_business_day_after(date(2026, 11, 29)) == date(2026, 12, 5)


# -- instants -------------------------------------------------------------------------


def test_naive_datetimes_are_refused(cal):
    with pytest.raises(ValueError, match="naive"):
        cal.is_business_time(datetime(2026, 11, 23, 9))


def test_business_time_window_is_half_open(cal):
    assert not cal.is_business_time(ny(2026, 11, 23, 7, 59))
    assert cal.is_business_time(ny(2026, 11, 23, 8, 0))
    assert cal.is_business_time(ny(2026, 11, 23, 17, 59))
    assert not cal.is_business_time(ny(2026, 11, 23, 18, 0))
    assert not cal.is_business_time(ny(2026, 11, 28, 12, 0))  # Saturday


def test_next_business_start(cal):
    # within hours: itself (converted to the calendar's zone)
    at = ny(2026, 11, 23, 10, 15)
    assert cal.next_business_start(at) == at
    assert cal.next_business_start(at).tzinfo == NY
    # 22:00 → 08:00 the next business day
    assert cal.next_business_start(ny(2026, 11, 23, 22)) == ny(2026, 11, 24, 8)
    # early morning → 08:00 the same day
    assert cal.next_business_start(ny(2026, 11, 24, 6, 30)) == ny(2026, 11, 24, 8)
    # Friday evening → Monday 08:00
    assert cal.next_business_start(ny(2026, 11, 27, 18, 0)) == ny(2026, 11, 30, 8)
    # Saturday noon → Monday 08:00
    assert cal.next_business_start(ny(2026, 11, 28, 12)) == ny(2026, 11, 30, 8)


def test_next_business_start_skips_holiday(us):
    assert us.next_business_start(ny(2026, 11, 25, 19)) == ny(2026, 11, 27, 8)


def test_timezones_new_york_vs_chicago():
    ny_cal = BusinessCalendar.build("America/New_York")
    chi_cal = BusinessCalendar.build("America/Chicago")
    at = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # 08:30 New York, 07:30 Chicago
    assert ny_cal.is_business_time(at)
    assert not chi_cal.is_business_time(at)
    assert chi_cal.next_business_start(at) == datetime(2026, 11, 23, 8, tzinfo=CHI)
    assert chi_cal.local(at).hour == 7
    # 17:30 Chicago is 18:30 New York: Chicago still works, New York has gone home.
    evening = datetime(2026, 11, 23, 17, 30, tzinfo=CHI)
    assert chi_cal.is_business_time(evening)
    assert not ny_cal.is_business_time(evening)
    assert ny_cal.next_business_start(evening) == ny(2026, 11, 24, 8)


def test_local_date_decides_the_business_day():
    tokyo = BusinessCalendar.build("Asia/Tokyo")
    # Sunday 23:30 UTC is Monday 08:30 in Tokyo.
    assert tokyo.is_business_time(datetime(2026, 11, 29, 23, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    "start, hours, expected",
    [
        (ny(2026, 11, 23, 9), 4, ny(2026, 11, 23, 13)),
        (ny(2026, 11, 23, 16), 4, ny(2026, 11, 24, 10)),  # across the night
        (ny(2026, 11, 23, 8), 10, ny(2026, 11, 23, 18)),  # exactly a day: the close
        (ny(2026, 11, 23, 22), 1, ny(2026, 11, 24, 9)),  # from outside hours
        (ny(2026, 11, 27, 16), 4, ny(2026, 11, 30, 10)),  # across a weekend
        (ny(2026, 11, 28, 10), 0, ny(2026, 11, 30, 8)),  # zero: next business moment
        (ny(2026, 11, 23, 9), 0.5, ny(2026, 11, 23, 9, 30)),
        (ny(2026, 11, 23, 8), 50, ny(2026, 11, 27, 18)),  # a whole week
    ],
)
def test_add_business_hours(cal, start, hours, expected):
    assert cal.add_business_hours(start, hours) == expected


def test_add_business_hours_skips_holiday(us):
    assert us.add_business_hours(ny(2026, 11, 25, 17), 2) == ny(2026, 11, 27, 9)


def test_add_business_hours_rejects_negative(cal):
    with pytest.raises(ValueError):
        cal.add_business_hours(ny(2026, 11, 23, 9), -1)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (ny(2026, 11, 23, 9), ny(2026, 11, 23, 13), 4),
        (ny(2026, 11, 23, 16), ny(2026, 11, 24, 10), 4),
        (ny(2026, 11, 27, 16), ny(2026, 11, 30, 10), 4),
        (ny(2026, 11, 23, 19), ny(2026, 11, 24, 7), 0),
        (ny(2026, 11, 23, 13), ny(2026, 11, 23, 9), 0),
        (ny(2026, 11, 23, 0), ny(2026, 11, 30, 0), 50),
    ],
)
def test_business_hours_between(cal, a, b, expected):
    assert cal.business_hours_between(a, b) == pytest.approx(expected)


def test_business_hours_between_mixed_zones(cal):
    a = datetime(2026, 11, 23, 8, tzinfo=CHI)  # 09:00 New York
    b = datetime(2026, 11, 23, 15, tzinfo=UTC)  # 10:00 New York
    assert cal.business_hours_between(a, b) == pytest.approx(1)


def test_hours_add_and_between_agree(us):
    start = ny(2026, 11, 20, 15, 45)
    for hours in (0.25, 1, 2.5, 9.75, 10, 23, 41.5, 100):
        end = us.add_business_hours(start, hours)
        assert us.business_hours_between(start, end) == pytest.approx(hours)


# -- DST --------------------------------------------------------------------------------


def test_at_local_keeps_wall_time_across_dst(cal):
    before = cal.at_local(date(2026, 3, 6), time(8))
    after = cal.at_local(date(2026, 3, 9), time(8))
    assert before.utcoffset() == timedelta(hours=-5)
    assert after.utcoffset() == timedelta(hours=-4)
    assert (before.hour, after.hour) == (8, 8)


def test_at_local_moves_a_skipped_time_forward(cal):
    skipped = cal.at_local(date(2026, 3, 8), time(2, 30))  # does not exist in New York
    assert (skipped.hour, skipped.minute) == (3, 30)
    assert skipped.utcoffset() == timedelta(hours=-4)


def test_ambiguous_time_is_the_first_occurrence(cal):
    first = cal.at_local(date(2026, 11, 1), time(1, 30))
    assert first.utcoffset() == timedelta(hours=-4)


def test_business_hours_across_spring_forward(cal):
    # Friday 17:00 EST → Monday 09:00 EDT is two business hours though the clock moved.
    assert cal.add_business_hours(ny(2026, 3, 6, 17), 2) == ny(2026, 3, 9, 9)
    assert cal.business_hours_between(ny(2026, 3, 6, 17), ny(2026, 3, 9, 9)) == pytest.approx(2)
    assert cal.next_business_start(ny(2026, 3, 7, 12)).utcoffset() == timedelta(hours=-4)


def test_night_shift_in_a_dst_day_is_real_hours():
    # Business hours that contain the 02:00 change: that day is an hour short.
    c = BusinessCalendar(tz=NY, business_days=frozenset(range(7)), start=time(0), end=time(6))
    day = date(2026, 3, 8)
    assert c.business_hours_between(c.at_local(day, time(0)), c.at_local(day, time(6))) == 5
