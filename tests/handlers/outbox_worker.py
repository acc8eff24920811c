"""A worker process for the concurrency tests: ticks the outbox until nothing is due.

    python -m tests.handlers.outbox_worker URL SCHEMA NOW GATE_DIR WORKER_ID

``SCHEMA`` is the PostgreSQL schema of the test ("-" for SQLite); ``NOW`` the (fixed) ISO time the
worker's clock shows. Once ready, the worker creates ``GATE_DIR/ready-WORKER_ID`` and waits for
``GATE_DIR/go``, so that both processes start claiming at the same moment. Prints one JSON line:
the ids this worker claimed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import load_config
from handlers.publishing import Outbox, OutboxSettings
from sns.base import Checkpoint, PostRequest, Profile, PublishedPost, Reconciliation, SnsClient
from sns.dryrun import clients_for
from sns.factory import SnsSettings
from storage.engine import Database
from tests.handlers.conftest import FixedClock
from tests.handlers.publishing_support import RecordingNotifier

REPO = Path(__file__).resolve().parents[2]


class WithLatency:
    """A dry-run client that takes a network round trip's time to answer, as a platform does:
    meanwhile the database is free for the other process."""

    def __init__(self, inner: SnsClient) -> None:
        self.inner = inner
        self.platform = inner.platform

    async def publish(
        self, post: PostRequest, *, material: Mapping[str, str], checkpoint: Checkpoint
    ) -> PublishedPost:
        await asyncio.sleep(0.05)
        return await self.inner.publish(post, material=material, checkpoint=checkpoint)

    async def reconcile(
        self, post: PostRequest, *, material: Mapping[str, str], sent_after: datetime
    ) -> Reconciliation:
        return await self.inner.reconcile(post, material=material, sent_after=sent_after)

    async def delete(self, post_id: str) -> None:
        await self.inner.delete(post_id)

    async def recent_posts(self, *, limit: int = 20) -> list[PublishedPost]:
        return await self.inner.recent_posts(limit=limit)

    async def profile(self) -> Profile:
        return await self.inner.profile()

    async def close(self) -> None:
        await self.inner.close()


async def main(url: str, schema: str, now: str, gate: Path, worker_id: str) -> None:
    connect_args: dict[str, Any] = {}
    if schema != "-":
        connect_args["options"] = f"-csearch_path={schema}"
    db = Database(url, connect_args=connect_args)
    config = load_config(REPO / "app.yaml")
    clock = FixedClock(datetime.fromisoformat(now))
    clients = {
        account_id: WithLatency(client)
        for account_id, client in clients_for(config, {}, SnsSettings(), db=db, clock=clock).items()
    }
    box = Outbox(
        db=db,
        directory=config.directory,
        clients=clients,
        calendar_for=config.calendar,
        notifier=RecordingNotifier(),
        # Small batches, so that the two processes interleave their claims.
        settings=OutboxSettings(batch=5, max_in_flight=5, worker_id=worker_id),
        clock=clock,
    )
    claimed: list[int] = []
    original = box._claim_batch

    def recording(limit: int) -> Any:
        count, jobs, notices = original(limit)
        claimed.extend(job.claim.publication_id for job in jobs)
        return count, jobs, notices

    box._claim_batch = recording  # type: ignore[method-assign]
    # Warm up (connect, compile the queries) with a clock before anything is due, so that both
    # processes are equally quick off the mark.
    clock.now = datetime(2000, 1, 1, tzinfo=UTC)
    await box.run_once()
    clock.now = datetime.fromisoformat(now)
    (gate / f"ready-{worker_id}").touch()
    deadline = time.monotonic() + 60
    while not (gate / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    idle = 0
    while idle < 3:
        report = await box.run_once()
        idle = idle + 1 if report.claimed == 0 else 0
        # Between ticks, as the real timer does: on SQLite a process that never lets go of the
        # write lock would leave the other one nothing to claim.
        await asyncio.sleep(0.02)
        clock.now += timedelta(milliseconds=1)
    db.dispose()
    print(json.dumps({"worker": worker_id, "claimed": claimed}))


if __name__ == "__main__":
    url, schema, now, gate, worker_id = sys.argv[1:6]
    asyncio.run(main(url, schema, now, Path(gate), worker_id))
