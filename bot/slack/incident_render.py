"""Block Kit for incidents, from ``handlers.incidents.IncidentView``: the alert card, the report,
resolve and reopen modals, reminders and the short summaries shown to one person.

Pure functions, like ``render``. What an incident saw comes from outside the city (a hijacker's
post, an impostor's name, replies to a post), so every piece of it is escaped and has its mentions
neutralised (``text.mrkdwn``): the only mention an alert makes is its own ``<!channel>`` at the
start of the alerts channel's copy. Long evidence is cut to fit Block Kit's limits, never the
checklist or the buttons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.chat import forms
from bot.chat.forms import IncidentClick
from bot.chat.text import account_label
from bot.slack import ids
from bot.slack.parse import ModalMeta
from bot.slack.render import (
    Block,
    SlackMessage,
    button,
    context,
    divider,
    fit,
    header,
    input_block,
    modal_view,
    note,
    option_object,
    pack_sections,
    section,
    text_input,
    text_size,
)
from bot.slack.text import (
    BLOCKS_PER_MESSAGE,
    BLOCKS_TEXT,
    MESSAGE_TEXT,
    mrkdwn,
    short_when,
    truncate,
)
from handlers.incidents import ChecklistLineView, IncidentView, RecipientView
from workflows.catalogue import message
from workflows.incidents.playbook import IncidentEvent, ItemAction
from workflows.org import Account

EVERYONE = "<!channel>"
EVIDENCE_VALUE = 1500  # characters of one evidence value shown (a post, a profile text)
EVIDENCE_TEXT = 5000  # characters of all the evidence on a card
EVIDENCE_BLOCKS = 6
HISTORY_LINES = 8  # the latest state changes shown; the audit log has them all
RESOLUTION_SHOWN = 1000
_ACTION_BUTTONS = frozenset({ItemAction.DRAFT_NOTICE, ItemAction.PAUSE_SCHEDULED})


# ---------------------------------------------------------------- the alert card


def alert_card(
    view: IncidentView,
    *,
    everyone: bool,
    recipient: RecipientView | None = None,
    draft_links: Mapping[int, str] | None = None,
) -> SlackMessage:
    """The incident's card: in the alerts channel (``everyone``: it starts with ``<!channel>``)
    or by DM to one ``recipient``. What was seen, the evidence, the manual's steps with who did
    each and when, the state and the buttons allowed in it."""
    summary = mrkdwn(view.summary)
    lead = f"{EVERYONE} {summary}" if everyone else summary
    head: list[Block] = [
        header(message("slack.incident.title", kind=view.kind_label, id=view.id)),
        section(lead),
    ]
    if recipient is not None:
        head.append(context(message("slack.incident.dm_intro", role=mrkdwn(recipient.role_label))))
    head.append(section(_facts(view)))
    steps = _checklist(view, draft_links or {})
    tail = [*_history(view), *_state_actions(view), _footer(view)]
    # The evidence gets what the rest leaves: the steps and buttons are never the ones cut.
    rest = [*head, *steps, *tail]
    evidence = evidence_blocks(
        view,
        BLOCKS_PER_MESSAGE - len(rest) - 2,
        min(EVIDENCE_TEXT, BLOCKS_TEXT - text_size(rest) - 200),
    )
    blocks = fit([*head, *evidence, divider(), *steps, *tail], BLOCKS_PER_MESSAGE)
    text = message(
        "slack.incident.text",
        kind=view.kind_label,
        id=view.id,
        state=view.state_label,
        summary=summary,
    )
    fallback = truncate(text, MESSAGE_TEXT - len(EVERYONE) - 1)
    return SlackMessage(f"{EVERYONE} {fallback}" if everyone else fallback, blocks)


def _facts(view: IncidentView) -> str:
    source = (
        message("slack.incident.source.report", name=mrkdwn(view.created_by_name))
        if view.source == "report"
        else message("slack.incident.source.monitor")
    )
    return message(
        "slack.incident.facts",
        state=view.state_label,
        at=short_when(view.created_at),
        source=source,
    )


def evidence_blocks(view: IncidentView, budget: int, chars: int = EVIDENCE_TEXT) -> list[Block]:
    """The evidence rows (label: value; the account first), every value escaped and cut to a
    readable length, within ``budget`` blocks and ``chars`` characters; what is left out is
    said."""
    lines = [message("slack.incident.evidence")]
    lines += [
        message(
            "slack.incident.row",
            label=mrkdwn(label),
            value=mrkdwn(truncate(value, EVIDENCE_VALUE)),
        )
        for label, value in view.rows
    ]
    room = max(1, min(EVIDENCE_BLOCKS, budget - 1))
    blocks, left = pack_sections(lines, room, max(chars, 500))
    if left:
        blocks.append(context(message("slack.incident.evidence_cut", count=left)))
    return blocks


def _checklist(view: IncidentView, draft_links: Mapping[int, str]) -> list[Block]:
    blocks: list[Block] = [
        section(message("slack.incident.checklist", manual=view.manual)),
    ]
    for line in view.checklist:
        blocks.append(_step(view, line, draft_links))
        action = _action_button(view, line)
        if action is not None:
            blocks.append(
                {
                    "type": "actions",
                    "block_id": f"incident.{view.id}.action.{line.item_id}",
                    "elements": [action],
                }
            )
    return blocks


def _step(view: IncidentView, line: ChecklistLineView, draft_links: Mapping[int, str]) -> Block:
    text = mrkdwn(line.text)
    for draft_id in line.draft_ids:
        url = draft_links.get(draft_id)
        if url:
            text += " " + message("slack.incident.draft_link", url=url, draft=draft_id)
    value = IncidentClick(view.id, line.item_id).value()
    if line.done:
        accessory = button(message("slack.incident.button.untick"), ids.INCIDENT_UNTICK, value)
    else:
        accessory = button(message("slack.incident.button.tick"), ids.INCIDENT_TICK, value)
    block = section(text)
    block["block_id"] = f"incident.{view.id}.step.{line.item_id}"
    block["accessory"] = accessory
    return block


def _action_button(view: IncidentView, line: ChecklistLineView) -> Block | None:
    """The step's own action: the notice draft (its number once made), the one-click pause of
    the account's scheduled posts (until the step is done)."""
    if line.action not in _ACTION_BUTTONS:
        return None
    value = IncidentClick(view.id, line.item_id).value()
    if line.action is ItemAction.PAUSE_SCHEDULED:
        if line.done or view.account_id is None:
            return None
        return button(
            message("slack.incident.button.pause"), ids.INCIDENT_ACTION, value, style="danger"
        )
    if line.draft_ids:
        label = message("slack.incident.button.draft_open", draft=line.draft_ids[0])
    else:
        label = message("slack.incident.button.draft_notice")
    return button(label, ids.INCIDENT_ACTION, value)


