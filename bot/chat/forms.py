"""What a person asked for, whatever the chat platform: the draft or incident a button is about,
the values of a form, a command. Each adapter parses its payloads into these; ``bot.chat.flows``
acts on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from workflows.approval import ChecklistItem
from workflows.checks.model import Platform


class BadPayload(ValueError):
    """A payload postgate did not produce (a tampered button value, a missing field)."""


@dataclass(frozen=True, slots=True)
class DraftRef:
    """The draft and revision a button or modal is about (the revision the person saw)."""

    draft_id: int
    revision: int

    def value(self) -> str:
        return f"{self.draft_id}:{self.revision}"

    @classmethod
    def parse(cls, value: object) -> DraftRef:
        if not isinstance(value, str):
            raise BadPayload("button value missing")
        draft, _, revision = value.partition(":")
        if not (draft.isdigit() and revision.isdigit()):
            raise BadPayload("button value is not <draft>:<revision>")
        return cls(int(draft), int(revision))


@dataclass(frozen=True, slots=True)
class IncidentClick:
    """The incident (and checklist step) a button of an alert card is about."""

    incident_id: int
    item_id: str | None = None

    def value(self) -> str:
        return f"{self.incident_id}:{self.item_id}" if self.item_id else str(self.incident_id)

    @classmethod
    def parse(cls, value: object) -> IncidentClick:
        if not isinstance(value, str):
            raise BadPayload("button value missing")
        incident, _, item = value.partition(":")
        if not incident.isdigit() or (item and not _STEP_ID.match(item)):
            raise BadPayload("button value is not <incident>[:<step>]")
        return cls(int(incident), item or None)


def publication_id(value: object) -> int:
    """The publication a note's button is about (``Button.target``)."""
    text = str(value) if isinstance(value, int) else value
    if not isinstance(text, str) or not text.isdigit():
        raise BadPayload("button value is not <publication>")
    return int(text)


_STEP_ID = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True, slots=True)
class ApproveForm:
    checklist: tuple[ChecklistItem, ...]
    acknowledged: tuple[str, ...]
    publish_at: datetime | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class PeerForm:
    checklist: tuple[ChecklistItem, ...]
    comment: str | None


@dataclass(frozen=True, slots=True)
class ReportForm:
    """``/postgate incident``: what a member reports."""

    kind: str
    account_id: str | None
    url: str | None
    notes: str


@dataclass(frozen=True, slots=True)
class DraftForm:
    """The fields of the new-draft, edit and settings modals (None: the modal had no such
    field, keep what the draft has)."""

    text: str | None = None
    media: tuple[str, ...] | None = None
    targets: tuple[str, ...] | None = None
    variants: dict[Platform, str] | None = None
    publish_at: datetime | None = None
    emergency: bool | None = None
    fields: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # help, draft, status, mine, pending, pause, resume, incident
    args: tuple[str, ...] = ()

    @property
    def rest(self) -> str:
        return " ".join(self.args)


KNOWN_COMMANDS = frozenset(
    {
        "help",
        "draft",
        "status",
        "mine",
        "pending",
        "pause",
        "resume",
        "incident",
        "review",
        "delete",
        "delete-approve",
        "delete-reject",
        "check-now",
    }
)
ALIASES = {
    "ヘルプ": "help",
    "作成": "draft",
    "状態": "status",
    "自分": "mine",
    "承認待ち": "pending",
    "停止": "pause",
    "再開": "resume",
    "インシデント": "incident",
    "通報": "incident",
    "報告": "incident",
    "確認結果": "review",
    "削除": "delete",
    "削除承認": "delete-approve",
    "削除却下": "delete-reject",
    "今すぐ確認": "check-now",
}


def command(text: object) -> Command:
    """``/postgate <subcommand> [args]``; anything unknown is ``help``."""
    words = str(text or "").split()
    if not words:
        return Command("help")
    name = ALIASES.get(words[0], words[0].lower())
    if name not in KNOWN_COMMANDS:
        return Command("help", tuple(words))
    return Command(name, tuple(words[1:]))
