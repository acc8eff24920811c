"""Publishing: the outbox worker, and the use cases people call on publications.

``Outbox.tick()`` claims due rows (committing each claim, with its idempotency key, before any
network call), re-checks each at send time (approved content, pause, lateness, business hours) and
publishes the rest concurrently through each account's ``SnsClient``. The database work runs in
threads (``asyncio.to_thread``) so the event loop — Slack, Teams, other publishes — never waits
for it. What a platform answers decides what follows (``sns.base.ErrorKind``):

- rate limited (429): back to pending until the platform's reset time; not a failed attempt;
- retryable (5xx, refused or reset connections): back to pending with backoff (or the platform's
  reset time) until ``give_up_after`` has passed since the first failure — never past the
  missed-post limit — then failed. People are told once when a publication starts failing, and
  once when it then goes out;
- permanent: failed with the platform's reason, never retried;
- auth: failed, and an ``auth_failed`` notice (a revoked token, or a hijacked account);
- ambiguous (or no answer in time): the row stays ``sending`` and its lease is shortened, so it is
  reconciled — asked of the platform — before anything is sent again. Rows left in ``sending``
  by a worker that died (its lease is short and renewed by a heartbeat while it lives, so a dead
  worker's rows are free within ``lease``) are reconciled the same way: published → done; not
  published → sent; undecided → ``needs_review`` and people are told. Never a blind resend; a
  reconciliation that cannot read the platform (a retryable error) is simply asked again later.

The database work is batched so that a backlog (1,000 posts due in the same second) goes out in
about a second: a claim is two ``UPDATE ... RETURNING`` statements and three reads for a whole
batch, holds and the drafts' ``publishing`` step in the same transaction; outcomes are committed
many per transaction (``storage.batching.GroupCommit``): the publications in one statement, the
drafts settled once each, every audit event in one append.

The same worker carries out approved deletions (``workflows.deletion``): each post's deletion is
claimed, retried and recorded like a publication, through the same clients.

Every change is audited (``publication.*``, ``deletion.*``, ``pause.*``); the draft follows
(approved/scheduled → publishing → published, or failed) through the workflow's operations.
People hear of failures, undecidable outcomes, holds and deletions through a ``Notifier``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from handlers.drafts import Actor, Clock, audit_refusal, member_of, utc_now
from handlers.outage import first_line
from handlers.views import OutboxResult, OutboxRow, PauseResult
from sns.base import ErrorKind, Outcome, PostRequest, PublishedPost, SnsClient, SnsError
from storage import audit, outbox
from storage import deletions as dl
from storage import drafts as repo
from storage.batching import GroupCommit
from storage.deletions import DeletionClaim, DeletionLost
from storage.drafts import Conflict, DraftSnapshot
from storage.engine import UNAVAILABLE, Database
from storage.outbox import Claim, LeaseLost
from storage.tables import Deletion, DeletionRequest, Draft, DraftRevision, Publication, Review
from workflows import approval as ap
from workflows.calendar import BusinessCalendar
from workflows.catalogue import Lang, message
from workflows.checks.model import Platform
from workflows.deletion import RequestEvent
from workflows.errors import ReasonRequired, Refusal, UnknownAccount, UnknownMember
from workflows.lifecycle import DraftState
from workflows.org import Account, Directory, Member
from workflows.publishing import (
    AccountPaused,
    CancelReason,
    HoldReason,
    NotAllowedToPause,
    NotAuthorOrApprover,
    NotPaused,
    PublicationNotFailed,
    PublicationNotHeld,
    PublicationNotInReview,
    PublicationNotOpen,
    PublicationState,
    Random,
    RescheduleInPast,
    RetryKind,
    RetryPolicy,
    SendDecision,
    SendFacts,
    SendKind,
    SendRules,
    UnknownPublication,
    after_retryable_error,
    backoff,
    decide_send,
    post_reference,
)

log = logging.getLogger(__name__)

OUTBOX_ACTOR: Final = "outbox"  # the audit actor of what the worker does on its own
TOKYO: Final = ZoneInfo("Asia/Tokyo")
_SENDABLE_DRAFT_STATES = frozenset(
    {DraftState.APPROVED, DraftState.SCHEDULED, DraftState.PUBLISHING, DraftState.FAILED}
)
_WAITING_DRAFT_STATES = frozenset({DraftState.APPROVED, DraftState.SCHEDULED})
# A draft is published once each of its publications is (one deleted since still counts).
_DONE_PUBLICATION_STATES = frozenset(
    {PublicationState.PUBLISHED.value, PublicationState.DELETED.value}
)
HTTP_TOO_MANY_REQUESTS: Final = 429


# ---------------------------------------------------------------- telling people


class NoticeKind(StrEnum):
    FAILED = "failed"
    RETRYING = "retrying"  # a publication started failing; it is tried again automatically
    RECOVERED = "recovered"  # ... and then went out
    NEEDS_REVIEW = "needs_review"
    HELD = "held"
    AUTH_FAILED = "auth_failed"  # also a hijack signal, for the incidents work
    DELETION_FAILED = "deletion_failed"  # a post could not be deleted (the reason is the detail)
    DELETED = "deleted"  # a deletion request is done: every post is deleted


@dataclass(frozen=True, slots=True)
class PublicationNotice:
    """Something people must hear about one publication."""

    kind: NoticeKind
    publication_id: int
    draft_id: int
    account_id: str
    member_ids: tuple[str, ...]  # the draft's author and approvers (for auth: the account's)
    detail: str  # the platform's message, or why it is held

    def text(self, lang: Lang = Lang.JA) -> str:
        return message(
            f"notice.publication.{self.kind.value}",
            lang,
            publication=self.publication_id,
            draft=self.draft_id,
            account=self.account_id,
            detail=self.detail,
        )


class Notifier(Protocol):
    """Delivers notices (Slack, Teams, ...). Must not raise: delivery problems are its own to log;
    the publication's state is already committed when it is called."""

    async def notify(self, notice: PublicationNotice) -> None: ...


class LoggingNotifier:
    """Writes notices to the log (until a chat notifier is wired in)."""

    async def notify(self, notice: PublicationNotice) -> None:
        log.warning(
            "notice %s for %s: %s",
            notice.kind.value,
            ",".join(notice.member_ids) or "-",
            notice.text(Lang.EN),
        )


# ---------------------------------------------------------------- the worker


def default_worker_id() -> str:
    """Unique per process start: host, process id, and a random suffix (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class OutboxSettings:
    # A claim's lease, renewed every ``heartbeat`` while its publication is in flight: the rows
    # of a worker that died are taken over (and reconciled) within ``lease``.
    lease: timedelta = timedelta(seconds=30)
    heartbeat: timedelta | None = None  # default: a third of the lease
    # An attempt with no answer in this long is taken as ambiguous (reconciled later).
    publish_timeout: timedelta = timedelta(minutes=4)
    # Retryable errors are retried this long after the first one (app.yaml
    # publishing.give_up_after_minutes), never past the missed-post limit.
    give_up_after: timedelta = timedelta(minutes=60)
    batch: int = 100  # rows per claim transaction, and outcomes per recording transaction
    max_in_flight: int = 200  # publications (and deletions) being sent at once by this process
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rules: SendRules = field(default_factory=SendRules)
    worker_id: str = field(default_factory=default_worker_id)

    @property
    def renew_every(self) -> timedelta:
        return self.heartbeat if self.heartbeat is not None else self.lease / 3

    def __post_init__(self) -> None:
        if self.heartbeat is not None and self.heartbeat >= self.lease:
            raise ValueError("the heartbeat must be shorter than the lease")
        if self.batch < 1 or self.max_in_flight < 1:
            raise ValueError("batch and max_in_flight must be at least 1")


@dataclass(slots=True)
class _Job:
    """A claimed row on its way; ``claim`` is replaced as the row changes."""

    claim: Claim
    post: PostRequest
    platform: Platform | None


@dataclass(slots=True)
class _DeletionJob:
    """A claimed deletion on its way."""

    claim: DeletionClaim


class _Step(StrEnum):
    PUBLISHED = "published"
    RETRY = "retry"  # certainly not sent: pending again, not before ``at``
    UNSETTLED = "unsettled"  # maybe sent: reconcile at ``at``
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What became of one attempt, to be recorded (with others: ``GroupCommit``)."""

    step: _Step
    claim: Claim
    post: PublishedPost | None = None
    reconciled: bool = False
    at: datetime | None = None
    error: str = ""
    kind: ErrorKind | None = None
    failing: bool = True  # RETRY: a failed attempt (False: only rate limited)
    tell: bool = False  # people hear of it (a run of failures starts, or ends in success)


