"""The posting plan: what goes out when, and each account's gap to its posting target.

Every post of the plan is a publication (by its due time) or the target of a draft still waiting
for approval (by its requested time), of one of six kinds (予定 / 承認待ち / 投稿済み / 失敗 /
保留 / 一時停止). An account with a ``cadence`` (manual §7 (1), e.g. ``{per: week, posts: 3}``)
has a target for each week; the gap is what the week's plan lacks (failed posts not counted).
The web console's calendar and the weekly digest in chat both read the plan from here.

``digest_week`` says which week the weekly digest is about at a given moment: the calendar week
(Monday to Sunday) after the one in which its slot (``digest.day`` at ``digest.at``, app.yaml)
has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo

from storage import web as reads
from storage.engine import Database
from storage.web import PlannedPost
from workflows.calendar import Weekday
from workflows.catalogue import message
from workflows.lifecycle import DraftState
from workflows.org import Account
from workflows.publishing import HoldReason, PublicationState

WAITING_STATES: Final = (DraftState.IN_REVIEW.value, DraftState.AWAITING_APPROVAL.value)
HIDDEN_STATES: Final = (PublicationState.CANCELLED.value, PublicationState.DELETED.value)


class Kind(StrEnum):
    """How a post is coloured on the calendar (and counted against a target)."""

    SCHEDULED = "scheduled"  # 予定
    WAITING = "waiting"  # 承認待ち
    PUBLISHED = "published"  # 投稿済み
    FAILED = "failed"  # 失敗
    HELD = "held"  # 保留
    PAUSED = "paused"  # 一時停止

    def label(self) -> str:
        return _kind_label(self)


@cache
def _kind_label(kind: Kind) -> str:
    return message(f"web.kind.{kind.value}")


COUNTED: Final = frozenset(Kind) - {Kind.FAILED}


def kind_of(post: PlannedPost) -> Kind:
    if post.publication_id is None:
        return Kind.WAITING
    state = PublicationState(post.state)
    if state is PublicationState.PUBLISHED:
        return Kind.PUBLISHED
    if state in (PublicationState.FAILED, PublicationState.NEEDS_REVIEW):
        return Kind.FAILED
    if state is PublicationState.HELD:
        return Kind.PAUSED if post.hold_reason == HoldReason.PAUSED.value else Kind.HELD
    return Kind.SCHEDULED


def state_label(post: PlannedPost) -> str:
    if post.publication_id is None:
        return DraftState(post.state).label()
    return PublicationState(post.state).label()


def account_name(account: Account) -> str:
    return f"{account.display_name}（{account.platform.value}）"


@dataclass(frozen=True, slots=True)
class Entry:
    post: PlannedPost
    kind: Kind
    local: datetime  # in the office's time zone
    platform: str
    account_name: str

    @property
    def excerpt(self) -> str:
        text = " ".join(self.post.text.split())
        return text if len(text) <= 30 else text[:29] + "…"


@dataclass(frozen=True, slots=True)
class Target:
    """An account's weekly posting target against the week's plan (failed posts not counted)."""

    account_id: str
    account_name: str
    planned: int
    wanted: int

    @property
    def gap(self) -> int:
        return max(0, self.wanted - self.planned)


@dataclass(frozen=True, slots=True)
class WeekPlan:
    """One section's week: its accounts' posts and their gaps to their targets."""

    section: str
    start: date  # the Monday
    entries: tuple[Entry, ...]
    targets: tuple[Target, ...]

    @property
    def end(self) -> date:
        """The Sunday."""
        return self.start + timedelta(days=6)

    @property
    def short(self) -> tuple[Target, ...]:
        """The accounts whose plan is short of their target."""
        return tuple(t for t in self.targets if t.gap)


class Plan:
    """Reads the plan from the database for the accounts of app.yaml."""

    def __init__(self, db: Database, accounts: Sequence[Account], tz: ZoneInfo) -> None:
        self.db = db
        self.accounts = tuple(accounts)
        self.by_id = {a.id: a for a in self.accounts}
        self.tz = tz

    def entries(self, start: date, end: date, accounts: frozenset[str]) -> list[Entry]:
        """The posts of the days [start, end) (in the office's zone) of ``accounts``, by time."""
        with self.db.session(read_only=True) as session:
            planned = reads.planned_posts(
                session,
                start=self._midnight(start),
                end=self._midnight(end),
                waiting_states=WAITING_STATES,
                hidden_states=HIDDEN_STATES,
            )
        out = []
        for post in planned:
            if post.account_id not in accounts:
                continue
            account = self.by_id[post.account_id]
            out.append(
                Entry(
                    post=post,
                    kind=kind_of(post),
                    local=post.at.astimezone(self.tz),
                    platform=account.platform.value,
                    account_name=account_name(account),
                )
            )
        return out

    def targets(self, entries: Iterable[Entry], accounts: frozenset[str]) -> tuple[Target, ...]:
        """Each of ``accounts`` with a cadence: what ``entries`` (one week's) plan for it."""
        planned: dict[str, int] = {}
        for e in entries:
            if e.kind in COUNTED:
                planned[e.post.account_id] = planned.get(e.post.account_id, 0) + 1
        return tuple(
            Target(
                account_id=a.id,
                account_name=account_name(a),
                planned=planned.get(a.id, 0),
                wanted=a.cadence.posts,
            )
            for a in self.accounts
            if a.cadence is not None and a.id in accounts
        )

    def section_accounts(self, section: str) -> frozenset[str]:
        """The accounts a section posts on or approves (as the calendar's section filter)."""
        return frozenset(
            a.id for a in self.accounts if section in (a.owner_section, a.approving_section)
        )

    def week(self, section: str, monday: date) -> WeekPlan:
        accounts = self.section_accounts(section)
        entries = self.entries(monday, monday + timedelta(days=7), accounts)
        return WeekPlan(section, monday, tuple(entries), self.targets(entries, accounts))

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz)


def digest_week(now: datetime, day: Weekday, at: time, tz: ZoneInfo) -> date | None:
    """The Monday of the week the digest is about once this week's slot has passed (the week
    after this one), or None before it."""
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    slot = datetime.combine(monday + timedelta(days=day.number), at, tzinfo=tz)
    return monday + timedelta(days=7) if local >= slot else None
