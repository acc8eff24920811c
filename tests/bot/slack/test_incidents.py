"""Incident alerts through Slack: the real ``postgate serve`` app with its monitor watching the
fake X (midori-x has credentials), the fake Slack, signed clicks and modals, on SQLite and
PostgreSQL. What people see (cards, DMs, threads, ephemerals) and what the database keeps."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.app import MONITOR_KEY
from bot.config import AppConfig
from bot.slack import ids, incident_render
from handlers.incidents import HistoryLine
from handlers.monitors import Monitor
from storage.engine import Database
from storage.tables import Incident
from tests.bot.slack.harness import (
    ALERTS,
    DRAFTS,
    ITO,
    KOBAYASHI,
    SATO,
    STRANGER,
    SUZUKI,
    TAKAHASHI,
    SlackHarness,
    blocks_text,
    dm,
    iter_strings,
    slack_env,
)
from tests.bot.slack.test_flow import approve, peer_check, ready_for_approval, submit
from tests.bot.slack.test_limits import within_block_kit_limits
from tests.fakes.slack import FakeMessage, FakeSlack
from tests.fakes.x import FakeX
from tests.handlers.conftest import FixedClock
from workflows.incidents.playbook import IncidentEvent

HIJACK_TEXT = "【当選】みどり市から10万円をプレゼント！今すぐこちらから受け取ってください"
YAMAMOTO = "U0YAMAJUN"  # 環境推進課 chief: a member, but no contact for midori-x's incidents
# Who hears of an incident on midori-x by DM: the owning section's chief and deputy, every
# member of the City Promotion Division, the Digital Promotion Division.
RECIPIENTS = (SATO, SUZUKI, TAKAHASHI, ITO, KOBAYASHI)
INTERVAL = timedelta(minutes=5)  # app.yaml monitoring.interval_minutes


def x_env(config: AppConfig, fake: FakeX) -> dict[str, str]:
    """midori-x's credentials (the fake's) and the X API on the fake: the monitor watches it."""
    [account] = [a for a in config.accounts if a.id == "midori-x"]
    given = fake.credentials()
    env = {variable: given[key] for key, variable in account.credentials.items()}
    return {
        **env,
        "POSTGATE_X_API_URL": fake.url,
        "POSTGATE_X_UPLOAD_URL": fake.url,
        "POSTGATE_SNS_TIMEOUT": "2",
    }


class World(SlackHarness):
    """The Slack harness with the fake X that midori-x's monitor reads."""

    def __init__(
        self,
        fake: FakeSlack,
        fake_x: FakeX,
        db: Database,
        config: AppConfig,
        clock: FixedClock,
    ) -> None:
        fake_x.clock = clock  # the fake keeps postgate's (injected) time
        super().__init__(fake, db, config, clock, slack_env(fake, **x_env(config, fake_x)))
        self.x = fake_x


async def start(
    fake_slack: FakeSlack, fake_x: FakeX, db: Database, config: AppConfig, clock: FixedClock
) -> World:
    harness = World(fake_slack, fake_x, db, config, clock)
    await harness.start()
    return harness


@pytest.fixture
async def world(
    fake_slack: FakeSlack, fake_x: FakeX, database: Database, config: AppConfig, clock: FixedClock
) -> AsyncIterator[World]:
    harness = await start(fake_slack, fake_x, database, config, clock)
    try:
        yield harness
    finally:
        await harness.close()


# ---------------------------------------------------------------- helpers


def monitor(slack: SlackHarness) -> Monitor:
    return slack.app[MONITOR_KEY]


async def tick(slack: SlackHarness, advance: timedelta = INTERVAL) -> None:
    """The monitor's next poll (the clock moved on by an interval)."""
    slack.clock.now += advance
    await monitor(slack).tick()
    await slack.settle()


async def baseline(slack: SlackHarness) -> None:
    """The first poll: the profile baseline; nothing alerts."""
    await monitor(slack).tick()
    await slack.settle()
    assert alert_cards(slack) == []


def alert_cards(slack: SlackHarness) -> list[FakeMessage]:
    """The cards in the alerts channel (not the replies in their threads)."""
    return [m for m in slack.fake.messages(ALERTS) if m.thread_ts is None]