@dataclass(frozen=True, slots=True)
class _DeletionOutcome:
    deleted: bool
    claim: DeletionClaim
    retry_at: datetime | None = None  # not deleted, and tried again then
    error: str = ""
    kind: ErrorKind | None = None


@dataclass(frozen=True, slots=True)
class _Recorded:
    """An outcome as committed: the claim after it, and who must hear of it."""

    claim: Claim | DeletionClaim
    people: tuple[str, ...] = ()
    notices: tuple[PublicationNotice, ...] = ()


@dataclass(frozen=True, slots=True)
class TickReport:
    claimed: int
    reconciling: int
    deleting: int = 0


class Outbox:
    """The publishing worker: one per process; the database decides who sends what.

    It also carries out approved deletions (``workflows.deletion``): each post's deletion is
    claimed, retried and recorded like a publication, through the same clients.
    """

    def __init__(
        self,
        *,
        db: Database,
        directory: Directory,
        clients: Mapping[str, SnsClient],
        calendar_for: Callable[[Account | None], BusinessCalendar],
        notifier: Notifier,
        settings: OutboxSettings | None = None,
        clock: Clock = utc_now,
        rng: Random = random.random,
    ) -> None:
        self.db = db
        self.directory = directory
        self.clients = clients
        self.calendar_for = calendar_for
        self.notifier = notifier
        self.settings = settings or OutboxSettings()
        self.clock = clock
        self.rng = rng
        self._calendars: dict[str, BusinessCalendar] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # one per publication in flight
        self._refill: asyncio.Task[TickReport] | None = None
        self._claiming = asyncio.Lock()
        self._more_due = False
        # What is in flight, for the heartbeat's lease renewal.
        self._jobs: dict[asyncio.Task[None], _Job | _DeletionJob] = {}
        self._renewed_at: datetime | None = None
        # Outcomes of the publications in flight are committed many per transaction.
        self._recorder: GroupCommit[_Outcome | _DeletionOutcome, _Recorded] = GroupCommit(
            self._record_batch, self.settings.batch
        )

    @property
    def worker_id(self) -> str:
        return self.settings.worker_id

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def tick(self) -> TickReport:
        """Claim what is due (up to the free capacity) and start publishing it; return at once.

        Each publication runs as its own task, so a slow platform delays nobody else. When a
        claim comes back full, more is probably due: claiming goes on as capacity frees up.
        """
        claimed = reconciling = deleting = 0
        if self._claiming.locked():
            return TickReport(0, 0)  # a claim is under way (a refill): it takes what is due
        async with self._claiming:
            await self._heartbeat()
            while True:
                room = self.settings.max_in_flight - len(self._tasks)
                if room <= 0:
                    self._more_due = True
                    break
                want = min(room, self.settings.batch)
                count, jobs, notices = await asyncio.to_thread(self._claim_batch, want)
                for job in jobs:
                    self._start(job)
                claimed += count
                reconciling += sum(1 for j in jobs if isinstance(j, _Job) and j.claim.reconcile)
                deleting += sum(1 for j in jobs if isinstance(j, _DeletionJob))
                await self._tell(notices)
                self._more_due = count >= want
                if not self._more_due:
                    break
        return TickReport(claimed, reconciling, deleting)

    async def _heartbeat(self) -> None:
        """Renew the leases of the publications in flight, and release those of dead processes
        on this host, every ``heartbeat`` (by the clock)."""
        now = self.clock()
        if self._renewed_at is not None and now - self._renewed_at < self.settings.renew_every:
            return
        self._renewed_at = now
        jobs = list(self._jobs.values())
        if jobs:
            await asyncio.to_thread(self._renew, jobs, now + self.settings.lease)
        await asyncio.to_thread(self._release_dead_workers)

    def _release_dead_workers(self) -> None:
        """At the first tick and with each heartbeat: the claims of processes on this host that
        are gone (a crash, kill -9) are reconciled now instead of when their lease runs out."""
        host = self.worker_id.split(":", 1)[0]
        with self.db.session() as session:
            dead = outbox.release_dead_workers(
                session, host=host, is_alive=_process_alive, now=self.clock()
            )
        if dead:
            log.warning("claims of dead worker(s) %s released: reconciled now", ", ".join(dead))

    def _renew(self, jobs: Sequence[_Job | _DeletionJob], until: datetime) -> None:
        publications = [j.claim.publication_id for j in jobs if isinstance(j, _Job)]
        deletions = [j.claim.deletion_id for j in jobs if isinstance(j, _DeletionJob)]
        with self.db.session() as session:
            outbox.renew_leases(session, publications, worker_id=self.worker_id, until=until)
            outbox.renew_leases(
                session, deletions, worker_id=self.worker_id, until=until, table=Deletion
            )

    async def drain(self) -> None:
        """Wait for every publication in flight; raise what any of them raised (as a group)."""
        errors: list[Exception] = []
        while self._tasks or self._refill is not None:
            waiting: list[asyncio.Task[Any]] = [*self._tasks]
            if self._refill is not None:
                waiting.append(self._refill)
            done = await asyncio.gather(*waiting, return_exceptions=True)
            errors += [e for e in done if isinstance(e, Exception)]
        if errors:
            raise ExceptionGroup("publishing tasks failed", errors)

    async def close(self, grace: float) -> int:
        """At shutdown: give the publications in flight ``grace`` seconds, cancel the rest (their
        rows stay ``sending`` and are reconciled later), close the clients. Returns how many
        were cancelled. Failures of finished tasks were logged when they ended."""
        pending: set[asyncio.Task[Any]] = set()
        if self._refill is not None:
            self._refill.cancel()
            await asyncio.gather(self._refill, return_exceptions=True)
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for client in {id(c): c for c in self.clients.values()}.values():
            await client.close()
        return len(pending)

    async def run_once(self) -> TickReport:
        """One tick and everything it started, finished (for tests, tools and benchmarks)."""
        report = await self.tick()
        await self.drain()
        return report

    def _start(self, job: _Job | _DeletionJob) -> None:
        if isinstance(job, _DeletionJob):
            run, name = self._run_deletion(job), f"deletion-{job.claim.deletion_id}"
        else:
            run, name = self._run(job), f"publication-{job.claim.publication_id}"
        task = asyncio.create_task(run, name=name)
        self._tasks.add(task)
        self._jobs[task] = job
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._jobs.pop(task, None)
        if not task.cancelled() and (error := task.exception()) is not None:
            # A publication's row stays "sending" until its lease ends, then it is reconciled.
            if isinstance(error, UNAVAILABLE):
                log.warning(
                    "%s: outcome not recorded, the database is unavailable (%s); it is "
                    "reconciled with the platform once its lease ends",
                    task.get_name(),
                    first_line(error),
                )
            else:
                log.error("%s failed unexpectedly", task.get_name(), exc_info=error)
        if self._more_due and self._refill is None and not self._claiming.locked():
            # Capacity freed while more is due: claim now rather than at the next tick. One
            # refill at a time; it sets the flag again if it still finds more than it can take.
            self._more_due = False
            self._refill = asyncio.create_task(self.tick(), name="outbox-refill")
            self._refill.add_done_callback(self._refilled)

    def _refilled(self, task: asyncio.Task[TickReport]) -> None:
        self._refill = None
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("claiming more publications failed", exc_info=error)

    # ------------------------------------------------------------ claiming (in a thread)

    def _claim_batch(
        self, limit: int
    ) -> tuple[int, list[_Job | _DeletionJob], list[PublicationNotice]]:
        """Claim, re-check and commit in one transaction: the rows (two statements), the drafts
        they belong to (three reads), holds and cancellations, the drafts whose first post goes
        out (approved/scheduled -> publishing) and every audit event (one append). Then the
        deletions due, with what room is left. Returns (rows claimed, jobs, notices of holds)."""
        now = self.clock()
        jobs: list[_Job | _DeletionJob] = []
        notices: list[PublicationNotice] = []
        entries: list[audit.Entry] = []
        with self.db.session() as session:
            claims = outbox.claim_due(
                session,
                now=now,
                worker_id=self.worker_id,
                lease=self.settings.lease,
                limit=limit,
            )
            drafts = repo.snapshots(session, {(c.draft_id, c.revision) for c in claims})
            pauses = outbox.active_pauses(session) if claims else []
            starting: dict[int, DraftSnapshot] = {}
            for claim in claims:
                draft = drafts.get(claim.draft_id)
                if claim.reconcile:
                    jobs.append(self._job(claim, draft))
                    details = {"reconcile": True}
                    entries.append(self._entry("publication.sending", claim, details, now))
                    continue
                decision = self._decide(draft, claim, pauses, now)
                if decision.kind is SendKind.SEND:
                    assert draft is not None  # else the decision is to cancel
                    jobs.append(self._job(claim, draft))
                    if draft.revision == claim.revision:
                        starting[draft.id] = draft
                    entries.append(self._entry("publication.sending", claim, {}, now))
                    continue
                action, changed, details = self._apply_refusal(session, claim, decision, now)
                entries.append(self._entry(action, changed, details, now))
                notice = self._hold_notice(session, changed, decision)
                if notice is not None:
                    notices.append(notice)
            entries += _start_publishing(session, starting, self.directory, now)
            deletions = dl.claim_due(
                session,
                now=now,
                worker_id=self.worker_id,
                lease=self.settings.lease,
                limit=limit - len(claims),
            )
            for deletion in deletions:
                jobs.append(_DeletionJob(deletion))
                entries.append(_deletion_entry("deletion.sending", deletion, {}, now))
            audit.append_many(session, entries)
        return len(claims) + len(deletions), jobs, notices

    def _job(self, claim: Claim, draft: DraftSnapshot | None) -> _Job:
        """The post exactly as approved: the claimed revision's text for the account's platform."""
        account = self.directory.accounts.get(claim.account_id)
        platform = account.platform if account else None
        revision = draft.revisions.get(claim.revision) if draft is not None else None
        if revision is None:
            raise LookupError(f"draft {claim.draft_id} has no revision {claim.revision}")
        text = revision.text
        if platform is not None:
            text = revision.variants.get(platform.value, revision.text)
        post = PostRequest(text=text, media=revision.media, idempotency_key=claim.idempotency_key)
        return _Job(claim, post, platform)

    def _decide(
        self,
        draft: DraftSnapshot | None,
        claim: Claim,
        pauses: Sequence[Any],
        now: datetime,
    ) -> SendDecision:
        if draft is None:
            return SendDecision(SendKind.CANCEL, cancel=CancelReason.NOT_APPROVED)
        try:
            author = _member_or_former(self.directory, draft.author_id)
            process = draft.process(author, self.directory)
        except UnknownAccount:
            return SendDecision(SendKind.CANCEL, cancel=CancelReason.NOT_APPROVED)
        facts = SendFacts(
            approved_hash=claim.content_hash,
            current_hash=draft.content_hash,
            approved=(
                process.is_fully_approved()
                and process.state in _SENDABLE_DRAFT_STATES
                and draft.revision == claim.revision
            ),
            due_at=claim.due_at,
            emergency=claim.emergency,
            confirmed=claim.confirmed,
            paused=outbox.covers(pauses, claim.account_id),
        )
        calendar = self._calendar(claim.account_id)
        return decide_send(
            facts, now=now, is_open_at=calendar.is_open_at, rules=self.settings.rules
        )

    def _calendar(self, account_id: str) -> BusinessCalendar:
        if account_id not in self._calendars:
            self._calendars[account_id] = self.calendar_for(self.directory.accounts.get(account_id))
        return self._calendars[account_id]

    def _apply_refusal(
        self, session: Session, claim: Claim, decision: SendDecision, now: datetime
    ) -> tuple[str, Claim, dict[str, Any]]:
        if decision.kind is SendKind.HOLD:
            assert decision.hold is not None
            changed = outbox.hold_claim(session, claim, decision.hold, now=now)
            return "publication.held", changed, {"reason": decision.hold.value}
        assert decision.cancel is not None
        changed = outbox.cancel_claim(session, claim, reason=decision.cancel.value, now=now)
        return "publication.cancelled", changed, {"reason": decision.cancel.value}

    def _hold_notice(
        self, session: Session, claim: Claim, decision: SendDecision
    ) -> PublicationNotice | None:
        # A pause is announced by whoever paused; holds postgate decides on its own are told.
        if decision.kind is not SendKind.HOLD or decision.hold is HoldReason.PAUSED:
            return None
        assert decision.hold is not None
        return PublicationNotice(
            NoticeKind.HELD,
            claim.publication_id,
            claim.draft_id,
            claim.account_id,
            _people(session, claim.draft_id, claim.revision),
            decision.hold.label(),
        )

    # ------------------------------------------------------------ one publication (async)

    async def _run(self, job: _Job) -> None:
        client = self.clients.get(job.claim.account_id)
        try:
            if client is None:
                await self._no_client(job)
                return
            if job.claim.reconcile:
                if not await self._reconcile(job, client):
                    return
                ready, notice = await asyncio.to_thread(self._recheck, job)
                if notice is not None:
                    await self.notifier.notify(notice)
                if not ready:
                    return
            await self._send(job, client)
        except LeaseLost:
            # Our lease ran out and another worker took the row over; it reconciles. Stop here.
            log.error(
                "publication %s: lease lost to another worker; leaving it to them",
                job.claim.publication_id,
            )

    async def _send(self, job: _Job, client: SnsClient) -> None:
        async def checkpoint(material: Mapping[str, str]) -> None:
            job.claim = await asyncio.to_thread(self._checkpoint, job.claim, material)

        timeout = self.settings.publish_timeout.total_seconds()
        try:
            async with asyncio.timeout(timeout):
                published = await client.publish(
                    job.post, material=job.claim.material, checkpoint=checkpoint
                )
        except SnsError as error:
            await self._after_error(job, error)
            return
        except TimeoutError:
            await self._after_error(job, _no_answer(client, timeout))
            return
        await self._published(job, _Outcome(_Step.PUBLISHED, job.claim, post=published))

    async def _published(self, job: _Job, outcome: _Outcome) -> None:
        """Record a publication that went out; after a run of failures, people hear it did."""
        recovering = job.claim.failing_since is not None
        people = await self._record(job, replace(outcome, tell=recovering))
        if recovering:
            detail = message("notice.publication.recovered_detail")
            await self.notifier.notify(
                self._notice(NoticeKind.RECOVERED, job.claim, people, detail)
            )

    async def _reconcile(self, job: _Job, client: SnsClient) -> bool:
        """Ask the platform about an earlier attempt; True when it certainly was not posted.

        A client that cannot read the platform (a 5xx, a timeout, no connection, a rate limit)
        raises a retryable error: the row stays ``sending`` and is reconciled again later —
        never resent blindly, and never handed to a person for one transient failure.
        """
        claim = job.claim
        # The clients allow for clock skew themselves (sns.common.CLOCK_SKEW).
        since = claim.previous_claimed_at or claim.claimed_at
        timeout = self.settings.publish_timeout.total_seconds()
        try:
            async with asyncio.timeout(timeout):
                found = await client.reconcile(job.post, material=claim.material, sent_after=since)
        except SnsError as error:
            if error.kind in (ErrorKind.RETRYABLE, ErrorKind.AMBIGUOUS):
                await self._unsettled(job, str(error), error.retry_at)
            else:
                await self._needs_review(job, str(error))
                if error.kind is ErrorKind.AUTH:
                    await self._auth_failed(job.claim, str(error))
            return False
        except TimeoutError:
            await self._unsettled(job, str(_no_answer(client, timeout)), None)
            return False
        if found.outcome is Outcome.PUBLISHED:
            post = found.post or PublishedPost(post_id="")
            await self._published(job, _Outcome(_Step.PUBLISHED, claim, post=post, reconciled=True))
            return False
        if found.outcome is Outcome.UNDECIDED:
            await self._needs_review(job, found.reason or "undecided")
            return False
        return True

    async def _after_error(self, job: _Job, error: SnsError) -> None:
        if error.kind is ErrorKind.AMBIGUOUS:
            await self._unsettled(job, str(error), error.retry_at)
            return
        if error.kind is ErrorKind.RETRYABLE:
            now = self.clock()
            if _rate_limited(error):
                # Rate limited: the post was refused before anything happened. Wait for the
                # platform's reset; it is not a failed attempt and nobody is told.
                wait = now + backoff(max(job.claim.attempts, 1), self.settings.retry, self.rng)
                reset = max(error.retry_at or wait, now + self.settings.retry.floor)
                outcome = _Outcome(
                    _Step.RETRY, job.claim, at=reset, error=str(error), failing=False
                )
                await self._record(job, outcome)
                return
            retry_at = self._retry_at(job.claim, now, error.retry_at)
            if retry_at is not None:
                starting = job.claim.failing_since is None
                outcome = _Outcome(
                    _Step.RETRY, job.claim, at=retry_at, error=str(error), tell=starting
                )
                people = await self._record(job, outcome)
                if starting:
                    detail = message("notice.publication.retrying_detail", error=str(error))
                    notice = self._notice(NoticeKind.RETRYING, outcome.claim, people, detail)
                    await self.notifier.notify(notice)
                return
        await self._fail(job, str(error), kind=error.kind)
        if error.kind is ErrorKind.AUTH:
            await self._auth_failed(job.claim, str(error))

    def _retry_at(self, claim: Claim, now: datetime, retry_at: datetime | None) -> datetime | None:
        """When to try a failing publication again (backoff, or the platform's reset time), or
        None once ``give_up_after`` has passed since its first failure (or, unless a person
        confirmed it, the missed-post limit since it was due)."""
        deadline = (claim.failing_since or now) + self.settings.give_up_after
        if not claim.confirmed:
            deadline = min(deadline, claim.due_at + self.settings.rules.max_lateness)
        if now >= deadline:
            return None
        at = now + backoff(max(claim.attempts, 1), self.settings.retry, self.rng)
        return min(max(at, retry_at or at), deadline)

    async def _unsettled(self, job: _Job, error: str, retry_at: datetime | None) -> None:
        """Maybe sent: reconcile later (after a backoff), or hand to a person once retrying has
        gone on for ``give_up_after``."""
        # Since the attempt that may have posted (kept across reconciliations).
        started = job.claim.previous_claimed_at or job.claim.claimed_at
        claim = replace(job.claim, failing_since=job.claim.failing_since or started)
        at = self._retry_at(claim, self.clock(), retry_at)
        if at is None:
            await self._needs_review(job, error)
            return
        await self._record(job, _Outcome(_Step.UNSETTLED, job.claim, at=at, error=error))

    async def _no_client(self, job: _Job) -> None:
        reason = f"no client for account {job.claim.account_id} (not in app.yaml?)"
        if job.claim.reconcile:
            await self._needs_review(job, reason)
        else:
            await self._fail(job, reason, kind=None)

    async def _fail(self, job: _Job, error: str, *, kind: ErrorKind | None) -> None:
        people = await self._record(job, _Outcome(_Step.FAILED, job.claim, error=error, kind=kind))
        await self.notifier.notify(self._notice(NoticeKind.FAILED, job.claim, people, error))

    async def _needs_review(self, job: _Job, reason: str) -> None:
        people = await self._record(job, _Outcome(_Step.NEEDS_REVIEW, job.claim, error=reason))
        await self.notifier.notify(self._notice(NoticeKind.NEEDS_REVIEW, job.claim, people, reason))

    async def _auth_failed(self, claim: Claim | DeletionClaim, error: str) -> None:
        account = self.directory.accounts.get(claim.account_id)
        people: tuple[str, ...] = ()
        if account is not None:
            people = self.directory.approvers(account.owner_section)
            if self.directory.digital_promotion is not None:
                people += self.directory.approvers(self.directory.digital_promotion.name)
        notice = self._notice(NoticeKind.AUTH_FAILED, claim, tuple(dict.fromkeys(people)), error)
        await self.notifier.notify(notice)

    def _notice(
        self,
        kind: NoticeKind,
        claim: Claim | DeletionClaim,
        people: tuple[str, ...],
        detail: str,
    ) -> PublicationNotice:
        return PublicationNotice(
            kind, claim.publication_id, claim.draft_id, claim.account_id, people, detail
        )

    async def _tell(self, notices: Iterable[PublicationNotice]) -> None:
        for notice in notices:
            await self.notifier.notify(notice)

    async def _record(self, job: _Job, outcome: _Outcome) -> tuple[str, ...]:
        """Commit the outcome (with whatever else is ready: one transaction for many); who must
        hear of it. Raises LeaseLost if the row is no longer this claim's."""
        recorded = await self._recorder.submit(outcome)
        assert isinstance(recorded.claim, Claim)
        job.claim = recorded.claim
        return recorded.people

    # ------------------------------------------------------------ one deletion (async)

    async def _run_deletion(self, job: _DeletionJob) -> None:
        """Delete one post through its account's client: retried like a publication on a
        retryable error (deleting twice does no harm), failed with the platform's reason on a
        permanent one (a LINE broadcast cannot be withdrawn)."""
        claim = job.claim
        client = self.clients.get(claim.account_id)
        outcome: _DeletionOutcome
        if client is None:
            reason = message("deletion.no_client", account=claim.account_id)
            outcome = _DeletionOutcome(False, claim, error=reason)
        elif not claim.post_id:
            outcome = _DeletionOutcome(False, claim, error=message("deletion.no_post_id"))
        else:
            timeout = self.settings.publish_timeout.total_seconds()
            try:
                async with asyncio.timeout(timeout):
                    await client.delete(claim.post_id)
            except SnsError as error:
                outcome = self._after_deletion_error(claim, error)
            except TimeoutError:
                outcome = self._after_deletion_error(claim, _no_answer(client, timeout))
            else:
                outcome = _DeletionOutcome(True, claim)
        try:
            recorded = await self._recorder.submit(outcome)
        except DeletionLost:
            log.error("deletion %s: lease lost to another worker", claim.deletion_id)
            return
        await self._tell(recorded.notices)
        if outcome.kind is ErrorKind.AUTH:
            await self._auth_failed(claim, outcome.error)

    def _after_deletion_error(self, claim: DeletionClaim, error: SnsError) -> _DeletionOutcome:
        if error.kind in (ErrorKind.RETRYABLE, ErrorKind.AMBIGUOUS):
            decision = after_retryable_error(
                attempts=claim.attempts,
                now=self.clock(),
                retry_at=error.retry_at,
                policy=self.settings.retry,
                rng=self.rng,
            )
            if decision.kind is RetryKind.RETRY:
                return _DeletionOutcome(False, claim, retry_at=decision.at, error=str(error))
        detail = str(error)
        if claim.previous_error is not None and error.kind is ErrorKind.PERMANENT:
            # An earlier attempt got no clear answer: it may have deleted the post already.
            detail += " " + message("deletion.maybe_deleted_before")
        return _DeletionOutcome(False, claim, error=detail, kind=error.kind)

    # ------------------------------------------------------------ writes (in threads)

    def _checkpoint(self, claim: Claim, material: Mapping[str, str]) -> Claim:
        now = self.clock()
        with self.db.session() as session:
            changed = outbox.checkpoint(
                session, claim, material, now=now, lease=self.settings.lease
            )
            audit.append_many(
                session,
                [self._entry("publication.checkpoint", changed, {"keys": sorted(material)}, now)],
            )
            return changed

    def _recheck(self, job: _Job) -> tuple[bool, PublicationNotice | None]:
        """After a reconciliation found nothing: the send-time rules again, on fresh facts.
        Returns whether to send, and a notice for the people if it is held instead."""
        now = self.clock()
        claim = job.claim
        with self.db.session() as session:
            draft = repo.snapshots(session, [(claim.draft_id, claim.revision)]).get(claim.draft_id)
            decision = self._decide(draft, claim, outbox.active_pauses(session), now)
            if decision.kind is SendKind.SEND:
                return True, None
            action, job.claim, details = self._apply_refusal(session, claim, decision, now)
            audit.append_many(
                session, [self._entry(action, job.claim, {**details, "after_reconcile": True}, now)]
            )
            return False, self._hold_notice(session, job.claim, decision)

    def _record_batch(
        self, outcomes: Sequence[_Outcome | _DeletionOutcome]
    ) -> list[_Recorded | Exception]:
        """Record many outcomes in one transaction: each row's change (guarded by its claim's
        version: a lost lease fails that outcome alone), then the drafts settled once each, the
        deletion requests closed, and every audit event in one append."""
        now = self.clock()
        results: list[_Recorded | Exception] = []
        entries: list[audit.Entry] = []
        settle: dict[int, int] = {}
        requests: set[int] = set()
        with self.db.session() as session:
            published = outbox.mark_published_many(
                session,
                [
                    (o.claim, o.post.post_id or None, o.post.permalink)
                    for o in outcomes
                    if isinstance(o, _Outcome) and o.step is _Step.PUBLISHED and o.post
                ],
                now=now,
            )
            for outcome in outcomes:
                try:
                    if isinstance(outcome, _DeletionOutcome):
                        recorded, entry = self._apply_deletion(session, outcome, now)
                        requests.add(outcome.claim.request_id)
                    else:
                        recorded, entry = self._apply(session, outcome, published, now)
                        if outcome.step in (_Step.PUBLISHED, _Step.FAILED):
                            settle[outcome.claim.draft_id] = outcome.claim.revision
                except (LeaseLost, DeletionLost) as lost:
                    results.append(lost)
                    continue
                results.append(recorded)
                entries.append(entry)
            entries += _settle_drafts(session, settle, self.directory, now)
            closed = dl.settle_requests(session, requests, now=now)
            entries += [_request_entry(request, event, now) for request, event in closed]
            told = {
                (o.claim.draft_id, o.claim.revision)
                for r, o in zip(results, outcomes, strict=True)
                if isinstance(r, _Recorded)
                and isinstance(o, _Outcome)
                and (o.step in (_Step.FAILED, _Step.NEEDS_REVIEW) or o.tell)
            }
            people = _people_many(session, told)
            notices = self._deletion_notices(session, outcomes, results, closed)
            audit.append_many(session, entries)
        final: list[_Recorded | Exception] = []
        for result, outcome in zip(results, outcomes, strict=True):
            if isinstance(result, _Recorded) and isinstance(outcome, _Outcome):
                key = (outcome.claim.draft_id, outcome.claim.revision)
                final.append(replace(result, people=people.get(key, ())))
            elif isinstance(result, _Recorded):
                final.append(replace(result, notices=notices.get(id(outcome), ())))
            else:
                final.append(result)
        return final

    def _apply(
        self,
        session: Session,
        outcome: _Outcome,
        published: Mapping[int, Claim],
        now: datetime,
    ) -> tuple[_Recorded, audit.Entry]:
        """One outcome's change (a publication is already marked, in ``published``)."""
        claim, step = outcome.claim, outcome.step
        if step is _Step.PUBLISHED:
            post = outcome.post or PublishedPost(post_id="")
            if claim.publication_id not in published:
                raise LeaseLost(claim.publication_id)
            claim = published[claim.publication_id]
            action = "publication.published"
            details: dict[str, Any] = {
                "post_id": post.post_id or None,
                "permalink": post.permalink,
                "reconciled": outcome.reconciled,
            }
        elif step is _Step.RETRY:
            assert outcome.at is not None
            claim = outbox.mark_retry(
                session, claim, at=outcome.at, error=outcome.error, now=now, failing=outcome.failing
            )
            action = "publication.retry" if outcome.failing else "publication.rate_limited"
            details = {"error": outcome.error, "next_attempt_at": outcome.at.isoformat()}
        elif step is _Step.UNSETTLED:
            assert outcome.at is not None
            claim = outbox.mark_unsettled(
                session, claim, reconcile_at=outcome.at, error=outcome.error, now=now
            )
            action = "publication.retry"
            details = {
                "error": outcome.error,
                "ambiguous": True,
                "reconcile_at": outcome.at.isoformat(),
            }
        elif step is _Step.FAILED:
            claim = outbox.mark_failed(session, claim, error=outcome.error, now=now)
            action = "publication.failed"
            details = {"error": outcome.error, "kind": outcome.kind.value if outcome.kind else None}
        else:
            claim = outbox.mark_needs_review(session, claim, reason=outcome.error, now=now)
            action = "publication.needs_review"
            details = {"reason": outcome.error}
        return _Recorded(claim), self._entry(action, claim, details, now)

    def _apply_deletion(
        self, session: Session, outcome: _DeletionOutcome, now: datetime
    ) -> tuple[_Recorded, audit.Entry]:
        claim = outcome.claim
        if outcome.deleted:
            claim = dl.mark_deleted(session, claim, now=now)
            entry = _deletion_entry("deletion.executed", claim, {"post_id": claim.post_id}, now)
        elif outcome.retry_at is not None:
            claim = dl.mark_retry(session, claim, at=outcome.retry_at, error=outcome.error, now=now)
            details: dict[str, Any] = {
                "error": outcome.error,
                "next_attempt_at": outcome.retry_at.isoformat(),
            }
            entry = _deletion_entry("deletion.retry", claim, details, now)
        else:
            claim = dl.mark_failed(session, claim, error=outcome.error, now=now)
            details = {"error": outcome.error, "kind": outcome.kind.value if outcome.kind else None}
            entry = _deletion_entry("deletion.failed", claim, details, now)
        return _Recorded(claim), entry

    def _deletion_notices(
        self,
        session: Session,
        outcomes: Sequence[_Outcome | _DeletionOutcome],
        results: Sequence[_Recorded | Exception],
        closed: Sequence[tuple[DeletionRequest, RequestEvent]],
    ) -> dict[int, tuple[PublicationNotice, ...]]:
        """Per deletion outcome (by ``id``): a failed post is told at once; a request that is
        done is told with the outcome that closed it."""
        done = {request.id: (request, event) for request, event in closed}
        notices: dict[int, tuple[PublicationNotice, ...]] = {}
        for outcome, result in zip(outcomes, results, strict=True):
            if not isinstance(outcome, _DeletionOutcome) or not isinstance(result, _Recorded):
                continue
            claim = outcome.claim
            people = _deletion_people(session, claim.request_id, claim.draft_id)
            told: list[PublicationNotice] = []
            if not outcome.deleted and outcome.retry_at is None:
                detail = message("deletion.notice_detail", request=claim.request_id) + outcome.error
                told.append(self._notice(NoticeKind.DELETION_FAILED, claim, people, detail))
            if claim.request_id in done:
                _request, event = done.pop(claim.request_id)
                if event is RequestEvent.EXECUTED:
                    detail = message("deletion.notice_done", request=claim.request_id)
                    told.append(self._notice(NoticeKind.DELETED, claim, people, detail))
            notices[id(outcome)] = tuple(told)
        return notices

    def _entry(
        self, action: str, claim: Claim, details: Mapping[str, Any], at: datetime
    ) -> audit.Entry:
        return audit.Entry(
            actor=OUTBOX_ACTOR,
            action=action,
            subject=f"publication:{claim.publication_id}",
            at=at,
            details={
                "draft": claim.draft_id,
                "revision": claim.revision,
                "account": claim.account_id,
                "attempt": claim.attempts,
                "worker": claim.worker_id,
                **details,
            },
        )


