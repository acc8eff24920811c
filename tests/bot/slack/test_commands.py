"""/postgate and the App Home."""

from __future__ import annotations

from datetime import timedelta

from bot.chat.text import short_when
from bot.slack import ids
from storage.tables import Incident, MonitorState
from tests.bot.slack.harness import (
    ALERTS,
    CLEAN,
    ITO,
    KOBAYASHI,
    SATO,
    STRANGER,
    TAKAHASHI,
    SlackHarness,
    blocks_text,
    dm,
)
from tests.bot.slack.test_flow import approve, draft, ready_for_approval


def responses(slack: SlackHarness) -> list[str]:
    return [blocks_text(r.get("blocks") or []) or str(r.get("text")) for r in slack.fake.responses]


async def test_help_and_unknown_subcommands_answer_with_help(slack: SlackHarness) -> None:
    for text in ("", "help", "ヘルプ", "publish now please"):
        reply = await slack.command(TAKAHASHI, text)
        assert reply.status == 200
        body = reply.json()
        assert body["response_type"] == "ephemeral"
        shown = blocks_text(body["blocks"])
        assert "postgate の使い方" in shown
        assert "/postgate draft" in shown
        assert "/postgate pending" in shown
    await slack.settle()
    assert slack.fake.responses == []


async def test_status_mine_and_pending(slack: SlackHarness) -> None:
    await ready_for_approval(slack)
    for user, text in (
        (TAKAHASHI, "status 1"),
        (TAKAHASHI, "mine"),
        (SATO, "pending"),
        (ITO, "pending"),
    ):
        reply = await slack.command(user, text)
        assert (reply.status, reply.body) == (200, "")
        await slack.settle()
    status, mine, pending_chief, pending_peer = responses(slack)
    assert "投稿案 #1（第1版）" in status
    assert "承認待ち" in status
    assert "*あなたの投稿案*" in mine
    assert "#1 承認待ち" in mine
    assert "#1 承認待ち" in pending_chief
    assert "ありません。" in pending_peer  # already peer-checked by 伊藤
    assert all(r.get("response_type") == "ephemeral" for r in slack.fake.responses)


async def test_an_unknown_user_gets_an_explanation_from_the_command(slack: SlackHarness) -> None:
    await slack.command(STRANGER, "mine")
    await slack.settle()
    [told] = slack.ephemerals(STRANGER)
    assert "postgate に登録されていないユーザーです" in told


async def test_pause_and_resume_from_slack(slack: SlackHarness) -> None:
    await ready_for_approval(slack)
    [card] = slack.fake.messages(dm(SATO))
    await slack.command(SATO, "pause midori-x 乗っ取りの疑いのため")
    await slack.settle()
    [paused] = responses(slack)
    assert "midori-x" in paused
    assert "乗っ取りの疑いのため" in paused
    [alert] = slack.fake.messages(ALERTS)
    assert "佐藤 恵子 さんが" in alert.text
    assert "緊急停止しました" in alert.text

    await approve(slack, card)
    states = {p.account_id: p.state for p in slack.publications()}
    assert states == {"midori-x": "held", "midori-facebook": "pending"}

    await slack.command(KOBAYASHI, "resume midori-x")  # not allowed to resume it
    await slack.settle()
    assert "緊急停止・再開ができるのは" in slack.ephemerals(KOBAYASHI)[0]
    await slack.command(SATO, "resume midori-x")
    await slack.settle()
    assert "再開しました" in responses(slack)[-1]
    assert {p.account_id: p.state for p in slack.publications()}["midori-x"] == "pending"
    assert len(slack.fake.messages(ALERTS)) == 2


async def test_a_pause_needs_a_reason(slack: SlackHarness) -> None:
    await slack.command(SATO, "pause")
    await slack.settle()
    assert "理由を入力してください" in slack.ephemerals(SATO)[0]


