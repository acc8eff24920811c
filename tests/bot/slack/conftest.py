from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import synchronise
from bot.config import AppConfig, load_config
from storage.engine import Database
from storage.migrate import upgrade
from tests.bot.server_harness import running
from tests.bot.slack.harness import APP_TOKEN, BOT_TOKEN, SlackHarness, slack_env
from tests.fakes.slack import FakeSlack
from tests.handlers.conftest import NOW, FixedClock
from tests.storage.conftest import BACKENDS, fresh_database

REPO = Path(__file__).resolve().parents[3]


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
    """A migrated database with app.yaml mirrored: SQLite, and PostgreSQL when
    $POSTGATE_TEST_DATABASE_URL is set (skipped otherwise, as the storage tests do)."""
    with fresh_database(request.param, tmp_path) as db:
        upgrade(db)
        synchronise(config, db)
        yield db


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as fake:
        yield fake


@pytest.fixture
async def slack(
    fake_slack: FakeSlack, database: Database, config: AppConfig, clock: FixedClock
) -> AsyncIterator[SlackHarness]:
    harness = SlackHarness(fake_slack, database, config, clock, slack_env(fake_slack))
    async with running(harness):
        yield harness
