"""The draft use cases, shared by Slack, Teams and the CLI: create, submit, peer-check, approve,
request changes, reject, revise, withdraw, and the lists people look at.

Each use case resolves the actor from their chat identity, runs one workflow operation inside one
database transaction (the draft row guarded by its version, so two simultaneous clicks yield one
decision), writes the audit event in that same transaction, and returns a view model. A refusal
changes nothing and is itself audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from handlers.views import (
    DraftSummary,
    DraftView,
    FindingView,
    Notice,
    PublicationView,
    Result,
    ReviewView,
    TargetView,
)
from storage import audit
from storage import drafts as repo
from storage import web as web_reads
from storage.drafts import Conflict, LoadedDraft, StoredFinding
from storage.engine import Database
from storage.tables import Draft
from workflows import approval as ap
from workflows.approval import ChecklistItem, Content, Outcome
from workflows.calendar import BusinessCalendar
from workflows.checks import Checker, CheckSettings, DraftToCheck, PastPost, Platform, Severity
from workflows.checks.model import MediaItem
from workflows.errors import Refusal, UnknownMember
from workflows.lifecycle import DraftState, Event
from workflows.org import Account, Directory, Member
from workflows.xtext import weighted_length

log = logging.getLogger(__name__)


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, as their platform identified them (from the signed request, never a button)."""

    platform: str  # "slack", "teams", "cli"
    user_id: str  # Slack user id, Teams AAD object id, or a member id on the CLI


def member_of(directory: Directory, actor: Actor) -> Member:
    """The member behind a chat identity (or a member id on the CLI); UnknownMember if none."""
    found: Member | None
    if actor.platform == "slack":
        found = directory.by_slack_user(actor.user_id)
    elif actor.platform == "teams":
        found = directory.by_teams_user(actor.user_id)
    else:
        found = directory.member(actor.user_id)
    if found is None:
        raise UnknownMember(who=f"{actor.platform}:{actor.user_id}")
    return found


def audit_refusal(
    db: Database,
    *,
    action: str,
    subject: str,
    actor: Actor,
    member: Member | None,
    operation: str,
    refusal: Refusal,
    at: datetime,
) -> None:
    """Record a refused request (nothing else changed): who, through which platform, and why."""
    with db.session() as session:
        audit.append(
            session,
            actor=member.id if member else f"{actor.platform}:{actor.user_id}",
            action=action,
            subject=subject,
            details={
                "operation": operation,
                "refusal": refusal.key,
                "message": refusal.message(),
                "via": actor.platform,
                "platform_user": actor.user_id,
            },
            at=at,
        )


@dataclass(frozen=True, slots=True)
class NewDraft:
    text: str
    targets: tuple[str, ...] = ()
    variants: dict[Platform, str] = field(default_factory=dict)
    media: tuple[str, ...] = ()
    publish_at: datetime | None = None
    emergency: bool = False
    source: str = "cli"
    correction_of: int | None = None  # the draft this one corrects (manual §8 (3))


