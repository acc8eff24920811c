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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.errors import SlackApiError

from bot.config import AppConfig
from bot.slack import render
from bot.slack.app import SLACK_KEY, SlackBot
from bot.slack.app import install as install_slack
from handlers.anchors import Announcer, AuditAnchors, LoggingAnnouncer
from handlers.drafts import Clock, DraftUseCases, utc_now
from handlers.incidents import AlertChannel, Alerts, IncidentUseCases, LoggingAlerts
from handlers.monitors import Monitor, MonitorSettings, blind_watches, monitor_clients
from handlers.outage import DatabaseOutage
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
TIMER_KEY: web.AppKey[AsyncIOScheduler] = web.AppKey("timer", AsyncIOScheduler)
ANCHORS_KEY: web.AppKey[AuditAnchors] = web.AppKey("anchors", AuditAnchors)
OUTAGE_KEY: web.AppKey[DatabaseOutage] = web.AppKey("outage", DatabaseOutage)


class SlackAnnouncer:
    """Short lines in the Slack alerts channel: audit anchors, a monitor that cannot see (never
    raises)."""

    def __init__(self, slack: SlackBot, channel: str) -> None:
        self.slack = slack
        self.channel = channel

    async def announce(self, text: str, member_ids: Sequence[str] = ()) -> None:
        try:
            mentions = self.slack.delivery.slack_ids(tuple(member_ids))
            await self.slack.delivery.post(self.channel, render.note(text, mentions=mentions))
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            log.error("alerts-channel line not posted to Slack: %s", type(error).__name__)


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
        settings=OutboxSettings(
            rules=rules,
            give_up_after=timedelta(minutes=config.publishing.give_up_after_minutes),
        ),
        clock=clock,
    )


def build_monitor(
    config: AppConfig,
    db: Database,
    environ: Mapping[str, str],
    *,
    incidents: IncidentUseCases,
    alerts: Alerts | None = None,
    announcer: Announcer | None = None,
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
        announcer=announcer,
    )


def guarded(
    outage: DatabaseOutage, job: Callable[[], Awaitable[object]], name: str
) -> Callable[[], Awaitable[None]]:
    """A timer job whose database errors are counted by ``outage`` (no traceback a second)."""

    async def run() -> None:
        await outage.guard(job, name)

    return run


async def start_timer(app: web.Application) -> None:
    """One tick at start-up (what came due while postgate was down), then one every second."""
    outbox = app[OUTBOX_KEY]
    outage = app[OUTAGE_KEY]
    await outage.guard(outbox.tick, "outbox")
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        guarded(outage, outbox.tick, "outbox"),
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
            guarded(outage, monitor.tick, "monitors"),
            "interval",
            seconds=MONITOR_TICK_SECONDS,
            id="monitors",
            max_instances=1,
            coalesce=True,
        )
    anchors = app.get(ANCHORS_KEY)
    if anchors is not None:  # the audit chain's head, outside the database
        scheduler.add_job(
            guarded(outage, anchors.tick, "audit anchors"),
            "interval",
            minutes=app[SERVICES_KEY].config.audit.anchor_every_minutes,
            id="audit_anchors",
            max_instances=1,
            coalesce=True,
        )
    slack = app.get(SLACK_KEY)
    if slack is not None:  # results back to threads, approval reminders
        scheduler.add_job(
            guarded(outage, slack.tick, "slack"),
            "interval",
            seconds=slack.settings.tick.total_seconds(),
            id="slack",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(  # unacknowledged incidents: the card's thread and the recipients
            guarded(outage, slack.remind_incidents, "incident reminders"),
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
    blind = await asyncio.to_thread(blind_watches, services.db)
    body: dict[str, Any] = {
        "status": "degraded" if blind else "ok",
        "organisation": services.config.organisation.name,
        "accounts": len(services.config.accounts),
        # 監視できていません: watched accounts whose reads keep failing.
        "monitoring_blind": [
            {
                "account": b.account_id,
                "since": b.since.isoformat(),
                "failed_polls": b.failed_polls,
                "error": b.error,
            }
            for b in blind
        ],
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
    channel = config.channels.alerts.slack if config.channels.alerts else None
    announcer: Announcer | None = None
    if slack is not None and channel:
        announcer = SlackAnnouncer(slack, channel)
    app[MONITOR_KEY] = build_monitor(
        config,
        db,
        env,
        incidents=services.incidents,
        alerts=alerts,
        announcer=announcer or LoggingAnnouncer(),
        clock=clock,
    )
    if config.audit.anchor_file is not None or announcer is not None:
        app[ANCHORS_KEY] = AuditAnchors(db, config.audit.anchor_file, announcer, clock)
    app[OUTAGE_KEY] = DatabaseOutage(clock)
    app.on_startup.append(start_timer)
    app.on_cleanup.append(stop_timer)
    app.router.add_get("/healthz", healthz)
    return app


class _DropNoise(logging.Filter):
    """Drops log records that say nothing an operator can act on."""

    def __init__(self, *fragments: str) -> None:
        super().__init__()
        self.fragments = fragments

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        return not any(fragment in text for fragment in self.fragments)


def quiet_noise() -> None:
    """Every tick would be logged at INFO ("Running job ..."); job errors still show as ERROR.
    A tick skipped because the previous one still runs loses nothing (the next one claims what
    is due), and bolt's "token will be unused" only says the client carries the token."""
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _DropNoise) for f in scheduler.filters):
        scheduler.addFilter(_DropNoise("maximum number of running instances"))
    bolt = logging.getLogger("slack_bolt")
    if not any(isinstance(f, _DropNoise) for f in bolt.filters):
        bolt.addFilter(_DropNoise("will be unused"))


def run(config: AppConfig, db: Database, *, host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    quiet_noise()
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
