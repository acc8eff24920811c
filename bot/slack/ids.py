"""Stable Slack identifiers: action_ids, callback_ids, block_ids and the slash command.

Slack sends these back with every click and modal submission; cards already posted carry them, so
they never change between versions (add new ones instead). Documented in the README.
"""

from __future__ import annotations

from typing import Final

COMMAND: Final = "/postgate"

# ---------------------------------------------------------------- buttons (action_id)
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
INCIDENT_ACTIONS: Final = (
    INCIDENT_ACKNOWLEDGE,
    INCIDENT_RESOLVE,
    INCIDENT_REOPEN,
    INCIDENT_TICK,
    INCIDENT_UNTICK,
    INCIDENT_ACTION,
)

# ---------------------------------------------------------------- modals (callback_id)
VIEW_NEW_DRAFT: Final = "postgate.view.new_draft"
VIEW_EDIT: Final = "postgate.view.edit"
VIEW_SETTINGS: Final = "postgate.view.settings"
VIEW_PEER_CHECK: Final = "postgate.view.peer_check"
VIEW_APPROVE: Final = "postgate.view.approve"
VIEW_REQUEST_CHANGES: Final = "postgate.view.request_changes"
VIEW_REJECT: Final = "postgate.view.reject"
VIEW_HOME: Final = "postgate.view.home"
VIEW_INCIDENT_REPORT: Final = "postgate.view.incident_report"  # /postgate incident
VIEW_INCIDENT_RESOLVE: Final = "postgate.view.incident_resolve"
VIEW_INCIDENT_REOPEN: Final = "postgate.view.incident_reopen"

# ---------------------------------------------------------------- modal inputs (block_id)
# Each input's element has the action_id INPUT; the block_id says which field it is.
INPUT: Final = "value"
BLOCK_TEXT: Final = "text"
BLOCK_MEDIA: Final = "media"
BLOCK_ACCOUNTS: Final = "accounts"
BLOCK_DATE: Final = "publish_date"
BLOCK_TIME: Final = "publish_time"
BLOCK_VARIANT_PREFIX: Final = "variant."  # + platform: variant.x, variant.facebook, ...
BLOCK_EMERGENCY: Final = "emergency"
BLOCK_CHECKLIST: Final = "checklist"
BLOCK_WARNINGS_PREFIX: Final = "warnings."  # + chunk number (10 warnings per checkbox group)
BLOCK_COMMENT: Final = "comment"
BLOCK_REASON: Final = "reason"  # also the reason to reopen an incident
BLOCK_INCIDENT_KIND: Final = "incident_kind"
BLOCK_INCIDENT_ACCOUNT: Final = "incident_account"
BLOCK_INCIDENT_URL: Final = "incident_url"
BLOCK_INCIDENT_NOTES: Final = "incident_notes"
BLOCK_RESOLUTION: Final = "resolution"  # the note saying how an incident was resolved

EMERGENCY_OPTION: Final = "emergency"
