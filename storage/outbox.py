"""The outbox: claiming due publications and every change of their state, on both databases.

A worker claims due rows in one transaction and commits before any network call: each claimed row
goes ``pending -> sending`` with a lease (``lease_until``, ``leased_by``), one more attempt, and its
idempotency key (a UUID made at the first claim and never changed). Rows found in ``sending`` whose
lease has expired belong to a worker that died or gave up mid-call: they are claimed too, marked
for reconciliation — the worker asks the platform whether the post is there before anything is
sent again.

Claiming is safe with any number of workers and processes, and costs two statements per batch
(``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING ...``: reconciliations, then due rows):

- PostgreSQL: the inner select is ``FOR UPDATE SKIP LOCKED`` — two workers never even see the same
  row, and the update takes exactly the rows it locked;
- SQLite: every read-write transaction starts with ``BEGIN IMMEDIATE`` (storage.engine), so one
  claim runs at a time and the select and the update inside one statement see the same rows.

A claim is then changed only through the functions taking it (``checkpoint``, ``mark_*``,
``hold_claim``, ``cancel_claim``): each is ``UPDATE ... WHERE id = ? AND version = ?`` with the
version the claim last wrote, so a worker whose row was taken over (its lease ran out) is told
(``LeaseLost``) instead of overwriting the newer outcome.

Nothing here audits: the callers (handlers/publishing.py) append the audit events in the same
transaction, at its end.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, update
from sqlmodel import Session, col, select

from storage.tables import Deletion, Pause, Publication, metadata
from storage.versioned import update_versioned, update_versioned_many
from workflows.deletion import TargetState
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
    # The first retryable error of the current run of failures (None: not failing).
    failing_since: datetime | None = None


# ---------------------------------------------------------------- claiming


def claim_due(
    session: Session, *, now: datetime, worker_id: str, lease: timedelta, limit: int
) -> list[Claim]:
    """Claim up to ``limit`` rows: ``sending`` ones whose lease expired (to reconcile) first, then
    due pending ones, oldest due first. Commit the session before any network call for them.

    Each kind is one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING ...`` (the select
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so a batch costs two statements, not one per row.
    A reconciliation claim keeps ``claimed_at``: it is when the attempt that may have reached the
    platform began, and a later reconciliation must still look back that far.
    """
    if limit <= 0:
        return []
    claims = _claim(session, reconcile=True, now=now, worker_id=worker_id, lease=lease, limit=limit)
    if len(claims) < limit:
        claims += _claim(
            session,
            reconcile=False,
            now=now,
            worker_id=worker_id,
            lease=lease,
            limit=limit - len(claims),
        )
    return _with_keys(session, claims)


_CLAIM_RETURNS = (
    col(Publication.id),
    col(Publication.version),
    col(Publication.draft_id),
    col(Publication.revision),
    col(Publication.account_id),
    col(Publication.content_hash),
    col(Publication.due_at),
    col(Publication.attempts),
    col(Publication.idempotency_key),
    col(Publication.material),
    col(Publication.emergency),
    col(Publication.confirmed_by),
    col(Publication.claimed_at),
    col(Publication.failing_since),
)


def _claim(
    session: Session,
    *,
    reconcile: bool,
    now: datetime,
    worker_id: str,
    lease: timedelta,
    limit: int,
) -> list[Claim]:
    if reconcile:
        due = and_(col(Publication.state) == S.SENDING.value, col(Publication.lease_until) <= now)
        claimed_at: Any = func.coalesce(col(Publication.claimed_at), col(Publication.updated_at))
    else:
        due = and_(
            col(Publication.state) == S.PENDING.value,
            col(Publication.due_at) <= now,
            or_(
                col(Publication.next_attempt_at).is_(None), col(Publication.next_attempt_at) <= now
            ),
        )
        claimed_at = now
    chosen = (
        select(col(Publication.id))
        .where(due)
        .order_by(col(Publication.emergency).desc(), col(Publication.due_at), col(Publication.id))
        .limit(limit)
    )
    if _is_postgres(session):
        chosen = chosen.with_for_update(skip_locked=True)
    statement = (
        update(Publication)
        .where(col(Publication.id).in_(chosen.scalar_subquery()))
        .values(
            state=S.SENDING.value,
            lease_until=now + lease,
            leased_by=worker_id,
            attempts=col(Publication.attempts) + 1,
            claimed_at=claimed_at,
            updated_at=now,
            version=col(Publication.version) + 1,
        )
        .returning(*_CLAIM_RETURNS)
        .execution_options(synchronize_session=False)
    )
    claims = [
        Claim(
            publication_id=row.id,
            version=row.version,
            worker_id=worker_id,
            draft_id=row.draft_id,
            revision=row.revision,
            account_id=row.account_id,
            content_hash=row.content_hash,
            due_at=row.due_at,
            attempts=row.attempts,
            idempotency_key=row.idempotency_key or "",
            material=dict(row.material or {}),
            emergency=row.emergency,
            confirmed=row.confirmed_by is not None,
            claimed_at=now,
            lease_until=now + lease,
            reconcile=reconcile,
            previous_claimed_at=row.claimed_at if reconcile else None,
            failing_since=row.failing_since,
        )
        for row in session.execute(statement).all()
    ]
    return sorted(claims, key=lambda c: (not c.emergency, c.due_at, c.publication_id))


def _with_keys(session: Session, claims: list[Claim]) -> list[Claim]:
    """Give each row claimed for the first time its idempotency key (a UUID, never changed)."""
    fresh = {c.publication_id: str(uuid.uuid4()) for c in claims if not c.idempotency_key}
    if not fresh:
        return claims
    table = metadata.tables["publication"]
    session.execute(
        update(table)
        .where(table.c.id == bindparam("pid"), table.c.idempotency_key.is_(None))
        .values(idempotency_key=bindparam("key")),
        [{"pid": pid, "key": key} for pid, key in fresh.items()],
    )
    return [
        replace(c, idempotency_key=fresh[c.publication_id]) if c.publication_id in fresh else c
        for c in claims
    ]


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
        failing_since=None,
        updated_at=now,
    )


def mark_published_many(
    session: Session,
    published: Sequence[tuple[Claim, str | None, str | None]],
    *,
    now: datetime,
) -> dict[int, Claim]:
    """``mark_published`` for many claims (claim, post id, permalink) in one statement. Returns
    the claims after the change, by publication id; a claim missing from it lost its lease."""
    if not published:
        return {}
    expected = {c.publication_id: c.version for c, _, _ in published}
    changed = update_versioned_many(
        session,
        Publication,
        expected,
        each={
            "platform_post_id": {c.publication_id: post_id for c, post_id, _ in published},
            "permalink": {c.publication_id: link for c, _, link in published},
        },
        state=S.PUBLISHED.value,
        lease_until=None,
        next_attempt_at=None,
        last_error=None,
        failing_since=None,
        updated_at=now,
    )
    return {
        c.publication_id: replace(c, version=c.version + 1)
        for c, _, _ in published
        if c.publication_id in changed
    }


def mark_retry(
    session: Session,
    claim: Claim,
    *,
    at: datetime,
    error: str,
    now: datetime,
    failing: bool = True,
) -> Claim:
    """Certainly not sent: back to ``pending``, not before ``at``. ``failing``: the attempt
    failed (the run of failures starts now if it has not); else the platform only asked to wait
    (a rate limit), and the attempt is given back."""
    values: dict[str, Any] = {}
    if failing and claim.failing_since is None:
        values["failing_since"] = now
    if not failing:
        values["attempts"] = max(claim.attempts - 1, 0)
    changed = _change(
        session,
        claim,
        state=S.PENDING.value,
        next_attempt_at=at,
        last_error=error,
        lease_until=None,
        leased_by=None,
        updated_at=now,
        **values,
    )
    return replace(changed, failing_since=values.get("failing_since", claim.failing_since))


def renew_leases(
    session: Session,
    ids: Iterable[int],
    *,
    worker_id: str,
    until: datetime,
    table: type[Publication] | type[Deletion] = Publication,
) -> int:
    """The heartbeat: extend the leases of the rows (publications, or deletions with
    ``table=Deletion``) this worker is sending right now. Rows taken over by another worker
    (``leased_by`` changed) are not touched, and the version is not bumped: the claims in flight
    stay valid. Returns how many were renewed."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    sending = S.SENDING.value if table is Publication else TargetState.SENDING.value
    result = session.execute(
        update(table)
        .where(
            col(table.id).in_(ids),
            col(table.leased_by) == worker_id,
            col(table.state) == sending,
            col(table.lease_until) < until,
        )
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def release_dead_workers(
    session: Session, *, host: str, is_alive: Callable[[int], bool], now: datetime
) -> list[str]:
    """End at once the leases of the workers on this host whose process is gone (a crash, a
    kill -9: worker ids are ``host:pid:suffix``), so their rows are reconciled now rather than
    when the lease runs out. A pid that is alive again (reused) keeps its lease: the lease then
    decides. Returns the workers released."""
    prefix = f"{host}:"
    leased = session.exec(
        select(Publication.leased_by)
        .where(
            col(Publication.state) == S.SENDING.value,
            col(Publication.leased_by).startswith(prefix, autoescape=True),
            col(Publication.lease_until) > now,
        )
        .distinct()
    ).all()
    dead: list[str] = []
    for worker in leased:
        parts = (worker or "").removeprefix(prefix).split(":")
        if len(parts) == 2 and parts[0].isdigit() and not is_alive(int(parts[0])):
            dead.append(worker or "")
    if dead:
        session.execute(
            update(Publication)
            .where(
                col(Publication.state) == S.SENDING.value,
                col(Publication.leased_by).in_(dead),
                col(Publication.lease_until) > now,
            )
            .values(lease_until=now)
            .execution_options(synchronize_session=False)
        )
    return dead


def retry_failed(session: Session, row: Publication, *, now: datetime) -> None:
    """failed -> sending with its lease already over: the next tick (any worker) reconciles it
    with the platform first — published if the post is there — and only then re-checks and
    sends it, with a fresh budget of attempts and time."""
    _require(row, {S.FAILED})
    _change_row(
        session,
        row,
        state=S.SENDING.value,
        attempts=0,
        # Already over, by the clock of whoever recorded the failure (a worker elsewhere).
        lease_until=min(now, row.updated_at),
        leased_by=None,
        next_attempt_at=None,
        failing_since=None,
        claimed_at=row.claimed_at or row.updated_at,
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


def resolve_published(
    session: Session,
    row: Publication,
    *,
    post_id: str | None,
    permalink: str | None,
    now: datetime,
) -> None:
    """needs_review -> published: a person found the post on the platform."""
    _require(row, {S.NEEDS_REVIEW})
    _change_row(
        session,
        row,
        state=S.PUBLISHED.value,
        platform_post_id=post_id,
        permalink=permalink,
        lease_until=None,
        leased_by=None,
        next_attempt_at=None,
        last_error=None,
        updated_at=now,
    )


def resolve_not_published(session: Session, row: Publication, *, now: datetime) -> None:
    """needs_review -> pending: a person checked that the post is not there. It is sent with the
    same idempotency key and material, after the send-time rules again, with a fresh budget of
    attempts; the earlier outcome stays in ``last_error`` until then."""
    _require(row, {S.NEEDS_REVIEW})
    _change_row(
        session,
        row,
        state=S.PENDING.value,
        attempts=0,
        lease_until=None,
        leased_by=None,
        next_attempt_at=None,
        confirmed_by=None,
        updated_at=now,
    )


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
