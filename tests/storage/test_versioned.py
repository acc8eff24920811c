from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from storage.engine import Database
from storage.tables import Draft, Incident, Publication
from storage.versioned import update_versioned

AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def _draft(db: Database) -> int:
    with db.session() as session:
        draft = Draft(author_id="kato.shota", state="awaiting_approval", source="slack")
        session.add(draft)
        session.flush()
        assert draft.id is not None
        assert draft.version == 0
        return draft.id


def test_an_update_at_the_read_version_wins_and_bumps_it(db: Database) -> None:
    draft_id = _draft(db)
    with db.session() as session:
        assert update_versioned(session, Draft, draft_id, 0, state="approved", updated_at=AT)
    with db.session() as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        assert (draft.state, draft.version, draft.updated_at) == ("approved", 1, AT)


def test_without_a_time_the_update_is_stamped_by_the_database_s_clock(db: Database) -> None:
    draft_id = _draft(db)
    db.clock = lambda: AT  # what build_services gives it: the application's one clock
    with db.session() as session:
        assert update_versioned(session, Draft, draft_id, 0, state="approved")
    with db.session() as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        assert draft.updated_at == AT


def test_a_stale_version_is_refused_and_changes_nothing(db: Database) -> None:
    draft_id = _draft(db)
    # Two people read version 0; the first to write wins.
    with db.session() as session:
        assert update_versioned(session, Draft, draft_id, 0, state="approved")
    with db.session() as session:
        assert not update_versioned(session, Draft, draft_id, 0, state="rejected")
    with db.session() as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        assert (draft.state, draft.version) == ("approved", 1)


def test_loaded_objects_see_the_new_version(db: Database) -> None:
    draft_id = _draft(db)
    with db.session() as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        assert update_versioned(session, Draft, draft_id, draft.version, state="withdrawn")
        assert (draft.state, draft.version) == ("withdrawn", 1)


def test_an_unknown_row_is_not_updated(db: Database) -> None:
    with db.session() as session:
        assert not update_versioned(session, Incident, 12345, 0, state="resolved")


def test_concurrent_updates_from_the_same_version_let_exactly_one_win(db: Database) -> None:
    draft_id = _draft(db)
    with db.session() as session:
        publication = Publication(
            draft_id=draft_id,
            revision=1,
            account_id="kankyo-x",
            content_hash="0" * 64,
            due_at=AT,
        )
        session.add(publication)
        session.flush()
        assert publication.id is not None
        publication_id = publication.id

    start = threading.Barrier(8)
    outcomes: list[bool] = []
    lock = threading.Lock()

    def claim(worker: str) -> None:
        start.wait()
        with db.session() as session:
            won = update_versioned(
                session, Publication, publication_id, 0, state="sending", leased_by=worker
            )
        with lock:
            outcomes.append(won)

    threads = [threading.Thread(target=claim, args=(f"replica-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 7 + [True]
    with db.session() as session:
        row = session.get(Publication, publication_id)
        assert row is not None
        assert (row.state, row.version) == ("sending", 1)
        assert row.leased_by is not None


def test_version_and_id_are_not_for_the_caller_to_set(db: Database) -> None:
    draft_id = _draft(db)
    with db.session() as session:
        with pytest.raises(ValueError, match="sets version itself"):
            update_versioned(session, Draft, draft_id, 0, version=7)
        with pytest.raises(ValueError, match="never changes id"):
            update_versioned(session, Draft, draft_id, 0, id=8)
