from __future__ import annotations

from datetime import datetime, time

from tests.conftest import JST, CheckFn
from workflows.calendar import BusinessCalendar, BusinessHours, Weekday
from workflows.checks import Checker, DraftToCheck, Severity

TEXT = "みどり市民会館で市民向けの講座を開きます。"


def test_inside_business_hours_is_quiet(check: CheckFn) -> None:
    assert check(TEXT, at=datetime(2026, 11, 24, 8, 30, tzinfo=JST)).findings == ()


def test_after_hours_names_the_next_business_slot(check: CheckFn) -> None:
    result = check(TEXT, at=datetime(2026, 11, 24, 19, 0, tzinfo=JST))
    [finding] = result.findings
    assert finding.rule == "hours.after-hours"
    assert finding.severity is Severity.WARNING
    assert "8:30〜17:15" in finding.message
    assert "11月25日(水) 8:30" in finding.message
    assert finding.suggestion == "2026-11-25T08:30:00+09:00"
    assert result.ok  # a warning for the chief, not a block


def test_holiday_says_which_holiday(check: CheckFn) -> None:
    [finding] = check(TEXT, at=datetime(2026, 11, 23, 10, 0, tzinfo=JST)).findings
    assert finding.rule == "hours.closed-day"
    assert "勤労感謝の日" in finding.message
    assert "11月24日(火) 8:30" in finding.message


def test_year_end_closure(check: CheckFn) -> None:
    [finding] = check(TEXT, at=datetime(2026, 12, 30, 10, 0, tzinfo=JST)).findings
    assert "年末年始" in finding.message
    assert finding.suggestion == "2027-01-04T08:30:00+09:00"


def test_emergency_posts_any_time(check: CheckFn) -> None:
    night = datetime(2026, 11, 22, 2, 0, tzinfo=JST)
    assert check("避難指示を発令しました。", at=night, emergency=True).findings == ()
    assert check("避難指示を発令しました。", at=night).findings


def test_account_hours_replace_the_default() -> None:
    museum = BusinessCalendar(
        BusinessHours(days=(Weekday.SAT, Weekday.SUN), start=time(9), end=time(17))
    )
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=JST)
    assert Checker(calendar=museum).check(DraftToCheck(TEXT, saturday)).findings == ()
    assert Checker().check(DraftToCheck(TEXT, saturday)).findings[0].rule == "hours.closed-day"
