"""LINE Official Account broadcasts over the Messaging API (aiohttp).

- ``POST /v2/bot/message/broadcast`` with ``X-Line-Retry-Key: <post.idempotency_key>`` (a UUID).
  The same key within 24 h is not delivered again: LINE answers 409 with
  ``x-line-accepted-request-id``, which means "already sent" — a success. So a retry is safe, and
  ``reconcile`` simply sends again with the same key.
- The text is split into messages of at most 5,000 characters (at line breaks where possible);
  images follow as image messages (https only); at most 5 messages in all.
- LINE has no permalink, no readable timeline, and a broadcast cannot be withdrawn.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

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
    DEFAULT_TIMEOUT,
    Clock,
    HttpResult,
    HttpTransport,
    Redactor,
    check_base_url,
    require_credentials,
    retry_after,
    utcnow,
)
from workflows.checks.model import Platform

log = logging.getLogger(__name__)

DEFAULT_LINE_API_URL = "https://api.line.me"
LINE_CREDENTIALS = ("channel_access_token",)
MAX_MESSAGES = 5
MAX_TEXT = 5000  # per text message, counted in UTF-16 code units as LINE does
MAX_URL = 2000
# Keys older than this are forgotten by LINE (24 h): resending could deliver a second time.
RETRY_KEY_LIFETIME = timedelta(hours=23)
JST = ZoneInfo("Asia/Tokyo")

CANNOT_DELETE = (
    "LINE の一斉配信は取り消せません。訂正が必要な場合は訂正のメッセージを配信してください。 / "
    "A LINE broadcast cannot be withdrawn: send a correction instead."
)


class LineClient:
    """Broadcasting for one LINE Official Account (a long-lived channel access token)."""

    platform: Platform = Platform.LINE

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        handle: str = "",
        api_url: str = DEFAULT_LINE_API_URL,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Clock = utcnow,
    ) -> None:
        creds = require_credentials(Platform.LINE, credentials, LINE_CREDENTIALS)
        self._token = creds["channel_access_token"]
        self._base = check_base_url("POSTGATE_LINE_API_URL", api_url)
        self._handle = handle
        self._clock = clock
        self._http = HttpTransport(
            platform=Platform.LINE, timeout=timeout, redact=Redactor([self._token])
        )

    async def publish(
        self, post: PostRequest, *, material: Mapping[str, str], checkpoint: Checkpoint
    ) -> PublishedPost:
        retry_key = _retry_key(post)
        messages = self._messages(post)
        return await self._broadcast(messages, retry_key, post.text)

    async def reconcile(
        self, post: PostRequest, *, material: Mapping[str, str], sent_after: datetime
    ) -> Reconciliation:
        retry_key = _retry_key(post)
        if self._clock() - sent_after > RETRY_KEY_LIFETIME:
            return Reconciliation(
                Outcome.UNDECIDED,
                reason="the retry key is older than LINE keeps it (24 h): sending again could "
                "deliver the message twice; check the LINE Official Account Manager",
            )
        try:
            published = await self._broadcast(self._messages(post), retry_key, post.text)
        except SnsError as exc:
            return Reconciliation(
                Outcome.UNDECIDED, reason=f"resending with the same retry key failed: {exc}"
            )
        return Reconciliation(
            Outcome.PUBLISHED, post=published, reason="LINE has the broadcast for this retry key"
        )

    async def delete(self, post_id: str) -> None:
        raise self._http.error(ErrorKind.PERMANENT, CANNOT_DELETE)

    async def recent_posts(self, *, limit: int = 20) -> list[PublishedPost]:
        return []  # the Messaging API cannot read what was broadcast

    async def profile(self) -> Profile:
        result = await self._http.request(
            "GET",
            f"{self._base}/v2/bot/info",
            action="read bot info",
            mutating=False,
            headers=self._auth(),
        )
        if not result.ok:
            raise self._error(result, "read bot info")
        info = result.json_object()
        return Profile(
            account_id=str(info.get("userId", "")),
            name=str(info.get("displayName", "")),
            handle=str(info.get("premiumId") or info.get("basicId") or self._handle),
            image_url=str(info.get("pictureUrl", "")),
            extra={
                key: info[key]
                for key in ("basicId", "premiumId", "chatMode", "markAsReadMode")
                if key in info
            },
        )

    async def close(self) -> None:
        await self._http.close()

    # -- internals ----------------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def _messages(self, post: PostRequest) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = [
            {"type": "text", "text": chunk} for chunk in split_text(post.text)
        ]
        for url in post.media:
            if urlsplit(url).scheme != "https" or len(url) > MAX_URL:
                raise self._http.error(
                    ErrorKind.PERMANENT,
                    f"LINE の画像は https の URL が必要です / LINE images need an https URL of at "
                    f"most {MAX_URL} characters: {url}",
                )
            messages.append({"type": "image", "originalContentUrl": url, "previewImageUrl": url})
        if not messages:
            raise self._http.error(ErrorKind.PERMANENT, "空の投稿です / the post is empty")
        if len(messages) > MAX_MESSAGES:
            raise self._http.error(
                ErrorKind.PERMANENT,
                f"LINE で一度に送れるのは{MAX_MESSAGES}通までです（本文{MAX_TEXT}文字ごとに1通、"
                f"画像1枚ごとに1通） / LINE sends at most {MAX_MESSAGES} messages at once "
                f"(one per {MAX_TEXT} characters of text, one per image): this post needs "
                f"{len(messages)}",
            )
        return messages

    async def _broadcast(
        self, messages: list[dict[str, Any]], retry_key: str, text: str
    ) -> PublishedPost:
        result = await self._http.request(
            "POST",
            f"{self._base}/v2/bot/message/broadcast",
            action="broadcast",
            mutating=True,
            json_body={"messages": messages},
            headers={**self._auth(), "X-Line-Retry-Key": retry_key},
        )
        if result.status == 200:
            request_id = result.headers.get("x-line-request-id") or retry_key
        elif result.status == 409:  # this retry key was accepted before: it is delivered
            request_id = (
                result.headers.get("x-line-accepted-request-id")
                or result.headers.get("x-line-request-id")
                or retry_key
            )
        else:
            raise self._error(result, "broadcast")
        return PublishedPost(
            post_id=request_id, permalink=None, text=text, created_at=self._clock()
        )

    def _error(self, result: HttpResult, action: str) -> SnsError:
        body = result.json_object()
        message = str(body.get("message") or f"{action}: {result.text}")
        details = [
            f"{d.get('property', '')}: {d.get('message', '')}".strip(": ")
            for d in body.get("details") or []
            if isinstance(d, dict)
        ]
        if details:
            message += " (" + "; ".join(details) + ")"
        status = result.status
        if status == 401:
            return self._http.error(ErrorKind.AUTH, message, status=status)
        if status == 429:
            now = self._clock()
            retry_at = retry_after(result.headers, now)
            if "monthly limit" in message.lower():
                retry_at = _next_month(now)
            return self._http.error(ErrorKind.RETRYABLE, message, status=status, retry_at=retry_at)
        if status >= 500:
            return self._http.error(ErrorKind.RETRYABLE, message, status=status)
        return self._http.error(ErrorKind.PERMANENT, message, status=status)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a text into pieces of at most ``limit`` UTF-16 units, at line breaks if possible.

    A text that fits is sent exactly as approved; only the cuts of a longer one are trimmed.
    """
    if not text.strip():
        return []
    if _utf16_len(text) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if _utf16_len(rest) <= limit:
            pieces.append(rest)
            break
        cut = _fit(rest, limit)
        newline = rest.rfind("\n", 0, cut)
        if newline > cut // 2:
            cut = newline
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    return pieces


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """The longest prefix (in code points) that is at most ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _retry_key(post: PostRequest) -> str:
    """The post's idempotency key as LINE wants it; anything else is a bug in the caller."""
    try:
        return str(uuid.UUID(post.idempotency_key))
    except ValueError:
        raise ValueError(
            "LINE needs PostRequest.idempotency_key to be a UUID (X-Line-Retry-Key), "
            f"got {post.idempotency_key!r}"
        ) from None


def _next_month(now: datetime) -> datetime:
    """LINE's message quota resets at the start of the month, Japan time."""
    local = now.astimezone(JST)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=JST)
