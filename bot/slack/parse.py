"""Slack payloads -> small typed values: who acts, on which draft and revision, what a form says.

Only parsing and form completeness (every box of a checklist ticked, a date with its time): what
is allowed is decided by the use cases in ``handlers/``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.chat import forms
from bot.chat.forms import (
    ApproveForm,
    BadPayload,
    DraftForm,
    DraftRef,
    IncidentClick,
    PeerForm,
    ReportForm,
)
from bot.slack import ids
from handlers.drafts import Actor
from workflows.approval import ChecklistItem
from workflows.catalogue import message

Body = Mapping[str, Any]


# ---------------------------------------------------------------- who, and which request


def actor(body: Body) -> Actor:
    """The acting Slack user, from the signed payload: ``user.id`` (actions, views, home),
    ``user_id`` (commands) or the event's ``user`` (messages). Never from a button value."""
    user = body.get("user")
    if isinstance(user, Mapping) and isinstance(user.get("id"), str):
        return Actor("slack", user["id"])
    if isinstance(body.get("user_id"), str):
        return Actor("slack", body["user_id"])
    event = body.get("event")
    if isinstance(event, Mapping):
        who = event.get("user")
        if isinstance(who, str):
            return Actor("slack", who)
        edited = event.get("message")
        if isinstance(edited, Mapping) and isinstance(edited.get("user"), str):
            return Actor("slack", edited["user"])
    raise BadPayload("no user in the payload")


def request_key(body: Body) -> str:
    """What makes a request unique: a replay of the same signed request gives the same key.

    Events: ``event_id``; clicks: where (message ts or view id), ``action_ts`` and the user;
    modal submissions: the view id and hash; commands: their ``trigger_id``.
    """
    kind = body.get("type")
    if isinstance(body.get("event_id"), str):
        return f"slack:event:{body['event_id']}"
    if kind == "block_actions":
        container = body.get("container") or {}
        where = container.get("message_ts") or container.get("view_id") or "-"
        actions = body.get("actions") or [{}]
        return f"slack:action:{where}:{actions[0].get('action_ts', '-')}:{actor(body).user_id}"
    if kind == "view_submission":
        view = body.get("view") or {}
        return f"slack:view:{view.get('id', '-')}:{view.get('hash', '-')}"
    if isinstance(body.get("trigger_id"), str):
        return f"slack:command:{body['trigger_id']}"
    raise BadPayload("cannot tell this request apart from others")


# ---------------------------------------------------------------- buttons and modal metadata


def clicked(body: Body) -> DraftRef:
    actions = body.get("actions")
    if not isinstance(actions, Sequence) or not actions:
        raise BadPayload("no action")
    return DraftRef.parse(actions[0].get("value"))


def clicked_incident(body: Body) -> IncidentClick:
    actions = body.get("actions")
    if not isinstance(actions, Sequence) or not actions:
        raise BadPayload("no action")
    return IncidentClick.parse(actions[0].get("value"))


def clicked_publication(body: Body) -> int:
    actions = body.get("actions")
    if not isinstance(actions, Sequence) or not actions:
        raise BadPayload("no action")
    return forms.publication_id(actions[0].get("value"))


def action_id(body: Body) -> str:
    actions = body.get("actions")
    if not isinstance(actions, Sequence) or not actions:
        raise BadPayload("no action")
    return str(actions[0].get("action_id", ""))


