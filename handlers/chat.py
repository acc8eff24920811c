"""Where a draft's conversation lives on each chat platform, and the chat work done on a timer.

Platform-neutral, shared by the Slack and Teams adapters. A chat adapter remembers every message
it posts about a draft (``ChatMessage``: Slack channel + ts + thread_ts, or a Teams conversation
reference) under a ``Purpose``, so that later it can answer in the draft's thread, update every
copy of an approval card after a decision, and recognise the drafter's own message when it is
edited. Every copy of an incident's alert card is remembered the same way (subject ``incident``:
``remember_alert``, ``alert_refs``), so each change of the incident updates all of them. The
same table tells which reminders are due and which publications have not yet been reported
back; ``first_time`` (the ``processed_request`` table) makes each of those happen once, however
many replicas run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from handlers.drafts import Actor, Clock, DraftUseCases, utc_now
from handlers.monitors import BlindWatch, blind_watches
from handlers.views import DraftSummary
from storage import dedupe
from storage import drafts as repo
from storage.engine import Database
from storage.tables import ChatMessage, DraftRevision, Incident, ProcessedRequest, Publication
from workflows.approval import EscalationPolicy, EscalationStep, escalation
from workflows.errors import UnknownMember
from workflows.incidents.model import IncidentKind
from workflows.incidents.playbook import IncidentState
from workflows.lifecycle import DraftState
from workflows.publishing import PublicationState

SUBJECT_DRAFT = "draft"
SUBJECT_INCIDENT = "incident"
HOME_DAYS = 14


class Purpose(StrEnum):
    """Why a chat message about a draft or an incident exists."""

    SOURCE = "source"  # the drafter's own message the draft was made from (edits revise it)
    DRAFT = "draft"  # postgate's card of the draft; its thread is the draft's thread
    PEER_REQUEST = "peer_request"  # the request to colleagues for a peer check
    APPROVAL = "approval"  # one copy of an approval card (DM, approvals channel, reminder)
    RESULT = "result"  # a publication's outcome, posted back into the thread
    ALERT = "alert"  # an incident's alert card in the alerts channel (everyone sees it)
    ALERT_DM = "alert_dm"  # a copy of that card sent to one of the incident's recipients


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A message postgate knows about, on one platform."""

    id: int
    draft_id: int
    purpose: Purpose
    platform: str
    channel: str | None
    ts: str | None
    thread_ts: str | None
    revision: int | None
    created_at: datetime
    reference: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class AlertRef:
    """One copy of an incident's alert card on one platform."""

    id: int
    incident_id: int
    purpose: Purpose  # ALERT (the alerts channel) or ALERT_DM
    platform: str
    channel: str | None
    ts: str | None
    permalink: str | None  # a link to this copy, when the platform gave one
    created_at: datetime
    reference: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Reminder:
    """An approval pending too long: who to send the card to now, and why."""

    draft_id: int
    revision: int
    step: EscalationStep
    member_ids: tuple[str, ...]
    waiting_since: datetime

    def key(self, platform: str) -> str:
        return reminder_key(platform, self.draft_id, self.revision, self.step)


@dataclass(frozen=True, slots=True)
class PublishedResult:
    """A publication that went out and has not been reported in the draft's thread yet."""

    publication_id: int
    draft_id: int
    revision: int
    account_id: str
    platform_post_id: str | None
    permalink: str | None
    published_at: datetime

    def key(self, platform: str) -> str:
        return result_key(platform, self.publication_id, PublicationState.PUBLISHED.value)


@dataclass(frozen=True, slots=True)
class ScheduledItem:
    publication_id: int
    draft_id: int
    account_id: str
    due_at: datetime
    state: str
    state_label: str
    excerpt: str
    emergency: bool


@dataclass(frozen=True, slots=True)
class IncidentItem:
    """An open incident as the home overview lists it."""

    id: int
    kind: str
    kind_label: str
    title: str
    account_id: str | None
    state: str
    state_label: str
    created_at: datetime
    link: str | None = None  # its alert card in the alerts channel, on the member's platform


@dataclass(frozen=True, slots=True)
class HomeView:
    """A member's overview: their drafts, what awaits them, what goes out soon, open incidents,
    the watched accounts the monitor cannot read."""

    member_name: str | None  # None: the chat user is not a member in app.yaml
    now: datetime
    mine: tuple[DraftSummary, ...] = ()
    awaiting: tuple[DraftSummary, ...] = ()
    scheduled: tuple[ScheduledItem, ...] = ()
    incidents: tuple[IncidentItem, ...] = ()
    blind: tuple[BlindWatch, ...] = ()  # 監視できていません: accounts the monitor cannot read
    days: int = HOME_DAYS


