"""Facebook Page posts over the Graph API (aiohttp), and the Graph plumbing Instagram shares.

- Every call carries ``appsecret_proof`` = HMAC-SHA256(app secret, access token), hex. The token
  goes in the ``Authorization: Bearer`` header, so neither it nor the proof is ever in a URL path
  that could be logged; the proof is a body field on POST and a query field otherwise.
- ``POST /{page-id}/feed`` (``message``; a text with exactly one URL also sends it as ``link``),
  ``POST /{page-id}/photos`` (``url``, ``caption``) for one image, and for several images
  unpublished photos attached to one feed post (``attached_media``). Videos are not supported yet.
- The Graph API has no idempotency key. ``reconcile`` reads ``/{page-id}/posts`` since the send
  time and matches the message; a post not found there is UNDECIDED, never NOT_PUBLISHED: the feed
  may lag, so a person decides (PLATFORMS.md: an undecidable Facebook outcome → needs_review).
  A read that fails (5xx, timeout, no connection, rate limit, refused token) is no answer at all:
  it raises that ``SnsError`` and the outbox reconciles again later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
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
    HttpResult,
    HttpTransport,
    Redactor,
    check_base_url,
    find_urls,
    normalise_text,
    parse_time,
    require_credentials,
    retry_after,
    utcnow,
)
from workflows.checks.model import Platform

log = logging.getLogger(__name__)

DEFAULT_GRAPH_API_URL = "https://graph.facebook.com/v21.0"
FACEBOOK_CREDENTIALS = ("page_id", "page_access_token", "app_secret")

AUTH_CODES = frozenset({102, 190})
# 4 app, 17 user, 32 page, 613 custom; 80001-80014 business use case limits.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
IG_PUBLISH_LIMIT_SUBCODE = 2207042  # "maximum number of posts" (50 per 24 h)
IG_NOT_READY = (9007, 2207027)  # the container is not finished yet
POST_FIELDS = "id,message,created_time,permalink_url"
# A reconciliation whose read fails this way raises (Facebook and Instagram): the outbox asks
# again later and the row stays ``sending``; one transient 503 must not send a post to a person.
READ_AGAIN_LATER = frozenset({ErrorKind.RETRYABLE, ErrorKind.AUTH})
_MAX_PAGES = 3


def appsecret_proof(app_secret: str, access_token: str) -> str:
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


class GraphApi:
    """Graph API calls with one access token: proof on every call, errors mapped to kinds."""

    def __init__(
        self,
        *,
        platform: Platform,
        base_url: str,
        access_token: str,
        app_secret: str,
        timeout: float,
        clock: Clock,
        redact: Redactor,
    ) -> None:
        self._base = check_base_url("POSTGATE_GRAPH_API_URL", base_url)
        self._token = access_token
        self._proof = appsecret_proof(app_secret, access_token)
        redact.add(self._proof)
        self._clock = clock
        self.http = HttpTransport(platform=platform, timeout=timeout, redact=redact)

    async def get(
        self, path: str, *, action: str, params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        return await self._send("GET", path, action=action, mutating=False, params=params)

    async def post(
        self, path: str, *, action: str, data: Mapping[str, str], mutating: bool
    ) -> dict[str, Any]:
        return await self._send("POST", path, action=action, mutating=mutating, data=data)

    async def delete(self, path: str, *, action: str) -> dict[str, Any]:
        return await self._send("DELETE", path, action=action, mutating=False)

    async def close(self) -> None:
        await self.http.close()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        action: str,
        mutating: bool,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        proof = {"appsecret_proof": self._proof}
        result = await self.http.request(
            method,
            self._base + path,
            action=action,
            mutating=mutating,
            params={**(params or {}), **proof} if method != "POST" else None,
            data={**(data or {}), **proof} if method == "POST" else None,
            headers={"Authorization": f"Bearer {self._token}"},
        )
        if not result.ok:
            raise self.error(result, action)
        return result.json_object()

    def error(self, result: HttpResult, action: str) -> SnsError:
        """Map a Graph error answer (``{"error": {"code", "error_subcode", "message"}}``)."""
        error = result.json_object().get("error")
        error = error if isinstance(error, dict) else {}
        code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
        message = str(
            error.get("error_user_msg") or error.get("message") or f"{action}: {result.text}"
        )
        if code is not None:
            message += f" (code {code}" + (f"/{subcode}" if subcode else "") + ")"
        status = result.status

        def kind(kind: ErrorKind, retry_at: datetime | None = None) -> SnsError:
            return self.http.error(kind, message, status=status, retry_at=retry_at)

        if status == 401 or code in AUTH_CODES:
            return kind(ErrorKind.AUTH)
        if status == 429 or code in RATE_LIMIT_CODES or subcode == IG_PUBLISH_LIMIT_SUBCODE:
            return kind(ErrorKind.RETRYABLE, self._regain_access(result))
        if (
            status >= 500
            or error.get("is_transient") is True
            or code in TRANSIENT_CODES
            or (code, subcode) == IG_NOT_READY
        ):
            return kind(ErrorKind.RETRYABLE)
        return kind(ErrorKind.PERMANENT)

    def _regain_access(self, result: HttpResult) -> datetime | None:
        """When a rate-limited app may call again, if the platform says so."""
        now = self._clock()
        minutes = 0
        for header in ("X-Business-Use-Case-Usage", "X-Ad-Account-Usage"):
            try:
                usage = json.loads(result.headers.get(header, "") or "null")
            except ValueError:
                continue
            for entry in _usage_entries(usage):
                minutes = max(minutes, _int(entry.get("estimated_time_to_regain_access")) or 0)
        if minutes > 0:
            return now + timedelta(minutes=minutes)
        return retry_after(result.headers, now)


class FacebookClient:
    """Publishing and reading for one Facebook Page (a Page access token)."""

    platform: Platform = Platform.FACEBOOK

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        handle: str = "",
        api_url: str = DEFAULT_GRAPH_API_URL,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Clock = utcnow,
    ) -> None:
        creds = require_credentials(Platform.FACEBOOK, credentials, FACEBOOK_CREDENTIALS)
        self._page = creds["page_id"]
        self._handle = handle.lstrip("@")
        self._clock = clock
        redact = Redactor([creds["page_access_token"], creds["app_secret"]])
        self._graph = GraphApi(
            platform=Platform.FACEBOOK,
            base_url=api_url,
            access_token=creds["page_access_token"],
            app_secret=creds["app_secret"],
            timeout=timeout,
            clock=clock,
            redact=redact,
        )

    async def publish(
        self, post: PostRequest, *, material: Mapping[str, str], checkpoint: Checkpoint
    ) -> PublishedPost:
        if not post.text.strip() and not post.media:
            raise self._graph.http.error(ErrorKind.PERMANENT, "空の投稿です / the post is empty")
        if not post.media:
            data = {"message": post.text}
            urls = find_urls(post.text)
            if len(urls) == 1:
                data["link"] = urls[0]
            answer = await self._graph.post(
                f"/{self._page}/feed", action="post to page", data=data, mutating=True
            )
            post_id = str(answer.get("id", ""))
        elif len(post.media) == 1:
            answer = await self._graph.post(
                f"/{self._page}/photos",
                action="post photo to page",
                data={"url": post.media[0], "caption": post.text},
                mutating=True,
            )
            post_id = str(answer.get("post_id") or answer.get("id") or "")
        else:
            photo_ids = [await self._unpublished_photo(url) for url in post.media]
            answer = await self._graph.post(
                f"/{self._page}/feed",
                action="post photos to page",
                data={
                    "message": post.text,
                    "attached_media": json.dumps([{"media_fbid": i} for i in photo_ids]),
                },
                mutating=True,
            )
            post_id = str(answer.get("id", ""))
        if not post_id:
            raise self._graph.http.error(
                ErrorKind.AMBIGUOUS, "post to page: the Graph API answered without a post id"
            )
        return await self._details(post_id, post.text)

    async def reconcile(
        self, post: PostRequest, *, material: Mapping[str, str], sent_after: datetime
    ) -> Reconciliation:
        wanted = normalise_text(post.text)
        try:
            posts = await self._posts(since=sent_after - CLOCK_SKEW, limit=None)
        except SnsError as exc:
            if exc.kind in READ_AGAIN_LATER:
                raise  # a 5xx, a timeout, no connection, a rate limit, a refused token: ask later
            return Reconciliation(
                Outcome.UNDECIDED, reason=f"could not read the page's posts: {exc}"
            )
        for found in reversed(posts):  # oldest first
            if normalise_text(found.text or "") == wanted:
                return Reconciliation(Outcome.PUBLISHED, post=found, reason="found on the page")
        return Reconciliation(
            Outcome.UNDECIDED,
            reason=f"not among the page's {len(posts)} posts since {sent_after.isoformat()}; "
            "the feed can lag, so this is no proof: check the page before sending again",
        )

    async def delete(self, post_id: str) -> None:
        answer = await self._graph.delete(f"/{post_id}", action="delete page post")
        if answer.get("success") is not True:
            raise self._graph.http.error(
                ErrorKind.PERMANENT, f"the Graph API did not delete {post_id}"
            )

    async def recent_posts(self, *, limit: int = 20) -> list[PublishedPost]:
        if limit <= 0:
            return []
        return await self._posts(since=None, limit=limit)

    async def profile(self) -> Profile:
        page = await self._graph.get(
            f"/{self._page}",
            action="read page",
            params={"fields": "id,name,username,about,website,link,picture"},
        )
        picture = (page.get("picture") or {}).get("data") or {}
        return Profile(
            account_id=str(page.get("id", self._page)),
            name=str(page.get("name", "")),
            handle=str(page.get("username") or self._handle or page.get("id", "")),
            description=str(page.get("about", "")),
            url=str(page.get("website", "")),
            image_url=str(picture.get("url", "")),
            extra={"link": str(page.get("link", ""))},
        )

    async def close(self) -> None:
        await self._graph.close()

    async def _unpublished_photo(self, url: str) -> str:
        # Unpublished photos are invisible until attached: creating one again is harmless.
        answer = await self._graph.post(
            f"/{self._page}/photos",
            action="upload photo",
            data={"url": url, "published": "false"},
            mutating=False,
        )
        photo_id = str(answer.get("id", ""))
        if not photo_id:
            raise self._graph.http.error(
                ErrorKind.RETRYABLE, "upload photo: the Graph API answered without an id"
            )
        return photo_id

    async def _details(self, post_id: str, text: str) -> PublishedPost:
        """The published post with its permalink; a failed read does not undo the publication."""
        try:
            node = await self._graph.get(
                f"/{post_id}",
                action="read page post",
                params={"fields": "permalink_url,created_time"},
            )
        except SnsError as exc:
            log.warning(
                "facebook post %s published; its permalink could not be read: %s", post_id, exc
            )
            node = {}
        return PublishedPost(
            post_id=post_id,
            permalink=str(node.get("permalink_url") or f"https://www.facebook.com/{post_id}"),
            text=text,
            created_at=parse_time(node.get("created_time")) or self._clock(),
        )

    async def _posts(self, *, since: datetime | None, limit: int | None) -> list[PublishedPost]:
        """The page's posts, newest first: since a time, or the latest ``limit``."""
        params = {"fields": POST_FIELDS, "limit": str(100 if limit is None else min(limit, 100))}
        if since is not None:
            params["since"] = str(int(since.timestamp()))
        found: list[PublishedPost] = []
        for _page in range(_MAX_PAGES):
            answer = await self._graph.get(
                f"/{self._page}/posts", action="read page posts", params=params
            )
            for item in answer.get("data") or []:
                if not isinstance(item, dict):
                    continue
                found.append(
                    PublishedPost(
                        post_id=str(item.get("id", "")),
                        permalink=item.get("permalink_url"),
                        text=str(item.get("message", "")),
                        created_at=parse_time(item.get("created_time")),
                    )
                )
            after = ((answer.get("paging") or {}).get("cursors") or {}).get("after")
            has_next = bool((answer.get("paging") or {}).get("next"))
            if not (after and has_next) or (limit is not None and len(found) >= limit):
                break
            params = {**params, "after": str(after)}
        return found if limit is None else found[:limit]


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _usage_entries(usage: object) -> list[dict[str, Any]]:
    """``{"<id>": [{...}, ...]}`` (business use case) or ``{...}`` (ad account) as a flat list."""
    if isinstance(usage, dict):
        if "estimated_time_to_regain_access" in usage:
            return [usage]
        return [e for v in usage.values() if isinstance(v, list) for e in v if isinstance(e, dict)]
    return []