def alert_dms(slack: SlackHarness, user: str) -> list[FakeMessage]:
    return [
        m
        for m in slack.fake.messages(dm(user))
        if m.thread_ts is None and "インシデント #" in m.text
    ]


def card_thread(slack: SlackHarness, card: FakeMessage) -> list[str]:
    return [m.text for m in slack.fake.thread(ALERTS, card.ts)]


def controls(message: FakeMessage) -> dict[tuple[str, str], str]:
    """(action_id, value) -> label of every button: in actions blocks and section accessories."""
    found: dict[tuple[str, str], str] = {}
    for block in message.blocks:
        elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button":
                found[(element["action_id"], element["value"])] = element["text"]["text"]
    return found


def step_line(message: FakeMessage, item: str) -> str:
    [block] = [b for b in message.blocks if str(b.get("block_id", "")).endswith(f".step.{item}")]
    return str(block["text"]["text"])


def incidents(db: Database) -> list[Incident]:
    with db.session(read_only=True) as session:
        return list(session.exec(select(Incident).order_by(col(Incident.id))).all())


async def hijack(slack: World, text: str = HIJACK_TEXT) -> tuple[FakeMessage, str]:
    """An unknown post on midori-x, found by the next poll: its card and the post's id."""
    await baseline(slack)
    slack.clock.now += timedelta(minutes=1)
    post_id = slack.x.add_tweet(text)
    await tick(slack)
    [card] = alert_cards(slack)
    return card, post_id


async def click(
    slack: SlackHarness, user: str, message: FakeMessage, action_id: str, value: str
) -> None:
    reply = await slack.click(user, message, action_id, value)
    assert reply.status == 200
    assert reply.body == ""
    await slack.settle()


def current(slack: SlackHarness, message: FakeMessage) -> FakeMessage:
    return slack.fake.message(message.channel, message.ts)


# ---------------------------------------------------------------- what the monitors find


async def test_an_unknown_post_is_one_alert_to_everyone_and_a_dm_to_each_contact(
    world: World,
) -> None:
    card, post_id = await hijack(world)

    assert card.text.startswith("<!channel> ")
    assert card.blocks[1]["text"]["text"].startswith("<!channel> ")  # the mention is rendered
    shown = blocks_text(card.blocks)
    assert "【乗っ取り】インシデント #1" in shown
    assert "postgate を通していない投稿があります" in shown
    assert f"*本文*: {HIJACK_TEXT}" in shown
    assert f"https://x.com/midori_city/status/{post_id}" in shown
    assert "みどり市（X @midori_city）" in shown
    assert "*状態*: 未対応" in shown
    assert "☐ 所属長へ報告" in shown
    assert "マニュアル §8 (1)" in shown
    buttons = controls(card)
    assert buttons[(ids.INCIDENT_TICK, "1:report_chief")] == "対応済み"
    assert buttons[(ids.INCIDENT_ACTION, "1:pause_scheduled")] == "予約投稿を一時停止"
    assert buttons[(ids.INCIDENT_ACTION, "1:hijack_notice")] == "注意喚起の投稿案を作成"
    assert buttons[(ids.INCIDENT_ACKNOWLEDGE, "1")] == "対応を開始（確認）"
    assert buttons[(ids.INCIDENT_RESOLVE, "1")] == "解決"
    within_block_kit_limits(card.blocks)
    for user in RECIPIENTS:
        [copy] = alert_dms(world, user)
        assert "<!channel>" not in copy.text
        assert "<!channel>" not in blocks_text(copy.blocks)
        assert HIJACK_TEXT in blocks_text(copy.blocks)
        assert "連絡先" in blocks_text(copy.blocks)
    assert alert_dms(world, YAMAMOTO) == []

    for _ in range(3):  # the same post on every later poll: no new alert
        await tick(world)
    assert len(alert_cards(world)) == 1
    assert all(len(alert_dms(world, user)) == 1 for user in RECIPIENTS)
    rows = [m for m in world.chat_messages() if m.subject_kind == "incident"]
    assert sorted(m.purpose for m in rows) == ["alert"] + ["alert_dm"] * 5
    [channel_copy] = [m for m in rows if m.purpose == "alert"]
    assert (channel_copy.channel, channel_copy.ts) == (ALERTS, card.ts)
    assert channel_copy.conversation_reference == {
        "permalink": f"https://midori.slack.com/archives/{ALERTS}/p{card.ts.replace('.', '')}"
    }
    assert [e.action for e in world.audit() if e.subject.startswith("incident:")] == [
        "incident.opened"
    ]


