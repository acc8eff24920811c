"""Composition root: builds storage, the checker, the use cases, the SNS clients and the outbox
timer, and the HTTP application.

The timer is APScheduler's AsyncIOScheduler ticking the outbox every second (and once at
start-up; each tick is followed at once by the results it published, into their threads), the
account monitors every 30 seconds (each account is polled once per monitor interval, whichever
replica's tick finds it due) and, with a chat platform on, the approval reminders every
``POSTGATE_CHAT_TICK_SECONDS`` and the incident reminders every minute (each claimed in the
database). It is only a timer: the database is the truth, so a tick missed or skipped loses
nothing — the next one claims whatever is due.

Chat: each adapter (``bot.slack``, ``bot.teams``) whose variables are set adds its platform to
one ``bot.chat.hub.ChatHub``, which is the outbox's ``Notifier`` and the monitors' ``Alerts``;
with no chat platform they only log (``LoggingNotifier``, ``LoggingAlerts``)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.chat.hub import ChatHub
from bot.config import AppConfig
from bot.slack.app import install as install_slack
from bot.teams.app import install as install_teams
from handlers.chat import ChatUseCases
from handlers.deletions import DeletionUseCases
from handlers.drafts import Clock, DraftUseCases, utc_now
from handlers.incidents import AlertChannel, Alerts, IncidentUseCases, LoggingAlerts
from handlers.monitors import Monitor, MonitorSettings, monitor_clients
from handlers.publishing import (
    LoggingNotifier,
    Notifier,
    Outbox,
    OutboxSettings,
    PublicationUseCases,
)
from sns.dryrun import clients_for, is_dry_run
from sns.factory import SnsSettings
from storage.engine import Database
from storage.sync import sync_config
from workflows.approval import EscalationPolicy
from workflows.checks import Checker
from workflows.publishing import SendRules

log = logging.getLogger("postgate")

TICK_SECONDS: Final = 1.0
# The monitors' timer: each tick polls only the accounts whose interval has passed (the database
# says when each was last polled, by whichever replica).
MONITOR_TICK_SECONDS: Final = 30.0
# The incident reminders' timer: each run claims the incidents due for a reminder (app.yaml
# monitoring.incident_remind_after_minutes), so a run more or less changes nothing.
INCIDENT_REMINDER_TICK_SECONDS: Final = 60.0
# On shutdown, publications in flight get this long to finish; the rest stay "sending" and are
# reconciled by the next start (never sent blindly again).
SHUTDOWN_GRACE_SECONDS: Final = 10.0


@dataclass(frozen=True)
class Services:
    """Everything the request handlers use, built once at start-up."""

    config: AppConfig
    db: Database
    checker: Checker
    drafts: DraftUseCases
    publications: PublicationUseCases
    incidents: IncidentUseCases
    deletions: DeletionUseCases


SERVICES_KEY: web.AppKey[Services] = web.AppKey("services", Services)
OUTBOX_KEY: web.AppKey[Outbox] = web.AppKey("outbox", Outbox)
MONITOR_KEY: web.AppKey[Monitor] = web.AppKey("monitor", Monitor)
TIMER_KEY: web.AppKey[AsyncIOScheduler] = web.AppKey("timer", AsyncIOScheduler)
HUB_KEY: web.AppKey[ChatHub] = web.AppKey("chat", ChatHub)
CHAT_TICK_KEY: web.AppKey[float] = web.AppKey("chat_tick", float)
RUNNING_KEY: web.AppKey[set[asyncio.Task[object]]] = web.AppKey("running_ticks", set)


def build_services(config: AppConfig, db: Database, *, clock: Clock = utc_now) -> Services:
    directory = config.directory
    drafts = DraftUseCases(
        db=db,
        directory=directory,
        check_settings=config.checks,
        calendar_for=config.calendar,
        clock=clock,
    )
    publications = PublicationUseCases(
        db=db, directory=directory, calendar_for=config.calendar, clock=clock
    )
    alerts = config.channels.alerts
    deletions = DeletionUseCases(db=db, directory=directory, drafts=drafts, clock=clock)
    return Services(
        config=config,
        db=db,
        checker=Checker(config.checks, config.calendar()),
        drafts=drafts,
        publications=publications,
        incidents=IncidentUseCases(
            db=db,
            directory=directory,
            organisation=config.organisation,
            drafts=drafts,
            allowlist=config.allowlist,
            alert_channel=AlertChannel(alerts.slack, alerts.teams) if alerts else None,
            clock=clock,
            publications=publications,
        ),
        deletions=deletions,
    )


def build_hub(config: AppConfig, services: Services, *, clock: Clock = utc_now) -> ChatHub:
    """The chat orchestration every chat adapter adds its platform to."""
    timing = config.approval  # app.yaml `approval:`: when reminders and deputies come in
    chat = ChatUseCases(
        db=services.db,
        drafts=services.drafts,
        clock=clock,
        escalation_policy=EscalationPolicy(
            remind_after=timedelta(minutes=timing.remind_after_minutes),
            deputies_after=timedelta(minutes=timing.deputies_after_minutes),
        ),
    )
    return ChatHub(
        chat=chat,
        incidents=services.incidents,
        clock=clock,
        remind_after=timedelta(minutes=config.monitoring.incident_remind_after_minutes),
    )


def build_outbox(
    config: AppConfig,
    db: Database,
    environ: Mapping[str, str],
    *,
    notifier: Notifier | None = None,
    clock: Clock = utc_now,
) -> Outbox:
    """The publishing worker, with the real client for every account whose credentials are all
    set in ``environ`` and the dry-run client for the others."""
    clients = clients_for(config, environ, SnsSettings.from_env(environ), db=db)
    dry = sorted(a for a, c in clients.items() if is_dry_run(c))
    if dry:
        log.info("dry run (no credentials) for: %s", ", ".join(dry))
    rules = SendRules(max_lateness=timedelta(hours=config.publishing.missed_post_limit_hours))
    return Outbox(
        db=db,
        directory=config.directory,
        clients=clients,
        calendar_for=config.calendar,
        notifier=notifier or LoggingNotifier(),
        settings=OutboxSettings(rules=rules),
        clock=clock,
    )


def build_monitor(
    config: AppConfig,
    db: Database,
    environ: Mapping[str, str],
    *,
    incidents: IncidentUseCases,
    alerts: Alerts | None = None,
    clock: Clock = utc_now,
) -> Monitor:
    """The account monitors, with their own client for every account whose credentials are all
    set in ``environ``; the others are not watched (one INFO line each)."""
    clients = monitor_clients(config.accounts, environ, SnsSettings.from_env(environ), clock=clock)
    timing = config.monitoring
    return Monitor(
        db=db,
        incidents=incidents,
        clients=clients,
        alerts=alerts or LoggingAlerts(),
        settings=MonitorSettings(
            interval=timedelta(minutes=timing.interval_minutes),
            lookup_interval=timedelta(hours=timing.impersonation_lookup_hours),
        ),
        clock=clock,
    )


async def publish_and_report(app: web.Application) -> None:
    """The outbox's tick, then at once the results it published into their threads (so a
    result is in the thread within seconds, not on the next chat tick)."""
    await app[OUTBOX_KEY].tick()
    hub = app[HUB_KEY]
    if hub.platforms:
        await hub.report_published()


async def start_timer(app: web.Application) -> None:
    """One tick at start-up (what came due while postgate was down), then one every second;
    with chat on, each outbox tick is followed at once by the results it published."""
    hub = app[HUB_KEY]
    running: set[asyncio.Task[object]] = set()
    app[RUNNING_KEY] = running

    async def publish() -> None:
        # Tracked: shutdown waits for a tick (and its chat reports) in progress.
        task = asyncio.current_task()
        assert task is not None
        running.add(task)
        try:
            await publish_and_report(app)
        finally:
            running.discard(task)

    await publish()
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        publish,
        "interval",
        seconds=TICK_SECONDS,
        id="outbox",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=5,
    )
    monitor = app.get(MONITOR_KEY)
    if monitor is not None:
        scheduler.add_job(
            monitor.tick,
            "interval",
            seconds=MONITOR_TICK_SECONDS,
            id="monitors",
            max_instances=1,
            coalesce=True,
        )
    if hub.platforms:  # approval reminders (and results the outbox hook missed)
        scheduler.add_job(
            hub.tick,
            "interval",
            seconds=app[CHAT_TICK_KEY],
            id="chat",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(  # unacknowledged incidents: the card's thread and the recipients
            hub.remind_incidents,
            "interval",
            seconds=INCIDENT_REMINDER_TICK_SECONDS,
            id="incident_reminders",
            max_instances=1,
            coalesce=True,
        )
    scheduler.start()
    app[TIMER_KEY] = scheduler


async def stop_timer(app: web.Application) -> None:
    scheduler = app.get(TIMER_KEY)
    if scheduler is not None and scheduler.running:
        scheduler.shutdown(wait=False)
    running = app.get(RUNNING_KEY)
    if running:  # a tick in progress finishes (its database work must not be cut off)
        await asyncio.wait(list(running), timeout=SHUTDOWN_GRACE_SECONDS)
    monitor = app.get(MONITOR_KEY)
    if monitor is not None:
        await monitor.close()
    cancelled = await app[OUTBOX_KEY].close(SHUTDOWN_GRACE_SECONDS)
    if cancelled:
        log.warning(
            "%d publication(s) still in flight at shutdown: reconciled at the next start",
            cancelled,
        )


def synchronise(config: AppConfig, db: Database) -> int:
    """Mirror app.yaml's sections, members and accounts into the database (changes audited)."""
    with db.session() as session:
        return len(sync_config(session, config, at=datetime.now(UTC)))


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    body: dict[str, Any] = {
        "status": "ok",
        "organisation": services.config.organisation.name,
        "accounts": len(services.config.accounts),
    }
    return web.json_response(body)


