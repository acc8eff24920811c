"""The outbox worker and the publication use cases on real databases (SQLite and PostgreSQL),
publishing through the dry-run client (rows in ``dry_run_post``) and scripted failures."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config import AppConfig
from handlers.drafts import DraftUseCases
from handlers.publishing import OutboxSettings
from sns.base import ErrorKind, PostRequest
from storage import audit, outbox
from storage.engine import Database
from storage.tables import AuditEvent, Draft, DraftRevision
from tests.conftest import JST
from tests.handlers.conftest import NOW, REPO, FixedClock, slack
from tests.handlers.publishing_support import (
    CLEAN,
    FAST_RETRY,
    UNDECIDED,
    RecordingNotifier,
    actions,
    approve,
    dry_posts,
    make_outbox,
    posts_per_key,
    publication_uc,
    publications,
    scripted,
)
from workflows.errors import ReasonRequired
from workflows.lifecycle import DraftState
from workflows.publishing import (
    AccountPaused,
    NotAllowedToPause,
    NotAuthorOrApprover,
    PublicationNotInReview,
    PublicationNotOpen,
    PublicationState,
    RescheduleInPast,
)


def draft_state(db: Database, draft_id: int) -> DraftState:
    with db.session(read_only=True) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        return DraftState(draft.state)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


# ---------------------------------------------------------------- the happy path


async def test_one_post_per_approved_target(
    usecases: DraftUseCases,
    config: AppConfig,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
) -> None:
    draft_id = approve(usecases, config, targets=("midori-x", "midori-facebook"))
    box = make_outbox(db, config, clock, notifier)
    report = await box.run_once()
    assert report.claimed == 2
    rows = publications(db, draft_id)
    assert [(r.account_id, r.state, r.attempts) for r in rows] == [
        ("midori-x", "published", 1),
        ("midori-facebook", "published", 1),
    ]
    posts = dry_posts(db)
    assert sorted(p.account_id for p in posts) == ["midori-facebook", "midori-x"]
    assert all(count == 1 for count in posts_per_key(db).values())
    for row in rows:
        post = next(p for p in posts if p.idempotency_key == row.idempotency_key)
        assert row.platform_post_id == post.post_id
        assert row.permalink == f"dryrun://{row.account_id}/{post.post_id}"
        assert post.text.startswith("【みどり市】12月5日(土)")
    assert draft_state(db, draft_id) is DraftState.PUBLISHED
    assert actions(db, f"publication:{rows[0].id}") == [
        "publication.sending",
        "publication.published",
    ]
    draft_actions = actions(db, f"draft:{draft_id}")
    assert draft_actions[-2:] == ["draft.publish_started", "draft.published"]
    assert (await box.run_once()).claimed == 0
    assert len(dry_posts(db)) == 2
    assert notifier.notices == []
    with db.session(read_only=True) as session:
        assert audit.verify(session) is None


async def test_the_idempotency_key_is_made_at_the_first_claim_and_kept(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    [row] = publications(db)
    assert row.idempotency_key is None
    client, clients = scripted(db, config, clock, "midori-x")
    client.fail_next(ErrorKind.RETRYABLE, status=503)
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients)
    await box.run_once()
    [first] = publications(db)
    assert first.state == "pending"
    assert first.idempotency_key is not None
    clock.now += timedelta(minutes=1)
    await box.run_once()
    [second] = publications(db)
    assert second.state == "published"
    assert second.idempotency_key == first.idempotency_key
    assert list(posts_per_key(db)) == [first.idempotency_key]


# ---------------------------------------------------------------- time


async def test_a_scheduled_post_goes_out_at_its_time_not_before(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    due = NOW + timedelta(hours=2)
    draft_id = approve(usecases, config, publish_at=due)
    box = make_outbox(db, config, clock, RecordingNotifier())
    assert (await box.run_once()).claimed == 0
    clock.now = due - timedelta(seconds=1)
    assert (await box.run_once()).claimed == 0
    assert dry_posts(db) == []
    assert draft_state(db, draft_id) is DraftState.APPROVED
    clock.now = due
    assert (await box.run_once()).claimed == 1
    [row] = publications(db)
    assert row.state == "published"
    assert row.due_at == due


async def test_nine_o_clock_in_tokyo_is_midnight_utc_never_an_hour_early(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    due = datetime(2026, 11, 25, 9, 0, tzinfo=JST)
    approve(usecases, config, publish_at=due)
    [row] = publications(db)
    assert row.due_at == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    box = make_outbox(db, config, clock, RecordingNotifier())
    for early in (timedelta(hours=1), timedelta(hours=9), timedelta(seconds=1)):
        clock.now = due - early
        assert (await box.run_once()).claimed == 0, early
    clock.now = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    assert (await box.run_once()).claimed == 1
    assert publications(db)[0].state == "published"


async def test_missed_while_down_within_the_limit_goes_out_on_start(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    due = NOW + timedelta(hours=1)  # 11:00
    approve(usecases, config, publish_at=due)
    clock.now = due + timedelta(hours=5)  # back at 16:00, still in business hours
    notifier = RecordingNotifier()
    assert (await make_outbox(db, config, clock, notifier).run_once()).claimed == 1
    assert publications(db)[0].state == "published"
    assert notifier.notices == []


async def test_missed_beyond_the_limit_is_held_then_confirmed(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    due = NOW + timedelta(hours=1)
    draft_id = approve(usecases, config, publish_at=due)
    clock.now = due + timedelta(hours=6, seconds=1)  # 17:00:01: just past the limit
    notifier = RecordingNotifier()
    box = make_outbox(db, config, clock, notifier)
    await box.run_once()
    [row] = publications(db)
    assert (row.state, row.hold_reason, row.attempts) == ("held", "missed", 0)
    assert dry_posts(db) == []
    [notice] = notifier.notices
    assert notice.kind.value == "held"
    assert notice.member_ids == ("takahashi.yui", "sato.keiko")
    assert "保留" in notice.text()
    assert f"postgate posts confirm {row.id}" in notice.text()
    assert (await box.run_once()).claimed == 0  # held stays held
    assert row.id is not None
    clock.now += timedelta(hours=2)  # 19:00, outside business hours: confirmed anyway
    result = publication_uc(db, config, clock).confirm(slack("sato.keiko", config), row.id)
    assert result.publication.state == "pending"
    await box.run_once()
    [row] = publications(db)
    assert row.state == "published"
    assert len(dry_posts(db)) == 1
    assert draft_state(db, draft_id) is DraftState.PUBLISHED
    assert actions(db, f"publication:{row.id}") == [
        "publication.held",
        "publication.released",
        "publication.sending",
        "publication.published",
    ]


async def test_exactly_the_limit_late_still_goes_out(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    due = NOW  # 10:00
    approve(usecases, config, publish_at=due)
    clock.now = due + timedelta(hours=6)  # 16:00 sharp
    await make_outbox(db, config, clock, RecordingNotifier()).run_once()
    assert publications(db)[0].state == "published"


async def test_approved_inside_hours_is_held_rather_than_sent_after_them(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    due = datetime(2026, 11, 24, 17, 0, tzinfo=JST)
    approve(usecases, config, publish_at=due)
    clock.now = datetime(2026, 11, 24, 17, 30, tzinfo=JST)  # postgate was down 16:55-17:30
    notifier = RecordingNotifier()
    await make_outbox(db, config, clock, notifier).run_once()
    [row] = publications(db)
    assert (row.state, row.hold_reason) == ("held", "hours")
    assert notifier.kinds() == ["held"]
    assert "業務時間外" in notifier.notices[0].text()


async def test_a_deliberate_out_of_hours_schedule_goes_out(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    due = datetime(2026, 11, 28, 9, 0, tzinfo=JST)  # a Saturday: the approver acknowledged it
    approve(usecases, config, publish_at=due)
    clock.now = due
    await make_outbox(db, config, clock, RecordingNotifier()).run_once()
    assert publications(db)[0].state == "published"


async def test_an_emergency_goes_out_after_hours(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    due = datetime(2026, 11, 24, 17, 0, tzinfo=JST)
    approve(usecases, config, publish_at=due, emergency=True)
    clock.now = datetime(2026, 11, 24, 18, 0, tzinfo=JST)
    await make_outbox(db, config, clock, RecordingNotifier()).run_once()
    [row] = publications(db)
    assert row.emergency
    assert row.state == "published"


# ---------------------------------------------------------------- what was approved, and only that


async def test_a_draft_edited_after_approval_is_never_published(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    draft_id = approve(usecases, config)
    usecases.revise(slack("takahashi.yui", config), draft_id, text=CLEAN_EDITED)
    box = make_outbox(db, config, clock, RecordingNotifier())
    assert (await box.run_once()).claimed == 0
    assert [r.state for r in publications(db)] == ["cancelled"]
    assert dry_posts(db) == []


async def test_content_changed_behind_the_approval_is_cancelled_at_send_time(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    draft_id = approve(usecases, config)
    with db.session() as session:  # the stored text changed without a new revision
        revision = session.exec(
            select(DraftRevision).where(DraftRevision.draft_id == draft_id)
        ).one()
        revision.text = CLEAN_EDITED
        revision.content_hash = "f" * 64
        session.add(revision)
    box = make_outbox(db, config, clock, RecordingNotifier())
    await box.run_once()
    [row] = publications(db)
    assert (row.state, row.last_error, row.attempts) == ("cancelled", "revised", 0)
    assert dry_posts(db) == []
    assert actions(db, f"publication:{row.id}") == ["publication.cancelled"]


CLEAN_EDITED = (
    "【みどり市】12月5日(土)13時から中央図書館でおはなし会を開きます。"
    "参加は無料です。詳しくは https://www.city.midori.lg.jp/library/ をご覧ください。"
)


# ---------------------------------------------------------------- errors the platforms give


async def test_retryable_errors_back_off_then_publish(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    client.fail_next(ErrorKind.RETRYABLE, status=503, message="Service Unavailable")
    client.fail_next(ErrorKind.RETRYABLE, status=502, message="Bad Gateway")
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients)
    await box.run_once()
    [row] = publications(db)
    # Full jitter with the random draw 0.5: half of 10 s for the first retry.
    assert (row.state, row.attempts, row.next_attempt_at) == (
        "pending",
        1,
        NOW + timedelta(seconds=5),
    )
    assert row.last_error == "x HTTP 503: Service Unavailable"
    assert row.due_at == NOW  # the approved time does not move
    clock.now = NOW + timedelta(seconds=4)
    assert (await box.run_once()).claimed == 0
    clock.now = NOW + timedelta(seconds=5)
    await box.run_once()
    [row] = publications(db)
    assert (row.state, row.attempts) == ("pending", 2)
    assert row.next_attempt_at == clock.now + timedelta(seconds=10)  # half of 20 s
    clock.now = row.next_attempt_at
    await box.run_once()
    [row] = publications(db)
    assert (row.state, row.attempts, row.last_error) == ("published", 3, None)
    assert client.publish_calls == 3
    assert len(dry_posts(db)) == 1
    assert actions(db, f"publication:{row.id}").count("publication.retry") == 2


async def test_retries_stop_after_give_up_after_and_people_are_told_twice(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    draft_id = approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    for _ in range(100):
        client.fail_next(ErrorKind.RETRYABLE, status=500, message="Internal Server Error")
    notifier = RecordingNotifier()
    box = make_outbox(db, config, clock, notifier, clients=clients)
    give_up = box.settings.give_up_after
    while clock.now <= NOW + give_up + FAST_RETRY.cap:
        await box.run_once()
        clock.now += FAST_RETRY.cap
    [row] = publications(db)
    assert row.state == "failed"
    # Tried all along the hour, not five times in a minute.
    assert client.publish_calls > FAST_RETRY.max_attempts
    assert draft_state(db, draft_id) is DraftState.FAILED
    assert notifier.kinds() == ["retrying", "failed"]  # once when it starts, once at the end
    retrying, failed = notifier.notices
    assert failed.member_ids == ("takahashi.yui", "sato.keiko")
    assert "Internal Server Error" in failed.text()
    assert "posts retry" in failed.text()
    assert "自動で再試行" in retrying.text()


async def test_a_429_waits_for_the_platforms_reset_time(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    reset = NOW + timedelta(minutes=15)
    client.fail_next(ErrorKind.RETRYABLE, status=429, retry_at=reset, message="Too Many Requests")
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients)
    await box.run_once()
    assert publications(db)[0].next_attempt_at == reset
    clock.now = reset - timedelta(seconds=1)
    assert (await box.run_once()).claimed == 0
    clock.now = reset
    await box.run_once()
    assert publications(db)[0].state == "published"


async def test_a_permanent_error_fails_at_once_with_the_platforms_reason(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    draft_id = approve(usecases, config, targets=("midori-x", "midori-facebook"))
    client, clients = scripted(db, config, clock, "midori-x")
    duplicate = "You are not allowed to create a Tweet with duplicate content."
    client.fail_next(ErrorKind.PERMANENT, status=403, message=duplicate)
    notifier = RecordingNotifier()
    box = make_outbox(db, config, clock, notifier, clients=clients)
    await box.run_once()
    clock.now += timedelta(hours=1)
    await box.run_once()
    rows = {r.account_id: r for r in publications(db)}
    assert rows["midori-x"].state == "failed"
    assert rows["midori-x"].last_error == f"x HTTP 403: {duplicate}"
    assert rows["midori-facebook"].state == "published"
    assert client.publish_calls == 1
    assert draft_state(db, draft_id) is DraftState.FAILED
    assert notifier.kinds() == ["failed"]


async def test_refused_credentials_fail_and_raise_the_auth_signal(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    client.fail_next(ErrorKind.AUTH, status=401, message="Unauthorized")
    notifier = RecordingNotifier()
    await make_outbox(db, config, clock, notifier, clients=clients).run_once()
    assert publications(db)[0].state == "failed"
    assert notifier.kinds() == ["failed", "auth_failed"]
    auth = notifier.notices[1]
    assert auth.account_id == "midori-x"
    assert "sato.keiko" in auth.member_ids  # the owning section's chief
    assert "kobayashi.takeshi" in auth.member_ids  # the digital promotion division
    assert "乗っ取り" in auth.text()


# ---------------------------------------------------------------- never a blind resend


async def test_an_ambiguous_error_is_reconciled_and_not_sent_twice(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    client.fail_next(ErrorKind.AMBIGUOUS, stored=True, message="connection reset after sending")
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients)
    await box.run_once()
    [row] = publications(db)
    assert row.state == "sending"  # not pending: it may be out there
    assert row.lease_until == NOW + timedelta(seconds=5)
    assert (await box.run_once()).claimed == 0
    clock.now = NOW + timedelta(seconds=5)
    report = await box.run_once()
    assert report.reconciling == 1
    [row] = publications(db)
    assert row.state == "published"
    assert client.publish_calls == 1
    assert client.reconcile_calls == 1
    [post] = dry_posts(db)
    assert row.platform_post_id == post.post_id
    assert actions(db, f"publication:{row.id}") == [
        "publication.sending",
        "publication.retry",
        "publication.sending",
        "publication.published",
    ]


async def test_an_ambiguous_error_that_did_not_post_is_sent_once(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    client.fail_next(ErrorKind.AMBIGUOUS, stored=False)
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients)
    await box.run_once()
    clock.now += timedelta(minutes=1)
    await box.run_once()
    assert publications(db)[0].state == "published"
    assert (client.publish_calls, client.reconcile_calls) == (2, 1)
    assert list(posts_per_key(db).values()) == [1]


async def test_an_undecidable_outcome_goes_to_a_person(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    draft_id = approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    client.fail_next(ErrorKind.AMBIGUOUS, stored=False)
    client.reconcile_answers.append(UNDECIDED)
    notifier = RecordingNotifier()
    box = make_outbox(db, config, clock, notifier, clients=clients)
    await box.run_once()
    clock.now += timedelta(minutes=1)
    await box.run_once()
    clock.now += timedelta(hours=1)
    assert (await box.run_once()).claimed == 0
    [row] = publications(db)
    assert row.state == "needs_review"
    assert client.publish_calls == 1
    assert notifier.kinds() == ["needs_review"]
    assert "重複投稿を避けるため" in notifier.notices[0].text()
    assert draft_state(db, draft_id) is DraftState.PUBLISHING


async def test_a_post_that_never_answers_is_taken_as_ambiguous(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    client.gate = asyncio.Event()  # never set: the platform never answers
    settings = OutboxSettings(
        lease=timedelta(seconds=2), publish_timeout=timedelta(seconds=0.2), retry=FAST_RETRY
    )
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients, settings=settings)
    await box.run_once()
    [row] = publications(db)
    assert row.state == "sending"
    assert row.last_error is not None
    assert "may have gone through" in row.last_error
    client.gate = None
    clock.now += timedelta(minutes=1)
    # The next pass (after a restart, say) answers at once; its timeout is generous, so a loaded
    # machine cannot time it out too (the 0.2 s above is real time).
    patient = OutboxSettings(
        lease=timedelta(seconds=2), publish_timeout=timedelta(seconds=30), retry=FAST_RETRY
    )
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients, settings=patient)
    await box.run_once()
    assert publications(db)[0].state == "published"
    assert client.reconcile_calls == 1


async def test_checkpointed_material_is_committed_and_given_back(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    client.checkpoint_material = {"container_id": "17890001"}
    client.fail_next(ErrorKind.RETRYABLE, status=500)
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients)
    await box.run_once()
    [row] = publications(db)
    assert row.material == {"container_id": "17890001"}
    client.checkpoint_material = None
    clock.now += timedelta(minutes=1)
    await box.run_once()
    assert client.material_seen == [{}, {"container_id": "17890001"}]
    assert publications(db)[0].state == "published"


# ---------------------------------------------------------------- a worker that died


def _claim_and_die(db: Database, now: datetime) -> outbox.Claim:
    """What a crash leaves: the claim committed, then nothing (the process is gone)."""
    with db.session() as session:
        [claim] = outbox.claim_due(
            session, now=now, worker_id="dead-worker", lease=timedelta(minutes=5), limit=10
        )
    return claim


async def test_a_dead_workers_post_that_reached_the_platform_is_not_sent_again(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    draft_id = approve(usecases, config)
    claim = _claim_and_die(db, NOW)
    clients_of_dead = scripted(db, config, clock, "midori-x")[1]
    # The platform accepted the post; the worker died before it could commit the outcome.
    await clients_of_dead["midori-x"].publish(_post(claim), material={}, checkpoint=_no_checkpoint)
    client, clients = scripted(db, config, clock, "midori-x")
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients)
    assert (await box.run_once()).claimed == 0  # the lease still runs
    clock.now = NOW + timedelta(minutes=5)
    report = await box.run_once()
    assert report.reconciling == 1
    [row] = publications(db)
    assert (row.state, row.attempts, row.leased_by) == ("published", 2, "test-worker")
    assert client.publish_calls == 0
    assert len(dry_posts(db)) == 1
    assert draft_state(db, draft_id) is DraftState.PUBLISHED


async def test_a_dead_workers_post_that_never_left_is_sent_once(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    claim = _claim_and_die(db, NOW)
    client, clients = scripted(db, config, clock, "midori-x")
    clock.now = NOW + timedelta(minutes=5)
    await make_outbox(db, config, clock, RecordingNotifier(), clients=clients).run_once()
    [row] = publications(db)
    assert row.state == "published"
    assert row.idempotency_key == claim.idempotency_key
    assert (client.reconcile_calls, client.publish_calls) == (1, 1)
    assert list(posts_per_key(db)) == [claim.idempotency_key]


async def test_a_worker_whose_lease_was_taken_over_does_not_overwrite(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    stale = _claim_and_die(db, NOW)
    clock.now = NOW + timedelta(minutes=5)
    await make_outbox(db, config, clock, RecordingNotifier()).run_once()
    with db.session() as session, pytest.raises(outbox.LeaseLost):
        outbox.mark_failed(session, stale, error="too late", now=clock.now)
    assert publications(db)[0].state == "published"


def _post(claim: outbox.Claim) -> PostRequest:
    return PostRequest(text=CLEAN, idempotency_key=claim.idempotency_key)


async def _no_checkpoint(_material: object) -> None:
    return None


# ---------------------------------------------------------------- the event loop


async def test_the_event_loop_keeps_running_while_a_publish_waits(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config, targets=("midori-x", "midori-facebook"))
    client, clients = scripted(db, config, clock, "midori-x")
    client.gate = asyncio.Event()
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients)
    report = await box.tick()  # returns once the rows are claimed
    assert report.claimed == 2
    beats = 0
    deadline = time.monotonic() + 60
    while True:  # the loop turns while the publish waits at the gate
        await asyncio.sleep(0.005)
        beats += 1
        if box.in_flight == 1 or time.monotonic() > deadline:
            break
    states = {r.account_id: r.state for r in publications(db)}
    assert states == {"midori-x": "sending", "midori-facebook": "published"}
    assert box.in_flight == 1
    assert beats >= 1
    client.gate.set()
    await box.drain()
    assert {r.state for r in publications(db)} == {"published"}


# ---------------------------------------------------------------- pause and resume


async def test_a_pause_holds_and_resume_releases(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    later = NOW + timedelta(hours=1)
    official = approve(usecases, config, publish_at=later)
    kankyo = approve(usecases, config, targets=("kankyo-x",), publish_at=later)
    warning = approve(usecases, config, publish_at=later, emergency=True, text=CLEAN_EDITED)
    uc = publication_uc(db, config, clock)
    paused = uc.pause(slack("ito.makoto", config), account_id="midori-x", reason="乗っ取りの疑い")
    assert paused.reason == "乗っ取りの疑い"
    assert paused.publication_ids == (publications(db, official)[0].id,)
    # Approved while the pause lasts: held from the start.
    during = approve(usecases, config, publish_at=later, text=CLEAN_EDITED.replace("13時", "14時"))
    assert [(r.state, r.hold_reason) for r in publications(db, during)] == [("held", "paused")]
    clock.now = later
    await make_outbox(db, config, clock, RecordingNotifier()).run_once()
    states = {d: publications(db, d)[0].state for d in (official, kankyo, warning, during)}
    assert states == {
        official: "held",
        kankyo: "published",
        warning: "published",  # emergencies are never paused
        during: "held",
    }
    with pytest.raises(AccountPaused):
        uc.confirm(slack("sato.keiko", config), publications(db, official)[0].id or 0)
    resumed = uc.resume(slack("sato.keiko", config), account_id="midori-x")
    assert sorted(resumed.publication_ids) == sorted(
        r.id for d in (official, during) for r in publications(db, d)
    )
    await make_outbox(db, config, clock, RecordingNotifier()).run_once()
    assert {publications(db, d)[0].state for d in (official, during)} == {"published"}
    assert len(dry_posts(db)) == 4
    assert actions(db, "pause:1") == ["pause.started", "pause.released"]


async def test_pausing_every_account_and_overlapping_pauses(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    later = NOW + timedelta(hours=1)
    kankyo = approve(usecases, config, targets=("kankyo-x",), publish_at=later)
    uc = publication_uc(db, config, clock)
    uc.pause(slack("sato.keiko", config), account_id=None, reason="大規模災害対応")
    uc.pause(slack("yamamoto.jun", config), account_id="kankyo-x", reason="誤情報の確認中")
    released = uc.resume(slack("sato.keiko", config), account_id=None)
    assert released.publication_ids == ()  # the kankyo-x pause still holds it
    assert publications(db, kankyo)[0].state == "held"
    released = uc.resume(slack("yamamoto.jun", config), account_id="kankyo-x")
    assert released.publication_ids == (publications(db, kankyo)[0].id,)
    assert publications(db, kankyo)[0].state == "pending"


def test_who_may_pause(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    uc = publication_uc(db, config, clock)
    with pytest.raises(NotAllowedToPause) as refused:
        uc.pause(slack("yamamoto.jun", config), account_id="midori-x", reason="確認")
    assert "シティ・プロモーション課" in str(refused.value)
    with pytest.raises(NotAllowedToPause):
        uc.pause(slack("yamamoto.jun", config), account_id=None, reason="確認")
    with pytest.raises(NotAllowedToPause):
        uc.pause(slack("kato.shota", config), account_id="kankyo-x", reason="確認")
    with pytest.raises(ReasonRequired):
        uc.pause(slack("yamamoto.jun", config), account_id="kankyo-x", reason="  ")
    uc.pause(slack("yamamoto.jun", config), account_id="kankyo-x", reason="誤情報の確認中")
    uc.pause(slack("takahashi.yui", config), account_id="kankyo-x", reason="市として確認")

    def pauses(subject: str) -> list[str]:
        return [a for a in actions(db, subject) if a.startswith("pause.")]

    assert pauses("account:midori-x") == ["pause.refused"]
    assert pauses("account:*") == ["pause.refused"]
    assert pauses("account:kankyo-x") == ["pause.refused", "pause.refused"]
    assert pauses("pause:1") == ["pause.started"]
    assert pauses("pause:2") == ["pause.started"]


# ---------------------------------------------------------------- cancel, reschedule, the list


async def test_the_author_cancels_with_a_reason(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    draft_id = approve(usecases, config, publish_at=NOW + timedelta(hours=1))
    [row] = publications(db, draft_id)
    assert row.id is not None
    uc = publication_uc(db, config, clock)
    with pytest.raises(ReasonRequired):
        uc.cancel(slack("takahashi.yui", config), row.id, reason=" ")
    with pytest.raises(NotAuthorOrApprover) as refused:
        uc.cancel(slack("ito.makoto", config), row.id, reason="間違い")
    assert "高橋 結衣" in str(refused.value)
    result = uc.cancel(slack("takahashi.yui", config), row.id, reason="イベント中止のため")
    assert (result.publication.state, result.publication.last_error) == (
        "cancelled",
        "イベント中止のため",
    )
    assert draft_state(db, draft_id) is DraftState.WITHDRAWN
    clock.now += timedelta(hours=2)
    assert (await make_outbox(db, config, clock, RecordingNotifier()).run_once()).claimed == 0
    assert dry_posts(db) == []
    assert actions(db, f"publication:{row.id}") == [
        "publication.refused",
        "publication.refused",
        "publication.cancelled",
    ]


async def test_cancelling_one_target_lets_the_others_complete_the_draft(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    draft_id = approve(usecases, config, targets=("midori-x", "midori-facebook"))
    client, clients = scripted(db, config, clock, "midori-facebook")
    client.fail_next(ErrorKind.RETRYABLE, status=503)
    await make_outbox(db, config, clock, RecordingNotifier(), clients=clients).run_once()
    facebook = publications(db, draft_id)[1]
    assert facebook.state == "pending"
    assert facebook.id is not None
    publication_uc(db, config, clock).cancel(
        slack("sato.keiko", config), facebook.id, reason="Facebookは別途対応"
    )
    assert draft_state(db, draft_id) is DraftState.PUBLISHED


async def test_an_approver_reschedules(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    draft_id = approve(usecases, config, publish_at=NOW + timedelta(hours=1))
    [row] = publications(db, draft_id)
    assert row.id is not None
    uc = publication_uc(db, config, clock)
    with pytest.raises(RescheduleInPast):
        uc.reschedule(slack("sato.keiko", config), row.id, at=NOW - timedelta(minutes=1))
    new_time = datetime(2026, 11, 26, 9, 0, tzinfo=JST)
    result = uc.reschedule(slack("suzuki.hiroshi", config), row.id, at=new_time)
    assert result.publication.due_at == new_time
    assert result.notes == ()
    assert draft_state(db, draft_id) is DraftState.SCHEDULED
    evening = uc.reschedule(
        slack("suzuki.hiroshi", config), row.id, at=datetime(2026, 11, 26, 19, 0, tzinfo=JST)
    )
    assert "業務時間外" in evening.notes[0]
    assert "2026-11-27 08:30" in evening.notes[0]
    uc.reschedule(slack("suzuki.hiroshi", config), row.id, at=new_time)
    box = make_outbox(db, config, clock, RecordingNotifier())
    clock.now = NOW + timedelta(hours=1)
    assert (await box.run_once()).claimed == 0
    clock.now = new_time
    await box.run_once()
    assert publications(db)[0].state == "published"
    assert draft_state(db, draft_id) is DraftState.PUBLISHED
    with pytest.raises(PublicationNotOpen):
        uc.reschedule(slack("sato.keiko", config), row.id, at=new_time + timedelta(days=1))


async def test_rescheduling_a_missed_post_answers_the_hold(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config, publish_at=NOW)
    clock.now = NOW + timedelta(hours=7)
    box = make_outbox(db, config, clock, RecordingNotifier())
    await box.run_once()
    [row] = publications(db)
    assert (row.state, row.hold_reason) == ("held", "missed")
    assert row.id is not None
    tomorrow = datetime(2026, 11, 25, 10, 0, tzinfo=JST)
    publication_uc(db, config, clock).reschedule(
        slack("takahashi.yui", config), row.id, at=tomorrow
    )
    [row] = publications(db)
    assert (row.state, row.hold_reason) == ("pending", None)
    clock.now = tomorrow
    await box.run_once()
    assert publications(db)[0].state == "published"


async def test_the_list_shows_state_ids_and_links(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config, targets=("midori-x", "midori-facebook"))
    approve(usecases, config, targets=("kankyo-x",), publish_at=NOW + timedelta(days=1))
    await make_outbox(db, config, clock, RecordingNotifier()).run_once()
    uc = publication_uc(db, config, clock)
    rows = uc.list_publications()
    assert [(r.account_id, r.state, r.state_label) for r in rows] == [
        ("midori-x", "published", "投稿済み"),
        ("midori-facebook", "published", "投稿済み"),
        ("kankyo-x", "pending", "投稿待ち"),
    ]
    assert rows[0].permalink is not None
    assert rows[0].permalink.startswith("dryrun://midori-x/")
    pending = uc.list_publications(states=[PublicationState.PENDING])
    assert [r.account_id for r in pending] == ["kankyo-x"]


# ---------------------------------------------------------------- two processes at once


def test_two_worker_processes_publish_each_row_exactly_once(
    usecases: DraftUseCases, config: AppConfig, db: Database, tmp_path: Path
) -> None:
    for i in range(50):
        approve(usecases, config, text=CLEAN.replace("10時", f"10時{i}分"))
    rows = publications(db)
    assert len(rows) == 50
    schema = "-"
    if db.is_postgres:
        with db.engine.connect() as connection:
            schema = str(connection.exec_driver_sql("SHOW search_path").scalar())
    url = db.engine.url.render_as_string(hide_password=False)
    gate = tmp_path / "gate"
    gate.mkdir()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.handlers.outbox_worker",
                url,
                schema,
                NOW.isoformat(),
                str(gate),
                f"worker-{n}",
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    deadline = time.monotonic() + 60
    while len(list(gate.glob("ready-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    (gate / "go").touch()  # both are ready: claim at once
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    claimed = [pid for result in results for pid in result["claimed"]]
    assert sorted(claimed) == sorted(r.id for r in rows)  # each row claimed once, by one worker
    assert all(result["claimed"] for result in results), (db.backend, results)  # both took part
    rows = publications(db)
    assert {r.state for r in rows} == {"published"}
    per_key = posts_per_key(db)
    assert set(per_key) == {r.idempotency_key for r in rows}
    assert set(per_key.values()) == {1}
    assert {r.leased_by for r in rows} == {"worker-1", "worker-2"}
    for row in rows:
        assert actions(db, f"publication:{row.id}") == [
            "publication.sending",
            "publication.published",
        ]
    with db.session(read_only=True) as session:
        assert audit.verify(session) is None


async def test_a_crashed_row_found_unsent_is_checked_again_before_sending(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    _claim_and_die(db, NOW)
    publication_uc(db, config, clock).pause(
        slack("sato.keiko", config), account_id="midori-x", reason="乗っ取りの疑い"
    )
    clock.now = NOW + timedelta(minutes=5)
    client, clients = scripted(db, config, clock, "midori-x")
    await make_outbox(db, config, clock, RecordingNotifier(), clients=clients).run_once()
    [row] = publications(db)
    assert (row.state, row.hold_reason) == ("held", "paused")
    assert (client.reconcile_calls, client.publish_calls) == (1, 0)
    assert dry_posts(db) == []


# ---------------------------------------------------------------- a person settles needs_review


async def _needs_review(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> tuple[int, int]:
    """A draft whose only publication could not be decided: (draft id, publication id)."""
    draft_id = approve(usecases, config)
    _claim_and_die(db, NOW)
    client, clients = scripted(db, config, clock, "midori-x")
    client.reconcile_answers.append(UNDECIDED)
    clock.now = NOW + timedelta(minutes=5)
    await make_outbox(db, config, clock, RecordingNotifier(), clients=clients).run_once()
    [row] = publications(db)
    assert row.state == "needs_review"
    assert row.id is not None
    return draft_id, row.id


async def test_a_person_who_found_the_post_records_it_as_published(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    draft_id, pid = await _needs_review(usecases, config, db, clock)
    uc = publication_uc(db, config, clock)
    link = "https://x.com/midori_city/status/1860000000000000123?s=20"
    with pytest.raises(NotAuthorOrApprover):
        uc.review(slack("ito.makoto", config), pid, published=link)
    result = uc.review(slack("takahashi.yui", config), pid, published=link)
    row = result.publication
    assert (row.state, row.platform_post_id, row.permalink, row.last_error) == (
        "published",
        "1860000000000000123",
        link,
        None,
    )
    assert draft_state(db, draft_id) is DraftState.PUBLISHED
    with pytest.raises(PublicationNotInReview):
        uc.review(slack("sato.keiko", config), pid, not_published=True)
    assert (await make_outbox(db, config, clock, RecordingNotifier()).run_once()).claimed == 0
    assert dry_posts(db) == []  # nothing was sent: the person found it
    assert actions(db, f"publication:{pid}")[-4:] == [
        "publication.needs_review",
        "publication.refused",
        "publication.reviewed",
        "publication.refused",
    ]
    with db.session(read_only=True) as session:
        [event] = [
            e
            for e in session.exec(
                select(AuditEvent).where(AuditEvent.subject == f"publication:{pid}")
            )
            if e.action == "publication.reviewed"
        ]
    assert (event.actor, event.details["found"], event.details["post_id"]) == (
        "takahashi.yui",
        True,
        "1860000000000000123",
    )


async def test_a_post_that_is_not_there_is_sent_after_the_checks_once(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    draft_id, pid = await _needs_review(usecases, config, db, clock)
    [before] = publications(db)
    result = publication_uc(db, config, clock).review(
        slack("sato.keiko", config), pid, not_published=True
    )
    assert (result.publication.state, result.publication.attempts) == ("pending", 0)
    pauses = publication_uc(db, config, clock)
    pauses.pause(slack("sato.keiko", config), account_id="midori-x", reason="確認中")
    box = make_outbox(db, config, clock, RecordingNotifier())
    await box.run_once()
    assert publications(db)[0].state == "held"  # re-checked first: the pause holds it
    pauses.resume(slack("sato.keiko", config), account_id="midori-x")
    await box.run_once()
    [row] = publications(db)
    assert (row.state, row.attempts) == ("published", 1)
    assert row.idempotency_key == before.idempotency_key
    assert list(posts_per_key(db)) == [before.idempotency_key]
    assert draft_state(db, draft_id) is DraftState.PUBLISHED
    assert actions(db, f"publication:{pid}")[-5:] == [
        "publication.reviewed",
        "publication.held",
        "publication.released",
        "publication.sending",
        "publication.published",
    ]
