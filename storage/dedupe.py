"""Recognise a chat request seen before (Slack replays a signed click; Teams retries an invoke)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete

from storage.tables import ProcessedRequest


def first_time(session: Session, key: str, *, at: datetime) -> bool:
    """Record ``key``; True the first time, False if it was already recorded.

    Safe under concurrency: the insert is ``ON CONFLICT DO NOTHING`` on the primary key, so of two
    transactions racing with the same key exactly one sees True.
    """
    values = {"key": key, "created_at": at}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(ProcessedRequest)
        .values(values)
        .on_conflict_do_nothing()
        .returning(col(ProcessedRequest.key))
    )
    # RETURNING yields the row only when it was inserted (the ORM's rowcount is not reliable
    # for INSERT on every driver).
    return session.connection().execute(statement).first() is not None


def forget_before(session: Session, before: datetime) -> int:
    """Delete keys recorded before ``before`` (replays only matter for minutes); return how many."""
    result = session.exec(delete(ProcessedRequest).where(col(ProcessedRequest.created_at) < before))
    return result.rowcount
