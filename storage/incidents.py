"""Incidents and what the monitors remember, on SQLite and PostgreSQL alike.

- ``open_or_dedupe``: a new incident unless one with the same ``dedupe_key`` exists. The insert is
  ``ON CONFLICT DO NOTHING`` on the UNIQUE key, so of two replicas (or two polls) seeing the same
  cause at once exactly one opens the incident: one alert per cause, never one per poll.
- ``save``: an incident's change guarded by its ``version`` (storage.versioned).
- ``claim_reminders``: unacknowledged incidents due a reminder, marked reminded in the same
  statement, so two replicas never remind of the same incident twice.
- ``MonitorState`` rows: the profile baseline, when watching began, the last poll, the replies per
  bucket — read and written by the monitor that holds the account's ``MonitorLock``.
- ``MonitorLock``: one replica polls each account. PostgreSQL: a session-level
  ``pg_try_advisory_lock`` held on a connection of its own while the poll runs (released at the
  end, or by PostgreSQL when the connection dies); SQLite: one process, so always granted.
- ``published_ids`` / ``recent_sends``: what the outbox knows the account published.

Nothing here audits: the callers (handlers/incidents.py, handlers/monitors.py) append the audit
events in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, and_, func, or_
from sqlalchemy import update as sa_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.engine import Database, advisory_key
from storage.tables import DraftRevision, Incident, MonitorState, Publication
from storage.versioned import update_versioned
from workflows.checks.model import Platform
from workflows.incidents.hijack import SentPost
from workflows.publishing import PublicationState

OPEN: Final = "open"
_LOCK_NAMESPACE: Final = "postgate:monitor:"


# ---------------------------------------------------------------- incidents


def open_or_dedupe(
    session: Session,
    *,
    kind: str,
    account_id: str | None,
    dedupe_key: str | None,
    title: str,
    evidence: dict[str, Any],
    checklist: dict[str, Any],
    created_by: str,
    at: datetime,
) -> tuple[Incident, bool]:
    """The incident for ``dedupe_key``: opened now (True) or the one that exists (False).

    Safe under concurrency: on PostgreSQL a second insert of the same key waits for the first
    transaction and then does nothing. A ``None`` key never deduplicates.
    """
    values = {
        "kind": kind,
        "account_id": account_id,
        "state": OPEN,
        "dedupe_key": dedupe_key,
        "title": title,
        "evidence": evidence,
        "checklist": checklist,
        "created_by": created_by,
        "created_at": at,
        "updated_at": at,
        "version": 0,
    }
    insert = postgresql.insert if _is_postgres(session) else sqlite.insert
    statement = insert(Incident).values(values).on_conflict_do_nothing().returning(col(Incident.id))
    # RETURNING yields the id only when the row was inserted.
    inserted = session.connection().execute(statement).scalar_one_or_none()
    if inserted is not None:
        row = session.get(Incident, inserted)
        assert row is not None
        return row, True
    assert dedupe_key is not None  # only the UNIQUE key can conflict
    existing = by_dedupe_key(session, dedupe_key)
    assert existing is not None
    return existing, False


def get(session: Session, incident_id: int, *, for_update: bool = False) -> Incident | None:
    statement = select(Incident).where(Incident.id == incident_id)
    if for_update and _is_postgres(session):
        statement = statement.with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).first()


def by_dedupe_key(session: Session, dedupe_key: str) -> Incident | None:
    statement = select(Incident).where(Incident.dedupe_key == dedupe_key)
    return session.exec(statement.execution_options(populate_existing=True)).first()


def list_incidents(
    session: Session, *, states: Sequence[str] = (), limit: int = 100
) -> list[Incident]:
    """Incidents newest first, optionally only in ``states``."""
    statement = select(Incident).order_by(col(Incident.created_at).desc(), col(Incident.id).desc())
    if states:
        statement = statement.where(col(Incident.state).in_(list(states)))
    return list(session.exec(statement.limit(limit)).all())


def save(session: Session, row: Incident, **values: Any) -> bool:
    """Apply ``values`` if the row is still at the version read; True if it was."""
    assert row.id is not None
    return update_versioned(session, Incident, row.id, row.version, **values)


def claim_reminders(
    session: Session, *, created_before: datetime, reminded_before: datetime, at: datetime
) -> list[Incident]:
    """Open incidents opened before ``created_before`` and not reminded of since
    ``reminded_before``, marked reminded at ``at`` — in one statement, so each is claimed once."""
    due = and_(
        col(Incident.state) == OPEN,
        col(Incident.created_at) <= created_before,
        or_(col(Incident.reminded_at).is_(None), col(Incident.reminded_at) <= reminded_before),
    )
    statement = (
        sa_update(Incident)
        .where(due)
        .values(reminded_at=at, version=col(Incident.version) + 1)
        .returning(col(Incident.id))
    )
    ids = list(session.connection().execute(statement).scalars().all())
    if not ids:
        return []
    rows = session.exec(
        select(Incident)
        .where(col(Incident.id).in_(ids))
        .order_by(col(Incident.created_at), col(Incident.id))
        .execution_options(populate_existing=True)
    ).all()
    return list(rows)


# ---------------------------------------------------------------- what the monitors remember


def monitor_state(session: Session, key: str) -> MonitorState | None:
    statement = select(MonitorState).where(MonitorState.key == key)
    return session.exec(statement.execution_options(populate_existing=True)).first()


def save_monitor_state(session: Session, state: MonitorState) -> MonitorState:
    """Insert or replace the row (one monitor holds the watch's lock while it writes)."""
    saved = session.merge(state)
    session.flush()
    return saved


# ---------------------------------------------------------------- what the outbox published


def published_ids(session: Session, account_id: str, post_ids: Iterable[str]) -> frozenset[str]:
    """Which of ``post_ids`` are platform ids of the account's publications."""
    wanted = sorted(set(post_ids))
    if not wanted:
        return frozenset()
    statement = select(Publication.platform_post_id).where(
        Publication.account_id == account_id, col(Publication.platform_post_id).in_(wanted)
    )
    return frozenset(i for i in session.exec(statement).all() if i)


def recent_sends(
    session: Session, account_id: str, *, platform: Platform, since: datetime
) -> list[SentPost]:
    """The account's publications that may be on the platform without their id recorded yet
    (sending, needs review) and every one claimed since ``since``, with the text that was sent."""
    unsettled = (PublicationState.SENDING.value, PublicationState.NEEDS_REVIEW.value)
    statement = (
        select(Publication, DraftRevision)
        .join(
            DraftRevision,
            and_(
                col(DraftRevision.draft_id) == col(Publication.draft_id),
                col(DraftRevision.revision) == col(Publication.revision),
            ),
        )
        .where(
            Publication.account_id == account_id,
            or_(col(Publication.state).in_(unsettled), col(Publication.claimed_at) >= since),
        )
        .order_by(col(Publication.id))
    )
    sends: list[SentPost] = []
    for publication, revision in session.exec(statement).all():
        sent_at = publication.claimed_at or publication.updated_at
        text = revision.variants.get(platform.value) or revision.text
        sends.append(SentPost(text=text, sent_at=sent_at, post_id=publication.platform_post_id))
    return sends


# ---------------------------------------------------------------- one replica per account


def lock_key(name: str) -> int:
    """The advisory lock key of a watch: a signed 64-bit integer from its name."""
    digest = hashlib.sha256((_LOCK_NAMESPACE + name).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class MonitorLock:
    """Held by the one monitor polling a watch; acquire and release from a worker thread."""

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = name
        self.key = lock_key(name)
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        """True if this monitor now holds the lock (always on SQLite); never waits."""
        if not self.db.is_postgres:
            return True
        connection = self.db.engine.connect()
        try:
            got = bool(
                connection.execute(
                    select(func.pg_try_advisory_lock(advisory_key(self.key)))
                ).scalar()
            )
            connection.commit()  # the lock is the session's: no transaction stays open meanwhile
        except BaseException:
            connection.invalidate()
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(select(func.pg_advisory_unlock(advisory_key(self.key))))
            connection.commit()
        except BaseException:
            # Never hand a connection that may still hold the lock back to the pool.
            connection.invalidate()
            raise
        finally:
            connection.close()


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
