"""postgate's cards as Teams Adaptive Cards (version 1.5, ``Action.Execute``).

The verbs are the card actions of ``bot.chat.actions`` (Slack's action ids); each button's
``data`` carries the draft (``draft``, ``revision``) or incident (``incident``, ``step``), and the
card's inputs travel with it as Teams sends them: the checklist and the warnings as multi-select
``Input.ChoiceSet`` values (comma-separated), the date and time, the comment or reason.

An approval card is posted as its status (what everyone sees) with ``refresh.userIds`` naming
who may act: their clients ask for their own copy (verb ``refresh``) and get the inputs and
buttons. Texts come from the catalogue in its mrkdwn-like markup, converted by ``markdown``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from bot.chat import actions
from bot.chat import port as cards
from bot.chat.actions import NOTE_FIELD
from bot.chat.port import Card
from bot.chat.text import (
    draft_facts,
    finding_line,
    peer_request_text,
    publication_lines,
    review_line,
    shorten,
)
from handlers.incidents import IncidentView
from handlers.views import DraftView
from workflows.catalogue import message
from workflows.checks.model import Severity
from workflows.lifecycle import DraftState

Json = dict[str, Any]
CARD_TYPE: Final = "application/vnd.microsoft.card.adaptive"
REFRESH: Final = "refresh"
MAX_REFRESH_USERS: Final = 60  # Teams refreshes for at most 60 userIds
CHECKLIST: Final = "checklist"
WARNINGS: Final = "warnings"
COMMENT: Final = "comment"
REASON: Final = "reason"
DATE: Final = "publish_date"
TIME: Final = "publish_time"

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<(https?://[^|>]+)>")
_SLACK_MENTION = re.compile(r"<[@#!][^>]*>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_EMOJI: Final = {
    ":white_check_mark:": "✅",
    ":no_entry_sign:": "🚫",
    ":hourglass_flowing_sand:": "⏳",
    ":warning:": "⚠️",
    ":rotating_light:": "🚨",
    ":x:": "❌",
    ":memo:": "📝",
    ":bell:": "🔔",
    ":leftwards_arrow_with_hook:": "↩️",
    ":pause_button:": "⏸️",
    ":arrow_forward:": "▶️",
    ":information_source:": "ℹ️",
    ":spiral_calendar_pad:": "🗓️",
}
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-]+:")


def markdown(text: str) -> str:
    """Catalogue markup (Slack mrkdwn) as the markdown a Teams TextBlock shows."""
    out = _LINK.sub(lambda m: f"[{m.group(2)}]({m.group(1)})", text)
    out = _BARE_LINK.sub(lambda m: m.group(1), out)
    out = _SLACK_MENTION.sub("", out)
    out = _BOLD.sub(lambda m: f"**{m.group(1)}**", out)
    out = _EMOJI_CODE.sub(lambda m: _EMOJI.get(m.group(0), ""), out)
    return out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def text_block(text: str, **extra: Any) -> Json:
    return {"type": "TextBlock", "text": markdown(text), "wrap": True, **extra}


def heading(text: str) -> Json:
    return text_block(text, size="Medium", weight="Bolder")


def button(title: str, verb: str, data: Mapping[str, Any], *, style: str | None = None) -> Json:
    action: Json = {"type": "Action.Execute", "title": title, "verb": verb, "data": dict(data)}
    if style:
        action["style"] = style  # "positive" / "destructive"
    return action


def adaptive(body: list[Json], buttons: Sequence[Json] = (), **extra: Any) -> Json:
    card: Json = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
        **extra,
    }
    if buttons:
        card["actions"] = list(buttons)
    return card


def choices(input_id: str, options: Sequence[tuple[str, str]], label: str) -> Json:
    """A multi-select list: Teams sends the ticked values comma-separated."""
    return {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "isMultiSelect": True,
        "style": "expanded",
        "choices": [{"title": title, "value": value} for title, value in options],
    }


def text_input(input_id: str, label: str, *, required: bool = False) -> Json:
    return {
        "type": "Input.Text",
        "id": input_id,
        "label": label,
        "isMultiline": True,
        "isRequired": required,
    }


def _ref(view: DraftView, revision: int | None = None) -> Json:
    return {"draft": view.id, "revision": view.revision if revision is None else revision}


# ---------------------------------------------------------------- the draft


def _findings(view: DraftView, severities: Sequence[Severity] = tuple(Severity)) -> list[Json]:
    shown = [f for f in view.findings if f.severity in severities]
    if not shown:
        return [text_block(message("slack.findings.none"))]
    out: list[Json] = []
    for severity in sorted({f.severity for f in shown}, key=lambda s: -s.rank):
        group = [f for f in shown if f.severity is severity]
        title = message(f"slack.findings.{severity.value}", count=len(group))
        lines = [finding_line(f, variant_label=None) for f in group[:20]]
        out.append(text_block(title + "\n\n" + "\n\n".join(lines)))
    return out


def _preview(view: DraftView, limit: int = 4000) -> Json:
    return {
        "type": "Container",
        "style": "emphasis",
        "items": [{"type": "TextBlock", "text": shorten(view.text, limit), "wrap": True}],
    }


def _status(view: DraftView) -> list[Json]:
    body = [text_block("\n\n".join(draft_facts(view)))]
    if view.reviews:
        body.append(text_block("\n\n".join(review_line(r) for r in view.reviews)))
    lines = publication_lines(view)
    if lines:
        body.append(text_block(message("slack.publication.title") + "\n\n" + "\n\n".join(lines)))
    return body


def draft_card(view: DraftView, note: str | None = None, *, buttons: bool = True) -> Json:
    body = [heading(message("slack.draft.title", draft=view.id, revision=view.revision))]
    if note:
        body.append(text_block(note, isSubtle=True))
    body += [*_status(view), *_findings(view), _preview(view)]
    shown = [_draft_button(view, a) for a in actions.draft_card_actions(view)] if buttons else []
    if buttons and view.state in actions.EDITABLE:
        body.append(text_block(message("slack.draft.hint"), isSubtle=True))
    return adaptive(body, shown)


def _draft_button(view: DraftView, action: str) -> Json:
    if action == actions.SUBMIT:
        return button(message("slack.button.submit"), action, _ref(view), style="positive")
    if action == actions.WITHDRAW:
        return button(message("slack.button.withdraw"), action, _ref(view), style="destructive")
    label = "slack.button.edit" if action == actions.EDIT else "slack.button.settings"
    return button(message(label), action, _ref(view))


def announcement(view: DraftView) -> str:
    return message(
        "slack.draft.created",
        who=view.author_name,
        draft=view.id,
        excerpt=shorten(" ".join(view.text.split()), 60),
    )


def _checklist_input(view: DraftView) -> Json:
    options = [(item.label(), item.value) for item in view.checklist]
    return choices(CHECKLIST, options, markdown(message("slack.checklist.title")))


def peer_request(card: cards.PeerRequest) -> Json:
    view, revision = card.view, card.revision
    open_, text = peer_request_text(view, revision, mentions="")
    body = [text_block(text)]
    if not open_:
        return adaptive(body)
    body += [
        _preview(view),
        _checklist_input(view),
        text_input(COMMENT, message("teams.input.comment")),
    ]
    ref = _ref(view)
    return adaptive(
        body,
        [
            button(message("slack.button.peer_check"), actions.PEER_CHECK, ref, style="positive"),
            button(message("slack.button.peer_send_back"), actions.PEER_SEND_BACK, ref),
        ],
    )


def approval_status(card: cards.ApprovalCard) -> list[Json]:
    view, revision = card.view, card.revision
    body = [heading(message("slack.approval.title", draft=view.id, revision=revision))]
    if card.intro:
        body.append(text_block(card.intro))
    if revision != view.revision:
        status = message("slack.approval.superseded", revision=revision, current=view.revision)
    elif view.state is DraftState.AWAITING_APPROVAL:
        status = message("slack.approval.waiting", sections="、".join(view.pending_sections) or "-")
    else:
        status = message("slack.approval.decided", state=view.state_label)
    body.append(text_block(status))
    body.append(text_block("\n\n".join(draft_facts(view, approvers=True))))
    if card.thread_link:
        body.append(text_block(message("slack.approval.thread", link=card.thread_link)))
    if view.reviews and revision == view.revision:
        body.append(text_block("\n\n".join(review_line(r) for r in view.reviews)))
    body += [_preview(view), *_findings(view, (Severity.WARNING, Severity.INFO))]
    return body


def approval_card(card: cards.ApprovalCard) -> Json:
    """What everyone sees; those in ``approvers`` get ``approval_form`` through refresh."""
    extra: Json = {}
    view = card.view
    if view.state is DraftState.AWAITING_APPROVAL and card.revision == view.revision:
        extra["refresh"] = {
            "action": button("", REFRESH, {**_ref(view, card.revision), "card": "approval"}),
            "userIds": list(card.approvers[:MAX_REFRESH_USERS]),
        }
    return adaptive(approval_status(card), **extra)


def approval_form(card: cards.ApprovalCard, *, error: str | None = None) -> Json:
    """The approver's own copy: the checklist, the warnings to acknowledge, time, comment."""
    view = card.view
    body = approval_status(card)
    if error:
        body.insert(1, text_block(error, color="Attention", weight="Bolder"))
    body.append(_checklist_input(view))
    warnings = [f for f in view.warnings if f.warning_id]
    if warnings:
        options = [(shorten(f.message, 120), f.warning_id or "") for f in warnings]
        body.append(choices(WARNINGS, options, message("slack.modal.warnings_ack")))
    body += [
        {"type": "Input.Date", "id": DATE, "label": message("teams.input.date")},
        {"type": "Input.Time", "id": TIME, "label": message("teams.input.time")},
        text_input(COMMENT, message("teams.input.comment_or_reason")),
    ]
    ref = _ref(view, card.revision)
    return adaptive(
        body,
        [
            button(message("slack.button.approve"), actions.APPROVE, ref, style="positive"),
            button(message("slack.button.request_changes"), actions.REQUEST_CHANGES, ref),
            button(message("slack.button.reject"), actions.REJECT, ref, style="destructive"),
        ],
        refresh=approval_card(card).get("refresh"),
    )