async def test_a_profile_change_is_one_alert_with_before_and_after(world: World) -> None:
    await baseline(world)
    world.x.user["description"] = "副業で月100万円！詳しくはプロフィールのリンクから"

    await tick(world)
    await tick(world)
    await tick(world)

    [card] = alert_cards(world)
    shown = blocks_text(card.blocks)
    assert card.text.startswith("<!channel> ")
    assert "自己紹介文が変わりました" in shown
    assert "*変更前*: みどり市の公式アカウントです。" in shown
    assert "*変更後*: 副業で月100万円！詳しくはプロフィールのリンクから" in shown
    assert all(len(alert_dms(world, user)) == 1 for user in RECIPIENTS)


async def test_refused_credentials_are_one_alert(world: World) -> None:
    await baseline(world)
    world.x.revoked = True

    for _ in range(4):
        await tick(world)

    [card] = alert_cards(world)
    shown = blocks_text(card.blocks)
    assert "認証情報がプラットフォームに拒否されています" in shown
    assert "*応答*: HTTP 401" in shown
    assert len(incidents(world.db)) == 1


async def test_a_lookalike_account_is_one_impersonation_alert_with_score_and_reasons(
    world: World,
) -> None:
    fake_x = world.x
    fake_x.add_user("midori_clty", "みどり市公式(偽)", description="みどり市の公式アカウントです")
    fake_x.add_user("midori_tourism", "みどり市観光協会", description="みどり市の観光情報")

    await monitor(world).tick()  # the first look-up runs at once
    await world.settle()
    await tick(world, timedelta(hours=6, minutes=1))  # looked up again: the same impostor

    [card] = alert_cards(world)
    shown = blocks_text(card.blocks)
    assert card.text.startswith("<!channel> ")
    assert "【なりすまし】インシデント #1" in shown
    assert "@midori_clty" in shown
    assert "みどり市公式(偽)" in shown
    assert "（しきい値 60）" in shown  # *スコア*: NN / 100（しきい値 60）
    assert "*理由*:" in shown
    assert "ユーザー名 @midori_clty" in shown
    assert "midori_tourism" not in shown  # allow-listed: never an alert
    assert controls(card)[(ids.INCIDENT_ACTION, "1:impersonation_notice")] == (
        "注意喚起の投稿案を作成"
    )
    assert (ids.INCIDENT_ACTION, "1:pause_scheduled") not in controls(card)
    assert [i.kind for i in incidents(world.db)] == ["impersonation"]


async def test_a_hijackers_mentions_are_neutralised_in_the_evidence(world: World) -> None:
    text = "<!channel> <!here> <@U0SATOKEI> @everyone 当選しました！ <https://evil.example|公式>"
    card, _ = await hijack(world, text)

    assert card.text.startswith("<!channel> ")
    assert card.text.count("<!channel>") == 1
    strings = list(iter_strings(card.blocks))
    assert sum(s.count("<!channel>") for s in strings) == 1  # the alert's own, nothing else
    for s in strings:
        assert "<@U0SATOKEI>" not in s
        assert "<!here>" not in s
        assert "@everyone" not in s
        assert "<https://evil.example|" not in s
    shown = blocks_text(card.blocks)
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U0SATOKEI&gt; @\u200beveryone" in shown
    for user in RECIPIENTS:
        [copy] = alert_dms(world, user)
        assert not any("<!channel>" in s for s in (copy.text, *iter_strings(copy.blocks)))


async def test_a_huge_profile_text_still_fits_block_kit(world: World) -> None:
    await baseline(world)
    world.x.user["description"] = "怪しいリンクはこちら。" * 2000  # 22,000 chars

    await tick(world)

    [card] = alert_cards(world)
    within_block_kit_limits(card.blocks)
    assert controls(card)[(ids.INCIDENT_ACKNOWLEDGE, "1")]  # the buttons are never cut
    assert "☐ 予約投稿の一時停止" in blocks_text(card.blocks)


