"""The manual's response to an incident (§8): its states, its checklist, who is told, the notices.

- States ``open -> acknowledged -> resolved`` as an explicit transition table with a pure
  ``transition()`` (diagram: playbook.mmd beside this file). A false alarm may be resolved
  straight from ``open``; resolving needs a note saying how it ended; a resolved incident may be
  reopened with a reason, and goes back to ``acknowledged`` — whoever reopens it is on it.
- The checklist per kind is data (playbook.yaml; labels in messages/incidents.yaml). ``tick``
  records who did a step and when; a step is ticked once; only the member who ticked a step may
  untick it (a mis-click), and the audit log keeps both.
- ``recipients`` says who gets a direct message, by kind: the owning section's chief and deputies,
  the City Promotion and Digital Promotion divisions (``city_promotion`` / ``digital_promotion`` in
  app.yaml).
- ``impersonation_notice`` and ``hijack_notice`` draft the Japanese (or English) notice a step's
  button opens; the draft then goes through approval like any post.

Pure: the handlers load an Incident, call one function and store what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from workflows.catalogue import CatalogueError, Lang, message
from workflows.checks.data import RuleDataError, load_yaml
from workflows.errors import Refusal
from workflows.incidents.model import (
    AccountRef,
    IncidentKind,
    format_when,
    platform_label,
    require_aware,
)
from workflows.org import Account, Directory, Member, Organisation

# ---------------------------------------------------------------- refusals


class IncidentInvalidTransition(Refusal):
    key = "refusal.incident_invalid_transition"


class ResolutionNoteRequired(Refusal):
    key = "refusal.resolution_note_required"


class ReopenReasonRequired(Refusal):
    key = "refusal.reopen_reason_required"


class UnknownChecklistItem(Refusal):
    key = "refusal.unknown_checklist_item"


class AlreadyTicked(Refusal):
    key = "refusal.already_ticked"


class NotTicked(Refusal):
    key = "refusal.not_ticked"


class NotTheTicker(Refusal):
    key = "refusal.not_the_ticker"


# ---------------------------------------------------------------- states


class IncidentState(StrEnum):
    OPEN = "open"  # alerted; nobody has said they are on it (reminders run)
    ACKNOWLEDGED = "acknowledged"  # someone is on it
    RESOLVED = "resolved"  # over, with a note saying how

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"incident.state.{self.value}", lang)


class IncidentEvent(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    REOPEN = "reopen"

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"incident.event.{self.value}", lang)


S, E = IncidentState, IncidentEvent
TRANSITIONS: dict[tuple[IncidentState, IncidentEvent], IncidentState] = {
    (S.OPEN, E.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.OPEN, E.RESOLVE): S.RESOLVED,  # a false alarm, closed at once (with a note)
    (S.ACKNOWLEDGED, E.RESOLVE): S.RESOLVED,
    (S.RESOLVED, E.REOPEN): S.ACKNOWLEDGED,
}


def transition(state: IncidentState, event: IncidentEvent) -> IncidentState:
    """The state after ``event``; IncidentInvalidTransition if the table has no such edge."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IncidentInvalidTransition(state=state.label(), action=event.label()) from None


def allowed_events(state: IncidentState) -> frozenset[IncidentEvent]:
    return frozenset(event for (s, event) in TRANSITIONS if s is state)


def mermaid() -> str:
    """The transition table as a Mermaid state diagram (kept in playbook.mmd; a test compares)."""
    lines = ["stateDiagram-v2", "    [*] --> open"]
    for (state, event), target in TRANSITIONS.items():
        lines.append(f"    {state.value} --> {target.value}: {event.value}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the playbook data


class ItemAction(StrEnum):
    """What a checklist step's button offers besides recording who did it."""

    NONE = "none"
    DRAFT_NOTICE = "draft_notice"  # open a prepared notice draft (through approval)
    PAUSE_SCHEDULED = "pause_scheduled"  # pause the account's scheduled posts
    DRAFT_CORRECTION = "draft_correction"  # open a correction draft linked to the post


class RecipientRole(StrEnum):
    OWNER_CHIEF = "owner_chief"
    CITY_PROMOTION = "city_promotion"
    DIGITAL_PROMOTION = "digital_promotion"

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"incident.recipient.{self.value}", lang)


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    id: str
    action: ItemAction = ItemAction.NONE

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"incident.check.{self.id}", lang)

    @property
    def label_ja(self) -> str:
        return self.label(Lang.JA)

    @property
    def label_en(self) -> str:
        return self.label(Lang.EN)


@dataclass(frozen=True, slots=True)
class Playbook:
    kind: IncidentKind
    manual: str  # the manual's section, e.g. "8 (1)"
    items: tuple[ChecklistItem, ...]
    recipients: tuple[RecipientRole, ...]

    def item(self, item_id: str) -> ChecklistItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise UnknownChecklistItem(item=item_id, kind=self.kind.label())


