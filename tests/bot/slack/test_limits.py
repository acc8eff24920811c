"""Slack's limits: mentions in drafts, Block Kit sizes, the 3-second acknowledgement, 429s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bot.chat.forms import DraftRef
from bot.slack import ids, render
from bot.slack.parse import ModalMeta
from bot.slack.render import text_size
from bot.slack.text import SECTION_TEXT, slack_length
from handlers.drafts import Actor, NewDraft
from handlers.views import DraftView
from tests.bot.slack.harness import (
    CLEAN,
    ITO,
    SATO,
    TAKAHASHI,
    SlackHarness,
    all_ticked,
    blocks_text,
    dm,
    iter_strings,
)
from tests.bot.slack.test_flow import draft, open_approve, ready_for_approval
from tests.fakes.slack import FakeMessage

ZWSP = "\u200b"


def within_block_kit_limits(blocks: list[dict[str, Any]], *, max_blocks: int = 50) -> None:
    assert len(blocks) <= max_blocks
    assert text_size(blocks) <= 11_000  # Slack refuses ~13,000 (msg_blocks_too_long)
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            assert slack_length(text["text"]) <= SECTION_TEXT
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert len(element["value"]) <= 2000
            if isinstance(element.get("text"), str):
                assert slack_length(element["text"]) <= SECTION_TEXT


def no_mass_mention(strings: list[str]) -> None:
    for s in strings:
        for word in ("<!here>", "<!channel>", "<!everyone>", "@here", "@channel", "@everyone"):
            assert word not in s, (word, s[:200])


async def test_mentions_in_a_draft_are_neutralised_in_every_preview(slack: SlackHarness) -> None:
    text = "<!channel> <!here|here> <@U0SATOKEI> さん、@everyone へ。" + CLEAN
    ts = await draft(slack, text)
    # The draft stores what will be published: plain text, the member's name.
    assert slack.drafts()[0].id == 1
    view = slack.bot.flows.drafts.get(1)
    assert view.text.startswith("@channel @here @佐藤 恵子 さん、@everyone へ。")
    card = slack.card(ts)
    no_mass_mention([*iter_strings(card.blocks), card.text])
    assert f"@{ZWSP}channel @{ZWSP}here" in blocks_text(card.blocks)
    assert "<@U0SATOKEI>" not in str(card.blocks)

    # Through to the approval card and the modals.
    ts_sent = slack.card(ts)
    assert ts_sent
    await slack.click(TAKAHASHI, slack.card(ts), ids.SUBMIT)
    await slack.settle()
    peer = next(m for m in slack.thread(ts) if ids.PEER_CHECK in str(m.blocks))
    await slack.click(ITO, peer, ids.PEER_CHECK)
    await slack.settle()
    view_peer = slack.last_view(ids.VIEW_PEER_CHECK)
    no_mass_mention(list(iter_strings(view_peer["blocks"])))
    await slack.submit(ITO, view_peer, all_ticked(view_peer))
    await slack.settle()
    [card_dm] = slack.fake.messages(dm(SATO))
    no_mass_mention([*iter_strings(card_dm.blocks), card_dm.text])
    approve_view = await open_approve(slack, card_dm)
    no_mass_mention(list(iter_strings(approve_view["blocks"])))
    everything = [s for m in slack.fake.all_messages() for s in (m.text, *iter_strings(m.blocks))]
    no_mass_mention(everything)


async def test_a_long_draft_is_split_within_block_limits(slack: SlackHarness) -> None:
    line = "【みどり市】市内の公園で清掃活動を行います。詳しくは市のウェブサイトをご覧ください。\n"
    text = line * 200  # about 8,600 characters
    ts = await draft(slack, text)
    card = slack.card(ts)
    within_block_kit_limits(card.blocks)
    pieces = [
        b["text"]["text"]
        for b in card.blocks
        if b.get("type") == "section" and b["text"]["type"] == "plain_text"
    ]
    assert len(pieces) >= 3
    assert "".join(pieces) == text  # split at line ends, nothing lost


async def test_a_very_long_draft_is_cut_with_a_note_never_beyond_limits(
    slack: SlackHarness,
) -> None:
    text = ("長い本文です。" * 400 + "\n") * 24  # 67,200 characters
    ts = await draft(slack, text)
    card = slack.card(ts)
    within_block_kit_limits(card.blocks)
    assert "残り約" in blocks_text(card.blocks)
    assert "表示しきれないため省略しました" in blocks_text(card.blocks)
    assert ids.EDIT in buttons_of(card)
    assert ids.SUBMIT not in buttons_of(card)  # too long for every platform: an error
    # The edit modal cannot hold it (3,000 characters): it says so instead.
    await slack.click(TAKAHASHI, card, ids.EDIT)
    await slack.settle()
    view = slack.last_view(ids.VIEW_EDIT)
    assert "元のメッセージを編集してください" in blocks_text(view["blocks"])
    assert ids.BLOCK_TEXT not in {b.get("block_id") for b in view["blocks"]}


def buttons_of(message: FakeMessage) -> list[str]:
    return [
        e["action_id"] for b in message.blocks if b.get("type") == "actions" for e in b["elements"]
    ]


async def test_cards_and_modals_of_a_long_draft_with_many_warnings_fit(
    slack: SlackHarness,
) -> None:
    """Renderers straight from view models: a long draft with many warnings still gives an
    approval card and an approve modal within Slack's limits, with one tick per warning."""
    drafts = slack.bot.flows.drafts

    def with_warnings(lines: int) -> DraftView:
        text = "\n".join(
            f"{i}. 本日は晴天なり。詳しくは http://example.com/{i} をご覧ください。"
            for i in range(lines)
        )
        created = drafts.create(
            Actor("slack", TAKAHASHI),
            NewDraft(text, targets=("midori-facebook", "midori-line"), source="slack"),
        )
        return created.draft

    view = with_warnings(12)
    assert 10 < len(view.warnings) <= 30
    card = render.approval_card(view, card_revision=view.revision)
    within_block_kit_limits(card.blocks)
    modal = render.approve_modal(view, DraftRef(view.id, view.revision), ModalMeta(view.id, 1))
    within_block_kit_limits(modal["blocks"], max_blocks=100)
    inputs = {b["block_id"] for b in modal["blocks"] if b["type"] == "input"}
    assert ids.BLOCK_CHECKLIST in inputs
    assert ids.BLOCK_DATE in inputs
    acknowledged = [
        o["value"]
        for b in modal["blocks"]
        if b.get("block_id", "").startswith(ids.BLOCK_WARNINGS_PREFIX)
        for o in b["element"]["options"]
    ]
    assert sorted(acknowledged) == sorted(w.warning_id for w in view.warnings)
    for block in modal["blocks"]:
        if block["type"] == "input" and block["element"]["type"] == "checkboxes":
            assert len(block["element"]["options"]) <= 10
            for option in block["element"]["options"]:
                assert slack_length(option["text"]["text"]) <= 75

    huge = with_warnings(800)  # about 45,000 characters and hundreds of warnings
    card = render.approval_card(huge, card_revision=huge.revision)
    within_block_kit_limits(card.blocks)
    assert "表示しきれないため省略しました" in blocks_text(card.blocks)
    assert "件の指摘は省略しました" in blocks_text(card.blocks)
    modal = render.approve_modal(huge, DraftRef(huge.id, huge.revision), ModalMeta(huge.id, 1))
    within_block_kit_limits(modal["blocks"], max_blocks=100)
    assert "submit" not in modal
    assert "一件ずつ確認して承認することができません" in blocks_text(modal["blocks"])


