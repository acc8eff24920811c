from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.dedupe import first_time, forget_before
from storage.engine import Database
from storage.tables import ChatMessage, Draft, DraftRevision, Incident, Review

AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
HASH = "ab" * 32


def _draft(db: Database) -> int:
    with db.session() as session:
        draft = Draft(author_id="kato.shota", state="awaiting_approval", source="slack")
        session.add(draft)
        session.flush()
        assert draft.id is not None
        session.add(
            DraftRevision(
                draft_id=draft.id,
                revision=1,
                text="11月23日(月・祝)は環境フェアです。",
                variants={"x": "環境フェア 11/23"},
                targets=["kankyo-x"],
                content_hash=HASH,
                created_by="kato.shota",
            )
        )
        return draft.id


def _review(
    draft_id: int,
    reviewer: str,
    *,
    kind: str = "approval",
    section: str | None = "環境推進課",
    decision: str = "approved",
    revision: int = 1,
) -> Review:
    return Review(
        draft_id=draft_id,
        revision=revision,
        reviewer_id=reviewer,
        kind=kind,
        section=section if kind == "approval" else None,
        decision=decision,
        checklist={"dates": True, "typos": True},
        acknowledged_warnings=["hours"],
        content_hash=HASH,
    )


def _add(db: Database, *rows: Review) -> None:
    with db.session() as session:
        session.add_all(rows)


def test_a_second_approval_decision_for_the_same_section_is_refused(db: Database) -> None:
    draft_id = _draft(db)
    _add(db, _review(draft_id, "yamamoto.jun"))
    refused = r"uq_review_approval_per_section|review\.draft_id, review\.revision, review\.section"
    with pytest.raises(IntegrityError, match=refused):
        _add(db, _review(draft_id, "nakamura.ai"))
    # A rejection by the deputy after the chief's approval is refused just the same.
    with pytest.raises(IntegrityError):
        _add(db, _review(draft_id, "nakamura.ai", decision="rejected"))


def test_other_sections_and_revisions_have_their_own_approval(db: Database) -> None:
    draft_id = _draft(db)
    _add(
        db,
        _review(draft_id, "yamamoto.jun"),
        _review(draft_id, "sato.keiko", section="シティ・プロモーション課"),
        _review(draft_id, "yamamoto.jun", revision=2),
    )
    with db.session() as session:
        count = session.exec(select(func.count()).select_from(Review)).one()
    assert count == 3


def test_peer_checks_one_per_person(db: Database) -> None:
    draft_id = _draft(db)
    _add(
        db,
        _review(draft_id, "nakamura.ai", kind="peer", decision="checked"),
        _review(draft_id, "sasaki.emi", kind="peer", decision="checked"),
    )
    with pytest.raises(IntegrityError):
        _add(db, _review(draft_id, "nakamura.ai", kind="peer", decision="changes_requested"))


def test_an_approval_must_name_its_section_and_values_are_checked(db: Database) -> None:
    draft_id = _draft(db)
    no_section = _review(draft_id, "yamamoto.jun")
    no_section.section = None
    with pytest.raises(IntegrityError):
        _add(db, no_section)
    with pytest.raises(IntegrityError):
        _add(db, _review(draft_id, "yamamoto.jun", decision="maybe"))
    with pytest.raises(IntegrityError):
        _add(db, _review(draft_id, "yamamoto.jun", kind="vote"))


def test_two_approvers_at_once_leave_exactly_one_decision(db: Database) -> None:
    draft_id = _draft(db)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(reviewer: str, decision: str) -> None:
        start.wait()
        try:
            _add(db, _review(draft_id, reviewer, decision=decision))
            outcomes[reviewer] = "won"
        except IntegrityError:
            outcomes[reviewer] = "refused"

    threads = [
        threading.Thread(target=decide, args=("yamamoto.jun", "approved")),
        threading.Thread(target=decide, args=("nakamura.ai", "rejected")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["refused", "won"]
    with db.session() as session:
        reviews = session.exec(select(Review)).all()
    assert [r.reviewer_id for r in reviews] == [k for k, v in outcomes.items() if v == "won"]


def test_a_revision_number_is_unique_per_draft(db: Database) -> None:
    draft_id = _draft(db)
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(
            DraftRevision(
                draft_id=draft_id, revision=1, text="x", content_hash=HASH, created_by="a"
            )
        )


def test_json_columns_round_trip_and_none_is_sql_null(db: Database) -> None:
    draft_id = _draft(db)
    reference = {"conversation": {"id": "19:abc@thread.tacv2"}, "serviceUrl": "https://x/"}
    with db.session() as session:
        session.add_all(
            [
                ChatMessage(
                    subject_kind="draft",
                    subject_id=draft_id,
                    purpose="approval_card",
                    platform="slack",
                    channel="C0APPROVE1",
                    ts="1700000000.000100",
                    revision=1,
                ),
                ChatMessage(
                    subject_kind="draft",
                    subject_id=draft_id,
                    purpose="approval_card",
                    platform="teams",
                    conversation_reference=reference,
                    revision=1,
                ),
            ]
        )
    with db.session() as session:
        nulls = session.exec(
            select(func.count())
            .select_from(ChatMessage)
            .where(col(ChatMessage.conversation_reference).is_(None))
        ).one()
        teams = session.exec(select(ChatMessage).where(ChatMessage.platform == "teams")).one()
        revision = session.exec(select(DraftRevision)).one()
    assert nulls == 1
    assert teams.conversation_reference == reference
    assert revision.variants == {"x": "環境フェア 11/23"}
    assert revision.targets == ["kankyo-x"]


def test_incident_dedupe_key_is_unique(db: Database) -> None:
    def incident() -> Incident:
        return Incident(
            kind="hijack",
            account_id="midori-x",
            dedupe_key="hijack:midori-x:post:1799",
            title="見覚えのない投稿",
            evidence={"post_id": "1799"},
            created_by="monitor",
        )

    with db.session() as session:
        session.add(incident())
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(incident())


def test_a_replayed_request_is_recognised(db: Database) -> None:
    with db.session() as session:
        assert first_time(session, "slack:action:abc", at=AT)
        assert not first_time(session, "slack:action:abc", at=AT)
    with db.session() as session:
        assert not first_time(session, "slack:action:abc", at=AT + timedelta(seconds=1))
        assert first_time(session, "teams:invoke:def", at=AT + timedelta(minutes=10))
    with db.session() as session:
        assert forget_before(session, AT + timedelta(minutes=5)) == 1
        assert first_time(session, "slack:action:abc", at=AT + timedelta(minutes=11))