def build_app(
    config: AppConfig,
    db: Database,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock = utc_now,
) -> web.Application:
    app = web.Application()
    env = os.environ if environ is None else environ
    services = build_services(config, db, clock=clock)
    app[SERVICES_KEY] = services
    hub = build_hub(config, services, clock=clock)
    app[HUB_KEY] = hub
    app[CHAT_TICK_KEY] = float(
        env.get("POSTGATE_CHAT_TICK_SECONDS") or env.get("POSTGATE_SLACK_TICK_SECONDS") or 30
    )
    for install in (install_slack, install_teams):  # each adds its platform to the hub
        install(
            app,
            config=config,
            drafts=services.drafts,
            publications=services.publications,
            incidents=services.incidents,
            deletions=services.deletions,
            chat=hub.chat,
            hub=hub,
            environ=env,
            clock=clock,
        )
    chat_on = bool(hub.platforms)  # else the log is where notices and alerts go
    notifier = hub if chat_on else None
    app[OUTBOX_KEY] = build_outbox(config, db, env, notifier=notifier, clock=clock)
    app[MONITOR_KEY] = build_monitor(
        config,
        db,
        env,
        incidents=services.incidents,
        alerts=hub if chat_on else None,
        clock=clock,
    )
    app.on_startup.append(start_timer)
    app.on_cleanup.append(stop_timer)
    app.router.add_get("/healthz", healthz)
    return app


def run(config: AppConfig, db: Database, *, host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Every tick would be logged at INFO ("Running job ..."); job errors still show as ERROR.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    changes = synchronise(config, db)
    log.info(
        "postgate serving %s: %d sections, %d accounts, database %s (%d configuration changes "
        "recorded) on http://%s:%d",
        config.organisation.name,
        len(config.sections),
        len(config.accounts),
        db.url,
        changes,
        host,
        port,
    )
    web.run_app(build_app(config, db), host=host, port=port, print=None)
