"""The monitors: poll each managed account and turn what they see into incidents (manual §8).

Every ``MonitorSettings.interval`` each account with credentials is polled through its own
``SnsClient`` (accounts on the dry-run client are not watched: one INFO line each at start):

- **hijack** — the profile (``profile()``) against the stored baseline; the recent posts
  (``recent_posts()``) against the outbox (platform ids of the account's publications, and the
  texts of publications sent just before whose id is not recorded yet); the platform refusing the
  credentials (``SnsError`` of kind AUTH) — ``workflows.incidents.hijack``;
- **flaming** — replies and mentions (a ``MentionReader``: X's mentions timeline through
  ``sns.x_watch.XWatchClient``, or ``FedReplies`` fed by anything else) per recent post, against
  the account's replies per bucket over a rolling window — ``workflows.incidents.flaming``;
- **impersonation** — every ``lookup_interval``, the generated look-alike handles of every
  account's ``watch_names`` looked up on X (``GET /2/users/by``, 100 a request) through any
  watched X account's client — ``workflows.incidents.impersonation``.

A watch whose reads fail ``MonitorSettings.blind_after`` polls in a row (a 403 from a too-small
X tier, 5xx, timeouts) is **blind**: City Promotion and Digital Promotion are told once through
the ``Announcer`` (「監視できていません」, the platform's reason and what to do), ``/healthz``
lists it (``blind_watches``), and the first good poll after says it recovered.

The first poll of an account records the profile baseline, the replies baseline and
``watching_since``; posts from before are history, never alerts. Each signal becomes an incident
unless its cause is on record (``handlers.incidents.open_signals``: one alert per cause, not one
per poll), and the new ones go to ``Alerts``.

One replica polls each account: the poll holds the watch's ``storage.incidents.MonitorLock`` (a
PostgreSQL advisory lock; always granted on SQLite) and, inside it, reads the watch's last poll
from the database, so replicas ticking at once poll each account once per interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final, Protocol, runtime_checkable

from sqlmodel import Session, col, select

from handlers.anchors import Announcer
from handlers.drafts import Clock, utc_now
from handlers.incidents import Alerts, IncidentUseCases, IncidentView, open_signals
from sns.base import ErrorKind, Profile, PublishedPost, SnsClient, SnsError
from sns.dryrun import is_dry_run
from sns.factory import SnsSettings, build_client
from sns.watch import FoundAccount, Mention, Mentions
from sns.x_watch import XWatchClient
from storage import incidents as repo
from storage.engine import Database
from storage.tables import MonitorState
from workflows.catalogue import Lang, message
from workflows.checks.model import Platform
from workflows.incidents import flaming, hijack
from workflows.incidents import impersonation as imp
from workflows.incidents.flaming import FlameRules, Reply, WatchedPost
from workflows.incidents.hijack import AuthRefusal, HijackRules, ProfileSnapshot, SeenPost
from workflows.incidents.model import Signal
from workflows.org import Account

log = logging.getLogger(__name__)

LOOKUP_PLATFORM: Final = Platform.X


# ---------------------------------------------------------------- what the monitors read through


@runtime_checkable
class UserLookup(Protocol):
    """Looks accounts up by handle on a platform (X: ``GET /2/users/by``)."""

    async def lookup_users(self, handles: Sequence[str]) -> list[FoundAccount]: ...


@runtime_checkable
class MentionReader(Protocol):
    """The replies to and mentions of one account since a time."""

    async def mentions(self, *, since: datetime) -> Mentions: ...


class FedReplies:
    """Replies handed to the monitor instead of read by it: for platforms whose replies postgate
    cannot read yet (Facebook comments need page permissions still to be granted; search on X
    needs a paid tier), a webhook, or a test. ``feed`` them; the monitor reads them at its poll."""

    def __init__(self, *, keep: timedelta = timedelta(days=15)) -> None:
        self._keep = keep
        self._items: dict[str, Mention] = {}

    def feed(self, post_id: str | None, replies: Iterable[Reply]) -> None:
        """Replies to the account's post ``post_id`` (None: mentions not tied to a post)."""
        for reply in replies:
            key = reply.reply_id or f"{post_id}:{reply.at.isoformat()}:{reply.text}"
            self._items[key] = Mention(key, reply.text, reply.at, post_id)

    async def mentions(self, *, since: datetime) -> Mentions:
        if self._items:
            newest = max(m.at for m in self._items.values())
            self._items = {k: m for k, m in self._items.items() if m.at >= newest - self._keep}
        found = sorted(
            (m for m in self._items.values() if m.at >= since), key=lambda m: m.at, reverse=True
        )
        return Mentions(tuple(found), since=since, complete=True)


