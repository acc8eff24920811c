from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from storage import audit
from storage.audit import BrokenLink, Problem
from storage.engine import Database
from storage.tables import AuditEvent
from workflows.catalogue import Lang, message

JST = ZoneInfo("Asia/Tokyo")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=JST)


def _append_three(db: Database) -> list[AuditEvent]:
    with db.session() as session:
        return [
            audit.append(
                session,
                actor="kato.shota",
                action="draft.submitted",
                subject="draft:1",
                details={"revision": 1, "text": "みどり市 秋の環境フェア"},
                at=T0,
            ),
            audit.append(
                session,
                actor="yamamoto.jun",
                action="draft.approved",
                subject="draft:1",
                details={"revision": 1, "section": "環境推進課", "warnings": ("hours",)},
                at=T0 + timedelta(minutes=5),
            ),
            audit.append(
                session,
                actor="system",
                action="publication.published",
                subject="publication:1",
                details={},
                at=T0 + timedelta(minutes=6),
            ),
        ]


def _verify(db: Database) -> BrokenLink | None:
    with db.session(read_only=True) as session:
        return audit.verify(session)


def test_the_chain_links_each_event_to_the_previous_one(db: Database) -> None:
    first, second, third = _append_three(db)
    assert [e.seq for e in (first, second, third)] == [1, 2, 3]
    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert _verify(db) is None


def test_the_hash_is_sha256_of_prev_hash_and_the_canonical_event(db: Database) -> None:
    first, second, _ = _append_three(db)
    # Written out by hand, as someone checking an export would.
    canonical = (
        '{"action":"draft.approved","actor":"yamamoto.jun","at":"2026-11-20T00:05:00.000000+00:00",'
        '"details":{"revision":1,"section":"環境推進課","warnings":["hours"]},'
        '"seq":2,"subject":"draft:1"}'
    )
    expected = hashlib.sha256(first.hash.encode() + canonical.encode("utf-8")).hexdigest()
    assert second.hash == expected
    # Stored in JSON form: the tuple came back as a list.
    with db.session() as session:
        stored = session.get(AuditEvent, 2)
        assert stored is not None
        assert stored.details["warnings"] == ["hours"]
        assert stored.at == T0 + timedelta(minutes=5)


def test_walk_reports_the_head_of_an_intact_chain(db: Database) -> None:
    *_, third = _append_three(db)
    with db.session() as session:
        broken, head = audit.walk(session)
    assert broken is None
    assert (head.count, head.seq, head.hash) == (3, 3, third.hash)


def test_an_empty_log_verifies(db: Database) -> None:
    with db.session() as session:
        broken, head = audit.walk(session)
    assert broken is None
    assert (head.count, head.seq, head.hash) == (0, None, "0" * 64)


def test_changed_details_are_named_by_seq(db: Database) -> None:
    _append_three(db)
    with db.session() as session:
        session.connection().execute(
            text("UPDATE audit_event SET details = :details WHERE seq = 2"),
            {"details": json.dumps({"revision": 1, "section": "博物館", "warnings": ["hours"]})},
        )
    broken = _verify(db)
    assert broken is not None
    assert (broken.seq, broken.problem) == (2, Problem.HASH_MISMATCH)
    assert str(broken).startswith("seq 2: hash mismatch")


def test_a_changed_time_is_noticed(db: Database) -> None:
    first, *_ = _append_three(db)
    with db.session() as session:
        row = session.get(AuditEvent, 1)
        assert row is not None
        row.at = first.at + timedelta(microseconds=1)
    broken = _verify(db)
    assert broken is not None
    assert (broken.seq, broken.problem) == (1, Problem.HASH_MISMATCH)


def test_a_rehashed_forgery_breaks_the_next_link(db: Database) -> None:
    first, second, _ = _append_three(db)
    forged = {"revision": 1, "section": "博物館", "warnings": ["hours"]}
    forged_hash = audit.chain_hash(
        first.hash,
        audit.canonical_event(
            seq=2,
            at=second.at,
            actor=second.actor,
            action=second.action,
            subject=second.subject,
            details=forged,
        ),
    )
    with db.session() as session:
        session.connection().execute(
            text("UPDATE audit_event SET details = :details, hash = :hash WHERE seq = 2"),
            {"details": json.dumps(forged, ensure_ascii=False), "hash": forged_hash},
        )
    broken = _verify(db)
    assert broken is not None
    assert (broken.seq, broken.problem) == (3, Problem.PREV_HASH_MISMATCH)


def test_a_deleted_event_is_named_by_seq(db: Database) -> None:
    _append_three(db)
    with db.session() as session:
        session.connection().execute(text("DELETE FROM audit_event WHERE seq = 2"))
    broken = _verify(db)
    assert broken is not None
    assert (broken.seq, broken.problem) == (2, Problem.SEQ_GAP)
    assert "expected seq 2, found 3" in str(broken)


