"""Publishing policy: when an outbox row may go out, when it waits, and when a person decides.

Pure and synchronous: the worker (handlers/publishing.py) asks these functions and does what they
say. Everything is timezone-aware; times are compared as instants, so a post scheduled for 09:00
in Tokyo is due at 00:00 UTC, never an hour early or late.

- Retries: exponential backoff with full jitter (a random delay between nothing and the capped
  exponential bound, never below a floor), the platform's own reset time for a 429, and a cap on
  attempts after which the row fails (or, if the last outcome was ambiguous, goes to a person).
- Missed posts: a post that became due while postgate was down goes out when it comes back, unless
  it is more than ``max_lateness`` (default 6 h) late: then it is held for a person to confirm or
  cancel — a morning event notice must not appear at midnight.
- Send-time re-checks: the approved content hash must still be the draft's current one, with an
  approval of it; business hours: a post approved for a time inside the account's hours is held
  rather than sent outside them (a deliberate out-of-hours schedule goes out; emergencies always
  go). An emergency pause holds everything but emergencies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

from workflows.catalogue import Lang, message
from workflows.checks.model import Platform
from workflows.errors import Refusal


class PublicationState(StrEnum):
    """Where an outbox row is."""

    PENDING = "pending"  # waiting for its time (or its next attempt)
    SENDING = "sending"  # claimed by a worker; the network call may be under way
    PUBLISHED = "published"
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"  # the outcome could not be decided: a person must look
    HELD = "held"  # waiting for a person (see HoldReason) or for a pause to end
    CANCELLED = "cancelled"
    DELETED = "deleted"  # was published, then deleted on request (workflows.deletion)

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"publication_state.{self.value}", lang)


OPEN_STATES = frozenset({PublicationState.PENDING, PublicationState.HELD})
SETTLED_STATES = frozenset(
    {
        PublicationState.PUBLISHED,
        PublicationState.FAILED,
        PublicationState.CANCELLED,
        PublicationState.DELETED,
    }
)


class HoldReason(StrEnum):
    MISSED = "missed"  # due while postgate was down, longer ago than the limit
    PAUSED = "paused"  # an emergency pause of the account (or all accounts)
    HOURS = "hours"  # approved inside business hours, would go out outside them now

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"hold_reason.{self.value}", lang)


class CancelReason(StrEnum):
    REVISED = "revised"  # the draft's current content is not the approved content
    NOT_APPROVED = "not_approved"  # no approval of the current content (or the draft moved on)


# ---------------------------------------------------------------- retries


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff for retryable errors: full jitter over ``base * 2**(attempt-1)``, capped."""

    base: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(minutes=15)
    floor: timedelta = timedelta(seconds=1)  # never retry in a hot loop
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not timedelta(0) <= self.floor <= self.base <= self.cap:
            raise ValueError("need 0 <= floor <= base <= cap")


Random = Callable[[], float]  # uniform in [0, 1), like random.random


