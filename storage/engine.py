"""The database: SQLite embedded by default, PostgreSQL when several replicas share one.

SQLite connections run in WAL mode with foreign keys on and a 10-second busy timeout, and every
read-write transaction starts with ``BEGIN IMMEDIATE``: the write lock is taken up front, so two
writers queue behind each other instead of one failing when it upgrades a read lock ("database is
locked"). pysqlite's own transaction handling is switched off (``isolation_level = None``) so
SQLAlchemy's ``begin`` event can emit that statement — the recipe in SQLAlchemy's SQLite dialect
documentation. Within one process, read-write sessions on SQLite also queue on a lock first:
SQLite's busy handler polls with growing sleeps (up to 100 ms), so threads of the same process
contending for the write lock would otherwise wait far longer than the writes take.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final

from sqlalchemy import BigInteger, ColumnElement, Connection, Engine, create_engine, event, func
from sqlalchemy import exc as sa_exc
from sqlalchemy import literal as sa_literal
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

ENV_DATABASE_URL: Final = "POSTGATE_DATABASE_URL"
DEFAULT_DATABASE_URL: Final = "sqlite:///postgate.db"
SQLITE_BUSY_TIMEOUT_SECONDS: Final = 10

# Execution option that makes a SQLite transaction start with a deferred BEGIN (a WAL reader that
# never blocks writers) and a PostgreSQL transaction READ ONLY.
READ_ONLY_OPTION: Final = "postgate_read_only"


# What a database that is down, unreachable, locked or read-only raises (a retry later may work).
UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)


def database_url(environ: Mapping[str, str]) -> str:
    """$POSTGATE_DATABASE_URL, else ``sqlite:///postgate.db``."""
    return environ.get(ENV_DATABASE_URL) or DEFAULT_DATABASE_URL


class Database:
    """One engine and the sessions built on it; create one per process (in the composition root)."""

    def __init__(
        self,
        url: str,
        *,
        connect_args: Mapping[str, Any] | None = None,
        echo: bool = False,
    ) -> None:
        parsed = make_url(url)
        args: dict[str, Any] = dict(connect_args or {})
        self.backend = parsed.get_backend_name()
        self.engine: Engine
        if self.backend == "sqlite":
            args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_SECONDS)
            self.engine = create_engine(parsed, connect_args=args, echo=echo)
            _configure_sqlite(self.engine)
        elif self.backend == "postgresql":
            self.engine = create_engine(parsed, connect_args=args, echo=echo, pool_pre_ping=True)
        else:
            raise ValueError(
                f"unsupported database {parsed.render_as_string(hide_password=True)!r}: "
                "use sqlite:///FILE or postgresql+psycopg://..."
            )
        self._write_lock: threading.Lock | None = threading.Lock() if self.is_sqlite else None
        # The application's clock (``build_services`` sets it): every session carries it, so a
        # row's ``updated_at`` written without an explicit time is the clock's, not the machine's.
        self.clock: Callable[[], datetime] | None = None
        self._read_only_engine = self.engine.execution_options(**{READ_ONLY_OPTION: True})
        if self.is_postgres:
            self._read_only_engine = self._read_only_engine.execution_options(
                postgresql_readonly=True
            )

    @property
    def is_postgres(self) -> bool:
        return self.backend == "postgresql"

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    @property
    def url(self) -> str:
        """The URL with any password masked, for logs and messages."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        ``read_only=True`` is for long reads (audit verify and export): on SQLite it does not take
        the write lock, so writers carry on meanwhile; on PostgreSQL the transaction is READ ONLY.
        Objects stay usable after the block (no expiry on commit).
        """
        bind = self._read_only_engine if read_only else self.engine
        info = {"clock": self.clock} if self.clock is not None else None
        if read_only or self._write_lock is None:
            with Session(bind, expire_on_commit=False, info=info) as session, session.begin():
                yield session
            return
        with (
            self._write_lock,
            Session(bind, expire_on_commit=False, info=info) as session,
            session.begin(),
        ):
            yield session

    def check_writable(self) -> None:
        """Raise (an ``UNAVAILABLE`` error) unless the database takes writes: a table created and
        rolled back. For ``serve``, which otherwise would start and fail at its first write."""
        with self.engine.connect() as connection:
            transaction = connection.begin()
            try:
                connection.exec_driver_sql("CREATE TABLE postgate_write_probe (x INTEGER)")
            finally:
                transaction.rollback()

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown, and in tests)."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url!r})"


def advisory_key(key: int) -> ColumnElement[int]:
    """A PostgreSQL advisory-lock key for this schema: ``key`` mixed with the current schema's
    name. Advisory locks are database-wide; without this, two deployments (or two test schemas)
    in one database would hold each other's locks."""
    schema_hash = func.hashtextextended(func.current_schema(), 0)
    return sa_literal(key, BigInteger).op("#", return_type=BigInteger)(schema_hash)


def is_read_only(session: Session) -> bool:
    """Whether ``session`` came from ``Database.session(read_only=True)``."""
    return bool(session.connection().get_execution_options().get(READ_ONLY_OPTION))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN; pysqlite would otherwise emit a deferred
        # BEGIN itself before DML only (and none before SELECT or DDL).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # Outside any transaction: these PRAGMAs are no-ops inside one.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
