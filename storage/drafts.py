"""Drafts, their revisions and reviews: rows <-> the workflow's ``Process``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage import audit, outbox
from storage.tables import Draft, DraftRevision, Publication, Review
from storage.tables import Member as MemberRow
from storage.versioned import update_versioned, update_versioned_many
from workflows.approval import (
    ChecklistItem,
    Content,
    Decision,
    Outcome,
    Process,
    ReviewKind,
    route,
)
from workflows.approval import Review as DomainReview
from workflows.checks.model import Finding, Platform, Severity
from workflows.errors import UnknownDraft
from workflows.lifecycle import DraftState
from workflows.org import Directory, Member
from workflows.publishing import HoldReason, PublicationState


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A finding of one revision, with the text it points into (the main text or a variant)."""

    finding: Finding
    text_key: str  # "text" or a platform name for a variant

    def to_json(self) -> dict[str, Any]:
        return {**self.finding.to_dict(), "text_key": self.text_key}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredFinding:
        finding = Finding(
            rule=data["rule"],
            severity=Severity(data["severity"]),
            message=data["message"],
            start=int(data["start"]),
            end=int(data["end"]),
            suggestion=data.get("suggestion"),
        )
        return cls(finding, str(data.get("text_key", "text")))


@dataclass(frozen=True)
class LoadedDraft:
    """A draft row with its current revision and every review, as read in one transaction."""

    draft: Draft
    revision: DraftRevision
    reviews: tuple[Review, ...]

    @property
    def id(self) -> int:
        assert self.draft.id is not None
        return self.draft.id

    @property
    def content(self) -> Content:
        rev = self.revision
        return Content(
            text=rev.text,
            targets=tuple(rev.targets),
            variants={Platform(p): t for p, t in rev.variants.items()},
            media=tuple(str(m) for m in rev.media),
        )

    @property
    def findings(self) -> tuple[StoredFinding, ...]:
        return tuple(StoredFinding.from_json(f) for f in self.revision.findings)

    def process(self, author: Member, directory: Directory) -> Process:
        content = self.content
        findings = self.findings
        return Process(
            author_id=self.draft.author_id,
            state=DraftState(self.draft.state),
            revision=self.draft.revision,
            content=content,
            route=route(content.targets, author, directory),
            errors=sum(1 for f in findings if f.finding.severity is Severity.ERROR),
            warnings=warning_ids(findings),
            reviews=tuple(_domain_review(r) for r in self.reviews),
        )


@dataclass(frozen=True, slots=True)
class DraftSnapshot:
    """A draft as the outbox needs it, read in bulk as plain values (no ORM objects): its state,
    version, current content and approvals, and the content of the revisions asked for."""

    id: int
    author_id: str
    state: DraftState
    revision: int
    version: int
    content: Content  # the current revision's
    content_hash: str  # the current revision's, as stored
    reviews: tuple[DomainReview, ...]  # the approval decisions of every revision
    revisions: Mapping[int, DraftRevisionContent]  # revision number -> its content

    def process(self, author: Member, directory: Directory) -> Process:
        """The approval rules' view (without findings: enough to tell whether it is approved)."""
        return Process(
            author_id=self.author_id,
            state=self.state,
            revision=self.revision,
            content=self.content,
            route=route(self.content.targets, author, directory),
            reviews=self.reviews,
        )


@dataclass(frozen=True, slots=True)
class DraftRevisionContent:
    text: str
    variants: Mapping[str, str]
    media: tuple[str, ...]
    targets: tuple[str, ...]
    content_hash: str

    def content(self) -> Content:
        return Content(
            text=self.text,
            targets=self.targets,
            variants={Platform(p): t for p, t in self.variants.items()},
            media=self.media,
        )


