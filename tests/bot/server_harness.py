"""The part of the chat harnesses that is the same for Slack and Teams: the real ``postgate
serve`` app (``bot.app.build_app``, timers left to the test) on an aiohttp ``TestServer`` at
127.0.0.1, port 0, with a client session to talk to it."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import HUB_KEY, OUTBOX_KEY, build_app
from bot.chat.hub import ChatHub
from bot.config import AppConfig
from storage.engine import Database
from tests.handlers.conftest import FixedClock

F = TypeVar("F")


class ServerHarness(Generic[F]):
    """``fake`` is the platform's loopback fake; ``_n`` numbers what the test sends."""

    def __init__(
        self, fake: F, db: Database, config: AppConfig, clock: FixedClock, env: Mapping[str, str]
    ) -> None:
        self.fake = fake
        self._n = itertools.count(1)
        self.db = db
        self.config = config
        self.clock = clock
        self.app: web.Application = build_app(config, db, environ=env, clock=clock, timers=False)
        self.server = TestServer(self.app, host="127.0.0.1", port=0)
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        await self.server.start_server()
        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        await self.server.close()

    @property
    def hub(self) -> ChatHub:
        return self.app[HUB_KEY]

    @property
    def outbox(self) -> Any:
        return self.app[OUTBOX_KEY]


def texts(node: Any, keep: Callable[[dict[str, Any]], list[str]]) -> str:
    """Every text that ``keep`` picks out of the dicts anywhere in ``node``, joined by lines:
    what a person reads of a card."""
    out: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            out.extend(keep(item))
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return "\n".join(out)


H = TypeVar("H", bound=ServerHarness[Any])


@asynccontextmanager
async def running(harness: H) -> AsyncIterator[H]:
    """The harness with its server started, closed afterwards."""
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()
