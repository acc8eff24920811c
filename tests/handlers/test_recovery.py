"""Recovery in seconds: a short lease renewed while its worker lives, claims of a dead process
released at the next start, emergency posts first, and a database outage told once."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from bot.app import quiet_noise
from bot.config import AppConfig
from handlers.drafts import DraftUseCases
from handlers.outage import DatabaseOutage
from handlers.publishing import OutboxSettings, default_worker_id
from storage import outbox
from storage.engine import Database
from tests.handlers.conftest import NOW, FixedClock
from tests.handlers.publishing_support import (
    FAST_RETRY,
    RecordingNotifier,
    approve,
    dry_posts,
    make_outbox,
    publications,
    scripted,
)


async def test_a_living_worker_keeps_its_claim_and_a_dead_ones_is_taken_over_after_the_lease(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    client.gate = asyncio.Event()  # the platform takes its time
    settings = OutboxSettings(retry=FAST_RETRY, worker_id="alive:1:a")
    alive = make_outbox(db, config, clock, RecordingNotifier(), clients=clients, settings=settings)
    other = make_outbox(db, config, clock, RecordingNotifier(), clients=clients, worker_id="b")
    assert (await alive.tick()).claimed == 1
    for _ in range(6):  # three leases long, renewed by the heartbeat of the living worker
        clock.now += timedelta(seconds=15)
        await alive.tick()
        assert (await other.run_once()).claimed == 0
    [row] = publications(db)
    assert (row.state, row.leased_by) == ("sending", "alive:1:a")
    assert row.lease_until is not None
    assert row.lease_until > clock.now
    # The worker dies mid-call: within one lease the other reconciles, then sends, once.
    cancelled = await alive.close(0)
    assert cancelled == 1
    client.gate.set()  # the platform answers again
    clock.now += settings.lease
    report = await other.run_once()
    assert report.reconciling == 1
    [row] = publications(db)
    assert row.state == "published"
    assert len(dry_posts(db)) == 1


async def test_at_start_the_claims_of_a_dead_process_on_this_host_are_reconciled_at_once(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    approve(usecases, config)
    host = default_worker_id().split(":", 1)[0]
    dead = f"{host}:{_dead_pid()}:abcdef"  # a process of this host that has exited
    with db.session() as session:
        outbox.claim_due(session, now=clock(), worker_id=dead, lease=timedelta(minutes=5), limit=1)
    box = make_outbox(db, config, clock, RecordingNotifier(), settings=OutboxSettings())
    report = await box.run_once()  # no clock moved: the lease is not over, the process is
    assert report.reconciling == 1
    [row] = publications(db)
    assert row.state == "published"
    assert len(dry_posts(db)) == 1


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def test_emergency_posts_are_claimed_first(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    ordinary = approve(usecases, config, publish_at=NOW - timedelta(minutes=1))
    urgent = approve(usecases, config, emergency=True)
    with db.session() as session:
        [first] = outbox.claim_due(session, now=clock(), worker_id="w", lease=timedelta(1), limit=1)
    assert first.draft_id == urgent
    assert first.draft_id != ordinary


def test_a_database_outage_is_told_once_counted_and_its_end_said(
    clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    outage = DatabaseOutage(clock)
    error = OperationalError("SELECT 1", {}, Exception("connection refused\nDETAIL: more"))
    caplog.set_level(logging.INFO, logger="postgate.database")
    for _ in range(65):  # a tick a second for 65 s
        outage.failed(error, "outbox")
        clock.now += timedelta(seconds=1)
    outage.succeeded()
    outage.succeeded()
    lines = [r.getMessage() for r in caplog.records if r.name == "postgate.database"]
    assert len(lines) == 3
    assert "database unavailable (outbox" in lines[0]
    assert "connection refused" in lines[0]
    assert "DETAIL" not in lines[0]
    assert "still unavailable: 61 failed attempts" in lines[1]
    assert "available again after 65 s (65 failed attempts)" in lines[2]
    assert not any(r.exc_info for r in caplog.records)


def test_scheduler_skips_and_bolts_token_note_are_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet_noise()
    caplog.set_level(logging.INFO)
    logging.getLogger("apscheduler.scheduler").warning(
        'Execution of job "%s" skipped: maximum number of running instances reached (%d)',
        "Outbox.tick",
        1,
    )
    logging.getLogger("slack_bolt").warning("As you gave `client` as well, `token` will be unused.")
    logging.getLogger("apscheduler.scheduler").warning("Job failed for a real reason")
    assert [r.getMessage() for r in caplog.records] == ["Job failed for a real reason"]
