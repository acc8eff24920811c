"""The Japanese business calendar: open days, business hours, the next business slot.

National holidays (with substitute and citizens' holidays) come from ``jpholiday``; the year-end
closure (12/29–1/3 by default) and the hours come from ``business_hours:`` in app.yaml.
All inputs and outputs are timezone-aware; the calendar's own zone defaults to Asia/Tokyo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jpholiday

from workflows.schema import Invalid, model_schema


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        return list(Weekday).index(self)


WEEKDAY_JA = "月火水木金土日"
_YEAR_END = ("12-29", "12-30", "12-31", "01-01", "01-02", "01-03")
# A closed date as datetime.strptime(f"2024-{value}", "%Y-%m-%d") reads it (its month and day
# patterns), without the cost of its first call in a process (about 10 ms: it loads the locale's
# names and compiles its patterns), which every `postgate check` paid for the default dates.
_MONTH_DAY = re.compile(r"(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])")


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """When posts may go out: ``business_hours:`` in app.yaml, or an account's own hours.

    A plain dataclass, not a pydantic model, so that `postgate check` never imports pydantic;
    app.yaml is validated against the same fields and rules (workflows/schema.py).
    """

    timezone: str = "Asia/Tokyo"
    days: tuple[Weekday, ...] = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)
    start: time = time(8, 30)
    end: time = time(17, 15)
    closed_on_holidays: bool = True
    closed_dates: tuple[str, ...] = field(
        default=_YEAR_END,
        metadata={"description": "Yearly closures as MM-DD (default: 12/29-1/3)."},
    )
    extra_closed_days: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        self._known_zone(self.timezone)
        self._clock_time(self.start)
        self._clock_time(self.end)
        self._month_day(self.closed_dates)
        self._start_before_end(self)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return model_schema(
            cls,
            handler,
            field_checks={
                "timezone": cls._known_zone,
                "closed_dates": cls._month_day,
                "start": cls._clock_time,
                "end": cls._clock_time,
            },
            model_check=cls._start_before_end,
        )

    @staticmethod
    def _known_zone(value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid("unknown_time_zone", "unknown time zone '{value}'", value=value) from None
        return value

    @staticmethod
    def _clock_time(value: time) -> time:
        # YAML reads an unquoted 8:30 as the number 510 and pydantic reads a number as seconds
        # in UTC: a clock time in the hours' own zone is only ever written "08:30".
        if value.tzinfo is not None or value.second or value.microsecond:
            raise Invalid("clock_time", 'write the time as "HH:MM" in quotes, e.g. "08:30"')
        return value

    @staticmethod
    def _month_day(value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                if (m := _MONTH_DAY.fullmatch(f"{item}")) is None:
                    raise ValueError(item)
                date(2024, int(m[1]), int(m[2]))  # a leap year: 02-29 is a date
            except ValueError:
                raise Invalid(
                    "closed_date_format", "closed date '{value}' is not MM-DD", value=item
                ) from None
        return value

    @staticmethod
    def _start_before_end(hours: BusinessHours) -> None:
        if hours.start >= hours.end:
            raise Invalid(
                "start_not_before_end",
                "start {start} must be before end {end}",
                start=f"{hours.start:%H:%M}",
                end=f"{hours.end:%H:%M}",
            )
        if not hours.days:
            raise Invalid("no_business_days", "at least one business day is needed")


class BusinessCalendar:
    """Answers "is the office open?" questions for one set of business hours."""

    def __init__(self, hours: BusinessHours | None = None) -> None:
        self.hours = hours or BusinessHours()

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.hours.timezone)

    @cached_property
    def _open_weekdays(self) -> frozenset[int]:
        return frozenset(d.number for d in self.hours.days)

    @cached_property
    def _closed_month_days(self) -> frozenset[str]:
        return frozenset(self.hours.closed_dates)

    @staticmethod
    def holiday_name(day: date) -> str | None:
        """The national holiday on ``day`` (including substitute holidays), or None."""
        name: str | None = jpholiday.is_holiday_name(day)
        return name

    def closed_reason(self, day: date) -> str | None:
        """Why the office is closed on ``day`` (Japanese), or None when it is open."""
        if day in self.hours.extra_closed_days:
            return "休庁日"
        if f"{day:%m-%d}" in self._closed_month_days:
            return "年末年始"
        if self.hours.closed_on_holidays and (name := self.holiday_name(day)):
            return f"祝日（{name}）"
        if day.weekday() not in self._open_weekdays:
            return f"{WEEKDAY_JA[day.weekday()]}曜日"
        return None

    def is_open_day(self, day: date) -> bool:
        return self.closed_reason(day) is None

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("naive datetime given to the business calendar")
        return moment.astimezone(self.tz)

    def is_open_at(self, moment: datetime) -> bool:
        here = self.local(moment)
        return self.is_open_day(here.date()) and self.hours.start <= here.time() < self.hours.end

    def next_open_slot(self, moment: datetime) -> datetime:
        """``moment`` itself if the office is open then, else when it next opens."""
        here = self.local(moment)
        if self.is_open_at(here):
            return here
        day = here.date()
        if not (self.is_open_day(day) and here.time() < self.hours.start):
            day = self.next_open_day(day + timedelta(days=1))
        return datetime.combine(day, self.hours.start, tzinfo=self.tz)

    def next_open_day(self, day: date) -> date:
        """The first open day on or after ``day``."""
        for _ in range(400):
            if self.is_open_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError("no open day within a year: check business_hours")

    def previous_open_day(self, day: date) -> date:
        """The last open day on or before ``day`` (the manual's 前開庁日 when ``day`` is closed)."""
        for _ in range(400):
            if self.is_open_day(day):
                return day
            day -= timedelta(days=1)
        raise ValueError("no open day within a year: check business_hours")