# ---------------------------------------------------------------- the playbook on the card


async def test_a_checklist_press_updates_every_copy_with_who_and_when_and_is_audited(
    world: World,
) -> None:
    card, _ = await hijack(world)
    [sato_copy] = alert_dms(world, SATO)
    world.clock.now += timedelta(minutes=3)

    await click(world, SATO, sato_copy, ids.INCIDENT_TICK, "1:report_chief")

    updated = current(world, card)
    assert updated.edits == 1
    assert updated.text.startswith("<!channel> ")
    line = step_line(updated, "report_chief")
    assert line == "☑ 所属長へ報告（佐藤 恵子、2026年11月24日(火) 10:09）"
    assert controls(updated)[(ids.INCIDENT_UNTICK, "1:report_chief")] == "取り消し"
    for user in RECIPIENTS:
        [copy] = alert_dms(world, user)
        assert copy.edits == 1
        assert step_line(copy, "report_chief") == line
    [ticked] = world.audit("incident.ticked")
    assert ticked.actor == "sato.keiko"
    assert ticked.subject == "incident:1"
    assert ticked.details["item"] == "report_chief"

    # Someone else may not undo it; a stranger may not touch it: told, audited, nothing changes.
    await click(world, ITO, card, ids.INCIDENT_UNTICK, "1:report_chief")
    await click(world, STRANGER, card, ids.INCIDENT_TICK, "1:press_release")
    assert "取り消せるのは本人だけです" in world.ephemerals(ITO)[-1]
    assert "postgate に登録されていないユーザーです" in world.ephemerals(STRANGER)[-1]
    refused = world.audit("incident.refused")
    assert [r.details["refusal"] for r in refused] == [
        "refusal.not_the_ticker",
        "refusal.unknown_member",
    ]
    assert current(world, card).edits == 1
    assert step_line(current(world, card), "press_release") == "☐ 記者発表等の検討"

    # The same signed click replayed: one decision.
    body = world.click_body(SATO, card, ids.INCIDENT_TICK, "1:password_reset")
    for _ in range(2):
        assert (await world.post_form({"payload": json.dumps(body)})).status == 200
    await world.settle()
    assert len(world.audit("incident.ticked")) == 2
    assert world.ephemerals(SATO) == []

    # The one who ticked may undo it.
    await click(world, SATO, card, ids.INCIDENT_UNTICK, "1:report_chief")
    assert step_line(current(world, card), "report_chief") == "☐ 所属長へ報告"
    assert len(world.audit("incident.unticked")) == 1


