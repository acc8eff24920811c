"""Alembic environment: runs postgate's migrations on the connection ``storage.migrate`` gives.

``storage.migrate`` opens the transaction and passes its connection in
``config.attributes["connection"]``; without one (a developer running alembic's command API by
hand) the database is $POSTGATE_DATABASE_URL.
"""

from __future__ import annotations

import os
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlmodel.sql.sqltypes import AutoString

from storage.engine import Database, database_url
from storage.tables import UTCDateTime, metadata


def _render_item(kind: str, obj: object, _context: AutogenContext) -> str | Literal[False]:
    """Autogenerate plain SQLAlchemy types, so migrations don't import postgate or sqlmodel."""
    if kind != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, AutoString):
        return f"sa.String({obj.length})" if obj.length else "sa.String()"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: later migrations copy and swap tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    db = Database(database_url(os.environ))
    try:
        with db.engine.begin() as own:
            _run(own)
    finally:
        db.dispose()


if context.is_offline_mode():
    raise SystemExit("postgate migrations run online only: use `postgate db upgrade`")
_run_online()