def reminder_key(platform: str, draft_id: int, revision: int, step: EscalationStep) -> str:
    return f"{platform}:reminder:{draft_id}:{revision}:{step.value}"


def result_key(platform: str, publication_id: int, state: str) -> str:
    return f"{platform}:result:{publication_id}:{state}"


@dataclass
class ChatUseCases:
    """Chat references, reminders, results to report and the home overview."""

    db: Database
    drafts: DraftUseCases
    clock: Clock = utc_now
    escalation_policy: EscalationPolicy = field(default_factory=EscalationPolicy)

    # ------------------------------------------------------------ references

    def remember(
        self,
        *,
        draft_id: int,
        purpose: Purpose,
        platform: str,
        channel: str | None = None,
        ts: str | None = None,
        thread_ts: str | None = None,
        revision: int | None = None,
        reference: Mapping[str, Any] | None = None,
    ) -> None:
        with self.db.session() as session:
            session.add(
                ChatMessage(
                    subject_kind=SUBJECT_DRAFT,
                    subject_id=draft_id,
                    purpose=purpose.value,
                    platform=platform,
                    channel=channel,
                    ts=ts,
                    thread_ts=thread_ts,
                    conversation_reference=dict(reference) if reference is not None else None,
                    revision=revision,
                    created_at=self.clock(),
                )
            )

    def remember_alert(
        self,
        *,
        incident_id: int,
        purpose: Purpose,
        platform: str,
        channel: str | None = None,
        ts: str | None = None,
        permalink: str | None = None,
        reference: Mapping[str, Any] | None = None,
    ) -> None:
        """Remember one copy of an incident's alert card (``permalink``: a link to it)."""
        stored = dict(reference or {})
        if permalink:
            stored["permalink"] = permalink
        with self.db.session() as session:
            session.add(
                ChatMessage(
                    subject_kind=SUBJECT_INCIDENT,
                    subject_id=incident_id,
                    purpose=purpose.value,
                    platform=platform,
                    channel=channel,
                    ts=ts,
                    conversation_reference=stored or None,
                    created_at=self.clock(),
                )
            )

    def alert_refs(self, incident_id: int, platform: str) -> list[AlertRef]:
        """Every copy of the incident's alert card on ``platform``, the oldest first."""
        with self.db.session(read_only=True) as session:
            return _alert_refs(session, (incident_id,), platform)

    def latest_reference(self, platform: str) -> Mapping[str, Any] | None:
        """The conversation reference most recently remembered on ``platform`` (Teams: where
        its Bot Connector was last seen, for messages sent before anyone writes again)."""
        with self.db.session(read_only=True) as session:
            row = session.exec(
                select(ChatMessage)
                .where(
                    ChatMessage.platform == platform,
                    col(ChatMessage.conversation_reference).is_not(None),
                )
                .order_by(col(ChatMessage.id).desc())
                .limit(1)
            ).first()
            return row.conversation_reference if row is not None else None

    def draft_of_message(self, platform: str, channel: str, ts: str) -> int | None:
        """The draft made from the drafter's message ``ts`` in ``channel``, if any."""
        with self.db.session(read_only=True) as session:
            row = session.exec(
                select(ChatMessage).where(
                    ChatMessage.subject_kind == SUBJECT_DRAFT,
                    ChatMessage.platform == platform,
                    ChatMessage.purpose == Purpose.SOURCE.value,
                    ChatMessage.channel == channel,
                    ChatMessage.ts == ts,
                )
            ).first()
            return row.subject_id if row is not None else None

    def thread(self, draft_id: int, platform: str) -> ChatRef | None:
        """The draft's card, whose thread is where everything about the draft is said."""
        refs = self.refs(draft_id, platform, (Purpose.DRAFT,))
        return refs[-1] if refs else None

    def cards(self, draft_id: int, platform: str) -> list[ChatRef]:
        """Every copy of the draft's approval cards, of every revision."""
        return self.refs(draft_id, platform, (Purpose.APPROVAL,))

    def refs(self, draft_id: int, platform: str, purposes: Iterable[Purpose]) -> list[ChatRef]:
        with self.db.session(read_only=True) as session:
            return _refs(session, draft_id, platform, purposes)

    def first_time(self, key: str) -> bool:
        """True once per key: a replayed request, or work another replica already claimed, is
        False."""
        with self.db.session() as session:
            return dedupe.first_time(session, key, at=self.clock())

    def forget_processed(self, older_than: timedelta) -> int:
        with self.db.session() as session:
            return dedupe.forget_before(session, self.clock() - older_than)

    # ------------------------------------------------------------ reminders

    def due_reminders(self, platform: str) -> list[Reminder]:
        """Approvals pending since their first card (on any platform: a city may run two, and a
        member may have an id on one only) long enough for the next escalation step
        (workflows.approval.escalation): the chief again, then the deputies. Each platform
        claims its own step, and sends to whoever has an id on it."""
        now = self.clock()
        waiting: list[tuple[int, int, datetime, frozenset[EscalationStep]]] = []
        with self.db.session(read_only=True) as session:
            for draft in repo.in_states(session, (DraftState.AWAITING_APPROVAL,)):
                assert draft.id is not None
                cards = [
                    r
                    for r in _refs(session, draft.id, None, (Purpose.APPROVAL,))
                    if r.revision == draft.revision
                ]
                if not cards:
                    continue
                keys = {
                    reminder_key(platform, draft.id, draft.revision, step): step
                    for step in (EscalationStep.REMIND, EscalationStep.OFFER_DEPUTIES)
                }
                claimed = session.exec(
                    select(ProcessedRequest.key).where(col(ProcessedRequest.key).in_(list(keys)))
                ).all()
                since = min(r.created_at for r in cards)
                steps = frozenset(keys[k] for k in claimed)
                waiting.append((draft.id, draft.revision, since, steps))
        reminders: list[Reminder] = []
        directory = self.drafts.directory
        for draft_id, revision, since, done in waiting:
            step = escalation(since, now, done, self.escalation_policy)
            if step is EscalationStep.NONE:
                continue
            view = self.drafts.get(draft_id)
            if view.revision != revision:
                continue
            people: list[str] = []
            for section in view.pending_sections:
                approvers = directory.approvers(section)
                people += approvers[:1] if step is EscalationStep.REMIND else approvers[1:]
            members = tuple(m for m in dict.fromkeys(people) if m != view.author_id)
            reminders.append(Reminder(draft_id, revision, step, members, since))
        return reminders

    # ------------------------------------------------------------ results

    def unreported_published(
        self, platform: str, *, within: timedelta = timedelta(days=7), limit: int = 200
    ) -> list[PublishedResult]:
        """Publications published lately whose draft has a thread on ``platform`` and which
        have not been reported there (the report claims ``PublishedResult.key``)."""
        since = self.clock() - within
        with self.db.session(read_only=True) as session:
            rows = session.exec(
                select(Publication)
                .where(
                    Publication.state == PublicationState.PUBLISHED.value,
                    col(Publication.updated_at) >= since,
                )
                .order_by(col(Publication.id))
                .limit(limit)
            ).all()
            if not rows:
                return []
            keys = {result_key(platform, r.id or 0, PublicationState.PUBLISHED.value) for r in rows}
            reported = set(
                session.exec(
                    select(ProcessedRequest.key).where(col(ProcessedRequest.key).in_(list(keys)))
                ).all()
            )
            threads = set(
                session.exec(
                    select(ChatMessage.subject_id).where(
                        ChatMessage.subject_kind == SUBJECT_DRAFT,
                        ChatMessage.platform == platform,
                        ChatMessage.purpose == Purpose.DRAFT.value,
                        col(ChatMessage.subject_id).in_({r.draft_id for r in rows}),
                    )
                ).all()
            )
            return [
                PublishedResult(
                    publication_id=r.id,
                    draft_id=r.draft_id,
                    revision=r.revision,
                    account_id=r.account_id,
                    platform_post_id=r.platform_post_id,
                    permalink=r.permalink,
                    published_at=r.updated_at,
                )
                for r in rows
                if r.id is not None
                and r.draft_id in threads
                and result_key(platform, r.id, PublicationState.PUBLISHED.value) not in reported
            ]

    # ------------------------------------------------------------ home

    def home(self, actor: Actor, *, days: int = HOME_DAYS) -> HomeView:
        now = self.clock()
        try:
            member = self.drafts.member(actor)
        except UnknownMember:
            return HomeView(member_name=None, now=now, days=days)
        mine = tuple(self.drafts.my_drafts(actor)[:20])
        awaiting = tuple(self.drafts.awaiting(actor)[:20])
        with self.db.session(read_only=True) as session:
            scheduled = _scheduled(session, now, now + timedelta(days=days))
            rows = session.exec(
                select(Incident)
                .where(col(Incident.state) != IncidentState.RESOLVED.value)
                .order_by(col(Incident.created_at).desc())
                .limit(20)
            ).all()
            cards = _alert_refs(session, [i.id for i in rows if i.id is not None], actor.platform)
            links = {r.incident_id: r.permalink for r in cards if r.purpose is Purpose.ALERT}
            incidents = tuple(
                IncidentItem(
                    id=i.id,
                    kind=i.kind,
                    kind_label=IncidentKind(i.kind).label(),
                    title=i.title,
                    account_id=i.account_id,
                    state=i.state,
                    state_label=IncidentState(i.state).label(),
                    created_at=i.created_at,
                    link=links.get(i.id),
                )
                for i in rows
                if i.id is not None
            )
        return HomeView(
            member_name=member.name,
            now=now,
            mine=mine,
            awaiting=awaiting,
            scheduled=scheduled,
            incidents=incidents,
            blind=tuple(blind_watches(self.db)),
            days=days,
        )