async def test_acknowledge_then_resolve_with_a_note_and_reopen(world: World) -> None:
    card, _ = await hijack(world)
    world.clock.now += timedelta(minutes=2)

    await click(world, SATO, card, ids.INCIDENT_ACKNOWLEDGE, "1")

    shown = blocks_text(current(world, card).blocks)
    assert "*状態*: 対応中" in shown
    assert "対応開始: 佐藤 恵子（11月24日(火) 10:08）" in shown
    assert (ids.INCIDENT_ACKNOWLEDGE, "1") not in controls(current(world, card))
    assert any("佐藤 恵子 さんが対応を開始しました" in t for t in card_thread(world, card))
    assert "*状態*: 対応中" in blocks_text(alert_dms(world, KOBAYASHI)[0].blocks)

    # Resolve: a modal asks how it ended; an empty note is refused in the modal itself.
    await click(world, SATO, current(world, card), ids.INCIDENT_RESOLVE, "1")
    modal = world.last_view(ids.VIEW_INCIDENT_RESOLVE)
    assert "インシデント #1（乗っ取り・対応中）" in blocks_text(modal["blocks"])
    empty = await world.submit(SATO, modal, {})
    assert empty.json()["response_action"] == "errors"
    assert ids.BLOCK_RESOLUTION in empty.json()["errors"]
    note = "パスワードを変更し、不正な投稿を削除した。X社に報告済み。"
    # Only the incident's contacts may resolve it.
    await click(world, YAMAMOTO, current(world, card), ids.INCIDENT_RESOLVE, "1")
    other = world.last_view(ids.VIEW_INCIDENT_RESOLVE)
    await world.submit(YAMAMOTO, other, note_values(ids.BLOCK_RESOLUTION, note))
    await world.settle()
    assert "連絡先の職員" in world.ephemerals(YAMAMOTO)[-1]
    assert incidents(world.db)[0].state == "acknowledged"

    reply = await world.submit(SATO, modal, note_values(ids.BLOCK_RESOLUTION, note))
    assert (reply.status, reply.body) == (200, "")
    await world.settle()
    resolved = current(world, card)
    shown = blocks_text(resolved.blocks)
    assert "*状態*: 解決済み" in shown
    assert f"*解決メモ*: {note}" in shown
    assert set(controls(resolved)) >= {(ids.INCIDENT_REOPEN, "1")}
    assert (ids.INCIDENT_RESOLVE, "1") not in controls(resolved)
    [row] = incidents(world.db)
    assert (row.state, row.resolution) == ("resolved", note)
    assert [e.action for e in world.audit() if e.subject == "incident:1"] == [
        "incident.opened",
        "incident.acknowledged",
        "incident.refused",
        "incident.resolved",
    ]

    # Reopened with a reason: back to 対応中.
    await click(world, SUZUKI, resolved, ids.INCIDENT_REOPEN, "1")
    modal = world.last_view(ids.VIEW_INCIDENT_REOPEN)
    await world.submit(SUZUKI, modal, note_values(ids.BLOCK_REASON, "同じ投稿が再び表示された"))
    await world.settle()
    assert "*状態*: 対応中" in blocks_text(current(world, card).blocks)
    assert any("同じ投稿が再び表示された" in t for t in card_thread(world, card))


def note_values(block_id: str, text: str) -> dict[str, Any]:
    return {block_id: {ids.INPUT: {"type": "plain_text_input", "value": text}}}


async def test_the_hijack_pause_holds_the_accounts_scheduled_posts_in_one_click(
    world: World,
) -> None:
    await ready_for_approval(world)
    [approval] = world.approval_cards(SATO)
    await approve(
        world,
        approval,
        **{
            ids.BLOCK_DATE: {ids.INPUT: {"type": "datepicker", "selected_date": "2026-11-27"}},
            ids.BLOCK_TIME: {ids.INPUT: {"type": "timepicker", "selected_time": "09:30"}},
        },
    )
    assert {p.account_id: p.state for p in world.publications()} == {
        "midori-x": "pending",
        "midori-facebook": "pending",
    }
    card, _ = await hijack(world)

    await click(world, SATO, card, ids.INCIDENT_ACTION, "1:pause_scheduled")

    assert {p.account_id: p.state for p in world.publications()} == {
        "midori-x": "held",
        "midori-facebook": "pending",
    }
    paused = current(world, card)
    line = step_line(paused, "pause_scheduled")
    assert line.startswith("☑ 予約投稿の一時停止（佐藤 恵子、")
    assert "予約投稿を一時停止（1件を保留）" in line
    assert (ids.INCIDENT_ACTION, "1:pause_scheduled") not in controls(paused)
    assert any(
        "予約投稿を一時停止しました（保留にした投稿: 1件）" in t for t in card_thread(world, card)
    )
    [action] = world.audit("incident.action")
    assert action.details["held"] == [p.id for p in world.publications() if p.state == "held"]
    assert len(world.audit("pause.started")) == 1


