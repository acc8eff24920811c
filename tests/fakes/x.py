"""A fake X API v2 on 127.0.0.1: enough for tweepy's ``Client`` and the v2 media upload.

Endpoints: ``POST /2/tweets``, ``DELETE /2/tweets/:id``, ``GET /2/users/me``,
``GET /2/users/:id/tweets`` (``start_time``, ``max_results`` 5–100, ``pagination_token``,
``tweet.fields=created_at``), ``POST /2/media/upload`` (multipart ``media``, ``media_category``),
``GET /2/users/by`` (``usernames``, at most 100; ``user.fields``) and ``GET /2/users/:id/mentions``
(``start_time``, ``max_results`` 5–100, ``pagination_token``,
``tweet.fields=created_at,conversation_id,in_reply_to_user_id``).

Every request must carry a valid OAuth 1.0a signature (HMAC-SHA1) for the fake's credentials,
else 401. tweepy signs for its hard-coded host, so requests to ``/2/tweets`` and ``/2/users`` are
checked against ``https://api.twitter.com``; the media upload against this server's own URL.

Point a client at it: ``XClient(fake.credentials(), api_url=fake.url, upload_url=fake.url)``.
The credentials are fresh canary strings for each instance (``CANARY-x-…``): search logs for them.

State and switches (besides those of ``FakeServer``: ``fail_next``, ``hang_next``, ``delay_next``,
``serve``, ``requests``):

- ``posted``: tweets created through the API (the count of what was really posted);
  ``tweets``: the whole timeline, including ``add_tweet(text)`` — a post postgate never made;
  ``uploads``: media received (``data`` holds the bytes);
- ``user``: the profile ``/2/users/me`` answers (change it to simulate a hijacked profile);
- ``add_user(username, name, description=, verified=)``: another account on X, found by
  ``/2/users/by`` (a look-alike to detect, or an allow-listed one); ``others`` holds them;
- ``add_reply(text, to=tweet_id, created_at=)``: a reply to one of the account's tweets (its
  ``conversation_id`` is that tweet), or with ``to=None`` a plain mention; ``mentions`` holds them;
- ``reject_duplicates`` (default True): the same text twice → 403 duplicate content;
- ``revoked``: every call → 401 (a revoked token);
- ``rate_limit_next(reset_at=None, count=1, path=None, delay=0.0)``: 429 with ``x-rate-limit-*``.

Timeline texts look as X shows them: ``&<>`` escaped, every URL replaced by a t.co link, and a
t.co link appended for attached media.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web
from oauthlib.oauth1.rfc5849 import signature  # type: ignore[import-untyped]

from tests.fakes.server import FakeServer, Recorded, recorded

TWEEPY_HOST = "https://api.twitter.com"
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
_URL = re.compile(r"https?://\S+")


@dataclass
class FakeTweet:
    id: str
    text: str  # as submitted
    shown: str  # as X returns it
    created_at: datetime
    media_ids: tuple[str, ...] = ()
    via_api: bool = True
    deleted: bool = False


@dataclass
class FakeMention:
    id: str
    text: str
    created_at: datetime
    conversation_id: str
    author_id: str
    in_reply_to_user_id: str | None = None


@dataclass
class FakeUpload:
    media_id: str
    data: bytes
    content_type: str
    media_category: str
    form: dict[str, str] = field(default_factory=dict)


def x_time(value: datetime) -> str:
    """X's timestamp format: 2026-11-20T01:00:00.000Z."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class FakeX(FakeServer):
    def __init__(self) -> None:
        tag = secrets.token_hex(6)
        self.consumer_key = f"CANARY-x-consumer-key-{tag}"
        self.consumer_secret = f"CANARY-x-consumer-secret-{tag}"
        self.access_token = f"1500000000000000001-CANARY-x-access-token-{tag}"
        self.access_token_secret = f"CANARY-x-access-token-secret-{tag}"
        self.user: dict[str, str] = {
            "id": "1500000000000000001",
            "name": "みどり市",
            "username": "midori_city",
            "description": "みどり市の公式アカウントです。",
            "url": "https://www.city.midori.example.jp/",
            "profile_image_url": "https://pbs.twimg.com/profile_images/1/midori_normal.png",
        }
        self.tweets: list[FakeTweet] = []
        self.uploads: list[FakeUpload] = []
        self.others: list[dict[str, Any]] = []
        self.mentions: list[FakeMention] = []
        self.reject_duplicates = True
        self.revoked = False
        self._ids = itertools.count(1_860_000_000_000_000_001)
        super().__init__()

    def credentials(self) -> dict[str, str]:
        return {
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "access_token": self.access_token,
            "access_token_secret": self.access_token_secret,
        }

    @property
    def posted(self) -> list[FakeTweet]:
        return [t for t in self.tweets if t.via_api]

    def add_tweet(self, text: str, *, created_at: datetime | None = None) -> str:
        """Put a tweet on the timeline that did not come through the API (e.g. by a hijacker)."""
        tweet = FakeTweet(
            id=str(next(self._ids)),
            text=text,
            shown=_as_shown(text, has_media=False),
            created_at=created_at or self.clock(),
            via_api=False,
        )
        self.tweets.append(tweet)
        return tweet.id

    def add_user(
        self, username: str, name: str, *, description: str = "", verified: bool = False
    ) -> str:
        """Another account on X (not this one), found by ``GET /2/users/by``; its id."""
        user_id = str(next(self._ids))
        self.others.append(
            {
                "id": user_id,
                "username": username,
                "name": name,
                "description": description,
                "verified": verified,
                "url": "",
            }
        )
        return user_id

    def add_reply(
        self, text: str, *, to: str | None = None, created_at: datetime | None = None
    ) -> str:
        """A reply to the account's tweet ``to`` (or, without ``to``, a plain mention); its id."""
        mention_id = str(next(self._ids))
        conversation = to or mention_id
        for earlier in self.mentions:
            if earlier.id == to:
                conversation = earlier.conversation_id
        self.mentions.append(
            FakeMention(
                id=mention_id,
                text=text if text.startswith("@") else f"@{self.user['username']} {text}",
                created_at=created_at or self.clock(),
                conversation_id=conversation,
                author_id=str(next(self._ids)),
                in_reply_to_user_id=self.user["id"] if to else None,
            )
        )
        return mention_id

    def rate_limit_next(
        self,
        *,
        reset_at: datetime | None = None,
        count: int = 1,
        method: str | None = None,
        path: str | None = None,
        delay: float = 0.0,
    ) -> datetime:
        reset = (reset_at or self.clock() + timedelta(minutes=15)).replace(microsecond=0)
        self.fail_next(
            429,
            count=count,
            method=method,
            path=path,
            delay=delay,
            headers={
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(reset.timestamp())),
            },
        )
        return reset

    def error_body(self, status: int) -> Any:
        return _problem(status, _REASONS.get(status, "Error"))

    # -- routes -------------------------------------------------------------------------------

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/2/tweets", self._create_tweet)
        router.add_delete("/2/tweets/{id}", self._delete_tweet)
        router.add_get("/2/users/me", self._me)
        router.add_get("/2/users/by", self._users_by)
        router.add_get("/2/users/{id}/tweets", self._user_tweets)
        router.add_get("/2/users/{id}/mentions", self._user_mentions)
        router.add_post("/2/media/upload", self._upload)

    async def _create_tweet(self, request: web.Request) -> web.Response:
        rec = recorded(request)
        if (refused := self._refuse(rec)) is not None:
            return refused
        body = rec.json if isinstance(rec.json, dict) else {}
        text = str(body.get("text", ""))
        media_ids = tuple(str(m) for m in (body.get("media") or {}).get("media_ids", []))
        known = {u.media_id for u in self.uploads}
        if any(m not in known for m in media_ids):
            return _invalid("Your media IDs are invalid.")
        if not text and not media_ids:
            return _invalid("Tweet text is empty.")
        if self.reject_duplicates and any(t.text == text and not t.deleted for t in self.tweets):
            return web.json_response(
                {"detail": DUPLICATE, "type": "about:blank", "title": "Forbidden", "status": 403},
                status=403,
            )
        tweet = FakeTweet(
            id=str(next(self._ids)),
            text=text,
            shown=_as_shown(text, has_media=bool(media_ids)),
            created_at=self.clock(),
            media_ids=media_ids,
        )
        self.tweets.append(tweet)
        return web.json_response(
            {"data": {"id": tweet.id, "text": tweet.shown, "edit_history_tweet_ids": [tweet.id]}},
            status=201,
        )

    async def _delete_tweet(self, request: web.Request) -> web.Response:
        if (refused := self._refuse(recorded(request))) is not None:
            return refused
        for tweet in self.tweets:
            if tweet.id == request.match_info["id"] and not tweet.deleted:
                tweet.deleted = True
                return web.json_response({"data": {"deleted": True}})
        return web.json_response({"data": {"deleted": False}})

    async def _me(self, request: web.Request) -> web.Response:
        rec = recorded(request)
        if (refused := self._refuse(rec)) is not None:
            return refused
        fields = set((rec.query.get("user.fields") or "").split(","))
        user = {k: v for k, v in self.user.items() if k in {"id", "name", "username"} | fields}
        return web.json_response({"data": user})

    async def _user_tweets(self, request: web.Request) -> web.Response:
        rec = recorded(request)
        if (refused := self._refuse(rec)) is not None:
            return refused
        if request.match_info["id"] != self.user["id"]:
            return web.json_response(
                {"errors": [{"message": "Could not find user", "resource_type": "user"}]}
            )
        max_results = int(rec.query.get("max_results", "10"))
        if not 5 <= max_results <= 100:
            return _invalid("The `max_results` query parameter value is not between 5 and 100")
        start = rec.query.get("start_time")
        start_time = datetime.fromisoformat(start) if start else None
        if start_time is not None and start_time > self.clock() - timedelta(seconds=10):
            return _invalid(
                f"Invalid 'start_time':'{start}'. 'start_time' must be a minimum of 10 seconds "
                "prior to the request time."
            )
        fields = set((rec.query.get("tweet.fields") or "").split(","))
        visible = [
            t
            for t in reversed(self.tweets)
            if not t.deleted and (start_time is None or t.created_at >= start_time)
        ]
        offset = int(rec.query.get("pagination_token") or 0)
        page = visible[offset : offset + max_results]
        if not page:
            return web.json_response({"meta": {"result_count": 0}})
        data: list[dict[str, Any]] = []
        for tweet in page:
            item: dict[str, Any] = {
                "id": tweet.id,
                "text": tweet.shown,
                "edit_history_tweet_ids": [tweet.id],
            }
            if "created_at" in fields:
                item["created_at"] = x_time(tweet.created_at)
            data.append(item)
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
        }
        if offset + max_results < len(visible):
            meta["next_token"] = str(offset + max_results)
        return web.json_response({"data": data, "meta": meta})

    async def _users_by(self, request: web.Request) -> web.Response:
        rec = recorded(request)
        if (refused := self._refuse(rec)) is not None:
            return refused
        names = [n for n in (rec.query.get("usernames") or "").split(",") if n]
        if not 1 <= len(names) <= 100:
            return _invalid("The `usernames` query parameter needs 1 to 100 usernames")
        fields = set((rec.query.get("user.fields") or "").split(","))
        everyone = {u["username"].casefold(): u for u in [self.user, *self.others]}
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for name in names:
            user = everyone.get(name.casefold())
            if user is None:
                errors.append(
                    {
                        "value": name,
                        "detail": f"Could not find user with usernames: [{name}].",
                        "title": "Not Found Error",
                        "resource_type": "user",
                        "parameter": "usernames",
                        "resource_id": name,
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                )
            else:
                data.append(
                    {k: v for k, v in user.items() if k in {"id", "name", "username"} | fields}
                )
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return web.json_response(body)

    async def _user_mentions(self, request: web.Request) -> web.Response:
        rec = recorded(request)
        if (refused := self._refuse(rec)) is not None:
            return refused
        if request.match_info["id"] != self.user["id"]:
            return web.json_response(
                {"errors": [{"message": "Could not find user", "resource_type": "user"}]}
            )
        max_results = int(rec.query.get("max_results", "10"))
        if not 5 <= max_results <= 100:
            return _invalid("The `max_results` query parameter value is not between 5 and 100")
        start = rec.query.get("start_time")
        start_time = datetime.fromisoformat(start) if start else None
        if start_time is not None and start_time > self.clock() - timedelta(seconds=10):
            return _invalid(
                f"Invalid 'start_time':'{start}'. 'start_time' must be a minimum of 10 seconds "
                "prior to the request time."
            )
        fields = set((rec.query.get("tweet.fields") or "").split(","))
        visible = sorted(
            (m for m in self.mentions if start_time is None or m.created_at >= start_time),
            key=lambda m: m.created_at,
            reverse=True,
        )
        offset = int(rec.query.get("pagination_token") or 0)
        page = visible[offset : offset + max_results]
        if not page:
            return web.json_response({"meta": {"result_count": 0}})
        data: list[dict[str, Any]] = []
        for mention in page:
            item: dict[str, Any] = {
                "id": mention.id,
                "text": html.escape(mention.text, quote=False),
                "edit_history_tweet_ids": [mention.id],
            }
            if "created_at" in fields:
                item["created_at"] = x_time(mention.created_at)
            if "conversation_id" in fields:
                item["conversation_id"] = mention.conversation_id
            if "in_reply_to_user_id" in fields and mention.in_reply_to_user_id:
                item["in_reply_to_user_id"] = mention.in_reply_to_user_id
            data.append(item)
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
        }
        if offset + max_results < len(visible):
            meta["next_token"] = str(offset + max_results)
        return web.json_response({"data": data, "meta": meta})

    async def _upload(self, request: web.Request) -> web.Response:
        rec = recorded(request)
        if (refused := self._refuse(rec, signed_for=self.url)) is not None:
            return refused
        media = rec.files.get("media")
        if media is None or not media.data:
            return _invalid("The media field is required.")
        upload = FakeUpload(
            media_id=str(next(self._ids)),
            data=media.data,
            content_type=media.content_type,
            media_category=rec.form.get("media_category", ""),
            form=dict(rec.form),
        )
        self.uploads.append(upload)
        return web.json_response(
            {
                "data": {
                    "id": upload.media_id,
                    "media_key": f"3_{upload.media_id}",
                    "size": len(upload.data),
                    "expires_after_secs": 86400,
                    "image": {"image_type": upload.content_type, "w": 1, "h": 1},
                }
            }
        )

    # -- OAuth 1.0a ---------------------------------------------------------------------------

    def _refuse(self, rec: Recorded, *, signed_for: str = TWEEPY_HOST) -> web.Response | None:
        """401 unless the request is signed with this fake's four credentials."""
        if self.revoked or not self._signature_ok(rec, signed_for):
            return web.json_response(_problem(401, "Unauthorized"), status=401)
        return None

    def _signature_ok(self, rec: Recorded, signed_for: str) -> bool:
        header = rec.headers.get("Authorization", "")
        if not header.startswith("OAuth "):
            return False
        try:
            oauth = dict(
                signature.collect_parameters(
                    headers={"Authorization": header},
                    exclude_oauth_signature=False,
                    with_realm=False,
                )
            )
        except ValueError:
            return False
        if (
            oauth.get("oauth_consumer_key") != self.consumer_key
            or oauth.get("oauth_token") != self.access_token
            or oauth.get("oauth_signature_method") != "HMAC-SHA1"
        ):
            return False
        params = signature.collect_parameters(
            uri_query="&".join(f"{k}={_enc(v)}" for k, v in rec.query.items()),
            headers={"Authorization": header},
            exclude_oauth_signature=True,
            with_realm=False,
        )
        if rec.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            params += list(rec.form.items())
        base = signature.signature_base_string(
            rec.method,
            signature.base_string_uri(signed_for + rec.path),
            signature.normalize_parameters(params),
        )
        key = f"{quote(self.consumer_secret, safe='~')}&{quote(self.access_token_secret, safe='~')}"
        digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
        expected = base64.b64encode(digest).decode()
        return bool(signature.safe_string_equals(expected, oauth.get("oauth_signature", "")))


_REASONS = {
    401: "Unauthorized",
    403: "Forbidden",
    429: "Too Many Requests",
    500: "Internal Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _problem(status: int, title: str) -> dict[str, Any]:
    return {"title": title, "detail": title, "type": "about:blank", "status": status}


def _invalid(message: str) -> web.Response:
    return web.json_response(
        {
            "errors": [{"message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
        status=400,
    )


def _enc(value: str) -> str:
    return quote(value, safe="")


def _as_shown(text: str, *, has_media: bool) -> str:
    """The text as X returns it: &<> escaped, URLs as t.co links, a link for attached media."""
    shown = _URL.sub(lambda _m: f"https://t.co/{secrets.token_urlsafe(7)}", text)
    shown = html.escape(shown, quote=False)
    if has_media:
        shown += f" https://t.co/{secrets.token_urlsafe(7)}"
    return shown