def test_a_deleted_first_event_is_named_too(db: Database) -> None:
    _append_three(db)
    with db.session() as session:
        session.connection().execute(text("DELETE FROM audit_event WHERE seq = 1"))
    broken = _verify(db)
    assert broken is not None
    assert (broken.seq, broken.problem) == (1, Problem.SEQ_GAP)


def test_appends_continue_the_chain_across_transactions(db: Database) -> None:
    _append_three(db)
    with db.session() as session:
        event = audit.append(
            session, actor="a", action="x", subject="s", details=None, at=T0 + timedelta(hours=1)
        )
    assert event.seq == 4
    assert _verify(db) is None


def _audit_then_fail(db: Database) -> None:
    with db.session() as session:
        audit.append(session, actor="a", action="x", subject="s", at=T0)
        raise RuntimeError("the use case failed after auditing")


def test_a_rolled_back_append_leaves_no_gap(db: Database) -> None:
    _append_three(db)
    with pytest.raises(RuntimeError, match="failed after auditing"):
        _audit_then_fail(db)
    with db.session() as session:
        assert audit.append(session, actor="a", action="y", subject="s", at=T0).seq == 4
    assert _verify(db) is None


def test_naive_times_and_non_json_details_are_refused(db: Database) -> None:
    naive = datetime(2026, 11, 20, 9, 0)  # noqa: DTZ001 - the point of the test
    with db.session() as session:
        with pytest.raises(ValueError, match="naive datetime"):
            audit.append(session, actor="a", action="x", subject="s", at=naive)
        with pytest.raises(ValueError, match="Out of range float"):
            audit.append(
                session, actor="a", action="x", subject="s", details={"v": float("nan")}, at=T0
            )
        with pytest.raises(TypeError):
            audit.append(session, actor="a", action="x", subject="s", details={"v": {1, 2}}, at=T0)
    assert _verify(db) is None


def test_concurrent_appends_form_one_valid_chain(db: Database) -> None:
    per_thread = 50
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with db.session() as session:
                    audit.append(
                        session,
                        actor=name,
                        action="test.appended",
                        subject=f"{name}:{i}",
                        details={"i": i},
                        at=datetime.now(UTC),
                    )
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.session() as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all()
        broken, head = audit.walk(session)
    assert [e.seq for e in events] == list(range(1, 101))
    assert sorted(e.actor for e in events) == ["left"] * 50 + ["right"] * 50
    assert broken is None
    assert head.count == 100


def _events_around_midnight_in_tokyo(db: Database) -> None:
    with db.session() as session:
        for at, action in (
            (datetime(2026, 11, 19, 23, 59, 59, tzinfo=JST), "before"),
            (datetime(2026, 11, 19, 15, 30, tzinfo=UTC), "after.midnight"),  # 00:30 in Tokyo
            (datetime(2026, 11, 20, 10, 0, tzinfo=JST), "morning"),
        ):
            audit.append(
                session,
                actor="sato.keiko",
                action=action,
                subject="draft:7",
                details={"コメント": "承認します", "n": 1},
                at=at,
            )


def test_export_csv_from_a_date_in_tokyo(db: Database) -> None:
    _events_around_midnight_in_tokyo(db)
    out = io.StringIO()
    with db.session(read_only=True) as session:
        count = audit.export(session, date(2026, 11, 20), "csv", out)
        hashes = session.exec(select(AuditEvent.hash).order_by(col(AuditEvent.seq))).all()
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert count == 2
    assert rows[0] == ["seq", "at", "actor", "action", "subject", "details", "prev_hash", "hash"]
    assert rows[1] == [
        "2",
        "2026-11-20T00:30:00.000000+09:00",
        "sato.keiko",
        "after.midnight",
        "draft:7",
        '{"n":1,"コメント":"承認します"}',
        hashes[0],
        hashes[1],
    ]
    assert [r[0] for r in rows[1:]] == ["2", "3"]
    assert rows[2][1] == "2026-11-20T10:00:00.000000+09:00"