# ---------------------------------------------------------------- settings and reports


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    interval: timedelta = timedelta(minutes=5)  # between two polls of an account
    lookup_interval: timedelta = timedelta(hours=6)  # between two impersonation look-ups
    recent_posts: int = 20  # posts read per poll
    watch_posts_for: timedelta = timedelta(days=3)  # a post's replies are watched this long
    # Publications claimed this recently are "recent sends" (their post may show before its id
    # is recorded); unsettled ones (sending, needs review) always are.
    sends_lookback: timedelta = timedelta(days=1)
    concurrency: int = 4  # accounts polled at once by this process
    blind_after: int = 3  # failed polls in a row before people are told the watch is blind
    hijack: HijackRules = field(default_factory=HijackRules)
    flame: FlameRules = field(default_factory=FlameRules)

    def __post_init__(self) -> None:
        if self.interval <= timedelta(0) or self.lookup_interval <= timedelta(0):
            raise ValueError("interval and lookup_interval must be positive")
        if self.recent_posts < 1 or self.concurrency < 1 or self.blind_after < 1:
            raise ValueError("recent_posts, concurrency and blind_after must be at least 1")


class PollOutcome(StrEnum):
    BASELINE = "baseline"  # the first poll: the baseline recorded, nothing alerts
    POLLED = "polled"
    NOT_DUE = "not_due"  # polled less than an interval ago (by this replica or another)
    LOCKED = "locked"  # another replica is polling it right now
    FAILED = "failed"  # the platform could not be read (not a refusal of credentials)
    SKIPPED = "skipped"  # nothing to poll with