def snapshots(session: Session, wanted: Iterable[tuple[int, int]]) -> dict[int, DraftSnapshot]:
    """The drafts of ``wanted`` (draft id, revision) with their current revision and each revision
    asked for: three queries however many drafts."""
    pairs = set(wanted)
    ids = sorted({draft_id for draft_id, _ in pairs})
    if not ids:
        return {}
    drafts = session.execute(
        sa_select(
            col(Draft.id),
            col(Draft.author_id),
            col(Draft.state),
            col(Draft.revision),
            col(Draft.version),
        ).where(col(Draft.id).in_(ids))
    ).all()
    needed = pairs | {(draft_id, revision) for draft_id, _, _, revision, _ in drafts}
    contents: dict[int, dict[int, DraftRevisionContent]] = {}
    for draft_id, number, text, variants, media, targets, content_hash in session.execute(
        sa_select(
            col(DraftRevision.draft_id),
            col(DraftRevision.revision),
            col(DraftRevision.text),
            col(DraftRevision.variants),
            col(DraftRevision.media),
            col(DraftRevision.targets),
            col(DraftRevision.content_hash),
        ).where(col(DraftRevision.draft_id).in_(ids))
    ).all():
        if (draft_id, number) in needed:
            contents.setdefault(draft_id, {})[number] = DraftRevisionContent(
                text=text,
                variants=dict(variants or {}),
                media=tuple(str(m) for m in media or ()),
                targets=tuple(targets or ()),
                content_hash=content_hash,
            )
    reviews: dict[int, list[DomainReview]] = {}
    for draft_id, reviewer, kind, number, decision, at, content_hash, section in session.execute(
        sa_select(
            col(Review.draft_id),
            col(Review.reviewer_id),
            col(Review.kind),
            col(Review.revision),
            col(Review.decision),
            col(Review.created_at),
            col(Review.content_hash),
            col(Review.section),
        )
        .where(col(Review.draft_id).in_(ids), col(Review.kind) == ReviewKind.APPROVAL.value)
        .order_by(col(Review.id))
    ).all():
        reviews.setdefault(draft_id, []).append(
            DomainReview(
                reviewer_id=reviewer,
                kind=ReviewKind(kind),
                revision=number,
                decision=Decision(decision),
                at=at,
                content_hash=content_hash,
                section=section,
            )
        )
    found: dict[int, DraftSnapshot] = {}
    for draft_id, author_id, state, revision, version in drafts:
        revisions = contents.get(draft_id, {})
        head = revisions[revision]
        found[draft_id] = DraftSnapshot(
            id=draft_id,
            author_id=author_id,
            state=DraftState(state),
            revision=revision,
            version=version,
            content=head.content(),
            content_hash=head.content_hash,
            reviews=tuple(reviews.get(draft_id, ())),
            revisions=revisions,
        )
    return found


def save_state(
    session: Session,
    snapshot: DraftSnapshot,
    outcome: Outcome,
    *,
    actor_id: str,
    at: datetime,
    details: Mapping[str, Any] | None = None,
) -> tuple[DraftSnapshot, audit.Entry]:
    """Write a state change of ``snapshot`` (guarded by its version) and return the draft after
    it with its audit entry, for the caller to append with the others of its transaction.
    Raises Conflict if the row moved."""
    process = outcome.process
    if not update_versioned(
        session, Draft, snapshot.id, snapshot.version, state=process.state.value, updated_at=at
    ):
        raise Conflict(snapshot.id)
    entry = audit.Entry(
        actor=actor_id,
        action=f"draft.{outcome.event.value}",
        subject=f"draft:{snapshot.id}",
        at=at,
        details={
            "from": snapshot.state.value,
            "to": process.state.value,
            "revision": process.revision,
            "content_hash": process.content_hash,
            **(details or {}),
        },
    )
    after = replace(snapshot, state=process.state, version=snapshot.version + 1)
    return after, entry


def save_states(
    session: Session,
    changes: Sequence[tuple[DraftSnapshot, Outcome]],
    *,
    actor_id: str,
    at: datetime,
    details: Mapping[str, Any] | None = None,
) -> list[audit.Entry]:
    """``save_state`` for many drafts, one UPDATE per resulting state. A draft that moved since
    its snapshot is left out (no entry): the caller's next look decides again."""
    by_state: dict[DraftState, dict[int, int]] = {}
    for draft, outcome in changes:
        by_state.setdefault(outcome.process.state, {})[draft.id] = draft.version
    changed: set[int] = set()
    for state, expected in by_state.items():
        changed |= update_versioned_many(session, Draft, expected, state=state.value, updated_at=at)
    return [
        audit.Entry(
            actor=actor_id,
            action=f"draft.{outcome.event.value}",
            subject=f"draft:{draft.id}",
            at=at,
            details={
                "from": draft.state.value,
                "to": outcome.process.state.value,
                "revision": outcome.process.revision,
                "content_hash": outcome.process.content_hash,
                **(details or {}),
            },
        )
        for draft, outcome in changes
        if draft.id in changed
    ]