def _history(view: IncidentView) -> list[Block]:
    blocks: list[Block] = []
    if view.resolution:
        resolution = mrkdwn(truncate(view.resolution, RESOLUTION_SHOWN))
        blocks.append(section(message("slack.incident.resolution", note=resolution)))
    lines = [
        message(
            "slack.incident.history_line",
            event=h.label,
            name=mrkdwn(h.member_name),
            at=short_when(h.at),
            note=message("slack.incident.history_note", note=mrkdwn(truncate(h.note, 200)))
            if h.note
            else "",
        )
        for h in view.history[-HISTORY_LINES:]
    ]
    names = "、".join(
        message("slack.incident.recipient", name=mrkdwn(r.member_name), role=r.role_label)
        for r in view.recipients
    )
    lines.append(message("slack.incident.recipients", names=names or "-"))
    blocks.append(context("\n".join(lines)))
    return blocks


def _state_actions(view: IncidentView) -> list[Block]:
    value = IncidentClick(view.id).value()
    elements: list[Block] = []
    if IncidentEvent.ACKNOWLEDGE in view.allowed_events:
        elements.append(
            button(
                message("slack.incident.button.acknowledge"),
                ids.INCIDENT_ACKNOWLEDGE,
                value,
                style="primary",
            )
        )
    if IncidentEvent.RESOLVE in view.allowed_events:
        elements.append(
            button(message("slack.incident.button.resolve"), ids.INCIDENT_RESOLVE, value)
        )
    if IncidentEvent.REOPEN in view.allowed_events:
        elements.append(button(message("slack.incident.button.reopen"), ids.INCIDENT_REOPEN, value))
    if not elements:
        return []
    return [{"type": "actions", "block_id": f"incident.{view.id}.state", "elements": elements}]


