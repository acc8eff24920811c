"""`hours`: posts go out within business hours, except emergencies (manual §7 (2))."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from workflows.calendar import WEEKDAY_JA
from workflows.checks.context import CheckContext, Rule
from workflows.checks.model import Finding, Severity


def _when(moment: datetime) -> str:
    return (
        f"{moment.month}月{moment.day}日({WEEKDAY_JA[moment.weekday()]}) {moment.hour}:{moment:%M}"
    )


def check(ctx: CheckContext) -> Iterable[Finding]:
    if ctx.draft.emergency:
        return
    calendar = ctx.calendar
    at = calendar.local(ctx.draft.at)
    if calendar.is_open_at(at):
        return
    slot = calendar.next_open_slot(at)
    reason = calendar.closed_reason(at.date())
    hours = calendar.hours
    common = {
        "at": _when(at),
        "next": _when(slot),
        "start": f"{hours.start.hour}:{hours.start:%M}",
        "end": f"{hours.end.hour}:{hours.end:%M}",
    }
    if reason is not None:
        yield ctx.whole(
            "hours.closed-day",
            Severity.WARNING,
            "hours.closed_day",
            reason=reason,
            suggestion=slot.isoformat(),
            **common,
        )
    else:
        yield ctx.whole(
            "hours.after-hours",
            Severity.WARNING,
            "hours.after_hours",
            suggestion=slot.isoformat(),
            **common,
        )


RULE = Rule("hours", check)
