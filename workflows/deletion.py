"""Deleting a published post (manual §8 (3)): a request with a reason, approved like a post,
executed through each account's client, every step audited.

The manual's advice comes first: deleting alone does not put a mistake right — explain the error
and correct it where people can see it. So every request shows that advice and offers a
correction draft linked to the original (``draft.correction_of``).

Pure and synchronous. A ``DeletionCase`` is one request as the rules see it: the draft's published
posts it would delete (``Target``), who asked, and which approving sections agreed. The request's
states form an explicit transition table (diagram: deletion.mmd beside this file):

- a member of a section that owns one of the accounts asks, with a reason (``check_request``);
- an approver (chief or deputy) of each approving section of those accounts approves — never the
  requester; a checklist is not needed, the reason is what they judge (``approve``) — or one of
  them rejects it with a reason (``reject``);
- the outbox then deletes each post (``TargetState``: pending → sending → deleted or failed, with
  the publishing retry policy), and the request ends ``executed`` when every post is gone, or
  ``failed`` when some could not be deleted (a LINE broadcast cannot be withdrawn) — the reason is
  shown to people (``settle``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from workflows.catalogue import Lang, message
from workflows.errors import InvalidTransition, ReasonRequired, Refusal, UnknownAccount
from workflows.org import Account, Directory, Member

_TOKYO = ZoneInfo("Asia/Tokyo")


class RequestState(StrEnum):
    """Where a deletion request is."""

    REQUESTED = "requested"  # waiting for the approvers
    APPROVED = "approved"  # approved: the outbox is deleting the posts
    REJECTED = "rejected"
    EXECUTED = "executed"  # every post is deleted
    FAILED = "failed"  # some post could not be deleted (the reason is on its target)

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"deletion_state.{self.value}", lang)


class RequestEvent(StrEnum):
    APPROVAL_RECORDED = "approval_recorded"  # one approving section agreed; others remain
    APPROVED = "approved"  # every approving section agreed
    REJECTED = "rejected"
    EXECUTED = "executed"  # every target deleted
    FAILED = "failed"  # every target settled, some not deleted

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"deletion_event.{self.value}", lang)


R, RE = RequestState, RequestEvent
TRANSITIONS: dict[tuple[RequestState, RequestEvent], RequestState] = {
    (R.REQUESTED, RE.APPROVAL_RECORDED): R.REQUESTED,
    (R.REQUESTED, RE.APPROVED): R.APPROVED,
    (R.REQUESTED, RE.REJECTED): R.REJECTED,
    (R.APPROVED, RE.EXECUTED): R.EXECUTED,
    (R.APPROVED, RE.FAILED): R.FAILED,
}
TERMINAL = frozenset({R.REJECTED, R.EXECUTED, R.FAILED})
OPEN = frozenset({R.REQUESTED, R.APPROVED})  # at most one open request per draft


def transition(state: RequestState, event: RequestEvent) -> RequestState:
    """The state after ``event``; InvalidTransition if the table has no such edge."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(state=state.label(), action=event.label()) from None


def mermaid() -> str:
    """The table as a Mermaid state diagram (kept in deletion.mmd; a test compares)."""
    lines = ["stateDiagram-v2", f"    [*] --> {R.REQUESTED.value}"]
    for (state, event), target in TRANSITIONS.items():
        lines.append(f"    {state.value} --> {target.value}: {event.value}")
    lines += [f"    {state.value} --> [*]" for state in sorted(TERMINAL)]
    return "\n".join(lines) + "\n"


class TargetState(StrEnum):
    """One post's deletion, claimed by the outbox like a publication."""

    PENDING = "pending"  # waiting for the outbox (or its next attempt)
    SENDING = "sending"  # claimed; the platform call may be under way
    DELETED = "deleted"
    FAILED = "failed"

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"deletion_target_state.{self.value}", lang)


SETTLED_TARGETS = frozenset({TargetState.DELETED, TargetState.FAILED})


@dataclass(frozen=True, slots=True)
class Target:
    """A published post of the draft: what would be deleted."""

    publication_id: int
    account_id: str
    post_id: str | None


@dataclass(frozen=True, slots=True)
class DeletionCase:
    """A deletion request as the rules see it."""

    draft_id: int
    requester_id: str
    state: RequestState
    targets: tuple[Target, ...]
    approvals: Mapping[str, str] = field(default_factory=dict)  # section -> approver's id

    def approving_sections(self, directory: Directory) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_account(directory, t).approving_section for t in self.targets))

    def owning_sections(self, directory: Directory) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_account(directory, t).owner_section for t in self.targets))

    def pending_sections(self, directory: Directory) -> tuple[str, ...]:
        return tuple(s for s in self.approving_sections(directory) if s not in self.approvals)