def _warning_key(stored: StoredFinding) -> str:
    f = stored.finding
    prefix = "" if stored.text_key == "text" else f"{stored.text_key}:"
    return f"{prefix}{f.rule}@{f.start}-{f.end}"


def warning_ids(findings: Iterable[StoredFinding]) -> tuple[str, ...]:
    """The ids an approver acknowledges, one per warning of the revision."""
    return tuple(_warning_key(f) for f in findings if f.finding.severity is Severity.WARNING)


def _domain_review(row: Review) -> DomainReview:
    return DomainReview(
        reviewer_id=row.reviewer_id,
        kind=ReviewKind(row.kind),
        revision=row.revision,
        decision=Decision(row.decision),
        at=row.created_at,
        content_hash=row.content_hash,
        section=row.section,
        comment=row.comment,
        checklist=frozenset(ChecklistItem(i) for i, ok in row.checklist.items() if ok),
        acknowledged=frozenset(row.acknowledged_warnings),
    )


def author_of(session: Session, author_id: str, directory: Directory) -> Member:
    """The author as the workflow needs them, even after they left app.yaml (history)."""
    member = directory.member(author_id)
    if member is not None:
        return member
    row = session.get(MemberRow, author_id)
    return Member(
        id=author_id, name=row.name if row else author_id, section=row.section if row else "-"
    )


def create(
    session: Session,
    *,
    author_id: str,
    content: Content,
    findings: Sequence[StoredFinding],
    publish_at: datetime | None,
    emergency: bool,
    source: str,
    at: datetime,
    correction_of: int | None = None,
) -> LoadedDraft:
    draft = Draft(
        author_id=author_id,
        state=DraftState.DRAFT.value,
        revision=1,
        emergency=emergency,
        publish_at=publish_at,
        source=source,
        created_at=at,
        updated_at=at,
        correction_of=correction_of,
    )
    session.add(draft)
    session.flush()
    assert draft.id is not None
    revision = _revision_row(
        draft.id, number=1, content=content, findings=findings, created_by=author_id, at=at
    )
    session.add(revision)
    session.flush()
    return LoadedDraft(draft, revision, ())


def _revision_row(
    draft_id: int,
    *,
    number: int,
    content: Content,
    findings: Sequence[StoredFinding],
    created_by: str,
    at: datetime,
) -> DraftRevision:
    return DraftRevision(
        draft_id=draft_id,
        revision=number,
        text=content.text,
        variants={p.value: t for p, t in content.variants.items()},
        media=list(content.media),
        targets=list(content.targets),
        content_hash=content.hash(),
        findings=[f.to_json() for f in findings],
        created_by=created_by,
        created_at=at,
    )