def _rate_limited(error: SnsError) -> bool:
    """A 429, or a refusal that says when to come back without being a server failure (Graph's
    rate-limit codes come with HTTP 400 and a time to regain access)."""
    if error.status == HTTP_TOO_MANY_REQUESTS:
        return True
    return error.retry_at is not None and (error.status is None or error.status < 500)


def _process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (signal 0 checks without sending)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def _no_answer(client: SnsClient, seconds: float) -> SnsError:
    return SnsError(
        ErrorKind.AMBIGUOUS,
        f"no answer within {seconds:.0f} s: the post may have gone through",
        platform=client.platform,
    )


def _deletion_entry(
    action: str, claim: DeletionClaim, details: Mapping[str, Any], at: datetime
) -> audit.Entry:
    return audit.Entry(
        actor=OUTBOX_ACTOR,
        action=action,
        subject=f"publication:{claim.publication_id}",
        at=at,
        details={
            "deletion_request": claim.request_id,
            "draft": claim.draft_id,
            "account": claim.account_id,
            "attempt": claim.attempts,
            "worker": claim.worker_id,
            **details,
        },
    )


def _request_entry(request: DeletionRequest, event: RequestEvent, at: datetime) -> audit.Entry:
    return audit.Entry(
        actor=OUTBOX_ACTOR,
        action=f"deletion.{event.value}",
        subject=f"deletion:{request.id}",
        at=at,
        details={"draft": request.draft_id, "state": request.state},
    )


