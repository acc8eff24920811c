from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlmodel import col, select

from storage.engine import DEFAULT_DATABASE_URL, Database, database_url
from storage.tables import Draft, Publication

JST = ZoneInfo("Asia/Tokyo")


def test_database_url_comes_from_the_environment() -> None:
    assert database_url({}) == DEFAULT_DATABASE_URL == "sqlite:///postgate.db"
    url = "postgresql+psycopg://postgate@db.internal/postgate"
    assert database_url({"POSTGATE_DATABASE_URL": url}) == url


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        Database("mysql://root:secret@127.0.0.1/postgate")


def test_url_hides_the_password() -> None:
    db = Database("postgresql+psycopg://postgate:s3cret@127.0.0.1:5432/postgate")
    try:
        assert "s3cret" not in db.url
        assert "s3cret" not in repr(db)
        assert db.is_postgres
        assert not db.is_sqlite
    finally:
        db.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_db: Database) -> None:
    with sqlite_db.session() as session:
        connection = session.connection()
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def _try_to_write(path: Path) -> str:
    """From a separate sqlite3 connection that does not wait: 'ok' or the error."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return "ok"
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        other.close()


def test_every_sqlite_transaction_takes_the_write_lock_at_begin(
    sqlite_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "postgate.db"
    assert _try_to_write(path) == "ok"
    with sqlite_db.session() as session:
        # Only a read so far: a deferred BEGIN would not hold the write lock yet.
        session.exec(select(Draft)).all()
        assert _try_to_write(path) == "database is locked"
    assert _try_to_write(path) == "ok"


def test_read_only_sqlite_session_leaves_writers_alone(sqlite_db: Database, tmp_path: Path) -> None:
    with sqlite_db.session(read_only=True) as session:
        session.exec(select(Draft)).all()
        assert _try_to_write(tmp_path / "postgate.db") == "ok"


def _add_draft(db: Database, *, read_only: bool = False, fail: bool = False) -> None:
    with db.session(read_only=read_only) as session:
        session.add(Draft(author_id="sasaki.emi", state="draft", source="teams"))
        session.flush()
        if fail:
            raise RuntimeError("boom")


def test_read_only_postgres_session_refuses_writes(postgres_db: Database) -> None:
    db = postgres_db
    with pytest.raises(DBAPIError, match="read-only transaction"):
        _add_draft(db, read_only=True)
    # The option does not leak into ordinary sessions sharing the pool.
    with db.session() as session:
        session.add(Draft(author_id="kato.shota", state="draft", source="cli"))


def test_session_commits_on_success_and_rolls_back_on_error(db: Database) -> None:
    with db.session() as session:
        session.add(Draft(author_id="kato.shota", state="draft", source="slack"))
    with pytest.raises(RuntimeError, match="boom"):
        _add_draft(db, fail=True)
    with db.session() as session:
        authors = session.exec(select(Draft.author_id)).all()
    assert authors == ["kato.shota"]


def test_objects_stay_usable_after_the_session(db: Database) -> None:
    with db.session() as session:
        draft = Draft(author_id="kato.shota", state="draft", source="slack")
        session.add(draft)
    assert draft.id is not None
    assert draft.author_id == "kato.shota"


def test_datetimes_come_back_aware_in_utc(db: Database) -> None:
    publish_at = datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=JST)
    with db.session() as session:
        draft = Draft(author_id="kato.shota", state="draft", source="cli", publish_at=publish_at)
        session.add(draft)
    with db.session() as session:
        stored = session.get(Draft, draft.id)
        assert stored is not None
        assert stored.publish_at == publish_at
        assert stored.publish_at is not None
        assert stored.publish_at.tzinfo is UTC
        assert stored.publish_at.isoformat() == "2026-11-20T01:00:00.123456+00:00"
        assert stored.created_at.tzinfo is UTC


def test_datetime_comparisons_use_the_instant_not_the_zone(db: Database) -> None:
    minus_five = timezone(timedelta(hours=-5))
    with db.session() as session:
        draft = Draft(author_id="kato.shota", state="approved", source="cli")
        session.add(draft)
        session.flush()
        assert draft.id is not None
        for hour in (9, 10, 11):
            session.add(
                Publication(
                    draft_id=draft.id,
                    revision=1,
                    account_id=f"account-{hour}",
                    content_hash="0" * 64,
                    due_at=datetime(2026, 11, 20, hour, tzinfo=JST),
                )
            )
    # 2026-11-19 20:00 at UTC-5 is 2026-11-20 10:00 in Tokyo.
    cutoff = datetime(2026, 11, 19, 20, 0, tzinfo=minus_five)
    with db.session() as session:
        due = session.exec(
            select(Publication.account_id)
            .where(Publication.due_at <= cutoff)
            .order_by(col(Publication.due_at))
        ).all()
    assert due == ["account-9", "account-10"]


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db.session() as session:
        session.add(
            Draft(
                author_id="kato.shota",
                state="draft",
                source="cli",
                publish_at=datetime(2026, 11, 20, 10, 0),  # noqa: DTZ001 - the point of the test
            )
        )


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Draft(author_id="kato.shota", state="draft", source="cli", correction_of=999))


def test_each_postgres_test_has_a_schema_of_its_own(postgres_db: Database) -> None:
    with postgres_db.session() as session:
        schema = session.connection().execute(text("SELECT current_schema()")).scalar_one()
    assert schema.startswith("postgate_test_")
