"""Anchors (the chain's head kept outside the database) and HMAC links: shortening or rewriting
the audit log is caught."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from storage import audit
from storage.audit import Anchor, Problem
from storage.engine import Database
from storage.tables import AuditEvent

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def _append(db: Database, n: int, start: int = 0) -> None:
    with db.session() as session:
        for i in range(start, start + n):
            audit.append(
                session,
                actor="sato.keiko",
                action="draft.approved",
                subject=f"draft:{i}",
                details={"revision": 1, "理由": "確認済み"},
                at=T0 + timedelta(minutes=i),
            )


def _anchor(db: Database, path: Path, minutes: int = 0) -> Anchor:
    with db.session(read_only=True) as session:
        head = audit.head_anchor(session, T0 + timedelta(minutes=minutes))
    audit.write_anchor(path, head)
    return head


def _check(db: Database, path: Path) -> audit.AnchorBroken | None:
    with db.session(read_only=True) as session:
        return audit.check_anchors(session, audit.read_anchors(path))


def _delete_from(db: Database, seq: int) -> None:
    with db.session() as session:
        session.execute(text("DELETE FROM audit_event WHERE seq >= :seq"), {"seq": seq})


def _rewrite_from(db: Database, seq: int, key: bytes | None = None) -> None:
    """Edit event ``seq`` and recompute every later link, as a forger with write access would."""
    with db.session() as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all()
        prev = audit.GENESIS_HASH
        for event in events:
            if event.seq == seq:
                event.actor = "someone.else"
            if event.seq >= seq:
                event.prev_hash = prev
                event.hash = audit.chain_hash(
                    prev,
                    audit.canonical_event(
                        seq=event.seq,
                        at=event.at,
                        actor=event.actor,
                        action=event.action,
                        subject=event.subject,
                        details=event.details,
                    ),
                    key,
                )
                session.add(event)
            prev = event.hash


def test_anchors_of_an_untouched_chain_match_and_the_chain_may_grow(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "anchors" / "audit.jsonl"
    empty = _anchor(db, path)
    assert (empty.seq, empty.hash) == (0, audit.GENESIS_HASH)
    _append(db, 10)
    head = _anchor(db, path, 10)
    _append(db, 3, start=10)
    assert head.seq == 10
    assert _check(db, path) is None
    assert [a.seq for a in audit.read_anchors(path)] == [0, 10]
    assert audit.last_anchor(path) == head


@pytest.mark.parametrize("deleted", [1, 5, 20])
def test_deleting_the_newest_events_is_caught_by_the_anchor(
    db: Database, tmp_path: Path, deleted: int
) -> None:
    path = tmp_path / "anchors.jsonl"
    _append(db, 10)
    _anchor(db, path, 10)
    _append(db, 10, start=10)
    _anchor(db, path, 20)
    _delete_from(db, 21 - deleted)
    with db.session(read_only=True) as session:
        assert audit.verify(session) is None  # the links alone cannot tell
    broken = _check(db, path)
    assert broken is not None
    assert broken.found is None
    # Deleting everything loses the first anchor's event too: that one is named first.
    assert (broken.number, broken.anchor.seq) == ((1, 10) if deleted == 20 else (2, 20))
    assert "no longer contains" in str(broken)


def test_an_edit_with_recomputed_hashes_is_caught_by_the_anchor(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "anchors.jsonl"
    _append(db, 8)
    anchored = _anchor(db, path, 8)
    _rewrite_from(db, 3)
    with db.session(read_only=True) as session:
        assert audit.verify(session) is None
    broken = _check(db, path)
    assert broken is not None
    assert broken.found is not None
    assert broken.found != anchored.hash
    assert broken.anchor.seq == 8
    assert "no longer" not in str(broken)
    assert anchored.hash in str(broken)


def test_a_line_that_is_not_an_anchor_is_named(tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    path.write_text('{"seq": 1, "hash": "ab", "at": "2026-11-20T00:00:00+00:00"}\nhello\n')
    with pytest.raises(audit.AnchorFileError, match=r"anchors\.jsonl:2: not an anchor line"):
        audit.read_anchors(path)
    with pytest.raises(audit.AnchorFileError, match=r"missing\.jsonl"):
        audit.read_anchors(tmp_path / "missing.jsonl")


def test_with_a_key_links_are_hmacs_and_a_forger_without_it_is_caught(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(db, 3)  # before the key: plain links
    monkeypatch.setenv(audit.KEY_ENV, "s3cret-kept-elsewhere")
    key = audit.audit_key()
    assert key is not None
    _append(db, 3, start=3)
    with db.session(read_only=True) as session:
        broken, head = audit.walk(session, key)
        fourth = session.get(AuditEvent, 4)
    assert broken is None
    assert (head.count, head.plain) == (6, 3)
    assert fourth is not None
    canonical = audit.canonical_event(
        seq=4,
        at=fourth.at,
        actor=fourth.actor,
        action=fourth.action,
        subject=fourth.subject,
        details=fourth.details,
    )
    expected = hmac.new(b"s3cret-kept-elsewhere", fourth.prev_hash.encode() + canonical, "sha256")
    assert fourth.hash == expected.hexdigest()
    # Without the key, the first keyed link cannot be verified, and the message says why.
    with db.session(read_only=True) as session:
        unkeyed = audit.verify(session)
    assert unkeyed is not None
    assert unkeyed.seq == 4
    assert audit.KEY_ENV in unkeyed.detail
    # Someone who can write the database but not read the key recomputes plain hashes.
    _rewrite_from(db, 5)
    with db.session(read_only=True) as session:
        forged = audit.verify(session, key)
    assert forged is not None
    assert (forged.seq, forged.problem) == (5, Problem.PLAIN_AFTER_KEYED)
    # ... or guesses a key.
    _rewrite_from(db, 5, key=b"guess")
    with db.session(read_only=True) as session:
        guessed = audit.verify(session, key)
    assert guessed is not None
    assert (guessed.seq, guessed.problem) == (5, Problem.HASH_MISMATCH)