def test_export_jsonl_lets_the_recipient_recompute_every_hash(db: Database) -> None:
    _events_around_midnight_in_tokyo(db)
    out = io.StringIO()
    with db.session(read_only=True) as session:
        count = audit.export(session, datetime(2026, 11, 19, tzinfo=UTC), "jsonl", out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(records) == 3
    assert records[0]["details"] == {"コメント": "承認します", "n": 1}
    assert "承認します" in out.getvalue()  # not \\u-escaped
    prev = "0" * 64
    for record in records:
        assert set(record) == {
            "seq",
            "at",
            "actor",
            "action",
            "subject",
            "details",
            "prev_hash",
            "hash",
        }
        assert record["prev_hash"] == prev
        event = {k: record[k] for k in ("seq", "actor", "action", "subject", "details")}
        event["at"] = (
            datetime.fromisoformat(record["at"]).astimezone(UTC).isoformat(timespec="microseconds")
        )
        canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest()
        assert digest == record["hash"]
        prev = record["hash"]


def test_export_refuses_a_naive_datetime_and_an_unknown_format(db: Database) -> None:
    with db.session() as session:
        with pytest.raises(ValueError, match="naive"):
            audit.export(session, datetime(2026, 11, 20), "csv", io.StringIO())  # noqa: DTZ001
        with pytest.raises(ValueError, match="unknown export format"):
            audit.export(session, date(2026, 11, 20), "xml", io.StringIO())  # type: ignore[arg-type]


def test_appends_need_a_read_write_session(db: Database) -> None:
    with db.session(read_only=True) as session, pytest.raises(RuntimeError, match="read-write"):
        audit.append(session, actor="a", action="x", subject="s", at=T0)


def _append_one(db: Database, n: int) -> None:
    with db.session() as session:
        audit.append(
            session,
            actor="system",
            action="publication.published",
            subject=f"publication:{n}",
            details={"n": n},
            at=T0 + timedelta(hours=n),
        )


def test_walk_on_verifies_only_what_came_after_a_verified_head(db: Database) -> None:
    _append_three(db)
    with db.session(read_only=True) as session:
        _, head = audit.walk(session)
    _append_one(db, 4)
    _append_one(db, 5)
    with db.session(read_only=True) as session:
        broken, on = audit.walk_on(session, head)
        assert (broken, on) == audit.walk(session)
    assert (on.count, on.seq) == (5, 5)

    with db.session() as session:  # a new event changed: found from the last head
        session.connection().execute(
            text("UPDATE audit_event SET details = :d WHERE seq = 5"), {"d": json.dumps({"n": 9})}
        )
    with db.session(read_only=True) as session:
        broken, _ = audit.walk_on(session, head)
    assert broken is not None
    assert (broken.seq, broken.problem) == (5, Problem.HASH_MISMATCH)


def test_walk_on_notices_its_head_event_changed_or_gone(db: Database) -> None:
    _append_three(db)
    with db.session(read_only=True) as session:
        _, head = audit.walk(session)
    with db.session() as session:  # its content, the hash left as it was
        session.connection().execute(text("UPDATE audit_event SET actor = 'x' WHERE seq = 3"))
    with db.session(read_only=True) as session:
        broken, _ = audit.walk_on(session, head)
    assert broken is not None
    assert (broken.seq, broken.problem) == (3, Problem.CHANGED_SINCE_VERIFIED)
    assert "its content no longer gives its hash" in str(broken)
    with db.session() as session:
        session.connection().execute(
            text("UPDATE audit_event SET hash = :h WHERE seq = 3"), {"h": "f" * 64}
        )
    with db.session(read_only=True) as session:
        broken, _ = audit.walk_on(session, head)
    assert broken is not None
    assert (broken.seq, broken.problem) == (3, Problem.CHANGED_SINCE_VERIFIED)
    with db.session() as session:
        session.connection().execute(text("DELETE FROM audit_event WHERE seq = 3"))
    with db.session(read_only=True) as session:
        broken, _ = audit.walk_on(session, head)
    assert broken is not None
    assert "now no event" in str(broken)


def test_walk_on_keeps_a_keyed_chain_keyed(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _append_one(db, 1)  # before the key: a plain link
    monkeypatch.setenv(audit.KEY_ENV, "s3cret-kept-elsewhere")
    key = audit.audit_key()
    _append_one(db, 2)
    with db.session(read_only=True) as session:
        _, head = audit.walk(session, key)
    assert (head.plain, head.keyed) == (1, True)
    monkeypatch.delenv(audit.KEY_ENV)
    _append_one(db, 3)  # a plain link after keyed ones: refused from the head too
    with db.session(read_only=True) as session:
        broken, _ = audit.walk_on(session, head, key)
    assert broken is not None
    assert (broken.seq, broken.problem) == (3, Problem.PLAIN_AFTER_KEYED)


def test_a_broken_link_is_described_in_japanese_with_its_technical_detail() -> None:
    broken = audit.BrokenLink(3, audit.Problem.SEQ_GAP, "expected seq 3, found 5")
    assert broken.said_in() == "seq 3：記録の番号（seq）が抜けています（expected seq 3, found 5）"
    assert broken.said_in(Lang.EN) == str(broken)
    # Said in the language of the message it appears in.
    assert message("audit.broken", Lang.JA, broken=broken).endswith(
        "記録の番号（seq）が抜けています（expected seq 3, found 5）"
    )