# ---------------------------------------------------------------- the draft follows


def _lock_drafts(
    session: Session, draft_ids: Iterable[int], *, skip_locked: bool = False
) -> set[int]:
    """Lock the drafts in id order before any audit append (which takes the audit lock): every
    row lock first, the audit lock last, so two transactions never wait on each other in a
    circle. With ``skip_locked``, drafts someone else holds are left out (and not returned)."""
    ids = sorted(set(draft_ids))
    if not ids or session.get_bind().dialect.name != "postgresql":
        return set(ids)
    statement = select(Draft.id).where(col(Draft.id).in_(ids)).order_by(col(Draft.id))
    return {i for i in session.exec(statement.with_for_update(skip_locked=skip_locked)).all() if i}


def _start_publishing(
    session: Session, drafts: Mapping[int, DraftSnapshot], directory: Directory, now: datetime
) -> list[audit.Entry]:
    """approved/scheduled -> publishing for the drafts whose first post is on its way. In the
    claim's transaction, so a draft someone else is changing right now (a revision) is skipped
    rather than waited for: it is settled when its posts are."""
    waiting = {i: d for i, d in drafts.items() if d.state in _WAITING_DRAFT_STATES}
    locked = _lock_drafts(session, waiting, skip_locked=True)
    planned = [(waiting[i], _steps(waiting[i], directory, publishing=True)) for i in sorted(locked)]
    return _save_steps(session, planned, now)


