"""Databases for storage tests: every test taking ``db`` runs on SQLite and on PostgreSQL.

PostgreSQL runs when $POSTGATE_TEST_DATABASE_URL is set (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); each test gets a schema of its own,
dropped afterwards, so tests never see each other's rows. Without the variable the PostgreSQL
cases are skipped, with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from storage.engine import Database
from storage.migrate import upgrade

ENV_TEST_DATABASE_URL = "POSTGATE_TEST_DATABASE_URL"
BACKENDS = ("sqlite", "postgresql")


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[Database]:
    """An empty database of ``backend``, thrown away afterwards."""
    if backend == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'postgate.db'}")
        try:
            yield db
        finally:
            db.dispose()
        return

    url = os.environ.get(ENV_TEST_DATABASE_URL)
    if not url:
        pytest.skip(f"PostgreSQL: set {ENV_TEST_DATABASE_URL}=postgresql+psycopg://...")
    schema = f"postgate_test_{uuid.uuid4().hex[:12]}"  # "pg_" prefixes are reserved
    admin = create_engine(url, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        # Every connection of this test is named after its schema, so that teardown can find
        # one that outlived the test (a background task still running) and end it.
        db = Database(
            url, connect_args={"options": f"-csearch_path={schema}", "application_name": schema}
        )
        try:
            yield db
        finally:
            db.dispose()
    finally:
        _drop_schema(admin, schema)
        admin.dispose()


def _drop_schema(admin: Engine, schema: str) -> None:
    """Drop the test's schema; connections still using it are ended first if they hold locks."""
    with admin.begin() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"
            ),
            {"name": schema},
        )
        connection.execute(text("SET LOCAL lock_timeout = '30s'"))
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(params=BACKENDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no tables at all (never migrated)."""
    with fresh_database(request.param, tmp_path) as db:
        yield db


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database migrated to the newest revision."""
    with fresh_database(request.param, tmp_path) as database:
        upgrade(database)
        yield database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database, for what only SQLite has (PRAGMAs, its locks)."""
    with fresh_database("sqlite", tmp_path) as database:
        upgrade(database)
        yield database


@pytest.fixture
def postgres_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated PostgreSQL database, for what only PostgreSQL has."""
    with fresh_database("postgresql", tmp_path) as database:
        upgrade(database)
        yield database
