"""Composition root: builds storage, the checker, the use cases, the SNS clients and the outbox
timer, and the HTTP application.

The timer is APScheduler's AsyncIOScheduler ticking the outbox every second (and once at
start-up; each tick is followed at once by the results it published, into their threads), the
account monitors every 30 seconds (each account is polled once per monitor interval, whichever
replica's tick finds it due) and, with a chat platform on, the approval reminders every
``POSTGATE_CHAT_TICK_SECONDS`` (and, as often, a look whether the weekly digest is due) and the
incident reminders every minute (each claimed in the database). It is only a timer: the
database is the truth, so a tick missed or skipped loses nothing — the next one claims whatever
is due.

Chat: each adapter (``bot.slack``, ``bot.teams``) whose variables are set adds its platform to
one ``bot.chat.hub.ChatHub``, which is the outbox's ``Notifier`` and the monitors' ``Alerts``;
with no chat platform they only log (``LoggingNotifier``, ``LogAlerts`` in the administrator's
language)."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any, Final

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.chat.context import ChatContext
from bot.chat.digest import WeeklyDigest
from bot.chat.hub import ChatHub
from bot.config import AppConfig
from bot.slack.app import install as install_slack
from bot.teams.app import install as install_teams
from bot.web import install as install_web
from bot.web.security import RedactingAccessLogger, WebSettings
from handlers.anchors import Announcer, AuditAnchors, LoggingAnnouncer
from handlers.chat import ChatUseCases
from handlers.deletions import DeletionUseCases
from handlers.drafts import Clock, DraftUseCases, utc_now
from handlers.incidents import AlertChannel, Alerts, IncidentUseCases, IncidentView
from handlers.monitors import (
    Monitor,
    MonitorReport,
    MonitorSettings,
    PollOutcome,
    PollReport,
    blind_watches,
    monitor_clients,
)
from handlers.outage import DatabaseOutage
from handlers.plan import Plan
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
from workflows.catalogue import Lang, message
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
LANG_KEY: web.AppKey[Lang] = web.AppKey("lang", Lang)
HUB_KEY: web.AppKey[ChatHub] = web.AppKey("chat", ChatHub)
CHAT_TICK_KEY: web.AppKey[float] = web.AppKey("chat_tick", float)
ANCHORS_KEY: web.AppKey[AuditAnchors] = web.AppKey("anchors", AuditAnchors)
DIGEST_KEY: web.AppKey[WeeklyDigest] = web.AppKey("weekly_digest", WeeklyDigest)
OUTAGE_KEY: web.AppKey[DatabaseOutage] = web.AppKey("outage", DatabaseOutage)


def build_services(config: AppConfig, db: Database, *, clock: Clock = utc_now) -> Services:
    db.clock = clock  # rows' updated_at by the same clock as everything else
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
    lang: Lang = Lang.JA,
) -> Outbox:
    """The publishing worker, with the real client for every account whose credentials are all
    set in ``environ`` and the dry-run client for the others."""
    clients = clients_for(config, environ, SnsSettings.from_env(environ), db=db, clock=clock)
    dry = sorted(a for a, c in clients.items() if is_dry_run(c))
    real = sorted(a for a in clients if a not in dry)
    if real:
        log.info(message("serve.publishing", lang, accounts=", ".join(real)))
    if dry:
        log.warning(message("serve.dry_run", lang, accounts=", ".join(dry)))
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
    lang: Lang = Lang.JA,
) -> Monitor:
    """The account monitors, with their own client for every account whose credentials are all
    set in ``environ``; the others are not watched (said once, in one line)."""
    clients = monitor_clients(config.accounts, environ, SnsSettings.from_env(environ), clock=clock)
    timing = config.monitoring
    if clients:
        watched = ", ".join(sorted(clients))
        minutes = timing.interval_minutes
        log.info(message("serve.watching", lang, accounts=watched, minutes=minutes))
    unwatched = sorted(a.id for a in config.accounts if a.id not in clients)
    if unwatched:
        log.info(message("serve.not_watched", lang, accounts=", ".join(unwatched)))
    return Monitor(
        db=db,
        incidents=incidents,
        clients=clients,
        alerts=alerts or LogAlerts(lang),
        settings=MonitorSettings(
            interval=timedelta(minutes=timing.interval_minutes),
            lookup_interval=timedelta(hours=timing.impersonation_lookup_hours),
        ),
        clock=clock,
        announcer=announcer,
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


async def publish_and_report(app: web.Application) -> None:
    """The outbox's tick, then at once the results it published into their threads (so a
    result is in the thread within seconds, not on the next chat tick)."""
    await app[OUTBOX_KEY].tick()
    hub = app[HUB_KEY]
    if hub.platforms:
        await hub.report_published()


def guarded(
    outage: DatabaseOutage, job: Callable[[], Awaitable[object]], name: str
) -> Callable[[], Awaitable[None]]:
    """A timer job whose database errors are counted by ``outage`` (no traceback a second)."""

    async def run() -> None:
        await outage.guard(job, name)

    return run


async def start_timer(app: web.Application) -> None:
    """One tick at start-up (what came due while postgate was down), then one every second;
    with chat on, each outbox tick is followed at once by the results it published. A job's
    database errors are counted by the outage tracker: one warning, a count, one line when back."""
    outage = app[OUTAGE_KEY]
    timer = Timer()

    def every(seconds: float, job: Callable[[], Awaitable[object]], name: str) -> None:
        timer.every(seconds, guarded(outage, job, name), name)

    async def publish() -> None:
        await publish_and_report(app)

    await outage.guard(publish, "outbox")
    every(TICK_SECONDS, publish, "outbox")
    monitor = app.get(MONITOR_KEY)
    if monitor is not None:
        lang = app.get(LANG_KEY, Lang.JA)

        async def poll() -> None:
            log_polls(await monitor.tick(), lang)

        every(MONITOR_TICK_SECONDS, poll, "monitors")
    anchors = app.get(ANCHORS_KEY)
    if anchors is not None:  # the audit chain's head, outside the database
        every(
            app[SERVICES_KEY].config.audit.anchor_every_minutes * 60, anchors.tick, "audit_anchors"
        )
    hub = app[HUB_KEY]
    if hub.platforms:  # approval reminders (and results the outbox hook missed)
        every(app[CHAT_TICK_KEY], hub.tick, "chat")
        # unacknowledged incidents: the card's thread and the recipients
        every(INCIDENT_REMINDER_TICK_SECONDS, hub.remind_incidents, "incident_reminders")
        # next week's plan and its gaps, to each section's drafts channel (claimed per week)
        every(app[CHAT_TICK_KEY], app[DIGEST_KEY].tick, "weekly_digest")
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
        lang = app.get(LANG_KEY, Lang.JA)
        log.warning(message("serve.in_flight_at_shutdown", lang, count=cancelled))


def log_polls(report: MonitorReport, lang: Lang) -> None:
    """The monitors' tick in the administrator's words: what was read, what could not be."""
    polled = [
        p.account_id
        for p in report.polls
        if p.account_id and p.outcome in (PollOutcome.POLLED, PollOutcome.BASELINE)
    ]
    if polled:
        log.info(message("serve.polled", lang, accounts=", ".join(polled)))
    for poll in report.polls:
        if poll.outcome is PollOutcome.FAILED:
            account = poll.account_id or poll.key
            log.warning(message("serve.poll_failed", lang, account=account, error=poll.error))


class LogAlerts:
    """Incident alerts written to the log, when no chat adapter delivers them."""

    def __init__(self, lang: Lang = Lang.JA) -> None:
        self.lang = lang

    async def incident_opened(self, view: IncidentView) -> None:
        contacts = ", ".join(view.audience.dm_member_ids) or message("serve.none", self.lang)
        log.warning(
            message(
                "serve.incident_opened",
                self.lang,
                id=view.id,
                kind=message(f"incident.kind.{view.kind.value}", self.lang),
                account=view.account_id or "-",
                summary=view.summary,
                contacts=contacts,
            )
        )

    async def incident_updated(self, view: IncidentView) -> None:
        state = message(f"incident.state.{view.state.value}", self.lang)
        log.info(message("serve.incident_updated", self.lang, id=view.id, state=state))


def synchronise(config: AppConfig, db: Database, *, clock: Clock = utc_now) -> int:
    """Mirror app.yaml's sections, members and accounts into the database (changes audited)."""
    with db.session() as session:
        return len(sync_config(session, config, at=clock()))


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
    # UTF-8 as it is, not \uXXXX escapes: the organisation's name is Japanese.
    return web.json_response(body, dumps=functools.partial(json.dumps, ensure_ascii=False))


