"""Drive the real ``postgate serve`` app as Slack would: signed requests to /slack/events.

``SlackHarness`` runs ``bot.app.build_app`` on an aiohttp ``TestServer`` (127.0.0.1, port 0) with
``SLACK_API_URL`` pointing at a ``FakeSlack``, and sends events, clicks, modal submissions and
commands signed with the v0 HMAC of the test signing secret — exactly the bytes Slack sends.
Secrets are canary strings, so a test can search the logs for them.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlmodel import col, select

from bot.slack import ids
from bot.slack.app import SLACK_KEY, SlackBot
from storage.engine import Database
from storage.tables import AuditEvent, ChatMessage, Draft, Publication, Review
from tests.bot.server_harness import ServerHarness, texts
from tests.fakes.slack import APP_ID, TEAM, FakeMessage, FakeSlack
from tests.handlers.conftest import FixedClock

CANARY = uuid.uuid4().hex[:8]
BOT_TOKEN = f"xoxb-CANARY-{CANARY}-bot-token"
APP_TOKEN = f"xapp-CANARY-{CANARY}-app-token"
SIGNING_SECRET = f"CANARY-{CANARY}-signing-secret"
RESPONSE_PATH = f"CANARY-{CANARY}-response-url"

DRAFTS = "C0DRAFTS01"
APPROVALS = "C0APPROVE1"
ALERTS = "C0ALERTS01"
# Slack user ids from app.yaml.
TAKAHASHI = "U0TAKAYUI"  # シティ・プロモーション課: writes
ITO = "U0ITOMAKO"  # シティ・プロモーション課: peer-checks
SATO = "U0SATOKEI"  # シティ・プロモーション課 chief: approves
SUZUKI = "U0SUZUKIH"  # シティ・プロモーション課 deputy
KOBAYASHI = "U0KOBATAK"  # デジタル推進課 chief: not an approver of the official accounts
STRANGER = "U0NOBODY9"  # not in app.yaml

CLEAN = (
    "【みどり市】12月5日(土)10時から中央図書館でおはなし会を開きます。"
    "参加は無料です。詳しくは https://www.city.midori.lg.jp/library/ をご覧ください。"
)


def dm(user: str) -> str:
    """The fake's DM channel with a user."""
    return "D" + user[1:]


def slack_env(fake: FakeSlack, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "POSTGATE_SLACK_TICK_SECONDS": "3600",  # the tests tick by hand
        **extra,
    }