@dataclass(frozen=True, slots=True)
class ModalMeta:
    """What a modal remembers between opening and submission (``private_metadata``)."""

    draft_id: int | None = None
    revision: int | None = None
    channel: str | None = None  # where to answer the person (the card's channel)
    thread_ts: str | None = None
    incident_id: int | None = None

    @property
    def ref(self) -> DraftRef:
        if self.draft_id is None or self.revision is None:
            raise BadPayload("the modal is not about a draft")
        return DraftRef(self.draft_id, self.revision)

    @property
    def incident(self) -> int:
        if self.incident_id is None:
            raise BadPayload("the modal is not about an incident")
        return self.incident_id

    def dump(self) -> str:
        data = {
            "d": self.draft_id,
            "r": self.revision,
            "c": self.channel,
            "t": self.thread_ts,
            "i": self.incident_id,
        }
        return json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"))

    @classmethod
    def load(cls, raw: object) -> ModalMeta:
        if not isinstance(raw, str) or not raw:
            return cls()
        try:
            data = json.loads(raw)
        except ValueError:
            raise BadPayload("private_metadata is not JSON") from None
        if not isinstance(data, dict):
            raise BadPayload("private_metadata is not an object")
        draft, revision, incident = data.get("d"), data.get("r"), data.get("i")
        if any(v is not None and not isinstance(v, int) for v in (draft, revision, incident)):
            raise BadPayload("private_metadata has a bad draft or incident reference")
        channel, thread = data.get("c"), data.get("t")
        return cls(
            draft,
            revision,
            channel if isinstance(channel, str) else None,
            thread if isinstance(thread, str) else None,
            incident,
        )


def modal_meta(body: Body) -> ModalMeta:
    return ModalMeta.load((body.get("view") or {}).get("private_metadata"))


def where_clicked(body: Body) -> tuple[str | None, str | None]:
    """(channel, thread ts) of the message whose button was clicked."""
    channel = (body.get("channel") or {}).get("id")
    container = body.get("container") or {}
    return channel, container.get("thread_ts") or container.get("message_ts")


# ---------------------------------------------------------------- forms


Errors = dict[str, str]


def _values(body: Body) -> Mapping[str, Mapping[str, Any]]:
    state = (body.get("view") or {}).get("state") or {}
    values = state.get("values") or {}
    return {block: (fields.get(ids.INPUT) or {}) for block, fields in values.items()}


def _text(values: Mapping[str, Mapping[str, Any]], block: str) -> str | None:
    value = values.get(block, {}).get("value")
    return value if isinstance(value, str) and value.strip() else None


def _selected(values: Mapping[str, Mapping[str, Any]], block: str) -> list[str]:
    options = values.get(block, {}).get("selected_options") or []
    return [o["value"] for o in options if isinstance(o, Mapping) and "value" in o]


def _rendered_options(body: Body, prefix: str) -> list[str]:
    """The option values of the checkbox blocks whose block_id starts with ``prefix``, as the
    modal showed them (unticked boxes are not in the state, so they are read from the blocks)."""
    out: list[str] = []
    for block in (body.get("view") or {}).get("blocks") or []:
        if str(block.get("block_id", "")).startswith(prefix):
            element = block.get("element") or {}
            out += [o["value"] for o in element.get("options") or [] if "value" in o]
    return out


def _publish_at(
    values: Mapping[str, Mapping[str, Any]], now: datetime, errors: Errors
) -> datetime | None:
    day = values.get(ids.BLOCK_DATE, {}).get("selected_date")
    hour = values.get(ids.BLOCK_TIME, {}).get("selected_time")
    return forms.publish_at(day, hour, now, errors)


def _checklist(
    body: Body, values: Mapping[str, Mapping[str, Any]], errors: Errors
) -> tuple[ChecklistItem, ...]:
    ticked = _selected(values, ids.BLOCK_CHECKLIST)
    items = tuple(ChecklistItem(v) for v in ticked if v in ChecklistItem.__members__.values())
    if set(_rendered_options(body, ids.BLOCK_CHECKLIST)) - set(ticked):
        errors[ids.BLOCK_CHECKLIST] = message("slack.form.checklist_all")
    return items


def approve_form(body: Body, now: datetime) -> tuple[ApproveForm, Errors]:
    values, errors = _values(body), Errors()
    checklist = _checklist(body, values, errors)
    acknowledged: list[str] = []
    for block in values:
        if block.startswith(ids.BLOCK_WARNINGS_PREFIX):
            acknowledged += _selected(values, block)
    shown = _rendered_options(body, ids.BLOCK_WARNINGS_PREFIX)
    missing = [w for w in shown if w not in acknowledged]
    if missing:
        first_block = next(
            (b for b in _warning_blocks(body) if set(b[1]) & set(missing)), ("", [])
        )[0]
        errors[first_block] = message("slack.form.warnings_all", count=len(missing))
    at = _publish_at(values, now, errors)
    return ApproveForm(checklist, tuple(acknowledged), at, _text(values, ids.BLOCK_COMMENT)), errors