def _steps(
    draft: DraftSnapshot,
    directory: Directory,
    *,
    publishing: bool = False,
    succeeded: bool | None = None,
) -> list[ap.Outcome]:
    """The draft's way to publishing, and then to published or failed, as far as it can go."""
    try:
        process = draft.process(_member_or_former(directory, draft.author_id), directory)
    except UnknownAccount:
        return []  # a target left app.yaml: the send-time rules cancel its publications
    steps: list[ap.Outcome] = []
    if draft.state in _WAITING_DRAFT_STATES and (publishing or succeeded is not None):
        if not process.is_fully_approved():
            return steps
        steps.append(ap.start_publishing(process))
        process = steps[-1].process
    if succeeded is not None and process.state is DraftState.PUBLISHING:
        steps.append(ap.finish_publishing(process, succeeded=succeeded))
    return steps


def _save_steps(
    session: Session, planned: Sequence[tuple[DraftSnapshot, list[ap.Outcome]]], now: datetime
) -> list[audit.Entry]:
    """Write the planned steps: the one-step drafts (nearly all) with one UPDATE per resulting
    state, the others step by step."""
    singles = [(draft, steps[0]) for draft, steps in planned if len(steps) == 1]
    entries = repo.save_states(session, singles, actor_id=OUTBOX_ACTOR, at=now)
    for draft, steps in planned:
        if len(steps) < 2:
            continue
        current = draft
        for step in steps:
            try:
                current, entry = repo.save_state(
                    session, current, step, actor_id=OUTBOX_ACTOR, at=now
                )
            except Conflict:
                break  # it changed since it was read: the next settlement decides
            entries.append(entry)
    return entries