async def test_the_notice_draft_goes_through_the_normal_approval(world: World) -> None:
    world.x.add_user("midori_clty", "みどり市公式(偽)", description="公式です")
    await monitor(world).tick()
    await world.settle()
    [card] = alert_cards(world)

    await click(world, TAKAHASHI, card, ids.INCIDENT_ACTION, "1:impersonation_notice")

    [draft] = world.drafts()
    assert draft.author_id == "takahashi.yui"
    view = world.bot.flows.drafts.get(draft.id)
    assert [t.account_id for t in view.targets] == ["midori-x"]
    assert "@midori_clty は市とは無関係です" in view.text
    # Posted as any draft is: announced in the drafts channel, its card in the thread.
    [announcement] = [m for m in world.fake.messages(DRAFTS) if m.thread_ts is None]
    assert f"<@{TAKAHASHI}> さんが投稿案 #1 を作成しました" in announcement.text
    draft_card = world.card(announcement.ts)
    assert "インシデント #1（なりすまし）の注意喚起の投稿案です" in blocks_text(draft_card.blocks)
    # The incident's card links to it; the thread says so.
    line = step_line(current(world, card), "impersonation_notice")
    assert "お知らせの下書き #1" in line
    assert f"/archives/{DRAFTS}/p{draft_card.ts.replace('.', '')}|投稿案 #1 のスレッドを開く>" in (
        line
    )
    assert any("注意喚起の投稿案 #1 を作成しました" in t for t in card_thread(world, card))
    # A second press makes no second draft.
    await click(
        world, TAKAHASHI, current(world, card), ids.INCIDENT_ACTION, "1:impersonation_notice"
    )
    assert len(world.drafts()) == 1
    assert "作成済みです" in world.ephemerals(TAKAHASHI)[-1]

    # The normal flow: submit, peer check, the chief's approval.
    await submit(world, announcement.ts)
    await peer_check(world, announcement.ts)
    [approval] = world.approval_cards(SATO)
    await approve(world, approval)
    assert world.draft(draft.id).state == "approved"
    assert [p.account_id for p in world.publications(draft.id)] == ["midori-x"]


# ---------------------------------------------------------------- /postgate incident


async def test_a_members_report_becomes_the_same_card_and_a_second_one_shows_it(
    world: World,
) -> None:
    reply = await world.command(KOBAYASHI, "incident")
    assert (reply.status, reply.body) == (200, "")
    await world.settle()
    modal = world.last_view(ids.VIEW_INCIDENT_REPORT)
    kinds = [o["value"] for o in block(modal, ids.BLOCK_INCIDENT_KIND)["element"]["options"]]
    assert kinds == ["impersonation", "hijack", "flaming", "other"]
    accounts = block(modal, ids.BLOCK_INCIDENT_ACCOUNT)["element"]["options"]
    assert {o["value"] for o in accounts} == {a.id for a in world.config.accounts}

    missing = await world.submit(KOBAYASHI, modal, report_values("impersonation"))
    assert ids.BLOCK_INCIDENT_URL in missing.json()["errors"]

    values = report_values(
        "impersonation", account="midori-x", url="https://x.com/midori_clty", notes="市民から連絡"
    )
    assert (await world.submit(KOBAYASHI, modal, values)).body == ""
    await world.settle()

    [card] = alert_cards(world)
    shown = blocks_text(card.blocks)
    assert card.text.startswith("<!channel> ")
    assert "【なりすまし】インシデント #1" in shown
    assert "小林 剛 さんからの報告" in shown
    assert "https://x.com/midori_clty" in shown
    assert "市民から連絡" in shown
    assert all(len(alert_dms(world, user)) == 1 for user in RECIPIENTS)
    assert "インシデント #1 として受け付け" in world.ephemerals(KOBAYASHI)[-1]

    # The same URL again (as typed differently): the existing incident, shown to the reporter.
    await world.command(ITO, "通報")
    await world.settle()
    again = report_values("impersonation", url="twitter.com/midori_clty/")
    await world.submit(ITO, world.last_view(ids.VIEW_INCIDENT_REPORT), again)
    await world.settle()
    assert len(alert_cards(world)) == 1
    [told] = [c for c in world.fake.calls_to("chat.postEphemeral") if c.params["user"] == ITO]
    assert told.params["channel"] == DRAFTS
    assert "既にインシデント #1（未対応）として記録されています" in told.params["text"]
    assert "@midori_clty" in blocks_text(told.params["blocks"])
    assert "カードを開く" in blocks_text(told.params["blocks"])
    assert [e.action for e in world.audit() if e.subject == "incident:1"] == [
        "incident.opened",
        "incident.reported_again",
    ]

    # Someone not in app.yaml cannot report.
    await world.command(STRANGER, "incident")
    await world.settle()
    assert "postgate に登録されていないユーザーです" in world.ephemerals(STRANGER)[-1]


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def report_values(
    kind: str, *, account: str | None = None, url: str | None = None, notes: str | None = None
) -> dict[str, Any]:
    values: dict[str, Any] = {
        ids.BLOCK_INCIDENT_KIND: {
            ids.INPUT: {"type": "static_select", "selected_option": {"value": kind}}
        }
    }
    if account:
        values[ids.BLOCK_INCIDENT_ACCOUNT] = {
            ids.INPUT: {"type": "static_select", "selected_option": {"value": account}}
        }
    if url:
        values[ids.BLOCK_INCIDENT_URL] = {ids.INPUT: {"type": "url_text_input", "value": url}}
    if notes:
        values[ids.BLOCK_INCIDENT_NOTES] = {ids.INPUT: {"type": "plain_text_input", "value": notes}}
    return values


