"""LineClient against the fake LINE Messaging API on 127.0.0.1: broadcast and retry keys."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sns.base import ErrorKind, Outcome, PostRequest, SnsError
from sns.line import LineClient, split_text
from tests.fakes import fake_line_fixture  # noqa: F401 - the "fake_line" fixture
from tests.fakes.line import FakeLine
from tests.sns import assert_no_secret, no_checkpoint

JST = ZoneInfo("Asia/Tokyo")
TEXT = "【みどり市】11月23日(月・祝)は市民まつりです。"


def make_client(
    fake: FakeLine, *, timeout: float = 10.0, clock: Callable[[], datetime] | None = None
) -> LineClient:
    if clock is None:
        return LineClient(fake.credentials(), api_url=fake.url, timeout=timeout)
    return LineClient(fake.credentials(), api_url=fake.url, timeout=timeout, clock=clock)


@pytest.fixture
async def client(fake_line: FakeLine) -> AsyncIterator[LineClient]:
    client = make_client(fake_line)
    yield client
    await client.close()


def request(text: str = TEXT, media: tuple[str, ...] = (), key: str | None = None) -> PostRequest:
    return PostRequest(text=text, media=media, idempotency_key=key or str(uuid.uuid4()))


async def test_broadcast_sends_the_retry_key_and_returns_the_request_id(
    fake_line: FakeLine, client: LineClient
) -> None:
    post_request = request()

    post = await client.publish(post_request, material={}, checkpoint=no_checkpoint)

    [sent] = fake_line.requests_to("POST", "/v2/bot/message/broadcast")
    assert sent.headers["X-Line-Retry-Key"] == post_request.idempotency_key
    assert sent.headers["Authorization"] == f"Bearer {fake_line.channel_access_token}"
    assert sent.json == {"messages": [{"type": "text", "text": TEXT}]}
    [broadcast] = fake_line.broadcasts
    assert post.post_id == broadcast.request_id
    assert post.permalink is None


async def test_the_same_key_again_is_a_success_without_a_second_delivery(
    fake_line: FakeLine, client: LineClient
) -> None:
    post_request = request()
    first = await client.publish(post_request, material={}, checkpoint=no_checkpoint)

    again = await client.publish(post_request, material={}, checkpoint=no_checkpoint)

    assert len(fake_line.requests_to("POST", "/v2/bot/message/broadcast")) == 2
    assert len(fake_line.broadcasts) == 1
    assert again.post_id == first.post_id  # x-line-accepted-request-id of the 409


async def test_accepted_then_no_answer_is_ambiguous_and_reconciled_by_the_retry_key(
    fake_line: FakeLine,
) -> None:
    client = make_client(fake_line, timeout=0.5)
    post_request = request()
    sent_after = datetime.now(UTC)
    fake_line.hang_next(path="/v2/bot/message/broadcast")
    try:
        with pytest.raises(SnsError) as caught:
            await client.publish(post_request, material={}, checkpoint=no_checkpoint)
        reconciliation = await client.reconcile(post_request, material={}, sent_after=sent_after)
    finally:
        await client.close()

    assert caught.value.kind is ErrorKind.AMBIGUOUS
    [broadcast] = fake_line.broadcasts
    assert reconciliation.outcome is Outcome.PUBLISHED
    assert reconciliation.post is not None
    assert reconciliation.post.post_id == broadcast.request_id
    assert len(fake_line.broadcasts) == 1
    keys = {r.headers["X-Line-Retry-Key"] for r in fake_line.requests}
    assert keys == {post_request.idempotency_key}


async def test_reconcile_after_a_failed_send_delivers_it_once(
    fake_line: FakeLine, client: LineClient
) -> None:
    post_request = request()
    fake_line.fail_next(500)
    with pytest.raises(SnsError) as caught:
        await client.publish(post_request, material={}, checkpoint=no_checkpoint)

    reconciliation = await client.reconcile(post_request, material={}, sent_after=datetime.now(UTC))

    assert caught.value.kind is ErrorKind.RETRYABLE
    assert reconciliation.outcome is Outcome.PUBLISHED
    assert len(fake_line.broadcasts) == 1


async def test_reconcile_after_the_key_expired_is_undecided_and_sends_nothing(
    fake_line: FakeLine,
) -> None:
    now = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    client = make_client(fake_line, clock=lambda: now)
    try:
        reconciliation = await client.reconcile(
            request(), material={}, sent_after=now - timedelta(hours=25)
        )
    finally:
        await client.close()

    assert reconciliation.outcome is Outcome.UNDECIDED
    assert fake_line.requests == []


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, ErrorKind.RETRYABLE),
        (503, ErrorKind.RETRYABLE),
        (429, ErrorKind.RETRYABLE),
        (401, ErrorKind.AUTH),
        (400, ErrorKind.PERMANENT),
        (403, ErrorKind.PERMANENT),
    ],
)
async def test_answers_map_to_kinds(
    fake_line: FakeLine, client: LineClient, status: int, kind: ErrorKind
) -> None:
    fake_line.fail_next(status)

    with pytest.raises(SnsError) as caught:
        await client.publish(request(), material={}, checkpoint=no_checkpoint)

    assert (caught.value.kind, caught.value.status) == (kind, status)
    assert fake_line.broadcasts == []


async def test_a_revoked_token_is_an_auth_error_with_lines_message(
    fake_line: FakeLine, client: LineClient
) -> None:
    fake_line.revoked = True

    with pytest.raises(SnsError) as caught:
        await client.publish(request(), material={}, checkpoint=no_checkpoint)

    assert caught.value.kind is ErrorKind.AUTH
    assert "Authentication failed" in str(caught.value)


async def test_the_monthly_limit_is_retryable_next_month(fake_line: FakeLine) -> None:
    client = make_client(fake_line, clock=lambda: datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
    fake_line.monthly_limit_next()
    try:
        with pytest.raises(SnsError) as caught:
            await client.publish(request(), material={}, checkpoint=no_checkpoint)
    finally:
        await client.close()

    assert caught.value.kind is ErrorKind.RETRYABLE
    # 16:00 UTC on 30 November is already 1 December in Japan: the quota resets in January.
    assert caught.value.retry_at == datetime(2027, 1, 1, tzinfo=JST)


async def test_long_text_is_split_and_images_follow(
    fake_line: FakeLine, client: LineClient
) -> None:
    paragraph = "あ" * 3000 + "\n"
    text = paragraph * 3
    image = "https://www.city.midori.example.jp/img/matsuri.jpg"

    await client.publish(request(text, (image,)), material={}, checkpoint=no_checkpoint)

    [broadcast] = fake_line.broadcasts
    texts = [m["text"] for m in broadcast.messages if m["type"] == "text"]
    assert [len(t) for t in texts] == [3000, 3000, 3000]  # cut at the line breaks
    assert "".join(texts) == text.replace("\n", "")
    assert broadcast.messages[-1] == {
        "type": "image",
        "originalContentUrl": image,
        "previewImageUrl": image,
    }


@pytest.mark.parametrize(
    ("text", "media"),
    [
        ("あ" * 25_001, ()),
        (TEXT, tuple(f"https://example.jp/{n}.jpg" for n in range(5))),
        (TEXT, ("http://example.jp/plain.jpg",)),
        ("   ", ()),
    ],
)
async def test_posts_line_cannot_take_are_refused_before_sending(
    fake_line: FakeLine, client: LineClient, text: str, media: tuple[str, ...]
) -> None:
    with pytest.raises(SnsError) as caught:
        await client.publish(request(text, media), material={}, checkpoint=no_checkpoint)

    assert caught.value.kind is ErrorKind.PERMANENT
    assert fake_line.requests == []


@pytest.mark.parametrize("key", ["", "publication-42", "1234"])
async def test_a_missing_or_malformed_retry_key_is_a_programming_error(
    fake_line: FakeLine, client: LineClient, key: str
) -> None:
    post_request = PostRequest(text=TEXT, idempotency_key=key)

    with pytest.raises(ValueError, match="UUID"):
        await client.publish(post_request, material={}, checkpoint=no_checkpoint)
    with pytest.raises(ValueError, match="UUID"):
        await client.reconcile(post_request, material={}, sent_after=datetime.now(UTC))

    assert fake_line.requests == []


async def test_a_broadcast_cannot_be_deleted_or_read_back(
    fake_line: FakeLine, client: LineClient
) -> None:
    with pytest.raises(SnsError) as caught:
        await client.delete("any-request-id")

    assert caught.value.kind is ErrorKind.PERMANENT
    assert str(caught.value).startswith("line: LINE の一斉配信は取り消せません")
    assert await client.recent_posts() == []
    assert fake_line.requests == []


async def test_profile_comes_from_the_bot_info(fake_line: FakeLine, client: LineClient) -> None:
    fake_line.bot_info["displayName"] = "みどり市（偽）"

    profile = await client.profile()

    assert profile.account_id == "Ub1234567890abcdef1234567890abcde"
    assert (profile.name, profile.handle) == ("みどり市（偽）", "@123abcde")
    assert profile.extra["chatMode"] == "bot"


def test_split_text_counts_utf16_units_and_prefers_line_breaks() -> None:
    emoji = "🎉" * 3000  # 6,000 UTF-16 units

    assert [len(p) for p in split_text(emoji)] == [2500, 500]
    assert split_text("a" * 10 + "\n" + "b" * 5, limit=12) == ["a" * 10, "b" * 5]
    assert split_text("a" * 30, limit=12) == ["a" * 12, "a" * 12, "a" * 6]
    assert split_text("  \n ") == []
    assert split_text(" 本文\n\n") == [" 本文\n\n"]  # a text that fits is sent as approved


async def test_the_fake_forgets_a_retry_key_after_24_hours(
    fake_line: FakeLine, client: LineClient
) -> None:
    post_request = request()
    await client.publish(post_request, material={}, checkpoint=no_checkpoint)
    fake_line.clock = lambda: datetime.now(UTC) + timedelta(hours=24, minutes=1)

    await client.publish(post_request, material={}, checkpoint=no_checkpoint)

    assert len(fake_line.broadcasts) == 2  # why reconcile refuses to resend after 23 h


async def test_no_secret_reaches_the_logs_or_the_errors(
    fake_line: FakeLine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(fake_line, timeout=0.5)
    token = fake_line.channel_access_token
    errors: list[SnsError] = []
    try:
        await client.publish(request(), material={}, checkpoint=no_checkpoint)
        arrangements: list[Callable[[], object]] = [
            lambda: fake_line.fail_next(401, body={"message": f"invalid token {token}"}),
            lambda: fake_line.fail_next(500),
            fake_line.hang_next,
        ]
        for arrange in arrangements:
            arrange()
            with pytest.raises(SnsError) as caught:
                await client.publish(request(), material={}, checkpoint=no_checkpoint)
            errors.append(caught.value)
        await client.profile()
    finally:
        await client.close()

    assert "***" in str(errors[0])
    assert "/v2/bot/message/broadcast" in caplog.text
    assert_no_secret([token], caplog.text, *(str(e) for e in errors), *(repr(e) for e in errors))