def _warning_blocks(body: Body) -> list[tuple[str, list[str]]]:
    out = []
    for block in (body.get("view") or {}).get("blocks") or []:
        block_id = str(block.get("block_id", ""))
        if block_id.startswith(ids.BLOCK_WARNINGS_PREFIX):
            options = (block.get("element") or {}).get("options") or []
            out.append((block_id, [o["value"] for o in options if "value" in o]))
    return out


def peer_form(body: Body) -> tuple[PeerForm, Errors]:
    values, errors = _values(body), Errors()
    checklist = _checklist(body, values, errors)
    return PeerForm(checklist, _text(values, ids.BLOCK_COMMENT)), errors


def reason_form(body: Body) -> tuple[str, Errors]:
    reason = _text(_values(body), ids.BLOCK_REASON)
    if reason is None:
        return "", {ids.BLOCK_REASON: message("slack.form.reason_needed")}
    return reason.strip(), {}


def resolution_form(body: Body) -> tuple[str, Errors]:
    """The note of the incident's resolve modal (how it ended, or that it was a false alarm)."""
    note = _text(_values(body), ids.BLOCK_RESOLUTION)
    if note is None:
        return "", {ids.BLOCK_RESOLUTION: message("slack.incident.form.resolution_needed")}
    return note.strip(), {}


def _chosen(values: Mapping[str, Mapping[str, Any]], block: str) -> str | None:
    option = values.get(block, {}).get("selected_option")
    if isinstance(option, Mapping) and isinstance(option.get("value"), str):
        return str(option["value"])
    return None


def report_form(body: Body) -> tuple[ReportForm, Errors]:
    values = _values(body)
    return forms.report_form(
        _chosen(values, ids.BLOCK_INCIDENT_KIND),
        _chosen(values, ids.BLOCK_INCIDENT_ACCOUNT),
        values.get(ids.BLOCK_INCIDENT_URL, {}).get("value"),
        values.get(ids.BLOCK_INCIDENT_NOTES, {}).get("value"),
    )


def draft_form(body: Body, now: datetime) -> tuple[DraftForm, Errors]:
    """The new-draft, edit and settings modals, read by ``bot.chat.forms.draft_form``."""
    values = _values(body)
    given: dict[str, object] = {}
    for block, value in values.items():
        if block in (ids.BLOCK_ACCOUNTS, ids.BLOCK_EMERGENCY):
            chosen = _selected(values, block)
            given[block] = chosen if block == ids.BLOCK_ACCOUNTS else ids.EMERGENCY_OPTION in chosen
        elif block == ids.BLOCK_DATE:
            given[block] = value.get("selected_date")
        elif block == ids.BLOCK_TIME:
            given[block] = value.get("selected_time")
        else:
            given[block] = value.get("value")
    return forms.draft_form(given, now)


# ---------------------------------------------------------------- the slash command


# ---------------------------------------------------------------- message events


def message_kind(event: Body, drafts_channels: frozenset[str]) -> str | None:
    """ "new" for a person's top-level message in a drafts channel, "edited" for an edit of one;
    None for everything else (bots, thread replies, joins, other channels)."""
    if event.get("channel") not in drafts_channels:
        return None
    subtype = event.get("subtype")
    if subtype is None or subtype == "file_share":
        if event.get("bot_id") or not event.get("user"):
            return None
        thread = event.get("thread_ts")
        return "new" if thread is None or thread == event.get("ts") else None
    if subtype == "message_changed":
        edited = event.get("message")
        if not isinstance(edited, Mapping) or edited.get("bot_id") or not edited.get("user"):
            return None
        thread = edited.get("thread_ts")
        return "edited" if thread is None or thread == edited.get("ts") else None
    return None
