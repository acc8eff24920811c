"""InstagramClient against the fake Graph API on 127.0.0.1: containers, checkpoint, reconcile."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from sns.base import ErrorKind, Outcome, PostRequest, SnsError
from sns.instagram import InstagramClient
from tests.fakes import fake_graph_fixture  # noqa: F401 - the "fake_graph" fixture
from tests.fakes.graph import FakeGraph
from tests.sns import RecordingCheckpoint, assert_no_secret, no_checkpoint

CAPTION = "市民まつりを開催します🎉\n#みどり市 #市民まつり"
IMAGE = "https://www.city.midori.example.jp/img/matsuri.jpg"
POST = PostRequest(text=CAPTION, media=(IMAGE,))


def make_client(
    fake: FakeGraph, *, timeout: float = 10.0, max_wait: float = 10.0
) -> InstagramClient:
    return InstagramClient(
        fake.instagram_credentials(),
        handle="midori_city",
        api_url=fake.api_url,
        timeout=timeout,
        poll_interval=0.01,
        max_wait=max_wait,
    )


@pytest.fixture
async def client(fake_graph: FakeGraph) -> AsyncIterator[InstagramClient]:
    client = make_client(fake_graph)
    yield client
    await client.close()


def publish_calls(fake: FakeGraph) -> int:
    return len(fake.requests_to("POST", r".*/media_publish"))


async def test_container_is_checkpointed_before_media_publish(
    fake_graph: FakeGraph, client: InstagramClient
) -> None:
    seen_at_checkpoint: list[int] = []
    checkpoint = RecordingCheckpoint(
        lambda _m: seen_at_checkpoint.append(publish_calls(fake_graph))
    )

    post = await client.publish(POST, material={}, checkpoint=checkpoint)

    [container] = fake_graph.containers.values()
    assert checkpoint.calls == [{"container_id": container.id}]
    assert seen_at_checkpoint == [0]  # media_publish had not been called yet
    [create] = fake_graph.requests_to("POST", rf".*/{fake_graph.ig_user_id}/media")
    assert (create.form["image_url"], create.form["caption"]) == (IMAGE, CAPTION)
    [publish] = fake_graph.requests_to("POST", r".*/media_publish")
    assert publish.form["creation_id"] == container.id
    [media] = fake_graph.published_media
    assert (post.post_id, post.permalink) == (media.id, media.permalink)
    assert post.created_at is not None
    assert post.created_at.tzinfo is not None


async def test_every_call_carries_the_appsecret_proof(
    fake_graph: FakeGraph, client: InstagramClient
) -> None:
    await client.publish(POST, material={}, checkpoint=RecordingCheckpoint())
    await client.profile()

    proof = fake_graph.proof(fake_graph.ig_token)
    assert all(r.param("appsecret_proof") == proof for r in fake_graph.requests)
    assert all(
        r.headers["Authorization"] == f"Bearer {fake_graph.ig_token}" for r in fake_graph.requests
    )


async def test_a_retry_with_the_material_reuses_the_container(
    fake_graph: FakeGraph, client: InstagramClient
) -> None:
    checkpoint = RecordingCheckpoint()
    fake_graph.fail_next(503, path=r".*/media_publish")
    with pytest.raises(SnsError) as first:
        await client.publish(POST, material={}, checkpoint=checkpoint)

    post = await client.publish(POST, material=checkpoint.material, checkpoint=checkpoint)

    assert first.value.kind is ErrorKind.RETRYABLE
    assert len(fake_graph.containers) == 1
    assert len(checkpoint.calls) == 1
    assert [m.id for m in fake_graph.published_media] == [post.post_id]


async def test_a_container_still_processing_is_waited_for(
    fake_graph: FakeGraph, client: InstagramClient
) -> None:
    fake_graph.script_containers("IN_PROGRESS", "IN_PROGRESS", "FINISHED")

    await client.publish(POST, material={}, checkpoint=RecordingCheckpoint())

    status_reads = [r for r in fake_graph.requests if r.param("fields") == "status_code,status"]
    assert len(status_reads) == 3
    assert len(fake_graph.published_media) == 1


async def test_a_container_processing_too_long_is_retryable_and_resumed(
    fake_graph: FakeGraph,
) -> None:
    client = make_client(fake_graph, max_wait=0.05)
    checkpoint = RecordingCheckpoint()
    fake_graph.script_containers("IN_PROGRESS")
    try:
        with pytest.raises(SnsError) as caught:
            await client.publish(POST, material={}, checkpoint=checkpoint)
        fake_graph.set_container_status(checkpoint.material["container_id"], "FINISHED")
        await client.publish(POST, material=checkpoint.material, checkpoint=checkpoint)
    finally:
        await client.close()

    assert caught.value.kind is ErrorKind.RETRYABLE
    assert caught.value.retry_at is not None
    assert len(fake_graph.containers) == 1
    assert len(fake_graph.published_media) == 1


async def test_an_expired_container_is_replaced_and_checkpointed_again(
    fake_graph: FakeGraph, client: InstagramClient
) -> None:
    checkpoint = RecordingCheckpoint()
    fake_graph.fail_next(500, path=r".*/media_publish")
    with pytest.raises(SnsError):
        await client.publish(POST, material={}, checkpoint=checkpoint)
    old = checkpoint.material["container_id"]
    fake_graph.set_container_status(old, "EXPIRED")

    await client.publish(POST, material=checkpoint.material, checkpoint=checkpoint)

    new = checkpoint.material["container_id"]
    assert new != old
    assert [c["container_id"] for c in checkpoint.calls] == [old, new]
    assert fake_graph.published_media[0].container_id == new


async def test_a_container_the_platform_cannot_process_is_permanent(
    fake_graph: FakeGraph, client: InstagramClient
) -> None:
    fake_graph.script_containers("ERROR")

    with pytest.raises(SnsError) as caught:
        await client.publish(POST, material={}, checkpoint=RecordingCheckpoint())

    assert caught.value.kind is ErrorKind.PERMANENT
    assert publish_calls(fake_graph) == 0


async def test_several_images_make_a_carousel(
    fake_graph: FakeGraph, client: InstagramClient
) -> None:
    images = tuple(f"https://example.jp/{n}.jpg" for n in range(3))
    checkpoint = RecordingCheckpoint()

    await client.publish(
        PostRequest(text=CAPTION, media=images), material={}, checkpoint=checkpoint
    )

    creates = fake_graph.requests_to("POST", rf".*/{fake_graph.ig_user_id}/media")
    children, carousel = creates[:3], creates[3]
    assert [c.form["image_url"] for c in children] == list(images)
    assert all(c.form["is_carousel_item"] == "true" for c in children)
    assert "caption" not in children[0].form
    assert carousel.form["media_type"] == "CAROUSEL"
    assert carousel.form["caption"] == CAPTION
    child_ids = list(fake_graph.containers)[:3]
    assert carousel.form["children"] == ",".join(child_ids)
    [publish] = fake_graph.requests_to("POST", r".*/media_publish")
    assert publish.form["creation_id"] == checkpoint.material["container_id"]


async def test_a_video_is_published_as_a_reel(
    fake_graph: FakeGraph, client: InstagramClient
) -> None:
    video = "https://www.city.midori.example.jp/movie/matsuri.mp4"

    await client.publish(
        PostRequest(text=CAPTION, media=(video,)), material={}, checkpoint=RecordingCheckpoint()
    )

    [create] = fake_graph.requests_to("POST", rf".*/{fake_graph.ig_user_id}/media")
    assert (create.form["media_type"], create.form["video_url"]) == ("REELS", video)


async def test_text_alone_cannot_be_published(
    fake_graph: FakeGraph, client: InstagramClient
) -> None:
    with pytest.raises(SnsError) as caught:
        await client.publish(PostRequest(text=CAPTION), material={}, checkpoint=no_checkpoint)

    assert caught.value.kind is ErrorKind.PERMANENT
    assert "画像" in str(caught.value)
    assert fake_graph.requests == []


async def test_the_daily_publishing_limit_is_retryable(
    fake_graph: FakeGraph, client: InstagramClient
) -> None:
    fake_graph.publish_limit_next()

    with pytest.raises(SnsError) as caught:
        await client.publish(POST, material={}, checkpoint=RecordingCheckpoint())

    assert caught.value.kind is ErrorKind.RETRYABLE
    assert "2207042" in str(caught.value)


async def test_accepted_then_no_answer_is_ambiguous_and_reconciled_by_container_status(
    fake_graph: FakeGraph,
) -> None:
    client = make_client(fake_graph, timeout=0.5)
    checkpoint = RecordingCheckpoint()
    sent_after = datetime.now(UTC)
    fake_graph.hang_next(path=r".*/media_publish")
    try:
        with pytest.raises(SnsError) as caught:
            await client.publish(POST, material={}, checkpoint=checkpoint)
        reconciliation = await client.reconcile(
            POST, material=checkpoint.material, sent_after=sent_after
        )
    finally:
        await client.close()

    assert caught.value.kind is ErrorKind.AMBIGUOUS
    [media] = fake_graph.published_media
    assert reconciliation.outcome is Outcome.PUBLISHED
    assert reconciliation.post is not None
    assert (reconciliation.post.post_id, reconciliation.post.permalink) == (
        media.id,
        media.permalink,
    )
    assert len(fake_graph.published_media) == 1


@pytest.mark.parametrize(
    ("status", "outcome", "words"),
    [
        ("FINISHED", Outcome.NOT_PUBLISHED, "safe"),
        ("IN_PROGRESS", Outcome.NOT_PUBLISHED, "resumes the same container"),
        ("ERROR", Outcome.NOT_PUBLISHED, "new container"),
        ("EXPIRED", Outcome.NOT_PUBLISHED, "new container"),
    ],
)
async def test_reconcile_reads_the_container_status(
    fake_graph: FakeGraph, client: InstagramClient, status: str, outcome: Outcome, words: str
) -> None:
    checkpoint = RecordingCheckpoint()
    fake_graph.fail_next(500, path=r".*/media_publish")
    with pytest.raises(SnsError):
        await client.publish(POST, material={}, checkpoint=checkpoint)
    fake_graph.set_container_status(checkpoint.material["container_id"], status)

    reconciliation = await client.reconcile(
        POST, material=checkpoint.material, sent_after=datetime.now(UTC) - timedelta(minutes=1)
    )

    assert reconciliation.outcome is outcome
    assert words in reconciliation.reason
    assert fake_graph.published_media == []


async def test_reconcile_without_a_container_is_not_published(client: InstagramClient) -> None:
    empty: Mapping[str, str] = {}

    reconciliation = await client.reconcile(POST, material=empty, sent_after=datetime.now(UTC))

    assert reconciliation.outcome is Outcome.NOT_PUBLISHED


async def test_a_container_in_progress_is_resumed_after_reconciling_never_duplicated(
    fake_graph: FakeGraph,
) -> None:
    client = make_client(fake_graph, max_wait=0.05)
    checkpoint = RecordingCheckpoint()
    fake_graph.script_containers("IN_PROGRESS")
    try:
        with pytest.raises(SnsError):  # still processing when the attempt gave up waiting
            await client.publish(POST, material={}, checkpoint=checkpoint)
        [container_id] = fake_graph.containers
        reconciliation = await client.reconcile(
            POST, material=checkpoint.material, sent_after=datetime.now(UTC)
        )
        fake_graph.containers[container_id].statuses = ["IN_PROGRESS", "FINISHED"]
        post = await client.publish(POST, material=checkpoint.material, checkpoint=checkpoint)
    finally:
        await client.close()

    assert reconciliation.outcome is Outcome.NOT_PUBLISHED
    assert list(fake_graph.containers) == [container_id]  # no second container
    assert len(fake_graph.requests_to("POST", r".*/\d+/media")) == 1
    assert len(checkpoint.calls) == 1
    [media] = fake_graph.published_media
    assert (media.container_id, media.id) == (container_id, post.post_id)
    [publish] = fake_graph.requests_to("POST", r".*/media_publish")
    assert publish.param("creation_id") == container_id


@pytest.mark.parametrize("status", [500, 503])
async def test_reconcile_whose_status_read_fails_is_retryable_not_undecided(
    fake_graph: FakeGraph, client: InstagramClient, status: int
) -> None:
    fake_graph.fail_next(status)

    with pytest.raises(SnsError) as caught:
        await client.reconcile(
            POST, material={"container_id": "17900000000000001"}, sent_after=datetime.now(UTC)
        )

    assert (caught.value.kind, caught.value.status) == (ErrorKind.RETRYABLE, status)


async def test_reconcile_with_a_revoked_token_stays_an_auth_error(
    fake_graph: FakeGraph, client: InstagramClient
) -> None:
    fake_graph.revoked = True

    with pytest.raises(SnsError) as caught:
        await client.reconcile(
            POST, material={"container_id": "17900000000000001"}, sent_after=datetime.now(UTC)
        )

    assert caught.value.kind is ErrorKind.AUTH


async def test_reconcile_of_an_unknown_container_is_undecided(
    fake_graph: FakeGraph, client: InstagramClient
) -> None:
    reconciliation = await client.reconcile(
        POST, material={"container_id": "17900000000000999"}, sent_after=datetime.now(UTC)
    )

    assert reconciliation.outcome is Outcome.UNDECIDED
    assert fake_graph.published_media == []


async def test_profile_and_recent_posts(fake_graph: FakeGraph, client: InstagramClient) -> None:
    ours = await client.publish(POST, material={}, checkpoint=RecordingCheckpoint())
    stranger = fake_graph.add_ig_media("Free followers! DM us")
    fake_graph.ig_user["biography"] = "hacked"

    profile = await client.profile()
    recent = await client.recent_posts(limit=5)

    assert (profile.handle, profile.description) == ("midori_city", "hacked")
    assert [p.post_id for p in recent] == [stranger, ours.post_id]


async def test_no_secret_reaches_the_logs_or_the_errors(
    fake_graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(fake_graph, timeout=0.5)
    secrets = [fake_graph.ig_token, fake_graph.app_secret, fake_graph.proof(fake_graph.ig_token)]
    errors: list[SnsError] = []
    try:
        fake_graph.fail_next(400, body={"error": {"message": f"bad {fake_graph.ig_token}"}})
        with pytest.raises(SnsError) as caught:
            await client.publish(POST, material={}, checkpoint=RecordingCheckpoint())
        errors.append(caught.value)
        fake_graph.hang_next(path=r".*/media_publish")
        with pytest.raises(SnsError) as caught:
            await client.publish(POST, material={}, checkpoint=RecordingCheckpoint())
        errors.append(caught.value)
    finally:
        await client.close()

    assert "***" in str(errors[0])
    assert "media_publish" in caplog.text
    assert_no_secret(secrets, caplog.text, *(str(e) for e in errors), *(repr(e) for e in errors))
