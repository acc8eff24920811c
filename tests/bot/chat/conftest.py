from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import AppConfig, load_config
from tests.bot.slack.conftest import clock, database, fake_slack  # noqa: F401 - fixtures
from tests.bot.teams.conftest import fake_teams  # noqa: F401 - fixture
from tests.bot.teams.harness import teams_config

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def config() -> AppConfig:
    """A city running Slack and Teams together."""
    return teams_config(load_config(REPO / "app.yaml"))
