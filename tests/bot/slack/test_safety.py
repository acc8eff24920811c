"""Forged and replayed requests, wrong people, outdated cards: one decision, the rest told why."""

from __future__ import annotations

import asyncio
import json
import time

from bot.slack import ids
from tests.bot.slack.harness import (
    APPROVALS,
    CLEAN,
    ITO,
    KOBAYASHI,
    SATO,
    STRANGER,
    SUZUKI,
    TAKAHASHI,
    SlackHarness,
    all_ticked,
    buttons,
    dm,
    sign,
)
from tests.bot.slack.test_flow import draft, open_approve, ready_for_approval
from workflows.lifecycle import DraftState


def nothing_stored(slack: SlackHarness) -> None:
    assert slack.drafts() == []
    assert slack.chat_messages() == []
    assert [e.action for e in slack.audit() if not e.action.startswith("config.")] == []
    assert not [c for c in slack.fake.calls if c.method != "auth.test"]


async def test_a_forged_signature_is_refused_and_nothing_stored(slack: SlackHarness) -> None:
    body = json.dumps(
        slack.event_body(
            {
                "type": "message",
                "channel": "C0DRAFTS01",
                "user": TAKAHASHI,
                "text": CLEAN,
                "ts": "1.000001",
            }
        )
    )
    forged = sign(body.encode(), str(int(time.time())), secret="not-the-signing-secret")
    reply = await slack.post(body.encode(), "application/json", signature=forged)
    assert reply.status == 401
    await slack.settle()
    nothing_stored(slack)


async def test_an_old_or_unreadable_timestamp_is_refused(slack: SlackHarness) -> None:
    body = json.dumps(
        slack.event_body(
            {
                "type": "message",
                "channel": "C0DRAFTS01",
                "user": TAKAHASHI,
                "text": CLEAN,
                "ts": "1.000001",
            }
        )
    )
    old = str(int(time.time()) - 301)
    reply = await slack.post(
        body.encode(), "application/json", timestamp=old, signature=sign(body.encode(), old)
    )
    assert reply.status == 401
    garbage = "yesterday"
    reply = await slack.post(
        body.encode(), "application/json", timestamp=garbage, signature=sign(body.encode(), garbage)
    )
    assert 400 <= reply.status < 500
    await slack.settle()
    nothing_stored(slack)


async def test_a_replayed_event_makes_one_draft(slack: SlackHarness) -> None:
    ts = slack.next_ts()
    event = {"type": "message", "channel": "C0DRAFTS01", "user": TAKAHASHI, "text": CLEAN, "ts": ts}
    body = slack.event_body(event, event_id="Ev0REPLAYED")
    first, second = await asyncio.gather(slack.post_json(body), slack.post_json(body))
    assert (first.status, second.status) == (200, 200)
    await slack.settle()
    assert len(slack.drafts()) == 1
    assert len(slack.thread(ts)) == 1


async def test_an_unknown_slack_user_is_told_and_nothing_changes(slack: SlackHarness) -> None:
    await slack.message(STRANGER, CLEAN)
    await slack.settle()
    assert slack.drafts() == []
    [told] = slack.ephemerals(STRANGER)
    assert "postgate に登録されていないユーザーです" in told
    [refused] = slack.audit("draft.refused")
    assert refused.details["refusal"] == "refusal.unknown_member"


async def test_the_wrong_approver_is_refused_audited_and_nothing_changes(
    slack: SlackHarness,
) -> None:
    await ready_for_approval(slack)
    [card] = slack.fake.messages(APPROVALS)
    opened = len(slack.fake.views)
    reply = await slack.click(KOBAYASHI, card, ids.APPROVE)  # refused at the click
    assert reply.status == 200
    await slack.settle()
    assert len(slack.fake.views) == opened  # no form to fill in for nothing
    assert slack.draft().state == DraftState.AWAITING_APPROVAL
    assert [r.kind for r in slack.reviews()] == ["peer"]
    [told] = slack.ephemerals(KOBAYASHI)
    assert "承認権限がありません" in told
    assert "佐藤 恵子" in told
    assert slack.fake.calls_to("chat.postEphemeral")[-1].params["channel"] == APPROVALS
    [refused] = slack.audit("draft.refused")
    assert (refused.actor, refused.details["refusal"]) == (
        "kobayashi.takeshi",
        "refusal.not_an_approver",
    )
    assert buttons(slack.fake.message(APPROVALS, card.ts).blocks)  # still open for the chief


async def test_the_author_cannot_approve_their_own_draft(slack: SlackHarness) -> None:
    await ready_for_approval(slack)
    [card] = slack.fake.messages(APPROVALS)
    await slack.click(TAKAHASHI, card, ids.APPROVE)
    await slack.settle()
    assert slack.draft().state == DraftState.AWAITING_APPROVAL
    [told] = slack.ephemerals(TAKAHASHI)
    assert "この投稿案の作成者は承認できません" in told
    assert slack.audit("draft.refused")[-1].details["refusal"] == "refusal.author_cannot_approve"


