"""Deletion requests and the per-post deletions the outbox runs, on both databases.

A request (``deletion_request``) names a draft whose published posts are to be deleted; at most one
per draft is open, which a partial unique index enforces. Once approved, one ``deletion`` row per
published post is created, and the outbox claims those exactly like publications: one
``UPDATE ... RETURNING`` per batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), each row then changed
only with the version its claim wrote (``DeletionLost`` otherwise). A row left ``sending`` by a
worker that died is claimed again when its lease ends: deleting twice does no harm.

Nothing here audits: the callers (handlers/deletions.py, handlers/publishing.py) append the
events in the same transaction, at its end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.tables import Deletion, DeletionRequest, Publication
from storage.versioned import update_versioned
from workflows.deletion import (
    OPEN,
    RequestEvent,
    RequestState,
    TargetState,
    settle,
    transition,
)
from workflows.publishing import PublicationState

T = TargetState


class StaleRequest(Exception):
    """The request changed since it was read (someone else decided first)."""


class DeletionLost(Exception):
    """The deletion's claim is no longer ours: its lease ran out and another worker took it."""


@dataclass(frozen=True, slots=True)
class DeletionClaim:
    """A deletion a worker holds; ``version`` is the one its next change must find."""

    deletion_id: int
    version: int
    worker_id: str
    request_id: int
    publication_id: int
    draft_id: int
    account_id: str
    post_id: str | None
    attempts: int
    claimed_at: datetime
    lease_until: datetime
    previous_error: str | None  # what the last attempt ended with (None: the first attempt)


# ---------------------------------------------------------------- requests


def get_request(
    session: Session, request_id: int, *, for_update: bool = False
) -> DeletionRequest | None:
    statement = (
        select(DeletionRequest)
        .where(DeletionRequest.id == request_id)
        .execution_options(populate_existing=True)
    )
    if for_update and _is_postgres(session):
        statement = statement.with_for_update()
    return session.exec(statement).first()


def open_request(session: Session, draft_id: int) -> DeletionRequest | None:
    """The draft's request that is requested or approved, if any."""
    return session.exec(
        select(DeletionRequest).where(
            DeletionRequest.draft_id == draft_id,
            col(DeletionRequest.state).in_([s.value for s in OPEN]),
        )
    ).first()


def published(session: Session, draft_id: int) -> list[Publication]:
    """The draft's publications that are on their platform now (what a deletion would remove)."""
    return list(
        session.exec(
            select(Publication)
            .where(
                Publication.draft_id == draft_id,
                Publication.state == PublicationState.PUBLISHED.value,
            )
            .order_by(col(Publication.id))
        ).all()
    )


