"""Which week the weekly digest is about, at any moment (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from handlers.plan import digest_week
from workflows.calendar import Weekday

TOKYO = ZoneInfo("Asia/Tokyo")
# Naive bounds are how hypothesis takes them; the moments drawn are aware (UTC).
moments = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001
    max_value=datetime(2040, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
slots = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@given(moments, st.sampled_from(list(Weekday)), slots)
def test_the_digest_is_about_next_week_once_this_weeks_slot_has_passed(
    now: datetime, day: Weekday, at: time
) -> None:
    local = now.astimezone(TOKYO)
    monday = local.date() - timedelta(days=local.weekday())
    slot = datetime.combine(monday + timedelta(days=day.number), at, tzinfo=TOKYO)
    week = digest_week(now, day, at, TOKYO)
    if local < slot:
        assert week is None
    else:
        assert week == monday + timedelta(days=7)
        assert week.weekday() == 0
        assert 1 <= (week - local.date()).days <= 7


def test_monday_nine_in_tokyo() -> None:
    monday_0859 = datetime(2026, 11, 30, 8, 59, tzinfo=TOKYO)
    assert digest_week(monday_0859, Weekday.MON, time(9), TOKYO) is None
    at_nine = monday_0859 + timedelta(minutes=1)
    assert str(digest_week(at_nine, Weekday.MON, time(9), TOKYO)) == "2026-12-07"
    sunday_night = datetime(2026, 12, 6, 23, 59, tzinfo=TOKYO)
    assert str(digest_week(sunday_night, Weekday.MON, time(9), TOKYO)) == "2026-12-07"