def _member_or_former(directory: Directory, member_id: str) -> Member:
    # Someone who left app.yaml still wrote the draft: the rules only need their section.
    return directory.member(member_id) or Member(id=member_id, name=member_id, section="-")


def _settle_drafts(
    session: Session, wanted: Mapping[int, int], directory: Directory, now: datetime
) -> list[audit.Entry]:
    """After publications settled (draft id -> revision): each draft is published when all its
    (not cancelled) publications are, failed as soon as one failed, withdrawn when every one was
    cancelled. Returns the audit entries, for the caller to append with its own."""
    if not wanted:
        return []
    ids = sorted(_lock_drafts(session, wanted))
    drafts = repo.snapshots(session, [(i, wanted[i]) for i in ids])
    states: dict[int, set[str]] = {}
    for draft_id, revision, state in session.execute(
        sa_select(
            col(Publication.draft_id), col(Publication.revision), col(Publication.state)
        ).where(col(Publication.draft_id).in_(ids))
    ).all():
        if revision == wanted[draft_id] and state != PublicationState.CANCELLED.value:
            states.setdefault(draft_id, set()).add(state)
    entries: list[audit.Entry] = []
    planned: list[tuple[DraftSnapshot, list[ap.Outcome]]] = []
    for draft_id in ids:
        draft = drafts.get(draft_id)
        if draft is None or draft.revision != wanted[draft_id]:
            continue  # the draft has moved on to a new revision: its own publications decide
        found = states.get(draft_id, set())
        if not found:
            if draft.state in _WAITING_DRAFT_STATES:
                author = _member_or_former(directory, draft.author_id)
                outcome = ap.all_publications_cancelled(draft.process(author, directory))
                _, entry = repo.save_state(
                    session,
                    draft,
                    outcome,
                    actor_id=OUTBOX_ACTOR,
                    at=now,
                    details={"reason": "all publications cancelled"},
                )
                entries.append(entry)
            continue
        if PublicationState.FAILED.value in found:
            planned.append((draft, _steps(draft, directory, succeeded=False)))
        elif found <= _DONE_PUBLICATION_STATES:
            planned.append((draft, _steps(draft, directory, succeeded=True)))
    return entries + _save_steps(session, planned, now)


def _settle_draft(
    session: Session, draft_id: int, revision: int, directory: Directory, now: datetime
) -> None:
    """``_settle_drafts`` for one draft, its audit events appended at once (people's use cases)."""
    audit.append_many(session, _settle_drafts(session, {draft_id: revision}, directory, now))