def load(session: Session, draft_id: int, *, for_update: bool = False) -> LoadedDraft:
    statement = select(Draft).where(Draft.id == draft_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    draft = session.exec(statement).first()
    if draft is None:
        raise UnknownDraft(draft=draft_id)
    session.refresh(draft)
    revision = session.exec(
        select(DraftRevision).where(
            DraftRevision.draft_id == draft_id, DraftRevision.revision == draft.revision
        )
    ).one()
    reviews = session.exec(
        select(Review).where(Review.draft_id == draft_id).order_by(col(Review.id))
    ).all()
    return LoadedDraft(draft, revision, tuple(reviews))


class Conflict(Exception):
    """Someone else changed the draft since it was read; reload and decide again."""


def save(
    session: Session,
    loaded: LoadedDraft,
    outcome: Outcome,
    *,
    actor_id: str,
    at: datetime,
    findings: Sequence[StoredFinding] = (),
    details: dict[str, Any] | None = None,
    publish_at: datetime | None = None,
    update_publish_at: bool = False,
    emergency: bool | None = None,
) -> LoadedDraft:
    """Write an outcome: the draft row (guarded by its version), new reviews, a new revision,
    and the audit event, all in the caller's transaction. Raises Conflict if the row moved."""
    process = outcome.process
    # update_versioned refreshes loaded.draft in place: keep what it was before.
    before_state, before_revision = loaded.draft.state, loaded.draft.revision
    values: dict[str, Any] = {"state": process.state.value, "revision": process.revision}
    if update_publish_at:
        values["publish_at"] = publish_at
    if emergency is not None:
        values["emergency"] = emergency
    if not update_versioned(
        session, Draft, loaded.id, loaded.draft.version, updated_at=at, **values
    ):
        raise Conflict(loaded.id)
    revision = loaded.revision
    if process.revision != before_revision:
        revision = _revision_row(
            loaded.id,
            number=process.revision,
            content=process.content,
            findings=findings,
            created_by=actor_id,
            at=at,
        )
        session.add(revision)
    rows = [
        Review(
            draft_id=loaded.id,
            revision=r.revision,
            reviewer_id=r.reviewer_id,
            kind=r.kind.value,
            section=r.section,
            decision=r.decision.value,
            comment=r.comment,
            checklist={item.value: item in r.checklist for item in ChecklistItem},
            acknowledged_warnings=sorted(r.acknowledged),
            content_hash=r.content_hash,
            created_at=r.at,
        )
        for r in outcome.reviews
    ]
    session.add_all(rows)
    session.flush()
    audit.append(
        session,
        actor=actor_id,
        action=f"draft.{outcome.event.value}",
        subject=f"draft:{loaded.id}",
        details={
            "from": before_state,
            "to": process.state.value,
            "revision": process.revision,
            "content_hash": process.content_hash,
            **(details or {}),
        },
        at=at,
    )
    return load(session, loaded.id)


def cancel_publications(session: Session, draft_id: int, *, at: datetime, reason: str) -> int:
    """Cancel the draft's publications not yet sent (after a revision or a withdrawal)."""
    rows = session.exec(
        select(Publication).where(
            Publication.draft_id == draft_id, col(Publication.state).in_(["pending", "held"])
        )
    ).all()
    for row in rows:
        assert row.id is not None
        update_versioned(
            session,
            Publication,
            row.id,
            row.version,
            state="cancelled",
            last_error=reason,
            updated_at=at,
        )
    return len(rows)


def create_publications(
    session: Session, loaded: LoadedDraft, *, due_at: datetime, at: datetime
) -> list[Publication]:
    """The outbox rows of a fully approved revision: one per target account.

    A row whose account is under an emergency pause starts held (unless the draft is an
    emergency), and that is audited.
    """
    pauses = outbox.active_pauses(session)
    emergency = loaded.draft.emergency
    rows = []
    for account_id in loaded.revision.targets:
        paused = not emergency and outbox.covers(pauses, account_id)
        rows.append(
            Publication(
                draft_id=loaded.id,
                revision=loaded.draft.revision,
                account_id=account_id,
                content_hash=loaded.revision.content_hash,
                due_at=due_at,
                state=PublicationState.HELD.value if paused else PublicationState.PENDING.value,
                hold_reason=HoldReason.PAUSED.value if paused else None,
                emergency=emergency,
                created_at=at,
                updated_at=at,
            )
        )
    session.add_all(rows)
    session.flush()
    for row in rows:
        if row.state == PublicationState.HELD.value:
            audit.append(
                session,
                actor="outbox",
                action="publication.held",
                subject=f"publication:{row.id}",
                details={"draft": loaded.id, "account": row.account_id, "reason": row.hold_reason},
                at=at,
            )
    return rows


def publications_of(session: Session, draft_id: int) -> list[Publication]:
    return list(
        session.exec(
            select(Publication)
            .where(Publication.draft_id == draft_id)
            .order_by(col(Publication.id))
        ).all()
    )


def by_author(session: Session, author_id: str, *, limit: int = 50) -> list[Draft]:
    return list(
        session.exec(
            select(Draft)
            .where(Draft.author_id == author_id)
            .order_by(col(Draft.updated_at).desc())
            .limit(limit)
        ).all()
    )


def in_states(session: Session, states: Iterable[DraftState], *, limit: int = 200) -> list[Draft]:
    return list(
        session.exec(
            select(Draft)
            .where(col(Draft.state).in_([s.value for s in states]))
            .order_by(col(Draft.updated_at))
            .limit(limit)
        ).all()
    )
