"""Teams activities -> small typed values: who acts, where, the draft text, a card's inputs.

Only an activity that passed ``bot.teams.auth.Authenticator.check`` is parsed. The actor is
``from.aadObjectId`` (never a name or a value in a card); whether they may act is decided by the
use cases.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.chat import forms
from bot.chat.forms import ApproveForm, BadPayload, DraftRef, IncidentClick, PeerForm
from bot.teams import render
from handlers.drafts import Actor
from handlers.views import DraftView
from workflows.approval import ChecklistItem
from workflows.catalogue import message

Activity = Mapping[str, Any]

_AT = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


class FormIncomplete(ValueError):
    """A card's inputs are not complete; the text says what is missing (shown in the card)."""


def actor(activity: Activity) -> Actor:
    who = (activity.get("from") or {}).get("aadObjectId")
    if not isinstance(who, str) or not who:
        raise BadPayload("no aadObjectId")
    return Actor("teams", who.lower())


def channel_of(activity: Activity) -> str | None:
    """The Teams channel id (``19:…@thread.tacv2``) of a channel activity."""
    channel = ((activity.get("channelData") or {}).get("channel") or {}).get("id")
    return channel if isinstance(channel, str) else None


def where(activity: Activity) -> tuple[str, str | None]:
    """(conversation without its ``;messageid=``, thread root) the activity is in."""
    conversation = str((activity.get("conversation") or {}).get("id", ""))
    base, _, root = conversation.partition(";messageid=")
    return base, root or None


def is_from_bot(activity: Activity) -> bool:
    return str((activity.get("from") or {}).get("id", "")).startswith("28:")


def plain_text(activity: Activity) -> str:
    """The message as the plain text to publish: mentions of the bot removed, HTML unwrapped."""
    raw = str(activity.get("text") or "")
    text = _BREAK.sub("\n", _AT.sub("", raw))
    return html.unescape(_TAG.sub("", text)).strip()


@dataclass(frozen=True, slots=True)
class Click:
    """An ``Action.Execute``: the verb, its data, and the card it came from."""

    verb: str
    data: Mapping[str, Any]
    conversation: str
    card_id: str | None  # the activity id of the clicked card

    def draft(self) -> DraftRef:
        draft, revision = self.data.get("draft"), self.data.get("revision")
        if not isinstance(draft, int) or not isinstance(revision, int):
            raise BadPayload("the button names no draft")
        return DraftRef(draft, revision)

    def incident(self) -> IncidentClick:
        incident, step = self.data.get("incident"), self.data.get("step")
        if not isinstance(incident, int):
            raise BadPayload("the button names no incident")
        return IncidentClick(incident, str(step) if step else None)

    def publication(self) -> int:
        return forms.publication_id(self.data.get("publication"))

    def text(self, input_id: str) -> str | None:
        value = self.data.get(input_id)
        return value.strip() if isinstance(value, str) and value.strip() else None

    def ticked(self, input_id: str) -> list[str]:
        value = self.data.get(input_id)
        return [v for v in value.split(",") if v] if isinstance(value, str) else []


def click(activity: Activity) -> Click:
    value = activity.get("value") or {}
    action = value.get("action") or {}
    verb, data = action.get("verb"), action.get("data") or {}
    if not isinstance(verb, str) or not isinstance(data, Mapping):
        raise BadPayload("not an Action.Execute")
    base, _ = where(activity)
    reply_to = activity.get("replyToId")
    return Click(verb, data, base, reply_to if isinstance(reply_to, str) else None)


def _checklist(click: Click, view: DraftView) -> tuple[ChecklistItem, ...]:
    ticked = set(click.ticked(render.CHECKLIST))
    if not {item.value for item in view.checklist} <= ticked:
        raise FormIncomplete(message("teams.form.checklist_all"))
    return tuple(item for item in view.checklist if item.value in ticked)


def peer_form(click: Click, view: DraftView) -> PeerForm:
    return PeerForm(_checklist(click, view), click.text(render.COMMENT))


def reason(click: Click) -> str:
    text = click.text(render.COMMENT) or click.text(render.REASON)
    if text is None:
        raise FormIncomplete(message("teams.form.reason_needed"))
    return text


def note(click: Click) -> str:
    """The note of an incident's resolve or reopen (how it ended, or why it is open again)."""
    text = click.text(render.REASON)
    if text is None:
        raise FormIncomplete(message("teams.form.incident_note_needed"))
    return text


def approve_form(click: Click, view: DraftView, now: datetime) -> ApproveForm:
    checklist = _checklist(click, view)
    acknowledged = click.ticked(render.WARNINGS)
    missing = [f for f in view.warnings if f.warning_id and f.warning_id not in acknowledged]
    if missing:
        raise FormIncomplete(message("teams.form.warnings_all", count=len(missing)))
    errors: forms.FormErrors = {}
    at = forms.publish_at(click.text(render.DATE), click.text(render.TIME), now, errors)
    if errors:
        raise FormIncomplete("\n".join(errors.values()))
    return ApproveForm(checklist, tuple(acknowledged), at, click.text(render.COMMENT))
