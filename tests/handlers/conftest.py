from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.config import AppConfig, load_config
from handlers.drafts import Actor, DraftUseCases
from storage.engine import Database
from storage.sync import sync_config
from tests.conftest import JST
from tests.storage.conftest import db, fresh_database  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=JST)  # a Tuesday, inside business hours


class RunningClock:
    """Starts at ``start`` and runs at the machine's pace: for the few tests of real timers,
    whatever today's date is."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._started = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._started)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def config() -> AppConfig:
    return load_config(REPO / "app.yaml")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def usecases(db: Database, config: AppConfig, clock: FixedClock) -> DraftUseCases:  # noqa: F811
    with db.session() as session:
        sync_config(session, config, at=NOW)
    return DraftUseCases(
        db=db,
        directory=config.directory,
        check_settings=config.checks,
        calendar_for=config.calendar,
        clock=clock,
    )


def slack(member_id: str, config: AppConfig) -> Actor:
    member = config.member(member_id)
    assert member is not None
    assert member.slack_user_id is not None
    return Actor("slack", member.slack_user_id)
