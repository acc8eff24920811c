"""The outbox: claiming due publications and every change of their state, on both databases.

A worker claims due rows in one transaction and commits before any network call: each claimed row
goes ``pending -> sending`` with a lease (``lease_until``, ``leased_by``), one more attempt, and its
idempotency key (a UUID made at the first claim and never changed). Rows found in ``sending`` whose
lease has expired belong to a worker that died or gave up mid-call: they are claimed too, marked
for reconciliation — the worker asks the platform whether the post is there before anything is
sent again.

Claiming is safe with any number of workers and processes:

- PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` — two workers never even see the same row;
- SQLite: every read-write transaction starts with ``BEGIN IMMEDIATE`` (storage.engine), so one
  claim runs at a time; each row is still taken by compare-and-set on its version, so a row changed
  in between is skipped, never taken twice.

A claim is then changed only through the functions taking it (``checkpoint``, ``mark_*``,
``hold_claim``, ``cancel_claim``): each is ``UPDATE ... WHERE id = ? AND version = ?`` with the
version the claim last wrote, so a worker whose row was taken over (its lease ran out) is told
(``LeaseLost``) instead of overwriting the newer outcome.

Nothing here audits: the callers (handlers/publishing.py) append the audit events in the same
transaction, at its end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from storage.tables import Pause, Publication
from storage.versioned import update_versioned
from workflows.publishing import HoldReason, PublicationState

S = PublicationState


class StaleRow(Exception):
    """The row changed since it was read (another worker or person got there first)."""

    def __init__(self, publication_id: int) -> None:
        self.publication_id = publication_id
        super().__init__(publication_id)


class LeaseLost(StaleRow):
    """The claim is no longer ours: the lease ran out and another worker took the row."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A publication a worker holds; ``version`` is the one its next change must find."""

    publication_id: int
    version: int
    worker_id: str
    draft_id: int
    revision: int
    account_id: str
    content_hash: str
    due_at: datetime
    attempts: int
    idempotency_key: str
    material: Mapping[str, str]
    emergency: bool
    confirmed: bool
    claimed_at: datetime
    lease_until: datetime
    # Found in ``sending`` with an expired lease: an earlier attempt (begun at
    # ``previous_claimed_at``) may have reached the platform. Reconcile before anything is sent.
    reconcile: bool = False
    previous_claimed_at: datetime | None = None


# ---------------------------------------------------------------- claiming