async def test_the_same_signed_submission_twice_makes_one_decision(slack: SlackHarness) -> None:
    await ready_for_approval(slack)
    [card] = slack.fake.messages(dm(SATO))
    view = await open_approve(slack, card)
    body = json.dumps(slack.submission_body(SATO, view, all_ticked(view)))
    first, second = await asyncio.gather(
        slack.post_form({"payload": body}), slack.post_form({"payload": body})
    )
    assert (first.status, second.status) == (200, 200)
    await slack.settle()
    assert slack.draft().state == DraftState.APPROVED
    assert [r.kind for r in slack.reviews()] == ["peer", "approval"]
    assert slack.ephemerals(SATO) == []  # a replay is the same click: nothing to tell
    assert len(slack.audit("draft.approved")) == 1


async def test_two_approvers_at_once_one_decision_the_other_told(slack: SlackHarness) -> None:
    await ready_for_approval(slack)
    [card] = slack.fake.messages(APPROVALS)
    chief = await open_approve(slack, card, SATO)
    deputy = await open_approve(slack, card, SUZUKI)
    replies = await asyncio.gather(
        slack.submit(SATO, chief, all_ticked(chief)),
        slack.submit(SUZUKI, deputy, all_ticked(deputy)),
    )
    assert [r.status for r in replies] == [200, 200]
    await slack.settle()
    approvals = [r for r in slack.reviews() if r.kind == "approval"]
    assert len(approvals) == 1
    loser = SUZUKI if approvals[0].reviewer_id == "sato.keiko" else SATO
    [told] = slack.ephemerals(loser)
    assert "既に承認済みです" in told


async def test_a_click_on_an_outdated_card_is_refused(slack: SlackHarness) -> None:
    ts = await ready_for_approval(slack)
    [card] = slack.fake.messages(dm(SATO))
    view = await open_approve(slack, card)  # opened on revision 1 ...
    await slack.edit(TAKAHASHI, ts, CLEAN.replace("無料", "無料（先着30名）"))  # ... then edited
    await slack.settle()
    assert slack.draft().revision == 2
    await slack.submit(SATO, view, all_ticked(view))
    await slack.settle()
    [told] = slack.ephemerals(SATO)
    assert "この版は既に更新されています（表示中: 第1版、最新: 第2版）" in told
    assert [r.kind for r in slack.reviews()] == ["peer"]
    assert not buttons(slack.fake.message(dm(SATO), card.ts).blocks)
    assert slack.audit("draft.refused")[-1].details["refusal"] == "refusal.stale_revision"


async def test_a_draft_with_an_error_cannot_be_submitted(slack: SlackHarness) -> None:
    ts = await draft(slack, "12月5日(金)に中央図書館でおはなし会を開きます。")
    card = slack.card(ts)
    assert ":no_entry: *エラー" in json.dumps(card.blocks, ensure_ascii=False)
    assert "12月5日(金)" in json.dumps(card.blocks, ensure_ascii=False)  # the quote
    assert ids.SUBMIT not in buttons(card.blocks)  # no button to press
    # A click from an older copy of the card is refused all the same.
    assert (await slack.click(TAKAHASHI, card, ids.SUBMIT, "1:1")).status == 200
    await slack.settle()
    assert slack.draft().state == DraftState.DRAFT
    [told] = slack.ephemerals(TAKAHASHI)
    assert "エラーが1件あるため承認申請できません" in told
    assert not slack.fake.messages(dm(SATO))


async def test_an_incomplete_checklist_is_shown_in_the_modal(slack: SlackHarness) -> None:
    await ready_for_approval(slack)
    [card] = slack.fake.messages(dm(SATO))
    view = await open_approve(slack, card)
    values = all_ticked(view)
    values[ids.BLOCK_CHECKLIST][ids.INPUT]["selected_options"] = values[ids.BLOCK_CHECKLIST][
        ids.INPUT
    ]["selected_options"][:2]
    reply = await slack.submit(SATO, view, values)
    assert reply.status == 200
    assert reply.json() == {
        "response_action": "errors",
        "errors": {ids.BLOCK_CHECKLIST: "すべてのチェック項目を確認してください。"},
    }
    await slack.settle()
    assert slack.draft().state == DraftState.AWAITING_APPROVAL


async def test_who_may_not_approve_is_refused_at_the_click_with_the_reason(
    slack: SlackHarness,
) -> None:
    await ready_for_approval(slack)
    [card] = slack.fake.messages(APPROVALS)
    opened = len(slack.fake.views)
    for user, reason in (
        (TAKAHASHI, "この投稿案の作成者は承認できません"),
        (KOBAYASHI, "承認権限がありません"),
        (ITO, "佐藤 恵子、鈴木 博"),  # who may, named
    ):
        assert (await slack.click(user, card, ids.APPROVE)).status == 200
        await slack.settle()
        [told] = slack.ephemerals(user)[-1:]
        assert reason in told, told
    assert len(slack.fake.views) == opened  # no approval form was opened for any of them
    assert slack.draft().state == DraftState.AWAITING_APPROVAL
