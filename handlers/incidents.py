"""The incident use cases (manual §8), shared by Slack, Teams, the CLI and the monitors.

- ``open_signals``: what the monitors detected becomes incidents — a new one per ``dedupe_key``,
  nothing for a cause already on record (one alert per cause, not one per poll), each audited
  ``incident.opened``.
- ``IncidentUseCases``: a member's report (``report``: kind, account, URL, notes; deduplicated by
  the URL — an impostor's profile URL by the same key the monitor uses), ``acknowledge``,
  ``tick``/``untick`` a checklist step (who and when), ``run_action`` (a step's button: the notice
  draft, the emergency pause of scheduled posts), ``resolve`` with a note, ``reopen`` with a
  reason, the lists, and ``claim_reminders`` for unacknowledged incidents.

Every use case runs one operation of ``workflows.incidents.playbook`` in one transaction (the
incident row guarded by its version, so two simultaneous clicks yield one change), audits it in
that transaction, and returns an ``IncidentView``. A refusal changes nothing and is audited too.
Delivery is the adapters' business: they implement ``Alerts`` (``LoggingAlerts`` until then).

An incident row keeps what was seen as rendered when it was seen (``evidence``: the summary and
the card's rows in Japanese and English, and the detector's data), and the playbook's progress in
``checklist``: ``{"ticks": [...], "history": [...], "actions": {step: {...}}}``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final, Protocol, cast
from urllib.parse import urlsplit, urlunsplit

from sqlmodel import Session

from handlers.drafts import (
    Actor,
    Clock,
    DraftUseCases,
    NewDraft,
    audit_refusal,
    member_of,
    utc_now,
)
from handlers.views import PauseResult
from storage import audit
from storage import incidents as repo
from storage.engine import Database
from storage.tables import Incident as IncidentRow
from workflows.catalogue import Lang, message
from workflows.checks.model import Platform
from workflows.errors import Refusal, UnknownAccount, UnknownMember
from workflows.incidents import impersonation as imp
from workflows.incidents import playbook as pb
from workflows.incidents.flaming import duration
from workflows.incidents.model import (
    AccountRef,
    IncidentKind,
    Signal,
    digest,
    format_when,
)
from workflows.incidents.playbook import (
    IncidentEvent,
    IncidentState,
    ItemAction,
    RecipientRole,
)
from workflows.org import Account, Directory, Member, Organisation

log = logging.getLogger(__name__)

MONITOR_ACTOR: Final = "monitor"  # the audit actor of what the monitors do on their own
SOURCE_MONITOR: Final = "monitor"
SOURCE_REPORT: Final = "report"
# Platforms a text-only notice can go to (Instagram posts need an image).
_NOTICE_PLATFORMS: Final = frozenset({Platform.X, Platform.FACEBOOK, Platform.LINE})
_RESERVED_PATHS: Final = frozenset(
    {"i", "home", "search", "intent", "share", "hashtag", "explore", "settings", "messages",
     "notifications", "login", "signup", "tos", "privacy", "p", "reel", "stories", "groups",
     "pages", "watch", "events", "profile.php", "permalink.php", "story.php", "photo.php"}
)  # fmt: skip
_PROFILE_HOSTS: Final = {
    "x.com": Platform.X,
    "twitter.com": Platform.X,
    "mobile.twitter.com": Platform.X,
    "instagram.com": Platform.INSTAGRAM,
    "facebook.com": Platform.FACEBOOK,
    "m.facebook.com": Platform.FACEBOOK,
}
_HANDLE: Final = re.compile(r"^@?[A-Za-z0-9_.]{1,50}$")


# ---------------------------------------------------------------- refusals


class UnknownIncident(Refusal):
    key = "refusal.unknown_incident"


class UnknownIncidentKind(Refusal):
    key = "refusal.unknown_incident_kind"


class NotAnIncidentResponder(Refusal):
    key = "refusal.not_an_incident_responder"


class ReportNeedsDetails(Refusal):
    key = "refusal.report_needs_details"


class ReportUrlInvalid(Refusal):
    key = "refusal.report_url_invalid"


class ReportedKnownAccount(Refusal):
    key = "refusal.report_known_account"


class NoActionForStep(Refusal):
    key = "refusal.no_action_for_step"


class IncidentActionUnavailable(Refusal):
    key = "refusal.incident_action_unavailable"


class NoNoticeAccount(Refusal):
    key = "refusal.no_notice_account"


class IncidentNeedsAccount(Refusal):
    key = "refusal.incident_needs_account"


class _Conflict(Exception):
    """The incident changed between reading and writing it: read again and decide again."""


# ---------------------------------------------------------------- view models


@dataclass(frozen=True, slots=True)
class AlertChannel:
    """The alerts channel (app.yaml ``channels.alerts``) on each chat platform."""

    slack: str | None = None
    teams: str | None = None


@dataclass(frozen=True, slots=True)
class AlertAudience:
    """Who an incident's alert goes to: the alerts channel, with ``@channel`` (everyone sees
    it), and a direct message to each of ``dm_member_ids``."""

    channel: AlertChannel | None
    mention_everyone: bool
    dm_member_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecipientView:
    member_id: str
    member_name: str
    role: RecipientRole
    role_label: str


@dataclass(frozen=True, slots=True)
class ChecklistLineView:
    """One step of the playbook as a card shows it; ``text`` is the whole line (☑/☐, who, when)."""

    item_id: str
    label: str
    action: ItemAction
    done: bool
    text: str
    done_by_id: str | None = None
    done_by_name: str | None = None
    done_at: datetime | None = None
    draft_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryLine:
    event: IncidentEvent
    label: str
    member_id: str
    member_name: str
    at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class IncidentView:
    """Everything an incident's alert card, App Home line or reply shows."""

    id: int
    version: int
    kind: IncidentKind
    kind_label: str
    state: IncidentState
    state_label: str
    account_id: str | None
    account_label: str
    title: str
    summary: str
    rows: tuple[tuple[str, str], ...]  # labelled evidence, the account first
    checklist: tuple[ChecklistLineView, ...]
    recipients: tuple[RecipientView, ...]
    audience: AlertAudience
    source: str  # "monitor" or "report"
    created_at: datetime
    created_by: str
    created_by_name: str
    manual: str  # the manual's section, e.g. "8 (1)"
    dedupe_key: str | None
    resolution: str | None
    history: tuple[HistoryLine, ...]
    allowed_events: frozenset[IncidentEvent]
    reminded_at: datetime | None = None
    is_new: bool = False  # opened by this call (a report of a known cause gives False)

    @property
    def pending(self) -> tuple[ChecklistLineView, ...]:
        return tuple(line for line in self.checklist if not line.done)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """A step's action done: the incident as it now is, and what the action made."""

    incident: IncidentView
    action: ItemAction
    draft_id: int | None = None
    pause: PauseResult | None = None


