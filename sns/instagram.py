"""Instagram (professional account) over the Graph API: containers, then ``media_publish``.

- ``POST /{ig-user-id}/media`` (``image_url`` or ``video_url`` for REELS, ``caption``) creates a
  container; several media make a carousel (children with ``is_carousel_item``, then a CAROUSEL
  container with ``children``). At most 10 items; Instagram cannot publish text alone.
- The container id is the idempotency handle: it is handed to the checkpoint as
  ``{"container_id": id}`` before ``POST /{ig-user-id}/media_publish`` (``creation_id``). A later
  attempt with that material reuses the container instead of creating another.
- ``reconcile`` reads ``GET /{container-id}?fields=status_code``: PUBLISHED (the media is then found
  in ``/{ig-user-id}/media`` by caption), FINISHED or IN_PROGRESS (not published: ``publish``
  resumes the same container from the material, waiting for it to finish), ERROR or EXPIRED (not
  published: a new container is needed, which ``publish`` creates). A status read that fails
  (5xx, timeout, no connection, rate limit, refused token) raises that ``SnsError``: the outbox
  reconciles again later.
- 50 published posts per 24 h: that error is RETRYABLE (with a time when the platform gives one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sns.base import (
    Checkpoint,
    ErrorKind,
    Outcome,
    PostRequest,
    Profile,
    PublishedPost,
    Reconciliation,
    SnsError,
)
from sns.common import (
    CLOCK_SKEW,
    DEFAULT_TIMEOUT,
    Clock,
    Redactor,
    normalise_text,
    parse_time,
    require_credentials,
    utcnow,
)
from sns.facebook import DEFAULT_GRAPH_API_URL, READ_AGAIN_LATER, GraphApi
from workflows.checks.model import Platform

log = logging.getLogger(__name__)

INSTAGRAM_CREDENTIALS = ("ig_user_id", "access_token", "app_secret")
CONTAINER_ID = "container_id"  # the key of the checkpointed material
MAX_ITEMS = 10
VIDEO_SUFFIXES = (".mp4", ".mov")
MEDIA_FIELDS = "id,caption,permalink,timestamp"


class ContainerStatus(StrEnum):
    PUBLISHED = "PUBLISHED"
    FINISHED = "FINISHED"
    IN_PROGRESS = "IN_PROGRESS"
    ERROR = "ERROR"
    EXPIRED = "EXPIRED"


class InstagramClient:
    """Publishing and reading for one Instagram professional account."""

    platform: Platform = Platform.INSTAGRAM

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        handle: str = "",
        api_url: str = DEFAULT_GRAPH_API_URL,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Clock = utcnow,
        poll_interval: float = 2.0,
        max_wait: float = 30.0,
    ) -> None:
        creds = require_credentials(Platform.INSTAGRAM, credentials, INSTAGRAM_CREDENTIALS)
        self._user = creds["ig_user_id"]
        self._handle = handle.lstrip("@")
        self._clock = clock
        self._poll_interval = poll_interval
        self._max_wait = max_wait
        self._graph = GraphApi(
            platform=Platform.INSTAGRAM,
            base_url=api_url,
            access_token=creds["access_token"],
            app_secret=creds["app_secret"],
            timeout=timeout,
            clock=clock,
            redact=Redactor([creds["access_token"], creds["app_secret"]]),
        )

    async def publish(
        self, post: PostRequest, *, material: Mapping[str, str], checkpoint: Checkpoint
    ) -> PublishedPost:
        if not post.media:
            raise self._error(
                ErrorKind.PERMANENT,
                "Instagram は画像か動画がないと投稿できません / "
                "Instagram cannot publish without an image or a video",
            )
        if len(post.media) > MAX_ITEMS:
            raise self._error(
                ErrorKind.PERMANENT,
                f"Instagram に載せられるのは{MAX_ITEMS}件までです / "
                f"Instagram allows at most {MAX_ITEMS} images or videos",
            )
        container_id = material.get(CONTAINER_ID, "")
        if container_id:
            status, detail = await self._status(container_id)
            if status == ContainerStatus.PUBLISHED:
                found = await self._find_media(post.text, since=None)
                if found is None:
                    raise self._error(
                        ErrorKind.AMBIGUOUS,
                        f"container {container_id} is already published, but its media was not "
                        "found by caption",
                    )
                return found
            if status in {ContainerStatus.ERROR, ContainerStatus.EXPIRED}:
                log.info(
                    "instagram container %s is %s (%s): creating a new one",
                    container_id,
                    status,
                    detail,
                )
                container_id = ""
        if not container_id:
            container_id = await self._create_container(post)
            await checkpoint({CONTAINER_ID: container_id})
        await self._wait_until_finished(container_id)
        answer = await self._graph.post(
            f"/{self._user}/media_publish",
            action="publish media",
            data={"creation_id": container_id},
            mutating=True,
        )
        media_id = str(answer.get("id", ""))
        if not media_id:
            raise self._error(
                ErrorKind.AMBIGUOUS, "publish media: the Graph API answered without a media id"
            )
        return await self._details(media_id, post.text)

    async def reconcile(
        self, post: PostRequest, *, material: Mapping[str, str], sent_after: datetime
    ) -> Reconciliation:
        container_id = material.get(CONTAINER_ID, "")
        if not container_id:
            return Reconciliation(
                Outcome.NOT_PUBLISHED,
                reason="no container was checkpointed, so media_publish was never called",
            )
        try:
            status, detail = await self._status(container_id)
        except SnsError as exc:
            if exc.kind in READ_AGAIN_LATER:
                raise  # a 5xx, a timeout, no connection, a rate limit, a refused token: ask later
            return Reconciliation(
                Outcome.UNDECIDED, reason=f"could not read container {container_id}: {exc}"
            )
        if status == ContainerStatus.PUBLISHED:
            try:
                found = await self._find_media(post.text, since=sent_after - CLOCK_SKEW)
            except SnsError as exc:
                found, why = None, f"; the media could not be listed: {exc}"
            else:
                why = "" if found else "; its media was not found by caption"
            return Reconciliation(
                Outcome.PUBLISHED, post=found, reason=f"container {container_id} is published{why}"
            )
        if status == ContainerStatus.FINISHED:
            return Reconciliation(
                Outcome.NOT_PUBLISHED,
                reason=f"container {container_id} is ready but unpublished: publishing it is safe",
            )
        if status == ContainerStatus.IN_PROGRESS:
            # media_publish was refused or never reached (it needs FINISHED): publishing again
            # resumes this very container from the material, so no second one is made.
            return Reconciliation(
                Outcome.NOT_PUBLISHED,
                reason=f"container {container_id} is still being processed, so it is not "
                "published: publishing resumes the same container",
            )
        if status in {ContainerStatus.ERROR, ContainerStatus.EXPIRED}:
            return Reconciliation(
                Outcome.NOT_PUBLISHED,
                reason=f"container {container_id} is {status} ({detail}): a new container is "
                "needed, which the next publish creates",
            )
        return Reconciliation(
            Outcome.UNDECIDED, reason=f"container {container_id} has an unknown status {status!r}"
        )

    async def delete(self, post_id: str) -> None:
        answer = await self._graph.delete(f"/{post_id}", action="delete media")
        if answer.get("success") is not True:
            raise self._error(ErrorKind.PERMANENT, f"the Graph API did not delete {post_id}")

    async def recent_posts(self, *, limit: int = 20) -> list[PublishedPost]:
        if limit <= 0:
            return []
        return (await self._media(limit=min(limit, 100)))[:limit]

    async def profile(self) -> Profile:
        user = await self._graph.get(
            f"/{self._user}",
            action="read account",
            params={"fields": "id,username,name,biography,website,profile_picture_url"},
        )
        return Profile(
            account_id=str(user.get("id", self._user)),
            name=str(user.get("name", "")),
            handle=str(user.get("username") or self._handle),
            description=str(user.get("biography", "")),
            url=str(user.get("website", "")),
            image_url=str(user.get("profile_picture_url", "")),
        )

    async def close(self) -> None:
        await self._graph.close()

    # -- internals ----------------------------------------------------------------------------

    def _error(
        self, kind: ErrorKind, message: str, *, retry_at: datetime | None = None
    ) -> SnsError:
        return self._graph.http.error(kind, message, retry_at=retry_at)

    async def _create_container(self, post: PostRequest) -> str:
        # An unused container expires after 24 h: creating one again is harmless (not mutating).
        if len(post.media) == 1:
            data = {**_media_fields(post.media[0], carousel=False), "caption": post.text}
        else:
            children = [
                await self._new_container(
                    {**_media_fields(url, carousel=True), "is_carousel_item": "true"}
                )
                for url in post.media
            ]
            data = {"media_type": "CAROUSEL", "children": ",".join(children), "caption": post.text}
        return await self._new_container(data)

    async def _new_container(self, data: Mapping[str, str]) -> str:
        answer = await self._graph.post(
            f"/{self._user}/media", action="create container", data=data, mutating=False
        )
        container_id = str(answer.get("id", ""))
        if not container_id:
            raise self._error(
                ErrorKind.RETRYABLE, "create container: the Graph API answered without an id"
            )
        return container_id

    async def _status(self, container_id: str) -> tuple[str, str]:
        node = await self._graph.get(
            f"/{container_id}",
            action="read container status",
            params={"fields": "status_code,status"},
        )
        return str(node.get("status_code", "")), str(node.get("status", ""))

    async def _wait_until_finished(self, container_id: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_wait
        while True:
            status, detail = await self._status(container_id)
            if status == ContainerStatus.FINISHED:
                return
            if status == ContainerStatus.ERROR:
                raise self._error(
                    ErrorKind.PERMANENT,
                    f"Instagram が画像・動画を処理できませんでした / Instagram could not process "
                    f"the media of container {container_id}: {detail or status}",
                )
            if status != ContainerStatus.IN_PROGRESS or loop.time() >= deadline:
                # EXPIRED: the next attempt sees it in the material and creates a new container.
                raise self._error(
                    ErrorKind.RETRYABLE,
                    f"container {container_id} is {status or 'unknown'}: try again later",
                    retry_at=self._clock() + timedelta(minutes=1),
                )
            await asyncio.sleep(self._poll_interval)

    async def _details(self, media_id: str, caption: str) -> PublishedPost:
        """The published media with its permalink; a failed read does not undo the publication."""
        try:
            node = await self._graph.get(
                f"/{media_id}", action="read media", params={"fields": "permalink,timestamp"}
            )
        except SnsError as exc:
            log.warning("instagram media %s published; permalink unreadable: %s", media_id, exc)
            node = {}
        return PublishedPost(
            post_id=media_id,
            permalink=node.get("permalink") or None,
            text=caption,
            created_at=parse_time(node.get("timestamp")) or self._clock(),
        )

    async def _media(self, *, limit: int) -> list[PublishedPost]:
        answer = await self._graph.get(
            f"/{self._user}/media",
            action="read media",
            params={"fields": MEDIA_FIELDS, "limit": str(limit)},
        )
        return [_post(item) for item in answer.get("data") or [] if isinstance(item, dict)]

    async def _find_media(self, caption: str, *, since: datetime | None) -> PublishedPost | None:
        wanted = normalise_text(caption)
        candidates = [
            media
            for media in await self._media(limit=50)
            if normalise_text(media.text or "") == wanted
            and (since is None or media.created_at is None or media.created_at >= since)
        ]
        return candidates[-1] if candidates else None  # the oldest: the list is newest first


def _media_fields(url: str, *, carousel: bool) -> dict[str, str]:
    if url.lower().split("?", 1)[0].endswith(VIDEO_SUFFIXES):
        return {"media_type": "VIDEO" if carousel else "REELS", "video_url": url}
    return {"image_url": url}


def _post(item: Mapping[str, Any]) -> PublishedPost:
    return PublishedPost(
        post_id=str(item.get("id", "")),
        permalink=item.get("permalink") or None,
        text=str(item.get("caption", "")),
        created_at=parse_time(item.get("timestamp")),
    )