def _account(directory: Directory, target: Target) -> Account:
    account = directory.accounts.get(target.account_id)
    if account is None:
        raise UnknownAccount(account=target.account_id, known=", ".join(directory.accounts))
    return account


# ---------------------------------------------------------------- the rules


def check_request(
    targets: Iterable[Target],
    actor: Member,
    directory: Directory,
    *,
    draft_id: int,
    reason: str,
    open_request: tuple[int, RequestState] | None,
) -> DeletionCase:
    """A member of an owning section asks to delete the draft's published posts, with a reason.

    ``open_request`` is the draft's request still open (id, state), if any: one at a time.
    """
    if not reason.strip():
        raise ReasonRequired()
    case = DeletionCase(
        draft_id=draft_id,
        requester_id=actor.id,
        state=RequestState.REQUESTED,
        targets=tuple(targets),
    )
    if not case.targets:
        raise NothingPublished(draft=draft_id)
    if open_request is not None:
        raise DeletionAlreadyRequested(request=open_request[0], state=open_request[1].label())
    owners = case.owning_sections(directory)
    if actor.section not in owners:
        raise NotInOwningSection(
            sections="、".join(owners), accounts="、".join(t.account_id for t in case.targets)
        )
    return case


def approve(
    case: DeletionCase, actor: Member, directory: Directory
) -> tuple[DeletionCase, RequestEvent]:
    """An approver of an approving section agrees (for every such section they speak for)."""
    sections = _require_decider(case, actor, directory)
    mine = [s for s in sections if s in case.pending_sections(directory)]
    if not mine:
        who = directory.member(case.approvals[sections[0]])
        raise DeletionAlreadyApproved(who=who.name if who else case.approvals[sections[0]])
    approvals = {**case.approvals, **dict.fromkeys(mine, actor.id)}
    after = replace(case, approvals=approvals)
    event = RE.APPROVED if not after.pending_sections(directory) else RE.APPROVAL_RECORDED
    return replace(after, state=transition(case.state, event)), event


def reject(
    case: DeletionCase, actor: Member, directory: Directory, *, reason: str
) -> tuple[DeletionCase, RequestEvent]:
    """An approver refuses the deletion, with a reason (e.g. "correct it with a new post")."""
    if not reason.strip():
        raise ReasonRequired()
    _require_decider(case, actor, directory)
    return replace(case, state=transition(case.state, RE.REJECTED)), RE.REJECTED


def _require_decider(case: DeletionCase, actor: Member, directory: Directory) -> list[str]:
    if case.state is not RequestState.REQUESTED:
        raise DeletionAlreadyDecided(state=case.state.label())
    if actor.id == case.requester_id:
        raise RequesterCannotDecide()
    sections = [s for s in case.approving_sections(directory) if actor.id in directory.approvers(s)]
    if not sections:
        pending = case.pending_sections(directory) or case.approving_sections(directory)
        members = (directory.member(i) for i in directory.approvers(pending[0]))
        names = [m.name for m in members if m]
        raise NotADeletionApprover(section=pending[0], approvers="、".join(names) or "-")
    return sections


def settle(state: RequestState, targets: Iterable[TargetState]) -> RequestEvent | None:
    """When every target of an approved request is settled: executed, or failed if any failed."""
    states = list(targets)
    if state is not RequestState.APPROVED or not all(s in SETTLED_TARGETS for s in states):
        return None
    return RE.EXECUTED if all(s is TargetState.DELETED for s in states) else RE.FAILED


def advice(lang: Lang = Lang.JA) -> str:
    """The manual's advice, shown with every request (§8 (3))."""
    return message("deletion.advice", lang)


def correction_text(published_at: datetime | None) -> str:
    """The start of a correction post: placeholders the checker refuses until they are filled."""
    if published_at is None:
        return message("deletion.correction_template_undated")
    local = published_at.astimezone(_TOKYO)
    return message("deletion.correction_template", date=f"{local.month}月{local.day}日")


# ---------------------------------------------------------------- refusals


class UnknownDeletionRequest(Refusal):
    key = "refusal.unknown_deletion_request"


class NothingPublished(Refusal):
    key = "refusal.nothing_published"


class DeletionAlreadyRequested(Refusal):
    key = "refusal.deletion_already_requested"


class NotInOwningSection(Refusal):
    key = "refusal.not_in_owning_section"


class RequesterCannotDecide(Refusal):
    key = "refusal.requester_cannot_decide"


class NotADeletionApprover(Refusal):
    key = "refusal.not_a_deletion_approver"


class DeletionAlreadyDecided(Refusal):
    key = "refusal.deletion_already_decided"


class DeletionAlreadyApproved(Refusal):
    key = "refusal.deletion_already_approved"
