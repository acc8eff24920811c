"""What a person asked for, whatever the chat platform: the draft or incident a button is about,
the values of a form, a command. Each adapter parses its payloads into these; ``bot.chat.flows``
acts on them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Final

from bot.chat.text import TOKYO
from handlers.views import DraftView
from workflows.approval import ChecklistItem
from workflows.catalogue import message
from workflows.checks.model import Platform
from workflows.incidents.model import IncidentKind


class BadPayload(ValueError):
    """A payload postgate did not produce (a tampered button value, a missing field)."""


@dataclass(frozen=True, slots=True)
class DraftSettings:
    """What a settings or new-draft form shows filled in: the draft's accounts, per-platform
    texts, publish time and emergency flag — or a new draft's default accounts."""

    targets: tuple[str, ...]
    variants: Mapping[Platform, str] = field(default_factory=dict)
    publish_at: datetime | None = None
    emergency: bool = False

    @classmethod
    def of(cls, view: DraftView) -> DraftSettings:
        targets = tuple(t.account_id for t in view.targets)
        return cls(targets, view.variants, view.publish_at, view.emergency)


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


# ---------------------------------------------------------------- the values of a form

# The fields of postgate's forms: Slack's block ids and the ids of a Teams card's inputs.
TEXT: Final = "text"
MEDIA: Final = "media"
ACCOUNTS: Final = "accounts"
DATE: Final = "publish_date"
TIME: Final = "publish_time"
VARIANT_PREFIX: Final = "variant."  # + platform: variant.x, variant.facebook, ...
EMERGENCY: Final = "emergency"
INCIDENT_KIND: Final = "incident_kind"
INCIDENT_ACCOUNT: Final = "incident_account"
INCIDENT_URL: Final = "incident_url"
INCIDENT_NOTES: Final = "incident_notes"

REPORT_KINDS: Final = (  # what a member may report, in the order offered
    IncidentKind.IMPERSONATION,
    IncidentKind.HIJACK,
    IncidentKind.FLAMING,
    IncidentKind.OTHER,
)

FormErrors = dict[str, str]  # field -> what to tell the person (Japanese first)


def variant_field(platform: Platform) -> str:
    return f"{VARIANT_PREFIX}{platform.value}"


def filled(value: object) -> str | None:
    """A field's value without surrounding blanks, or None when it is empty or blank."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def written(value: object) -> str | None:
    """A text as written (blanks kept: they may be the post's), or None when it is blank."""
    return value if isinstance(value, str) and value.strip() else None


def publish_at(day: object, hour: object, now: datetime, errors: FormErrors) -> datetime | None:
    """The date (``YYYY-MM-DD``) and time (``HH:MM``) of a form as a time in Asia/Tokyo; None
    when both are empty. One without the other, a value that cannot be read or a time in the
    past is an error on its field."""
    day, hour = filled(day), filled(hour)
    if day is None and hour is None:
        return None
    if day is None:
        errors[DATE] = message("slack.form.date_needed")
        return None
    if hour is None:
        errors[TIME] = message("slack.form.time_needed")
        return None
    try:
        at = datetime.combine(date.fromisoformat(day), time.fromisoformat(hour), tzinfo=TOKYO)
    except ValueError:
        errors[DATE] = message("slack.form.bad_date")
        return None
    if at < now:
        errors[TIME] = message("slack.form.in_past")
    return at


def draft_form(values: Mapping[str, object], now: datetime) -> tuple[DraftForm, FormErrors]:
    """The new-draft, edit and settings forms, whatever the platform: ``values`` maps each field
    the form had to what the person gave (text, media, dates and times as strings or None,
    ``accounts`` a sequence of account ids, ``emergency`` a bool). A field missing from
    ``values`` was not in the form: the draft keeps what it has."""
    errors = FormErrors()
    present = frozenset(values)
    text = written(values.get(TEXT))
    if TEXT in present and text is None:
        errors[TEXT] = message("slack.form.text_needed")
    media: tuple[str, ...] | None = None
    if MEDIA in present:
        raw = filled(values.get(MEDIA)) or ""
        media = tuple(line.strip() for line in raw.splitlines() if line.strip())
    targets: tuple[str, ...] | None = None
    if ACCOUNTS in present:
        chosen = values.get(ACCOUNTS)
        picked = chosen if isinstance(chosen, Sequence) and not isinstance(chosen, str) else ()
        targets = tuple(dict.fromkeys(str(a) for a in picked if a))
        if not targets:
            errors[ACCOUNTS] = message("slack.form.accounts_needed")
    variants: dict[Platform, str] | None = None
    if any(f.startswith(VARIANT_PREFIX) for f in present):
        variants = {}
        for platform in Platform:
            variant = written(values.get(variant_field(platform)))
            if variant is not None:
                variants[platform] = variant
    at = None
    if DATE in present or TIME in present:
        at = publish_at(values.get(DATE), values.get(TIME), now, errors)
    emergency = bool(values.get(EMERGENCY)) if EMERGENCY in present else None
    return DraftForm(text, media, targets, variants, at, emergency, present), errors


def report_form(
    kind: object, account: object, url: object, notes: object
) -> tuple[ReportForm, FormErrors]:
    """``incident``: what a member reports. The kind is needed, and a URL or a note."""
    errors = FormErrors()
    chosen = filled(kind)
    if chosen is None:
        errors[INCIDENT_KIND] = message("slack.incident.form.kind_needed")
    link, said = filled(url), filled(notes) or ""
    if link is None and not said:
        errors[INCIDENT_URL] = message("slack.incident.form.details_needed")
    return ReportForm(chosen or "", filled(account), link, said), errors
