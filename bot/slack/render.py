"""Block Kit from the neutral view models of ``handlers/``: cards, modals, App Home, replies.

Pure functions (no Slack calls). Every text comes from the message catalogue (Japanese); every
piece of a draft shown back is escaped and mass-mention-free (``bot.slack.text``); every message
stays within Block Kit's limits (section text, blocks per message or view, button values) by
splitting long texts and saying what was left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.chat import forms
from bot.chat.actions import EDITABLE, NOTE_FIELD, draft_card_actions
from bot.chat.commands import Listing
from bot.chat.forms import DraftRef
from bot.chat.port import Button
from bot.chat.text import (
    PLATFORM_NAMES,
    account_label,
    draft_facts,
    finding_line,
    peer_request_text,
    platform_name,
    publication_lines,
    publish_time,
    review_line,
    summary_line,
    target_label,
)
from bot.slack import ids
from bot.slack.parse import ModalMeta
from bot.slack.text import (
    BLOCKS_PER_MESSAGE,
    BLOCKS_PER_VIEW,
    BLOCKS_TEXT,
    HEADER_TEXT,
    MESSAGE_TEXT,
    OPTION_TEXT,
    OPTIONS_PER_CHECKBOXES,
    PLAIN_INPUT,
    SECTION_TEXT,
    TOKYO,
    VIEW_TITLE,
    mrkdwn,
    plain,
    short_when,
    slack_length,
    split,
    truncate,
    when,
)
from handlers.chat import HomeView
from handlers.views import DraftView, FindingView
from workflows.approval import ChecklistItem
from workflows.catalogue import message
from workflows.checks.model import Platform, Severity
from workflows.lifecycle import DraftState
from workflows.org import Account

Block = dict[str, Any]

SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)
MODAL_PREVIEW = 5000  # characters of the texts shown in a review modal (the card has more)
MODAL_WARNINGS = 30  # warnings one approve modal can list, each with its own tick


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A message to post or update: the notification text and the blocks."""

    text: str
    blocks: list[Block]

    def kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


# ---------------------------------------------------------------- blocks


def header(text: str) -> Block:
    return {"type": "header", "text": plain_text(truncate(text, HEADER_TEXT))}


