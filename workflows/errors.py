"""The one exception base: every refusal postgate explains to a person derives from it.

Each refusal has a catalogue key; ``str()`` is the Japanese text a chat user sees, and
``message(lang)`` gives it in another language.
"""

from __future__ import annotations

from typing import Any, ClassVar

from workflows.catalogue import Lang, message


class PostgateError(Exception):
    """A problem a person can act on; ``str()`` says what happened and what to do."""


class Refusal(PostgateError):
    """A request postgate refuses; nothing was changed. ``key`` names the catalogue message."""

    key: ClassVar[str] = "refusal.generic"

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.key, params)

    def message(self, lang: Lang = Lang.JA) -> str:
        return message(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.message(Lang.JA)


class UnknownMember(Refusal):
    key = "refusal.unknown_member"


class AuthorCannotReview(Refusal):
    key = "refusal.author_cannot_approve"


class NotAnApprover(Refusal):
    key = "refusal.not_an_approver"


class NotAPeer(Refusal):
    key = "refusal.not_a_peer"


class NotTheAuthor(Refusal):
    key = "refusal.not_the_author"


class StaleRevision(Refusal):
    key = "refusal.stale_revision"


class AlreadyApproved(Refusal):
    key = "refusal.already_approved"


class AlreadyDecided(Refusal):
    key = "refusal.already_decided"


class AlreadyChecked(Refusal):
    key = "refusal.already_checked"


class PeerCannotApprove(Refusal):
    key = "refusal.peer_cannot_approve"


class ReasonRequired(Refusal):
    key = "refusal.reason_required"


class ChecklistIncomplete(Refusal):
    key = "refusal.checklist_incomplete"


class WarningsNotAcknowledged(Refusal):
    key = "refusal.warnings_not_acknowledged"


class BlockingFindings(Refusal):
    key = "refusal.blocking_findings"


class InvalidTransition(Refusal):
    key = "refusal.invalid_transition"


class UnknownDraft(Refusal):
    key = "refusal.unknown_draft"


class UnknownAccount(Refusal):
    key = "refusal.unknown_account"


class InvalidDraft(Refusal):
    key = "refusal.invalid_draft"