def sign(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Reply:
    status: int
    body: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """Every text in the blocks, joined: what a person reads."""
    return texts(blocks, _block_text)


def _block_text(node: dict[str, Any]) -> list[str]:
    text = node.get("text")
    return [text] if node.get("type") in ("mrkdwn", "plain_text") and isinstance(text, str) else []


def buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """action_id -> value of every button in the blocks."""
    return {
        e["action_id"]: e.get("value", "")
        for b in blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("type") == "button"
    }


def all_ticked(view: Mapping[str, Any], **texts: str) -> dict[str, dict[str, Any]]:
    """State values of a modal with every checkbox ticked and the given text inputs filled."""
    values: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        if element["type"] == "checkboxes" and block["block_id"] != ids.BLOCK_EMERGENCY:
            values[block["block_id"]] = {
                ids.INPUT: {"type": "checkboxes", "selected_options": element["options"]}
            }
    for block_id, value in texts.items():
        values[block_id] = {ids.INPUT: {"type": "plain_text_input", "value": value}}
    return values


class SlackHarness(ServerHarness[FakeSlack]):
    def __init__(
        self, fake: FakeSlack, db: Database, config: Any, clock: FixedClock, env: dict[str, str]
    ) -> None:
        super().__init__(fake, db, config, clock, env)
        self._ts = itertools.count(1)  # message timestamps, as Slack numbers them

    @property
    def bot(self) -> SlackBot:
        return self.app[SLACK_KEY]

    async def settle(self) -> None:
        await self.bot.settle()

    # ------------------------------------------------------------ raw requests

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        assert self.session is not None
        stamp = timestamp if timestamp is not None else str(int(time.time()))
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature if signature is not None else sign(body, stamp),
            **(headers or {}),
        }
        started = time.perf_counter()
        async with self.session.post(
            self.server.make_url("/slack/events"), data=body, headers=sent
        ) as response:
            text = await response.text()
        return Reply(response.status, text, time.perf_counter() - started)

    async def post_json(self, payload: Mapping[str, Any], **kwargs: Any) -> Reply:
        return await self.post(json.dumps(payload).encode(), "application/json", **kwargs)

    async def post_form(self, fields: Mapping[str, str], **kwargs: Any) -> Reply:
        body = urlencode(fields).encode()
        return await self.post(body, "application/x-www-form-urlencoded", **kwargs)

    # ------------------------------------------------------------ events

    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def event_body(self, event: Mapping[str, Any], event_id: str | None = None) -> dict[str, Any]:
        return {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "api_app_id": APP_ID,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
        }

    async def message(self, user: str, text: str, *, channel: str = DRAFTS) -> tuple[str, Reply]:
        ts = self.next_ts()
        event = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel_type": "channel",
        }
        return ts, await self.post_json(self.event_body(event))

    async def edit(self, user: str, ts: str, text: str, *, channel: str = DRAFTS) -> Reply:
        now = self.next_ts()
        event = {
            "type": "message",
            "subtype": "message_changed",
            "channel": channel,
            "hidden": True,
            "message": {
                "type": "message",
                "user": user,
                "text": text,
                "ts": ts,
                "edited": {"user": user, "ts": now},
            },
            "previous_message": {"type": "message", "user": user, "ts": ts},
            "event_ts": now,
            "ts": now,
        }
        return await self.post_json(self.event_body(event))

    async def open_home(self, user: str) -> Reply:
        event = {"type": "app_home_opened", "user": user, "channel": dm(user), "tab": "home"}
        return await self.post_json(self.event_body(event))

    # ------------------------------------------------------------ interactivity

    def click_body(
        self,
        user: str,
        message: FakeMessage,
        action_id: str,
        value: str | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A button click; ``state``: the values of the message's inputs (Slack sends them)."""
        if value is None:
            value = buttons(message.blocks)[action_id]
        n = next(self._n)
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": False,
        }
        if message.thread_ts:
            container["thread_ts"] = message.thread_ts
        return {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "container": container,
            "trigger_id": f"{n}.{uuid.uuid4().hex[:8]}",
            "team": {"id": TEAM, "domain": "midori"},
            "channel": {"id": message.channel, "name": "channel"},
            "message": {"type": "message", "ts": message.ts, "text": message.text},
            "response_url": self.fake.response_url(f"{RESPONSE_PATH}-{n}"),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b",
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
            "state": {"values": dict(state or {})},
        }

    async def click(
        self,
        user: str,
        message: FakeMessage,
        action_id: str,
        value: str | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> Reply:
        body = self.click_body(user, message, action_id, value, state)
        return await self.post_form({"payload": json.dumps(body)})

    def submission_body(
        self, user: str, view: Mapping[str, Any], values: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "midori"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "trigger_id": f"{next(self._n)}.{uuid.uuid4().hex[:8]}",
            "view": {**view, "state": {"values": dict(values)}},
            "response_urls": [],
        }

    async def submit(self, user: str, view: Mapping[str, Any], values: Mapping[str, Any]) -> Reply:
        body = self.submission_body(user, view, values)
        return await self.post_form({"payload": json.dumps(body)})

    async def command(self, user: str, text: str, *, channel: str = DRAFTS) -> Reply:
        n = next(self._n)
        return await self.post_form(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM,
                "team_domain": "midori",
                "channel_id": channel,
                "channel_name": "channel",
                "user_id": user,
                "user_name": user.lower(),
                "command": ids.COMMAND,
                "text": text,
                "api_app_id": APP_ID,
                "response_url": self.fake.response_url(f"{RESPONSE_PATH}-{n}"),
                "trigger_id": f"{n}.{uuid.uuid4().hex[:8]}",
            }
        )

    # ------------------------------------------------------------ what Slack shows

    def thread(self, ts: str, channel: str = DRAFTS) -> list[FakeMessage]:
        return self.fake.thread(channel, ts)

    def card(self, ts: str, channel: str = DRAFTS) -> FakeMessage:
        """The draft's card: the first reply in the thread of the drafter's message."""
        return self.thread(ts, channel)[0]

    def approval_cards(self, user: str = SATO) -> list[FakeMessage]:
        return [
            m
            for m in self.fake.messages(dm(user))
            if ids.APPROVE in buttons(m.blocks) or "承認依頼" in m.text
        ]

    def ephemerals(self, user: str) -> list[str]:
        return [
            str(c.params.get("text"))
            for c in self.fake.calls_to("chat.postEphemeral")
            if c.params.get("user") == user
        ]

    def last_view(self, callback_id: str) -> dict[str, Any]:
        return next(v for v in reversed(self.fake.views) if v.get("callback_id") == callback_id)

    # ------------------------------------------------------------ the database

    def drafts(self) -> list[Draft]:
        with self.db.session(read_only=True) as session:
            return list(session.exec(select(Draft).order_by(col(Draft.id))).all())

    def draft(self, draft_id: int = 1) -> Draft:
        with self.db.session(read_only=True) as session:
            row = session.get(Draft, draft_id)
            assert row is not None
            return row

    def reviews(self, draft_id: int = 1) -> list[Review]:
        with self.db.session(read_only=True) as session:
            return list(
                session.exec(
                    select(Review).where(Review.draft_id == draft_id).order_by(col(Review.id))
                ).all()
            )

    def publications(self, draft_id: int = 1) -> list[Publication]:
        with self.db.session(read_only=True) as session:
            return list(
                session.exec(
                    select(Publication)
                    .where(Publication.draft_id == draft_id)
                    .order_by(col(Publication.id))
                ).all()
            )

    def audit(self, action: str | None = None) -> list[AuditEvent]:
        with self.db.session(read_only=True) as session:
            statement = select(AuditEvent).order_by(col(AuditEvent.seq))
            if action:
                statement = statement.where(AuditEvent.action == action)
            return list(session.exec(statement).all())

    def chat_messages(self) -> list[ChatMessage]:
        with self.db.session(read_only=True) as session:
            return list(session.exec(select(ChatMessage).order_by(col(ChatMessage.id))).all())


def iter_strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from iter_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from iter_strings(value)
