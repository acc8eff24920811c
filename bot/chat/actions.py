"""The actions of postgate's cards, the same on every platform: Slack's ``action_id`` and the
``verb`` of a Teams ``Action.Execute``.

Cards already posted carry them, so they never change between versions (add new ones instead).
Documented in the README.
"""

from __future__ import annotations

from typing import Final

from handlers.views import DraftView
from workflows.lifecycle import DraftState

# The draft's card in its thread (value: "<draft id>:<revision>").
SUBMIT: Final = "postgate.draft.submit"
EDIT: Final = "postgate.draft.edit"
SETTINGS: Final = "postgate.draft.settings"
WITHDRAW: Final = "postgate.draft.withdraw"
# The peer-check request in the thread.
PEER_CHECK: Final = "postgate.peer.check"
PEER_SEND_BACK: Final = "postgate.peer.request_changes"
# The approval card (DM to the chief, approvals channel).
APPROVE: Final = "postgate.approval.approve"
REQUEST_CHANGES: Final = "postgate.approval.request_changes"
REJECT: Final = "postgate.approval.reject"

# The forms (Slack: a modal's callback_id; Teams: the verb of the form card's button, the
# form's inputs in its data).
SAVE_EDIT: Final = "postgate.view.edit"  # the edit form (text, media)
SAVE_SETTINGS: Final = "postgate.view.settings"  # accounts, time, per-platform texts, emergency
NEW_DRAFT: Final = "postgate.view.new_draft"  # ``draft`` without a text
INCIDENT_REPORT: Final = "postgate.view.incident_report"  # ``incident``
# Teams: a form's キャンセル, answered with the draft's card as it is now.
DRAFT_CARD: Final = "postgate.draft.card"

# The publication-failed notice in the draft's thread (value: "<publication id>"): 再送する.
RETRY: Final = "postgate.publication.retry"
# Under a published result: 削除を依頼 (the reason typed in the message's text box).
DELETE: Final = "postgate.publication.delete"
# Under a needs-review notice: 投稿済みと確認 (the post's URL typed in the box), 未投稿として再送.
REVIEW_PUBLISHED: Final = "postgate.publication.review_published"
REVIEW_NOT_PUBLISHED: Final = "postgate.publication.review_not_published"
# The text box of such a note (Slack: its input's block and action id; Teams: the input id).
NOTE_FIELD: Final = "postgate.note.field"

# An incident's alert card (alerts channel and DMs; value: "<incident id>", and for a checklist
# step "<incident id>:<step id>").
INCIDENT_ACKNOWLEDGE: Final = "postgate.incident.acknowledge"
INCIDENT_RESOLVE: Final = "postgate.incident.resolve"  # opens the resolution modal
INCIDENT_REOPEN: Final = "postgate.incident.reopen"  # opens the reopen modal
INCIDENT_TICK: Final = "postgate.incident.tick"
INCIDENT_UNTICK: Final = "postgate.incident.untick"
INCIDENT_ACTION: Final = "postgate.incident.action"  # a step's action: notice draft, pause

DRAFT_ACTIONS: Final = (SUBMIT, EDIT, SETTINGS, WITHDRAW)
REVIEW_ACTIONS: Final = (PEER_CHECK, PEER_SEND_BACK, APPROVE, REQUEST_CHANGES, REJECT)
RESULT_ACTIONS: Final = (DELETE, REVIEW_PUBLISHED, REVIEW_NOT_PUBLISHED)
INCIDENT_ACTIONS: Final = (
    INCIDENT_ACKNOWLEDGE,
    INCIDENT_RESOLVE,
    INCIDENT_REOPEN,
    INCIDENT_TICK,
    INCIDENT_UNTICK,
    INCIDENT_ACTION,
)

FORM_ACTIONS: Final = (SAVE_EDIT, SAVE_SETTINGS, NEW_DRAFT, INCIDENT_REPORT, DRAFT_CARD)

EDITABLE: Final = frozenset(
    {
        DraftState.DRAFT,
        DraftState.NEEDS_CHANGES,
        DraftState.IN_REVIEW,
        DraftState.AWAITING_APPROVAL,
        DraftState.APPROVED,
        DraftState.SCHEDULED,
    }
)
WITHDRAWABLE: Final = EDITABLE | {DraftState.CHECKING, DraftState.FAILED}


def draft_card_actions(view: DraftView) -> tuple[str, ...]:
    """The buttons of a draft's card, in order, on every platform: submit (not with an error),
    edit and settings while it can change, withdraw while it can be withdrawn."""
    shown: list[str] = []
    if view.state not in WITHDRAWABLE:
        return ()
    if view.can_submit:
        shown.append(SUBMIT)
    if view.state in EDITABLE:
        shown += [EDIT, SETTINGS]
    shown.append(WITHDRAW)
    return tuple(shown)
