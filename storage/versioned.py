"""Optimistic concurrency for rows several people or replicas may change at once.

Drafts, publications, incidents and deletions carry a ``version`` counter. A change is written as
``UPDATE ... SET ..., version = version + 1 WHERE id = ? AND version = ?`` with the version the
caller read: if someone else changed the row in between, no row matches and the caller is told
(and can answer "この版は既に更新されています" instead of overwriting the other change).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import case, tuple_
from sqlmodel import Session, col, update

from storage.tables import Deletion, DeletionRequest, Draft, Incident, Publication, utc_now

VersionedTable = (
    type[Draft] | type[Publication] | type[Incident] | type[DeletionRequest] | type[Deletion]
)


def session_now(session: Session) -> datetime:
    """Now by the application's clock the session carries (``Database.clock``), else UTC now."""
    clock = session.info.get("clock", utc_now)
    now: datetime = clock()
    return now


def update_versioned(
    session: Session,
    table: VersionedTable,
    row_id: int,
    expected_version: int,
    **values: Any,
) -> bool:
    """Apply ``values`` to the row if it is still at ``expected_version``; True if it was.

    ``version`` goes up by one; ``updated_at`` is set to now unless given. Objects of that row
    already loaded in the session are brought up to date.
    """
    if "version" in values or "id" in values:
        raise ValueError("update_versioned sets version itself and never changes id")
    values.setdefault("updated_at", session_now(session))
    statement = (
        update(table)
        .where(col(table.id) == row_id, col(table.version) == expected_version)
        .values(version=col(table.version) + 1, **values)
    )
    result = session.exec(statement)
    return result.rowcount == 1


def update_versioned_many(
    session: Session,
    table: VersionedTable,
    expected: Mapping[int, int],
    *,
    each: Mapping[str, Mapping[int, Any]] | None = None,
    **values: Any,
) -> set[int]:
    """``update_versioned`` for many rows in one statement: each row of ``expected`` (id ->
    version read) gets ``values``, and for every column of ``each`` its own value (id -> value);
    only rows still at their version change. Returns the ids that did.

    ``UPDATE ... SET col = CASE id WHEN ... END ... WHERE (id, version) IN (...) RETURNING id``.
    """
    if "version" in values or "id" in values:
        raise ValueError("update_versioned_many sets version itself and never changes id")
    if not expected:
        return set()
    values.setdefault("updated_at", session_now(session))
    for column, by_id in (each or {}).items():
        values[column] = case({row_id: by_id[row_id] for row_id in expected}, value=table.id)
    statement = (
        update(table)
        .where(tuple_(col(table.id), col(table.version)).in_(list(expected.items())))
        .values(version=col(table.version) + 1, **values)
        .returning(col(table.id))
        .execution_options(synchronize_session=False)
    )
    return {row_id for row_id in session.execute(statement).scalars() if row_id is not None}