def _refs(
    session: Session, draft_id: int, platform: str | None, purposes: Iterable[Purpose]
) -> list[ChatRef]:
    """The draft's messages for ``purposes`` on ``platform`` (None: on every platform)."""
    query = select(ChatMessage).where(
        ChatMessage.subject_kind == SUBJECT_DRAFT,
        ChatMessage.subject_id == draft_id,
        col(ChatMessage.purpose).in_([p.value for p in purposes]),
    )
    if platform is not None:
        query = query.where(ChatMessage.platform == platform)
    rows = session.exec(query.order_by(col(ChatMessage.id))).all()
    return [
        ChatRef(
            id=r.id,
            draft_id=r.subject_id,
            purpose=Purpose(r.purpose),
            platform=r.platform,
            channel=r.channel,
            ts=r.ts,
            thread_ts=r.thread_ts,
            revision=r.revision,
            created_at=r.created_at,
            reference=r.conversation_reference,
        )
        for r in rows
        if r.id is not None
    ]


def _alert_refs(session: Session, incident_ids: Iterable[int], platform: str) -> list[AlertRef]:
    ids = list(incident_ids)
    if not ids:
        return []
    rows = session.exec(
        select(ChatMessage)
        .where(
            ChatMessage.subject_kind == SUBJECT_INCIDENT,
            col(ChatMessage.subject_id).in_(ids),
            ChatMessage.platform == platform,
            col(ChatMessage.purpose).in_([Purpose.ALERT.value, Purpose.ALERT_DM.value]),
        )
        .order_by(col(ChatMessage.id))
    ).all()
    refs = []
    for r in rows:
        if r.id is None:
            continue
        reference = r.conversation_reference
        link = reference.get("permalink") if reference else None
        refs.append(
            AlertRef(
                id=r.id,
                incident_id=r.subject_id,
                purpose=Purpose(r.purpose),
                platform=r.platform,
                channel=r.channel,
                ts=r.ts,
                permalink=link if isinstance(link, str) else None,
                created_at=r.created_at,
                reference=reference,
            )
        )
    return refs


def _scheduled(session: Session, start: datetime, end: datetime) -> tuple[ScheduledItem, ...]:
    open_states = (PublicationState.PENDING.value, PublicationState.HELD.value)
    rows: Sequence[tuple[Publication, DraftRevision]] = session.exec(
        select(Publication, DraftRevision)
        .where(
            col(Publication.state).in_(open_states),
            col(Publication.due_at) >= start,
            col(Publication.due_at) < end,
            DraftRevision.draft_id == Publication.draft_id,
            DraftRevision.revision == Publication.revision,
        )
        .order_by(col(Publication.due_at), col(Publication.id))
        .limit(50)
    ).all()
    return tuple(
        ScheduledItem(
            publication_id=p.id,
            draft_id=p.draft_id,
            account_id=p.account_id,
            due_at=p.due_at,
            state=p.state,
            state_label=PublicationState(p.state).label(),
            excerpt=_excerpt(rev.text),
            emergency=p.emergency,
        )
        for p, rev in rows
        if p.id is not None
    )


def _excerpt(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
