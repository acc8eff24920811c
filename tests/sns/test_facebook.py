"""FacebookClient against the fake Graph API on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from sns.base import ErrorKind, Outcome, PostRequest, PublishedPost, SnsError
from sns.facebook import FacebookClient
from tests.fakes import fake_graph_fixture  # noqa: F401 - the "fake_graph" fixture
from tests.fakes.graph import FakeGraph, graph_error
from tests.sns import assert_no_secret, no_checkpoint

TEXT = "【お知らせ】11月23日(月・祝)は市民まつりです。\n会場：みどり中央公園"
NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def make_client(fake: FakeGraph, *, timeout: float = 10.0, **changes: str) -> FacebookClient:
    return FacebookClient(
        {**fake.facebook_credentials(), **changes},
        handle="midori.city",
        api_url=fake.api_url,
        timeout=timeout,
    )


@pytest.fixture
async def client(fake_graph: FakeGraph) -> AsyncIterator[FacebookClient]:
    client = make_client(fake_graph)
    yield client
    await client.close()


async def publish(
    client: FacebookClient, text: str = TEXT, media: tuple[str, ...] = ()
) -> PublishedPost:
    return await client.publish(
        PostRequest(text=text, media=media), material={}, checkpoint=no_checkpoint
    )


async def test_publish_posts_the_message_to_the_page_feed(
    fake_graph: FakeGraph, client: FacebookClient
) -> None:
    post = await publish(client)

    [sent] = fake_graph.requests_to("POST", f"/v21.0/{fake_graph.page_id}/feed")
    assert sent.form["message"] == TEXT
    assert "link" not in sent.form
    assert sent.headers["Authorization"] == f"Bearer {fake_graph.page_token}"
    [page_post] = fake_graph.posted_to_page
    assert page_post.message == TEXT
    assert post.post_id == page_post.id
    assert post.permalink == page_post.permalink_url
    assert post.created_at is not None
    assert post.created_at.tzinfo is not None


async def test_every_call_carries_the_appsecret_proof(
    fake_graph: FakeGraph, client: FacebookClient
) -> None:
    await publish(client)
    await client.recent_posts()
    await client.profile()

    proof = fake_graph.proof(fake_graph.page_token)
    assert len(fake_graph.requests) >= 4
    for request in fake_graph.requests:
        assert request.param("appsecret_proof") == proof
        assert proof not in request.path
        assert request.param("access_token") is None  # the token travels in the header only


async def test_a_wrong_app_secret_is_refused_by_the_platform(fake_graph: FakeGraph) -> None:
    client = make_client(fake_graph, app_secret="not-the-app-secret")
    try:
        with pytest.raises(SnsError) as caught:
            await publish(client)
    finally:
        await client.close()

    assert caught.value.kind is ErrorKind.PERMANENT
    assert "Invalid appsecret_proof" in str(caught.value)
    assert fake_graph.posted_to_page == []


async def test_a_single_url_also_goes_as_link(
    fake_graph: FakeGraph, client: FacebookClient
) -> None:
    text = "詳しくは市のホームページをご覧ください。https://www.city.midori.example.jp/matsuri"

    await publish(client, text)

    [sent] = fake_graph.requests_to("POST", r".*/feed")
    assert sent.form["link"] == "https://www.city.midori.example.jp/matsuri"
    assert fake_graph.posted_to_page[0].link == "https://www.city.midori.example.jp/matsuri"


async def test_one_image_is_a_photo_post(fake_graph: FakeGraph, client: FacebookClient) -> None:
    image = "https://www.city.midori.example.jp/img/poster.jpg"

    post = await publish(client, media=(image,))

    [sent] = fake_graph.requests_to("POST", r".*/photos")
    assert (sent.form["url"], sent.form["caption"]) == (image, TEXT)
    [page_post] = fake_graph.posted_to_page
    assert page_post.photo_url == image
    assert post.post_id == page_post.id


async def test_several_images_are_attached_to_one_post(
    fake_graph: FakeGraph, client: FacebookClient
) -> None:
    images = ("https://example.jp/a.jpg", "https://example.jp/b.jpg")

    await publish(client, media=images)

    photos = fake_graph.requests_to("POST", r".*/photos")
    assert [p.form["published"] for p in photos] == ["false", "false"]
    [feed] = fake_graph.requests_to("POST", r".*/feed")
    attached = [item["media_fbid"] for item in json.loads(feed.form["attached_media"])]
    assert attached == list(fake_graph.unpublished_photos)
    assert len(fake_graph.posted_to_page) == 1


@pytest.mark.parametrize(
    ("arrange", "kind"),
    [
        (lambda f: setattr(f, "revoked", True), ErrorKind.AUTH),
        (lambda f: f.fail_next(401), ErrorKind.AUTH),
        (lambda f: f.fail_next(500), ErrorKind.RETRYABLE),
        (lambda f: f.fail_next(503, path=r".*/feed"), ErrorKind.RETRYABLE),
        (lambda f: f.fail_next(429), ErrorKind.RETRYABLE),
        (
            lambda f: f.fail_next(
                400, body=graph_error("(#200) The user hasn't authorized the action", code=200)
            ),
            ErrorKind.PERMANENT,
        ),
        (
            lambda f: f.fail_next(400, body=graph_error("(#613) Calls exceeded", code=613)),
            ErrorKind.RETRYABLE,
        ),
    ],
)
async def test_graph_errors_map_to_kinds(
    fake_graph: FakeGraph,
    client: FacebookClient,
    arrange: Callable[[FakeGraph], object],
    kind: ErrorKind,
) -> None:
    arrange(fake_graph)

    with pytest.raises(SnsError) as caught:
        await publish(client)

    assert caught.value.kind is kind
    assert fake_graph.posted_to_page == []


async def test_permanent_errors_carry_the_graph_message(
    fake_graph: FakeGraph, client: FacebookClient
) -> None:
    fake_graph.fail_next(
        400, body=graph_error("(#200) The user hasn't authorized the action", code=200)
    )

    with pytest.raises(SnsError) as caught:
        await publish(client)

    assert "(#200) The user hasn't authorized the action" in str(caught.value)
    assert caught.value.status == 400


async def test_rate_limit_is_retryable_when_access_returns(fake_graph: FakeGraph) -> None:
    client = FacebookClient(
        fake_graph.facebook_credentials(), api_url=fake_graph.api_url, clock=lambda: NOW
    )
    fake_graph.rate_limit_next(code=32, minutes=7)
    try:
        with pytest.raises(SnsError) as caught:
            await publish(client)
    finally:
        await client.close()

    assert caught.value.kind is ErrorKind.RETRYABLE
    assert caught.value.retry_at == NOW + timedelta(minutes=7)


async def test_accepted_then_no_answer_is_ambiguous_and_found_on_the_page(
    fake_graph: FakeGraph,
) -> None:
    client = make_client(fake_graph, timeout=0.5)
    sent_after = datetime.now(UTC)
    fake_graph.hang_next(method="POST", path=r".*/feed")
    try:
        with pytest.raises(SnsError) as caught:
            await publish(client)
        reconciliation = await client.reconcile(
            PostRequest(text=f"  {TEXT}\n"), material={}, sent_after=sent_after
        )
    finally:
        await client.close()

    assert caught.value.kind is ErrorKind.AMBIGUOUS
    [page_post] = fake_graph.posted_to_page
    assert reconciliation.outcome is Outcome.PUBLISHED
    assert reconciliation.post is not None
    assert reconciliation.post.post_id == page_post.id
    assert reconciliation.post.permalink == page_post.permalink_url
    assert len(fake_graph.posted_to_page) == 1


async def test_reconcile_that_finds_nothing_is_undecided_never_not_published(
    fake_graph: FakeGraph, client: FacebookClient
) -> None:
    sent_after = datetime.now(UTC)
    fake_graph.add_page_post(TEXT, created_time=sent_after - timedelta(days=1))  # too old
    fake_graph.add_page_post("別のお知らせ")

    reconciliation = await client.reconcile(
        PostRequest(text=TEXT), material={}, sent_after=sent_after
    )

    assert reconciliation.outcome is Outcome.UNDECIDED
    assert "lag" in reconciliation.reason
    [read] = fake_graph.requests_to("GET", r".*/posts")
    assert int(read.query["since"]) <= sent_after.timestamp()


@pytest.mark.parametrize("status", [500, 503])
async def test_reconcile_whose_read_fails_is_retryable_not_undecided(
    fake_graph: FakeGraph, client: FacebookClient, status: int
) -> None:
    fake_graph.fail_next(status, path=r".*/posts")

    with pytest.raises(SnsError) as caught:
        await client.reconcile(PostRequest(text=TEXT), material={}, sent_after=datetime.now(UTC))

    assert (caught.value.kind, caught.value.status) == (ErrorKind.RETRYABLE, status)
    assert fake_graph.requests_to("POST", r".*/feed") == []


async def test_reconcile_with_a_revoked_token_stays_an_auth_error(
    fake_graph: FakeGraph, client: FacebookClient
) -> None:
    fake_graph.revoked = True

    with pytest.raises(SnsError) as caught:
        await client.reconcile(PostRequest(text=TEXT), material={}, sent_after=datetime.now(UTC))

    assert caught.value.kind is ErrorKind.AUTH


async def test_profile_recent_posts_and_delete(
    fake_graph: FakeGraph, client: FacebookClient
) -> None:
    ours = await publish(client)
    stranger = fake_graph.add_page_post("乗っ取られました")
    fake_graph.page["name"] = "Midori Giveaway"

    profile = await client.profile()
    recent = await client.recent_posts(limit=10)
    await client.delete(ours.post_id)
    after = await client.recent_posts(limit=10)

    assert profile.name == "Midori Giveaway"
    assert profile.handle == "midori.city"
    assert profile.image_url == "https://scontent.example/midori.png"
    assert [p.post_id for p in recent] == [stranger, ours.post_id]
    assert [p.post_id for p in after] == [stranger]


async def test_no_secret_reaches_the_logs_or_the_errors(
    fake_graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(fake_graph, timeout=0.5)
    secrets = [
        fake_graph.page_token,
        fake_graph.app_secret,
        fake_graph.proof(fake_graph.page_token),
    ]
    errors: list[SnsError] = []
    try:
        await publish(client)
        arrangements: list[Callable[[], object]] = [
            lambda: fake_graph.fail_next(
                400,
                body=graph_error(f"Invalid token {fake_graph.page_token}", code=190),
            ),
            lambda: fake_graph.fail_next(500),
            lambda: fake_graph.hang_next(path=r".*/feed"),
        ]
        for arrange in arrangements:
            arrange()
            with pytest.raises(SnsError) as caught:
                await publish(client, f"{TEXT} {len(errors)}")
            errors.append(caught.value)
        await client.reconcile(PostRequest(text=TEXT), material={}, sent_after=datetime.now(UTC))
    finally:
        await client.close()

    assert "***" in str(errors[0])
    assert "POST /v21.0/" in caplog.text  # DEBUG logging was on
    assert_no_secret(secrets, caplog.text, *(str(e) for e in errors), *(repr(e) for e in errors))
