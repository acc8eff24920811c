"""Drive the real ``postgate serve`` app as Teams would: Bot Connector activities to
/api/messages with a JWT signed by the fake's key, the replies going to a ``FakeTeams``.

``TeamsHarness`` runs ``bot.app.build_app`` on an aiohttp ``TestServer`` (127.0.0.1, port 0) with
the ``POSTGATE_TEAMS_*`` variables pointing at the fake (metadata, token endpoint, serviceUrl
allow-list ``127.0.0.1``). The app secret is a canary, so a test can search the logs for it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from bot.config import AppConfig, ChatTarget
from bot.teams.app import TEAMS_KEY, TeamsBot
from storage.tables import ChatMessage, Draft, ProcessedRequest
from tests.bot.server_harness import ServerHarness, texts
from tests.fakes.teams import APP_ID, TENANT, FakeActivity, FakeTeams

CANARY = uuid.uuid4().hex[:8]
APP_SECRET = f"CANARY-{CANARY}-teams-app-secret"

DRAFTS = "19:drafts0promotion@thread.tacv2"
APPROVALS = "19:approvals0chiefs@thread.tacv2"
ALERTS = "19:alerts0everyone@thread.tacv2"
# AAD object ids from app.yaml.
SATO = "1f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a01"  # シティ・プロモーション課 chief: approves
SUZUKI = "1f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a02"  # deputy
TAKAHASHI = "1f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a03"  # writes
ITO = "1f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a04"  # peer-checks
KOBAYASHI = "1f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a05"  # デジタル推進課: not an approver here
STRANGER = "9e9e9e9e-0000-4000-8000-000000000000"  # not in app.yaml


def teams_config(config: AppConfig) -> AppConfig:
    """app.yaml with Teams channels beside the Slack ones: the City Promotion drafts channel,
    approvals, alerts (a city running both)."""
    channels = config.channels
    first = channels.drafts[0]
    drafts = (first.model_copy(update={"teams": DRAFTS}), *channels.drafts[1:])
    approvals = channels.approvals or ChatTarget()
    alerts = channels.alerts or ChatTarget()
    updated = channels.model_copy(
        update={
            "drafts": drafts,
            "approvals": approvals.model_copy(update={"teams": APPROVALS}),
            "alerts": alerts.model_copy(update={"teams": ALERTS}),
        }
    )
    return config.model_copy(update={"channels": updated})


def teams_env(fake: FakeTeams, **extra: str) -> dict[str, str]:
    return {
        "POSTGATE_TEAMS_APP_ID": APP_ID,
        "POSTGATE_TEAMS_APP_SECRET": APP_SECRET,
        "POSTGATE_TEAMS_TENANT_ID": TENANT,
        "POSTGATE_TEAMS_OPENID_METADATA_URL": f"{fake.url}/openid",
        "POSTGATE_TEAMS_TOKEN_URL": f"{fake.url}/token",
        "POSTGATE_TEAMS_SERVICE_HOSTS": "127.0.0.1",
        "POSTGATE_CHAT_TICK_SECONDS": "3600",  # the tests tick by hand
        **extra,
    }


@dataclass
class Reply:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def card(self) -> dict[str, Any]:
        answer = self.json()
        assert answer["type"] == "application/vnd.microsoft.card.adaptive", answer
        return dict(answer["value"])

    @property
    def text(self) -> str:
        answer = self.json()
        assert answer["type"] == "application/vnd.microsoft.activity.message", answer
        return str(answer["value"])


def card_text(card: Mapping[str, Any] | None) -> str:
    """Every text of a card, joined: what a person reads."""
    return texts(card, _card_texts)


def _card_texts(node: dict[str, Any]) -> list[str]:
    return [node[key] for key in ("text", "title", "label") if isinstance(node.get(key), str)]


def verbs(card: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """verb -> data of every Action.Execute button of a card."""
    return {
        a["verb"]: a["data"]
        for a in (card or {}).get("actions", [])
        if a["type"] == "Action.Execute"
    }


class TeamsHarness(ServerHarness[FakeTeams]):
    @property
    def bot(self) -> TeamsBot:
        return self.app[TEAMS_KEY]

    async def settle(self) -> None:
        await self.bot.tasks.settle()

    # ------------------------------------------------------------ requests

    async def send(
        self, activity: Mapping[str, Any], *, token: str | None = None, header: str | None = None
    ) -> Reply:
        assert self.session is not None
        auth = header if header is not None else f"Bearer {token or self.fake.token(self.clock())}"
        headers = {"Authorization": auth} if auth else {}
        async with self.session.post(
            self.server.make_url("/api/messages"), json=dict(activity), headers=headers
        ) as response:
            return Reply(response.status, await response.text())

    def base(self, user: str, conversation: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": extra.pop("id", None) or f"1{next(self._n):012d}",
            "channelId": "msteams",
            "serviceUrl": self.fake.service_url,
            "timestamp": self.clock().isoformat(),
            "from": {"id": f"29:{user}", "aadObjectId": user, "name": user},
            "recipient": {"id": f"28:{APP_ID}", "name": "postgate"},
            "conversation": {"id": conversation, "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}},
            **extra,
        }

    def post_activity(
        self, user: str, text: str, *, channel: str = DRAFTS, **extra: Any
    ) -> dict[str, Any]:
        activity_id = extra.pop("id", None) or f"1{next(self._n):012d}"
        activity = self.base(
            user,
            f"{channel};messageid={activity_id}",
            id=activity_id,
            type="message",
            text=f"<p><at>postgate</at> {text}</p>",
            textFormat="xml",
            **extra,
        )
        activity["channelData"].update({"channel": {"id": channel}, "teamsChannelId": channel})
        activity["conversation"]["conversationType"] = "channel"
        return activity

    async def post(self, user: str, text: str, *, channel: str = DRAFTS) -> tuple[str, Reply]:
        activity = self.post_activity(user, text, channel=channel)
        return activity["id"], await self.send(activity)

    async def edit(self, user: str, post_id: str, text: str) -> Reply:
        activity = self.post_activity(user, text, id=post_id)
        activity["type"] = "messageUpdate"
        activity["channelData"]["eventType"] = "editMessage"
        return await self.send(activity)

    async def click(
        self, user: str, card: FakeActivity, verb: str, inputs: Mapping[str, Any] | None = None
    ) -> Reply:
        data = {**verbs(card.card)[verb], **(inputs or {})}
        return await self.invoke(user, card, verb, data)

    async def invoke(
        self, user: str, card: FakeActivity, verb: str, data: Mapping[str, Any], **extra: Any
    ) -> Reply:
        return await self.send(self.invoke_activity(user, card, verb, data, **extra))

    async def say(self, user: str, text: str) -> FakeActivity:
        """Write ``text`` in the user's 1:1 chat with postgate; postgate's answer."""
        activity = self.base(user, f"a:{user}", type="message", text=text)
        activity["conversation"]["conversationType"] = "personal"
        assert (await self.send(activity)).status == 200
        await self.settle()
        return self.fake.messages(f"a:{user}")[-1]

    def invoke_activity(
        self, user: str, card: FakeActivity, verb: str, data: Mapping[str, Any], **extra: Any
    ) -> dict[str, Any]:
        conversation = (
            f"{card.conversation};messageid={card.thread}" if card.thread else card.conversation
        )
        return self.base(
            user,
            conversation,
            type="invoke",
            name="adaptiveCard/action",
            replyToId=card.id,
            value={
                "action": {"type": "Action.Execute", "verb": verb, "data": dict(data)},
                "trigger": extra.pop("trigger", "manual"),
            },
            **extra,
        )

    # ------------------------------------------------------------ what Teams shows

    def card(self, post_id: str) -> FakeActivity:
        """The draft's card: the first reply in the post's thread."""
        return self.fake.thread(DRAFTS, post_id)[0]

    def approval_cards(self, user: str = SATO) -> list[FakeActivity]:
        return self.fake.messages(f"a:{user}")

    # ------------------------------------------------------------ the database

    def drafts(self) -> list[Draft]:
        with self.db.session(read_only=True) as session:
            return list(session.exec(select(Draft).order_by(col(Draft.id))).all())

    def stored(self) -> tuple[int, int, int]:
        """(drafts, chat messages, processed requests): what any request may have stored."""
        with self.db.session(read_only=True) as session:
            return (
                len(session.exec(select(Draft)).all()),
                len(session.exec(select(ChatMessage)).all()),
                len(session.exec(select(ProcessedRequest)).all()),
            )