@dataclass(frozen=True, slots=True)
class PollReport:
    key: str
    outcome: PollOutcome
    account_id: str | None = None
    opened: tuple[IncidentView, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class MonitorReport:
    polls: tuple[PollReport, ...]

    @property
    def opened(self) -> tuple[IncidentView, ...]:
        return tuple(v for p in self.polls for v in p.opened)

    def outcome(self, key: str) -> PollOutcome | None:
        return next((p.outcome for p in self.polls if p.key == key), None)


@dataclass(frozen=True, slots=True)
class BlindWatch:
    """A watched account the monitor cannot read (``blind_after`` failed polls in a row)."""

    account_id: str
    since: datetime
    failed_polls: int
    error: str | None


def report_lines(reports: Sequence[PollReport], lang: Lang = Lang.JA) -> list[str]:
    """What one poll found, a line per account and per incident it opened (``postgate monitor
    run``, ``/postgate check-now``)."""
    lines: list[str] = []
    for report in reports:
        target = report.account_id or report.key
        key = f"monitor.outcome.{report.outcome.value}"
        lines.append(
            message(key, lang, target=target, count=len(report.opened), error=report.error)
        )
        lines += [f"  #{view.id} {view.summary}" for view in report.opened]
    return lines or [message("monitor.nothing_watched", lang)]


def blind_watches(db: Database) -> list[BlindWatch]:
    """The accounts being watched blind right now (for /healthz and App Home)."""
    with db.session(read_only=True) as session:
        rows = session.exec(
            select(MonitorState)
            .where(col(MonitorState.blind_since).is_not(None))
            .order_by(col(MonitorState.key))
        ).all()
        return [
            BlindWatch(r.account_id or r.key, r.blind_since, r.failed_polls, r.last_error)
            for r in rows
            if r.blind_since is not None
        ]


class _Sight(StrEnum):
    BLIND = "blind"  # this poll made it blind: tell people
    RECOVERED = "recovered"  # the first good poll after being blind


def blind_text(
    account: Account, error: str, status: int | None, failed: int, lang: Lang = Lang.JA
) -> str:
    """「監視できていません」: which account, the platform's reason, what to do."""
    if status == 403:
        advice = "monitor.advice.forbidden"
    elif status == 429:
        advice = "monitor.advice.rate_limited"
    else:
        advice = "monitor.advice.unavailable"
    return message(
        "monitor.blind",
        lang,
        account=account.display_name,
        handle=account.handle,
        platform=account.platform.value,
        polls=failed,
        reason=error,
        advice=message(advice, lang),
    )


def account_key(account_id: str) -> str:
    return f"account:{account_id}"


def lookup_key(platform: Platform = LOOKUP_PLATFORM) -> str:
    return f"lookup:{platform.value}"


# ---------------------------------------------------------------- building the clients


def monitor_clients(
    accounts: Iterable[Account],
    environ: Mapping[str, str],
    settings: SnsSettings,
    *,
    clock: Clock = utc_now,
) -> dict[str, SnsClient]:
    """The monitors' own client for each account whose credentials are all set in ``environ``
    (X: ``XWatchClient``, which also looks up users and reads mentions). Others are left out."""
    clients: dict[str, SnsClient] = {}
    for account in accounts:
        credentials = account.credentials_from(environ)
        if credentials is None:
            continue
        if account.platform is Platform.X:
            clients[account.id] = XWatchClient(
                credentials,
                handle=account.handle,
                api_url=settings.x_api_url,
                upload_url=settings.x_upload_url,
                timeout=settings.timeout,
                clock=clock,
            )
        else:
            clients[account.id] = build_client(account, credentials, settings, clock=clock)
    return clients


# ---------------------------------------------------------------- the monitor


@dataclass(slots=True)
class _Read:
    """What one poll read from the platform."""

    profile: Profile | None = None
    posts: list[PublishedPost] = field(default_factory=list)
    refusal: SnsError | None = None
    error: SnsError | None = None
    mentions: Mentions | None = None


class Monitor:
    """Polls the watched accounts; one per process, ticked by the scheduler."""

    def __init__(
        self,
        *,
        db: Database,
        incidents: IncidentUseCases,
        clients: Mapping[str, SnsClient],
        alerts: Alerts | None = None,
        replies: Mapping[str, MentionReader] | None = None,
        settings: MonitorSettings | None = None,
        clock: Clock = utc_now,
        announcer: Announcer | None = None,
    ) -> None:
        self.db = db
        self.incidents = incidents
        self.alerts = alerts
        self.announcer = announcer
        self.settings = settings or MonitorSettings()
        self.clock = clock
        self.watched: dict[str, tuple[Account, SnsClient]] = {}
        for account in incidents.directory.accounts.values():
            client = clients.get(account.id)
            if client is None or is_dry_run(client):
                log.info("monitor: not watching %s: no credentials (dry run)", account.id)
                continue
            self.watched[account.id] = (account, client)
        self._replies: dict[str, MentionReader] = dict(replies or {})
        for account_id, (_, client) in self.watched.items():
            if account_id not in self._replies and isinstance(client, MentionReader):
                self._replies[account_id] = client

    # ------------------------------------------------------------ the timer's entry point

    async def tick(self) -> MonitorReport:
        """Poll every watched account that is due, and the look-up if it is due.

        The timer's error boundary: an unexpected failure of one watch is logged with its
        traceback and reported FAILED; the other watches go on.
        """
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def bounded(account_id: str) -> PollReport:
            async with gate:
                return await self.poll(account_id)

        keys = [*(account_key(a) for a in self.watched), lookup_key()]
        results = await asyncio.gather(
            *(bounded(a) for a in self.watched), self.lookup(), return_exceptions=True
        )
        reports: list[PollReport] = []
        for key, result in zip(keys, results, strict=True):
            if isinstance(result, PollReport):
                reports.append(result)
            elif isinstance(result, Exception):
                log.error("monitor: %s failed", key, exc_info=result)
                reports.append(PollReport(key, PollOutcome.FAILED, error=repr(result)))
            else:  # cancelled: the process is stopping
                raise result
        return MonitorReport(tuple(reports))

    async def run_now(
        self, *, account_id: str | None = None, impersonation: bool = False
    ) -> list[PollReport]:
        """One poll now, whatever the interval (``postgate monitor run``, ``/postgate check-now``):
        one account, every watched account, or (``impersonation``) the look-alike look-up."""
        if impersonation:
            return [await self.lookup(force=True)]
        if account_id is not None:
            if account_id not in self.watched:
                raise KeyError(account_id)
            return [await self.poll(account_id, force=True)]
        return [await self.poll(a, force=True) for a in self.watched]

    async def close(self) -> None:
        for _, client in self.watched.values():
            await client.close()

    # ------------------------------------------------------------ one account

    async def poll(self, account_id: str, *, force: bool = False) -> PollReport:
        """Poll one account (unless polled less than an interval ago, or ``force``)."""
        account, client = self.watched[account_id]
        key = account_key(account_id)
        lock = repo.MonitorLock(self.db, key)
        if not await asyncio.to_thread(lock.acquire):
            log.debug("monitor: %s is being polled by another replica", key)
            return PollReport(key, PollOutcome.LOCKED, account_id)
        try:
            state = await asyncio.to_thread(self._state, key)
            now = self.clock()
            if not force and _polled_within(state, now, self.settings.interval):
                return PollReport(key, PollOutcome.NOT_DUE, account_id)
            read = await self._read(account, client, state, now)
            views, sight, failed = await asyncio.to_thread(self._record, account, read, now)
        finally:
            await asyncio.to_thread(lock.release)
        await self._alert(views)
        await self._tell_sight(account, read, sight, failed)
        if read.error is not None:
            log.info(
                "monitor: could not read %s (%d failed polls in a row): %s",
                account_id,
                failed,
                read.error,
            )
            return PollReport(key, PollOutcome.FAILED, account_id, views, str(read.error))
        outcome = PollOutcome.BASELINE if state is None else PollOutcome.POLLED
        log.info(
            "monitor: polled %s: %d posts read, %d incidents opened",
            account_id,
            len(read.posts),
            len(views),
        )
        return PollReport(key, outcome, account_id, views)

    async def _tell_sight(
        self, account: Account, read: _Read, sight: _Sight | None, failed: int
    ) -> None:
        if sight is None:
            return
        if sight is _Sight.BLIND:
            assert read.error is not None
            text = blind_text(account, str(read.error), read.error.status, failed)
            log.warning("monitor: %s is blind after %d failed polls: %s", account.id, failed, text)
        else:
            text = message("monitor.recovered", account=account.display_name, handle=account.handle)
            log.warning("monitor: %s can be read again", account.id)
        if self.announcer is not None:
            await self.announcer.announce(text, self._promotion_people())

    def _promotion_people(self) -> tuple[str, ...]:
        """The chiefs and deputies of City Promotion and Digital Promotion."""
        directory = self.incidents.directory
        sections = (directory.city_promotion, directory.digital_promotion)
        people = [m for s in sections if s is not None for m in directory.approvers(s.name)]
        return tuple(dict.fromkeys(people))

    async def _read(
        self, account: Account, client: SnsClient, state: MonitorState | None, now: datetime
    ) -> _Read:
        read = _Read()
        try:
            read.profile = await client.profile()
            read.posts = await client.recent_posts(limit=self.settings.recent_posts)
        except SnsError as exc:
            if exc.kind is ErrorKind.AUTH:
                read.refusal = exc
            else:
                read.error = exc
            return read
        reader = self._replies.get(account.id)
        if reader is None:
            return read
        since = _mentions_since(state, now, self.settings.flame)
        try:
            read.mentions = await reader.mentions(since=since)
        except SnsError as exc:
            if exc.kind is ErrorKind.AUTH:
                read.refusal = exc
            else:  # the hijack checks still count; replies are read again next time
                log.warning("monitor: could not read replies of %s: %s", account.id, exc)
        return read

    def _state(self, key: str) -> MonitorState | None:
        with self.db.session(read_only=True) as session:
            return repo.monitor_state(session, key)

    def _record(
        self, account: Account, read: _Read, now: datetime
    ) -> tuple[tuple[IncidentView, ...], _Sight | None, int]:
        """Detect, open the incidents and move the baselines on, in one transaction. Also
        whether the watch just went blind or recovered, and the failed polls in a row."""
        key = account_key(account.id)
        with self.db.session() as session:
            state = repo.monitor_state(session, key)
            first = state is None
            if state is None:
                state = MonitorState(key=key, account_id=account.id, watching_since=now)
            state.last_polled_at = now
            if read.error is not None:
                state.last_error = str(read.error)
                state.failed_polls = (state.failed_polls or 0) + 1
                sight = None
                if state.failed_polls >= self.settings.blind_after and state.blind_since is None:
                    state.blind_since = now
                    sight = _Sight.BLIND
                repo.save_monitor_state(session, state)
                return (), sight, state.failed_polls
            sight = _Sight.RECOVERED if state.blind_since is not None else None
            state.failed_polls = 0
            state.blind_since = None
            signals = self._hijack(session, account, state, read, now, first=first)
            if read.mentions is not None:
                signals += self._flaming(account, state, read, now, first=first)
            state.last_error = str(read.refusal) if read.refusal else None
            rows = open_signals(session, signals, at=now)
            repo.save_monitor_state(session, state)
            return tuple(self.incidents.view(r, is_new=True) for r in rows), sight, 0

    def _hijack(
        self,
        session: Session,
        account: Account,
        state: MonitorState,
        read: _Read,
        now: datetime,
        *,
        first: bool,
    ) -> list[Signal]:
        refusal: AuthRefusal | None = None
        if read.refusal is not None:
            since = state.auth_refused_since or now
            state.auth_refused_since = since
            refusal = AuthRefusal(
                at=now,
                since=since,
                status=read.refusal.status,
                detail=read.refusal.platform_message,
            )
        else:
            state.auth_refused_since = None
        seen = [
            SeenPost(p.post_id, p.text or "", p.created_at, p.permalink)
            for p in read.posts
            if p.created_at is not None and p.post_id
        ]
        current = _snapshot(read.profile) if read.profile is not None else None
        observation = hijack.Observation(
            watching_since=state.watching_since,
            posts=() if first else tuple(seen),  # the first poll's posts are history
            published_ids=repo.published_ids(session, account.id, (p.post_id for p in seen)),
            recent_sends=tuple(
                repo.recent_sends(
                    session,
                    account.id,
                    platform=account.platform,
                    since=now - self.settings.sends_lookback,
                )
            ),
            baseline=_baseline(state.profile),
            profile=current,
            auth_refusal=refusal,
        )
        signals = hijack.detect(account, observation, self.settings.hijack)
        if current is not None:
            # The change is on record now (its incident carries before and after).
            state.profile = _snapshot_json(current)
        return signals

    def _flaming(
        self, account: Account, state: MonitorState, read: _Read, now: datetime, *, first: bool
    ) -> list[Signal]:
        assert read.mentions is not None
        rules = self.settings.flame
        series = ReplySeries.from_json(state.replies, rules.bucket).extend(
            read.mentions, now=now, window=rules.window
        )
        state.replies = series.to_json()
        if first:
            return []  # the baseline is being recorded
        by_post: dict[str, list[Reply]] = defaultdict(list)
        for mention in read.mentions.items:
            if mention.post_id:
                by_post[mention.post_id].append(Reply(mention.text, mention.at, mention.mention_id))
        signals: list[Signal] = []
        for post in read.posts:
            if post.created_at is None or now - post.created_at > self.settings.watch_posts_for:
                continue
            watched = WatchedPost(post.post_id, post.text or "", post.created_at, post.permalink)
            signal = flaming.detect(
                account, watched, by_post.get(post.post_id, ()), series.counts, at=now, rules=rules
            )
            if signal is not None:
                signals.append(signal)
        return signals

    # ------------------------------------------------------------ impersonation

    async def lookup(self, *, force: bool = False) -> PollReport:
        """Look up the generated look-alike handles of every watch (unless done less than a
        ``lookup_interval`` ago, or ``force``)."""
        key = lookup_key()
        client = next(
            (
                c
                for a, c in self.watched.values()
                if a.platform is LOOKUP_PLATFORM and isinstance(c, UserLookup)
            ),
            None,
        )
        if not isinstance(client, UserLookup):
            return PollReport(key, PollOutcome.SKIPPED)
        lock = repo.MonitorLock(self.db, key)
        if not await asyncio.to_thread(lock.acquire):
            return PollReport(key, PollOutcome.LOCKED)
        try:
            state = await asyncio.to_thread(self._state, key)
            now = self.clock()
            if not force and _polled_within(state, now, self.settings.lookup_interval):
                return PollReport(key, PollOutcome.NOT_DUE)
            rules = self.incidents.impersonation_rules()
            watched = imp.watches(self.incidents.directory.accounts.values())
            found: list[FoundAccount] = []
            error: SnsError | None = None
            for batch in imp.lookup_batches(watched, rules):
                try:
                    found += await client.lookup_users(batch)
                except SnsError as exc:  # rate limit, refusal: the rest waits for next time
                    log.warning("monitor: impersonation look-up stopped: %s", exc)
                    error = exc
                    break
            candidates = [
                imp.Candidate(
                    handle=f.handle,
                    name=f.name,
                    description=f.description,
                    verified=f.verified,
                    platform=f.platform,
                    user_id=f.user_id,
                    url=f.url,
                )
                for f in found
            ]
            signals = imp.detect(candidates, watched, rules)
            views = await asyncio.to_thread(self._record_lookup, key, signals, error, now)
        finally:
            await asyncio.to_thread(lock.release)
        await self._alert(views)
        if error is not None:
            return PollReport(key, PollOutcome.FAILED, None, views, str(error))
        return PollReport(key, PollOutcome.POLLED, None, views)

    def _record_lookup(
        self, key: str, signals: Sequence[Signal], error: SnsError | None, now: datetime
    ) -> tuple[IncidentView, ...]:
        with self.db.session() as session:
            state = repo.monitor_state(session, key) or MonitorState(key=key, watching_since=now)
            state.last_polled_at = now
            state.last_error = str(error) if error else None
            rows = open_signals(session, signals, at=now)
            repo.save_monitor_state(session, state)
            return tuple(self.incidents.view(r, is_new=True) for r in rows)

    # ------------------------------------------------------------ telling people

    async def _alert(self, views: Iterable[IncidentView]) -> None:
        for view in views:
            log.info("monitor: incident #%s opened: %s", view.id, view.summary)
            if self.alerts is not None:
                await self.alerts.incident_opened(view)


# ---------------------------------------------------------------- the replies baseline


@dataclass(frozen=True, slots=True)
class ReplySeries:
    """An account's replies per bucket: ``counts[i]`` in ``[start + i*bucket, start+(i+1)*bucket)``,
    buckets aligned to the epoch, every one complete (the bucket in progress is not in it)."""

    bucket: timedelta
    start: datetime | None = None
    counts: tuple[int, ...] = ()

    @property
    def end(self) -> datetime | None:
        return None if self.start is None else self.start + self.bucket * len(self.counts)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None, bucket: timedelta) -> ReplySeries:
        """The stored series, or an empty one (none stored, or stored with another bucket)."""
        if not data or data.get("bucket_seconds") != int(bucket.total_seconds()):
            return cls(bucket)
        start = datetime.fromisoformat(str(data["start"]))
        return cls(bucket, start, tuple(int(c) for c in data.get("counts", [])))

    def to_json(self) -> dict[str, Any]:
        if self.start is None:
            return {}
        return {
            "bucket_seconds": int(self.bucket.total_seconds()),
            "start": self.start.isoformat(),
            "counts": list(self.counts),
        }

    def extend(self, mentions: Mentions, *, now: datetime, window: int) -> ReplySeries:
        """The series with every bucket completed by ``now`` that ``mentions`` covers, the last
        ``window`` kept. A gap (the monitor was down, or the read was cut short) starts anew."""
        current = floor_time(now, self.bucket)
        if mentions.complete:
            known_from = mentions.since
        else:  # only what is after the oldest mention read is known to be complete
            known_from = min((m.at for m in mentions.items), default=now)
        first = ceil_time(known_from, self.bucket)
        end = self.end
        if self.start is not None and end is not None and end >= first:
            start, counts, begin = self.start, list(self.counts), end
        else:
            start, counts, begin = first, [], first
        times = [m.at for m in mentions.items]
        while begin + self.bucket <= current:
            stop = begin + self.bucket
            counts.append(sum(1 for at in times if begin <= at < stop))
            begin = stop
        if len(counts) > window:
            start += self.bucket * (len(counts) - window)
            counts = counts[-window:]
        if not counts:
            return self
        return ReplySeries(self.bucket, start, tuple(counts))


