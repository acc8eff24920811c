"""The whole flow through Slack: signed requests in, what Slack received and the database out."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlmodel import select

from bot.slack import ids
from storage.tables import DryRunPost
from tests.bot.slack.harness import (
    APPROVALS,
    CLEAN,
    DRAFTS,
    ITO,
    SATO,
    SUZUKI,
    TAKAHASHI,
    SlackHarness,
    all_ticked,
    blocks_text,
    buttons,
    dm,
)
from tests.fakes.slack import FakeMessage
from workflows.lifecycle import DraftState


async def draft(slack: SlackHarness, text: str = CLEAN, user: str = TAKAHASHI) -> str:
    """Post a message in the drafts channel; return its ts once postgate has answered."""
    ts, reply = await slack.message(user, text)
    assert reply.status == 200
    await slack.settle()
    return ts


async def submit(slack: SlackHarness, ts: str, user: str = TAKAHASHI) -> None:
    reply = await slack.click(user, slack.card(ts), ids.SUBMIT)
    assert reply.status == 200
    await slack.settle()


def peer_request(slack: SlackHarness, ts: str) -> FakeMessage:
    return next(m for m in slack.thread(ts) if ids.PEER_CHECK in buttons(m.blocks))


async def peer_check(slack: SlackHarness, ts: str, user: str = ITO) -> None:
    assert (await slack.click(user, peer_request(slack, ts), ids.PEER_CHECK)).status == 200
    await slack.settle()
    view = slack.last_view(ids.VIEW_PEER_CHECK)
    assert (await slack.submit(user, view, all_ticked(view))).status == 200
    await slack.settle()


async def open_approve(slack: SlackHarness, card: FakeMessage, user: str = SATO) -> dict:
    assert (await slack.click(user, card, ids.APPROVE)).status == 200
    await slack.settle()
    return slack.last_view(ids.VIEW_APPROVE)


async def approve(slack: SlackHarness, card: FakeMessage, user: str = SATO, **extra: dict) -> None:
    view = await open_approve(slack, card, user)
    reply = await slack.submit(user, view, {**all_ticked(view), **extra})
    assert reply.status == 200, reply.body
    assert reply.body == ""  # the modal closes
    await slack.settle()


async def ready_for_approval(slack: SlackHarness, text: str = CLEAN) -> str:
    ts = await draft(slack, text)
    await submit(slack, ts)
    await peer_check(slack, ts)
    return ts


async def published(slack: SlackHarness, draft_id: int = 1, timeout: float = 60) -> None:
    """Tick the outbox until the draft's posts are out (a generous deadline, polled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await slack.outbox.run_once()
        if all(p.state == "published" for p in slack.publications(draft_id)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError([p.state for p in slack.publications(draft_id)])


async def test_draft_to_publication_end_to_end(slack: SlackHarness) -> None:
    ts = await draft(slack)

    # The findings come back in the thread, with the X length, the targets and four buttons.
    [card] = slack.thread(ts)
    shown = blocks_text(card.blocks)
    assert "投稿案 #1（第1版）" in shown
    assert "自動チェックで指摘はありませんでした" in shown
    assert "Xの文字数" in shown
    assert "みどり市（@midori_city・X）" in shown
    assert "@midori.city・Facebook" in shown
    assert buttons(card.blocks) == {
        ids.SUBMIT: "1:1",
        ids.EDIT: "1:1",
        ids.SETTINGS: "1:1",
        ids.WITHDRAW: "1:1",
    }
    assert slack.draft().state == DraftState.DRAFT
    assert {(m.purpose, m.ts) for m in slack.chat_messages()} == {
        ("source", ts),
        ("draft", card.ts),
    }

    # Submit: the thread asks the colleagues for a peer check.
    await submit(slack, ts)
    assert slack.draft().state == DraftState.IN_REVIEW
    request = peer_request(slack, ts)
    assert f"<@{ITO}>" in request.text
    assert f"<@{TAKAHASHI}>" not in request.text
    assert "ダブルチェック待ち" in blocks_text(slack.card(ts).blocks)

    # A colleague checks: the card goes to the chief by DM and to the approvals channel.
    await peer_check(slack, ts)
    assert slack.draft().state == DraftState.AWAITING_APPROVAL
    [dm_card] = slack.fake.messages(dm(SATO))
    [channel_card] = slack.fake.messages(APPROVALS)
    for copy in (dm_card, channel_card):
        text = blocks_text(copy.blocks)
        assert "承認依頼: 投稿案 #1（第1版）" in text
        assert "高橋 結衣" in text
        assert "承認後すぐ" in text
        assert "日付・曜日・住所・電話番号" in text
        assert "人権に係る表現" in text
        assert CLEAN in text  # the per-platform preview
        assert "伊藤 誠 がダブルチェックしました" in text
        assert "https://midori.slack.com/archives/C0DRAFTS01/p" in text  # the thread link
        assert buttons(copy.blocks) == {
            ids.APPROVE: "1:1",
            ids.REQUEST_CHANGES: "1:1",
            ids.REJECT: "1:1",
        }
    assert not slack.fake.messages(dm(SUZUKI))  # the deputy only on escalation
    assert any("承認を依頼しました: 佐藤 恵子" in m.text for m in slack.thread(ts))
    closed = [m for m in slack.thread(ts) if "ダブルチェックの依頼は終了しました" in m.text]
    assert len(closed) == 1
    assert not buttons(closed[0].blocks)

    # The chief approves from the DM: every copy of the card shows the decision, no buttons.
    await approve(slack, dm_card)
    assert slack.draft().state == DraftState.APPROVED
    for copy in (
        slack.fake.message(dm(SATO), dm_card.ts),
        slack.fake.message(APPROVALS, channel_card.ts),
    ):
        assert copy.edits >= 1
        assert not buttons(copy.blocks)
        assert "佐藤 恵子 が承認しました（シティ・プロモーション課・11月24日(火) 10:00）" in (
            blocks_text(copy.blocks)
        )
    approved_note = [m for m in slack.thread(ts) if "承認されました" in m.text]
    assert len(approved_note) == 1
    assert f"<@{TAKAHASHI}>" in approved_note[0].text
    assert "まもなく投稿します" in approved_note[0].text
    [review_1, review_2] = slack.reviews()
    assert (review_1.kind, review_1.reviewer_id) == ("peer", "ito.makoto")
    assert (review_2.kind, review_2.reviewer_id, review_2.decision) == (
        "approval",
        "sato.keiko",
        "approved",
    )

    # Published through the dry-run client; the permalinks come back in the thread.
    await published(slack)
    assert slack.draft().state == DraftState.PUBLISHED
    await slack.hub.tick()
    [result] = [m for m in slack.thread(ts) if "投稿しました" in m.text]
    with slack.db.session(read_only=True) as session:
        posts = session.exec(select(DryRunPost)).all()
    assert len(posts) == 2
    for post in posts:
        assert post.permalink in result.text
    assert f"<@{TAKAHASHI}>" in result.text
    assert "投稿済み" in blocks_text(slack.card(ts).blocks)
    await slack.hub.tick()  # reported once only
    assert len([m for m in slack.thread(ts) if "投稿しました" in m.text]) == 1


async def test_scheduled_approval_is_published_at_its_time(slack: SlackHarness) -> None:
    ts = await ready_for_approval(slack)
    [card] = slack.fake.messages(dm(SATO))
    await approve(
        slack,
        card,
        **{
            ids.BLOCK_DATE: {ids.INPUT: {"type": "datepicker", "selected_date": "2026-11-25"}},
            ids.BLOCK_TIME: {ids.INPUT: {"type": "timepicker", "selected_time": "10:00"}},
        },
    )
    due = slack.clock.now + timedelta(days=1)
    assert [p.due_at for p in slack.publications()] == [due, due]
    assert any("2026年11月25日(水) 10:00 に投稿します" in m.text for m in slack.thread(ts))

    await slack.outbox.run_once()
    assert {p.state for p in slack.publications()} == {"pending"}
    slack.clock.now = due
    await published(slack)
    await slack.hub.tick()
    assert any("投稿しました" in m.text for m in slack.thread(ts))


async def test_request_changes_then_a_revision_is_approved(slack: SlackHarness) -> None:
    ts = await ready_for_approval(slack)
    [card] = slack.fake.messages(dm(SATO))
    assert (await slack.click(SATO, card, ids.REQUEST_CHANGES)).status == 200
    await slack.settle()
    view = slack.last_view(ids.VIEW_REQUEST_CHANGES)
    reply = await slack.submit(SATO, view, all_ticked(view, reason="開始時刻を確認してください"))
    assert reply.status == 200
    await slack.settle()
    assert slack.draft().state == DraftState.NEEDS_CHANGES
    note = next(m for m in slack.thread(ts) if "差し戻されました" in m.text)
    assert "開始時刻を確認してください" in note.text
    assert f"<@{TAKAHASHI}>" in note.text
    sent_back = blocks_text(slack.fake.message(dm(SATO), card.ts).blocks)
    assert "佐藤 恵子 が差し戻しました" in sent_back
    assert not buttons(slack.fake.message(dm(SATO), card.ts).blocks)

    # The drafter edits the message in Slack: revision 2, checked again.
    fixed = CLEAN.replace("10時から", "10時30分から")
    assert (await slack.edit(TAKAHASHI, ts, fixed)).status == 200
    await slack.settle()
    assert (slack.draft().revision, slack.draft().state) == (2, DraftState.DRAFT)
    assert "投稿案 #1（第2版）" in blocks_text(slack.card(ts).blocks)
    assert buttons(slack.card(ts).blocks)[ids.SUBMIT] == "1:2"
    old = blocks_text(slack.fake.message(dm(SATO), card.ts).blocks)
    assert "第1版への承認依頼です" in old

    await submit(slack, ts)
    await peer_check(slack, ts)
    cards = slack.fake.messages(dm(SATO))
    assert len(cards) == 2
    assert buttons(cards[1].blocks)[ids.APPROVE] == "1:2"
    await approve(slack, cards[1])
    assert (slack.draft().state, slack.draft().revision) == (DraftState.APPROVED, 2)
    [publication, _] = slack.publications()
    assert publication.revision == 2
    assert not buttons(slack.fake.message(dm(SATO), cards[1].ts).blocks)


async def test_a_new_draft_from_the_command_gets_its_own_thread(slack: SlackHarness) -> None:
    reply = await slack.command(TAKAHASHI, "draft", channel=dm(TAKAHASHI))
    assert reply.status == 200
    await slack.settle()
    view = slack.last_view(ids.VIEW_NEW_DRAFT)
    values = all_ticked(view, **{ids.BLOCK_TEXT: CLEAN})
    values[ids.BLOCK_ACCOUNTS] = {
        ids.INPUT: {
            "type": "multi_static_select",
            "selected_options": [{"value": "midori-line"}],
        }
    }
    values.pop(ids.BLOCK_EMERGENCY, None)
    assert (await slack.submit(TAKAHASHI, view, values)).status == 200
    await slack.settle()
    [row] = slack.drafts()
    assert row.source == "slack"
    [announcement] = [m for m in slack.fake.messages(DRAFTS) if m.thread_ts is None]
    assert "投稿案 #1 を作成しました" in announcement.text
    [card] = slack.thread(announcement.ts)
    assert "LINE" in blocks_text(card.blocks)