def _people(session: Session, draft_id: int, revision: int) -> tuple[str, ...]:
    """The draft's author and whoever approved this revision."""
    return _people_many(session, {(draft_id, revision)}).get((draft_id, revision), ())


def _people_many(
    session: Session, wanted: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str, ...]]:
    """For each (draft, revision): the draft's author and whoever approved that revision."""
    pairs = set(wanted)
    ids = sorted({d for d, _ in pairs})
    if not ids:
        return {}
    authors = dict(
        session.execute(
            sa_select(col(Draft.id), col(Draft.author_id)).where(col(Draft.id).in_(ids))
        ).all()
    )
    approvers: dict[tuple[int, int], list[str]] = {}
    for draft_id, revision, reviewer in session.execute(
        sa_select(col(Review.draft_id), col(Review.revision), col(Review.reviewer_id))
        .where(
            col(Review.draft_id).in_(ids),
            col(Review.kind) == "approval",
            col(Review.decision) == "approved",
        )
        .order_by(col(Review.id))
    ).all():
        approvers.setdefault((draft_id, revision), []).append(reviewer)
    found: dict[tuple[int, int], tuple[str, ...]] = {}
    for draft_id, revision in pairs:
        author = (authors[draft_id],) if draft_id in authors else ()
        found[(draft_id, revision)] = tuple(
            dict.fromkeys((*author, *approvers.get((draft_id, revision), ())))
        )
    return found


def _deletion_people(session: Session, request_id: int, draft_id: int) -> tuple[str, ...]:
    """Who hears what became of a deletion: the requester, the approvers, the draft's author."""
    request = session.get(DeletionRequest, request_id)
    draft = session.get(Draft, draft_id)
    people: list[str] = []
    if request is not None:
        people += [request.requested_by, *request.approvals.values()]
    if draft is not None:
        people.append(draft.author_id)
    return tuple(dict.fromkeys(people))


# ---------------------------------------------------------------- use cases for people


def outbox_row(row: Publication, lang: Lang = Lang.JA) -> OutboxRow:
    assert row.id is not None
    state = PublicationState(row.state)
    return OutboxRow(
        id=row.id,
        draft_id=row.draft_id,
        revision=row.revision,
        account_id=row.account_id,
        state=row.state,
        state_label=state.label(lang),
        due_at=row.due_at,
        attempts=row.attempts,
        platform_post_id=row.platform_post_id,
        permalink=row.permalink,
        last_error=row.last_error,
        hold_reason=row.hold_reason,
        emergency=row.emergency,
    )