async def until(condition: Callable[[], bool], limit: float = 60) -> None:
    """Wait for ``condition``, polling, up to a generous ``limit`` of seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_the_ack_comes_before_the_slow_work_after_it(slack: SlackHarness) -> None:
    await ready_for_approval(slack)
    [card] = slack.fake.messages(dm(SATO))
    views = len(slack.fake.views)
    held = slack.fake.hold_next(path="/api/views[.]open")
    reply = await slack.click(SATO, card, ids.APPROVE)
    assert reply.status == 200  # acknowledged while Slack still holds views.open
    assert len(slack.fake.views) == views
    held.set()
    await slack.settle()
    assert slack.last_view(ids.VIEW_APPROVE)

    # A drafter's message: acknowledged at once, the draft stored before Slack is answered.
    held = slack.fake.hold_next(path="/api/chat[.]postMessage")
    ts, reply = await slack.message(TAKAHASHI, CLEAN)
    assert reply.status == 200
    await until(lambda: len(slack.drafts()) == 2)  # stored while Slack holds the card back
    assert slack.thread(ts) == []  # the card is still on its way
    held.set()
    await slack.settle()
    assert len(slack.thread(ts)) == 1


async def test_a_rate_limited_post_is_retried_after_retry_after_once(slack: SlackHarness) -> None:
    slack.fake.rate_limit_next("chat.postMessage", retry_after=1)
    started = time.monotonic()
    ts, reply = await slack.message(TAKAHASHI, CLEAN)
    assert reply.status == 200
    await slack.settle()
    assert time.monotonic() - started >= 1.0
    assert len(slack.fake.requests_for("chat.postMessage")) == 2  # the 429, then the retry
    assert len(slack.thread(ts)) == 1  # exactly one card
    assert len([m for m in slack.chat_messages() if m.purpose == "draft"]) == 1