def _footer(view: IncidentView) -> Block:
    return context(
        message("slack.incident.footer", id=view.id, manual=view.manual, state=view.state_label)
    )


# ---------------------------------------------------------------- to one person


def brief(view: IncidentView, intro: str, *, link: str | None = None) -> SlackMessage:
    """An incident in short, without buttons (an ephemeral answer): intro, summary, state and
    evidence, and a link to the card."""
    blocks: list[Block] = [
        section(intro),
        header(message("slack.incident.title", kind=view.kind_label, id=view.id)),
        section(mrkdwn(view.summary)),
        section(_facts(view)),
        *evidence_blocks(view, 4),
    ]
    if link:
        blocks.append(context(message("slack.incident.card_link", url=link, id=view.id)))
    return SlackMessage(truncate(intro, MESSAGE_TEXT), fit(blocks, BLOCKS_PER_MESSAGE))


def reminder(
    text: str, incident_id: int, *, mentions: Sequence[str] = (), link: str | None = None
) -> SlackMessage:
    """A reminder of an unacknowledged incident (``text``: the use case's, escaped here)."""
    body = message("slack.incident.reminder", text=mrkdwn(text))
    if link:
        body += "\n" + card_link(link, incident_id)
    return note(body, mentions=mentions)


def card_link(url: str, incident_id: int) -> str:
    return message("slack.incident.card_link", url=url, id=incident_id)


# ---------------------------------------------------------------- modals


def report_modal(accounts: Sequence[Account], meta: ModalMeta) -> Block:
    """``/postgate incident``: kind, account (a managed one, optional), URL, notes."""
    kinds = [option_object(kind.label(), kind.value) for kind in forms.REPORT_KINDS]
    account_options = [option_object(account_label(a), a.id) for a in accounts][:100]
    blocks: list[Block] = [
        section(message("slack.incident.report.intro")),
        input_block(
            ids.BLOCK_INCIDENT_KIND,
            message("slack.incident.report.kind"),
            {"type": "static_select", "options": kinds},
        ),
        input_block(
            ids.BLOCK_INCIDENT_ACCOUNT,
            message("slack.incident.report.account"),
            {"type": "static_select", "options": account_options},
            optional=True,
            hint=message("slack.incident.report.account_hint"),
        ),
        input_block(
            ids.BLOCK_INCIDENT_URL,
            message("slack.incident.report.url"),
            {"type": "url_text_input"},
            optional=True,
            hint=message("slack.incident.report.url_hint"),
        ),
        input_block(
            ids.BLOCK_INCIDENT_NOTES,
            message("slack.incident.report.notes"),
            text_input(max_length=2000),
            optional=True,
        ),
    ]
    return modal_view(
        ids.VIEW_INCIDENT_REPORT,
        message("slack.incident.report.title"),
        blocks,
        meta,
        submit=message("slack.incident.report.submit"),
    )


def _about(view: IncidentView) -> Block:
    return section(
        message(
            "slack.incident.modal.about",
            id=view.id,
            kind=view.kind_label,
            state=view.state_label,
            summary=mrkdwn(truncate(view.summary, 1000)),
        )
    )


def resolve_modal(view: IncidentView, meta: ModalMeta) -> Block:
    blocks = [
        _about(view),
        input_block(
            ids.BLOCK_RESOLUTION,
            message("slack.incident.resolve.note"),
            text_input(max_length=2000),
            hint=message("slack.incident.resolve.hint"),
        ),
    ]
    return modal_view(
        ids.VIEW_INCIDENT_RESOLVE,
        message("slack.incident.resolve.title"),
        blocks,
        meta,
        submit=message("slack.incident.resolve.submit"),
    )


def reopen_modal(view: IncidentView, meta: ModalMeta) -> Block:
    blocks = [
        _about(view),
        input_block(
            ids.BLOCK_REASON,
            message("slack.incident.reopen.reason"),
            text_input(max_length=1000),
        ),
    ]
    return modal_view(
        ids.VIEW_INCIDENT_REOPEN,
        message("slack.incident.reopen.title"),
        blocks,
        meta,
        submit=message("slack.incident.reopen.submit"),
    )