@cache
def playbooks() -> Mapping[IncidentKind, Playbook]:
    """playbook.yaml, validated on first use: a playbook for every kind."""
    path = Path(__file__).with_name("playbook.yaml")
    data = load_yaml(path)
    name = path.name
    if not isinstance(data, Mapping) or set(data) != {"kinds"}:
        raise RuleDataError(f"{name}: expected a mapping with only 'kinds'")
    kinds = data["kinds"]
    if not isinstance(kinds, Mapping) or set(kinds) != {k.value for k in IncidentKind}:
        raise RuleDataError(f"{name}: kinds must be exactly {[k.value for k in IncidentKind]}")
    return {kind: _playbook(kind, kinds[kind.value], name) for kind in IncidentKind}


def _playbook(kind: IncidentKind, raw: Any, file: str) -> Playbook:
    label = f"{file}: kinds.{kind.value}"
    if not isinstance(raw, Mapping) or set(raw) != {"manual", "recipients", "checklist"}:
        raise RuleDataError(f"{label}: needs manual, recipients and checklist")
    try:
        recipients = tuple(RecipientRole(r) for r in raw["recipients"])
        items = tuple(
            ChecklistItem(str(i["id"]), ItemAction(i.get("action", "none")))
            for i in raw["checklist"]
        )
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise RuleDataError(f"{label}: bad recipients or checklist ({exc})") from exc
    ids = [i.id for i in items]
    if not items or len(set(ids)) != len(ids):
        raise RuleDataError(f"{label}: the checklist needs steps with unique ids")
    for item in items:
        try:
            item.label(Lang.JA)
            item.label(Lang.EN)
        except CatalogueError as exc:
            raise RuleDataError(f"{label}: {item.id}: {exc}") from exc
    return Playbook(kind, str(raw["manual"]), items, recipients)


def playbook(kind: IncidentKind) -> Playbook:
    return playbooks()[kind]


# ---------------------------------------------------------------- the checklist


@dataclass(frozen=True, slots=True)
class Tick:
    """A step done: who (id and name, as the card shows them) and when."""

    item: str
    member_id: str
    member_name: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Checklist:
    kind: IncidentKind
    ticks: tuple[Tick, ...] = ()

    @property
    def items(self) -> tuple[ChecklistItem, ...]:
        return playbook(self.kind).items

    def tick_of(self, item_id: str) -> Tick | None:
        return next((t for t in self.ticks if t.item == item_id), None)

    def pending(self) -> tuple[ChecklistItem, ...]:
        return tuple(i for i in self.items if self.tick_of(i.id) is None)

    @property
    def complete(self) -> bool:
        return not self.pending()

    def lines(self, lang: Lang = Lang.JA) -> tuple[str, ...]:
        """Each step as a card shows it: ☑ label（who, when） or ☐ label."""
        out = []
        for item in self.items:
            done = self.tick_of(item.id)
            if done is None:
                out.append(f"☐ {item.label(lang)}")
            else:
                by = message(
                    "incident.ticked_by",
                    lang,
                    who=done.member_name,
                    when=format_when(done.at, lang),
                )
                out.append(f"☑ {item.label(lang)}{by}")
        return tuple(out)


def _item_id(checklist: Checklist, item: str | ChecklistItem) -> str:
    item_id = item.id if isinstance(item, ChecklistItem) else item
    return playbook(checklist.kind).item(item_id).id


def tick(
    checklist: Checklist, item: str | ChecklistItem, member: Member, at: datetime
) -> Checklist:
    """Record that ``member`` did the step at ``at``; refused if it is already done."""
    require_aware(at)
    item_id = _item_id(checklist, item)
    done = checklist.tick_of(item_id)
    if done is not None:
        raise AlreadyTicked(
            item=playbook(checklist.kind).item(item_id).label(),
            who=done.member_name,
            when=format_when(done.at),
        )
    return replace(checklist, ticks=(*checklist.ticks, Tick(item_id, member.id, member.name, at)))


def untick(checklist: Checklist, item: str | ChecklistItem, member: Member) -> Checklist:
    """Undo a mis-click: only the member who ticked the step may."""
    item_id = _item_id(checklist, item)
    done = checklist.tick_of(item_id)
    label = playbook(checklist.kind).item(item_id).label()
    if done is None:
        raise NotTicked(item=label)
    if done.member_id != member.id:
        raise NotTheTicker(item=label, who=done.member_name)
    return replace(checklist, ticks=tuple(t for t in checklist.ticks if t.item != item_id))


# ---------------------------------------------------------------- the incident