# ---------------------------------------------------------------- reminders and App Home


async def test_an_unacknowledged_incident_is_reminded_after_the_configured_time(
    fake_slack: FakeSlack, fake_x: FakeX, database: Database, config: AppConfig, clock: FixedClock
) -> None:
    timing = config.monitoring.model_copy(update={"incident_remind_after_minutes": 10})
    slack = await start(
        fake_slack, fake_x, database, config.model_copy(update={"monitoring": timing}), clock
    )
    try:
        card, _ = await hijack(slack)
        alerts = slack.hub

        slack.clock.now += timedelta(minutes=9)
        assert await alerts.remind_incidents() == 0
        slack.clock.now += timedelta(minutes=2)
        assert await alerts.remind_incidents() == 1
        assert await alerts.remind_incidents() == 0  # not again within the interval

        [reminder] = card_thread(slack, card)
        assert "【未対応】" in reminder
        assert "まだ誰にも対応されていません" in reminder
        for user in RECIPIENTS:
            [told] = [m for m in slack.fake.messages(dm(user)) if "【未対応】" in m.text]
            assert "インシデント #1 のカードを開く" in blocks_text(told.blocks)
        slack.clock.now += timedelta(minutes=5)
        assert await alerts.remind_incidents() == 0
        slack.clock.now += timedelta(minutes=6)  # the interval again: once more
        assert await alerts.remind_incidents() == 1
        assert len(card_thread(slack, card)) == 2

        await click(slack, SATO, card, ids.INCIDENT_ACKNOWLEDGE, "1")
        slack.clock.now += timedelta(hours=2)
        assert await alerts.remind_incidents() == 0
        assert len(slack.audit("incident.reminded")) == 2
    finally:
        await slack.close()


async def test_app_home_lists_open_incidents_with_state_and_a_link_to_the_card(
    world: World,
) -> None:
    card, _ = await hijack(world)

    await world.open_home(ITO)
    await world.settle()

    home = world.fake.calls_to("views.publish")[-1].params["view"]
    shown = blocks_text(home["blocks"])
    assert "*対応中のインシデント*" in shown
    assert "• #1 【乗っ取り】*未対応* " in shown
    link = f"https://midori.slack.com/archives/{ALERTS}/p{card.ts.replace('.', '')}"
    assert f"<{link}|カードを開く>" in shown

    await click(world, SATO, card, ids.INCIDENT_ACKNOWLEDGE, "1")
    await world.open_home(ITO)
    await world.settle()
    shown = blocks_text(world.fake.calls_to("views.publish")[-1].params["view"]["blocks"])
    assert "• #1 【乗っ取り】*対応中* " in shown


async def test_the_same_alert_twice_posts_one_set_of_cards(world: World) -> None:
    card, _ = await hijack(world)
    view = world.hub.incidents.get(1)

    await world.hub.incident_opened(view)

    assert alert_cards(world) == [card]
    assert all(len(alert_dms(world, user)) == 1 for user in RECIPIENTS)


