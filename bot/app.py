"""Composition root: builds storage, the checker, the use cases, the SNS clients and the outbox
timer, and the HTTP application.

The timer is APScheduler's AsyncIOScheduler ticking the outbox every second (and once at
start-up), the account monitors every 30 seconds (each account is polled once per monitor
interval, whichever replica's tick finds it due) and, with Slack on, the incident reminders every
minute (each reminder claimed in the database). It is only a timer: the database is the truth,
so a tick missed or skipped loses nothing — the next one claims whatever is due (PLATFORMS.md,
"APScheduler 3.11").

The monitors' incidents reach people through the Slack adapter's ``SlackAlerts`` when Slack is
configured, else they are only logged (``LoggingAlerts``)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any, Final

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import AppConfig
from bot.slack.app import SLACK_KEY
from bot.slack.app import install as install_slack
from bot.web import install as install_web
from bot.web.security import RedactingAccessLogger
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


SERVICES_KEY: web.AppKey[Services] = web.AppKey("services", Services)
OUTBOX_KEY: web.AppKey[Outbox] = web.AppKey("outbox", Outbox)
MONITOR_KEY: web.AppKey[Monitor] = web.AppKey("monitor", Monitor)


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
    clients = clients_for(config, environ, SnsSettings.from_env(environ), db=db, clock=clock)
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


class Timer:
    """APScheduler as a timer only, remembering the ticks it started so that shutdown can wait
    for them: nothing touches the database after the application has stopped."""

    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._running: set[asyncio.Task[None]] = set()

    def every(self, seconds: float, job: Callable[[], Awaitable[object]], name: str) -> None:
        async def tracked() -> None:
            task = asyncio.current_task()
            assert task is not None  # APScheduler runs coroutine jobs as tasks
            self._running.add(task)
            try:
                await job()
            finally:
                self._running.discard(task)

        self.scheduler.add_job(
            tracked, "interval", seconds=seconds, id=name, max_instances=1, coalesce=True
        )

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self, grace: float) -> None:
        """Stop ticking; ticks already running get ``grace`` seconds, then are cancelled."""
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace)
        late = set(self._running)
        self.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)


TIMER_KEY: web.AppKey[Timer] = web.AppKey("timer", Timer)


async def start_timer(app: web.Application) -> None:
    """One tick at start-up (what came due while postgate was down), then one every second."""
    outbox = app[OUTBOX_KEY]
    await outbox.tick()
    timer = Timer()
    timer.every(TICK_SECONDS, outbox.tick, "outbox")
    monitor = app.get(MONITOR_KEY)
    if monitor is not None:
        timer.every(MONITOR_TICK_SECONDS, monitor.tick, "monitors")
    slack = app.get(SLACK_KEY)
    if slack is not None:  # results back to threads, approval reminders
        timer.every(slack.settings.tick.total_seconds(), slack.tick, "slack")
        # unacknowledged incidents: the card's thread and the recipients
        timer.every(INCIDENT_REMINDER_TICK_SECONDS, slack.remind_incidents, "incident_reminders")
    timer.start()
    app[TIMER_KEY] = timer


async def stop_timer(app: web.Application) -> None:
    timer = app.get(TIMER_KEY)
    if timer is not None:
        await timer.stop(SHUTDOWN_GRACE_SECONDS)
    monitor = app.get(MONITOR_KEY)
    if monitor is not None:
        await monitor.close()
    cancelled = await app[OUTBOX_KEY].close(SHUTDOWN_GRACE_SECONDS)
    if cancelled:
        log.warning(
            "%d publication(s) still in flight at shutdown: reconciled at the next start",
            cancelled,
        )


def synchronise(config: AppConfig, db: Database, *, clock: Clock = utc_now) -> int:
    """Mirror app.yaml's sections, members and accounts into the database (changes audited)."""
    with db.session() as session:
        return len(sync_config(session, config, at=clock()))


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
    timers: bool = True,
) -> web.Application:
    """The HTTP application. ``timers=False`` leaves the outbox, monitor and reminder ticks to
    the caller (tests drive them by advancing ``clock`` and calling each tick)."""
    app = web.Application()
    env = os.environ if environ is None else environ
    services = build_services(config, db, clock=clock)
    app[SERVICES_KEY] = services
    slack = install_slack(
        app,
        config=config,
        drafts=services.drafts,
        publications=services.publications,
        incidents=services.incidents,
        environ=env,
        clock=clock,
    )
    notifier = slack.notifier if slack is not None else None
    app[OUTBOX_KEY] = build_outbox(config, db, env, notifier=notifier, clock=clock)
    alerts = slack.alerts if slack is not None else None  # else LoggingAlerts
    app[MONITOR_KEY] = build_monitor(
        config, db, env, incidents=services.incidents, alerts=alerts, clock=clock
    )
    if timers:
        app.on_startup.append(start_timer)
    app.on_cleanup.append(stop_timer)
    app.router.add_get("/healthz", healthz)
    install_web(
        app,
        config=config,
        db=db,
        drafts=services.drafts,
        publications=services.publications,
        incidents=services.incidents,
        environ=env,
        clock=clock,
    )
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
    web.run_app(
        build_app(config, db),
        host=host,
        port=port,
        print=None,
        access_log_class=RedactingAccessLogger,  # no sign-in link or feed token in the log
    )
