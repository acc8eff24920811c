"""The approval workflow: who may check, approve, send back or reject a draft, and what follows.

Pure and synchronous. A ``Process`` is one draft as the rules see it (state, revision, content,
reviews); every operation returns the next ``Process`` and the lifecycle event it caused, or
raises a specific ``Refusal``. The handlers load a Process from storage, call one operation and
save the result, so the rules here are the only place these decisions are made.

Manual §4 ③ / §6: posts of the official accounts are approved by the City Promotion Division's
chief, posts of a section's own account by that section's chief (deputies may stand in); several
staff check every post (peer checks by colleagues of the author); the author never approves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from workflows.catalogue import Lang, message
from workflows.checks.model import Finding, Platform, Severity
from workflows.errors import (
    AlreadyApproved,
    AlreadyChecked,
    AlreadyDecided,
    AuthorCannotReview,
    BlockingFindings,
    ChecklistIncomplete,
    InvalidDraft,
    NotAnApprover,
    NotAPeer,
    NotTheAuthor,
    PeerCannotApprove,
    ReasonRequired,
    StaleRevision,
    UnknownAccount,
    WarningsNotAcknowledged,
)
from workflows.lifecycle import DraftState, Event, transition
from workflows.org import Directory, Member


class ReviewKind(StrEnum):
    PEER = "peer"
    APPROVAL = "approval"


class Decision(StrEnum):
    CHECKED = "checked"  # a colleague's peer check
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"


class ChecklistItem(StrEnum):
    """The manual's checklist (§6 ②), confirmed by whoever checks or approves a draft."""

    DATES = "dates"  # 日付・曜日・住所・電話番号
    WORDING = "wording"  # 誤字脱字・固有名詞（正式名称）
    FACTS = "facts"  # 内容の事実確認
    FLAME = "flame"  # 炎上しやすいテーマや表現
    HUMAN_RIGHTS = "human_rights"  # 人権に係る表現

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"checklist.{self.value}", lang)


FULL_CHECKLIST = frozenset(ChecklistItem)
_TOKYO = ZoneInfo("Asia/Tokyo")
MAX_TEXT = 70_000


@dataclass(frozen=True, slots=True)
class Content:
    """What would be published: the text (with per-platform variants), media and targets."""

    text: str
    targets: tuple[str, ...]
    variants: Mapping[Platform, str] = field(default_factory=dict)
    media: tuple[str, ...] = ()

    def text_for(self, platform: Platform) -> str:
        return self.variants.get(platform, self.text)

    def canonical(self) -> bytes:
        body = {
            "text": self.text,
            "variants": {p.value: t for p, t in sorted(self.variants.items())},
            "media": list(self.media),
            "targets": sorted(self.targets),
        }
        return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    def hash(self) -> str:
        """The approval is bound to this: the exact texts, media and targets."""
        return hashlib.sha256(self.canonical()).hexdigest()


def validate_content(content: Content, directory: Directory) -> None:
    """Refuse content that cannot become a draft: no text, unknown or no targets."""
    if not content.text.strip() and not any(t.strip() for t in content.variants.values()):
        raise InvalidDraft(reason=message("draft.empty"))
    for text in (content.text, *content.variants.values()):
        if len(text) > MAX_TEXT:
            raise InvalidDraft(reason=message("draft.too_long", length=len(text), limit=MAX_TEXT))
    if not content.targets:
        raise InvalidDraft(reason=message("draft.no_targets"))
    for account_id in content.targets:
        if account_id not in directory.accounts:
            known = ", ".join(directory.accounts)
            raise UnknownAccount(account=account_id, known=known)


@dataclass(frozen=True, slots=True)
class Route:
    """Who must act on a draft: how many peer checks, which sections' chiefs approve."""

    peer_checks: int
    approving_sections: tuple[str, ...]
    author_section: str


def route(targets: Iterable[str], author: Member, directory: Directory) -> Route:
    """The strictest peer-check count of the targets; every distinct approving section."""
    accounts = []
    for account_id in targets:
        account = directory.accounts.get(account_id)
        if account is None:
            raise UnknownAccount(account=account_id, known=", ".join(directory.accounts))
        accounts.append(account)
    sections = tuple(dict.fromkeys(a.approving_section for a in accounts))
    return Route(
        peer_checks=max((a.peer_checks for a in accounts), default=0),
        approving_sections=sections,
        author_section=author.section,
    )


def warning_id(finding: Finding) -> str:
    """A stable id for a warning of a revision, used for the approver's acknowledgements."""
    return f"{finding.rule}@{finding.start}-{finding.end}"