def create_request(
    session: Session,
    *,
    draft_id: int,
    publication_id: int | None,
    requested_by: str,
    reason: str,
    now: datetime,
) -> DeletionRequest:
    """Insert a request (flushed: IntegrityError if the draft already has an open one)."""
    row = DeletionRequest(
        draft_id=draft_id,
        publication_id=publication_id,
        requested_by=requested_by,
        reason=reason,
        state=RequestState.REQUESTED.value,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def change_request(session: Session, row: DeletionRequest, **values: Any) -> None:
    """Write ``values`` if the request is still at the version read (StaleRequest if not)."""
    assert row.id is not None
    if not update_versioned(session, DeletionRequest, row.id, row.version, **values):
        raise StaleRequest(row.id)
    session.refresh(row)


def targets_of(session: Session, request_ids: Iterable[int]) -> list[Deletion]:
    ids = sorted(set(request_ids))
    if not ids:
        return []
    return list(
        session.exec(
            select(Deletion)
            .where(col(Deletion.request_id).in_(ids))
            .order_by(col(Deletion.id))
            .execution_options(populate_existing=True)
        ).all()
    )


def create_deletions(
    session: Session, request: DeletionRequest, targets: Sequence[Publication], *, now: datetime
) -> list[Deletion]:
    """One pending deletion per published post of an approved request."""
    assert request.id is not None
    rows = []
    for publication in targets:
        assert publication.id is not None
        rows.append(
            Deletion(
                request_id=request.id,
                publication_id=publication.id,
                draft_id=publication.draft_id,
                account_id=publication.account_id,
                post_id=publication.platform_post_id,
                state=T.PENDING.value,
                created_at=now,
                updated_at=now,
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


# ---------------------------------------------------------------- the outbox's side


def claim_due(
    session: Session, *, now: datetime, worker_id: str, lease: timedelta, limit: int
) -> list[DeletionClaim]:
    """Claim up to ``limit`` deletions: pending ones due, ``sending`` ones whose lease ran out."""
    if limit <= 0:
        return []
    due = or_(
        and_(
            col(Deletion.state) == T.PENDING.value,
            or_(col(Deletion.next_attempt_at).is_(None), col(Deletion.next_attempt_at) <= now),
        ),
        and_(col(Deletion.state) == T.SENDING.value, col(Deletion.lease_until) <= now),
    )
    chosen = sa_select(col(Deletion.id)).where(due).order_by(col(Deletion.id)).limit(limit)
    if _is_postgres(session):
        chosen = chosen.with_for_update(skip_locked=True)
    statement = (
        update(Deletion)
        .where(col(Deletion.id).in_(chosen.scalar_subquery()))
        .values(
            state=T.SENDING.value,
            lease_until=now + lease,
            leased_by=worker_id,
            attempts=col(Deletion.attempts) + 1,
            claimed_at=now,
            updated_at=now,
            version=col(Deletion.version) + 1,
        )
        .returning(
            col(Deletion.id),
            col(Deletion.version),
            col(Deletion.request_id),
            col(Deletion.publication_id),
            col(Deletion.draft_id),
            col(Deletion.account_id),
            col(Deletion.post_id),
            col(Deletion.attempts),
            col(Deletion.last_error),
        )
        .execution_options(synchronize_session=False)
    )
    claims = [
        DeletionClaim(
            deletion_id=row.id,
            version=row.version,
            worker_id=worker_id,
            request_id=row.request_id,
            publication_id=row.publication_id,
            draft_id=row.draft_id,
            account_id=row.account_id,
            post_id=row.post_id,
            attempts=row.attempts,
            claimed_at=now,
            lease_until=now + lease,
            previous_error=row.last_error,
        )
        for row in session.execute(statement).all()
    ]
    return sorted(claims, key=lambda c: c.deletion_id)


def _change(session: Session, claim: DeletionClaim, **values: Any) -> DeletionClaim:
    if not update_versioned(session, Deletion, claim.deletion_id, claim.version, **values):
        raise DeletionLost(claim.deletion_id)
    return replace(claim, version=claim.version + 1)


def mark_deleted(session: Session, claim: DeletionClaim, *, now: datetime) -> DeletionClaim:
    """Deleted on the platform; the publication shows it (``published`` -> ``deleted``)."""
    changed = _change(
        session,
        claim,
        state=T.DELETED.value,
        lease_until=None,
        next_attempt_at=None,
        last_error=None,
        updated_at=now,
    )
    session.execute(
        update(Publication)
        .where(
            col(Publication.id) == claim.publication_id,
            col(Publication.state) == PublicationState.PUBLISHED.value,
        )
        .values(
            state=PublicationState.DELETED.value,
            version=col(Publication.version) + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return changed


def mark_retry(
    session: Session, claim: DeletionClaim, *, at: datetime, error: str, now: datetime
) -> DeletionClaim:
    return _change(
        session,
        claim,
        state=T.PENDING.value,
        next_attempt_at=at,
        last_error=error,
        lease_until=None,
        leased_by=None,
        updated_at=now,
    )


def mark_failed(
    session: Session, claim: DeletionClaim, *, error: str, now: datetime
) -> DeletionClaim:
    return _change(
        session,
        claim,
        state=T.FAILED.value,
        last_error=error,
        lease_until=None,
        next_attempt_at=None,
        updated_at=now,
    )


def settle_requests(
    session: Session, request_ids: Iterable[int], *, now: datetime
) -> list[tuple[DeletionRequest, RequestEvent]]:
    """Close the approved requests whose every deletion is settled: executed, or failed if any
    failed. Returns the requests that changed, with the event."""
    ids = sorted(set(request_ids))
    if not ids:
        return []
    statement = (
        select(DeletionRequest)
        .where(col(DeletionRequest.id).in_(ids))
        .order_by(col(DeletionRequest.id))
        .execution_options(populate_existing=True)
    )
    if _is_postgres(session):
        statement = statement.with_for_update()
    requests = list(session.exec(statement).all())
    targets: dict[int, list[TargetState]] = {}
    for row in targets_of(session, ids):
        targets.setdefault(row.request_id, []).append(TargetState(row.state))
    settled: list[tuple[DeletionRequest, RequestEvent]] = []
    for request in requests:
        assert request.id is not None
        event = settle(RequestState(request.state), targets.get(request.id, []))
        if event is None:
            continue
        state = transition(RequestState(request.state), event)
        change_request(session, request, state=state.value, updated_at=now)
        settled.append((request, event))
    return settled


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
