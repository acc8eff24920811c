"""The web console through real HTTP: the whole bot application (``build_app``) on 127.0.0.1,
SQLite and PostgreSQL, people signed in with one-time links like an administrator gives them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from yarl import URL

from bot.app import build_app, synchronise
from bot.config import AppConfig, load_config
from bot.web.security import WebSettings, issue_signin_link
from storage.engine import Database
from storage.migrate import upgrade
from tests.handlers.conftest import NOW, FixedClock
from tests.storage.conftest import BACKENDS, fresh_database

REPO = Path(__file__).resolve().parents[3]
CSRF = re.compile(r'name="csrf-token" content="([0-9a-f]+)"')


@pytest.fixture
def config() -> AppConfig:
    return load_config(REPO / "app.yaml")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(params=BACKENDS)
def database(
    request: pytest.FixtureRequest, tmp_path: Path, config: AppConfig
) -> Iterator[Database]:
    with fresh_database(request.param, tmp_path) as db:
        upgrade(db)
        synchronise(config, db)
        yield db


@dataclass
class Person:
    """One browser: its own cookie jar, signed in (or not) as one member."""

    server: TestServer
    session: aiohttp.ClientSession
    csrf: str = ""

    def url(self, path: str) -> URL:
        return self.server.make_url(path)

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str]:
        async with self.session.get(self.url(path), **kwargs) as response:
            text = await response.text()
            if found := CSRF.search(text):
                self.csrf = found.group(1)
            return response.status, text

    async def post(
        self, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> tuple[int, str]:
        fields = list(data.items()) if isinstance(data, dict) else list(data or [])
        if self.csrf and not any(k == "csrf" for k, _ in fields):
            fields.append(("csrf", self.csrf))
        async with self.session.post(self.url(path), data=fields, **kwargs) as response:
            text = await response.text()
            if found := CSRF.search(text):
                self.csrf = found.group(1)
            return response.status, text


@dataclass
class Console:
    server: TestServer
    db: Database
    config: AppConfig
    clock: FixedClock
    people: list[Person] = field(default_factory=list)

    def link(self, member_id: str) -> str:
        member = self.config.member(member_id)
        assert member is not None
        settings = WebSettings(base_url=str(self.server.make_url("")).rstrip("/"))
        return issue_signin_link(self.db, member, settings, at=self.clock())

    async def browser(self) -> Person:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        person = Person(self.server, session)
        self.people.append(person)
        return person

    async def signed_in(self, member_id: str) -> Person:
        person = await self.browser()
        token = self.link(member_id).rsplit("/", 1)[1]
        status, _ = await person.post("/signin", {"token": token})
        assert status == 200
        await person.get("/")
        assert person.csrf
        return person


@pytest.fixture
async def console(
    database: Database, config: AppConfig, clock: FixedClock
) -> AsyncIterator[Console]:
    app = build_app(config, database, environ={}, clock=clock, timers=False)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    harness = Console(server, database, config, clock)
    try:
        yield harness
    finally:
        for person in harness.people:
            await person.session.close()
        await server.close()
