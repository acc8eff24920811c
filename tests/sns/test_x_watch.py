"""XWatchClient (real tweepy) against the fake X API: user look-up by username, mentions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from sns.base import ErrorKind, SnsError
from sns.x_watch import XWatchClient
from tests.fakes import fake_x_fixture  # noqa: F401 - the "fake_x" fixture
from tests.fakes.x import FakeX
from workflows.checks.model import Platform

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


@pytest.fixture
async def client(fake_x: FakeX) -> AsyncIterator[XWatchClient]:
    fake_x.clock = lambda: NOW
    client = XWatchClient(
        fake_x.credentials(),
        handle="midori_city",
        api_url=fake_x.url,
        upload_url=fake_x.url,
        timeout=10.0,
        clock=lambda: NOW,
    )
    yield client
    await client.close()


async def test_lookup_returns_the_accounts_that_exist_signed_in_one_request(
    fake_x: FakeX, client: XWatchClient
) -> None:
    fake_x.add_user(
        "midori_clty", "みどり市公式(偽)", description="みどり市の公式です", verified=True
    )

    found = await client.lookup_users(["midori_clty", "@midori_citty", "midori_city"])

    [sent] = fake_x.requests_to("GET", "/2/users/by")
    assert sent.query["usernames"] == "midori_clty,midori_citty,midori_city"
    assert set(sent.query["user.fields"].split(",")) >= {"name", "description", "verified"}
    assert sent.headers["Authorization"].startswith("OAuth ")
    assert [(f.handle, f.name, f.verified) for f in found] == [
        ("midori_clty", "みどり市公式(偽)", True),
        ("midori_city", "みどり市", False),
    ]
    assert found[0].platform is Platform.X
    assert found[0].description == "みどり市の公式です"
    assert found[0].url == "https://x.com/midori_clty"


async def test_lookup_of_nobody_found_is_empty_and_more_than_100_is_refused(
    fake_x: FakeX, client: XWatchClient
) -> None:
    assert await client.lookup_users(["nobody_here_1"]) == []
    assert await client.lookup_users([]) == []
    with pytest.raises(ValueError, match="100"):
        await client.lookup_users([f"user{i}" for i in range(101)])
    assert len(fake_x.requests_to("GET", "/2/users/by")) == 1


async def test_lookup_with_a_revoked_token_is_an_auth_error(
    fake_x: FakeX, client: XWatchClient
) -> None:
    fake_x.revoked = True
    with pytest.raises(SnsError) as caught:
        await client.lookup_users(["midori_clty"])
    assert caught.value.kind is ErrorKind.AUTH
    assert caught.value.status == 401


async def test_mentions_carry_the_post_they_answer_and_stop_at_since(
    fake_x: FakeX, client: XWatchClient
) -> None:
    post = fake_x.add_tweet("市民まつりのお知らせ", created_at=NOW - timedelta(hours=3))
    old = fake_x.add_reply("古い返信", to=post, created_at=NOW - timedelta(hours=2))
    reply = fake_x.add_reply("楽しみです &", to=post, created_at=NOW - timedelta(minutes=20))
    mention = fake_x.add_reply("市役所の駐車場は？", created_at=NOW - timedelta(minutes=10))

    got = await client.mentions(since=NOW - timedelta(hours=1))

    assert got.complete
    assert [(m.mention_id, m.post_id) for m in got.items] == [(mention, mention), (reply, post)]
    assert old not in {m.mention_id for m in got.items}
    assert got.items[1].text == "@midori_city 楽しみです &"
    assert got.items[1].at == NOW - timedelta(minutes=20)
    [sent] = fake_x.requests_to("GET", r"/2/users/\d+/mentions")
    assert sent.query["start_time"].startswith("2026-11-24T00:00:00")
    assert "conversation_id" in sent.query["tweet.fields"].split(",")


async def test_mentions_beyond_the_page_limit_are_reported_incomplete(
    fake_x: FakeX, client: XWatchClient
) -> None:
    for minute in range(150):
        fake_x.add_reply(f"メンション{minute}", created_at=NOW - timedelta(minutes=minute + 1))

    got = await client.mentions(since=NOW - timedelta(hours=3), max_pages=1)

    assert not got.complete
    assert len(got.items) == 100
    everything = await client.mentions(since=NOW - timedelta(hours=3))
    assert everything.complete
    assert len(everything.items) == 150
