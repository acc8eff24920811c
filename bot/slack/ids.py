"""Stable Slack identifiers: action_ids (``bot.chat.actions``), callback_ids, block_ids and the
slash command.

Slack sends these back with every click and modal submission; cards already posted carry them, so
they never change between versions (add new ones instead). Documented in the README.
"""

from __future__ import annotations

from typing import Final

from bot.chat.actions import (
    APPROVE,
    DRAFT_ACTIONS,
    EDIT,
    INCIDENT_ACKNOWLEDGE,
    INCIDENT_ACTION,
    INCIDENT_ACTIONS,
    INCIDENT_REOPEN,
    INCIDENT_RESOLVE,
    INCIDENT_TICK,
    INCIDENT_UNTICK,
    PEER_CHECK,
    PEER_SEND_BACK,
    REJECT,
    REQUEST_CHANGES,
    RETRY,
    REVIEW_ACTIONS,
    SETTINGS,
    SUBMIT,
    WITHDRAW,
)

__all__ = [
    "APPROVE",
    "DRAFT_ACTIONS",
    "EDIT",
    "INCIDENT_ACKNOWLEDGE",
    "INCIDENT_ACTION",
    "INCIDENT_ACTIONS",
    "INCIDENT_REOPEN",
    "INCIDENT_RESOLVE",
    "INCIDENT_TICK",
    "INCIDENT_UNTICK",
    "PEER_CHECK",
    "PEER_SEND_BACK",
    "REJECT",
    "REQUEST_CHANGES",
    "RETRY",
    "REVIEW_ACTIONS",
    "SETTINGS",
    "SUBMIT",
    "WITHDRAW",
]

COMMAND: Final = "/postgate"

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