# ---------------------------------------------------------------- incidents


def alert_card(card: cards.AlertCard) -> Json:
    view = card.view
    body = [heading(message("slack.incident.title", kind=view.kind_label, id=view.id))]
    body.append(text_block(view.summary.replace("*", "\\*")))
    if card.recipient is not None:
        body.append(text_block(message("slack.incident.dm_intro", role=card.recipient.role_label)))
    body.append(text_block(message("slack.field.state", state=view.state_label)))
    for label, value in view.rows[:8]:
        body.append(text_block(f"**{label}**: {shorten(value, 500)}"))
    buttons: list[Json] = []
    for line in view.checklist:
        body.append(text_block(line.text))
        step = {"incident": view.id, "step": line.item_id}
        verb = actions.INCIDENT_UNTICK if line.done else actions.INCIDENT_TICK
        title = "slack.incident.button.untick" if line.done else "slack.incident.button.tick"
        buttons.append(button(f"{message(title)}: {shorten(line.label, 20)}", verb, step))
        if line.action.value != "none" and not line.done:
            buttons.append(button(f"▶ {shorten(line.label, 24)}", actions.INCIDENT_ACTION, step))
    inputs, state_buttons = _incident_state_buttons(view)
    return adaptive([*body, *inputs], [*state_buttons, *buttons])