async def test_a_reply_surge_is_a_flaming_alert_with_counts_and_samples(world: World) -> None:
    now = world.clock.now
    older = world.x.add_tweet("市民まつりのお知らせ", created_at=now - timedelta(hours=49))
    for hour in range(48):  # the baseline: one reply an hour
        world.x.add_reply(
            "楽しみにしています", to=older, created_at=now - timedelta(hours=hour, minutes=10)
        )
    post = world.x.add_tweet("ごみ袋の有料化について", created_at=now - timedelta(hours=2))
    await baseline(world)
    hostile = ["ふざけるな、税金泥棒", "<!channel> 市長は辞めろ", "バカにしてるのか"]
    for minute in range(30):
        world.x.add_reply(hostile[minute % 3], to=post, created_at=now + timedelta(minutes=minute))

    await tick(world, timedelta(minutes=35))
    await tick(world)

    [card] = alert_cards(world)
    shown = blocks_text(card.blocks)
    assert "【炎上】インシデント #1" in shown
    assert "*本文*: ごみ袋の有料化について" in shown
    assert "*返信・メンション*: 30件" in shown
    assert "*平常時*:" in shown
    assert "ふざけるな" in shown  # a sample reply
    assert card.text.count("<!channel>") == 1
    assert sum(s.count("<!channel>") for s in iter_strings(card.blocks)) == 1
    assert "☐ 上司へ報告" in shown
    flaming_recipients = (SATO, SUZUKI, TAKAHASHI, ITO)  # no Digital Promotion for a flame
    assert all(len(alert_dms(world, user)) == 1 for user in flaming_recipients)
    assert alert_dms(world, KOBAYASHI) == []


async def test_the_card_keeps_its_steps_and_buttons_whatever_the_evidence_and_history(
    world: World,
) -> None:
    """Rendered straight from a view with everything at its longest: within Block Kit's limits,
    every step with its button, the state buttons, the mentions of the evidence neutralised."""
    await hijack(world)
    view = world.hub.incidents.get(1)
    long_note = "<!here> 長いメモです。" * 200
    huge = replace(
        view,
        rows=tuple((f"項目{i} <@U0SATOKEI>", "怪しい文章。" * 800) for i in range(20)),
        resolution=long_note,
        history=tuple(
            HistoryLine(
                IncidentEvent.REOPEN, "再開", "sato.keiko", "佐藤 恵子", view.created_at, long_note
            )
            for _ in range(30)
        ),
        allowed_events=frozenset(IncidentEvent),
    )
    for everyone in (True, False):
        recipient = None if everyone else view.recipients[0]
        card = incident_render.alert_card(huge, everyone=everyone, recipient=recipient)
        within_block_kit_limits(card.blocks)
        shown = controls(FakeMessage(ALERTS, "1.000001", card.text, card.blocks))
        steps = {v for a, v in shown if a in (ids.INCIDENT_TICK, ids.INCIDENT_UNTICK)}
        assert steps == {f"1:{line.item_id}" for line in view.checklist}
        states = {ids.INCIDENT_ACKNOWLEDGE, ids.INCIDENT_RESOLVE, ids.INCIDENT_REOPEN}
        assert states <= {a for a, _ in shown}
        strings = [card.text, *iter_strings(card.blocks)]
        mentions = sum(s.count("<!channel>") for s in strings)
        assert mentions == (2 if everyone else 0)  # the fallback text and the first section
        assert not any("<!here>" in s or "<@U0SATOKEI>" in s for s in strings)


async def test_check_now_polls_at_once_and_answers_privately_with_what_it_found(
    world: World,
) -> None:
    def answered() -> str:
        [response] = world.fake.responses[-1:]
        assert response["response_type"] == "ephemeral"
        return blocks_text(response["blocks"])

    await world.command(TAKAHASHI, "check-now")
    await world.settle()
    assert "midori-x: 初回の確認でした。基準を記録しました" in answered()

    world.clock.now += timedelta(minutes=1)  # well within the interval: polled all the same
    world.x.add_tweet(HIJACK_TEXT)
    await world.command(KOBAYASHI, "check-now")  # デジタル推進課 may too
    await world.settle()
    said = answered()
    assert "midori-x: 確認しました。新しいインシデント 1件" in said
    assert "#1 " in said
    [card] = alert_cards(world)  # alerted like the timer's poll
    assert "【乗っ取り】インシデント #1" in blocks_text(card.blocks)

    await world.command(YAMAMOTO, "check-now")  # 環境推進課: refused, nothing polled
    await world.settle()
    assert (
        "シティ・プロモーション課とデジタル推進課の職員だけが実行できます"
        in (world.ephemerals(YAMAMOTO)[-1])
    )
    assert len(world.fake.responses) == 2
