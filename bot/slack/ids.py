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

DRAFT_ACTIONS: Final = (SUBMIT, EDIT, SETTINGS, WITHDRAW)
REVIEW_ACTIONS: Final = (PEER_CHECK, PEER_SEND_BACK, APPROVE, REQUEST_CHANGES, REJECT)

# ---------------------------------------------------------------- modals (callback_id)
VIEW_NEW_DRAFT: Final = "postgate.view.new_draft"
VIEW_EDIT: Final = "postgate.view.edit"
VIEW_SETTINGS: Final = "postgate.view.settings"
VIEW_PEER_CHECK: Final = "postgate.view.peer_check"
VIEW_APPROVE: Final = "postgate.view.approve"
VIEW_REQUEST_CHANGES: Final = "postgate.view.request_changes"
VIEW_REJECT: Final = "postgate.view.reject"
VIEW_HOME: Final = "postgate.view.home"

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
BLOCK_REASON: Final = "reason"

EMERGENCY_OPTION: Final = "emergency"