@dataclass(frozen=True, slots=True)
class Step:
    """One state change, for the card's history and the audit log."""

    event: IncidentEvent
    member_id: str
    at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident as the playbook sees it (``new_incident`` opens one)."""

    kind: IncidentKind
    account_id: str | None
    checklist: Checklist
    state: IncidentState = IncidentState.OPEN
    history: tuple[Step, ...] = ()

    def __post_init__(self) -> None:
        if self.checklist.kind is not self.kind:
            raise ValueError("the checklist is for another kind of incident")

    @property
    def resolution(self) -> str | None:
        """The note of the last resolution, if the incident is resolved."""
        if self.state is not IncidentState.RESOLVED:
            return None
        return next(
            (s.note for s in reversed(self.history) if s.event is IncidentEvent.RESOLVE), None
        )


def new_incident(kind: IncidentKind, account_id: str | None) -> Incident:
    """An open incident with an empty checklist for its kind."""
    return Incident(kind, account_id, Checklist(kind))


def _step(
    incident: Incident, event: IncidentEvent, member: Member, at: datetime, note: str = ""
) -> Incident:
    require_aware(at)
    state = transition(incident.state, event)
    return replace(
        incident, state=state, history=(*incident.history, Step(event, member.id, at, note))
    )


def acknowledge(incident: Incident, member: Member, at: datetime) -> Incident:
    """``member`` is on it: reminders stop."""
    return _step(incident, IncidentEvent.ACKNOWLEDGE, member, at)


def resolve(incident: Incident, member: Member, at: datetime, note: str) -> Incident:
    """Close the incident with a note saying how it ended (a false alarm says so)."""
    if not note.strip():
        raise ResolutionNoteRequired()
    return _step(incident, IncidentEvent.RESOLVE, member, at, note.strip())


def reopen(incident: Incident, member: Member, at: datetime, reason: str) -> Incident:
    if not reason.strip():
        raise ReopenReasonRequired()
    return _step(incident, IncidentEvent.REOPEN, member, at, reason.strip())


def tick_step(
    incident: Incident, item: str | ChecklistItem, member: Member, at: datetime
) -> Incident:
    """``tick`` on the incident's checklist (also after it is resolved: late steps count)."""
    return replace(incident, checklist=tick(incident.checklist, item, member, at))


# ---------------------------------------------------------------- who is told


@dataclass(frozen=True, slots=True)
class Recipient:
    member_id: str
    role: RecipientRole


def recipients(
    kind: IncidentKind, account: Account | None, directory: Directory
) -> tuple[Recipient, ...]:
    """Who gets a direct message about an incident of ``kind`` on ``account``, each once.

    In the playbook's order of roles; a member in several roles is listed under the first. With
    no account (a report about no particular account) there is no owning section.
    """
    found: dict[str, Recipient] = {}
    for role in playbook(kind).recipients:
        for member_id in _members_in(role, account, directory):
            found.setdefault(member_id, Recipient(member_id, role))
    return tuple(found.values())


def _members_in(
    role: RecipientRole, account: Account | None, directory: Directory
) -> tuple[str, ...]:
    if role is RecipientRole.OWNER_CHIEF:
        return directory.approvers(account.owner_section) if account else ()
    section = (
        directory.city_promotion
        if role is RecipientRole.CITY_PROMOTION
        else directory.digital_promotion
    )
    if section is None:
        return ()
    members = (m.id for m in directory.members.values() if m.section == section.name)
    return tuple(dict.fromkeys((section.chief, *section.deputies, *members)))


# ---------------------------------------------------------------- notices


def impersonation_notice(
    organisation: Organisation,
    official: Sequence[Account | AccountRef],
    *,
    suspect: str | None = None,
    homepage: str | None = None,
    lang: Lang = Lang.JA,
) -> str:
    """The notice an official account posts about an impostor (manual §8 (2)).

    ``official`` are the real accounts to name (one: its handle; several: platform and handle);
    ``suspect`` the impostor's handle as shown (``@midori_clty``), if it should be named.
    """
    if not official:
        raise ValueError("name at least one official account")
    parts = [
        message(
            "incident.notice.impersonation",
            lang,
            city=_city(organisation, lang),
            official=_accounts(official, lang),
        )
    ]
    if suspect:
        parts.append(message("incident.notice.impersonation_suspect", lang, suspect=suspect))
    parts.append(message("incident.notice.impersonation_advice", lang))
    return _with_homepage(parts, homepage, lang)


def hijack_notice(
    organisation: Organisation,
    account: Account | AccountRef,
    *,
    homepage: str | None = None,
    lang: Lang = Lang.JA,
) -> str:
    """The notice, from another official account or the website, that ``account`` was hijacked."""
    ref = account if isinstance(account, AccountRef) else AccountRef.of(account)
    parts = [
        message(
            "incident.notice.hijack",
            lang,
            city=_city(organisation, lang),
            platform=platform_label(ref.platform, lang),
            handle=ref.shown_handle,
        )
    ]
    return _with_homepage(parts, homepage, lang)


def _city(organisation: Organisation, lang: Lang) -> str:
    if lang is Lang.EN and organisation.name_en:
        return organisation.name_en
    return organisation.name


def _accounts(accounts: Sequence[Account | AccountRef], lang: Lang) -> str:
    refs = [a if isinstance(a, AccountRef) else AccountRef.of(a) for a in accounts]
    if len(refs) == 1:
        return refs[0].shown_handle
    separator = "、" if lang is Lang.JA else ", "
    return separator.join(f"{platform_label(r.platform, lang)} {r.shown_handle}" for r in refs)


def _with_homepage(parts: list[str], homepage: str | None, lang: Lang) -> str:
    if homepage:
        parts.append(message("incident.notice.homepage", lang, url=homepage))
    return ("" if lang is Lang.JA else " ").join(parts)
