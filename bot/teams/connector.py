"""The Bot Connector REST API, as much as postgate uses, and Teams' ``ChatPort``.

Every call carries the bot's token, and only ever goes to a ``serviceUrl`` whose host is on the
allow-list (``POSTGATE_TEAMS_SERVICE_HOSTS``). A 429 is retried after its ``Retry-After``; 412,
502 and 504 are retried with a growing pause; any other error is ``ConnectorError``.

As a ``ChatPort``: ``channel`` is a conversation id (a Teams channel ``19:…@thread.tacv2`` or a
1:1 chat ``a:…``), ``ts`` an activity id; a reply in a thread goes to ``{channel};messageid=
{root}``; a direct message opens a 1:1 chat with the member's AAD object id in our tenant.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any, Final
from urllib.parse import quote

import aiohttp

from bot.chat.port import Card
from bot.teams import render
from bot.teams.auth import Http, TeamsSettings, TokenSource
from workflows.org import Directory

log = logging.getLogger(__name__)

PLATFORM: Final = "teams"
RETRIED: Final = frozenset({412, 429, 502, 504})
ATTEMPTS: Final = 5
MAX_WAIT: Final = 30.0


class ConnectorError(Exception):
    """The Bot Connector refused a call (or postgate refused to make it)."""

    def __init__(self, status: int, what: str) -> None:
        super().__init__(f"{what}: HTTP {status}")
        self.status = status


def thread_of(channel: str, root: str | None) -> str:
    return f"{channel};messageid={root}" if root else channel


class Connector:
    def __init__(
        self,
        *,
        settings: TeamsSettings,
        http: Http,
        tokens: TokenSource,
    ) -> None:
        self.settings = settings
        self.http = http
        self.tokens = tokens
        self.service_url: str | None = settings.service_url

    def learn(self, service_url: str) -> None:
        """The serviceUrl of an authenticated activity: where to send from now on."""
        if self.settings.allows(service_url):
            self.service_url = service_url

    async def call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        base = self.service_url
        if not base or not self.settings.allows(base):
            raise ConnectorError(0, "no allowed serviceUrl")
        url = base.rstrip("/") + path
        for attempt in range(ATTEMPTS):
            headers = {"Authorization": f"Bearer {await self.tokens.token()}"}
            async with self.http.session.request(
                method, url, json=body, headers=headers
            ) as response:
                if response.status < 300:
                    data = await response.json(content_type=None) if response.content_length else {}
                    return data if isinstance(data, dict) else {}
                if response.status not in RETRIED or attempt == ATTEMPTS - 1:
                    raise ConnectorError(response.status, f"{method} {path.split('/')[2]}")
                wait = _retry_after(response.headers.get("Retry-After"), attempt)
            log.info("Teams %s answered %s: again in %.1f s", method, response.status, wait)
            await asyncio.sleep(wait)
        raise ConnectorError(0, "unreachable")  # pragma: no cover

    async def create_conversation(self, aad_object_id: str) -> str:
        body = {
            "bot": {"id": f"28:{self.settings.app_id}"},
            "members": [{"id": aad_object_id}],
            "channelData": {"tenant": {"id": self.settings.tenant_id}},
            "isGroup": False,
            "tenantId": self.settings.tenant_id,
        }
        return str((await self.call("POST", "/v3/conversations", body))["id"])

    async def send(self, conversation: str, activity: dict[str, Any]) -> str:
        path = f"/v3/conversations/{quote(conversation, safe='')}/activities"
        return str((await self.call("POST", path, activity)).get("id", ""))

    async def update(self, conversation: str, activity_id: str, activity: dict[str, Any]) -> None:
        path = f"/v3/conversations/{quote(conversation, safe='')}/activities/{quote(activity_id)}"
        await self.call("PUT", path, {**activity, "id": activity_id})


def _retry_after(header: str | None, attempt: int) -> float:
    if header is not None:
        try:
            return min(max(float(header), 0.0), MAX_WAIT)
        except ValueError:
            pass
    return float(min(0.5 * 2**attempt + random.uniform(0, 0.25), MAX_WAIT))  # noqa: S311 (jitter)


class TeamsPort:
    """``bot.chat.port.ChatPort`` over the Bot Connector."""

    platform: Final = PLATFORM
    errors: Final = (ConnectorError, aiohttp.ClientError, TimeoutError)

    def __init__(self, *, connector: Connector, directory: Directory, tenant_id: str) -> None:
        self.connector = connector
        self.directory = directory
        self.tenant_id = tenant_id
        self.names = {
            m.teams_aad_id.lower(): m.name for m in directory.members.values() if m.teams_aad_id
        }
        self._chats: dict[str, str] = {}

    def user_of(self, member_id: str) -> str | None:
        member = self.directory.member(member_id)
        return member.teams_aad_id.lower() if member and member.teams_aad_id else None

    def describe(self, error: Exception) -> str:
        return str(error) if isinstance(error, ConnectorError) else type(error).__name__

    async def post(self, channel: str, card: Card, *, thread: str | None = None) -> str:
        activity = render.activity(card, self.names)
        return await self.connector.send(thread_of(channel, thread), activity)

    async def update(self, channel: str, ts: str, card: Card, *, thread: str | None = None) -> None:
        activity = render.activity(card, self.names)
        await self.connector.update(thread_of(channel, thread), ts, activity)

    async def open_dm(self, user: str) -> str:
        if user not in self._chats:  # the 1:1 chat of a user and the bot never changes
            self._chats[user] = await self.connector.create_conversation(user)
        return self._chats[user]

    async def permalink(self, channel: str, ts: str) -> str | None:
        if not channel.startswith("19:"):
            return None  # a 1:1 chat has no link others could open
        return (
            f"https://teams.microsoft.com/l/message/{quote(channel, safe='')}/{quote(ts)}"
            f"?tenantId={quote(self.tenant_id)}"
        )