def claim_due(
    session: Session, *, now: datetime, worker_id: str, lease: timedelta, limit: int
) -> list[Claim]:
    """Claim up to ``limit`` rows: due pending ones, and ``sending`` ones whose lease expired.

    Oldest due first. Commit the session before any network call for them.
    """
    if limit <= 0:
        return []
    due = or_(
        and_(
            col(Publication.state) == S.PENDING.value,
            col(Publication.due_at) <= now,
            or_(
                col(Publication.next_attempt_at).is_(None), col(Publication.next_attempt_at) <= now
            ),
        ),
        and_(col(Publication.state) == S.SENDING.value, col(Publication.lease_until) <= now),
    )
    statement = (
        select(Publication)
        .where(due)
        .order_by(col(Publication.due_at), col(Publication.id))
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if _is_postgres(session):
        statement = statement.with_for_update(skip_locked=True)
    claims: list[Claim] = []
    for row in session.exec(statement).all():
        assert row.id is not None
        reconcile = row.state == S.SENDING.value
        # Built before the update: update_versioned brings ``row`` itself up to date.
        claim = Claim(
            publication_id=row.id,
            version=row.version + 1,
            worker_id=worker_id,
            draft_id=row.draft_id,
            revision=row.revision,
            account_id=row.account_id,
            content_hash=row.content_hash,
            due_at=row.due_at,
            attempts=row.attempts + 1,
            idempotency_key=row.idempotency_key or str(uuid.uuid4()),
            material=dict(row.material or {}),
            emergency=row.emergency,
            confirmed=row.confirmed_by is not None,
            claimed_at=now,
            lease_until=now + lease,
            reconcile=reconcile,
            previous_claimed_at=(row.claimed_at or row.updated_at) if reconcile else None,
        )
        taken = update_versioned(
            session,
            Publication,
            row.id,
            row.version,
            state=S.SENDING.value,
            lease_until=claim.lease_until,
            leased_by=worker_id,
            attempts=claim.attempts,
            idempotency_key=claim.idempotency_key,
            claimed_at=now,
            updated_at=now,
        )
        if taken:  # else it changed since it was read: someone else has it
            claims.append(claim)
    return claims


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _change(session: Session, claim: Claim, **values: Any) -> Claim:
    """Write ``values`` if the row is still as this claim left it; the claim after the change."""
    if not update_versioned(session, Publication, claim.publication_id, claim.version, **values):
        raise LeaseLost(claim.publication_id)
    return replace(claim, version=claim.version + 1)


def checkpoint(
    session: Session,
    claim: Claim,
    material: Mapping[str, str],
    *,
    now: datetime,
    lease: timedelta,
) -> Claim:
    """Record the client's idempotency material (before its irreversible call); renew the lease."""
    merged = {**claim.material, **{str(k): str(v) for k, v in material.items()}}
    changed = _change(session, claim, material=merged, lease_until=now + lease, updated_at=now)
    return replace(changed, material=merged, lease_until=now + lease)


def mark_published(
    session: Session,
    claim: Claim,
    *,
    post_id: str | None,
    permalink: str | None,
    now: datetime,
) -> Claim:
    return _change(
        session,
        claim,
        state=S.PUBLISHED.value,
        platform_post_id=post_id,
        permalink=permalink,
        lease_until=None,
        next_attempt_at=None,
        last_error=None,
        updated_at=now,
    )


def mark_retry(session: Session, claim: Claim, *, at: datetime, error: str, now: datetime) -> Claim:
    """Certainly not sent: back to ``pending``, not before ``at``."""
    return _change(
        session,
        claim,
        state=S.PENDING.value,
        next_attempt_at=at,
        last_error=error,
        lease_until=None,
        leased_by=None,
        updated_at=now,
    )


def mark_unsettled(
    session: Session, claim: Claim, *, reconcile_at: datetime, error: str, now: datetime
) -> Claim:
    """Maybe sent: stays ``sending`` with its lease ending at ``reconcile_at``, when a worker
    (any) claims it for reconciliation."""
    return _change(session, claim, lease_until=reconcile_at, last_error=error, updated_at=now)


def mark_failed(session: Session, claim: Claim, *, error: str, now: datetime) -> Claim:
    return _change(
        session,
        claim,
        state=S.FAILED.value,
        last_error=error,
        lease_until=None,
        next_attempt_at=None,
        updated_at=now,
    )


def mark_needs_review(session: Session, claim: Claim, *, reason: str, now: datetime) -> Claim:
    return _change(
        session,
        claim,
        state=S.NEEDS_REVIEW.value,
        last_error=reason,
        lease_until=None,
        next_attempt_at=None,
        updated_at=now,
    )


def hold_claim(session: Session, claim: Claim, reason: HoldReason, *, now: datetime) -> Claim:
    """Held at send time before anything was sent: the claim does not count as an attempt."""
    return _change(
        session,
        claim,
        state=S.HELD.value,
        hold_reason=reason.value,
        attempts=claim.attempts - 1,
        lease_until=None,
        leased_by=None,
        next_attempt_at=None,
        updated_at=now,
    )


def cancel_claim(session: Session, claim: Claim, *, reason: str, now: datetime) -> Claim:
    """Cancelled at send time (the approved content is no longer the draft's)."""
    return _change(
        session,
        claim,
        state=S.CANCELLED.value,
        last_error=reason,
        attempts=claim.attempts - 1,
        lease_until=None,
        leased_by=None,
        updated_at=now,
    )


# ---------------------------------------------------------------- changes by people


def get(session: Session, publication_id: int, *, for_update: bool = False) -> Publication | None:
    statement = (
        select(Publication)
        .where(Publication.id == publication_id)
        .execution_options(populate_existing=True)
    )
    if for_update and _is_postgres(session):
        statement = statement.with_for_update()
    return session.exec(statement).first()


def _change_row(session: Session, row: Publication, **values: Any) -> None:
    assert row.id is not None
    if not update_versioned(session, Publication, row.id, row.version, **values):
        raise StaleRow(row.id)
    session.refresh(row)


def hold(session: Session, row: Publication, reason: HoldReason, *, now: datetime) -> None:
    """pending -> held."""
    _require(row, {S.PENDING})
    _change_row(session, row, state=S.HELD.value, hold_reason=reason.value, updated_at=now)


def release(session: Session, row: Publication, *, now: datetime, confirmed_by: str | None) -> None:
    """held -> pending. ``confirmed_by``: the person who accepts it going out late or out of
    hours (None when a pause ends: the send-time rules then apply as usual)."""
    _require(row, {S.HELD})
    _change_row(
        session,
        row,
        state=S.PENDING.value,
        hold_reason=None,
        next_attempt_at=None,
        confirmed_by=confirmed_by,
        updated_at=now,
    )


def cancel(session: Session, row: Publication, *, reason: str, now: datetime) -> None:
    """pending or held -> cancelled."""
    _require(row, {S.PENDING, S.HELD})
    _change_row(
        session, row, state=S.CANCELLED.value, last_error=reason, hold_reason=None, updated_at=now
    )


def reschedule(session: Session, row: Publication, *, due_at: datetime, now: datetime) -> None:
    """A new due time for a pending or held row. A row held for being late or out of hours is
    pending again (the new time answers the question); one held by a pause stays held."""
    _require(row, {S.PENDING, S.HELD})
    values: dict[str, Any] = {
        "due_at": due_at,
        "next_attempt_at": None,
        "confirmed_by": None,
        "updated_at": now,
    }
    if row.state == S.HELD.value and row.hold_reason != HoldReason.PAUSED.value:
        values.update(state=S.PENDING.value, hold_reason=None)
    _change_row(session, row, **values)


def _require(row: Publication, states: set[PublicationState]) -> None:
    if row.state not in {s.value for s in states}:
        assert row.id is not None
        raise StaleRow(row.id)


# ---------------------------------------------------------------- pauses


def active_pauses(session: Session) -> list[Pause]:
    return list(
        session.exec(
            select(Pause).where(col(Pause.released_at).is_(None)).order_by(col(Pause.id))
        ).all()
    )


def covers(pauses: Iterable[Pause], account_id: str) -> bool:
    """Whether any of ``pauses`` applies to ``account_id``."""
    return any(p.account_id is None or p.account_id == account_id for p in pauses)


def pause(
    session: Session, *, account_id: str | None, reason: str, created_by: str, now: datetime
) -> tuple[Pause, list[Publication]]:
    """Start a pause; hold every pending non-emergency publication it covers (returned)."""
    row = Pause(account_id=account_id, reason=reason, created_by=created_by, created_at=now)
    session.add(row)
    session.flush()
    statement = (
        select(Publication)
        .where(Publication.state == S.PENDING.value, col(Publication.emergency).is_(False))
        .order_by(col(Publication.id))
        .execution_options(populate_existing=True)
    )
    if account_id is not None:
        statement = statement.where(Publication.account_id == account_id)
    if _is_postgres(session):
        # Rows a worker is claiming right now are skipped: they are already on their way.
        statement = statement.with_for_update(skip_locked=True)
    held = list(session.exec(statement).all())
    for publication in held:
        hold(session, publication, HoldReason.PAUSED, now=now)
    return row, held


def resume(
    session: Session, *, account_id: str | None, released_by: str, now: datetime
) -> tuple[list[Pause], list[Publication]]:
    """End the active pauses of exactly this scope (one account, or all when None); release the
    rows they held that no remaining pause covers. Returns (pauses ended, rows released)."""
    scope = (
        col(Pause.account_id).is_(None) if account_id is None else Pause.account_id == account_id
    )
    ended = list(
        session.exec(
            select(Pause).where(col(Pause.released_at).is_(None), scope).order_by(col(Pause.id))
        ).all()
    )
    for pause_row in ended:
        pause_row.released_at = now
        pause_row.released_by = released_by
        session.add(pause_row)
    session.flush()
    remaining = active_pauses(session)
    statement = (
        select(Publication)
        .where(
            Publication.state == S.HELD.value,
            Publication.hold_reason == HoldReason.PAUSED.value,
        )
        .order_by(col(Publication.id))
        .execution_options(populate_existing=True)
    )
    if _is_postgres(session):
        statement = statement.with_for_update()
    released: list[Publication] = []
    for publication in session.exec(statement).all():
        if not covers(remaining, publication.account_id):
            release(session, publication, now=now, confirmed_by=None)
            released.append(publication)
    return ended, released


# ---------------------------------------------------------------- reading


def list_publications(
    session: Session,
    *,
    states: Sequence[PublicationState] = (),
    account_id: str | None = None,
    limit: int = 200,
) -> list[Publication]:
    """The newest ``limit`` publications (by due time), oldest first."""
    statement = select(Publication)
    if states:
        statement = statement.where(col(Publication.state).in_([s.value for s in states]))
    if account_id is not None:
        statement = statement.where(Publication.account_id == account_id)
    newest = statement.order_by(col(Publication.due_at).desc(), col(Publication.id).desc())
    rows = list(session.exec(newest.limit(limit)).all())
    rows.reverse()
    return rows