@dataclass(frozen=True, slots=True)
class Review:
    reviewer_id: str
    kind: ReviewKind
    revision: int
    decision: Decision
    at: datetime
    content_hash: str
    section: str | None = None
    comment: str | None = None
    checklist: frozenset[ChecklistItem] = frozenset()
    acknowledged: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Process:
    """A draft as the approval rules see it."""

    author_id: str
    state: DraftState
    revision: int
    content: Content
    route: Route
    errors: int = 0
    warnings: tuple[str, ...] = ()
    reviews: tuple[Review, ...] = ()

    @property
    def content_hash(self) -> str:
        return self.content.hash()

    def current_reviews(self) -> tuple[Review, ...]:
        """Reviews of the current revision: a new revision voids every earlier one."""
        return tuple(r for r in self.reviews if r.revision == self.revision)

    def peer_checkers(self) -> tuple[str, ...]:
        return tuple(
            r.reviewer_id
            for r in self.current_reviews()
            if r.kind is ReviewKind.PEER and r.decision is Decision.CHECKED
        )

    def approvals(self) -> dict[str, Review]:
        """Approving section -> its approval of the current content."""
        return {
            r.section: r
            for r in self.current_reviews()
            if r.kind is ReviewKind.APPROVAL
            and r.decision is Decision.APPROVED
            and r.section is not None
            and r.content_hash == self.content_hash
        }

    def pending_sections(self) -> tuple[str, ...]:
        done = self.approvals()
        return tuple(s for s in self.route.approving_sections if s not in done)

    def is_fully_approved(self) -> bool:
        return not self.pending_sections() and bool(self.route.approving_sections)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of an operation: the next process, the event, the review it recorded."""

    process: Process
    event: Event
    reviews: tuple[Review, ...] = ()


_APPROVED_STATES = frozenset(
    {DraftState.APPROVED, DraftState.SCHEDULED, DraftState.PUBLISHING, DraftState.PUBLISHED}
)
_DECIDED_STATES = frozenset({DraftState.REJECTED, DraftState.WITHDRAWN, DraftState.NEEDS_CHANGES})


def _step(process: Process, event: Event, *reviews: Review, **changes: object) -> Outcome:
    next_state = transition(process.state, event)
    updated = replace(process, state=next_state, reviews=process.reviews + reviews, **changes)  # type: ignore[arg-type]
    return Outcome(updated, event, reviews)


def _require_author(process: Process, actor: Member, directory: Directory) -> None:
    if actor.id != process.author_id:
        author = directory.member(process.author_id)
        raise NotTheAuthor(author=author.name if author else process.author_id)


def _require_current(process: Process, shown_revision: int) -> None:
    if shown_revision != process.revision:
        raise StaleRevision(shown=shown_revision, current=process.revision)


def _require_open_for_decision(process: Process, directory: Directory) -> None:
    if process.state in _APPROVED_STATES:
        approvals = sorted(process.approvals().values(), key=lambda r: r.at)
        if approvals:
            last = approvals[-1]
            who = directory.member(last.reviewer_id)
            raise AlreadyApproved(who=who.name if who else last.reviewer_id, when=_when(last.at))
        raise AlreadyDecided(state=process.state.label())
    if process.state in _DECIDED_STATES:
        raise AlreadyDecided(state=process.state.label())


def _when(at: datetime) -> str:
    local = at.astimezone(_TOKYO)
    return f"{local.month}月{local.day}日 {local.hour}:{local:%M}"


def submit(process: Process, actor: Member, directory: Directory) -> Outcome:
    """The author asks for review: error findings block it; then peers or approvers."""
    _require_author(process, actor, directory)
    checking = _step(process, Event.SUBMIT).process
    if process.errors:
        raise BlockingFindings(count=process.errors)
    event = Event.TO_PEERS if process.route.peer_checks > 0 else Event.TO_APPROVERS
    return _step(checking, event)


def peer_check(
    process: Process,
    actor: Member,
    directory: Directory,
    *,
    shown_revision: int,
    checklist: Iterable[ChecklistItem],
    at: datetime,
    comment: str | None = None,
) -> Outcome:
    """A colleague of the author confirms the checklist (manual §6 ②: several staff check)."""
    _require_current(process, shown_revision)
    if actor.id == process.author_id:
        raise AuthorCannotReview()
    if process.state is not DraftState.IN_REVIEW:
        _require_open_for_decision(process, directory)
        transition(process.state, Event.PEER_CHECKED)  # raises with the state's name
    if actor.section != process.route.author_section:
        raise NotAPeer(section=process.route.author_section)
    if actor.id in process.peer_checkers():
        raise AlreadyChecked(who=actor.name)
    _require_checklist(checklist)
    review = Review(
        reviewer_id=actor.id,
        kind=ReviewKind.PEER,
        revision=process.revision,
        decision=Decision.CHECKED,
        at=at,
        content_hash=process.content_hash,
        comment=comment or None,
        checklist=frozenset(checklist),
    )
    done = len(process.peer_checkers()) + 1 >= process.route.peer_checks
    return _step(process, Event.TO_APPROVERS if done else Event.PEER_CHECKED, review)


def _require_checklist(checklist: Iterable[ChecklistItem]) -> None:
    missing = FULL_CHECKLIST - frozenset(checklist)
    if missing:
        labels = "、".join(item.label() for item in ChecklistItem if item in missing)
        raise ChecklistIncomplete(missing=labels)


def approvable_sections(process: Process, actor: Member, directory: Directory) -> tuple[str, ...]:
    """The pending approving sections ``actor`` may approve for (chief or deputy)."""
    return tuple(s for s in process.pending_sections() if actor.id in directory.approvers(s))


def _require_approver(process: Process, actor: Member, directory: Directory) -> tuple[str, ...]:
    if actor.id == process.author_id:
        raise AuthorCannotReview()
    eligible = [s for s in process.route.approving_sections if actor.id in directory.approvers(s)]
    if not eligible:
        section = process.pending_sections()[0] if process.pending_sections() else "-"
        names = [m.name for m in (directory.member(i) for i in directory.approvers(section)) if m]
        raise NotAnApprover(
            accounts="、".join(process.content.targets),
            section=section,
            approvers="、".join(names) or "-",
        )
    return tuple(s for s in eligible if s in process.pending_sections())


def require_may_approve(
    process: Process, actor: Member, directory: Directory, *, shown_revision: int
) -> tuple[str, ...]:
    """The sections ``actor`` approves for with this revision, or the refusal saying why they
    may not (the author, a peer checker of it, a non-approver, already decided): checked at the
    click, before anyone fills in the approval form, and again by ``approve``."""
    _require_current(process, shown_revision)
    _require_open_for_decision(process, directory)
    sections = _require_approver(process, actor, directory)
    if process.state is not DraftState.AWAITING_APPROVAL:
        transition(process.state, Event.APPROVED)  # raises: e.g. peer checks still pending
    if not sections:
        # Every section this approver speaks for has approved already (maybe by a colleague).
        approvals = process.approvals()
        done = [approvals[s] for s in approvals if actor.id in directory.approvers(s)]
        if done:
            who = directory.member(done[0].reviewer_id)
            raise AlreadyApproved(
                who=who.name if who else done[0].reviewer_id, when=_when(done[0].at)
            )
        raise AlreadyDecided(state=process.state.label())
    if actor.id in process.peer_checkers():
        raise PeerCannotApprove()
    return sections


def approve(
    process: Process,
    actor: Member,
    directory: Directory,
    *,
    shown_revision: int,
    checklist: Iterable[ChecklistItem],
    acknowledged: Iterable[str],
    at: datetime,
    comment: str | None = None,
) -> Outcome:
    """An eligible approver approves the exact current content for their section(s)."""
    sections = require_may_approve(process, actor, directory, shown_revision=shown_revision)
    _require_checklist(checklist)
    acknowledged_set = frozenset(acknowledged)
    missing = [w for w in process.warnings if w not in acknowledged_set]
    if missing:
        raise WarningsNotAcknowledged(count=len(missing))
    reviews = tuple(
        Review(
            reviewer_id=actor.id,
            kind=ReviewKind.APPROVAL,
            revision=process.revision,
            decision=Decision.APPROVED,
            at=at,
            content_hash=process.content_hash,
            section=section,
            comment=comment or None,
            checklist=frozenset(checklist),
            acknowledged=acknowledged_set & frozenset(process.warnings),
        )
        for section in sections
    )
    after = replace(process, reviews=process.reviews + reviews)
    event = Event.APPROVED if after.is_fully_approved() else Event.APPROVAL_RECORDED
    return _step(process, event, *reviews)


def _decide_against(
    process: Process,
    actor: Member,
    directory: Directory,
    *,
    decision: Decision,
    shown_revision: int,
    reason: str,
    at: datetime,
) -> Outcome:
    _require_current(process, shown_revision)
    _require_open_for_decision(process, directory)
    if not reason.strip():
        raise ReasonRequired()
    if process.state is DraftState.IN_REVIEW and decision is Decision.CHANGES_REQUESTED:
        # A peer may send a draft back; so may an approver who already looks at it.
        if actor.id == process.author_id:
            raise AuthorCannotReview()
        if actor.section != process.route.author_section:
            _require_approver(process, actor, directory)
        kind, section = ReviewKind.PEER, None
    else:
        sections = _require_approver(process, actor, directory)
        kind, section = ReviewKind.APPROVAL, (sections[0] if sections else None)
    event = Event.CHANGES_REQUESTED if decision is Decision.CHANGES_REQUESTED else Event.REJECTED
    transition(process.state, event)
    review = Review(
        reviewer_id=actor.id,
        kind=kind,
        revision=process.revision,
        decision=decision,
        at=at,
        content_hash=process.content_hash,
        section=section,
        comment=reason.strip(),
    )
    return _step(process, event, review)


def request_changes(
    process: Process,
    actor: Member,
    directory: Directory,
    *,
    shown_revision: int,
    reason: str,
    at: datetime,
) -> Outcome:
    """Send the draft back to its author with a reason (差し戻し)."""
    return _decide_against(
        process,
        actor,
        directory,
        decision=Decision.CHANGES_REQUESTED,
        shown_revision=shown_revision,
        reason=reason,
        at=at,
    )


def reject(
    process: Process,
    actor: Member,
    directory: Directory,
    *,
    shown_revision: int,
    reason: str,
    at: datetime,
) -> Outcome:
    """Refuse the draft for good, with a reason (却下)."""
    return _decide_against(
        process,
        actor,
        directory,
        decision=Decision.REJECTED,
        shown_revision=shown_revision,
        reason=reason,
        at=at,
    )


def revise(
    process: Process,
    actor: Member,
    directory: Directory,
    *,
    content: Content,
    errors: int,
    warnings: tuple[str, ...],
) -> Outcome:
    """The author edits the draft: a new revision, checked again; earlier reviews are void.

    ``errors`` and ``warnings`` describe the new revision's findings (see ``summarise``).
    """
    _require_author(process, actor, directory)
    validate_content(content, directory)
    author = directory.member(process.author_id) or actor
    return _step(
        process,
        Event.REVISED,
        revision=process.revision + 1,
        content=content,
        route=route(content.targets, author, directory),
        errors=errors,
        warnings=warnings,
    )


def withdraw(process: Process, actor: Member, directory: Directory) -> Outcome:
    """The author takes the draft back (取り下げ); scheduled publications are cancelled."""
    _require_author(process, actor, directory)
    return _step(process, Event.WITHDRAWN)


def summarise(findings: Iterable[Finding]) -> tuple[int, tuple[str, ...]]:
    """(number of errors, ids of the warnings the approver must acknowledge)."""
    items = list(findings)
    errors = sum(1 for f in items if f.severity is Severity.ERROR)
    warnings = tuple(warning_id(f) for f in items if f.severity is Severity.WARNING)
    return errors, warnings


class EscalationStep(StrEnum):
    NONE = "none"
    REMIND = "remind"  # re-send the card to the chief
    OFFER_DEPUTIES = "offer_deputies"  # send it to the deputies too


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    remind_after: timedelta = timedelta(hours=2)
    deputies_after: timedelta = timedelta(hours=4)


def escalation(
    waiting_since: datetime,
    now: datetime,
    steps_done: Iterable[EscalationStep],
    policy: EscalationPolicy,
) -> EscalationStep:
    """What to do about an approval pending since ``waiting_since``; each step happens once."""
    done = frozenset(steps_done)
    waited = now - waiting_since
    if waited >= policy.deputies_after and EscalationStep.OFFER_DEPUTIES not in done:
        return EscalationStep.OFFER_DEPUTIES
    if waited >= policy.remind_after and not done:
        return EscalationStep.REMIND
    return EscalationStep.NONE


def start_publishing(process: Process) -> Outcome:
    """The outbox is about to send: only an approval of the exact current content allows it."""
    if not process.is_fully_approved():
        raise AlreadyDecided(state=process.state.label())
    return _step(process, Event.PUBLISH_STARTED)


def finish_publishing(process: Process, *, succeeded: bool) -> Outcome:
    return _step(process, Event.PUBLISHED if succeeded else Event.PUBLISH_FAILED)


def schedule(process: Process) -> Outcome:
    """Queue an approved draft for its time (again, when rescheduled)."""
    if not process.is_fully_approved():
        raise AlreadyDecided(state=process.state.label())
    return _step(process, Event.SCHEDULED)


def all_publications_cancelled(process: Process) -> Outcome:
    """Every publication of the approved draft was cancelled: nothing will be posted, and the
    draft is withdrawn (取り下げ) so that no list shows it as still on its way."""
    return _step(process, Event.WITHDRAWN)
