"""storage.incidents on SQLite and PostgreSQL: one incident per dedupe key however many writers,
reminders claimed once, the monitors' lock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from storage import incidents as repo
from storage.engine import Database
from storage.tables import Incident

AT = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def _open(db: Database, key: str | None, at: datetime = AT) -> tuple[int, bool]:
    with db.session() as session:
        row, created = repo.open_or_dedupe(
            session,
            kind="hijack",
            account_id="midori-x",
            dedupe_key=key,
            title="乗っ取りのおそれ",
            evidence={"cause": "unknown-post"},
            checklist={"ticks": []},
            created_by="monitor",
            at=at,
        )
        assert row.id is not None
        return row.id, created


def test_the_same_dedupe_key_opens_one_incident(db: Database) -> None:
    first = _open(db, "hijack:unknown-post:midori-x:1")
    again = _open(db, "hijack:unknown-post:midori-x:1")
    other = _open(db, "hijack:unknown-post:midori-x:2")
    assert [first[1], again[1], other[1]] == [True, False, True]
    assert again[0] == first[0] != other[0]
    # Without a key nothing is deduplicated.
    assert _open(db, None)[0] != _open(db, None)[0]


def test_writers_racing_with_one_key_open_one_incident(db: Database) -> None:
    results: list[tuple[int, bool]] = []
    start = threading.Barrier(6)

    def write() -> None:
        start.wait()
        results.append(_open(db, "impersonation:lookalike:x:midori_clty"))

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(created for _, created in results) == 1
    assert len({incident for incident, _ in results}) == 1


def test_reminders_are_claimed_once(db: Database) -> None:
    incident, _ = _open(db, "k")
    claim = {"created_before": AT + timedelta(minutes=30), "at": AT + timedelta(minutes=31)}
    with db.session() as session:
        [row] = repo.claim_reminders(session, reminded_before=AT + timedelta(minutes=1), **claim)
        assert row.id == incident
        assert row.reminded_at == AT + timedelta(minutes=31)
        assert row.version == 1
    with db.session() as session:
        assert (
            repo.claim_reminders(session, reminded_before=AT + timedelta(minutes=1), **claim) == []
        )
    with db.session() as session:
        row = session.get(Incident, incident)
        assert row is not None
        assert repo.save(session, row, state="acknowledged")
    with db.session() as session:
        assert (
            repo.claim_reminders(
                session,
                created_before=AT + timedelta(hours=2),
                reminded_before=AT + timedelta(hours=2),
                at=AT + timedelta(hours=2),
            )
            == []
        )


def test_a_stale_version_does_not_overwrite(db: Database) -> None:
    incident, _ = _open(db, "k")
    with db.session() as session:
        stale = session.get(Incident, incident)
        assert stale is not None
        version = stale.version
    with db.session() as session:
        row = session.get(Incident, incident)
        assert row is not None
        assert repo.save(session, row, state="acknowledged")
    stale.version = version
    with db.session() as session:
        assert not repo.save(session, stale, state="resolved")
    with db.session(read_only=True) as session:
        row = session.get(Incident, incident)
        assert row is not None
        assert row.state == "acknowledged"


def test_the_monitor_lock_is_held_by_one_on_postgresql(db: Database) -> None:
    first = repo.MonitorLock(db, "account:midori-x")
    second = repo.MonitorLock(db, "account:midori-x")
    other = repo.MonitorLock(db, "account:midori-facebook")
    assert first.acquire()
    try:
        assert other.acquire()  # another watch: independent
        other.release()
        if db.is_postgres:
            assert not second.acquire()
        else:  # one process: always granted
            assert second.acquire()
            second.release()
    finally:
        first.release()
    assert second.acquire()
    second.release()
    second.release()  # releasing twice is harmless


@pytest.mark.parametrize("name", ["account:midori-x", "lookup:x"])
def test_lock_keys_are_stable_signed_64_bit_integers(name: str) -> None:
    key = repo.lock_key(name)
    assert key == repo.lock_key(name)
    assert -(2**63) <= key < 2**63
    assert repo.lock_key(name + "!") != key
