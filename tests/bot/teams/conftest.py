from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import AppConfig, load_config
from storage.engine import Database
from tests.bot.server_harness import running
from tests.bot.slack.conftest import clock, database  # noqa: F401 - fixtures
from tests.bot.teams.harness import APP_SECRET, TeamsHarness, teams_config, teams_env
from tests.fakes.teams import FakeTeams
from tests.handlers.conftest import FixedClock

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def config() -> AppConfig:
    return teams_config(load_config(REPO / "app.yaml"))


@pytest.fixture
async def fake_teams() -> AsyncIterator[FakeTeams]:
    async with FakeTeams(app_secret=APP_SECRET) as fake:
        yield fake


@pytest.fixture
async def teams(
    fake_teams: FakeTeams,
    database: Database,  # noqa: F811
    config: AppConfig,
    clock: FixedClock,  # noqa: F811
) -> AsyncIterator[TeamsHarness]:
    harness = TeamsHarness(fake_teams, database, config, clock, teams_env(fake_teams))
    async with running(harness):
        yield harness