def _incident_state_buttons(view: IncidentView) -> tuple[list[Json], list[Json]]:
    """(inputs, buttons) for the incident's state: acknowledge; resolve and reopen with the
    note or reason typed in the card."""
    allowed = {e.value for e in view.allowed_events}
    ref = {"incident": view.id}
    buttons = []
    if "acknowledge" in allowed:
        buttons.append(
            button(
                message("slack.incident.button.acknowledge"),
                actions.INCIDENT_ACKNOWLEDGE,
                ref,
                style="positive",
            )
        )
    for event, verb in (("resolve", actions.INCIDENT_RESOLVE), ("reopen", actions.INCIDENT_REOPEN)):
        if event in allowed:
            buttons.append(button(message(f"slack.incident.button.{event}"), verb, ref))
    with_note = any(b["verb"] != actions.INCIDENT_ACKNOWLEDGE for b in buttons)
    inputs = [text_input(REASON, message("teams.input.incident_note"))] if with_note else []
    return inputs, buttons


def mention_entities(users: Sequence[str], names: Mapping[str, str]) -> tuple[str, list[Json]]:
    """``<at>name</at>`` text and the mention entities for each user (an AAD object id)."""
    text = " ".join(f"<at>{names.get(u, u)}</at>" for u in users)
    entities = [
        {
            "type": "mention",
            "text": f"<at>{names.get(u, u)}</at>",
            "mentioned": {"id": u, "name": names.get(u, u)},
        }
        for u in users
    ]
    return text, entities


def activity(card: Card, names: Mapping[str, str]) -> Json:
    """The message activity that shows ``card`` (``names``: display names of AAD ids)."""
    if isinstance(card, cards.Note):
        mentions, tagged = mention_entities(card.mentions, names)
        shown = markdown(card.text)
        note: Json = {
            "type": "message",
            "textFormat": "markdown",
            "text": f"{mentions} {shown}" if mentions else shown,
            "entities": tagged,
        }
        if card.buttons:  # the text stays the message's; the buttons come in a card under it
            actions = [button(b.label, b.action, {"publication": b.target}) for b in card.buttons]
            box = [text_input(NOTE_FIELD, card.field)] if card.field else []
            note["attachments"] = [{"contentType": CARD_TYPE, "content": adaptive(box, actions)}]
        return note
    if isinstance(card, cards.Announcement):
        return {
            "type": "message",
            "textFormat": "markdown",
            "text": markdown(announcement(card.view)),
        }
    if isinstance(card, cards.IncidentReminder):
        said = message("slack.incident.reminder", text=card.text)
        if card.link:
            said += "\n\n" + message("slack.incident.card_link", url=card.link, id=card.incident_id)
        return {"type": "message", "textFormat": "markdown", "text": markdown(said)}
    entities: list[Json] = []
    text: str | None = None
    if isinstance(card, cards.DraftCard):
        body = draft_card(card.view, card.note, buttons=card.buttons)
    elif isinstance(card, cards.PeerRequest):
        body = peer_request(card)
        if card.peers:
            text, entities = mention_entities(card.peers, names)
    elif isinstance(card, cards.ApprovalCard):
        body = approval_card(card)
    elif isinstance(card, cards.AlertCard):
        body = alert_card(card)
        if card.mentions:  # Teams lets a bot mention people, not the whole channel
            text, entities = mention_entities(card.mentions, names)
    else:
        body = adaptive([text_block(card.intro), text_block(card.view.summary)])
    out: Json = {
        "type": "message",
        "attachments": [{"contentType": CARD_TYPE, "content": body}],
    }
    if text:
        out["text"] = text
        out["entities"] = entities
    return out