def section(text: str) -> Block:
    """A mrkdwn section; ``text`` must already be escaped where it holds user text."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT)}}


def plain_section(text: str) -> Block:
    return {"type": "section", "text": plain_text(truncate(text, SECTION_TEXT))}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 3000)}]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: Block | None = None,
) -> Block:
    element: Block = {
        "type": "button",
        "text": plain_text(truncate(text, 75)),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def plain_text(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": True}


def pack_sections(
    lines: Iterable[str], limit_blocks: int, limit_chars: int = BLOCKS_TEXT
) -> tuple[list[Block], int]:
    """mrkdwn lines packed into as few sections as fit in ``limit_blocks`` blocks and
    ``limit_chars`` characters; (blocks, number of lines left out)."""
    blocks: list[Block] = []
    current = ""
    used = 0
    items = list(lines)
    for index, item in enumerate(items):
        line = truncate(item, SECTION_TEXT)
        candidate = f"{current}\n{line}" if current else line
        if used + slack_length(candidate) > limit_chars:
            if current:
                blocks.append(section(current))
            return blocks, len(items) - index
        if slack_length(candidate) <= SECTION_TEXT:
            current = candidate
            continue
        if len(blocks) + 1 >= limit_blocks:
            blocks.append(section(current))
            return blocks, len(items) - index
        blocks.append(section(current))
        used += slack_length(current)
        current = line
    if current:
        blocks.append(section(current))
    return blocks, 0


def text_size(node: Any) -> int:
    """The characters of every text object in ``node`` (what Slack's total limit counts)."""
    if isinstance(node, dict):
        own = node.get("text") if node.get("type") in ("plain_text", "mrkdwn") else None
        return (slack_length(own) if isinstance(own, str) else 0) + sum(
            text_size(v) for v in node.values()
        )
    if isinstance(node, list):
        return sum(text_size(v) for v in node)
    return 0


def fit(blocks: list[Block], limit: int, chars: int = BLOCKS_TEXT) -> list[Block]:
    """At most ``limit`` blocks and ``chars`` characters: the trailing actions and context are
    kept, the middle is cut from its end, with a note saying so."""
    if len(blocks) <= limit and text_size(blocks) <= chars:
        return blocks
    tail: list[Block] = []
    for block in reversed(blocks[-2:]):
        if block.get("type") not in ("actions", "context"):
            break
        tail.insert(0, block)
    middle = blocks[: len(blocks) - len(tail)]
    note = context(message("slack.truncated"))
    while middle and (
        len(middle) + len(tail) + 1 > limit or text_size([*middle, note, *tail]) > chars
    ):
        middle.pop()
    return [*middle, note, *tail]


def fit_view(blocks: list[Block]) -> list[Block]:
    """A modal's or the Home tab's blocks within the limits, never dropping an input: preview
    pieces go first, then other non-input blocks, from the end."""
    out = list(blocks)

    def over() -> bool:
        return len(out) > BLOCKS_PER_VIEW or text_size(out) > BLOCKS_TEXT

    for kinds in (("plain_text",), ("plain_text", "mrkdwn", None)):
        while over():
            index = next(
                (
                    i
                    for i in range(len(out) - 1, 0, -1)
                    if out[i]["type"] in ("section", "context", "divider")
                    and (out[i].get("text") or {}).get("type") in kinds
                ),
                None,
            )
            if index is None:
                break
            del out[index]
    return out


# ---------------------------------------------------------------- pieces of a draft


def _facts(view: DraftView, *, approvers: bool = False) -> Block:
    return section("\n".join(draft_facts(view, approvers=approvers)))


FINDINGS_TEXT = 3500


def findings_blocks(
    findings: Sequence[FindingView],
    budget: int,
    *,
    chars: int = FINDINGS_TEXT,
    severities: Sequence[Severity] = SEVERITY_ORDER,
) -> list[Block]:
    """The findings grouped by severity (errors first), quote + message + suggestion each,
    within ``budget`` blocks and ``chars`` characters (the rest counted, not shown)."""
    shown = [f for f in findings if f.severity in severities]
    if not shown:
        return [section(message("slack.findings.none"))]
    blocks: list[Block] = []
    for severity in severities:
        group = [f for f in shown if f.severity is severity]
        if not group:
            continue
        room = budget - len(blocks)
        if room <= 1:
            rest = sum(1 for f in shown if f.severity.rank >= severity.rank)
            blocks.append(context(message("slack.findings.more", count=rest)))
            break
        lines = [message(f"slack.findings.{severity.value}", count=len(group))]
        lines += [
            finding_line(
                f,
                variant_label=(
                    platform_name(Platform(f.text_key)) if f.text_key != "text" else None
                ),
            )
            for f in group
        ]
        packed, left = pack_sections(lines, room - 1, max(chars - text_size(blocks), 0))
        blocks += packed
        if left:
            later = sum(1 for f in shown if f.severity.rank > severity.rank)
            blocks.append(context(message("slack.findings.more", count=left + later)))
            break
    return blocks


def _texts(view: DraftView) -> list[tuple[str, str]]:
    """(label, text) of each distinct text of the draft: the main one, then each variant."""
    platforms = {t.platform for t in view.targets}
    main_for = [p for p in PLATFORM_NAMES if p in platforms and p not in view.variants]
    out: list[tuple[str, str]] = []
    if main_for or not view.variants:
        names = "・".join(platform_name(p) for p in main_for)
        label = (
            message("slack.preview.main", platforms=names)
            if names
            else message("slack.preview.main_only")
        )
        out.append((label, view.text))
    for platform, text in view.variants.items():
        out.append((message("slack.preview.variant", platform=platform_name(platform)), text))
    return out


def preview_blocks(view: DraftView, budget: int, chars: int) -> list[Block]:
    """The texts as they will be published, in plain_text sections of at most 3,000 characters
    (mentions neutralised), within ``budget`` blocks and ``chars`` characters shared among the
    texts; what does not fit is counted in a note, never dropped silently."""
    texts = _texts(view)
    blocks: list[Block] = []
    used = 0
    for index, (label, text) in enumerate(texts):
        left_texts = len(texts) - index
        room = budget - len(blocks) - (left_texts - 1) * 3
        share = (chars - used) // left_texts - slack_length(label) - 200
        if room < 3 or share < 100:
            omitted = sum(len(t) for _, t in texts[index:])
            blocks.append(context(message("slack.preview.cut", count=omitted)))
            break
        blocks.append(context(label))
        shown = 0
        for piece in split(text, SECTION_TEXT, plain):
            space = min(share - shown, SECTION_TEXT)
            if len(blocks) >= budget - (left_texts - 1) * 3 - 1 or space < 50:
                break
            kept = piece if slack_length(piece) <= space else truncate(piece, space)
            blocks.append(plain_section(kept))
            shown += slack_length(kept)
            if kept is not piece:
                break
        used += shown + slack_length(label) + 200
        if shown < slack_length(plain(text)):
            count = max(len(text) - shown, 1)
            blocks.append(context(message("slack.preview.cut", count=count)))
    return blocks


def _reviews(view: DraftView) -> list[Block]:
    if not view.reviews:
        return []
    return [section("\n".join(review_line(r) for r in view.reviews))]


def _publications(view: DraftView) -> list[Block]:
    lines = publication_lines(view)
    if not lines:
        return []
    return [section(message("slack.publication.title") + "\n" + "\n".join(lines))]


def _excerpt(text: str, limit: int = 60) -> str:
    return truncate(" ".join(text.split()), limit)


# ---------------------------------------------------------------- the draft's card (thread)


def draft_card(view: DraftView, *, buttons: bool = True, note: str | None = None) -> SlackMessage:
    """The draft in its thread: facts, findings by severity, the texts, and what can be done."""
    head = [
        header(message("slack.draft.title", draft=view.id, revision=view.revision)),
        _facts(view),
    ]
    if note:
        head.append(context(note))
    tail: list[Block] = [*_reviews(view), *_publications(view)]
    ref = DraftRef(view.id, view.revision).value()
    actions: list[Block] = []
    for action in draft_card_actions(view) if buttons else ():
        if action == ids.SUBMIT:
            actions.append(button(message("slack.button.submit"), ids.SUBMIT, ref, style="primary"))
        elif action == ids.WITHDRAW:
            actions.append(
                button(
                    message("slack.button.withdraw"),
                    ids.WITHDRAW,
                    ref,
                    style="danger",
                    confirm=_confirm("withdraw"),
                )
            )
        else:
            label = "slack.button.edit" if action == ids.EDIT else "slack.button.settings"
            actions.append(button(message(label), action, ref))
    if actions:
        tail.append({"type": "actions", "block_id": f"draft.{view.id}", "elements": actions})
    if buttons and view.state in EDITABLE:
        tail.append(context(message("slack.draft.hint")))
    budget = BLOCKS_PER_MESSAGE - len(head) - len(tail)
    found = findings_blocks(view.findings, min(15, budget // 3))
    chars = BLOCKS_TEXT - text_size([*head, *found, *tail])
    preview = preview_blocks(view, budget - len(found), chars)
    blocks = fit([*head, *found, *preview, *tail], BLOCKS_PER_MESSAGE)
    text = message(
        "slack.draft.text",
        draft=view.id,
        state=view.state_label,
        excerpt=plain(_excerpt(view.text)),
    )
    return SlackMessage(truncate(mrkdwn_fallback(text), MESSAGE_TEXT), blocks)


def mrkdwn_fallback(text: str) -> str:
    """The notification text: parsed as mrkdwn by Slack, so escaped and neutralised."""
    return mrkdwn(text)


def _confirm(kind: str) -> Block:
    return {
        "title": plain_text(message(f"slack.confirm.{kind}.title")),
        "text": plain_text(message(f"slack.confirm.{kind}.text")),
        "confirm": plain_text(message(f"slack.confirm.{kind}.yes")),
        "deny": plain_text(message("slack.confirm.no")),
        "style": "danger",
    }


def new_draft_announcement(view: DraftView, author_slack_id: str | None) -> SlackMessage:
    who = f"<@{author_slack_id}>" if author_slack_id else mrkdwn(view.author_name)
    text = message(
        "slack.draft.created", who=who, draft=view.id, excerpt=mrkdwn(_excerpt(view.text))
    )
    return SlackMessage(truncate(text, MESSAGE_TEXT), [section(text)])


# ---------------------------------------------------------------- peer check


def peer_request(view: DraftView, request_revision: int, peers: Sequence[str]) -> SlackMessage:
    """The thread's request to colleagues; buttons while the revision is in peer review."""
    mentions = " ".join(f"<@{p}>" for p in peers)
    open_, text = peer_request_text(view, request_revision, mentions)
    blocks = [section(text)]
    checks = [r for r in view.reviews if r.kind == "peer"]
    if checks and view.revision == request_revision:
        blocks.append(section("\n".join(review_line(r) for r in checks)))
    if open_:
        ref = DraftRef(view.id, view.revision).value()
        blocks.append(
            {
                "type": "actions",
                "block_id": f"peer.{view.id}",
                "elements": [
                    button(
                        message("slack.button.peer_check"), ids.PEER_CHECK, ref, style="primary"
                    ),
                    button(message("slack.button.peer_send_back"), ids.PEER_SEND_BACK, ref),
                ],
            }
        )
    return SlackMessage(truncate(text, MESSAGE_TEXT), blocks)


# ---------------------------------------------------------------- the approval card


def approval_card(
    view: DraftView,
    *,
    card_revision: int,
    thread_link: str | None = None,
    intro: str | None = None,
) -> SlackMessage:
    """The chief's card: author, accounts, time, per-platform preview, warnings, the manual's
    checklist; buttons while this revision awaits approval, else who decided what and when."""
    head = [
        header(message("slack.approval.title", draft=view.id, revision=card_revision)),
    ]
    if intro:
        head.append(section(intro))
    head.append(section(_approval_status(view, card_revision)))
    head.append(_facts(view, approvers=True))
    if thread_link:
        head.append(context(message("slack.approval.thread", link=thread_link)))
    tail: list[Block] = []
    if view.reviews and card_revision == view.revision:
        tail.append(section("\n".join(review_line(r) for r in view.reviews)))
    open_ = view.state is DraftState.AWAITING_APPROVAL and card_revision == view.revision
    if open_:
        tail.append(section(checklist_text(view.checklist)))
        ref = DraftRef(view.id, view.revision).value()
        tail.append(
            {
                "type": "actions",
                "block_id": f"approval.{view.id}",
                "elements": [
                    button(message("slack.button.approve"), ids.APPROVE, ref, style="primary"),
                    button(message("slack.button.request_changes"), ids.REQUEST_CHANGES, ref),
                    button(message("slack.button.reject"), ids.REJECT, ref, style="danger"),
                ],
            }
        )
    budget = BLOCKS_PER_MESSAGE - len(head) - len(tail)
    found = findings_blocks(
        view.findings, min(12, budget // 3), severities=(Severity.WARNING, Severity.INFO)
    )
    chars = BLOCKS_TEXT - text_size([*head, *found, *tail])
    preview = preview_blocks(view, budget - len(found) - 1, chars)
    blocks = fit([*head, *preview, divider(), *found, *tail], BLOCKS_PER_MESSAGE)
    text = message(
        "slack.approval.text",
        draft=view.id,
        author=view.author_name,
        excerpt=_excerpt(view.text),
    )
    return SlackMessage(truncate(mrkdwn_fallback(text), MESSAGE_TEXT), blocks)


def _approval_status(view: DraftView, card_revision: int) -> str:
    if card_revision != view.revision:
        return message("slack.approval.superseded", revision=card_revision, current=view.revision)
    if view.state is DraftState.AWAITING_APPROVAL:
        return message(
            "slack.approval.waiting",
            sections="、".join(mrkdwn(s) for s in view.pending_sections) or "-",
        )
    return message("slack.approval.decided", state=view.state_label)


def checklist_text(items: Iterable[ChecklistItem]) -> str:
    lines = [message("slack.checklist.title")]
    lines += [message("slack.checklist.item", label=item.label()) for item in items]
    return "\n".join(lines)


def reminder_intro(step: str, hours: int) -> str:
    return message(f"slack.reminder.{step}", hours=hours)


# ---------------------------------------------------------------- notes in the thread


def note(
    text: str,
    *,
    mentions: Sequence[str] = (),
    buttons: Sequence[Button] = (),
    field: str | None = None,
) -> SlackMessage:
    """A short message in a thread; ``text`` is catalogue text with escaped user parts. A
    ``field`` is a text box above the buttons (its value comes with the click's ``state``)."""
    who = " ".join(f"<@{m}>" for m in mentions)
    body = f"{who} {text}" if who else text
    blocks = [section(body)]
    if field:
        blocks.append(input_block(NOTE_FIELD, field, text_input(), optional=True))
    if buttons:
        elements = [button(b.label, b.action, str(b.target)) for b in buttons]
        blocks.append({"type": "actions", "elements": elements})
    return SlackMessage(truncate(body, MESSAGE_TEXT), blocks)


def refusal(text: str) -> str:
    return message("slack.refusal", reason=text)


# ---------------------------------------------------------------- modals


def modal_view(
    callback_id: str,
    title: str,
    blocks: list[Block],
    meta: ModalMeta,
    *,
    submit: str | None,
) -> Block:
    view: Block = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain_text(truncate(title, VIEW_TITLE)),
        "close": plain_text(message("slack.modal.cancel")),
        "private_metadata": meta.dump(),
        "blocks": fit_view(blocks),
    }
    if submit:
        view["submit"] = plain_text(truncate(submit, VIEW_TITLE))
    return view


def input_block(
    block_id: str, label: str, element: Block, *, optional: bool = False, hint: str = ""
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain_text(truncate(label, 2000)),
        "element": {**element, "action_id": ids.INPUT},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain_text(truncate(hint, 2000))
    return block


def text_input(
    initial: str | None = None, *, multiline: bool = True, max_length: int = PLAIN_INPUT
) -> Block:
    element: Block = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    return element


def option_object(text: str, value: str, *, description: str | None = None) -> Block:
    option: Block = {"text": plain_text(truncate(plain(text), OPTION_TEXT)), "value": value}
    if description:
        option["description"] = plain_text(truncate(plain(description), OPTION_TEXT))
    return option


def _checklist_input(items: Sequence[ChecklistItem]) -> Block:
    return input_block(
        ids.BLOCK_CHECKLIST,
        message("slack.modal.checklist"),
        {"type": "checkboxes", "options": [option_object(i.label(), i.value) for i in items]},
        hint=message("slack.modal.checklist_hint"),
    )


def _summary(view: DraftView, shown_revision: int) -> list[Block]:
    blocks = [
        section(
            message(
                "slack.modal.summary",
                draft=view.id,
                revision=shown_revision,
                author=mrkdwn(view.author_name),
                targets="、".join(target_label(t) for t in view.targets),
                at=publish_time(view),
            )
        )
    ]
    if shown_revision != view.revision:
        blocks.append(
            section(
                message("slack.approval.superseded", revision=shown_revision, current=view.revision)
            )
        )
    return blocks


def _when_inputs(view_at: datetime | None, *, hint: str) -> list[Block]:
    date_element: Block = {"type": "datepicker"}
    time_element: Block = {"type": "timepicker", "timezone": "Asia/Tokyo"}
    if view_at is not None:
        local = view_at.astimezone(TOKYO)
        date_element["initial_date"] = local.date().isoformat()
        time_element["initial_time"] = local.strftime("%H:%M")
    return [
        input_block(
            ids.BLOCK_DATE, message("slack.modal.date"), date_element, optional=True, hint=hint
        ),
        input_block(ids.BLOCK_TIME, message("slack.modal.time"), time_element, optional=True),
    ]


def approve_modal(view: DraftView, ref: DraftRef, meta: ModalMeta) -> Block:
    head = _summary(view, ref.revision)
    rest: list[Block] = []
    warnings = [f for f in view.warnings if f.warning_id]
    if len(warnings) > MODAL_WARNINGS:
        # Each warning needs its own tick; this many do not fit in a modal (nor in a review).
        head.append(section(message("slack.modal.too_many_warnings", count=len(warnings))))
        return modal_view(
            ids.VIEW_APPROVE, message("slack.modal.approve.title"), head, meta, submit=None
        )
    if warnings:
        rest.append(divider())
        rest.append(section(message("slack.modal.warnings", count=len(warnings))))
        for start in range(0, len(warnings), OPTIONS_PER_CHECKBOXES):
            chunk = warnings[start : start + OPTIONS_PER_CHECKBOXES]
            lines = [finding_line(f, variant_label=None) for f in chunk]
            rest += pack_sections(lines, 3)[0]
            options = [
                option_object(
                    message("slack.modal.warning_ack", quote=truncate(f.quote, 30), rule=f.rule),
                    f.warning_id or "",
                )
                for f in chunk
            ]
            rest.append(
                input_block(
                    f"{ids.BLOCK_WARNINGS_PREFIX}{start // OPTIONS_PER_CHECKBOXES}",
                    message("slack.modal.warnings_ack"),
                    {"type": "checkboxes", "options": options},
                )
            )
    rest.append(divider())
    rest.append(_checklist_input(view.checklist))
    rest += _when_inputs(view.publish_at, hint=message("slack.modal.when_hint_approve"))
    rest.append(
        input_block(
            ids.BLOCK_COMMENT,
            message("slack.modal.comment"),
            text_input(max_length=1000),
            optional=True,
        )
    )
    budget = min(30, BLOCKS_PER_VIEW - len(head) - len(rest))
    chars = min(MODAL_PREVIEW, BLOCKS_TEXT - text_size([*head, *rest]))
    return modal_view(
        ids.VIEW_APPROVE,
        message("slack.modal.approve.title"),
        [*head, *preview_blocks(view, budget, chars), *rest],
        meta,
        submit=message("slack.modal.approve.submit"),
    )


def reason_modal(kind: str, view: DraftView, ref: DraftRef, meta: ModalMeta) -> Block:
    """``kind``: request_changes or reject."""
    callback = ids.VIEW_REQUEST_CHANGES if kind == "request_changes" else ids.VIEW_REJECT
    blocks = _summary(view, ref.revision)
    blocks.append(
        input_block(
            ids.BLOCK_REASON,
            message(f"slack.modal.{kind}.reason"),
            text_input(max_length=1000),
            hint=message(f"slack.modal.{kind}.hint"),
        )
    )
    return modal_view(
        callback,
        message(f"slack.modal.{kind}.title"),
        blocks,
        meta,
        submit=message(f"slack.modal.{kind}.submit"),
    )


def peer_modal(view: DraftView, ref: DraftRef, meta: ModalMeta) -> Block:
    head = _summary(view, ref.revision)
    rest = [
        _checklist_input(view.checklist),
        input_block(
            ids.BLOCK_COMMENT,
            message("slack.modal.comment"),
            text_input(max_length=1000),
            optional=True,
        ),
    ]
    budget = min(40, BLOCKS_PER_VIEW - len(head) - len(rest))
    chars = min(MODAL_PREVIEW, BLOCKS_TEXT - text_size([*head, *rest]))
    return modal_view(
        ids.VIEW_PEER_CHECK,
        message("slack.modal.peer.title"),
        [*head, *preview_blocks(view, budget, chars), *rest],
        meta,
        submit=message("slack.modal.peer.submit"),
    )


def edit_modal(view: DraftView, meta: ModalMeta) -> Block:
    blocks: list[Block] = [section(message("slack.modal.edit.intro", draft=view.id))]
    if slack_length(view.text) <= PLAIN_INPUT:
        blocks.append(
            input_block(ids.BLOCK_TEXT, message("slack.modal.text"), text_input(view.text))
        )
    else:
        blocks.append(section(message("slack.modal.edit.too_long", limit=PLAIN_INPUT)))
    blocks.append(
        input_block(
            ids.BLOCK_MEDIA,
            message("slack.modal.media"),
            text_input("\n".join(view.media)),
            optional=True,
            hint=message("slack.modal.media_hint"),
        )
    )
    return modal_view(
        ids.VIEW_EDIT,
        message("slack.modal.edit.title"),
        blocks,
        meta,
        submit=message("slack.modal.save"),
    )


def _draft_fields(accounts: Sequence[Account], shown: forms.DraftSettings) -> list[Block]:
    targets, variants, emergency = shown.targets, shown.variants, shown.emergency
    publish_at = shown.publish_at
    options = [option_object(account_label(a), a.id) for a in accounts][:100]
    accounts_element: Block = {"type": "multi_static_select", "options": options}
    chosen = [o for o in options if o["value"] in targets]
    if chosen:
        accounts_element["initial_options"] = chosen
    blocks = [input_block(ids.BLOCK_ACCOUNTS, message("slack.modal.accounts"), accounts_element)]
    blocks += _when_inputs(publish_at, hint=message("slack.modal.when_hint"))
    for platform in PLATFORM_NAMES:
        blocks.append(
            input_block(
                f"{ids.BLOCK_VARIANT_PREFIX}{platform.value}",
                message("slack.modal.variant", platform=platform_name(platform)),
                text_input(variants.get(platform)),
                optional=True,
            )
        )
    emergency_option = option_object(
        message("slack.modal.emergency"),
        ids.EMERGENCY_OPTION,
        description=message("slack.modal.emergency_hint"),
    )
    emergency_element: Block = {"type": "checkboxes", "options": [emergency_option]}
    if emergency:
        emergency_element["initial_options"] = [emergency_option]
    blocks.append(
        input_block(
            ids.BLOCK_EMERGENCY,
            message("slack.modal.emergency_label"),
            emergency_element,
            optional=True,
        )
    )
    return blocks


def settings_modal(view: DraftView, accounts: Sequence[Account], meta: ModalMeta) -> Block:
    blocks: list[Block] = [section(message("slack.modal.settings.intro", draft=view.id))]
    blocks += _draft_fields(accounts, forms.DraftSettings.of(view))
    return modal_view(
        ids.VIEW_SETTINGS,
        message("slack.modal.settings.title"),
        blocks,
        meta,
        submit=message("slack.modal.save"),
    )


def new_draft_modal(accounts: Sequence[Account], defaults: Sequence[str], meta: ModalMeta) -> Block:
    blocks: list[Block] = [
        section(message("slack.modal.new.intro")),
        input_block(ids.BLOCK_TEXT, message("slack.modal.text"), text_input()),
    ]
    blocks += _draft_fields(accounts, forms.DraftSettings(tuple(defaults)))
    blocks.append(
        input_block(
            ids.BLOCK_MEDIA,
            message("slack.modal.media"),
            text_input(),
            optional=True,
            hint=message("slack.modal.media_hint"),
        )
    )
    return modal_view(
        ids.VIEW_NEW_DRAFT,
        message("slack.modal.new.title"),
        blocks,
        meta,
        submit=message("slack.modal.new.submit"),
    )


# ---------------------------------------------------------------- lists, help, home


def summaries(listing: Listing) -> SlackMessage:
    blocks, _ = pack_sections(listing.lines(), BLOCKS_PER_MESSAGE - 1)
    return SlackMessage(truncate(listing.title, MESSAGE_TEXT), blocks)


def help_message() -> SlackMessage:
    text = message("slack.help", command=ids.COMMAND)
    return SlackMessage(message("slack.help.title"), [section(text)])


def status_message(view: DraftView) -> SlackMessage:
    return draft_card(view, buttons=False)


def home(view: HomeView) -> Block:
    blocks: list[Block] = [header(message("slack.home.title"))]
    if view.member_name is None:
        blocks.append(section(message("slack.home.unknown")))
        return {"type": "home", "callback_id": ids.VIEW_HOME, "blocks": blocks}
    blocks.append(context(message("slack.home.hello", name=mrkdwn(view.member_name))))

    def part(title: str, lines: list[str], empty: str, budget: int = 20) -> None:
        blocks.append(divider())
        packed, _ = pack_sections([title, *(lines or [empty])], budget)
        blocks.extend(packed)

    part(
        message("slack.home.mine"),
        [summary_line(i) for i in view.mine],
        message("slack.home.none"),
    )
    part(
        message("slack.home.awaiting"),
        [summary_line(i) for i in view.awaiting],
        message("slack.home.none"),
    )
    part(
        message("slack.home.scheduled", days=view.days),
        [
            message(
                "slack.home.scheduled_line",
                at=short_when(s.due_at),
                account=s.account_id,
                draft=s.draft_id,
                excerpt=mrkdwn(s.excerpt),
                state=s.state_label,
                emergency=message("slack.home.emergency") if s.emergency else "",
            )
            for s in view.scheduled
        ],
        message("slack.home.none"),
    )
    if view.incidents:
        part(
            message("slack.home.incidents"),
            [
                message(
                    "slack.home.incident_line",
                    id=i.id,
                    kind=i.kind_label,
                    title=mrkdwn(_excerpt(i.title, 120)),
                    account=mrkdwn(i.account_id or "-"),
                    at=short_when(i.created_at),
                    state=i.state_label,
                    link=message("slack.home.incident_link", url=i.link) if i.link else "",
                )
                for i in view.incidents
            ],
            message("slack.home.none"),
        )
    if view.blind:
        part(
            message("slack.home.blind"),
            [
                message(
                    "slack.home.blind_line",
                    account=mrkdwn(b.account_id),
                    since=short_when(b.since),
                    polls=b.failed_polls,
                    reason=mrkdwn(_excerpt(b.error or "-", 300)),
                )
                for b in view.blind
            ],
            message("slack.home.none"),
        )
    blocks.append(context(message("slack.home.updated", at=when(view.now))))
    return {"type": "home", "callback_id": ids.VIEW_HOME, "blocks": fit_view(blocks)}
