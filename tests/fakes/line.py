"""A fake LINE Messaging API on 127.0.0.1: broadcast with retry keys, and the bot's info.

Endpoints: ``POST /v2/bot/message/broadcast`` and ``GET /v2/bot/info``, with
``Authorization: Bearer <channel access token>`` (else 401 with LINE's message).

Broadcast follows LINE's rules: 1–5 messages; text 1–5,000 characters (UTF-16 units); image
messages with https ``originalContentUrl``/``previewImageUrl`` (else 400 with ``details``).
``X-Line-Retry-Key`` must be a UUID (else 400); a key accepted within the last 24 h is answered
with 409 ``{"message": "The retry key is already accepted"}`` and ``x-line-accepted-request-id``
(nothing is delivered again). Every 200 carries a fresh ``x-line-request-id``.

Client: ``LineClient(fake.credentials(), api_url=fake.url)``; the token is a fresh canary string.

State and switches (besides ``FakeServer``'s ``fail_next``, ``hang_next``, ``delay_next``,
``requests``, ``clock``):

- ``broadcasts``: what was really delivered (one entry per accepted broadcast);
- ``accepted``: retry key -> (request id, when); move ``clock`` 24 h on to make keys expire;
- ``bot_info``: what ``/v2/bot/info`` answers (mutable);
- ``revoked``: every call → 401;
- ``monthly_limit_next(count=1)``: 429 "You have reached your monthly limit.".
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from tests.fakes.server import FakeServer, Recorded, recorded

ALREADY_ACCEPTED = "The retry key is already accepted"
AUTH_FAILED = (
    "Authentication failed. Confirm that the access token in the authorization header is valid."
)


@dataclass
class FakeBroadcast:
    request_id: str
    retry_key: str | None
    messages: list[dict[str, Any]]
    at: datetime


class FakeLine(FakeServer):
    def __init__(self) -> None:
        self.channel_access_token = f"CANARY-line-channel-token-{secrets.token_hex(12)}"
        self.bot_info: dict[str, Any] = {
            "userId": "Ub1234567890abcdef1234567890abcde",
            "basicId": "@123abcde",
            "displayName": "みどり市",
            "pictureUrl": "https://profile.line-scdn.net/midori",
            "chatMode": "bot",
            "markAsReadMode": "auto",
        }
        self.broadcasts: list[FakeBroadcast] = []
        self.accepted: dict[str, tuple[str, datetime]] = {}
        self.revoked = False
        super().__init__()

    def credentials(self) -> dict[str, str]:
        return {"channel_access_token": self.channel_access_token}

    def monthly_limit_next(self, *, count: int = 1) -> None:
        self.fail_next(429, count=count, body={"message": "You have reached your monthly limit."})

    def error_body(self, status: int) -> Any:
        if status == 401:
            return {"message": AUTH_FAILED}
        if status == 429:
            return {"message": "Too many requests"}
        if status >= 500:
            return {"message": "An error occurred in the server"}
        return {"message": "The request body has 1 error(s)"}

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v2/bot/message/broadcast", self._broadcast)
        router.add_get("/v2/bot/info", self._info)

    def _refuse(self, rec: Recorded) -> web.Response | None:
        if self.revoked or rec.headers.get("Authorization") != (
            f"Bearer {self.channel_access_token}"
        ):
            return web.json_response({"message": AUTH_FAILED}, status=401)
        return None

    async def _info(self, request: web.Request) -> web.Response:
        if (refused := self._refuse(recorded(request))) is not None:
            return refused
        return web.json_response(self.bot_info)

    async def _broadcast(self, request: web.Request) -> web.Response:
        rec = recorded(request)
        if (refused := self._refuse(rec)) is not None:
            return refused
        request_id = str(uuid.uuid4())
        key = rec.headers.get("X-Line-Retry-Key")
        if key is not None:
            try:
                uuid.UUID(key)
            except ValueError:
                return web.json_response(
                    {"message": "The value for the 'X-Line-Retry-Key' header is invalid"},
                    status=400,
                    headers={"x-line-request-id": request_id},
                )
            earlier = self.accepted.get(key)
            if earlier is not None and self.clock() - earlier[1] < timedelta(hours=24):
                return web.json_response(
                    {"message": ALREADY_ACCEPTED},
                    status=409,
                    headers={
                        "x-line-request-id": request_id,
                        "x-line-accepted-request-id": earlier[0],
                    },
                )
        messages = (rec.json or {}).get("messages") if isinstance(rec.json, dict) else None
        problems = _problems(messages)
        if problems:
            return web.json_response(
                {
                    "message": f"The request body has {len(problems)} error(s)",
                    "details": [{"message": m, "property": p} for p, m in problems],
                },
                status=400,
                headers={"x-line-request-id": request_id},
            )
        assert isinstance(messages, list)
        now = self.clock()
        if key is not None:
            self.accepted[key] = (request_id, now)
        self.broadcasts.append(FakeBroadcast(request_id, key, messages, now))
        return web.json_response({}, headers={"x-line-request-id": request_id})


def _problems(messages: object) -> list[tuple[str, str]]:
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return [("messages", "Size must be between 1 and 5")]
    problems: list[tuple[str, str]] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "text":
            text = message.get("text", "")
            if not 1 <= len(text.encode("utf-16-le")) // 2 <= 5000:
                problems.append((f"{where}.text", "Length must be between 1 and 5000"))
        elif kind == "image":
            for key in ("originalContentUrl", "previewImageUrl"):
                url = str(message.get(key, ""))
                if not url.startswith("https://") or len(url) > 2000:
                    problems.append((f"{where}.{key}", "Must be a valid HTTPS URL"))
        else:
            problems.append((f"{where}.type", "Invalid message type"))
    return problems