# ---------------------------------------------------------------- outbound Protocols


class Alerts(Protocol):
    """Delivers incident alerts (Slack, Teams, ...). Must not raise: the incident is committed
    before it is called, and delivery problems are the adapter's to log."""

    async def incident_opened(self, view: IncidentView) -> None: ...

    async def incident_updated(self, view: IncidentView) -> None: ...


class LoggingAlerts:
    """Writes alerts to the log (until a chat adapter is wired in)."""

    async def incident_opened(self, view: IncidentView) -> None:
        log.warning(
            "incident #%d opened (%s, %s): %s; DM to %s",
            view.id,
            view.kind.value,
            view.account_id or "-",
            view.summary,
            ",".join(view.audience.dm_member_ids) or "-",
        )

    async def incident_updated(self, view: IncidentView) -> None:
        log.info("incident #%d is %s (version %d)", view.id, view.state.value, view.version)


class Pauser(Protocol):
    """The emergency pause of an account's scheduled posts (handlers/publishing.py)."""

    def pause(self, actor: Actor, *, account_id: str | None, reason: str) -> PauseResult: ...


# ---------------------------------------------------------------- opening incidents


def signal_evidence(signal: Signal) -> dict[str, Any]:
    """What a signal saw, rendered as it is now (JSON-safe): the row's ``evidence``."""
    return {
        "source": SOURCE_MONITOR,
        "cause": signal.cause.value,
        "account": _account_json(signal.account),
        "summary": {lang.value: signal.summary(lang) for lang in Lang},
        "rows": {lang.value: [list(r) for r in signal.rows(lang)] for lang in Lang},
        "data": signal.evidence.to_dict(),
    }


def open_signals(
    session: Session, signals: Iterable[Signal], *, at: datetime, actor: str = MONITOR_ACTOR
) -> list[IncidentRow]:
    """Store each signal as an incident unless its cause is on record; the new rows, audited."""
    opened: list[IncidentRow] = []
    for signal in signals:
        row, created = repo.open_or_dedupe(
            session,
            kind=signal.kind.value,
            account_id=signal.account_id,
            dedupe_key=signal.dedupe_key,
            title=signal.summary(Lang.JA),
            evidence=signal_evidence(signal),
            checklist=_empty_checklist(),
            created_by=actor,
            at=at,
        )
        if created:
            opened.append(row)
    for row in opened:
        audit.append(
            session,
            actor=actor,
            action="incident.opened",
            subject=f"incident:{row.id}",
            details={
                "kind": row.kind,
                "cause": row.evidence.get("cause"),
                "account": row.account_id,
                "dedupe_key": row.dedupe_key,
                "source": SOURCE_MONITOR,
            },
            at=at,
        )
    return opened


