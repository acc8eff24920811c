from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.calendar import BusinessCalendar, BusinessHours, Weekday

JST_CAL = BusinessCalendar()
moments = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive by contract
    max_value=datetime(2035, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 11, 23), "祝日（勤労感謝の日）"),
        (date(2026, 5, 6), "祝日（憲法記念日 振替休日）"),  # 5/3 falls on a Sunday
        (date(2026, 9, 22), "祝日（国民の休日）"),  # between 敬老の日 and 秋分の日
        (date(2026, 12, 29), "年末年始"),
        (date(2027, 1, 3), "年末年始"),
        (date(2026, 11, 21), "土曜日"),
        (date(2026, 11, 22), "日曜日"),
        (date(2026, 11, 24), None),
        (date(2026, 12, 28), None),
    ],
)
def test_closed_days(day: date, reason: str | None) -> None:
    assert JST_CAL.closed_reason(day) == reason


def test_business_hours_edges() -> None:
    tz = JST_CAL.tz
    assert not JST_CAL.is_open_at(datetime(2026, 11, 24, 8, 29, tzinfo=tz))
    assert JST_CAL.is_open_at(datetime(2026, 11, 24, 8, 30, tzinfo=tz))
    assert JST_CAL.is_open_at(datetime(2026, 11, 24, 17, 14, 59, tzinfo=tz))
    assert not JST_CAL.is_open_at(datetime(2026, 11, 24, 17, 15, tzinfo=tz))
    # 23:30 UTC on the 23rd is 08:30 on Tuesday the 24th in Tokyo: zones are respected.
    assert JST_CAL.is_open_at(datetime(2026, 11, 23, 23, 30, tzinfo=UTC))


def test_next_open_slot_skips_the_year_end() -> None:
    slot = JST_CAL.next_open_slot(datetime(2026, 12, 28, 18, 0, tzinfo=JST_CAL.tz))
    assert slot == datetime(2027, 1, 4, 8, 30, tzinfo=JST_CAL.tz)


def test_previous_open_day_is_the_manuals_zenkaichobi() -> None:
    assert JST_CAL.previous_open_day(date(2026, 11, 23)) == date(2026, 11, 20)
    assert JST_CAL.previous_open_day(date(2026, 11, 24)) == date(2026, 11, 24)


def test_custom_hours_for_a_museum() -> None:
    museum = BusinessCalendar(
        BusinessHours(days=(Weekday.SAT, Weekday.SUN), start=time(9), end=time(17))
    )
    assert museum.is_open_at(datetime(2026, 11, 21, 9, 0, tzinfo=museum.tz))
    assert museum.closed_reason(date(2026, 11, 24)) == "火曜日"


def test_invalid_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="must be before"):
        BusinessHours(start=time(18), end=time(9))
    with pytest.raises(ValueError, match="unknown time zone"):
        BusinessHours(timezone="Asia/Nowhere")


@pytest.mark.parametrize("closed", ["12-29", "1-3", "01-03", "02-29", "2-1"])
def test_closed_dates_month_day_in_a_leap_year_are_accepted(closed: str) -> None:
    assert BusinessHours(closed_dates=(closed,)).closed_dates == (closed,)


@pytest.mark.parametrize(
    "closed", ["02-30", "13-01", "00-10", "12-32", "1229", "12-29 ", "12/29", ""]
)
def test_closed_dates_that_are_not_month_day_are_refused(closed: str) -> None:
    with pytest.raises(ValueError, match=f"closed date '{closed}' is not MM-DD"):
        BusinessHours(closed_dates=("12-29", closed))


@given(moments)
def test_next_open_slot_is_open_and_never_earlier(moment: datetime) -> None:
    slot = JST_CAL.next_open_slot(moment)
    assert slot >= moment
    assert JST_CAL.is_open_at(slot)
    assert slot.tzinfo is not None
    assert slot - moment < timedelta(days=10)


@given(moments)
def test_nothing_open_between_moment_and_slot(moment: datetime) -> None:
    slot = JST_CAL.next_open_slot(moment)
    if slot > moment:
        # Every open day's opening between the two would have been an earlier slot.
        day = JST_CAL.local(moment).date()
        while day < slot.date():
            if JST_CAL.is_open_day(day):
                opening = datetime.combine(day, JST_CAL.hours.start, tzinfo=JST_CAL.tz)
                assert opening <= moment
            day += timedelta(days=1)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
def test_previous_open_day_is_open_and_closest(day: date) -> None:
    prev = JST_CAL.previous_open_day(day)
    assert prev <= day
    assert JST_CAL.is_open_day(prev)
    d = prev + timedelta(days=1)
    while d <= day:
        assert not JST_CAL.is_open_day(d)
        d += timedelta(days=1)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        JST_CAL.is_open_at(datetime(2026, 11, 24, 10, 0))  # noqa: DTZ001
