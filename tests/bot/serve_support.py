"""Real `postgate serve` processes for recovery tests and benchmarks: started against a database
and the loopback fake platforms, killed with SIGKILL, watched through the database.

Everything waits on a condition with a generous deadline (``wait_for``), never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from bot.config import AppConfig, load_config
from handlers.drafts import DraftUseCases
from storage.engine import Database
from storage.sync import sync_config
from storage.tables import Publication
from tests.fakes.x import FakeX
from tests.handlers.publishing_support import approve

REPO = Path(__file__).resolve().parents[2]
# An emergency notice without dates: the checker has nothing to say about it on any day.
EMERGENCY_TEXT = (
    "【みどり市】大雨のため、市内の一部の道路が通行止めになっています。"
    "詳しくは https://www.city.midori.lg.jp/ をご覧ください。"
)


def utc_now() -> datetime:
    """The serve processes run on the machine's clock, so the drafts given to them do too."""
    return datetime.now(UTC)


def serve_env(database_url: str, fake_x: FakeX, *, extra: Mapping[str, str] = ()) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGATE_", "SLACK_"))}
    creds = fake_x.credentials()
    env |= {
        "POSTGATE_DATABASE_URL": database_url,
        "POSTGATE_CONFIG": str(REPO / "app.yaml"),
        "POSTGATE_X_API_URL": fake_x.url,
        "POSTGATE_X_UPLOAD_URL": fake_x.url,
        "POSTGATE_SNS_TIMEOUT": "5",
        "MIDORI_X_CONSUMER_KEY": creds["consumer_key"],
        "MIDORI_X_CONSUMER_SECRET": creds["consumer_secret"],
        "MIDORI_X_ACCESS_TOKEN": creds["access_token"],
        "MIDORI_X_ACCESS_TOKEN_SECRET": creds["access_token_secret"],
    }
    env.update(extra)
    return env


@dataclass
class Serve:
    """One `postgate serve` subprocess, its output in ``log``."""

    process: asyncio.subprocess.Process
    log: Path

    @classmethod
    async def start(cls, env: Mapping[str, str], log: Path) -> Serve:
        out = log.open("ab")
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "serve",
                "--port",
                "0",
                env=dict(env),
                cwd=REPO,
                stdout=out,
                stderr=out,
            )
        finally:
            out.close()
        return cls(process, log)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, like a crash."""
        if self.process.returncode is None:
            self.process.kill()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), timeout=30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def wait_for(condition: Callable[[], bool], *, deadline: float, what: str) -> float:
    """Poll ``condition`` until true; the seconds it took. Fails after ``deadline`` seconds."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > deadline:
            raise AssertionError(f"not within {deadline:.0f} s: {what}")
        await asyncio.sleep(0.1)
    return time.monotonic() - start


def seed(db: Database, *, emergency: int = 1) -> tuple[AppConfig, list[int]]:
    """app.yaml mirrored into the database, and ``emergency`` approved emergency drafts for
    midori-x due now; their ids."""
    config = load_config(REPO / "app.yaml")
    with db.session() as session:
        sync_config(session, config, at=utc_now())
    uc = DraftUseCases(
        db=db,
        directory=config.directory,
        check_settings=config.checks,
        calendar_for=config.calendar,
        clock=utc_now,
    )
    ids = [
        approve(uc, config, text=f"{EMERGENCY_TEXT}（第{n + 1}報）", emergency=True)
        for n in range(emergency)
    ]
    return config, ids


def states(db: Database) -> dict[int, str]:
    with db.session(read_only=True) as session:
        rows = session.exec(select(Publication.id, Publication.state).order_by(col(Publication.id)))
        return {pid: state for pid, state in rows.all() if pid is not None}