async def test_the_home_tab_shows_drafts_approvals_schedule_and_incidents(
    slack: SlackHarness,
) -> None:
    await ready_for_approval(slack)
    with slack.db.session() as session:
        session.add(
            Incident(kind="hijack", account_id="midori-x", title="不審な投稿", created_by="monitor")
        )
    await slack.open_home(SATO)
    await slack.open_home(TAKAHASHI)
    await slack.open_home(STRANGER)
    await slack.settle()
    published = {
        c.params["user_id"]: c.params["view"] for c in slack.fake.calls_to("views.publish")
    }
    chief = blocks_text(published[SATO]["blocks"])
    assert "*あなたの確認・承認待ち*\n• #1 承認待ち" in chief
    assert "*対応中のインシデント*" in chief
    assert "不審な投稿" in chief
    author = blocks_text(published[TAKAHASHI]["blocks"])
    assert "*あなたの投稿案*\n• #1 承認待ち" in author
    assert "*今後14日間の投稿予定*\nありません。" in author
    assert "登録されていません" in blocks_text(published[STRANGER]["blocks"])

    [card] = slack.fake.messages(dm(SATO))
    await approve(
        slack,
        card,
        **{
            ids.BLOCK_DATE: {ids.INPUT: {"type": "datepicker", "selected_date": "2026-11-27"}},
            ids.BLOCK_TIME: {ids.INPUT: {"type": "timepicker", "selected_time": "09:30"}},
        },
    )
    await slack.open_home(TAKAHASHI)
    await slack.settle()
    latest = blocks_text(slack.fake.calls_to("views.publish")[-1].params["view"]["blocks"])
    assert "11月27日(金) 09:30 midori-x #1" in latest


async def test_edit_and_settings_modals_make_new_revisions(slack: SlackHarness) -> None:
    ts = await draft(slack)
    await slack.click(TAKAHASHI, slack.card(ts), ids.EDIT)
    await slack.settle()
    view = slack.last_view(ids.VIEW_EDIT)
    values = {
        ids.BLOCK_TEXT: {ids.INPUT: {"type": "plain_text_input", "value": CLEAN + "\n#みどり市"}},
        ids.BLOCK_MEDIA: {ids.INPUT: {"type": "plain_text_input", "value": None}},
    }
    assert (await slack.submit(TAKAHASHI, view, values)).status == 200
    await slack.settle()
    assert slack.draft().revision == 2
    assert "第2版に更新し" in slack.thread(ts)[-1].text

    await slack.click(TAKAHASHI, slack.card(ts), ids.SETTINGS)
    await slack.settle()
    view = slack.last_view(ids.VIEW_SETTINGS)
    values = {
        ids.BLOCK_ACCOUNTS: {
            ids.INPUT: {"type": "multi_static_select", "selected_options": [{"value": "midori-x"}]}
        },
        ids.BLOCK_DATE: {ids.INPUT: {"type": "datepicker", "selected_date": "2026-11-26"}},
        ids.BLOCK_TIME: {ids.INPUT: {"type": "timepicker", "selected_time": "12:00"}},
        "variant.x": {ids.INPUT: {"type": "plain_text_input", "value": "X向けの短い文面です。"}},
        ids.BLOCK_EMERGENCY: {ids.INPUT: {"type": "checkboxes", "selected_options": []}},
    }
    assert (await slack.submit(TAKAHASHI, view, values)).status == 200
    await slack.settle()
    current = slack.bot.flows.drafts.get(1)
    assert current.revision == 3
    assert [t.account_id for t in current.targets] == ["midori-x"]
    assert current.variants
    assert "X向けの短い文面です。" in current.variants.values()
    assert "2026年11月26日(木) 12:00" in blocks_text(slack.card(ts).blocks)

    # Someone else cannot revise it.
    await slack.click(ITO, slack.card(ts), ids.EDIT)
    await slack.settle()
    view = slack.last_view(ids.VIEW_EDIT)
    await slack.submit(ITO, view, {ids.BLOCK_TEXT: {ids.INPUT: {"value": "書き換え"}}})
    await slack.settle()
    assert "作成者（高橋 結衣）だけができます" in slack.ephemerals(ITO)[0]
    assert slack.draft().revision == 3


