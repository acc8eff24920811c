"""A short outage never ends a post: rate limits wait, retryable errors go on with backoff until
publishing.give_up_after_minutes, people are told once each way, and a failed post can be sent
again (reconciled first: never twice)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import AppConfig
from handlers.drafts import Actor, DraftUseCases
from handlers.publishing import OutboxSettings
from sns.base import ErrorKind
from storage.engine import Database
from tests.handlers.conftest import NOW, FixedClock
from tests.handlers.publishing_support import (
    FAST_RETRY,
    RecordingNotifier,
    actions,
    approve,
    dry_posts,
    make_outbox,
    publication_uc,
    publications,
    scripted,
)
from workflows.errors import Refusal
from workflows.publishing import SendRules

pytestmark = pytest.mark.filterwarnings("error")


async def test_five_429s_do_not_count_as_attempts_and_tell_nobody(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    resets = [NOW + timedelta(minutes=15 * (n + 1)) for n in range(5)]
    for reset in resets:
        client.fail_next(
            ErrorKind.RETRYABLE, status=429, retry_at=reset, message="Too Many Requests"
        )
    notifier = RecordingNotifier()
    box = make_outbox(db, config, clock, notifier, clients=clients)
    for reset in resets:
        await box.run_once()
        [row] = publications(db)
        assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 0, reset)
        clock.now = reset
    await box.run_once()
    [row] = publications(db)
    assert (row.state, row.attempts) == ("published", 1)
    assert len(dry_posts(db)) == 1
    assert notifier.kinds() == []
    assert actions(db, f"publication:{row.id}").count("publication.rate_limited") == 5


async def test_two_minutes_of_503_then_it_goes_out_and_people_hear_both(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    notifier = RecordingNotifier()
    box = make_outbox(db, config, clock, notifier, clients=clients)
    end = NOW + timedelta(minutes=2)
    while clock.now < end:
        client.fail_next(ErrorKind.RETRYABLE, status=503, message="Service Unavailable")
        await box.run_once()
        [row] = publications(db)
        assert row.state == "pending"
        assert row.failing_since == NOW
        assert row.next_attempt_at is not None
        clock.now = max(row.next_attempt_at, clock.now)
    await box.run_once()
    [row] = publications(db)
    assert (row.state, row.failing_since) == ("published", None)
    assert notifier.kinds() == ["retrying", "recovered"]
    assert "投稿できました" in notifier.notices[1].text()
    assert len(dry_posts(db)) == 1


async def test_retrying_never_goes_past_the_missed_post_limit(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    for _ in range(200):
        client.fail_next(ErrorKind.RETRYABLE, status=502, message="Bad Gateway")
    settings = OutboxSettings(
        retry=FAST_RETRY,
        rules=SendRules(max_lateness=timedelta(minutes=20)),
        give_up_after=timedelta(minutes=60),
    )
    notifier = RecordingNotifier()
    box = make_outbox(db, config, clock, notifier, clients=clients, settings=settings)
    while clock.now <= NOW + timedelta(minutes=30):
        await box.run_once()
        clock.now += timedelta(minutes=1)
    [row] = publications(db)
    assert row.state == "failed"
    assert row.updated_at <= NOW + timedelta(minutes=21)
    assert notifier.kinds() == ["retrying", "failed"]


async def test_retry_of_a_post_that_did_go_out_marks_it_published_without_sending_again(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    # The platform stored the post but answered with an error.
    client.fail_next(ErrorKind.PERMANENT, stored=True, status=400, message="Bad Request")
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients)
    await box.run_once()
    [row] = publications(db)
    assert row.state == "failed"
    uc = publication_uc(db, config, clock)
    author = Actor("cli", "takahashi.yui")
    clock.now += timedelta(minutes=10)
    done = uc.retry(author, row.id).publication
    assert done.state == "sending"
    await box.run_once()
    [row] = publications(db)
    assert row.state == "published"
    assert client.reconcile_calls == 1
    assert client.publish_calls == 1  # reconciled, not sent twice
    assert len(dry_posts(db)) == 1
    assert "publication.retried" in actions(db, f"publication:{row.id}")


async def test_retry_of_a_post_that_did_not_go_out_sends_it_once(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    client.fail_next(ErrorKind.PERMANENT, status=403, message="Forbidden")
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients)
    await box.run_once()
    [row] = publications(db)
    uc = publication_uc(db, config, clock)
    uc.retry(Actor("cli", "sato.keiko"), row.id)
    await box.run_once()
    [row] = publications(db)
    assert row.state == "published"
    assert (client.reconcile_calls, client.publish_calls) == (1, 2)
    assert len(dry_posts(db)) == 1
    with pytest.raises(Refusal) as refused:  # only a failed one can be retried
        uc.retry(Actor("cli", "sato.keiko"), row.id)
    assert "再送できません" in refused.value.message()
    with pytest.raises(Refusal):  # someone who is neither author nor approver
        uc.retry(Actor("cli", "kato.shota"), row.id)


async def test_a_graph_rate_limit_with_a_time_to_regain_access_waits_without_counting(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config, targets=("midori-facebook",))
    client, clients = scripted(db, config, clock, "midori-facebook")
    regain = NOW + timedelta(minutes=7)
    client.fail_next(  # Graph says "rate limited" with HTTP 400 and code 4
        ErrorKind.RETRYABLE,
        status=400,
        retry_at=regain,
        message="(#4) Application request limit reached (code 4)",
    )
    notifier = RecordingNotifier()
    box = make_outbox(db, config, clock, notifier, clients=clients)
    await box.run_once()
    [row] = publications(db)
    assert (row.state, row.attempts, row.next_attempt_at, row.failing_since) == (
        "pending",
        0,
        regain,
        None,
    )
    assert notifier.kinds() == []
