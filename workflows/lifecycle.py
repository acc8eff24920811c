"""The draft lifecycle as an explicit transition table (diagram: lifecycle.mmd beside this file).

``transition(state, event)`` is pure: it returns the next state or raises InvalidTransition. Who
may cause an event, and which event a decision becomes, is decided in ``workflows.approval``.
"""

from __future__ import annotations

from enum import StrEnum

from workflows.catalogue import Lang, message
from workflows.errors import InvalidTransition


class DraftState(StrEnum):
    """Where a draft is. A draft sent back (needs_changes) is revised before it is submitted."""

    DRAFT = "draft"
    CHECKING = "checking"
    IN_REVIEW = "in_review"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    NEEDS_CHANGES = "needs_changes"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    FAILED = "failed"

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"state.{self.value}", lang)


class Event(StrEnum):
    SUBMIT = "submit"  # the author asks for review
    CHECKS_FAILED = "checks_failed"  # error-level findings: back to the author
    TO_PEERS = "to_peers"  # checks passed, colleagues must check first
    PEER_CHECKED = "peer_checked"  # one colleague checked; more are needed
    TO_APPROVERS = "to_approvers"  # checks (and peer checks) done: the chiefs decide
    APPROVAL_RECORDED = "approval_recorded"  # one approving section approved; others remain
    APPROVED = "approved"  # every approving section approved
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    REVISED = "revised"  # a new revision: every earlier review is void
    WITHDRAWN = "withdrawn"
    SCHEDULED = "scheduled"  # queued in the outbox for a time (or rescheduled)
    PUBLISH_STARTED = "publish_started"
    PUBLISHED = "published"
    PUBLISH_FAILED = "publish_failed"

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"event.{self.value}", lang)


S, E = DraftState, Event
_EDITABLE = (S.DRAFT, S.NEEDS_CHANGES, S.IN_REVIEW, S.AWAITING_APPROVAL, S.APPROVED, S.SCHEDULED)
_OPEN = (*_EDITABLE, S.CHECKING, S.FAILED)

TRANSITIONS: dict[tuple[DraftState, Event], DraftState] = {
    (S.DRAFT, E.SUBMIT): S.CHECKING,
    (S.CHECKING, E.CHECKS_FAILED): S.DRAFT,
    (S.CHECKING, E.TO_PEERS): S.IN_REVIEW,
    (S.CHECKING, E.TO_APPROVERS): S.AWAITING_APPROVAL,
    (S.IN_REVIEW, E.PEER_CHECKED): S.IN_REVIEW,
    (S.IN_REVIEW, E.TO_APPROVERS): S.AWAITING_APPROVAL,
    (S.IN_REVIEW, E.CHANGES_REQUESTED): S.NEEDS_CHANGES,
    (S.AWAITING_APPROVAL, E.APPROVAL_RECORDED): S.AWAITING_APPROVAL,
    (S.AWAITING_APPROVAL, E.APPROVED): S.APPROVED,
    (S.AWAITING_APPROVAL, E.CHANGES_REQUESTED): S.NEEDS_CHANGES,
    (S.AWAITING_APPROVAL, E.REJECTED): S.REJECTED,
    (S.APPROVED, E.SCHEDULED): S.SCHEDULED,
    (S.SCHEDULED, E.SCHEDULED): S.SCHEDULED,
    (S.APPROVED, E.PUBLISH_STARTED): S.PUBLISHING,
    (S.SCHEDULED, E.PUBLISH_STARTED): S.PUBLISHING,
    (S.FAILED, E.PUBLISH_STARTED): S.PUBLISHING,
    (S.PUBLISHING, E.PUBLISHED): S.PUBLISHED,
    (S.PUBLISHING, E.PUBLISH_FAILED): S.FAILED,
    **{(state, E.REVISED): S.DRAFT for state in _EDITABLE},
    **{(state, E.WITHDRAWN): S.WITHDRAWN for state in _OPEN},
}

TERMINAL = frozenset({S.PUBLISHED, S.REJECTED, S.WITHDRAWN})


def transition(state: DraftState, event: Event) -> DraftState:
    """The state after ``event`` in ``state``; InvalidTransition if the table has no such edge."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(state=state.label(), action=event.label()) from None


def allowed_events(state: DraftState) -> frozenset[Event]:
    return frozenset(event for (s, event) in TRANSITIONS if s is state)


def mermaid() -> str:
    """The transition table as a Mermaid state diagram (kept in lifecycle.mmd; a test compares)."""
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    for (state, event), target in TRANSITIONS.items():
        lines.append(f"    {state.value} --> {target.value}: {event.value}")
    lines += [f"    {state.value} --> [*]" for state in sorted(TERMINAL)]
    return "\n".join(lines) + "\n"
