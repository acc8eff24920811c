"""Stable Slack identifiers: action_ids (``bot.chat.actions``), callback_ids, block_ids and the
slash command.

Slack sends these back with every click and modal submission; cards already posted carry them, so
they never change between versions (add new ones instead). Documented in the README.
"""

from __future__ import annotations

from typing import Final

from bot.chat import forms
from bot.chat.actions import (
    APPROVE,
    DRAFT_ACTIONS,
    EDIT,
    INCIDENT_ACKNOWLEDGE,
    INCIDENT_ACTION,
    INCIDENT_ACTIONS,
    INCIDENT_REOPEN,
    INCIDENT_REPORT,
    INCIDENT_RESOLVE,
    INCIDENT_TICK,
    INCIDENT_UNTICK,
    NEW_DRAFT,
    PEER_CHECK,
    PEER_SEND_BACK,
    REJECT,
    REQUEST_CHANGES,
    RETRY,
    REVIEW_ACTIONS,
    SAVE_EDIT,
    SAVE_SETTINGS,
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
VIEW_NEW_DRAFT: Final = NEW_DRAFT
VIEW_EDIT: Final = SAVE_EDIT
VIEW_SETTINGS: Final = SAVE_SETTINGS
VIEW_PEER_CHECK: Final = "postgate.view.peer_check"
VIEW_APPROVE: Final = "postgate.view.approve"
VIEW_REQUEST_CHANGES: Final = "postgate.view.request_changes"
VIEW_REJECT: Final = "postgate.view.reject"
VIEW_HOME: Final = "postgate.view.home"
VIEW_INCIDENT_REPORT: Final = INCIDENT_REPORT  # /postgate incident
VIEW_INCIDENT_RESOLVE: Final = "postgate.view.incident_resolve"
VIEW_INCIDENT_REOPEN: Final = "postgate.view.incident_reopen"

# ---------------------------------------------------------------- modal inputs (block_id)
# Each input's element has the action_id INPUT; the block_id says which field it is.
INPUT: Final = "value"
BLOCK_TEXT: Final = forms.TEXT
BLOCK_MEDIA: Final = forms.MEDIA
BLOCK_ACCOUNTS: Final = forms.ACCOUNTS
BLOCK_DATE: Final = forms.DATE
BLOCK_TIME: Final = forms.TIME
BLOCK_VARIANT_PREFIX: Final = forms.VARIANT_PREFIX  # + platform: variant.x, variant.facebook, ...
BLOCK_EMERGENCY: Final = forms.EMERGENCY
BLOCK_CHECKLIST: Final = "checklist"
BLOCK_WARNINGS_PREFIX: Final = "warnings."  # + chunk number (10 warnings per checkbox group)
BLOCK_COMMENT: Final = "comment"
BLOCK_REASON: Final = "reason"  # also the reason to reopen an incident
BLOCK_INCIDENT_KIND: Final = forms.INCIDENT_KIND
BLOCK_INCIDENT_ACCOUNT: Final = forms.INCIDENT_ACCOUNT
BLOCK_INCIDENT_URL: Final = forms.INCIDENT_URL
BLOCK_INCIDENT_NOTES: Final = forms.INCIDENT_NOTES
BLOCK_RESOLUTION: Final = "resolution"  # the note saying how an incident was resolved

EMERGENCY_OPTION: Final = "emergency"
