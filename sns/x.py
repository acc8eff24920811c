"""X (Twitter) for one account: tweepy ``Client`` for posts and reads, aiohttp for media upload.

- tweepy is synchronous (requests): every call runs in a worker thread, so the event loop is never
  blocked; ``wait_on_rate_limit`` stays off (it sleeps in the thread and can loop): a 429 becomes a
  RETRYABLE ``SnsError`` with ``retry_at`` from ``x-rate-limit-reset`` and the outbox reschedules.
- tweepy hard-codes ``https://api.twitter.com``. A transport adapter mounted on ``client.session``
  sends its requests to ``POSTGATE_X_API_URL`` instead (corporate proxy, test fake) and gives every
  request a timeout (tweepy sets none). The OAuth signature still covers the public host.
- tweepy has no v2 media upload: images are downloaded and sent to ``POST /2/media/upload``
  (``POSTGATE_X_UPLOAD_URL``), OAuth 1.0a signed with oauthlib; then ``create_tweet(media_ids=…)``.
  Videos (chunked upload) are not supported yet.
- X has no idempotency key: after an AMBIGUOUS error, ``reconcile`` reads the account's tweets since
  the send time and matches the text (X shortens URLs to t.co and escapes ``&<>``, so URLs are
  left out of the comparison). A read that fails (5xx, timeout, no connection, 429, refused
  credentials) raises that ``SnsError``: the outbox reconciles again later.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import requests
import tweepy
import urllib3.exceptions
from oauthlib.oauth1 import Client as OAuth1Client  # type: ignore[import-untyped]
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

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
    normalise_text,
    parse_time,
    require_credentials,
    utcnow,
    without_urls,
)
from workflows.checks.model import Platform

log = logging.getLogger(__name__)

DEFAULT_X_API_URL = "https://api.twitter.com"
DEFAULT_X_UPLOAD_URL = "https://api.x.com"
TWEEPY_HOST = "https://api.twitter.com"  # hard-coded in tweepy.client.BaseClient.request
X_CREDENTIALS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")

MAX_IMAGES = 4
MAX_IMAGE_BYTES = 5_000_000
IMAGE_CATEGORIES = {
    "image/jpeg": "tweet_image",
    "image/png": "tweet_image",
    "image/webp": "tweet_image",
    "image/gif": "tweet_gif",
}
USER_FIELDS = ["name", "username", "description", "url", "profile_image_url"]
_MAX_PAGES = 5  # of 100 tweets each, when reconciling or listing
# A reconciliation whose read fails this way raises: the outbox asks again later (the row stays
# ``sending``); one transient 503 must not send a post to a person.
_READ_AGAIN_LATER = frozenset({ErrorKind.RETRYABLE, ErrorKind.AUTH})

# At DEBUG, requests-oauthlib and oauthlib log the signed Authorization header (with the access
# token) and tweepy logs whole request and response bodies (whatever X echoes back): those
# loggers are kept at WARNING whatever the application's level. sns.common logs each call.
_CREDENTIAL_LOGGERS = ("oauthlib", "requests_oauthlib", "tweepy")


class BaseUrlAdapter(HTTPAdapter):
    """Sends tweepy's requests to another base URL (scheme, host, port, path prefix) with a timeout.

    Mounted on ``client.session`` for ``https://api.twitter.com``; the request is already signed
    when it gets here, so only the transport destination changes.
    """

    def __init__(self, base_url: str, *, timeout: float) -> None:
        super().__init__(max_retries=0)
        self._base = urlsplit(base_url)
        self._timeout = timeout

    def rewrite(self, url: str) -> str:
        original = urlsplit(url)
        return urlunsplit(
            (
                self._base.scheme,
                self._base.netloc,
                self._base.path.rstrip("/") + original.path,
                original.query,
                "",
            )
        )

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        request.url = self.rewrite(request.url or "")
        # requests chose the proxy (HTTPS_PROXY, NO_PROXY) for api.twitter.com; choose it again
        # for where the request really goes.
        kwargs["proxies"] = get_environ_proxies(request.url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class XClient:
    """Publishing and reading for one X account (OAuth 1.0a user context)."""

    platform: Platform = Platform.X

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        handle: str = "",
        api_url: str = DEFAULT_X_API_URL,
        upload_url: str = DEFAULT_X_UPLOAD_URL,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Clock = utcnow,
    ) -> None:
        creds = require_credentials(Platform.X, credentials, X_CREDENTIALS)
        api_url = check_base_url("POSTGATE_X_API_URL", api_url)
        self._upload_url = check_base_url("POSTGATE_X_UPLOAD_URL", upload_url) + "/2/media/upload"
        self._handle = handle.lstrip("@")
        self._clock = clock
        self._redact = Redactor(creds.values())
        self._http = HttpTransport(platform=Platform.X, timeout=timeout, redact=self._redact)
        for name in _CREDENTIAL_LOGGERS:
            logger = logging.getLogger(name)
            if logger.level < logging.WARNING:
                logger.setLevel(logging.WARNING)
        self._tweepy = tweepy.Client(
            consumer_key=creds["consumer_key"],
            consumer_secret=creds["consumer_secret"],
            access_token=creds["access_token"],
            access_token_secret=creds["access_token_secret"],
            return_type=dict,
            wait_on_rate_limit=False,
        )
        self._tweepy.session.mount(TWEEPY_HOST, BaseUrlAdapter(api_url, timeout=timeout))
        self._signer = OAuth1Client(
            creds["consumer_key"],
            client_secret=creds["consumer_secret"],
            resource_owner_key=creds["access_token"],
            resource_owner_secret=creds["access_token_secret"],
        )
        self._me: tuple[str, str] | None = None  # (user id, username)

    # -- SnsClient ----------------------------------------------------------------------------

    async def publish(
        self, post: PostRequest, *, material: Mapping[str, str], checkpoint: Checkpoint
    ) -> PublishedPost:
        if len(post.media) > MAX_IMAGES:
            raise self._http.error(
                ErrorKind.PERMANENT,
                f"X に添付できる画像は{MAX_IMAGES}枚までです / "
                f"X allows at most {MAX_IMAGES} images",
            )
        _, username = await self._whoami()  # before anything is sent: an auth problem shows here
        media_ids = [await self._upload(url) for url in post.media]
        text = post.text
        answer = await self._call(
            "create tweet",
            lambda: self._tweepy.create_tweet(
                text=text, media_ids=media_ids or None, user_auth=True
            ),
            mutating=True,
        )
        tweet = _data(answer)
        post_id = str(tweet.get("id", ""))
        if not post_id:
            raise self._http.error(
                ErrorKind.AMBIGUOUS, "create tweet: X answered without a tweet id"
            )
        return PublishedPost(
            post_id=post_id,
            permalink=self._permalink(username, post_id),
            text=post.text,
            created_at=self._clock(),
        )

    async def reconcile(
        self, post: PostRequest, *, material: Mapping[str, str], sent_after: datetime
    ) -> Reconciliation:
        wanted = _comparable(post.text)
        if not wanted:
            return Reconciliation(
                Outcome.UNDECIDED,
                reason="the post is only URLs, which X rewrites: it cannot be matched on the "
                "timeline; check the account",
            )
        try:
            user_id, _ = await self._whoami()
            tweets = await self._timeline(user_id, since=sent_after - CLOCK_SKEW, limit=None)
        except SnsError as exc:
            if exc.kind in _READ_AGAIN_LATER:
                raise  # a 5xx, a timeout, no connection, a 429, refused credentials: ask later
            return Reconciliation(Outcome.UNDECIDED, reason=f"could not read the timeline: {exc}")
        matches = [t for t in tweets if _comparable(t.text or "") == wanted]
        if not matches:
            return Reconciliation(
                Outcome.NOT_PUBLISHED,
                reason=f"no tweet with this text among {len(tweets)} since "
                f"{sent_after.isoformat()}",
            )
        found = min(matches, key=lambda t: t.created_at or sent_after)
        return Reconciliation(Outcome.PUBLISHED, post=found, reason="found on the timeline")

    async def delete(self, post_id: str) -> None:
        answer = await self._call(
            "delete tweet",
            lambda: self._tweepy.delete_tweet(post_id, user_auth=True),
            mutating=False,
        )
        if _data(answer).get("deleted") is not True:
            raise self._http.error(ErrorKind.PERMANENT, f"X did not delete tweet {post_id}")

    async def recent_posts(self, *, limit: int = 20) -> list[PublishedPost]:
        if limit <= 0:
            return []
        user_id, _ = await self._whoami()
        return await self._timeline(user_id, since=None, limit=limit)

    async def profile(self) -> Profile:
        answer = await self._call(
            "read profile",
            lambda: self._tweepy.get_me(user_fields=USER_FIELDS, user_auth=True),
            mutating=False,
        )
        user = _data(answer)
        self._me = (str(user.get("id", "")), str(user.get("username", "")))
        return Profile(
            account_id=str(user.get("id", "")),
            name=str(user.get("name", "")),
            handle=str(user.get("username", "")),
            description=str(user.get("description", "")),
            url=str(user.get("url", "")),
            image_url=str(user.get("profile_image_url", "")),
        )

    async def close(self) -> None:
        await self._http.close()
        await asyncio.to_thread(self._tweepy.session.close)

    # -- internals ----------------------------------------------------------------------------

    async def _whoami(self) -> tuple[str, str]:
        if self._me is None:
            answer = await self._call(
                "read account", lambda: self._tweepy.get_me(user_auth=True), mutating=False
            )
            user = _data(answer)
            self._me = (str(user.get("id", "")), str(user.get("username", "")))
        return self._me

    def _permalink(self, username: str, post_id: str) -> str:
        username = username or self._handle
        if username:
            return f"https://x.com/{username}/status/{post_id}"
        return f"https://x.com/i/status/{post_id}"

    async def _timeline(
        self, user_id: str, *, since: datetime | None, limit: int | None
    ) -> list[PublishedPost]:
        """The account's tweets, newest first: since a time (reconcile) or the latest ``limit``.

        Texts are as X shows them (URLs as t.co links), with X's ``&amp;``-style escaping undone.
        """
        _, username = self._me or ("", "")
        found: list[PublishedPost] = []
        token: str | None = None
        for _page in range(_MAX_PAGES):
            params: dict[str, Any] = {
                "max_results": 100 if limit is None else max(5, min(100, limit - len(found))),
                "tweet_fields": ["created_at"],
                "user_auth": True,
            }
            if since is not None:
                # X refuses a start_time less than 10 s before the request.
                latest = self._clock() - timedelta(seconds=30)
                params["start_time"] = min(since, latest).astimezone(UTC)
            if token:
                params["pagination_token"] = token
            answer = await self._call(
                "read timeline",
                functools.partial(self._tweepy.get_users_tweets, user_id, **params),
                mutating=False,
            )
            for tweet in answer.get("data") or []:
                post_id = str(tweet.get("id", ""))
                found.append(
                    PublishedPost(
                        post_id=post_id,
                        permalink=self._permalink(username, post_id),
                        text=html.unescape(str(tweet.get("text", ""))),
                        created_at=parse_time(tweet.get("created_at")),
                    )
                )
            token = (answer.get("meta") or {}).get("next_token")
            if not token or (limit is not None and len(found) >= limit):
                break
        return found if limit is None else found[:limit]

    async def _call(
        self, action: str, call: Callable[[], Any], *, mutating: bool
    ) -> dict[str, Any]:
        """Run one tweepy call in a worker thread and map its failures to ``SnsError``."""
        try:
            answer = await asyncio.to_thread(call)
        except tweepy.TooManyRequests as exc:
            reset = exc.reset_time
            raise self._error_from(
                ErrorKind.RETRYABLE,
                action,
                exc,
                retry_at=datetime.fromtimestamp(reset, UTC) if reset else None,
            ) from None
        except tweepy.TwitterServerError as exc:
            raise self._error_from(ErrorKind.RETRYABLE, action, exc) from None
        except tweepy.Unauthorized as exc:
            raise self._error_from(ErrorKind.AUTH, action, exc) from None
        except tweepy.HTTPException as exc:  # 403 duplicate content and every other 4xx
            raise self._error_from(ErrorKind.PERMANENT, action, exc) from None
        except requests.ConnectTimeout:
            raise self._http.error(ErrorKind.RETRYABLE, f"{action}: could not connect") from None
        except requests.ConnectionError as exc:
            if _before_sending(exc):
                raise self._http.error(
                    ErrorKind.RETRYABLE, f"{action}: could not connect"
                ) from None
            raise self._after_sending(action, type(exc).__name__, mutating) from None
        except requests.RequestException as exc:  # ReadTimeout, a broken answer
            raise self._after_sending(action, type(exc).__name__, mutating) from None
        except tweepy.TweepyException as exc:
            raise self._http.error(ErrorKind.PERMANENT, f"{action}: {exc}") from None
        return cast(dict[str, Any], answer) if isinstance(answer, dict) else {}

    def _after_sending(self, action: str, reason: str, mutating: bool) -> SnsError:
        if mutating:
            return self._http.error(
                ErrorKind.AMBIGUOUS,
                f"{action}: no answer after sending ({reason}); X may have accepted it",
            )
        return self._http.error(ErrorKind.RETRYABLE, f"{action}: no answer ({reason})")

    def _error_from(
        self,
        kind: ErrorKind,
        action: str,
        exc: tweepy.HTTPException,
        *,
        retry_at: datetime | None = None,
    ) -> SnsError:
        status = int(exc.response.status_code)
        messages = [str(m) for m in exc.api_messages if m]
        message = "; ".join(messages) or f"{action}: HTTP {status}"
        return self._http.error(kind, message, status=status, retry_at=retry_at)

    async def _upload(self, url: str) -> str:
        """Download one image and upload it to ``POST /2/media/upload``; returns the media id."""
        body, content_type = await self._http.download(
            url, max_bytes=MAX_IMAGE_BYTES, allowed_types=IMAGE_CATEGORIES
        )
        form = aiohttp.FormData()
        form.add_field("media", body, filename="media", content_type=content_type)
        form.add_field("media_category", IMAGE_CATEGORIES[content_type])
        form.add_field("media_type", content_type)
        # A multipart body is not part of an OAuth 1.0a signature: only the URL and oauth_* are.
        _, headers, _ = self._signer.sign(self._upload_url, http_method="POST")
        result = await self._http.request(
            "POST",
            self._upload_url,
            action="upload media",
            mutating=False,  # an upload nobody uses expires: resending it is harmless
            data=form,
            headers={"Authorization": headers["Authorization"]},
        )
        if not result.ok:
            raise self._upload_error(result)
        data = result.json_object().get("data") or {}
        media_id = data.get("id") or result.json_object().get("media_id_string")
        if not media_id:
            raise self._http.error(
                ErrorKind.RETRYABLE, "upload media: X answered without a media id"
            )
        return str(media_id)

    def _upload_error(self, result: HttpResult) -> SnsError:
        body = result.json_object()
        messages = [str(e.get("message")) for e in body.get("errors", []) if isinstance(e, dict)]
        message = body.get("detail") or "; ".join(messages) or f"upload media: {result.text}"
        status = result.status
        if status == 429:
            reset = result.headers.get("x-rate-limit-reset", "")
            retry_at = datetime.fromtimestamp(int(reset), UTC) if reset.isdigit() else None
            return self._http.error(ErrorKind.RETRYABLE, message, status=status, retry_at=retry_at)
        if status >= 500:
            return self._http.error(ErrorKind.RETRYABLE, message, status=status)
        if status == 401:
            return self._http.error(ErrorKind.AUTH, message, status=status)
        return self._http.error(ErrorKind.PERMANENT, message, status=status)


def _data(answer: Mapping[str, Any]) -> dict[str, Any]:
    data = answer.get("data")
    return cast(dict[str, Any], data) if isinstance(data, dict) else {}


def _comparable(text: str) -> str:
    """A tweet's text (unescaped) and the text postgate sent, reduced to what both keep."""
    return normalise_text(without_urls(text))


def _before_sending(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made (refused, DNS, proxy, TLS): nothing was sent."""
    if isinstance(exc, requests.exceptions.ProxyError | requests.exceptions.SSLError):
        return True
    reason = exc.args[0] if exc.args else None
    return isinstance(reason, urllib3.exceptions.MaxRetryError) and isinstance(
        reason.reason, urllib3.exceptions.NewConnectionError
    )
