"""The one Protocol every social-network client implements, and the errors they raise.

The outbox (handlers/publishing.py) only speaks this language: it never sees tweepy, aiohttp or a
platform's JSON. Errors are mapped to the few kinds the outbox can act on (PLATFORMS.md):

- ``RETRYABLE``: 5xx, a timeout before the request was sent, 429 (with ``retry_at``);
- ``PERMANENT``: a 4xx with the platform's message (e.g. X's duplicate-content 403);
- ``AMBIGUOUS``: the request may have gone through (timeout after sending, connection reset while
  waiting for the answer): never resent blindly, reconciled instead;
- ``AUTH``: the credentials were refused (401, revoked token) — also a hijack signal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from workflows.checks.model import Platform
from workflows.errors import PostgateError


class ErrorKind(StrEnum):
    RETRYABLE = "retryable"
    PERMANENT = "permanent"
    AMBIGUOUS = "ambiguous"
    AUTH = "auth"


class SnsError(PostgateError):
    """A platform call failed; ``kind`` says what the outbox may do next."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        platform: Platform,
        status: int | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        self.kind = kind
        self.platform = platform
        self.status = status
        self.retry_at = retry_at
        self.platform_message = message
        super().__init__(kind, message)

    def __str__(self) -> str:
        status = f" HTTP {self.status}" if self.status else ""
        return f"{self.platform.value}{status}: {self.platform_message}"


@dataclass(frozen=True, slots=True)
class PostRequest:
    """One post to one account, exactly as approved."""

    text: str
    media: tuple[str, ...] = ()  # public URLs of images or videos
    # Unique per publication, fixed before the first attempt (LINE's X-Line-Retry-Key, ...).
    idempotency_key: str = ""


@dataclass(frozen=True, slots=True)
class PublishedPost:
    post_id: str
    permalink: str | None = None
    text: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """What the platform shows about the account (a change may mean a hijack)."""

    account_id: str
    name: str
    handle: str
    description: str = ""
    url: str = ""
    image_url: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


class Outcome(StrEnum):
    PUBLISHED = "published"  # the platform has the post: here it is
    NOT_PUBLISHED = "not_published"  # certainly not there: safe to send
    UNDECIDED = "undecided"  # cannot tell: a person must look (needs_review)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    outcome: Outcome
    post: PublishedPost | None = None
    reason: str = ""


# Called by a client with the material that makes a retry safe, before the irreversible call
# (Instagram: the container id before media_publish); the outbox commits it first.
Checkpoint = Callable[[Mapping[str, str]], Awaitable[None]]


class SnsClient(Protocol):
    """Publishing and reading for one managed account."""

    platform: Platform

    async def publish(
        self, post: PostRequest, *, material: Mapping[str, str], checkpoint: Checkpoint
    ) -> PublishedPost:
        """Send the post. ``material`` is what earlier attempts checkpointed (may be empty)."""
        ...

    async def reconcile(
        self, post: PostRequest, *, material: Mapping[str, str], sent_after: datetime
    ) -> Reconciliation:
        """After a crash or an ambiguous error: is the post on the platform?"""
        ...

    async def delete(self, post_id: str) -> None: ...

    async def recent_posts(self, *, limit: int = 20) -> list[PublishedPost]: ...

    async def profile(self) -> Profile: ...

    async def close(self) -> None: ...
