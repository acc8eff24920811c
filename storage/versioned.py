"""Optimistic concurrency for rows several people or replicas may change at once.

Drafts, publications and incidents carry a ``version`` counter. A change is written as
``UPDATE ... SET ..., version = version + 1 WHERE id = ? AND version = ?`` with the version the
caller read: if someone else changed the row in between, no row matches and the caller is told
(and can answer "この版は既に更新されています" instead of overwriting the other change).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, update

from storage.tables import Draft, Incident, Publication, utc_now

VersionedTable = type[Draft] | type[Publication] | type[Incident]


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
    values.setdefault("updated_at", utc_now())
    statement = (
        update(table)
        .where(col(table.id) == row_id, col(table.version) == expected_version)
        .values(version=col(table.version) + 1, **values)
    )
    result = session.exec(statement)
    return result.rowcount == 1
