"""The publishing policy: backoff, the retry cap, missed posts, send-time rules, time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.calendar import BusinessCalendar
from workflows.publishing import (
    CancelReason,
    HoldReason,
    RetryKind,
    RetryPolicy,
    SendFacts,
    SendKind,
    SendRules,
    after_retryable_error,
    backoff,
    decide_send,
    is_due,
    is_missed,
)

JST = ZoneInfo("Asia/Tokyo")
POLICY = RetryPolicy()
RULES = SendRules()
CALENDAR = BusinessCalendar()
unit = st.floats(min_value=0.0, max_value=1.0, exclude_max=True, allow_nan=False)
moments = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis attaches the zone
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, JST, ZoneInfo("America/New_York")]),
)


def facts(due_at: datetime, **changes: object) -> SendFacts:
    values: dict[str, object] = {
        "approved_hash": "a" * 64,
        "current_hash": "a" * 64,
        "approved": True,
        "due_at": due_at,
        "emergency": False,
        "confirmed": False,
        "paused": False,
    }
    values.update(changes)
    return SendFacts(**values)  # type: ignore[arg-type]


# ---------------------------------------------------------------- backoff


@given(attempt=st.integers(min_value=1, max_value=10_000), draw=unit)
def test_backoff_stays_between_the_floor_and_the_capped_bound(attempt: int, draw: float) -> None:
    delay = backoff(attempt, POLICY, lambda: draw)
    bound = min(POLICY.cap, POLICY.base * 2 ** min(attempt - 1, 20))
    assert POLICY.floor <= delay <= max(POLICY.floor, bound)
    assert delay <= POLICY.cap


@given(attempt=st.integers(min_value=1, max_value=30))
def test_the_bound_doubles_until_the_cap(attempt: int) -> None:
    almost_one = 1.0 - 1e-12
    top = backoff(attempt, POLICY, lambda: almost_one)
    expected = min(POLICY.cap, POLICY.base * 2 ** (attempt - 1))
    assert abs((top - expected).total_seconds()) < 1e-3


def test_full_jitter_uses_the_whole_range() -> None:
    assert backoff(3, POLICY, lambda: 0.0) == POLICY.floor
    assert backoff(3, POLICY, lambda: 0.5) == timedelta(seconds=20)


@given(attempts=st.integers(min_value=1, max_value=20), draw=unit, now=moments)
def test_retries_end_at_the_cap(attempts: int, draw: float, now: datetime) -> None:
    decision = after_retryable_error(
        attempts=attempts, now=now, retry_at=None, policy=POLICY, rng=lambda: draw
    )
    if attempts >= POLICY.max_attempts:
        assert decision.kind is RetryKind.GIVE_UP
    else:
        assert decision.kind is RetryKind.RETRY
        assert decision.at is not None
        assert now + POLICY.floor <= decision.at <= now + POLICY.cap


@given(now=moments, wait=st.timedeltas(min_value=timedelta(hours=-1), max_value=timedelta(days=1)))
def test_a_429_waits_for_the_reset_time_and_never_less_than_the_floor(
    now: datetime, wait: timedelta
) -> None:
    reset = now + wait
    decision = after_retryable_error(
        attempts=1, now=now, retry_at=reset, policy=POLICY, rng=lambda: 0.0
    )
    assert decision.at == max(reset, now + POLICY.floor)


def test_a_policy_must_make_sense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="floor"):
        RetryPolicy(base=timedelta(hours=1), cap=timedelta(minutes=1))


# ---------------------------------------------------------------- missed posts


@given(due=moments, late=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
def test_missed_means_more_than_the_limit_late(due: datetime, late: timedelta) -> None:
    assert is_missed(due, due + late, RULES) == (late > RULES.max_lateness)


@given(due=moments, offset=st.integers(min_value=-5_000_000, max_value=5_000_000))
def test_around_the_limit_to_the_microsecond(due: datetime, offset: int) -> None:
    now = due + RULES.max_lateness + timedelta(microseconds=offset)
    decision = decide_send(facts(due), now=now, is_open_at=lambda _: True, rules=RULES)
    if offset > 0:
        assert (decision.kind, decision.hold) == (SendKind.HOLD, HoldReason.MISSED)
    else:
        assert decision.kind is SendKind.SEND


@given(
    due=moments,
    late=st.timedeltas(min_value=timedelta(hours=6, seconds=1), max_value=timedelta(days=30)),
)
def test_a_person_who_confirmed_gets_the_late_post_sent(due: datetime, late: timedelta) -> None:
    decision = decide_send(
        facts(due, confirmed=True), now=due + late, is_open_at=lambda _: False, rules=RULES
    )
    assert decision.kind is SendKind.SEND


def test_the_limit_is_configurable() -> None:
    due = datetime(2026, 11, 24, 10, 0, tzinfo=JST)
    strict = SendRules(max_lateness=timedelta(minutes=30))
    assert is_missed(due, due + timedelta(minutes=31), strict)
    assert not is_missed(due, due + timedelta(minutes=31), RULES)


# ---------------------------------------------------------------- time zones


@given(
    day=st.dates(min_value=datetime(2024, 1, 1).date(), max_value=datetime(2030, 12, 31).date()),  # noqa: DTZ001
    hour=st.integers(min_value=0, max_value=23),
    before=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(hours=12)),
)
def test_a_tokyo_schedule_is_never_early_in_any_zone(
    day: object, hour: int, before: timedelta
) -> None:
    due = datetime.combine(day, datetime.min.time(), tzinfo=JST).replace(hour=hour)  # type: ignore[arg-type]
    for zone in (UTC, JST, ZoneInfo("Europe/London"), ZoneInfo("America/Los_Angeles")):
        assert not is_due(due, (due - before).astimezone(zone))
        assert is_due(due, due.astimezone(zone))


def test_nine_in_tokyo_is_midnight_utc() -> None:
    due = datetime(2026, 12, 1, 9, 0, tzinfo=JST)
    assert due == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert not is_due(due, datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC))
    assert is_due(due, datetime(2026, 12, 1, 0, 0, tzinfo=UTC))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        is_due(datetime(2026, 12, 1, 9, 0), datetime.now(UTC))  # noqa: DTZ001


# ---------------------------------------------------------------- send-time rules


def test_content_changed_or_unapproved_is_cancelled_first() -> None:
    due = datetime(2026, 11, 24, 10, 0, tzinfo=JST)
    changed = decide_send(
        facts(due, current_hash="b" * 64, paused=True),
        now=due,
        is_open_at=CALENDAR.is_open_at,
        rules=RULES,
    )
    assert (changed.kind, changed.cancel) == (SendKind.CANCEL, CancelReason.REVISED)
    unapproved = decide_send(
        facts(due, approved=False), now=due, is_open_at=CALENDAR.is_open_at, rules=RULES
    )
    assert (unapproved.kind, unapproved.cancel) == (SendKind.CANCEL, CancelReason.NOT_APPROVED)


def test_a_pause_holds_all_but_emergencies() -> None:
    due = datetime(2026, 11, 24, 10, 0, tzinfo=JST)
    held = decide_send(
        facts(due, paused=True), now=due, is_open_at=CALENDAR.is_open_at, rules=RULES
    )
    assert held.hold is HoldReason.PAUSED
    urgent = decide_send(
        facts(due, paused=True, emergency=True),
        now=due,
        is_open_at=CALENDAR.is_open_at,
        rules=RULES,
    )
    assert urgent.kind is SendKind.SEND


@given(
    due=moments,
    late=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=6)),
    emergency=st.booleans(),
)
def test_business_hours_at_send_time(due: datetime, late: timedelta, emergency: bool) -> None:
    now = due + late
    decision = decide_send(
        facts(due, emergency=emergency), now=now, is_open_at=CALENDAR.is_open_at, rules=RULES
    )
    crossing = CALENDAR.is_open_at(due) and not CALENDAR.is_open_at(now)
    if crossing and not emergency:
        assert (decision.kind, decision.hold) == (SendKind.HOLD, HoldReason.HOURS)
    else:
        # Inside hours, a deliberate out-of-hours schedule, or an emergency: it goes.
        assert decision.kind is SendKind.SEND