@dataclass
class DraftUseCases:
    db: Database
    directory: Directory
    check_settings: CheckSettings
    calendar_for: Callable[[Account | None], BusinessCalendar]
    clock: Clock = utc_now
    recent_posts: Callable[[Session, Sequence[str], datetime], Sequence[PastPost]] = (
        lambda _session, _accounts, _at: ()
    )

    # ------------------------------------------------------------------ identity

    def member(self, actor: Actor) -> Member:
        return member_of(self.directory, actor)

    # ------------------------------------------------------------------ checks

    def check(
        self, content: Content, *, at: datetime, emergency: bool, session: Session | None = None
    ) -> list[StoredFinding]:
        """Run the checker on every text of the draft for the accounts it goes to."""
        groups: dict[tuple[str, int], tuple[BusinessCalendar, list[Platform]]] = {}
        texts: dict[str, str] = {}
        for account_id in content.targets:
            account = self.directory.accounts[account_id]
            key = account.platform.value if account.platform in content.variants else "text"
            texts[key] = content.text_for(account.platform)
            calendar = self.calendar_for(account)
            group = groups.setdefault((key, id(calendar.hours)), (calendar, []))
            if account.platform not in group[1]:
                group[1].append(account.platform)
        history: Sequence[PastPost] = ()
        if session is not None:
            history = self.recent_posts(session, content.targets, at)
        found: dict[tuple[str, str, int, int, str], StoredFinding] = {}
        for (key, _), (calendar, platforms) in groups.items():
            checker = Checker(self.check_settings, calendar)
            result = checker.check(
                DraftToCheck(
                    text=texts[key],
                    at=at,
                    platforms=tuple(platforms),
                    emergency=emergency,
                    media=tuple(MediaItem(m) for m in content.media),
                    history=tuple(history),
                )
            )
            for f in result.findings:
                found.setdefault((key, f.rule, f.start, f.end, f.message), StoredFinding(f, key))
        return list(found.values())

    # ------------------------------------------------------------------ use cases

    def create(self, actor: Actor, new: NewDraft) -> Result:
        """A drafter's message becomes a draft: checked, stored, shown back with its findings."""
        member = self._member_or_refuse(actor, "create", None)
        content = Content(
            text=new.text, targets=new.targets, variants=new.variants, media=new.media
        )
        try:
            ap.validate_content(content, self.directory)
        except Refusal as refusal:
            self._audit_refusal(actor, member, "create", None, refusal)
            raise
        now = self.clock()
        with self.db.session() as session:
            findings = self.check(
                content, at=new.publish_at or now, emergency=new.emergency, session=session
            )
            loaded = repo.create(
                session,
                author_id=member.id,
                content=content,
                findings=findings,
                publish_at=new.publish_at,
                emergency=new.emergency,
                source=new.source,
                at=now,
                correction_of=new.correction_of,
            )
            audit.append(
                session,
                actor=member.id,
                action="draft.created",
                subject=f"draft:{loaded.id}",
                details={
                    "revision": 1,
                    "content_hash": content.hash(),
                    "targets": list(content.targets),
                    "errors": sum(1 for f in findings if f.finding.severity is Severity.ERROR),
                    "warnings": sum(1 for f in findings if f.finding.severity is Severity.WARNING),
                    "source": new.source,
                    **({"correction_of": new.correction_of} if new.correction_of else {}),
                },
                at=now,
            )
            return Result(self._view(session, loaded))

    def submit(self, actor: Actor, draft_id: int) -> Result:
        def op(process: ap.Process, member: Member) -> Outcome:
            return ap.submit(process, member, self.directory)

        return self._apply(actor, draft_id, "submit", op)

    def peer_check(
        self,
        actor: Actor,
        draft_id: int,
        *,
        shown_revision: int,
        checklist: Iterable[ChecklistItem],
        comment: str | None = None,
    ) -> Result:
        items = tuple(checklist)

        def op(process: ap.Process, member: Member) -> Outcome:
            return ap.peer_check(
                process,
                member,
                self.directory,
                shown_revision=shown_revision,
                checklist=items,
                at=self.clock(),
                comment=comment,
            )

        return self._apply(actor, draft_id, "peer_check", op)

    def approve(
        self,
        actor: Actor,
        draft_id: int,
        *,
        shown_revision: int,
        checklist: Iterable[ChecklistItem],
        acknowledged: Iterable[str],
        publish_at: datetime | None = None,
        comment: str | None = None,
    ) -> Result:
        """Approve for the actor's section(s); the last approval queues the publications."""
        items, acks = tuple(checklist), tuple(acknowledged)

        def op(process: ap.Process, member: Member) -> Outcome:
            return ap.approve(
                process,
                member,
                self.directory,
                shown_revision=shown_revision,
                checklist=items,
                acknowledged=acks,
                at=self.clock(),
                comment=comment,
            )

        return self._apply(actor, draft_id, "approve", op, publish_at=publish_at)

    def may_approve(self, actor: Actor, draft_id: int, *, shown_revision: int) -> DraftView:
        """The draft, if the actor may approve this revision now; else the refusal (audited)
        with the reason: asked at the click, before anyone fills in the approval form."""

        def body(session: Session, loaded: LoadedDraft, member: Member) -> Result:
            author = repo.author_of(session, loaded.draft.author_id, self.directory)
            process = loaded.process(author, self.directory)
            ap.require_may_approve(process, member, self.directory, shown_revision=shown_revision)
            return Result(self._view(session, loaded))

        return self._transact(actor, draft_id, "approve", body).draft

    def request_changes(
        self, actor: Actor, draft_id: int, *, shown_revision: int, reason: str
    ) -> Result:
        """Send the draft back to its author (差し戻し); a reason is required."""
        return self._decide_against(actor, draft_id, ap.request_changes, shown_revision, reason)

    def reject(self, actor: Actor, draft_id: int, *, shown_revision: int, reason: str) -> Result:
        """Refuse the draft for good (却下); a reason is required."""
        return self._decide_against(actor, draft_id, ap.reject, shown_revision, reason)

    def _decide_against(
        self,
        actor: Actor,
        draft_id: int,
        decide: Callable[..., Outcome],
        shown_revision: int,
        reason: str,
    ) -> Result:
        def op(process: ap.Process, member: Member) -> Outcome:
            return decide(
                process,
                member,
                self.directory,
                shown_revision=shown_revision,
                reason=reason,
                at=self.clock(),
            )

        return self._apply(actor, draft_id, decide.__name__, op, details={"reason": reason})

    def revise(
        self,
        actor: Actor,
        draft_id: int,
        *,
        text: str,
        targets: tuple[str, ...] | None = None,
        variants: dict[Platform, str] | None = None,
        media: tuple[str, ...] | None = None,
        publish_at: datetime | None = None,
        emergency: bool | None = None,
    ) -> Result:
        """A new revision: checked again; earlier reviews void; queued posts cancelled."""

        def body(session: Session, loaded: LoadedDraft, member: Member) -> Result:
            old = loaded.content
            content = Content(
                text=text,
                targets=targets if targets is not None else old.targets,
                variants=variants if variants is not None else dict(old.variants),
                media=media if media is not None else old.media,
            )
            now = self.clock()
            when = publish_at or loaded.draft.publish_at
            urgent = loaded.draft.emergency if emergency is None else emergency
            findings = self.check(content, at=when or now, emergency=urgent, session=session)
            author = repo.author_of(session, loaded.draft.author_id, self.directory)
            outcome = ap.revise(
                loaded.process(author, self.directory),
                member,
                self.directory,
                content=content,
                errors=sum(1 for f in findings if f.finding.severity is Severity.ERROR),
                warnings=repo.warning_ids(findings),
            )
            cancelled = repo.cancel_publications(session, loaded.id, at=now, reason="revised")
            saved = repo.save(
                session,
                loaded,
                outcome,
                actor_id=member.id,
                at=now,
                findings=findings,
                details={"via": actor.platform, "cancelled_publications": cancelled},
                publish_at=when,
                update_publish_at=True,
                emergency=urgent,
            )
            return Result(self._view(session, saved), self._notices(outcome))

        return self._transact(actor, draft_id, "revise", body)

    def withdraw(self, actor: Actor, draft_id: int) -> Result:
        def op(process: ap.Process, member: Member) -> Outcome:
            return ap.withdraw(process, member, self.directory)

        return self._apply(actor, draft_id, "withdraw", op)

    def get(self, draft_id: int) -> DraftView:
        with self.db.session(read_only=True) as session:
            return self._view(session, repo.load(session, draft_id))

    def my_drafts(self, actor: Actor) -> list[DraftSummary]:
        member = self.member(actor)
        with self.db.session(read_only=True) as session:
            return [self._summary(session, d) for d in repo.by_author(session, member.id)]

    def awaiting(self, actor: Actor) -> list[DraftSummary]:
        """Drafts waiting for this member: peer checks of colleagues, approvals they may give."""
        member = self.member(actor)
        out: list[DraftSummary] = []
        with self.db.session(read_only=True) as session:
            candidates = repo.in_states(
                session, (DraftState.IN_REVIEW, DraftState.AWAITING_APPROVAL)
            )
            for row in candidates:
                assert row.id is not None
                loaded = repo.load(session, row.id)
                author = repo.author_of(session, row.author_id, self.directory)
                process = loaded.process(author, self.directory)
                if member.id == process.author_id:
                    continue
                if process.state is DraftState.IN_REVIEW:
                    mine = (
                        member.section == process.route.author_section
                        and member.id not in process.peer_checkers()
                    )
                else:
                    mine = bool(ap.approvable_sections(process, member, self.directory))
                if mine:
                    out.append(self._summary(session, row))
        return out

    def in_states(self, states: Sequence[DraftState], *, limit: int = 200) -> list[DraftSummary]:
        """The most recently changed drafts in these states, newest first (the web console)."""
        with self.db.session(read_only=True) as session:
            rows = web_reads.newest_in_states(session, [s.value for s in states], limit=limit)
            return [self._summary(session, d) for d in rows]

    # ------------------------------------------------------------------ machinery

    def _member_or_refuse(self, actor: Actor, op: str, draft_id: int | None) -> Member:
        try:
            return self.member(actor)
        except UnknownMember as refusal:
            self._audit_refusal(actor, None, op, draft_id, refusal)
            raise

    def _apply(
        self,
        actor: Actor,
        draft_id: int,
        op_name: str,
        op: Callable[[ap.Process, Member], Outcome],
        *,
        details: dict[str, object] | None = None,
        publish_at: datetime | None = None,
    ) -> Result:
        def body(session: Session, loaded: LoadedDraft, member: Member) -> Result:
            author = repo.author_of(session, loaded.draft.author_id, self.directory)
            outcome = op(loaded.process(author, self.directory), member)
            now = self.clock()
            if outcome.event is Event.WITHDRAWN:
                repo.cancel_publications(session, draft_id, at=now, reason="withdrawn")
            saved = repo.save(
                session,
                loaded,
                outcome,
                actor_id=member.id,
                at=now,
                details={"via": actor.platform, **(details or {})},
                publish_at=publish_at,
                update_publish_at=publish_at is not None,
            )
            if outcome.event is Event.APPROVED:
                due = saved.draft.publish_at or now
                repo.create_publications(session, saved, due_at=max(due, now), at=now)
            return Result(self._view(session, saved), self._notices(outcome))

        return self._transact(actor, draft_id, op_name, body)

    def _transact(
        self,
        actor: Actor,
        draft_id: int,
        op_name: str,
        body: Callable[[Session, LoadedDraft, Member], Result],
    ) -> Result:
        """Run ``body`` on the freshly read draft in one transaction; on a concurrent change,
        read again and decide again (the rules then say why not); audit every refusal."""
        member = self._member_or_refuse(actor, op_name, draft_id)
        for attempt in range(3):
            try:
                with self.db.session() as session:
                    return body(session, repo.load(session, draft_id, for_update=True), member)
            except (Conflict, IntegrityError):
                log.info("draft %s changed meanwhile (try %d): deciding again", draft_id, attempt)
            except Refusal as refusal:
                self._audit_refusal(actor, member, op_name, draft_id, refusal)
                raise
        raise AssertionError("unreachable: three conflicts in a row")  # pragma: no cover

    def _audit_refusal(
        self,
        actor: Actor,
        member: Member | None,
        op: str,
        draft_id: int | None,
        refusal: Refusal,
    ) -> None:
        audit_refusal(
            self.db,
            action="draft.refused",
            subject=f"draft:{draft_id}" if draft_id is not None else "draft:-",
            actor=actor,
            member=member,
            operation=op,
            refusal=refusal,
            at=self.clock(),
        )

    def _notices(self, outcome: Outcome) -> tuple[Notice, ...]:
        process = outcome.process
        author = process.author_id
        if outcome.event is Event.TO_PEERS or outcome.event is Event.PEER_CHECKED:
            colleagues = [
                m for m in self.directory.colleagues(author) if m not in process.peer_checkers()
            ]
            # A peer checker may not approve the draft: its approvers are asked only when
            # nobody else could check it.
            needed = {
                a for s in process.route.approving_sections for a in self.directory.approvers(s)
            }
            others = tuple(m for m in colleagues if m not in needed)
            return (Notice(others or tuple(colleagues), "peer_check_requested"),)
        if outcome.event in (Event.TO_APPROVERS, Event.APPROVAL_RECORDED):
            approvers = tuple(
                dict.fromkeys(
                    m
                    for s in process.pending_sections()
                    for m in self.directory.approvers(s)[:1]
                    if m != author
                )
            )
            notices = [Notice(approvers, "approval_requested")]
            if outcome.event is Event.APPROVAL_RECORDED:
                notices.append(Notice((author,), "partly_approved"))
            return tuple(notices)
        if outcome.event in (Event.APPROVED, Event.CHANGES_REQUESTED, Event.REJECTED):
            return (Notice((author,), outcome.event.value),)
        return ()

    def _view(self, session: Session, loaded: LoadedDraft) -> DraftView:
        author = repo.author_of(session, loaded.draft.author_id, self.directory)
        process = loaded.process(author, self.directory)
        content = process.content
        targets = tuple(
            TargetView(
                account_id=a.id,
                platform=a.platform,
                handle=a.handle,
                display_name=a.display_name,
                approving_section=a.approving_section,
            )
            for a in (self.directory.accounts[t] for t in content.targets)
        )
        findings = tuple(
            FindingView(
                rule=s.finding.rule,
                severity=s.finding.severity,
                message=s.finding.message,
                quote=_quote(content, s),
                suggestion=s.finding.suggestion,
                text_key=s.text_key,
                warning_id=wid,
            )
            for s, wid in _with_warning_ids(loaded.findings)
        )
        x_targets = [t for t in targets if t.platform is Platform.X]
        reviews = tuple(
            ReviewView(
                reviewer_id=r.reviewer_id,
                reviewer_name=_name(self.directory, r.reviewer_id),
                kind=r.kind.value,
                decision=r.decision.value,
                section=r.section,
                comment=r.comment,
                at=r.at,
                revision=r.revision,
            )
            for r in process.current_reviews()
        )
        return DraftView(
            id=loaded.id,
            revision=process.revision,
            state=process.state,
            state_label=process.state.label(),
            author_id=author.id,
            author_name=author.name,
            text=content.text,
            variants=dict(content.variants),
            media=content.media,
            targets=targets,
            publish_at=loaded.draft.publish_at,
            emergency=loaded.draft.emergency,
            findings=findings,
            x_weighted_length=(
                weighted_length(content.text_for(Platform.X)) if x_targets else None
            ),
            reviews=reviews,
            peer_checks_required=process.route.peer_checks,
            peer_checks_done=len(process.peer_checkers()),
            pending_sections=process.pending_sections(),
            approvers={
                s: tuple(_name(self.directory, m) for m in self.directory.approvers(s))
                for s in process.route.approving_sections
            },
            content_hash=process.content_hash,
            publications=tuple(
                PublicationView(
                    account_id=p.account_id,
                    state=p.state,
                    due_at=p.due_at,
                    permalink=p.permalink,
                    last_error=p.last_error,
                )
                for p in repo.publications_of(session, loaded.id)
                if p.revision == process.revision
            ),
        )

    def _summary(self, session: Session, row: Draft) -> DraftSummary:
        assert row.id is not None
        loaded = repo.load(session, row.id)
        text = loaded.revision.text
        state = DraftState(row.state)
        return DraftSummary(
            id=row.id,
            state=state,
            state_label=state.label(),
            author_name=_name(self.directory, row.author_id),
            excerpt=text if len(text) <= 40 else text[:39] + "…",
            targets=tuple(loaded.revision.targets),
            publish_at=row.publish_at,
            updated_at=row.updated_at,
        )


def _name(directory: Directory, member_id: str) -> str:
    member = directory.member(member_id)
    return member.name if member else member_id


def _with_warning_ids(
    findings: Sequence[StoredFinding],
) -> list[tuple[StoredFinding, str | None]]:
    ids = iter(repo.warning_ids(findings))
    return [(f, next(ids) if f.finding.severity is Severity.WARNING else None) for f in findings]


def _quote(content: Content, stored: StoredFinding) -> str:
    text = (
        content.text if stored.text_key == "text" else content.variants[Platform(stored.text_key)]
    )
    return text[stored.finding.start : stored.finding.end]