# ---------------------------------------------------------------- the use cases


@dataclass
class IncidentUseCases:
    db: Database
    directory: Directory
    organisation: Organisation
    drafts: DraftUseCases
    allowlist: tuple[str, ...] = ()
    alert_channel: AlertChannel | None = None
    clock: Clock = utc_now
    # The pause use case; when None, handlers.publishing is imported when first needed.
    publications: Pauser | None = None
    impersonation_threshold: int = 60

    # ------------------------------------------------------------ identity and rules

    def member(self, actor: Actor) -> Member:
        return member_of(self.directory, actor)

    def impersonation_rules(self) -> imp.ImpersonationRules:
        return imp.ImpersonationRules.for_organisation(
            self.organisation,
            self.directory.accounts.values(),
            self.allowlist,
            threshold=self.impersonation_threshold,
        )

    # ------------------------------------------------------------ from the monitors

    def open_detected(
        self, signals: Iterable[Signal], *, lang: Lang = Lang.JA
    ) -> list[IncidentView]:
        """Store what a monitor detected; the incidents opened by it (known causes give none)."""
        now = self.clock()
        with self.db.session() as session:
            rows = open_signals(session, signals, at=now)
            return [self.view(r, lang, is_new=True) for r in rows]

    # ------------------------------------------------------------ a member's report

    def report(
        self,
        actor: Actor,
        *,
        kind: IncidentKind | str,
        account_id: str | None = None,
        url: str | None = None,
        notes: str = "",
        lang: Lang = Lang.JA,
    ) -> IncidentView:
        """A member reports what postgate cannot see (`/postgate incident`): the same incident.

        Deduplicated by the URL; an impostor's profile (or post) URL is scored like the
        monitor's look-up finds and shares its key, so the same impostor is one incident however
        it was found.
        """
        member = self._member_or_refuse(actor, "report", None)
        try:
            report = self._prepare_report(kind, account_id, url, notes)
        except Refusal as refusal:
            self._audit_refusal(actor, member, "report", None, refusal)
            raise
        now = self.clock()
        evidence = report.evidence(member, now)
        with self.db.session() as session:
            row, created = repo.open_or_dedupe(
                session,
                kind=report.kind.value,
                account_id=report.account.id if report.account else None,
                dedupe_key=report.dedupe_key,
                title=evidence["summary"][Lang.JA.value],
                evidence=evidence,
                checklist=_empty_checklist(),
                created_by=member.id,
                at=now,
            )
            details: dict[str, Any] = {
                "kind": report.kind.value,
                "account": report.account.id if report.account else None,
                "url": report.url,
                "notes": report.notes,
                "dedupe_key": report.dedupe_key,
                "source": SOURCE_REPORT,
                "via": actor.platform,
            }
            audit.append(
                session,
                actor=member.id,
                action="incident.opened" if created else "incident.reported_again",
                subject=f"incident:{row.id}",
                details=details,
                at=now,
            )
            return self.view(row, lang, is_new=created)

    def _prepare_report(
        self,
        kind: IncidentKind | str,
        account_id: str | None,
        url: str | None,
        notes: str,
    ) -> _Report:
        try:
            incident_kind = IncidentKind(kind)
        except ValueError:
            raise UnknownIncidentKind(
                kind=kind, known=", ".join(k.value for k in IncidentKind)
            ) from None
        account: Account | None = None
        if account_id:
            account = self.directory.accounts.get(account_id)
            if account is None:
                raise UnknownAccount(account=account_id, known=", ".join(self.directory.accounts))
        cleaned_url = normalise_url(url) if url and url.strip() else None
        if cleaned_url is None and not notes.strip():
            raise ReportNeedsDetails()
        report = _Report(incident_kind, account, cleaned_url, notes.strip())
        if cleaned_url is not None:
            report.dedupe_key = f"report:url:{digest(cleaned_url, 32)}"
        profile = profile_of(cleaned_url) if cleaned_url else None
        if incident_kind is IncidentKind.IMPERSONATION and profile is not None:
            platform, handle = profile
            rules = self.impersonation_rules()
            if rules.is_known(platform, handle):
                raise ReportedKnownAccount(
                    handle=imp.Candidate(handle, "", platform=platform).shown_handle
                )
            candidate = imp.Candidate(handle=handle, name="", platform=platform, url=cleaned_url)
            best = imp.best_match(candidate, imp.watches(self.directory.accounts.values()), rules)
            report.assessment = best
            report.dedupe_key = f"impersonation:lookalike:{platform.value}:{handle.casefold()}"
            if report.account is None and best.watch is not None and best.score > 0:
                report.account = self.directory.accounts.get(best.watch.account.id)
        return report

    # ------------------------------------------------------------ the playbook

    def acknowledge(self, actor: Actor, incident_id: int, *, lang: Lang = Lang.JA) -> IncidentView:
        """The actor is on it: reminders stop."""

        def op(incident: pb.Incident, member: Member, now: datetime) -> pb.Incident:
            return pb.acknowledge(incident, member, now)

        return self._apply(
            actor, incident_id, "acknowledge", "incident.acknowledged", op, lang=lang
        )

    def tick(
        self, actor: Actor, incident_id: int, item_id: str, *, lang: Lang = Lang.JA
    ) -> IncidentView:
        """Record that the actor did a step of the checklist, and when."""

        def op(incident: pb.Incident, member: Member, now: datetime) -> pb.Incident:
            return pb.tick_step(incident, item_id, member, now)

        return self._apply(
            actor, incident_id, "tick", "incident.ticked", op, lang=lang, details={"item": item_id}
        )

    def untick(
        self, actor: Actor, incident_id: int, item_id: str, *, lang: Lang = Lang.JA
    ) -> IncidentView:
        """Undo a mis-click (only whoever ticked the step may)."""

        def op(incident: pb.Incident, member: Member, now: datetime) -> pb.Incident:
            return replace(incident, checklist=pb.untick(incident.checklist, item_id, member))

        return self._apply(
            actor,
            incident_id,
            "untick",
            "incident.unticked",
            op,
            lang=lang,
            details={"item": item_id},
        )

    def resolve(
        self, actor: Actor, incident_id: int, note: str, *, lang: Lang = Lang.JA
    ) -> IncidentView:
        """Close the incident with a note saying how it ended (the incident's responders)."""

        def op(incident: pb.Incident, member: Member, now: datetime) -> pb.Incident:
            self._require_responder(incident, member, IncidentEvent.RESOLVE)
            return pb.resolve(incident, member, now, note)

        return self._apply(
            actor,
            incident_id,
            "resolve",
            "incident.resolved",
            op,
            lang=lang,
            details={"note": note.strip()},
        )

    def reopen(
        self, actor: Actor, incident_id: int, reason: str, *, lang: Lang = Lang.JA
    ) -> IncidentView:
        """Reopen a resolved incident with a reason (the incident's responders)."""

        def op(incident: pb.Incident, member: Member, now: datetime) -> pb.Incident:
            self._require_responder(incident, member, IncidentEvent.REOPEN)
            return pb.reopen(incident, member, now, reason)

        return self._apply(
            actor,
            incident_id,
            "reopen",
            "incident.reopened",
            op,
            lang=lang,
            details={"reason": reason.strip()},
        )

    def run_action(
        self, actor: Actor, incident_id: int, item_id: str, *, lang: Lang = Lang.JA
    ) -> ActionResult:
        """A step's button: ``draft_notice`` opens a prepared notice draft for the official
        account(s) (it goes through approval like any post; a second press gives the same draft),
        ``pause_scheduled`` pauses the account's scheduled posts and ticks the step."""
        member = self._member_or_refuse(actor, "action", incident_id)
        try:
            with self.db.session(read_only=True) as session:
                row = self._row(session, incident_id)
            kind = IncidentKind(row.kind)
            item = pb.playbook(kind).item(item_id)
            if item.action is ItemAction.DRAFT_NOTICE:
                return self._draft_notice(actor, member, row, item, lang)
            if item.action is ItemAction.PAUSE_SCHEDULED:
                return self._pause(actor, member, row, item, lang)
            if item.action is ItemAction.DRAFT_CORRECTION:
                raise IncidentActionUnavailable(
                    item=item.label(), reason=message("incident.unavailable.correction")
                )
            raise NoActionForStep(item=item.label())
        except Refusal as refusal:
            self._audit_refusal(actor, member, "action", incident_id, refusal)
            raise

    def _draft_notice(
        self,
        actor: Actor,
        member: Member,
        row: IncidentRow,
        item: pb.ChecklistItem,
        lang: Lang,
    ) -> ActionResult:
        done = _actions(row).get(item.id, {})
        if done.get("draft_ids"):
            return ActionResult(self.get(_id(row), lang=lang), item.action, done["draft_ids"][0])
        kind = IncidentKind(row.kind)
        targets = self._notice_targets(kind, row.account_id)
        if kind is IncidentKind.HIJACK:
            hijacked = self.directory.accounts.get(row.account_id or "")
            if hijacked is None:
                raise IncidentNeedsAccount()
            text = pb.hijack_notice(self.organisation, hijacked)
        else:
            text = pb.impersonation_notice(
                self.organisation, targets, suspect=_suspect(row) or None
            )
        created = self.drafts.create(
            actor, NewDraft(text=text, targets=tuple(a.id for a in targets), source="incident")
        )
        draft_id = created.draft.id
        view = self._record_action(
            member,
            _id(row),
            item,
            {"draft_ids": [draft_id]},
            details={"draft_id": draft_id, "targets": [a.id for a in targets]},
            tick=False,
            lang=lang,
        )
        return ActionResult(view, item.action, draft_id=draft_id)

    def _notice_targets(self, kind: IncidentKind, account_id: str | None) -> list[Account]:
        """Who posts the notice: the imitated account itself (its followers are the ones at risk)
        or, for a hijack, the other official accounts — never the hijacked one."""
        accounts = list(self.directory.accounts.values())
        own = self.directory.accounts.get(account_id or "")
        if (
            kind is IncidentKind.IMPERSONATION
            and own is not None
            and own.platform in _NOTICE_PLATFORMS
        ):
            return [own]
        official = [a for a in accounts if a.official and a.platform in _NOTICE_PLATFORMS]
        if kind is IncidentKind.HIJACK:
            official = [a for a in official if a.id != account_id]
        if not official:
            raise NoNoticeAccount(reason=message("incident.kind." + kind.value))
        return official

    def _pause(
        self,
        actor: Actor,
        member: Member,
        row: IncidentRow,
        item: pb.ChecklistItem,
        lang: Lang,
    ) -> ActionResult:
        if not row.account_id:
            raise IncidentNeedsAccount()
        pauser = self._pauser(item)
        reason = message(
            "incident.pause_reason", Lang.JA, incident=_id(row), kind=IncidentKind(row.kind).label()
        )
        result = pauser.pause(actor, account_id=row.account_id, reason=reason)
        view = self._record_action(
            member,
            _id(row),
            item,
            {"held": len(result.publication_ids)},
            details={"account": row.account_id, "held": list(result.publication_ids)},
            tick=True,
            lang=lang,
        )
        return ActionResult(view, item.action, pause=result)

    def _pauser(self, item: pb.ChecklistItem) -> Pauser:
        if self.publications is not None:
            return self.publications
        try:
            # Built by another work item; imported only when a pause is asked for.
            from handlers import publishing  # noqa: PLC0415
        except ImportError:
            publishing = None  # type: ignore[assignment]
        factory = getattr(publishing, "PublicationUseCases", None) if publishing else None
        if factory is None or not hasattr(factory, "pause"):
            raise IncidentActionUnavailable(
                item=item.label(), reason=message("incident.unavailable.pause")
            )
        built = factory(
            db=self.db,
            directory=self.directory,
            calendar_for=self.drafts.calendar_for,
            clock=self.clock,
        )
        return cast(Pauser, built)

    def _record_action(
        self,
        member: Member,
        incident_id: int,
        item: pb.ChecklistItem,
        result: dict[str, Any],
        *,
        details: dict[str, Any],
        tick: bool,
        lang: Lang,
    ) -> IncidentView:
        """Store what a step's action made (and tick the step if the action is the step)."""
        for _attempt in range(3):
            now = self.clock()
            with self.db.session() as session:
                row = self._row(session, incident_id, for_update=True)
                incident = _incident(row)
                if tick and incident.checklist.tick_of(item.id) is None:
                    incident = pb.tick_step(incident, item, member, now)
                actions = _actions(row)
                merged = dict(actions.get(item.id, {}))
                for key, value in result.items():
                    if isinstance(value, list):
                        merged[key] = [*merged.get(key, []), *value]
                    else:
                        merged[key] = value
                actions[item.id] = merged
                if not repo.save(
                    session, row, checklist=_checklist_json(incident, actions), updated_at=now
                ):
                    continue
                audit.append(
                    session,
                    actor=member.id,
                    action="incident.action",
                    subject=f"incident:{incident_id}",
                    details={"item": item.id, "action": item.action.value, **details},
                    at=now,
                )
                return self.view(self._row(session, incident_id), lang)
        raise AssertionError("unreachable: three conflicts in a row")  # pragma: no cover

    # ------------------------------------------------------------ reading

    def get(self, incident_id: int, *, lang: Lang = Lang.JA) -> IncidentView:
        with self.db.session(read_only=True) as session:
            return self.view(self._row(session, incident_id), lang)

    def list_open(self, *, lang: Lang = Lang.JA, limit: int = 100) -> list[IncidentView]:
        """Open and acknowledged incidents, newest first (App Home)."""
        states = (IncidentState.OPEN.value, IncidentState.ACKNOWLEDGED.value)
        return self.list_incidents(states=states, lang=lang, limit=limit)

    def list_incidents(
        self, *, states: Sequence[str] = (), lang: Lang = Lang.JA, limit: int = 100
    ) -> list[IncidentView]:
        with self.db.session(read_only=True) as session:
            rows = repo.list_incidents(session, states=states, limit=limit)
            return [self.view(r, lang) for r in rows]

    # ------------------------------------------------------------ reminders

    def claim_reminders(
        self, *, after: timedelta, every: timedelta | None = None, lang: Lang = Lang.JA
    ) -> list[IncidentView]:
        """Unacknowledged incidents opened more than ``after`` ago and not reminded of in the
        last ``every`` (default: ``after``), marked reminded now: remind people of each of them.

        Claimed in one statement, so of several replicas only one reminds of an incident.
        """
        if after <= timedelta(0) or (every is not None and every <= timedelta(0)):
            raise ValueError("after and every must be positive")
        now = self.clock()
        with self.db.session() as session:
            rows = repo.claim_reminders(
                session,
                created_before=now - after,
                reminded_before=now - (every or after),
                at=now,
            )
            for row in rows:
                audit.append(
                    session,
                    actor=MONITOR_ACTOR,
                    action="incident.reminded",
                    subject=f"incident:{row.id}",
                    details={"opened_at": row.created_at.isoformat(), "state": row.state},
                    at=now,
                )
            return [self.view(r, lang) for r in rows]

    def reminder_text(self, view: IncidentView, *, lang: Lang = Lang.JA) -> str:
        age = self.clock() - view.created_at
        minutes = max(1, int(age.total_seconds() // 60))
        span = timedelta(minutes=minutes if minutes < 60 else (minutes // 60) * 60)
        return message("incident.reminder", lang, age=duration(span, lang), summary=view.summary)

    # ------------------------------------------------------------ views

    def view(self, row: IncidentRow, lang: Lang = Lang.JA, *, is_new: bool = False) -> IncidentView:
        kind = IncidentKind(row.kind)
        state = IncidentState(row.state)
        evidence = row.evidence or {}
        account = self.directory.accounts.get(row.account_id or "")
        book = pb.playbook(kind)
        incident = _incident(row)
        actions = _actions(row)
        lines = []
        for item, line in zip(book.items, incident.checklist.lines(lang), strict=True):
            text = line
            done = incident.checklist.tick_of(item.id)
            result = actions.get(item.id, {})
            draft_ids = tuple(int(d) for d in result.get("draft_ids", []))
            if draft_ids:
                text += message(
                    "incident.action.drafted", lang, drafts=", #".join(map(str, draft_ids))
                )
            if "held" in result:
                text += message("incident.action.paused", lang, count=result["held"])
            lines.append(
                ChecklistLineView(
                    item_id=item.id,
                    label=item.label(lang),
                    action=item.action,
                    done=done is not None,
                    text=text,
                    done_by_id=done.member_id if done else None,
                    done_by_name=done.member_name if done else None,
                    done_at=done.at if done else None,
                    draft_ids=draft_ids,
                )
            )
        recipients = tuple(
            RecipientView(r.member_id, self._name(r.member_id), r.role, r.role.label(lang))
            for r in pb.recipients(kind, account, self.directory)
        )
        return IncidentView(
            id=_id(row),
            version=row.version,
            kind=kind,
            kind_label=kind.label(lang),
            state=state,
            state_label=state.label(lang),
            account_id=row.account_id,
            account_label=_account_label(evidence.get("account"), account, lang),
            title=row.title,
            summary=_localised(evidence.get("summary"), lang) or row.title,
            rows=tuple(
                (str(label), str(value))
                for label, value in (_localised(evidence.get("rows"), lang) or [])
            ),
            checklist=tuple(lines),
            recipients=recipients,
            audience=AlertAudience(
                channel=self.alert_channel,
                mention_everyone=True,
                dm_member_ids=tuple(r.member_id for r in recipients),
            ),
            source=str(evidence.get("source", SOURCE_MONITOR)),
            created_at=row.created_at,
            created_by=row.created_by,
            created_by_name=self._name(row.created_by),
            manual=book.manual,
            dedupe_key=row.dedupe_key,
            resolution=row.resolution,
            history=tuple(
                HistoryLine(
                    s.event, s.event.label(lang), s.member_id, self._name(s.member_id), s.at, s.note
                )
                for s in incident.history
            ),
            allowed_events=pb.allowed_events(state),
            reminded_at=row.reminded_at,
            is_new=is_new,
        )

    # ------------------------------------------------------------ machinery

    def _apply(
        self,
        actor: Actor,
        incident_id: int,
        op_name: str,
        action: str,
        op: Callable[[pb.Incident, Member, datetime], pb.Incident],
        *,
        lang: Lang,
        details: dict[str, Any] | None = None,
    ) -> IncidentView:
        """Run ``op`` on the freshly read incident in one transaction; on a concurrent change,
        read again and decide again (the rules then say why not); audit every refusal."""
        member = self._member_or_refuse(actor, op_name, incident_id)
        for attempt in range(3):
            try:
                with self.db.session() as session:
                    now = self.clock()
                    row = self._row(session, incident_id, for_update=True)
                    changed = op(_incident(row), member, now)
                    values: dict[str, Any] = {
                        "state": changed.state.value,
                        "checklist": _checklist_json(changed, _actions(row)),
                        "resolution": changed.resolution,
                        "updated_at": now,
                    }
                    if not repo.save(session, row, **values):
                        raise _Conflict
                    audit.append(
                        session,
                        actor=member.id,
                        action=action,
                        subject=f"incident:{incident_id}",
                        details={
                            "state": changed.state.value,
                            "via": actor.platform,
                            **(details or {}),
                        },
                        at=now,
                    )
                    return self.view(self._row(session, incident_id), lang)
            except _Conflict:
                log.info(
                    "incident %s changed meanwhile (try %d): deciding again", incident_id, attempt
                )
            except Refusal as refusal:
                self._audit_refusal(actor, member, op_name, incident_id, refusal)
                raise
        raise AssertionError("unreachable: three conflicts in a row")  # pragma: no cover

    def _row(self, session: Session, incident_id: int, *, for_update: bool = False) -> IncidentRow:
        row = repo.get(session, incident_id, for_update=for_update)
        if row is None:
            raise UnknownIncident(incident=incident_id)
        return row

    def _require_responder(
        self, incident: pb.Incident, member: Member, event: IncidentEvent
    ) -> None:
        account = self.directory.accounts.get(incident.account_id or "")
        allowed = [r.member_id for r in pb.recipients(incident.kind, account, self.directory)]
        if member.id not in allowed:
            names = "、".join(self._name(m) for m in allowed) or "-"
            raise NotAnIncidentResponder(action=event.label(), allowed=names)

    def _member_or_refuse(self, actor: Actor, op: str, incident_id: int | None) -> Member:
        try:
            return self.member(actor)
        except UnknownMember as refusal:
            self._audit_refusal(actor, None, op, incident_id, refusal)
            raise

    def _audit_refusal(
        self,
        actor: Actor,
        member: Member | None,
        op: str,
        incident_id: int | None,
        refusal: Refusal,
    ) -> None:
        audit_refusal(
            self.db,
            action="incident.refused",
            subject=f"incident:{incident_id}" if incident_id is not None else "incident:-",
            actor=actor,
            member=member,
            operation=op,
            refusal=refusal,
            at=self.clock(),
        )

    def _name(self, member_id: str) -> str:
        member = self.directory.member(member_id)
        return member.name if member else member_id


# ---------------------------------------------------------------- a report being prepared


@dataclass
class _Report:
    kind: IncidentKind
    account: Account | None
    url: str | None
    notes: str
    dedupe_key: str | None = None
    assessment: imp.Assessment | None = field(default=None)

    def evidence(self, reporter: Member, at: datetime) -> dict[str, Any]:
        ref = AccountRef.of(self.account) if self.account else None
        data: dict[str, Any] = {
            "url": self.url,
            "notes": self.notes,
            "reported_by": reporter.id,
            "reported_at": at.isoformat(),
        }
        summaries: dict[str, str] = {}
        rows: dict[str, list[list[str]]] = {}
        lookalike = None
        if self.assessment is not None:
            a = self.assessment
            lookalike = imp.LookalikeEvidence(a.candidate, a.score, a.threshold, a.reasons)
            data["lookalike"] = lookalike.to_dict()
        for lang in Lang:
            account = ref.label(lang) if ref else message("incident.no_account", lang)
            if lookalike is not None:
                summaries[lang.value] = message(
                    "incident.summary.report_lookalike",
                    lang,
                    reporter=reporter.name,
                    account=account,
                    handle=lookalike.candidate.shown_handle,
                    score=lookalike.score,
                )
            else:
                summaries[lang.value] = message(
                    "incident.summary.report",
                    lang,
                    reporter=reporter.name,
                    kind=self.kind.label(lang),
                    account=account,
                )
            none = message("incident.none", lang)
            lines = [
                [message("incident.field.account", lang), account],
                [message("incident.field.reported_by", lang), reporter.name],
                [message("incident.field.reported_at", lang), format_when(at, lang)],
                [message("incident.field.url", lang), self.url or none],
                [message("incident.field.notes", lang), self.notes or none],
            ]
            if lookalike is not None:
                lines += [list(r) for r in lookalike.rows(lang)]
            rows[lang.value] = lines
        return {
            "source": SOURCE_REPORT,
            "cause": "lookalike" if lookalike is not None else "report",
            "account": _account_json(ref) if ref else None,
            "summary": summaries,
            "rows": rows,
            "data": data,
        }


# ---------------------------------------------------------------- URLs


def normalise_url(url: str) -> str:
    """A reported URL as compared for deduplication: scheme and host lower-cased, ``www.`` and a
    trailing ``/`` and the fragment dropped, twitter.com as x.com. ReportUrlInvalid if unusable."""
    raw = url.strip().strip("<>")
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in {"http", "https"} or "." not in host or " " in raw:
        raise ReportUrlInvalid(url=url.strip())
    host = host.removeprefix("www.")
    if host in {"twitter.com", "mobile.twitter.com"}:
        host = "x.com"
    path = parts.path.rstrip("/")
    return urlunsplit(("https", host, path, parts.query, ""))


def profile_of(url: str) -> tuple[Platform, str] | None:
    """The platform and handle of an account's profile or post URL (x.com/midori_clty,
    x.com/midori_clty/status/1, instagram.com/name/), else None."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    platform = _PROFILE_HOSTS.get(host)
    segments = [s for s in parts.path.split("/") if s]
    if platform is None or not segments:
        return None
    handle = segments[0].lstrip("@")
    if handle.lower() in _RESERVED_PATHS or not _HANDLE.match(handle):
        return None
    if platform is Platform.X and len(segments) > 1 and segments[1] != "status":
        return None
    return platform, handle


# ---------------------------------------------------------------- stored forms


def _empty_checklist() -> dict[str, Any]:
    return {"ticks": [], "history": [], "actions": {}}


def _incident(row: IncidentRow) -> pb.Incident:
    kind = IncidentKind(row.kind)
    stored = row.checklist or {}
    ticks = tuple(
        pb.Tick(
            item=str(t["item"]),
            member_id=str(t["member_id"]),
            member_name=str(t["member_name"]),
            at=datetime.fromisoformat(t["at"]),
        )
        for t in stored.get("ticks", [])
    )
    history = tuple(
        pb.Step(
            event=IncidentEvent(s["event"]),
            member_id=str(s["member_id"]),
            at=datetime.fromisoformat(s["at"]),
            note=str(s.get("note", "")),
        )
        for s in stored.get("history", [])
    )
    return pb.Incident(
        kind=kind,
        account_id=row.account_id,
        checklist=pb.Checklist(kind, ticks),
        state=IncidentState(row.state),
        history=history,
    )


def _checklist_json(incident: pb.Incident, actions: dict[str, Any]) -> dict[str, Any]:
    return {
        "ticks": [
            {
                "item": t.item,
                "member_id": t.member_id,
                "member_name": t.member_name,
                "at": t.at.isoformat(),
            }
            for t in incident.checklist.ticks
        ],
        "history": [
            {
                "event": s.event.value,
                "member_id": s.member_id,
                "at": s.at.isoformat(),
                "note": s.note,
            }
            for s in incident.history
        ],
        "actions": actions,
    }


def _actions(row: IncidentRow) -> dict[str, Any]:
    return dict((row.checklist or {}).get("actions", {}))


def _account_json(ref: AccountRef) -> dict[str, str]:
    return {
        "id": ref.id,
        "platform": ref.platform.value,
        "handle": ref.handle,
        "display_name": ref.display_name,
    }


def _account_label(stored: Any, account: Account | None, lang: Lang) -> str:
    if isinstance(stored, dict):
        ref = AccountRef(
            str(stored["id"]),
            Platform(stored["platform"]),
            str(stored["handle"]),
            str(stored["display_name"]),
        )
        return ref.label(lang)
    if account is not None:
        return AccountRef.of(account).label(lang)
    return message("incident.no_account", lang)


def _localised(value: Any, lang: Lang) -> Any:
    if isinstance(value, dict):
        return value.get(lang.value) or value.get(Lang.JA.value)
    return None


def _suspect(row: IncidentRow) -> str:
    """The impostor's handle as shown (@midori_clty), from the look-up or the report."""
    data = (row.evidence or {}).get("data") or {}
    lookalike = data.get("lookalike")
    found: dict[str, Any] = lookalike if isinstance(lookalike, dict) else data
    handle = found.get("handle")
    if not handle:
        return ""
    platform = Platform(found.get("platform", Platform.X.value))
    return imp.Candidate(str(handle), "", platform=platform).shown_handle


def _id(row: IncidentRow) -> int:
    assert row.id is not None
    return row.id