async def test_withdraw(slack: SlackHarness) -> None:
    ts = await ready_for_approval(slack)
    [card] = slack.fake.messages(dm(SATO))
    await slack.click(TAKAHASHI, slack.card(ts), ids.WITHDRAW)
    await slack.settle()
    assert slack.draft().state == "withdrawn"
    assert "取り下げました" in slack.thread(ts)[-1].text
    updated = slack.fake.message(dm(SATO), card.ts)
    assert "この承認依頼は終了しました" in blocks_text(updated.blocks)
    assert '"actions"' not in str(updated.blocks).replace("'", '"')


async def test_a_deletion_is_asked_and_approved_from_chat(slack: SlackHarness) -> None:
    from tests.bot.slack.test_flow import published

    await ready_for_approval(slack)
    [card] = slack.fake.messages(dm(SATO))
    await approve(slack, card)
    await published(slack)
    await slack.command(TAKAHASHI, "delete")
    await slack.settle()
    assert "使い方: `delete 投稿ID 理由`" in responses(slack)[-1]

    await slack.command(TAKAHASHI, "delete 1 日付に誤りがありました")
    await slack.settle()
    assert "削除依頼 #1 を受け付けました" in responses(slack)[-1]
    [asked] = [m for m in slack.fake.messages(dm(SATO)) if "削除依頼 #1" in m.text]
    assert "日付に誤りがありました" in asked.text
    assert "delete-approve 1" in asked.text

    await slack.command(TAKAHASHI, "delete-approve 1")  # the requester may not approve it
    await slack.settle()
    assert "削除を依頼した本人は承認・却下できません" in slack.ephemerals(TAKAHASHI)[-1]
    await slack.command(SATO, "delete-approve 1")
    await slack.settle()
    assert "削除依頼 #1:" in responses(slack)[-1]
    assert any("削除依頼 #1:" in m.text for m in slack.fake.messages(dm(TAKAHASHI)))


async def test_review_from_chat_refuses_a_publication_that_needs_none(slack: SlackHarness) -> None:
    from tests.bot.slack.test_flow import published

    await ready_for_approval(slack)
    [card] = slack.fake.messages(dm(SATO))
    await approve(slack, card)
    await published(slack)
    await slack.command(TAKAHASHI, "review 1 なし")
    await slack.settle()
    [told] = slack.ephemerals(TAKAHASHI)[-1:]
    assert "投稿 #1 は「投稿済み」で、要確認ではありません" in told
    assert [p.state for p in slack.publications()] == ["published", "published"]


async def test_the_home_tab_shows_the_accounts_monitoring_cannot_see(slack: SlackHarness) -> None:
    since = slack.clock() - timedelta(minutes=15)
    with slack.db.session() as session:
        session.add(
            MonitorState(
                key="account:midori-x",
                account_id="midori-x",
                watching_since=since - timedelta(days=3),
                last_error="x HTTP 403: client-not-enrolled",
                failed_polls=3,
                blind_since=since,
            )
        )
    await slack.open_home(TAKAHASHI)
    await slack.settle()
    [view] = [c.params["view"] for c in slack.fake.calls_to("views.publish")]
    shown = blocks_text(view["blocks"])
    assert "監視できていません" in shown
    assert f"midori-x: {short_when(since)} から読み取れていません（3回連続）" in shown
    assert "理由: x HTTP 403: client-not-enrolled" in shown

    with slack.db.session() as session:  # seeing again: off the Home tab
        row = session.get(MonitorState, "account:midori-x")
        assert row is not None
        row.blind_since, row.failed_polls = None, 0
        session.add(row)
    await slack.open_home(TAKAHASHI)
    await slack.settle()
    latest = slack.fake.calls_to("views.publish")[-1].params["view"]
    assert "監視できていません" not in blocks_text(latest["blocks"])