def floor_time(at: datetime, bucket: timedelta) -> datetime:
    seconds = bucket.total_seconds()
    return datetime.fromtimestamp((at.timestamp() // seconds) * seconds, UTC)


def ceil_time(at: datetime, bucket: timedelta) -> datetime:
    floor = floor_time(at, bucket)
    return floor if floor == at else floor + bucket


def _mentions_since(state: MonitorState | None, now: datetime, rules: FlameRules) -> datetime:
    """From where to read: the end of the stored series (or the latest bucket, if later), never
    beyond the baseline window; the whole window the first time."""
    oldest = now - rules.bucket * rules.window
    series = ReplySeries.from_json(state.replies if state else None, rules.bucket)
    end = series.end
    if end is None:
        return oldest
    return max(oldest, min(end, now - rules.bucket))


# ---------------------------------------------------------------- small helpers


def _polled_within(state: MonitorState | None, now: datetime, interval: timedelta) -> bool:
    return (
        state is not None
        and state.last_polled_at is not None
        and now - state.last_polled_at < interval
    )


def _snapshot(profile: Profile) -> ProfileSnapshot:
    return ProfileSnapshot(
        name=profile.name,
        handle=profile.handle,
        description=profile.description,
        url=profile.url,
        image=profile.image_url,
    )


def _snapshot_json(snapshot: ProfileSnapshot) -> dict[str, str]:
    return {
        "name": snapshot.name,
        "handle": snapshot.handle,
        "description": snapshot.description,
        "url": snapshot.url,
        "image": snapshot.image,
    }


def _baseline(stored: Mapping[str, Any] | None) -> ProfileSnapshot | None:
    if not stored:
        return None
    return ProfileSnapshot(
        name=str(stored.get("name", "")),
        handle=str(stored.get("handle", "")),
        description=str(stored.get("description", "")),
        url=str(stored.get("url", "")),
        image=str(stored.get("image", "")),
    )
