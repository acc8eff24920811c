"""The outbox with the real X, Facebook, Instagram and LINE clients against the loopback fakes:
counting what the platform really received. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.config import AppConfig
from handlers.deletions import DeletionUseCases
from handlers.drafts import DraftUseCases
from handlers.publishing import Outbox, OutboxSettings
from sns.base import PostRequest, SnsClient, SnsError
from sns.dryrun import clients_for, is_dry_run
from storage import outbox
from storage.engine import Database
from storage.tables import Deletion
from tests.fakes import (  # noqa: F401
    FakeGraph,
    FakeLine,
    FakeX,
    fake_graph_fixture,
    fake_line_fixture,
    fake_x_fixture,
    sns_settings,
)
from tests.handlers.conftest import FixedClock, slack
from tests.handlers.publishing_support import (
    CLEAN,
    FAST_RETRY,
    RecordingNotifier,
    actions,
    approve,
    make_outbox,
    publications,
)

IMAGE = "https://www.city.midori.lg.jp/images/ohanashi.jpg"  # Instagram fetches it itself
INSTAGRAM_TEXT = CLEAN + " #みどり市 #おはなし会"


@dataclass
class World:
    """postgate (on SQLite or PostgreSQL) with the official accounts on their real clients
    (credentials from the environment, as in production) and the fakes behind them."""

    usecases: DraftUseCases
    config: AppConfig
    db: Database
    clock: FixedClock
    x: FakeX
    graph: FakeGraph
    line: FakeLine
    clients: dict[str, SnsClient]

    def outbox(self, notifier: RecordingNotifier | None = None) -> Outbox:
        return make_outbox(
            self.db,
            self.config,
            self.clock,
            notifier or RecordingNotifier(),
            clients=self.clients,
            settings=SHORT,
        )

    def approve(self, **kwargs: Any) -> int:
        return approve(self.usecases, self.config, **kwargs)


@pytest.fixture
def client_timeout() -> float:
    """The clients' HTTP timeout: generous, so a loaded machine never turns an answer into a
    timeout; the tests of a request that is never answered shorten it (parametrize)."""
    return 10.0


#: For the tests of a request the platform accepts and never answers: the client gives up soon.
GIVES_UP_SOON = pytest.mark.parametrize("client_timeout", [1.0])


@pytest.fixture
async def world(
    *,
    usecases: DraftUseCases,
    config: AppConfig,
    db: Database,
    clock: FixedClock,
    fakes: tuple[FakeX, FakeGraph, FakeLine],
    client_timeout: float,
) -> AsyncIterator[World]:
    fake_x, fake_graph, fake_line = fakes
    for fake in fakes:
        fake.clock = clock  # the fakes keep postgate's (injected) time: timelines, reset times
    given = {
        "midori-x": fake_x.credentials(),
        "midori-facebook": fake_graph.facebook_credentials(),
        "midori-instagram": fake_graph.instagram_credentials(),
        "midori-line": fake_line.credentials(),
    }
    environ = {
        variable: given[account.id][key]
        for account in config.accounts
        if account.id in given
        for key, variable in account.credentials.items()
    }
    settings = sns_settings(
        fake_x=fake_x, fake_graph=fake_graph, fake_line=fake_line, timeout=client_timeout
    )
    clients = clients_for(config, environ, settings, db=db, clock=clock)
    assert sorted(a for a, c in clients.items() if not is_dry_run(c)) == sorted(given)
    yield World(usecases, config, db, clock, fake_x, fake_graph, fake_line, clients)
    for client in clients.values():
        await client.close()


@pytest.fixture
def fakes(
    fake_x: FakeX, fake_graph: FakeGraph, fake_line: FakeLine
) -> tuple[FakeX, FakeGraph, FakeLine]:
    return fake_x, fake_graph, fake_line


SHORT = OutboxSettings(
    lease=timedelta(seconds=30), publish_timeout=timedelta(seconds=3), retry=FAST_RETRY
)


async def _die_after_the_platform_accepted(
    world: World, account_id: str, text: str, media: tuple[str, ...] = ()
) -> outbox.Claim:
    """A worker claims the row (committed), the platform accepts its post — checkpoints
    committed as the outbox would — and the process dies before recording the outcome."""
    db, clock = world.db, world.clock
    with db.session() as session:
        [claim] = outbox.claim_due(
            session, now=clock(), worker_id="dead", lease=timedelta(minutes=5), limit=1
        )
    holder = [claim]

    async def checkpoint(material: Mapping[str, str]) -> None:
        with db.session() as session:
            holder[0] = outbox.checkpoint(
                session, holder[0], material, now=clock(), lease=timedelta(minutes=5)
            )

    await world.clients[account_id].publish(
        PostRequest(text=text, media=media, idempotency_key=claim.idempotency_key),
        material={},
        checkpoint=checkpoint,
    )
    return holder[0]


# ---------------------------------------------------------------- one post per target


async def test_one_post_per_target_on_every_platform(world: World) -> None:
    world.approve(targets=("midori-x", "midori-facebook", "midori-line"))
    world.approve(targets=("midori-instagram",), text=INSTAGRAM_TEXT, media=(IMAGE,))
    box = world.outbox()
    await box.run_once()
    await box.run_once()
    rows = {r.account_id: r for r in publications(world.db)}
    assert {r.state for r in rows.values()} == {"published"}
    assert len(world.x.posted) == 1
    assert len(world.graph.posted_to_page) == 1
    assert len(world.line.broadcasts) == 1
    assert len(world.graph.published_media) == 1
    tweet = world.x.posted[0]
    assert rows["midori-x"].platform_post_id == tweet.id
    assert rows["midori-x"].permalink == f"https://x.com/midori_city/status/{tweet.id}"
    assert rows["midori-facebook"].platform_post_id == world.graph.posted_to_page[0].id
    assert rows["midori-instagram"].material.get("container_id")
    [line_request] = world.line.requests_to("POST", "/v2/bot/message/broadcast")
    assert line_request.headers["X-Line-Retry-Key"] == rows["midori-line"].idempotency_key


# ------------------------------------------------------------- a crash after the platform said yes


async def test_x_crash_after_accept_is_found_on_the_timeline(world: World) -> None:
    world.approve()
    await _die_after_the_platform_accepted(world, "midori-x", CLEAN)
    assert len(world.x.posted) == 1
    world.clock.now += timedelta(minutes=5)
    report = await world.outbox().run_once()
    assert report.reconciling == 1
    [row] = publications(world.db)
    assert row.state == "published"
    assert row.platform_post_id == world.x.posted[0].id
    assert len(world.x.posted) == 1
    assert len(world.x.requests_to("POST", "/2/tweets")) == 1


async def test_line_crash_after_accept_is_settled_by_the_retry_key(world: World) -> None:
    world.approve(targets=("midori-line",))
    claim = await _die_after_the_platform_accepted(world, "midori-line", CLEAN)
    world.clock.now += timedelta(minutes=5)
    await world.outbox().run_once()
    [row] = publications(world.db)
    assert row.state == "published"
    assert len(world.line.broadcasts) == 1  # the repeat was answered 409: delivered once
    sent = world.line.requests_to("POST", "/v2/bot/message/broadcast")
    assert [r.headers["X-Line-Retry-Key"] for r in sent] == [claim.idempotency_key] * 2


async def test_instagram_crash_after_accept_is_settled_by_the_container(world: World) -> None:
    world.approve(targets=("midori-instagram",), text=INSTAGRAM_TEXT, media=(IMAGE,))
    dead = await _die_after_the_platform_accepted(
        world, "midori-instagram", INSTAGRAM_TEXT, (IMAGE,)
    )
    [row] = publications(world.db)
    assert row.material == {"container_id": dead.material["container_id"]}  # committed first
    world.clock.now += timedelta(minutes=5)
    await world.outbox().run_once()
    [row] = publications(world.db)
    assert row.state == "published"
    assert len(world.graph.published_media) == 1
    publish_path = f"/v21.0/{world.graph.ig_user_id}/media_publish"
    assert len(world.graph.requests_to("POST", publish_path)) == 1


async def test_an_undecidable_facebook_outcome_goes_to_people(world: World) -> None:
    world.approve(targets=("midori-facebook",))
    with world.db.session() as session:  # a worker died before sending: Facebook cannot prove it
        outbox.claim_due(
            session, now=world.clock(), worker_id="dead", lease=timedelta(minutes=5), limit=1
        )
    world.clock.now += timedelta(minutes=5)
    notifier = RecordingNotifier()
    await world.outbox(notifier).run_once()
    [row] = publications(world.db)
    assert row.state == "needs_review"
    assert row.last_error is not None
    assert "check the page" in row.last_error
    assert world.graph.posted_to_page == []  # nothing was sent blindly
    assert notifier.kinds() == ["needs_review"]
    assert notifier.notices[0].member_ids == ("takahashi.yui", "sato.keiko")


@GIVES_UP_SOON
async def test_a_post_accepted_but_never_answered_is_not_sent_twice(world: World) -> None:
    world.approve()
    world.x.hang_next(method="POST", path="/2/tweets")
    box = world.outbox()
    await box.run_once()
    [row] = publications(world.db)
    assert row.state == "sending"  # ambiguous: reconciled later, never resent blindly
    assert len(world.x.posted) == 1
    world.clock.now += timedelta(minutes=1)
    await box.run_once()
    [row] = publications(world.db)
    assert row.state == "published"
    assert row.platform_post_id == world.x.posted[0].id
    assert len(world.x.requests_to("POST", "/2/tweets")) == 1


@GIVES_UP_SOON
async def test_a_failed_read_while_reconciling_is_asked_again_never_resent_or_handed_over(
    world: World,
) -> None:
    world.approve()
    world.x.hang_next(method="POST", path="/2/tweets")
    notifier = RecordingNotifier()
    box = world.outbox(notifier)
    await box.run_once()
    assert publications(world.db)[0].state == "sending"  # ambiguous
    # Later than the reconciliation's clock-skew margin: a second reconciliation must still look
    # back to the attempt that may have posted, not to the reconciliation that failed.
    world.clock.now += timedelta(minutes=5)
    world.x.fail_next(503, path=r"/2/users/\d+/tweets")
    assert (await box.run_once()).reconciling == 1
    [row] = publications(world.db)
    assert (row.state, row.attempts) == ("sending", 2)  # one transient 503: asked again later
    assert row.last_error is not None
    assert "503" in row.last_error
    assert row.lease_until is not None
    assert row.lease_until > world.clock.now
    assert notifier.notices == []
    world.clock.now += timedelta(minutes=5)
    assert (await box.run_once()).reconciling == 1
    [row] = publications(world.db)
    assert row.state == "published"
    assert row.platform_post_id == world.x.posted[0].id
    assert len(world.x.requests_to("POST", "/2/tweets")) == 1  # never resent
    assert len(world.x.requests_to("GET", r"/2/users/\d+/tweets")) == 2
    assert notifier.notices == []
    assert actions(world.db, f"publication:{row.id}") == [
        "publication.sending",
        "publication.retry",  # no answer: the post may have gone through
        "publication.sending",
        "publication.retry",  # the timeline could not be read
        "publication.sending",
        "publication.published",
    ]


async def test_an_instagram_container_still_processing_is_resumed_not_duplicated(
    world: World,
) -> None:
    world.approve(targets=("midori-instagram",), text=INSTAGRAM_TEXT, media=(IMAGE,))
    world.graph.fail_next(503, method="POST", path=r".*/media_publish")
    with world.db.session() as session:  # a worker claimed it, made the container and died
        [claim] = outbox.claim_due(
            session, now=world.clock(), worker_id="dead", lease=timedelta(minutes=5), limit=1
        )
    client = world.clients["midori-instagram"]
    holder = [claim]

    async def checkpoint(material: Mapping[str, str]) -> None:
        with world.db.session() as session:
            holder[0] = outbox.checkpoint(
                session, holder[0], material, now=world.clock(), lease=timedelta(minutes=5)
            )

    with pytest.raises(SnsError):
        await client.publish(
            PostRequest(INSTAGRAM_TEXT, (IMAGE,), claim.idempotency_key),
            material={},
            checkpoint=checkpoint,
        )
    [container_id] = world.graph.containers
    # The platform still shows it processing to the reconciliation, then finishes.
    world.graph.containers[container_id].statuses = ["IN_PROGRESS", "FINISHED"]
    world.clock.now += timedelta(minutes=5)
    notifier = RecordingNotifier()
    assert (await world.outbox(notifier).run_once()).reconciling == 1
    [row] = publications(world.db)
    assert row.state == "published"
    assert list(world.graph.containers) == [container_id]  # no second container
    [media] = world.graph.published_media
    assert (media.container_id, row.platform_post_id) == (container_id, media.id)
    assert notifier.notices == []


# ---------------------------------------------------------------- rate limits and errors


async def test_x_429_waits_for_the_reset_without_blocking_the_loop(world: World) -> None:
    world.approve()
    reset = world.x.rate_limit_next(method="POST", path="/2/tweets")
    box = world.outbox()
    beats = 0

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            beats += 1
            await asyncio.sleep(0.01)

    beating = asyncio.create_task(heartbeat())
    started = time.monotonic()
    await box.run_once()
    elapsed = time.monotonic() - started
    beating.cancel()
    [row] = publications(world.db)
    assert (row.state, row.next_attempt_at) == ("pending", reset)
    assert elapsed < 120  # rescheduled, not waited for (the reset is 15 minutes away)
    assert beats >= 1
    world.clock.now = reset - timedelta(seconds=1)
    assert (await box.run_once()).claimed == 0
    world.clock.now = reset
    await box.run_once()
    assert publications(world.db)[0].state == "published"
    assert len(world.x.posted) == 1


async def test_x_5xx_is_retried_with_backoff(world: World) -> None:
    world.approve()
    world.x.fail_next(503, count=2, method="POST", path="/2/tweets")
    box = world.outbox()
    for _ in range(3):
        await box.run_once()
        world.clock.now += FAST_RETRY.cap
    [row] = publications(world.db)
    assert (row.state, row.attempts) == ("published", 3)
    assert len(world.x.posted) == 1


async def test_duplicate_content_fails_at_once_without_a_retry_loop(world: World) -> None:
    world.x.add_tweet(CLEAN)  # already on the timeline (posted by hand)
    draft_id = world.approve()
    notifier = RecordingNotifier()
    box = world.outbox(notifier)
    for _ in range(3):
        await box.run_once()
        world.clock.now += timedelta(hours=1)
    [row] = publications(world.db)
    assert row.state == "failed"
    assert row.last_error is not None
    assert "duplicate content" in row.last_error
    assert len(world.x.requests_to("POST", "/2/tweets")) == 1
    assert notifier.kinds() == ["failed"]
    assert f"投稿案 #{draft_id}" in notifier.notices[0].text()


async def test_a_revoked_token_fails_and_signals(world: World) -> None:
    world.approve(targets=("midori-line",))
    world.line.revoked = True
    notifier = RecordingNotifier()
    await world.outbox(notifier).run_once()
    assert publications(world.db)[0].state == "failed"
    assert notifier.kinds() == ["failed", "auth_failed"]
    assert world.line.broadcasts == []


# ---------------------------------------------------------------- deleting what was published


async def test_deleting_goes_through_each_platform_and_line_says_why_not(world: World) -> None:
    draft_id = world.approve(targets=("midori-x", "midori-facebook", "midori-line"))
    box = world.outbox()
    await box.run_once()
    rows = {r.account_id: r for r in publications(world.db, draft_id)}
    assert {r.state for r in rows.values()} == {"published"}
    deletions = DeletionUseCases(
        db=world.db, directory=world.config.directory, drafts=world.usecases, clock=world.clock
    )
    x_id = rows["midori-x"].id
    assert x_id is not None
    request = deletions.request(slack("takahashi.yui", world.config), x_id, reason="誤った日付")
    deletions.approve(slack("sato.keiko", world.config), request.request.id)
    world.x.fail_next(503, method="DELETE", path=r"/2/tweets/\d+")  # once: retried later
    notifier = RecordingNotifier()
    box = world.outbox(notifier)
    assert (await box.run_once()).deleting == 3

    [tweet] = world.x.posted
    [page_post] = world.graph.posted_to_page
    assert not tweet.deleted  # the 503: pending again, after the backoff
    assert page_post.deleted
    assert len(world.line.broadcasts) == 1  # a broadcast cannot be withdrawn: nothing was sent
    by_account = {d.account_id: d for d in _deletions(world.db)}
    assert (by_account["midori-x"].state, by_account["midori-x"].attempts) == ("pending", 1)
    assert by_account["midori-facebook"].state == "deleted"
    line = by_account["midori-line"]
    assert line.state == "failed"
    assert line.last_error is not None
    assert "LINE の一斉配信は取り消せません" in line.last_error
    assert notifier.kinds() == ["deletion_failed"]
    assert "取り消せません" in notifier.notices[0].text()
    assert notifier.notices[0].account_id == "midori-line"

    world.clock.now += FAST_RETRY.cap
    assert (await box.run_once()).deleting == 1
    assert tweet.deleted
    assert len(world.x.requests_to("DELETE", r"/2/tweets/\d+")) == 2  # the 503, then the delete
    assert len(world.graph.requests_to("DELETE", r"/v21.0/.+")) == 1
    states = {r.account_id: r.state for r in publications(world.db, draft_id)}
    assert states == {
        "midori-x": "deleted",
        "midori-facebook": "deleted",
        "midori-line": "published",
    }
    view = deletions.get(request.request.id)
    assert (view.state, view.state_label) == ("failed", "一部削除できず")
    assert [(t.account_id, t.state) for t in view.targets] == [
        ("midori-x", "deleted"),
        ("midori-facebook", "deleted"),
        ("midori-line", "failed"),
    ]
    assert actions(world.db, f"deletion:{view.id}") == [
        "deletion.requested",
        "deletion.approved",
        "deletion.failed",
    ]
    assert actions(world.db, f"publication:{x_id}")[-4:] == [
        "deletion.sending",
        "deletion.retry",
        "deletion.sending",
        "deletion.executed",
    ]
    assert (await box.run_once()).claimed == 0
    assert len(world.x.requests_to("DELETE", r"/2/tweets/\d+")) == 2


def _deletions(db: Database) -> list[Deletion]:
    with db.session(read_only=True) as session:
        return list(session.exec(select(Deletion).order_by(col(Deletion.id))).all())
