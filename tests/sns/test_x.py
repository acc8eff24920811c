"""XClient (real tweepy, real aiohttp upload) against the fake X API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from sns.base import ErrorKind, Outcome, PostRequest, PublishedPost, SnsError
from sns.x import BaseUrlAdapter, XClient
from tests.fakes import fake_x_fixture  # noqa: F401 - the "fake_x" fixture
from tests.fakes.x import DUPLICATE, FakeX
from tests.sns import assert_no_secret, no_checkpoint

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
TEXT = (
    "11月23日(月・祝)は市民まつりです。"
    "詳しくは https://www.city.midori.example.jp/matsuri をご覧ください & <お気軽に>"
)


def make_client(fake: FakeX, *, timeout: float = 10.0) -> XClient:
    return XClient(
        fake.credentials(),
        handle="@midori_city",
        api_url=fake.url,
        upload_url=fake.url,
        timeout=timeout,
    )


@pytest.fixture
async def client(fake_x: FakeX) -> AsyncIterator[XClient]:
    client = make_client(fake_x)
    yield client
    await client.close()


async def publish(client: XClient, text: str = TEXT, media: tuple[str, ...] = ()) -> PublishedPost:
    return await client.publish(
        PostRequest(text=text, media=media), material={}, checkpoint=no_checkpoint
    )


async def test_publish_sends_the_text_signed_and_returns_id_and_permalink(
    fake_x: FakeX, client: XClient
) -> None:
    post = await client.publish(PostRequest(text=TEXT), material={}, checkpoint=no_checkpoint)

    [sent] = fake_x.requests_to("POST", "/2/tweets")
    assert sent.json == {"text": TEXT}
    assert sent.headers["Authorization"].startswith("OAuth ")
    assert f'oauth_consumer_key="{fake_x.consumer_key}"' in sent.headers["Authorization"]
    [tweet] = fake_x.posted
    assert tweet.text == TEXT
    assert post.post_id == tweet.id
    assert post.permalink == f"https://x.com/midori_city/status/{tweet.id}"


async def test_image_is_uploaded_to_v2_media_upload_and_attached(
    fake_x: FakeX, client: XClient
) -> None:
    image = fake_x.serve("poster.png", PNG, "image/png")

    post = await publish(client, media=(image,))

    [upload_request] = fake_x.requests_to("POST", "/2/media/upload")
    assert upload_request.headers["Authorization"].startswith("OAuth ")
    assert upload_request.files["media"].data == PNG
    assert upload_request.form["media_category"] == "tweet_image"
    [upload] = fake_x.uploads
    [sent] = fake_x.requests_to("POST", "/2/tweets")
    assert sent.json == {"text": TEXT, "media": {"media_ids": [upload.media_id]}}
    assert fake_x.posted[0].media_ids == (upload.media_id,)
    assert post.post_id == fake_x.posted[0].id


async def test_too_many_images_or_a_missing_one_are_refused_before_posting(
    fake_x: FakeX, client: XClient
) -> None:
    image = fake_x.serve("poster.png", PNG, "image/png")
    with pytest.raises(SnsError) as too_many:
        await publish(client, media=(image,) * 5)
    with pytest.raises(SnsError) as missing:
        await publish(client, media=(f"{fake_x.url}/_static/nothing.png",))
    with pytest.raises(SnsError) as not_an_image:
        await publish(client, media=(fake_x.serve("a.txt", b"hello", "text/plain"),))

    assert too_many.value.kind is ErrorKind.PERMANENT
    assert missing.value.kind is ErrorKind.PERMANENT
    assert "404" in str(missing.value)
    assert not_an_image.value.kind is ErrorKind.PERMANENT
    assert fake_x.posted == []


async def test_429_is_retryable_at_the_reset_time_and_never_blocks_the_loop(
    fake_x: FakeX, client: XClient
) -> None:
    await client.profile()  # the account is known: the next request is the tweet itself
    reset = fake_x.rate_limit_next(path="/2/tweets", delay=0.5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    loop = asyncio.get_running_loop()
    task = asyncio.create_task(ticker())
    started = loop.time()
    try:
        with pytest.raises(SnsError) as caught:
            await publish(client)
    finally:
        task.cancel()
    waited = loop.time() - started

    assert caught.value.kind is ErrorKind.RETRYABLE
    assert caught.value.status == 429
    assert caught.value.retry_at == reset
    assert caught.value.retry_at is not None
    assert caught.value.retry_at.tzinfo is not None
    # The X call took half a second; the loop ticked all along (a blocked loop ticks ~once).
    assert waited >= 0.5
    assert ticks >= 5  # a blocked loop would tick about once; a loaded machine ticks slower
    assert fake_x.posted == []


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (503, ErrorKind.RETRYABLE),
        (429, ErrorKind.RETRYABLE),
        (401, ErrorKind.AUTH),
        (400, ErrorKind.PERMANENT),
    ],
)
async def test_upload_errors_map_to_kinds_and_nothing_is_posted(
    fake_x: FakeX, client: XClient, status: int, kind: ErrorKind
) -> None:
    fake_x.fail_next(status, path="/2/media/upload", headers={"x-rate-limit-reset": "1795000000"})

    with pytest.raises(SnsError) as caught:
        await publish(client, media=(fake_x.serve("poster.png", PNG, "image/png"),))

    assert (caught.value.kind, caught.value.status) == (kind, status)
    if status == 429:
        assert caught.value.retry_at == datetime.fromtimestamp(1795000000, UTC)
    assert fake_x.requests_to("POST", "/2/tweets") == []


def test_the_adapter_keeps_path_and_query_under_the_configured_base() -> None:
    adapter = BaseUrlAdapter("https://proxy.city.example:8443/x/", timeout=1.0)

    rewritten = adapter.rewrite("https://api.twitter.com/2/users/1/tweets?max_results=5")

    assert rewritten == "https://proxy.city.example:8443/x/2/users/1/tweets?max_results=5"


async def test_server_error_is_retryable(fake_x: FakeX, client: XClient) -> None:
    fake_x.fail_next(503, path="/2/tweets")

    with pytest.raises(SnsError) as caught:
        await publish(client)

    assert caught.value.kind is ErrorKind.RETRYABLE
    assert caught.value.status == 503
    assert fake_x.posted == []


async def test_duplicate_content_is_permanent_with_xs_message(
    fake_x: FakeX, client: XClient
) -> None:
    await publish(client)

    with pytest.raises(SnsError) as caught:
        await publish(client)

    assert caught.value.kind is ErrorKind.PERMANENT
    assert caught.value.status == 403
    assert DUPLICATE in str(caught.value)
    assert len(fake_x.posted) == 1


async def test_refused_credentials_are_an_auth_error(fake_x: FakeX, client: XClient) -> None:
    fake_x.revoked = True

    with pytest.raises(SnsError) as caught:
        await publish(client)

    assert caught.value.kind is ErrorKind.AUTH
    assert caught.value.status == 401
    assert fake_x.posted == []


async def test_a_wrong_secret_fails_the_signature_check(fake_x: FakeX) -> None:
    credentials = {**fake_x.credentials(), "consumer_secret": "not-the-secret"}
    client = XClient(credentials, api_url=fake_x.url, upload_url=fake_x.url, timeout=2.0)
    try:
        with pytest.raises(SnsError) as caught:
            await client.profile()
    finally:
        await client.close()

    assert caught.value.kind is ErrorKind.AUTH


async def test_accepted_then_no_answer_is_ambiguous_and_reconciled_from_the_timeline(
    fake_x: FakeX,
) -> None:
    client = make_client(fake_x, timeout=0.5)
    sent_after = datetime.now(UTC)
    await client.profile()
    fake_x.hang_next(path="/2/tweets")
    try:
        with pytest.raises(SnsError) as caught:
            await publish(client, media=(fake_x.serve("poster.png", PNG, "image/png"),))
        reconciliation = await client.reconcile(
            PostRequest(text=TEXT), material={}, sent_after=sent_after
        )
    finally:
        await client.close()

    assert caught.value.kind is ErrorKind.AMBIGUOUS
    [tweet] = fake_x.posted  # X shows it with t.co links and &amp;: still matched
    assert "t.co" in tweet.shown
    assert "&amp;" in tweet.shown
    assert reconciliation.outcome is Outcome.PUBLISHED
    assert reconciliation.post is not None
    assert reconciliation.post.post_id == tweet.id
    assert reconciliation.post.permalink == f"https://x.com/midori_city/status/{tweet.id}"
    assert len(fake_x.posted) == 1


async def test_reconcile_without_a_match_is_not_published(fake_x: FakeX, client: XClient) -> None:
    sent_after = datetime.now(UTC)
    fake_x.add_tweet(TEXT, created_at=sent_after - timedelta(hours=3))  # an older, earlier post
    fake_x.add_tweet("別のお知らせです。")

    reconciliation = await client.reconcile(
        PostRequest(text=TEXT), material={}, sent_after=sent_after
    )

    assert reconciliation.outcome is Outcome.NOT_PUBLISHED
    [read] = fake_x.requests_to("GET", r"/2/users/\d+/tweets")
    assert read.query["start_time"] <= sent_after.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_reconcile_whose_read_fails_is_retryable_not_undecided(
    fake_x: FakeX, client: XClient
) -> None:
    fake_x.fail_next(503, path=r"/2/users/\d+/tweets")

    with pytest.raises(SnsError) as caught:
        await client.reconcile(PostRequest(text=TEXT), material={}, sent_after=datetime.now(UTC))
    reconciliation = await client.reconcile(
        PostRequest(text=TEXT), material={}, sent_after=datetime.now(UTC)
    )

    assert (caught.value.kind, caught.value.status) == (ErrorKind.RETRYABLE, 503)
    assert reconciliation.outcome is Outcome.NOT_PUBLISHED  # the next read answers
    assert len(fake_x.requests_to("GET", r"/2/users/\d+/tweets")) == 2
    assert fake_x.requests_to("POST", "/2/tweets") == []


async def test_reconcile_that_cannot_connect_is_retryable(fake_x: FakeX) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{closed_port}"
    client = XClient(fake_x.credentials(), api_url=url, upload_url=url, timeout=2.0)
    try:
        with pytest.raises(SnsError) as caught:
            await client.reconcile(
                PostRequest(text=TEXT), material={}, sent_after=datetime.now(UTC)
            )
    finally:
        await client.close()

    assert caught.value.kind is ErrorKind.RETRYABLE


async def test_reconcile_with_refused_credentials_stays_an_auth_error(
    fake_x: FakeX, client: XClient
) -> None:
    fake_x.revoked = True

    with pytest.raises(SnsError) as caught:
        await client.reconcile(PostRequest(text=TEXT), material={}, sent_after=datetime.now(UTC))

    assert (caught.value.kind, caught.value.status) == (ErrorKind.AUTH, 401)


async def test_reconcile_refused_for_another_reason_is_undecided(
    fake_x: FakeX, client: XClient
) -> None:
    fake_x.fail_next(403, path=r"/2/users/\d+/tweets")

    reconciliation = await client.reconcile(
        PostRequest(text=TEXT), material={}, sent_after=datetime.now(UTC)
    )

    assert reconciliation.outcome is Outcome.UNDECIDED
    assert "403" in reconciliation.reason


async def test_nothing_listening_is_retryable(fake_x: FakeX) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{closed_port}"
    client = XClient(fake_x.credentials(), api_url=url, upload_url=url, timeout=2.0)
    try:
        with pytest.raises(SnsError) as caught:
            await publish(client)
    finally:
        await client.close()

    assert caught.value.kind is ErrorKind.RETRYABLE


async def test_profile_and_timeline_show_changes_made_outside_postgate(
    fake_x: FakeX, client: XClient
) -> None:
    before = await client.profile()
    fake_x.user["name"] = "みどり市（乗っ取り）"
    fake_x.user["description"] = "Free crypto!"
    stranger = fake_x.add_tweet("Win a prize & more: https://scam.example/")

    after = await client.profile()
    recent = await client.recent_posts(limit=5)

    assert before.handle == "midori_city"
    assert before.name == "みどり市"
    assert before.image_url.endswith("midori_normal.png")
    assert (after.name, after.description) == ("みどり市（乗っ取り）", "Free crypto!")
    assert [p.post_id for p in recent] == [stranger]
    assert recent[0].text is not None
    assert recent[0].text.startswith("Win a prize & more: ")


async def test_delete_removes_the_tweet(fake_x: FakeX, client: XClient) -> None:
    post = await client.publish(PostRequest(text=TEXT), material={}, checkpoint=no_checkpoint)

    await client.delete(post.post_id)

    assert fake_x.requests_to("DELETE", f"/2/tweets/{post.post_id}")
    assert fake_x.posted[0].deleted
    assert await client.recent_posts() == []


async def test_no_secret_reaches_the_logs_or_the_errors(
    fake_x: FakeX, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(fake_x, timeout=0.5)
    errors: list[SnsError] = []
    try:
        await publish(client, media=(fake_x.serve("poster.png", PNG, "image/png"),))
        arrangements: list[Callable[[], object]] = [
            lambda: fake_x.fail_next(
                401, path="/2/tweets", body={"detail": f"bad token {fake_x.access_token}"}
            ),
            lambda: fake_x.fail_next(503, path="/2/tweets"),
            lambda: fake_x.hang_next(path="/2/tweets"),
        ]
        for arrange in arrangements:
            arrange()
            with pytest.raises(SnsError) as caught:
                await publish(client, text=f"{TEXT} {len(errors)}")
            errors.append(caught.value)
        await client.reconcile(PostRequest(text=TEXT), material={}, sent_after=datetime.now(UTC))
        await client.profile()
    finally:
        await client.close()

    assert "***" in str(errors[0])  # the platform echoed the token: it was redacted
    assert "POST /2/tweets" in caplog.text  # DEBUG logging was on
    assert_no_secret(
        fake_x.credentials(), caplog.text, *(str(e) for e in errors), *(repr(e) for e in errors)
    )