def backoff(attempt: int, policy: RetryPolicy, rng: Random) -> timedelta:
    """The delay before retry number ``attempt`` (1 = the first retry), with full jitter."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    # 2**attempt overflows timedelta long before the cap matters: stop doubling at the cap.
    bound = policy.base
    for _ in range(attempt - 1):
        if bound >= policy.cap:
            break
        bound *= 2
    bound = min(bound, policy.cap)
    return max(policy.floor, bound * rng())


class RetryKind(StrEnum):
    RETRY = "retry"  # try again at ``at``
    GIVE_UP = "give_up"  # the cap is reached


@dataclass(frozen=True, slots=True)
class RetryDecision:
    kind: RetryKind
    at: datetime | None = None


def after_retryable_error(
    *,
    attempts: int,
    now: datetime,
    retry_at: datetime | None,
    policy: RetryPolicy,
    rng: Random,
) -> RetryDecision:
    """What follows a retryable error on the ``attempts``-th attempt.

    A platform's reset time (429) is obeyed even when it is later than the backoff would be, and
    a reset time already past still waits the floor.
    """
    _aware(now)
    if attempts >= policy.max_attempts:
        return RetryDecision(RetryKind.GIVE_UP)
    if retry_at is not None:
        _aware(retry_at)
        return RetryDecision(RetryKind.RETRY, max(retry_at, now + policy.floor))
    return RetryDecision(RetryKind.RETRY, now + backoff(attempts, policy, rng))


# ---------------------------------------------------------------- send-time rules


@dataclass(frozen=True, slots=True)
class SendRules:
    """The configurable limits of the send-time rules."""

    max_lateness: timedelta = timedelta(hours=6)


class SendKind(StrEnum):
    SEND = "send"
    HOLD = "hold"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class SendDecision:
    kind: SendKind
    hold: HoldReason | None = None
    cancel: CancelReason | None = None

    @classmethod
    def send(cls) -> SendDecision:
        return cls(SendKind.SEND)


@dataclass(frozen=True, slots=True)
class SendFacts:
    """What the worker knows about a claimed row at send time."""

    approved_hash: str  # the publication's: what was approved
    current_hash: str  # the draft's current revision's
    approved: bool  # an approval of the current content exists and the draft is still open
    due_at: datetime  # the approved (or rescheduled) time
    emergency: bool
    confirmed: bool  # a person released this row after a hold
    paused: bool  # an active pause covers the account


def is_due(due_at: datetime, now: datetime) -> bool:
    """Whether a row due at ``due_at`` may be sent at ``now`` (instants, whatever the zones)."""
    return _aware(due_at) <= _aware(now)


def is_missed(due_at: datetime, now: datetime, rules: SendRules) -> bool:
    """More than ``max_lateness`` late: exactly the limit still goes out."""
    return _aware(now) - _aware(due_at) > rules.max_lateness


def decide_send(
    facts: SendFacts,
    *,
    now: datetime,
    is_open_at: Callable[[datetime], bool],
    rules: SendRules,
) -> SendDecision:
    """Send, hold (and why) or cancel (and why) a claimed row; checks in order of severity."""
    _aware(now)
    if facts.current_hash != facts.approved_hash:
        return SendDecision(SendKind.CANCEL, cancel=CancelReason.REVISED)
    if not facts.approved:
        return SendDecision(SendKind.CANCEL, cancel=CancelReason.NOT_APPROVED)
    if facts.paused and not facts.emergency:
        return SendDecision(SendKind.HOLD, hold=HoldReason.PAUSED)
    if facts.confirmed:
        return SendDecision.send()
    if is_missed(facts.due_at, now, rules):
        return SendDecision(SendKind.HOLD, hold=HoldReason.MISSED)
    if not facts.emergency and is_open_at(facts.due_at) and not is_open_at(now):
        return SendDecision(SendKind.HOLD, hold=HoldReason.HOURS)
    return SendDecision.send()


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: publishing needs aware datetimes")
    return moment


# ---------------------------------------------------------------- refusals of the outbox use cases


class UnknownPublication(Refusal):
    key = "refusal.unknown_publication"


class PublicationNotOpen(Refusal):
    """Only a pending or held row can be cancelled or rescheduled."""

    key = "refusal.publication_not_open"


class PublicationNotHeld(Refusal):
    key = "refusal.publication_not_held"


class NotAuthorOrApprover(Refusal):
    key = "refusal.not_author_or_approver"


class NotAllowedToPause(Refusal):
    key = "refusal.not_allowed_to_pause"


class AccountPaused(Refusal):
    key = "refusal.account_paused"


class NotPaused(Refusal):
    key = "refusal.not_paused"


class RescheduleInPast(Refusal):
    key = "refusal.reschedule_in_past"


class PublicationNotFailed(Refusal):
    """Only a ``failed`` row is sent again by ``retry``."""

    key = "refusal.publication_not_failed"


class PublicationNotInReview(Refusal):
    """Only a ``needs_review`` row is resolved by a person's look at the platform."""

    key = "refusal.publication_not_in_review"


class PostReferenceRequired(Refusal):
    key = "refusal.post_reference_required"


# ---------------------------------------------------------------- a person's answer


_X_STATUS = re.compile(r"(?:x|twitter)\.com/[^/?#]+/status(?:es)?/(\d+)", re.IGNORECASE)
_FACEBOOK_POST = re.compile(r"facebook\.com/(\d+_\d+)(?:[/?#]|$)", re.IGNORECASE)


def post_reference(platform: Platform | None, given: str) -> tuple[str | None, str | None]:
    """(platform post id, permalink) from what a person found on the platform: the post's URL
    or its id. The id is read from the URL where the platform's URL carries it (X's
    ``/status/{id}``, a Facebook ``{page}_{post}`` link or ``story_fbid``); otherwise only the
    URL is kept (an Instagram link has a short code, not the media id)."""
    text = given.strip()
    if not text:
        raise PostReferenceRequired()
    if not text.lower().startswith(("http://", "https://")):
        return text, None
    post_id: str | None = None
    if platform is Platform.X and (m := _X_STATUS.search(text)):
        post_id = m.group(1)
    elif platform is Platform.FACEBOOK:
        query = parse_qs(urlsplit(text).query)
        if m := _FACEBOOK_POST.search(text):
            post_id = m.group(1)
        elif query.get("story_fbid") and query.get("id"):
            post_id = f"{query['id'][0]}_{query['story_fbid'][0]}"
    return post_id, text
