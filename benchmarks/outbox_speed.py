"""Outbox speed: 1,000 publications due in the same minute, published by one process through the
dry-run client, with the real timer (APScheduler ticking every second).

Prints, per database, the time from due to published (the committed outcome) as p50/p99/max, and
the throughput. Target (issue 4): p99 under 2 s after due, on one process.

Two loads: "minute" spreads the due times evenly over one minute (the issue's case); "burst"
makes all of them due in the same second (the worst case: a backlog after a pause or a restart).

    uv run python benchmarks/outbox_speed.py [--publications 1000] [--load minute|burst|both]

SQLite always (a temporary file); PostgreSQL too when POSTGATE_TEST_DATABASE_URL is set (in a
temporary schema, dropped afterwards). Every draft is approved for one of app.yaml's accounts, all
of them on the dry-run client; the business calendar is open around the clock here so that the
figures measure the outbox, not the office hours.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import select

from bot.app import TICK_SECONDS
from bot.config import load_config
from handlers.publishing import LoggingNotifier, Outbox
from sns.dryrun import clients_for
from sns.factory import SnsSettings
from storage.engine import Database
from storage.migrate import upgrade
from storage.sync import sync_config
from storage.tables import Draft, DraftRevision, Publication, Review
from workflows.approval import Content
from workflows.calendar import BusinessCalendar, BusinessHours, Weekday

REPO = Path(__file__).resolve().parents[1]
ALWAYS_OPEN = BusinessCalendar(
    BusinessHours(
        days=tuple(Weekday),
        start=clock_time(0, 0),
        end=clock_time(23, 59, 59, 999999),
        closed_on_holidays=False,
        closed_dates=(),
    )
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def databases() -> Iterator[list[tuple[str, Database]]]:
    made: list[tuple[str, Database]] = []
    with tempfile.TemporaryDirectory() as tmp:
        made.append(("SQLite", Database(f"sqlite:///{Path(tmp) / 'bench.db'}")))
        url = os.environ.get("POSTGATE_TEST_DATABASE_URL")
        schema = f"postgate_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url, poolclass=NullPool) if url else None
        if admin is not None and url:
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            made.append(
                ("PostgreSQL", Database(url, connect_args={"options": f"-csearch_path={schema}"}))
            )
        try:
            yield made
        finally:
            for _, db in made:
                db.dispose()
            if admin is not None:
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


def seed(db: Database, count: int, first_due: datetime, spread: timedelta) -> None:
    """``count`` approved drafts, one publication each, due evenly over ``spread``."""
    config = load_config(REPO / "app.yaml")
    accounts = list(config.accounts)
    now = datetime.now(UTC)
    with db.session() as session:
        sync_config(session, config, at=now)
    with db.session() as session:
        for i in range(count):
            account = accounts[i % len(accounts)]
            content = Content(
                text=f"【みどり市】お知らせ {i}: 詳しくは https://www.city.midori.lg.jp/ へ。",
                targets=(account.id,),
            )
            due = first_due + spread * (i / count)
            draft = Draft(
                author_id="takahashi.yui",
                state="approved",
                revision=1,
                publish_at=due,
                source="benchmark",
                created_at=now,
                updated_at=now,
            )
            session.add(draft)
            session.flush()
            assert draft.id is not None
            digest = content.hash()
            session.add(
                DraftRevision(
                    draft_id=draft.id,
                    revision=1,
                    text=content.text,
                    targets=[account.id],
                    content_hash=digest,
                    created_by="takahashi.yui",
                    created_at=now,
                )
            )
            session.add(
                Review(
                    draft_id=draft.id,
                    revision=1,
                    reviewer_id="sato.keiko",
                    kind="approval",
                    section=account.approving_section,
                    decision="approved",
                    content_hash=digest,
                    created_at=now,
                )
            )
            session.add(
                Publication(
                    draft_id=draft.id,
                    revision=1,
                    account_id=account.id,
                    content_hash=digest,
                    due_at=due,
                    created_at=now,
                    updated_at=now,
                )
            )


async def publish_all(db: Database, count: int, deadline: float) -> Outbox:
    config = load_config(REPO / "app.yaml")
    outbox = Outbox(
        db=db,
        directory=config.directory,
        clients=clients_for(config, {}, SnsSettings(), db=db),
        calendar_for=lambda _account: ALWAYS_OPEN,
        notifier=LoggingNotifier(),
    )
    scheduler = AsyncIOScheduler(timezone=UTC)
    await outbox.tick()
    scheduler.add_job(
        outbox.tick,
        "interval",
        seconds=TICK_SECONDS,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=5,
    )
    scheduler.start()
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            with db.session(read_only=True) as session:
                done = session.exec(
                    select(Publication.id).where(Publication.state == "published")
                ).all()
            if len(done) >= count:
                break
    finally:
        scheduler.shutdown(wait=False)
        await outbox.close(10)
    return outbox


def report(name: str, load: str, db: Database, count: int, first_due: datetime) -> None:
    with db.session(read_only=True) as session:
        rows = session.exec(select(Publication)).all()
    published = [r for r in rows if r.state == "published"]
    lags = [(r.updated_at - r.due_at).total_seconds() for r in published]
    others = sorted({r.state for r in rows} - {"published"})
    last = max(r.updated_at for r in published)
    span = (last - max(first_due, min(r.due_at for r in rows))).total_seconds()
    print(
        f"{name:10} {load:6}: {len(published)}/{count} published"
        + (f" (also: {', '.join(others)})" if others else "")
        + f"; due->published p50 {statistics.median(lags):.3f} s, "
        f"p99 {percentile(lags, 0.99):.3f} s, max {max(lags):.3f} s; "
        f"{len(published) / max(span, 1e-9):,.0f} publications/s from the first due to the last"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publications", type=int, default=1000)
    parser.add_argument("--load", choices=["minute", "burst", "both"], default="both")
    args = parser.parse_args()
    loads = ["minute", "burst"] if args.load == "both" else [args.load]
    for load in loads:
        with databases() as dbs:
            for name, db in dbs:
                upgrade(db)
                spread = timedelta(minutes=1) if load == "minute" else timedelta(0)
                first_due = datetime.now(UTC) + timedelta(seconds=3)
                seed(db, args.publications, first_due, spread)
                deadline = time.monotonic() + 3 + spread.total_seconds() + 120
                await publish_all(db, args.publications, deadline)
                report(name, load, db, args.publications, first_due)


if __name__ == "__main__":
    asyncio.run(main())