@dataclass
class PublicationUseCases:
    """Cancel, reschedule, confirm and review publications; pause and resume accounts; the
    list."""

    db: Database
    directory: Directory
    calendar_for: Callable[[Account | None], BusinessCalendar]
    clock: Clock = utc_now

    def list_publications(
        self,
        *,
        states: Sequence[PublicationState] = (),
        account_id: str | None = None,
        limit: int = 200,
        lang: Lang = Lang.JA,
    ) -> list[OutboxRow]:
        with self.db.session(read_only=True) as session:
            rows = outbox.list_publications(
                session, states=states, account_id=account_id, limit=limit
            )
            return [outbox_row(r, lang) for r in rows]

    def cancel(self, actor: Actor, publication_id: int, *, reason: str) -> OutboxResult:
        """Cancel a pending or held publication (author or approver; a reason is required)."""

        def body(session: Session, row: Publication, member: Member, now: datetime) -> None:
            if not reason.strip():
                raise ReasonRequired()
            outbox.cancel(session, row, reason=reason.strip(), now=now)
            _settle_draft(session, row.draft_id, row.revision, self.directory, now)
            self._audit(session, member, "publication.cancelled", row, {"reason": reason}, now=now)

        return self._on_publication(actor, publication_id, "cancel", body)

    def reschedule(
        self, actor: Actor, publication_id: int, *, at: datetime, lang: Lang = Lang.JA
    ) -> OutboxResult:
        """A new time for a pending or held publication (author or approver); the notes say
        when it is outside business hours, or still held by a pause."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("reschedule needs an aware datetime")
        notes: list[str] = []

        def body(session: Session, row: Publication, member: Member, now: datetime) -> None:
            if at < now:
                raise RescheduleInPast(at=_tokyo(at))
            before = row.due_at
            outbox.reschedule(session, row, due_at=at, now=now)
            loaded = repo.load(session, row.draft_id, for_update=True)
            if (
                DraftState(loaded.draft.state) in _WAITING_DRAFT_STATES
                and loaded.draft.revision == row.revision
            ):
                author = repo.author_of(session, loaded.draft.author_id, self.directory)
                outcome = ap.schedule(loaded.process(author, self.directory))
                repo.save(
                    session,
                    loaded,
                    outcome,
                    actor_id=member.id,
                    at=now,
                    details={"publication": row.id, "due_at": at.isoformat()},
                )
            self._audit(
                session,
                member,
                "publication.rescheduled",
                row,
                {"from": before.isoformat(), "to": at.isoformat()},
                now=now,
            )
            calendar = self.calendar_for(self.directory.accounts.get(row.account_id))
            if not row.emergency and not calendar.is_open_at(at):
                notes.append(
                    message(
                        "posts.rescheduled_outside_hours",
                        lang,
                        next=_tokyo(calendar.next_open_slot(at)),
                    )
                )
            if row.state == PublicationState.HELD.value:
                notes.append(message("posts.still_paused", lang))

        result = self._on_publication(actor, publication_id, "reschedule", body)
        return OutboxResult(result.publication, tuple(notes))

    def confirm(self, actor: Actor, publication_id: int) -> OutboxResult:
        """A person accepts a held publication going out now (late or out of hours)."""

        def body(session: Session, row: Publication, member: Member, now: datetime) -> None:
            if row.state != PublicationState.HELD.value:
                raise PublicationNotHeld(
                    publication=row.id, state=PublicationState(row.state).label()
                )
            pauses = [
                p for p in outbox.active_pauses(session) if p.account_id in (None, row.account_id)
            ]
            if pauses and not row.emergency:
                raise AccountPaused(account=row.account_id, reason=pauses[0].reason)
            held_for = row.hold_reason
            outbox.release(session, row, now=now, confirmed_by=member.id)
            self._audit(
                session,
                member,
                "publication.released",
                row,
                {"hold_reason": held_for, "confirmed": True},
                now=now,
            )

        return self._on_publication(actor, publication_id, "confirm", body)

    def retry(self, actor: Actor, publication_id: int) -> OutboxResult:
        """Put a failed publication back in the queue (author or approver). The outbox
        reconciles it with the platform first — a post that did go out is marked published, not
        sent twice — then re-checks the send-time rules and sends it."""

        def body(session: Session, row: Publication, member: Member, now: datetime) -> None:
            if row.state != PublicationState.FAILED.value:
                raise PublicationNotFailed(
                    publication=row.id, state=PublicationState(row.state).label()
                )
            earlier = row.last_error
            outbox.retry_failed(session, row, now=now)
            loaded = repo.load(session, row.draft_id, for_update=True)
            if (
                DraftState(loaded.draft.state) is DraftState.FAILED
                and loaded.draft.revision == row.revision
            ):  # the draft follows its publication: failed -> publishing again
                author = repo.author_of(session, loaded.draft.author_id, self.directory)
                outcome = ap.start_publishing(loaded.process(author, self.directory))
                repo.save(
                    session,
                    loaded,
                    outcome,
                    actor_id=member.id,
                    at=now,
                    details={"publication": row.id, "retry": True},
                )
            self._audit(
                session, member, "publication.retried", row, {"earlier_error": earlier}, now=now
            )

        return self._on_publication(actor, publication_id, "retry", body)

    def review(
        self,
        actor: Actor,
        publication_id: int,
        *,
        published: str | None = None,
        not_published: bool = False,
    ) -> OutboxResult:
        """A person who checked the platform settles a ``needs_review`` publication (author or
        approver): ``published`` — the post is there (its URL or id) -> published; or
        ``not_published`` — it is not -> pending, sent after the send-time rules again."""
        if (published is None) == (not not_published):
            raise ValueError("give either published (the post's URL or id) or not_published")

        def body(session: Session, row: Publication, member: Member, now: datetime) -> None:
            if row.state != PublicationState.NEEDS_REVIEW.value:
                raise PublicationNotInReview(
                    publication=row.id, state=PublicationState(row.state).label()
                )
            details: dict[str, Any] = {"found": published is not None, "via": actor.platform}
            if published is not None:
                account = self.directory.accounts.get(row.account_id)
                post_id, permalink = post_reference(
                    account.platform if account else None, published
                )
                outbox.resolve_published(
                    session, row, post_id=post_id, permalink=permalink, now=now
                )
                _settle_draft(session, row.draft_id, row.revision, self.directory, now)
                details |= {"post_id": post_id, "permalink": permalink}
            else:
                details["earlier_outcome"] = row.last_error
                outbox.resolve_not_published(session, row, now=now)
            self._audit(session, member, "publication.reviewed", row, details, now=now)

        return self._on_publication(actor, publication_id, "review", body)

    def pause(self, actor: Actor, *, account_id: str | None, reason: str) -> PauseResult:
        """Hold every pending non-emergency publication of an account (or of all), with a reason;
        publications approved while the pause lasts start held."""
        member = self._member_or_refuse(actor, "pause", account_id)
        now = self.clock()
        try:
            self._may_pause(member, account_id)
            if not reason.strip():
                raise ReasonRequired()
        except Refusal as refusal:
            self._audit_refusal(actor, member, "pause", _pause_subject(account_id), refusal)
            raise
        with self.db.session() as session:
            pause_row, held = outbox.pause(
                session, account_id=account_id, reason=reason.strip(), created_by=member.id, now=now
            )
            audit.append(
                session,
                actor=member.id,
                action="pause.started",
                subject=f"pause:{pause_row.id}",
                details={
                    "account": account_id,
                    "reason": reason.strip(),
                    "held": [p.id for p in held],
                    "via": actor.platform,
                },
                at=now,
            )
            for row in held:
                self._audit(
                    session,
                    member,
                    "publication.held",
                    row,
                    {"reason": "paused", "pause": pause_row.id},
                    now=now,
                )
            return PauseResult(account_id, reason.strip(), tuple(p.id for p in held if p.id))

    def resume(self, actor: Actor, *, account_id: str | None) -> PauseResult:
        """End the pause of an account (or the all-accounts pause); release what it held."""
        member = self._member_or_refuse(actor, "resume", account_id)
        now = self.clock()
        try:
            self._may_pause(member, account_id)
        except Refusal as refusal:
            self._audit_refusal(actor, member, "resume", _pause_subject(account_id), refusal)
            raise
        with self.db.session() as session:
            ended, released = outbox.resume(
                session, account_id=account_id, released_by=member.id, now=now
            )
            if not ended:
                not_paused = NotPaused(scope=_scope(account_id))
            else:
                for pause_row in ended:
                    audit.append(
                        session,
                        actor=member.id,
                        action="pause.released",
                        subject=f"pause:{pause_row.id}",
                        details={
                            "account": account_id,
                            "released": [p.id for p in released],
                            "via": actor.platform,
                        },
                        at=now,
                    )
                for row in released:
                    self._audit(
                        session,
                        member,
                        "publication.released",
                        row,
                        {"hold_reason": "paused"},
                        now=now,
                    )
                reason = "; ".join(p.reason for p in ended)
                return PauseResult(account_id, reason, tuple(p.id for p in released if p.id))
        self._audit_refusal(actor, member, "resume", _pause_subject(account_id), not_paused)
        raise not_paused

    # ------------------------------------------------------------ machinery

    def _may_pause(self, member: Member, account_id: str | None) -> None:
        promotion = self.directory.city_promotion
        if promotion is not None and member.section == promotion.name:
            return
        allowed = list(self.directory.approvers(promotion.name)) if promotion else []
        if account_id is not None:
            account = self.directory.accounts.get(account_id)
            if account is None:
                raise UnknownAccount(account=account_id, known=", ".join(self.directory.accounts))
            owners = self.directory.approvers(account.owner_section)
            if member.id in owners:
                return
            allowed += owners
        names = [m.name for m in (self.directory.member(i) for i in dict.fromkeys(allowed)) if m]
        raise NotAllowedToPause(scope=_scope(account_id), allowed="、".join(names) or "-")

    def _on_publication(
        self,
        actor: Actor,
        publication_id: int,
        op_name: str,
        body: Callable[[Session, Publication, Member, datetime], None],
    ) -> OutboxResult:
        """Run ``body`` on the publication, locked (before its draft, like the worker does: the
        same lock order everywhere), after checking the actor may act on it; audit refusals."""
        member = self._member_or_refuse(actor, op_name, publication_id)
        try:
            with self.db.session() as session:
                row = outbox.get(session, publication_id, for_update=True)
                if row is None:
                    raise UnknownPublication(publication=publication_id)
                self._require_author_or_approver(session, row, member)
                if op_name not in ("confirm", "review", "retry") and row.state not in (
                    PublicationState.PENDING.value,
                    PublicationState.HELD.value,
                ):
                    raise PublicationNotOpen(
                        publication=row.id, state=PublicationState(row.state).label()
                    )
                body(session, row, member, self.clock())
                session.refresh(row)
                return OutboxResult(outbox_row(row))
        except Refusal as refusal:
            self._audit_refusal(actor, member, op_name, f"publication:{publication_id}", refusal)
            raise

    def _require_author_or_approver(
        self, session: Session, row: Publication, member: Member
    ) -> None:
        draft = session.get(Draft, row.draft_id)
        revision = session.exec(
            select(DraftRevision).where(
                DraftRevision.draft_id == row.draft_id, DraftRevision.revision == row.revision
            )
        ).one()
        assert draft is not None
        sections = dict.fromkeys(
            self.directory.accounts[a].approving_section
            for a in revision.targets
            if a in self.directory.accounts
        )
        approvers = tuple(dict.fromkeys(m for s in sections for m in self.directory.approvers(s)))
        if member.id == draft.author_id or member.id in approvers:
            return
        author = self.directory.member(draft.author_id)
        names = [m.name for m in (self.directory.member(i) for i in approvers) if m]
        raise NotAuthorOrApprover(
            author=author.name if author else draft.author_id, approvers="、".join(names) or "-"
        )

    def _member_or_refuse(self, actor: Actor, op: str, subject: int | str | None) -> Member:
        try:
            return member_of(self.directory, actor)
        except UnknownMember as refusal:
            where = (
                f"publication:{subject}" if isinstance(subject, int) else _pause_subject(subject)
            )
            self._audit_refusal(actor, None, op, where, refusal)
            raise

    def _audit(
        self,
        session: Session,
        member: Member,
        action: str,
        row: Publication,
        details: Mapping[str, Any],
        *,
        now: datetime,
    ) -> None:
        audit.append(
            session,
            actor=member.id,
            action=action,
            subject=f"publication:{row.id}",
            details={"draft": row.draft_id, "account": row.account_id, **details},
            at=now,
        )

    def _audit_refusal(
        self, actor: Actor, member: Member | None, op: str, subject: str, refusal: Refusal
    ) -> None:
        audit_refusal(
            self.db,
            action="publication.refused" if subject.startswith("publication:") else "pause.refused",
            subject=subject,
            actor=actor,
            member=member,
            operation=op,
            refusal=refusal,
            at=self.clock(),
        )


def _scope(account_id: str | None) -> str:
    if account_id is None:
        return message("pause.scope_all")
    return message("pause.scope_account", account=account_id)


def _pause_subject(account_id: str | None) -> str:
    return f"account:{account_id}" if account_id else "account:*"


def _tokyo(at: datetime) -> str:
    return at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
