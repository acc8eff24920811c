"""A fake Slack Web API on 127.0.0.1 (port 0), like bolt-python's ``tests/mock_web_api_server``.

Point the real ``AsyncWebClient`` at it with ``base_url=fake.api_url`` (``SLACK_API_URL``).
Every call is recorded (``fake.calls``: the method name and its parameters, whether the client
sent JSON or a form) before anything else happens, and answered as Slack would:

- ``auth.test`` — the bot's identity (``BOT_USER``, ``BOT_ID``, ``TEAM``);
- ``chat.postMessage`` / ``chat.update`` / ``chat.postEphemeral`` / ``chat.getPermalink`` —
  messages are kept per channel with Slack-like ``ts`` values (``fake.messages(channel)``,
  ``fake.message(channel, ts)``); an update of an unknown message is ``message_not_found``;
- ``conversations.open`` — the DM channel of a user (``D`` + the user id without its ``U``);
- ``users.info`` — a user in Asia/Tokyo;
- ``conversations.info`` — a channel of ``fake.channels`` (id → whether the bot is a member),
  else ``channel_not_found``;
- ``views.open`` / ``views.push`` / ``views.update`` / ``views.publish`` — the view with an id
  and a hash (``fake.views``: what was opened or published, newest last);
- ``apps.connections.open`` (app token) — a WebSocket URL on this server for Socket Mode;
  ``await fake.socket_send(kind, payload)`` sends an envelope and returns the client's ack.

Every Web API call must carry the bot token (``Authorization: Bearer …``), else
``invalid_auth``, as Slack answers. ``rate_limit_next(method, retry_after=1, count=1)`` answers
429 with ``Retry-After`` for the next calls of a method; ``fail_next`` / ``delay_next`` (from
``FakeServer``) work too. ``response_url(name)`` gives a URL on this server standing in for a
``response_url``; what is posted to it lands in ``fake.responses``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tests.fakes.server import FakeServer, Recorded, recorded

BOT_USER = "U0POSTGATE"
BOT_ID = "B0POSTGATE"
TEAM = "T0MIDORI"
APP_ID = "A0POSTGATE"


@dataclass
class SlackCall:
    method: str
    params: dict[str, Any]
    token: str | None


@dataclass
class FakeMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    edits: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


def _params(entry: Recorded) -> dict[str, Any]:
    """A Web API call's parameters: JSON body, or form/query values (JSON-looking ones decoded,
    as Slack decodes ``blocks`` and ``view`` sent as form fields)."""
    if isinstance(entry.json, dict):
        return dict(entry.json)
    params: dict[str, Any] = dict(entry.query)
    params.update(entry.form)
    for key, value in list(params.items()):
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


class FakeSlack(FakeServer):
    def __init__(self, *, bot_token: str = "xoxb-test", app_token: str = "xapp-test") -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.calls: list[SlackCall] = []
        self.views: list[dict[str, Any]] = []
        self.channels: dict[str, bool] = {}  # conversations.info: channel id -> bot is a member
        self.responses: list[dict[str, Any]] = []
        self._messages: dict[str, list[FakeMessage]] = {}
        self._ts = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.socket_connected = asyncio.Event()
        super().__init__()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/api/{method}", self._api)
        router.add_get("/api/{method}", self._api)  # e.g. chat.getPermalink
        router.add_post("/response/{name}", self._response)
        router.add_get("/socket", self._socket)

    def error_body(self, status: int) -> Any:
        return {"ok": False, "error": "ratelimited" if status == 429 else f"http_{status}"}

    # -- switches and views ---------------------------------------------------------------------

    def rate_limit_next(self, method: str, *, retry_after: int = 1, count: int = 1) -> None:
        self.fail_next(
            429,
            count=count,
            method="POST",
            path=f"/api/{method.replace('.', '[.]')}",
            headers={"Retry-After": str(retry_after)},
        )

    def response_url(self, name: str) -> str:
        return f"{self.url}/response/{name}"

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    def requests_for(self, method: str) -> list[Recorded]:
        """Every HTTP request for a method, including those answered 429."""
        return [r for r in self.requests if r.path == f"/api/{method}"]

    def messages(self, channel: str) -> list[FakeMessage]:
        return list(self._messages.get(channel, []))

    def all_messages(self) -> list[FakeMessage]:
        return [m for ms in self._messages.values() for m in ms]

    def message(self, channel: str, ts: str) -> FakeMessage:
        for m in self._messages.get(channel, []):
            if m.ts == ts:
                return m
        raise KeyError((channel, ts))

    def thread(self, channel: str, thread_ts: str) -> list[FakeMessage]:
        return [m for m in self._messages.get(channel, []) if m.thread_ts == thread_ts]

    # -- the Web API --------------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        entry = recorded(request)
        params = _params(entry)
        auth = entry.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or params.get("token")
        self.calls.append(SlackCall(method, params, token))
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != expected:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        body: dict[str, Any] = handler(params)
        return web.json_response(body)

    def _auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://midori.slack.com/",
            "team": "みどり市",
            "user": "postgate",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        text, blocks = str(params.get("text") or ""), list(params.get("blocks") or [])
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        message = FakeMessage(channel, self._next_ts(), text, blocks, params.get("thread_ts"))
        self._messages.setdefault(channel, []).append(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "message": {"type": "message", "text": text, "user": BOT_USER, "ts": message.ts},
        }

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        try:
            message = self.message(channel, ts)
        except KeyError:
            return {"ok": False, "error": "message_not_found"}
        message.history.append({"text": message.text, "blocks": message.blocks})
        message.text = str(params.get("text") or message.text)
        message.blocks = list(params.get("blocks") or message.blocks)
        message.edits += 1
        return {"ok": True, "channel": channel, "ts": ts, "text": message.text}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel") or not params.get("user"):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("message_ts", ""))
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://midori.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", ""))
        if not users.startswith(("U", "W")):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + users[1:]}}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        name = f"channel-{channel.lower()}"
        return {
            "ok": True,
            "channel": {"id": channel, "name": name, "is_member": self.channels[channel]},
        }

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user", ""))
        return {
            "ok": True,
            "user": {"id": user, "name": user.lower(), "tz": "Asia/Tokyo", "is_bot": False},
        }

    def _view(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        stored = {**view, "id": "V" + uuid.uuid4().hex[:10].upper(), "hash": uuid.uuid4().hex}
        self.views.append(stored)
        return {"ok": True, "view": stored}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._view(params)

    _views_push = _views_open

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._view(params)

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return self._view(params)

    def _apps_connections_open(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}

    async def _response(self, request: web.Request) -> web.Response:
        entry = recorded(request)
        body = entry.json if isinstance(entry.json, dict) else dict(parse_qsl(entry.body.decode()))
        self.responses.append({"name": request.match_info["name"], **body})
        return web.Response(text="ok")

    # -- Socket Mode --------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        )
        self.socket_connected.set()
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            future = self._acks.get(str(data.get("envelope_id")))
            if future is not None and not future.done():
                future.set_result(data)
        self._sockets.remove(ws)
        return ws

    async def socket_send(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send an envelope (``events_api``, ``interactive``, ``slash_commands``) to the
        connected client; return its acknowledgement (raises TimeoutError after 3 s)."""
        await asyncio.wait_for(self.socket_connected.wait(), 5)
        envelope_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return await asyncio.wait_for(future, 3)

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        await super().stop()
