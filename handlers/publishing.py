"""Publishing: the outbox worker, and the use cases people call on publications.

``Outbox.tick()`` claims due rows (committing each claim, with its idempotency key, before any
network call), re-checks each at send time (approved content, pause, lateness, business hours) and
publishes the rest concurrently through each account's ``SnsClient``. The database work runs in
threads (``asyncio.to_thread``) so the event loop — Slack, Teams, other publishes — never waits
for it. What a platform answers decides what follows (``sns.base.ErrorKind``):

- retryable: back to pending, not before the backoff (or the platform's reset time); failed
  after the attempt cap;
- permanent: failed with the platform's reason, never retried;
- auth: failed, and an ``auth_failed`` notice (a revoked token, or a hijacked account);
- ambiguous (or no answer in time): the row stays ``sending`` and its lease is shortened, so it is
  reconciled — asked of the platform — before anything is sent again. Rows left in ``sending``
  by a worker that died are reconciled the same way: published → done; not published → sent;
  undecided → ``needs_review`` and people are told. Never a blind resend.

Every change is audited (``publication.*``, ``pause.*``); the draft follows (approved/scheduled →
publishing → published, or failed) through the workflow's operations. People hear of failures,
undecidable outcomes and holds through a ``Notifier``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from handlers.drafts import Actor, Clock, member_of, utc_now
from handlers.views import OutboxResult, OutboxRow, PauseResult
from sns.base import ErrorKind, Outcome, PostRequest, PublishedPost, SnsClient, SnsError
from storage import audit, outbox
from storage import drafts as repo
from storage.drafts import LoadedDraft
from storage.engine import Database
from storage.outbox import Claim, LeaseLost
from storage.tables import Draft, DraftRevision, Publication, Review
from workflows import approval as ap
from workflows.calendar import BusinessCalendar
from workflows.catalogue import Lang, message
from workflows.checks.model import Platform
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
    PublicationNotHeld,
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
)

log = logging.getLogger(__name__)

OUTBOX_ACTOR: Final = "outbox"  # the audit actor of what the worker does on its own
TOKYO: Final = ZoneInfo("Asia/Tokyo")
_SENDABLE_DRAFT_STATES = frozenset(
    {DraftState.APPROVED, DraftState.SCHEDULED, DraftState.PUBLISHING, DraftState.FAILED}
)
_WAITING_DRAFT_STATES = frozenset({DraftState.APPROVED, DraftState.SCHEDULED})


# ---------------------------------------------------------------- telling people


class NoticeKind(StrEnum):
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"
    HELD = "held"
    AUTH_FAILED = "auth_failed"  # also a hijack signal, for the incidents work


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
    lease: timedelta = timedelta(minutes=5)
    # Shorter than the lease: an attempt is over (answered, or taken as ambiguous) before another
    # worker may take the row over.
    publish_timeout: timedelta = timedelta(minutes=4)
    batch: int = 100  # rows per claim transaction
    max_in_flight: int = 200  # publications being sent at once by this process
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rules: SendRules = field(default_factory=SendRules)
    worker_id: str = field(default_factory=default_worker_id)

    def __post_init__(self) -> None:
        if self.publish_timeout >= self.lease:
            raise ValueError("publish_timeout must be shorter than the lease")
        if self.batch < 1 or self.max_in_flight < 1:
            raise ValueError("batch and max_in_flight must be at least 1")


@dataclass(slots=True)
class _Job:
    """A claimed row on its way; ``claim`` is replaced as the row changes."""

    claim: Claim
    post: PostRequest
    platform: Platform | None


@dataclass(frozen=True, slots=True)
class TickReport:
    claimed: int
    reconciling: int


class Outbox:
    """The publishing worker: one per process; the database decides who sends what."""

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
        claimed = reconciling = 0
        if self._claiming.locked():
            return TickReport(0, 0)  # a claim is under way (a refill): it takes what is due
        async with self._claiming:
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
                reconciling += sum(1 for j in jobs if j.claim.reconcile)
                await self._tell(notices)
                self._more_due = count >= want
                if not self._more_due:
                    break
        return TickReport(claimed, reconciling)

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

    def _start(self, job: _Job) -> None:
        task = asyncio.create_task(self._run(job), name=f"publication-{job.claim.publication_id}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # A publication's row stays "sending" until its lease ends, then it is reconciled.
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

    def _claim_batch(self, limit: int) -> tuple[int, list[_Job], list[PublicationNotice]]:
        """Claim, re-check and commit; then the drafts whose first post goes out are publishing.
        Returns (rows claimed, rows to send or reconcile, notices of holds)."""
        now = self.clock()
        jobs: list[_Job] = []
        notices: list[PublicationNotice] = []
        starting: set[tuple[int, int]] = set()
        with self.db.session() as session:
            claims = outbox.claim_due(
                session,
                now=now,
                worker_id=self.worker_id,
                lease=self.settings.lease,
                limit=limit,
            )
            if not claims:
                return 0, [], []
            pauses = outbox.active_pauses(session)
            events: list[tuple[str, Claim, dict[str, Any]]] = []
            for claim in claims:
                job = self._job(session, claim)
                if claim.reconcile:
                    jobs.append(job)
                    events.append(("publication.sending", claim, {"reconcile": True}))
                    continue
                decision = self._decide(session, claim, pauses, now)
                if decision.kind is SendKind.SEND:
                    jobs.append(job)
                    starting.add((claim.draft_id, claim.revision))
                    events.append(("publication.sending", claim, {}))
                    continue
                held = self._apply_refusal(session, claim, decision, now)
                events.append(held)
                notice = self._hold_notice(session, claim, decision)
                if notice is not None:
                    notices.append(notice)
            for action, claim, details in events:
                self._audit(session, action, claim, details, now)
        if starting:
            self._drafts_publishing(starting)
        return len(claims), jobs, notices

    def _job(self, session: Session, claim: Claim) -> _Job:
        """The post exactly as approved: the claimed revision's text for the account's platform."""
        revision = session.exec(
            select(DraftRevision).where(
                DraftRevision.draft_id == claim.draft_id, DraftRevision.revision == claim.revision
            )
        ).one()
        account = self.directory.accounts.get(claim.account_id)
        platform = account.platform if account else None
        text = revision.text
        if platform is not None:
            text = revision.variants.get(platform.value, revision.text)
        post = PostRequest(
            text=text,
            media=tuple(str(m) for m in revision.media),
            idempotency_key=claim.idempotency_key,
        )
        return _Job(claim, post, platform)

    def _decide(
        self, session: Session, claim: Claim, pauses: Sequence[Any], now: datetime
    ) -> SendDecision:
        loaded = repo.load(session, claim.draft_id)
        try:
            author = repo.author_of(session, loaded.draft.author_id, self.directory)
            process = loaded.process(author, self.directory)
        except UnknownAccount:
            return SendDecision(SendKind.CANCEL, cancel=CancelReason.NOT_APPROVED)
        facts = SendFacts(
            approved_hash=claim.content_hash,
            current_hash=loaded.revision.content_hash,
            approved=(
                process.is_fully_approved()
                and process.state in _SENDABLE_DRAFT_STATES
                and loaded.draft.revision == claim.revision
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

    def _drafts_publishing(self, drafts: Iterable[tuple[int, int]]) -> None:
        """approved/scheduled -> publishing for the drafts whose first post is on its way."""
        now = self.clock()
        with self.db.session() as session:
            wanted = dict(drafts)
            _lock_drafts(session, wanted)
            for draft_id, revision in sorted(wanted.items()):
                loaded = repo.load(session, draft_id)
                if loaded.draft.revision != revision:
                    continue
                _advance(session, loaded, self.directory, now, publishing=True)

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
        await asyncio.to_thread(self._published, job, published, reconciled=False)

    async def _reconcile(self, job: _Job, client: SnsClient) -> bool:
        """Ask the platform about an earlier attempt; True when it certainly was not posted."""
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
                    await self._auth_failed(job, str(error))
            return False
        except TimeoutError:
            await self._unsettled(job, str(_no_answer(client, timeout)), None)
            return False
        if found.outcome is Outcome.PUBLISHED:
            post = found.post or PublishedPost(post_id="")
            await asyncio.to_thread(self._published, job, post, reconciled=True)
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
            decision = after_retryable_error(
                attempts=job.claim.attempts,
                now=self.clock(),
                retry_at=error.retry_at,
                policy=self.settings.retry,
                rng=self.rng,
            )
            if decision.kind is RetryKind.RETRY:
                assert decision.at is not None
                await asyncio.to_thread(self._retry, job, decision.at, str(error))
                return
        await self._fail(job, str(error), kind=error.kind)
        if error.kind is ErrorKind.AUTH:
            await self._auth_failed(job, str(error))

    async def _unsettled(self, job: _Job, error: str, retry_at: datetime | None) -> None:
        """Maybe sent: reconcile later (after a backoff), or hand to a person past the cap."""
        attempts = job.claim.attempts
        if attempts >= self.settings.retry.max_attempts:
            await self._needs_review(job, error)
            return
        now = self.clock()
        at = now + backoff(attempts, self.settings.retry, self.rng)
        if retry_at is not None and retry_at > at:
            at = retry_at
        await asyncio.to_thread(self._write_unsettled, job, at, error)

    async def _no_client(self, job: _Job) -> None:
        reason = f"no client for account {job.claim.account_id} (not in app.yaml?)"
        if job.claim.reconcile:
            await self._needs_review(job, reason)
        else:
            await self._fail(job, reason, kind=None)

    async def _fail(self, job: _Job, error: str, *, kind: ErrorKind | None) -> None:
        people = await asyncio.to_thread(self._write_failed, job, error, kind)
        await self.notifier.notify(self._notice(NoticeKind.FAILED, job, people, error))

    async def _needs_review(self, job: _Job, reason: str) -> None:
        people = await asyncio.to_thread(self._write_needs_review, job, reason)
        await self.notifier.notify(self._notice(NoticeKind.NEEDS_REVIEW, job, people, reason))

    async def _auth_failed(self, job: _Job, error: str) -> None:
        account = self.directory.accounts.get(job.claim.account_id)
        people: tuple[str, ...] = ()
        if account is not None:
            people = self.directory.approvers(account.owner_section)
            if self.directory.digital_promotion is not None:
                people += self.directory.approvers(self.directory.digital_promotion.name)
        notice = self._notice(NoticeKind.AUTH_FAILED, job, tuple(dict.fromkeys(people)), error)
        await self.notifier.notify(notice)

    def _notice(
        self, kind: NoticeKind, job: _Job, people: tuple[str, ...], detail: str
    ) -> PublicationNotice:
        claim = job.claim
        return PublicationNotice(
            kind, claim.publication_id, claim.draft_id, claim.account_id, people, detail
        )

    async def _tell(self, notices: Iterable[PublicationNotice]) -> None:
        for notice in notices:
            await self.notifier.notify(notice)

    # ------------------------------------------------------------ writes (in threads)

    def _checkpoint(self, claim: Claim, material: Mapping[str, str]) -> Claim:
        now = self.clock()
        with self.db.session() as session:
            changed = outbox.checkpoint(
                session, claim, material, now=now, lease=self.settings.lease
            )
            self._audit(session, "publication.checkpoint", changed, {"keys": sorted(material)}, now)
            return changed

    def _recheck(self, job: _Job) -> tuple[bool, PublicationNotice | None]:
        """After a reconciliation found nothing: the send-time rules again, on fresh facts.
        Returns whether to send, and a notice for the people if it is held instead."""
        now = self.clock()
        with self.db.session() as session:
            decision = self._decide(session, job.claim, outbox.active_pauses(session), now)
            if decision.kind is SendKind.SEND:
                return True, None
            action, job.claim, details = self._apply_refusal(session, job.claim, decision, now)
            self._audit(session, action, job.claim, {**details, "after_reconcile": True}, now)
            return False, self._hold_notice(session, job.claim, decision)

    def _published(self, job: _Job, post: PublishedPost, *, reconciled: bool) -> None:
        now = self.clock()
        with self.db.session() as session:
            claim = outbox.mark_published(
                session, job.claim, post_id=post.post_id or None, permalink=post.permalink, now=now
            )
            _settle_draft(session, claim.draft_id, claim.revision, self.directory, now)
            self._audit(
                session,
                "publication.published",
                claim,
                {
                    "post_id": post.post_id or None,
                    "permalink": post.permalink,
                    "reconciled": reconciled,
                },
                now,
            )
        job.claim = claim

    def _retry(self, job: _Job, at: datetime, error: str) -> None:
        now = self.clock()
        with self.db.session() as session:
            claim = outbox.mark_retry(session, job.claim, at=at, error=error, now=now)
            self._audit(
                session,
                "publication.retry",
                claim,
                {"error": error, "next_attempt_at": at.isoformat()},
                now,
            )
        job.claim = claim

    def _write_unsettled(self, job: _Job, at: datetime, error: str) -> None:
        now = self.clock()
        with self.db.session() as session:
            claim = outbox.mark_unsettled(session, job.claim, reconcile_at=at, error=error, now=now)
            self._audit(
                session,
                "publication.retry",
                claim,
                {"error": error, "ambiguous": True, "reconcile_at": at.isoformat()},
                now,
            )
        job.claim = claim

    def _write_failed(self, job: _Job, error: str, kind: ErrorKind | None) -> tuple[str, ...]:
        now = self.clock()
        with self.db.session() as session:
            claim = outbox.mark_failed(session, job.claim, error=error, now=now)
            _settle_draft(session, claim.draft_id, claim.revision, self.directory, now)
            self._audit(
                session,
                "publication.failed",
                claim,
                {"error": error, "kind": kind.value if kind else None},
                now,
            )
            people = _people(session, claim.draft_id, claim.revision)
        job.claim = claim
        return people

    def _write_needs_review(self, job: _Job, reason: str) -> tuple[str, ...]:
        now = self.clock()
        with self.db.session() as session:
            claim = outbox.mark_needs_review(session, job.claim, reason=reason, now=now)
            self._audit(session, "publication.needs_review", claim, {"reason": reason}, now)
            people = _people(session, claim.draft_id, claim.revision)
        job.claim = claim
        return people

    def _audit(
        self,
        session: Session,
        action: str,
        claim: Claim,
        details: Mapping[str, Any],
        at: datetime,
    ) -> None:
        audit.append(
            session,
            actor=OUTBOX_ACTOR,
            action=action,
            subject=f"publication:{claim.publication_id}",
            details={
                "draft": claim.draft_id,
                "revision": claim.revision,
                "account": claim.account_id,
                "attempt": claim.attempts,
                "worker": claim.worker_id,
                **details,
            },
            at=at,
        )


def _no_answer(client: SnsClient, seconds: float) -> SnsError:
    return SnsError(
        ErrorKind.AMBIGUOUS,
        f"no answer within {seconds:.0f} s: the post may have gone through",
        platform=client.platform,
    )


# ---------------------------------------------------------------- the draft follows


def _lock_drafts(session: Session, draft_ids: Iterable[int]) -> None:
    """Lock the drafts in id order before any audit append (which takes the audit lock): every
    row lock first, the audit lock last, so two transactions never wait on each other in a
    circle."""
    ids = sorted(set(draft_ids))
    if ids and session.get_bind().dialect.name == "postgresql":
        session.exec(
            select(Draft.id).where(col(Draft.id).in_(ids)).order_by(col(Draft.id)).with_for_update()
        ).all()


def _advance(
    session: Session,
    loaded: LoadedDraft,
    directory: Directory,
    now: datetime,
    *,
    publishing: bool = False,
    succeeded: bool | None = None,
) -> LoadedDraft:
    """Move the draft to publishing, and then to published or failed, as far as it can go."""
    state = DraftState(loaded.draft.state)
    author = repo.author_of(session, loaded.draft.author_id, directory)
    if state in _WAITING_DRAFT_STATES and (publishing or succeeded is not None):
        process = loaded.process(author, directory)
        if not process.is_fully_approved():
            return loaded
        loaded = repo.save(
            session, loaded, ap.start_publishing(process), actor_id=OUTBOX_ACTOR, at=now
        )
        state = DraftState(loaded.draft.state)
    if succeeded is not None and state is DraftState.PUBLISHING:
        outcome = ap.finish_publishing(loaded.process(author, directory), succeeded=succeeded)
        loaded = repo.save(session, loaded, outcome, actor_id=OUTBOX_ACTOR, at=now)
    return loaded


def _settle_draft(
    session: Session, draft_id: int, revision: int, directory: Directory, now: datetime
) -> None:
    """After a publication settled: the draft is published when all its (not cancelled)
    publications are, failed as soon as one failed, withdrawn when every one was cancelled."""
    loaded = repo.load(session, draft_id, for_update=True)
    if loaded.draft.revision != revision:
        return  # the draft has moved on to a new revision: its own publications will decide
    rows = [
        p
        for p in repo.publications_of(session, draft_id)
        if p.revision == revision and p.state != PublicationState.CANCELLED.value
    ]
    states = {p.state for p in rows}
    state = DraftState(loaded.draft.state)
    if not rows:
        if state in _WAITING_DRAFT_STATES:
            author = repo.author_of(session, loaded.draft.author_id, directory)
            outcome = ap.all_publications_cancelled(loaded.process(author, directory))
            repo.save(
                session,
                loaded,
                outcome,
                actor_id=OUTBOX_ACTOR,
                at=now,
                details={"reason": "all publications cancelled"},
            )
        return
    if PublicationState.FAILED.value in states:
        _advance(session, loaded, directory, now, succeeded=False)
    elif states == {PublicationState.PUBLISHED.value}:
        _advance(session, loaded, directory, now, succeeded=True)


def _people(session: Session, draft_id: int, revision: int) -> tuple[str, ...]:
    """The draft's author and whoever approved this revision."""
    draft = session.get(Draft, draft_id)
    approvers = session.exec(
        select(Review.reviewer_id).where(
            Review.draft_id == draft_id,
            Review.revision == revision,
            Review.kind == "approval",
            Review.decision == "approved",
        )
    ).all()
    author = (draft.author_id,) if draft is not None else ()
    return tuple(dict.fromkeys((*author, *approvers)))


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
    """Cancel, reschedule and confirm publications; pause and resume accounts; the list."""

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
                if op_name != "confirm" and row.state not in (
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
        with self.db.session() as session:
            audit.append(
                session,
                actor=member.id if member else f"{actor.platform}:{actor.user_id}",
                action="publication.refused"
                if subject.startswith("publication:")
                else "pause.refused",
                subject=subject,
                details={
                    "operation": op,
                    "refusal": refusal.key,
                    "message": refusal.message(),
                    "via": actor.platform,
                    "platform_user": actor.user_id,
                },
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