def build_app(
    config: AppConfig,
    db: Database,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock = utc_now,
    timers: bool = True,
    lang: Lang = Lang.JA,
) -> web.Application:
    """The HTTP application. ``timers=False`` leaves the outbox, monitor and reminder ticks to
    the caller (tests drive them by advancing ``clock`` and calling each tick)."""
    app = web.Application()
    env = os.environ if environ is None else environ
    services = build_services(config, db, clock=clock)
    app[SERVICES_KEY] = services
    app[LANG_KEY] = lang
    hub = build_hub(config, services, clock=clock)
    app[HUB_KEY] = hub
    app[CHAT_TICK_KEY] = float(
        env.get("POSTGATE_CHAT_TICK_SECONDS") or env.get("POSTGATE_SLACK_TICK_SECONDS") or 30
    )

    async def check_now() -> list[PollReport]:  # the monitor is built after the chat
        return await app[MONITOR_KEY].run_now()

    context = ChatContext(
        config=config,
        drafts=services.drafts,
        chat=hub.chat,
        publications=services.publications,
        incidents=services.incidents,
        deletions=services.deletions,
        hub=hub,
        clock=clock,
        check_now=check_now,
    )
    for install in (install_slack, install_teams):  # each adds its platform to the hub
        install(app, context, env, lang)
    chat_on = bool(hub.platforms)  # else the log is where notices and alerts go
    notifier = hub if chat_on else None
    app[OUTBOX_KEY] = build_outbox(config, db, env, notifier=notifier, clock=clock, lang=lang)
    app[MONITOR_KEY] = build_monitor(
        config,
        db,
        env,
        incidents=services.incidents,
        alerts=hub if chat_on else None,
        announcer=hub if chat_on else LoggingAnnouncer(),
        clock=clock,
        lang=lang,
    )
    announcer = hub if chat_on else None
    if config.audit.anchor_file is not None or announcer is not None:
        app[ANCHORS_KEY] = AuditAnchors(db, config.audit.anchor_file, announcer, clock)
    app[DIGEST_KEY] = WeeklyDigest(
        hub=hub,
        plan=Plan(db, config.accounts, config.calendar().tz),
        config=config,
        clock=clock,
        web_url=WebSettings.from_env(env).base_url,
    )
    app[OUTAGE_KEY] = DatabaseOutage(clock)
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


def run(config: AppConfig, db: Database, *, host: str, port: int, lang: Lang = Lang.JA) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    quiet_noise()
    changes = synchronise(config, db)
    log.info(
        message(
            "serve.started",
            lang,
            organisation=config.organisation.name,
            sections=len(config.sections),
            accounts=len(config.accounts),
            database=db.url,
            changes=changes,
            host=host,
            port=port,
        )
    )
    web.run_app(
        build_app(config, db, lang=lang),
        host=host,
        port=port,
        print=None,
        access_log_class=RedactingAccessLogger,  # no sign-in link or feed token in the log
    )
