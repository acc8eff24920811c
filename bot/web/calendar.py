"""The posting calendar: month and week grids, the iCalendar feed and the CSV of a month.

Every post on it is a publication (by its due time) or the target of a draft still waiting for
approval (by its requested time), coloured by one of six kinds (予定 / 承認待ち / 投稿済み /
失敗 / 保留 / 一時停止). Days are those of Asia/Tokyo; closed days come from the business
calendar of app.yaml.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.config import AppConfig
from handlers.plan import Entry, Kind, Plan, Target, state_label
from storage.engine import Database
from workflows.calendar import BusinessCalendar
from workflows.catalogue import message

__all__ = ["Calendar", "Day", "Entry", "Filter", "Grid", "Kind", "Target"]

WEEKDAYS_JA = ("月", "火", "水", "木", "金", "土", "日")
MONTH_CELL_POSTS = 6  # a month's day shows this many; the rest behind 「他 N 件」 (the week)


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    in_month: bool
    is_today: bool
    closed: str | None  # why the office is closed (「土曜日」「祝日（勤労感謝の日）」), or None
    entries: tuple[Entry, ...]

    @property
    def shown(self) -> tuple[Entry, ...]:
        """The posts a month's cell lists (a week's day lists them all)."""
        return self.entries[:MONTH_CELL_POSTS]

    @property
    def more(self) -> int:
        return max(0, len(self.entries) - MONTH_CELL_POSTS)

    @property
    def weekday(self) -> str:
        return WEEKDAYS_JA[self.day.weekday()]


@dataclass(frozen=True, slots=True)
class Filter:
    section: str | None = None
    account: str | None = None

    def accounts(self, config: AppConfig) -> frozenset[str]:
        return frozenset(
            a.id
            for a in config.accounts
            if (self.section is None or self.section in (a.owner_section, a.approving_section))
            and (self.account is None or a.id == self.account)
        )


@dataclass(frozen=True, slots=True)
class Grid:
    """A month (whole weeks, Monday first) or one week of days."""

    view: str  # "month" or "week"
    anchor: date
    weeks: tuple[tuple[Day, ...], ...]
    now: datetime  # Asia/Tokyo
    previous: date
    next: date
    counts: dict[Kind, int]
    targets: tuple[Target, ...] = ()  # the week's view: accounts with a cadence

    @property
    def title(self) -> str:
        if self.view == "month":
            return f"{self.anchor.year}年{self.anchor.month}月"
        first, last = self.weeks[0][0].day, self.weeks[0][-1].day
        return f"{first:%Y}年{first.month}月{first.day}日〜{last.month}月{last.day}日"


class Calendar:
    """Builds the grids and exports from the database and app.yaml."""

    def __init__(self, config: AppConfig, db: Database) -> None:
        self.config = config
        self.db = db
        self.office: BusinessCalendar = config.calendar()
        self.tz = self.office.tz
        self.plan = Plan(db, config.accounts, self.tz)

    def posts(self, start: date, end: date, wanted: Filter) -> list[Entry]:
        """The posts of the days [start, end) (Asia/Tokyo) for the filter's accounts."""
        return self.plan.entries(start, end, wanted.accounts(self.config))

    def grid(self, view: str, anchor: date, wanted: Filter, now: datetime) -> Grid:
        today = now.astimezone(self.tz).date()
        if view == "week":
            first = anchor - timedelta(days=anchor.weekday())
            last = first + timedelta(days=7)
            previous, following = anchor - timedelta(days=7), anchor + timedelta(days=7)
        else:
            view = "month"
            anchor = anchor.replace(day=1)
            month_end = (anchor + timedelta(days=32)).replace(day=1)
            first = anchor - timedelta(days=anchor.weekday())
            last = month_end + timedelta(days=(7 - month_end.weekday()) % 7)
            previous = (anchor - timedelta(days=1)).replace(day=1)
            following = month_end
        entries = self.posts(first, last, wanted)
        # One account shown: its own operating days (a museum open at weekends); else the office's.
        account = self.config.account(wanted.account) if wanted.account else None
        hours = self.config.calendar(account) if account else self.office
        by_day: dict[date, list[Entry]] = {}
        counts = dict.fromkeys(Kind, 0)
        for entry in entries:
            by_day.setdefault(entry.local.date(), []).append(entry)
            counts[entry.kind] += 1
        days = [
            Day(
                day=d,
                in_month=view == "week" or d.month == anchor.month,
                is_today=d == today,
                closed=hours.closed_reason(d),
                entries=tuple(by_day.get(d, ())),
            )
            for d in _days(first, last)
        ]
        weeks = tuple(tuple(days[i : i + 7]) for i in range(0, len(days), 7))
        targets = self._targets(entries, wanted) if view == "week" else ()
        return Grid(
            view, anchor, weeks, now.astimezone(self.tz), previous, following, counts, targets
        )

    def _targets(self, entries: Sequence[Entry], wanted: Filter) -> tuple[Target, ...]:
        return self.plan.targets(entries, wanted.accounts(self.config))

    def month_csv(self, month: date, wanted: Filter) -> str:
        """The month's posts as CSV (with a BOM, so that Excel reads the Japanese)."""
        first = month.replace(day=1)
        end = (first + timedelta(days=32)).replace(day=1)
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([message(f"web.csv.{c}") for c in _CSV_COLUMNS])
        for e in self.posts(first, end, wanted):
            writer.writerow(
                [
                    f"{e.local:%Y-%m-%d %H:%M}",
                    e.post.account_id,
                    e.platform,
                    e.kind.label(),
                    state_label(e.post),
                    e.post.draft_id,
                    e.post.publication_id or "",
                    e.post.text,
                    e.post.permalink or "",
                ]
            )
        return out.getvalue()

    def ics(self, entries: Iterable[Entry], *, name: str, now: datetime, base_url: str) -> str:
        """An iCalendar (RFC 5545) feed of ``entries``: one 15-minute event per post."""
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//postgate//web console//JA",
            "CALSCALE:GREGORIAN",
            f"X-WR-CALNAME:{_ics_text(name)}",
            "X-WR-TIMEZONE:Asia/Tokyo",
        ]
        stamp = _ics_time(now)
        for e in entries:
            post = e.post
            uid = f"postgate-{post.draft_id}-{post.account_id}-{post.publication_id or 'draft'}"
            summary = f"[{e.kind.label()}] {post.account_id}: {e.excerpt}"
            lines += [
                "BEGIN:VEVENT",
                f"UID:{uid}@postgate",
                f"DTSTAMP:{stamp}",
                f"DTSTART:{_ics_time(post.at)}",
                f"DTEND:{_ics_time(post.at + timedelta(minutes=15))}",
                f"SUMMARY:{_ics_text(summary)}",
                f"DESCRIPTION:{_ics_text(post.text)}",
                f"URL:{base_url}/drafts/{post.draft_id}",
                f"CATEGORIES:{_ics_text(e.kind.label())}",
                "END:VEVENT",
            ]
        lines.append("END:VCALENDAR")
        return "".join(_fold(line) + "\r\n" for line in lines)


_CSV_COLUMNS = (
    "at",
    "account",
    "platform",
    "kind",
    "state",
    "draft",
    "publication",
    "text",
    "permalink",
)


def _days(first: date, last: date) -> Sequence[date]:
    return [first + timedelta(days=i) for i in range((last - first).days)]


def _ics_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _ics_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """RFC 5545 §3.1: lines longer than 75 octets continue on the next, after a space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)
