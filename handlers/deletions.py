"""Deleting published posts (manual §8 (3)), shared by Slack, Teams and the CLI: request,
approve, reject, open a correction draft, and the views people look at.

The rules live in ``workflows.deletion``; the outbox (handlers/publishing.py) carries approved
deletions out through each account's client. Each use case resolves the actor, decides in one
transaction (the request row locked on PostgreSQL; every SQLite write is serialised), appends its
audit event (``deletion.requested``, ``deletion.approved``, ``deletion.rejected``,
``deletion.correction_opened``; the outbox adds ``deletion.sending``/``retry``/``executed``/
``failed``) and returns a view. A refusal changes nothing and is itself audited
(``deletion.refused``).

A chat adapter needs: ``request``/``request_for_draft`` (a "delete" action on a published post or
draft, with a reason field; show ``DeletionView.advice`` and offer ``open_correction``),
``approve``/``reject`` (buttons on a card sent to ``DeletionResult.notices``' members, showing the
reason), ``awaiting`` (an approver's list), ``get`` (to refresh a card), and the outbox's
``NoticeKind.DELETION_FAILED``/``DELETED`` notices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from handlers.drafts import (
    Actor,
    Clock,
    DraftUseCases,
    NewDraft,
    audit_refusal,
    member_of,
    utc_now,
)
from handlers.views import (
    DeletionResult,
    DeletionTargetView,
    DeletionView,
    Notice,
    Result,
)
from storage import audit, outbox
from storage import deletions as dl
from storage.engine import Database
from storage.tables import Deletion, DeletionRequest, Draft, DraftRevision, Publication
from workflows import deletion as wd
from workflows.catalogue import Lang
from workflows.deletion import RequestEvent, RequestState, Target, TargetState
from workflows.errors import Refusal, UnknownDraft, UnknownMember
from workflows.org import Directory, Member
from workflows.publishing import PublicationState, UnknownPublication


@dataclass
class DeletionUseCases:
    db: Database
    directory: Directory
    drafts: DraftUseCases  # opens correction drafts (checked like any draft)
    clock: Clock = utc_now

    # ------------------------------------------------------------ requesting

    def request(
        self, actor: Actor, publication_id: int, *, reason: str, lang: Lang = Lang.JA
    ) -> DeletionResult:
        """Ask to delete the post of this publication — and every other published post of its
        draft, since they carry the same content — with a reason."""
        return self._request(actor, reason, publication_id=publication_id, lang=lang)

    def request_for_draft(
        self, actor: Actor, draft_id: int, *, reason: str, lang: Lang = Lang.JA
    ) -> DeletionResult:
        """Ask to delete every published post of this draft, with a reason."""
        return self._request(actor, reason, draft_id=draft_id, lang=lang)

    def _request(
        self,
        actor: Actor,
        reason: str,
        *,
        publication_id: int | None = None,
        draft_id: int | None = None,
        lang: Lang,
    ) -> DeletionResult:
        subject = (
            f"publication:{publication_id}" if publication_id is not None else f"draft:{draft_id}"
        )
        member = self._member_or_refuse(actor, "request", subject)
        now = self.clock()
        try:
            with self.db.session() as session:
                if publication_id is not None:
                    row = outbox.get(session, publication_id)
                    if row is None:
                        raise UnknownPublication(publication=publication_id)
                    draft_id = row.draft_id
                assert draft_id is not None
                if session.get(Draft, draft_id) is None:
                    raise UnknownDraft(draft=draft_id)
                published = dl.published(session, draft_id)
                existing = dl.open_request(session, draft_id)
                case = wd.check_request(
                    [_target(p) for p in published],
                    member,
                    self.directory,
                    draft_id=draft_id,
                    reason=reason,
                    open_request=(existing.id or 0, RequestState(existing.state))
                    if existing
                    else None,
                )
                request = dl.create_request(
                    session,
                    draft_id=draft_id,
                    publication_id=publication_id,
                    requested_by=member.id,
                    reason=reason.strip(),
                    now=now,
                )
                audit.append(
                    session,
                    actor=member.id,
                    action="deletion.requested",
                    subject=f"deletion:{request.id}",
                    details={
                        "draft": draft_id,
                        "publication": publication_id,
                        "reason": reason.strip(),
                        "publications": [t.publication_id for t in case.targets],
                        "accounts": [t.account_id for t in case.targets],
                        "via": actor.platform,
                    },
                    at=now,
                )
                view = self._view(session, request, lang)
        except IntegrityError:
            # Someone else's request for the same draft was committed first.
            refusal = self._already_requested(draft_id)
            self._audit_refusal(actor, member, "request", subject, refusal)
            raise refusal from None
        except Refusal as refusal:
            self._audit_refusal(actor, member, "request", subject, refusal)
            raise
        approvers = tuple(
            dict.fromkeys(
                m
                for s in view.pending_sections
                for m in self.directory.approvers(s)
                if m != member.id
            )
        )
        return DeletionResult(view, (Notice(approvers, "deletion_approval_requested"),))

    def _already_requested(self, draft_id: int | None) -> Refusal:
        with self.db.session(read_only=True) as session:
            existing = dl.open_request(session, draft_id or 0)
        if existing is None:
            return wd.DeletionAlreadyDecided(state=RequestState.EXECUTED.label())
        return wd.DeletionAlreadyRequested(
            request=existing.id, state=RequestState(existing.state).label()
        )

    # ------------------------------------------------------------ deciding

    def approve(self, actor: Actor, request_id: int, *, lang: Lang = Lang.JA) -> DeletionResult:
        """An approver of the original post's approving section agrees; once every such section
        has, the outbox deletes each published post of the draft."""

        def decide(
            session: Session, request: DeletionRequest, case: wd.DeletionCase, member: Member
        ) -> tuple[wd.DeletionCase, RequestEvent]:
            after, event = wd.approve(case, member, self.directory)
            now = self.clock()
            dl.change_request(
                session,
                request,
                approvals=dict(after.approvals),
                state=after.state.value,
                decided_by=member.id,
                decided_at=now if event is RequestEvent.APPROVED else None,
                updated_at=now,
            )
            if event is RequestEvent.APPROVED:
                dl.create_deletions(session, request, dl.published(session, case.draft_id), now=now)
                closed = dl.settle_requests(session, [request_id], now=now)  # nothing left
                assert not closed or closed[0][1] is RequestEvent.EXECUTED
            audit.append(
                session,
                actor=member.id,
                action="deletion.approved",
                subject=f"deletion:{request_id}",
                details={
                    "draft": case.draft_id,
                    "complete": event is RequestEvent.APPROVED,
                    "sections": [s for s in after.approvals if s not in case.approvals],
                    "pending_sections": list(after.pending_sections(self.directory)),
                    "reason": request.reason,
                    "via": actor.platform,
                },
                at=now,
            )
            return after, event

        view, event = self._decide(actor, request_id, "approve", decide, lang)
        if event is RequestEvent.APPROVED:
            return DeletionResult(view, (Notice((view.requester_id,), "deletion_approved"),))
        approvers = tuple(
            dict.fromkeys(m for s in view.pending_sections for m in self.directory.approvers(s))
        )
        return DeletionResult(view, (Notice(approvers, "deletion_approval_requested"),))

    def reject(
        self, actor: Actor, request_id: int, *, reason: str, lang: Lang = Lang.JA
    ) -> DeletionResult:
        """An approver refuses the deletion, with a reason."""

        def decide(
            session: Session, request: DeletionRequest, case: wd.DeletionCase, member: Member
        ) -> tuple[wd.DeletionCase, RequestEvent]:
            after, event = wd.reject(case, member, self.directory, reason=reason)
            now = self.clock()
            dl.change_request(
                session,
                request,
                state=after.state.value,
                decided_by=member.id,
                decision_reason=reason.strip(),
                decided_at=now,
                updated_at=now,
            )
            audit.append(
                session,
                actor=member.id,
                action="deletion.rejected",
                subject=f"deletion:{request_id}",
                details={"draft": case.draft_id, "reason": reason.strip(), "via": actor.platform},
                at=now,
            )
            return after, event

        view, _ = self._decide(actor, request_id, "reject", decide, lang)
        return DeletionResult(view, (Notice((view.requester_id,), "deletion_rejected"),))

    def _decide(
        self,
        actor: Actor,
        request_id: int,
        op: str,
        decide: Callable[
            [Session, DeletionRequest, wd.DeletionCase, Member],
            tuple[wd.DeletionCase, RequestEvent],
        ],
        lang: Lang,
    ) -> tuple[DeletionView, RequestEvent]:
        subject = f"deletion:{request_id}"
        member = self._member_or_refuse(actor, op, subject)
        try:
            with self.db.session() as session:
                request = dl.get_request(session, request_id, for_update=True)
                if request is None:
                    raise wd.UnknownDeletionRequest(request=request_id)
                published = dl.published(session, request.draft_id)
                case = wd.DeletionCase(
                    draft_id=request.draft_id,
                    requester_id=request.requested_by,
                    state=RequestState(request.state),
                    targets=tuple(_target(p) for p in published),
                    approvals=dict(request.approvals),
                )
                _, event = decide(session, request, case, member)
                return self._view(session, request, lang), event
        except Refusal as refusal:
            self._audit_refusal(actor, member, op, subject, refusal)
            raise

    # ------------------------------------------------------------ the correction

    def open_correction(self, actor: Actor, request_id: int) -> Result:
        """Open a correction draft linked to the original (``draft.correction_of``), with the
        start of a correction notice whose placeholders the checker refuses until filled in.
        Opened once: asked again, the same draft is shown."""
        subject = f"deletion:{request_id}"
        member = self._member_or_refuse(actor, "open_correction", subject)
        try:
            with self.db.session(read_only=True) as session:
                request = dl.get_request(session, request_id)
                if request is None:
                    raise wd.UnknownDeletionRequest(request=request_id)
                original = session.get(Draft, request.draft_id)
                assert original is not None
                targets = self._correction_targets(session, request)
                owners = {
                    self.directory.accounts[a].owner_section
                    for a in targets
                    if a in self.directory.accounts
                }
                if member.id not in (request.requested_by, original.author_id) and (
                    member.section not in owners
                ):
                    raise NoCorrectionForYou()
                if request.correction_draft_id is not None:
                    return Result(self.drafts.get(request.correction_draft_id))
                published_at = session.exec(
                    select(Publication.due_at)
                    .where(
                        Publication.draft_id == request.draft_id,
                        col(Publication.state).in_(
                            [PublicationState.PUBLISHED.value, PublicationState.DELETED.value]
                        ),
                    )
                    .order_by(col(Publication.due_at))
                ).first()
        except Refusal as refusal:
            self._audit_refusal(actor, member, "open_correction", subject, refusal)
            raise
        created = self.drafts.create(
            actor,
            NewDraft(
                wd.correction_text(published_at),
                targets=targets,
                source="correction",
                correction_of=request.draft_id,
            ),
        )
        now = self.clock()
        with self.db.session() as session:
            request = dl.get_request(session, request_id, for_update=True)
            assert request is not None
            dl.change_request(
                session, request, correction_draft_id=created.draft.id, updated_at=now
            )
            audit.append(
                session,
                actor=member.id,
                action="deletion.correction_opened",
                subject=subject,
                details={
                    "draft": request.draft_id,
                    "correction_draft": created.draft.id,
                    "via": actor.platform,
                },
                at=now,
            )
        return created

    def _correction_targets(self, session: Session, request: DeletionRequest) -> tuple[str, ...]:
        """The accounts the original went out to (those still in app.yaml)."""
        accounts = session.exec(
            select(Publication.account_id)
            .where(
                Publication.draft_id == request.draft_id,
                col(Publication.state).in_(
                    [PublicationState.PUBLISHED.value, PublicationState.DELETED.value]
                ),
            )
            .order_by(col(Publication.id))
        ).all()
        return tuple(a for a in dict.fromkeys(accounts) if a in self.directory.accounts)

    # ------------------------------------------------------------ reading

    def get(self, request_id: int, *, lang: Lang = Lang.JA) -> DeletionView:
        with self.db.session(read_only=True) as session:
            request = dl.get_request(session, request_id)
            if request is None:
                raise wd.UnknownDeletionRequest(request=request_id)
            return self._view(session, request, lang)

    def awaiting(self, actor: Actor, *, lang: Lang = Lang.JA) -> list[DeletionView]:
        """Requests waiting for this member's approval (not their own)."""
        member = member_of(self.directory, actor)
        with self.db.session(read_only=True) as session:
            rows = session.exec(
                select(DeletionRequest)
                .where(DeletionRequest.state == RequestState.REQUESTED.value)
                .order_by(col(DeletionRequest.id))
            ).all()
            views = [self._view(session, r, lang) for r in rows if r.requested_by != member.id]
        return [
            v
            for v in views
            if any(member.id in self.directory.approvers(s) for s in v.pending_sections)
        ]

    def _view(self, session: Session, request: DeletionRequest, lang: Lang) -> DeletionView:
        assert request.id is not None
        state = RequestState(request.state)
        deletions = {d.publication_id: d for d in dl.targets_of(session, [request.id])}
        if deletions:  # approved: exactly what the outbox deletes
            ids = list(deletions)
            rows = list(
                session.exec(
                    select(Publication)
                    .where(col(Publication.id).in_(ids))
                    .order_by(col(Publication.id))
                ).all()
            )
        else:
            rows = dl.published(session, request.draft_id)
        case = wd.DeletionCase(
            draft_id=request.draft_id,
            requester_id=request.requested_by,
            state=state,
            targets=tuple(_target(p) for p in rows if p.account_id in self.directory.accounts),
            approvals=dict(request.approvals),
        )
        revision = session.exec(
            select(DraftRevision.text)
            .join(Draft, col(Draft.id) == col(DraftRevision.draft_id))
            .where(
                DraftRevision.draft_id == request.draft_id,
                col(DraftRevision.revision) == col(Draft.revision),
            )
        ).first()
        text = revision or ""
        sections = case.approving_sections(self.directory)
        return DeletionView(
            id=request.id,
            draft_id=request.draft_id,
            publication_id=request.publication_id,
            state=state.value,
            state_label=state.label(lang),
            requester_id=request.requested_by,
            requester_name=self._name(request.requested_by),
            reason=request.reason,
            excerpt=text if len(text) <= 40 else text[:39] + "…",
            targets=tuple(_target_view(p, deletions.get(p.id or 0), lang) for p in rows),
            approvals={s: self._name(m) for s, m in request.approvals.items()},
            pending_sections=case.pending_sections(self.directory)
            if state is RequestState.REQUESTED
            else (),
            approvers={
                s: tuple(self._name(m) for m in self.directory.approvers(s)) for s in sections
            },
            decided_by=request.decided_by,
            decision_reason=request.decision_reason,
            correction_draft_id=request.correction_draft_id,
            advice=wd.advice(lang),
            created_at=request.created_at,
        )

    # ------------------------------------------------------------ machinery

    def _name(self, member_id: str) -> str:
        member = self.directory.member(member_id)
        return member.name if member else member_id

    def _member_or_refuse(self, actor: Actor, op: str, subject: str) -> Member:
        try:
            return member_of(self.directory, actor)
        except UnknownMember as refusal:
            self._audit_refusal(actor, None, op, subject, refusal)
            raise

    def _audit_refusal(
        self, actor: Actor, member: Member | None, op: str, subject: str, refusal: Refusal
    ) -> None:
        audit_refusal(
            self.db,
            action="deletion.refused",
            subject=subject,
            actor=actor,
            member=member,
            operation=op,
            refusal=refusal,
            at=self.clock(),
        )


class NoCorrectionForYou(Refusal):
    key = "refusal.no_correction_for_request"


def _target(publication: Publication) -> Target:
    assert publication.id is not None
    return Target(publication.id, publication.account_id, publication.platform_post_id)


def _target_view(
    publication: Publication, deletion: Deletion | None, lang: Lang
) -> DeletionTargetView:
    assert publication.id is not None
    state = TargetState(deletion.state) if deletion is not None else None
    return DeletionTargetView(
        publication_id=publication.id,
        account_id=publication.account_id,
        platform_post_id=publication.platform_post_id,
        permalink=publication.permalink,
        state=state.value if state else "",
        state_label=state.label(lang) if state else "",
        last_error=deletion.last_error if deletion is not None else None,
    )
