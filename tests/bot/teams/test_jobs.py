"""Reminders, deputies and incident alerts on Teams."""

from __future__ import annotations

from datetime import timedelta

from bot.chat import actions
from bot.chat.forms import ReportForm
from handlers.drafts import Actor
from tests.bot.teams.harness import (
    ALERTS,
    DRAFTS,
    ITO,
    SATO,
    SUZUKI,
    TeamsHarness,
    card_text,
    teams_env,
    verbs,
)
from tests.bot.teams.test_flow import ready_for_approval
from tests.fakes.teams import FakeTeams


async def test_a_pending_approval_is_sent_again_then_offered_to_deputies(
    teams: TeamsHarness,
) -> None:
    post_id = await ready_for_approval(teams)
    assert len(teams.approval_cards(SATO)) == 1
    teams.clock.now += timedelta(hours=1)
    await teams.hub.tick()
    assert len(teams.approval_cards(SATO)) == 1  # not yet

    teams.clock.now += timedelta(hours=1, minutes=1)  # 2 h: the chief again
    await teams.hub.tick()
    await teams.hub.tick()  # once only
    reminders = teams.approval_cards(SATO)
    assert len(reminders) == 2
    assert "リマインド" in card_text(reminders[1].card)
    assert teams.approval_cards(SUZUKI) == []
    assert any("再度お知らせしました" in a.text for a in teams.fake.thread(DRAFTS, post_id))

    teams.clock.now += timedelta(hours=2)  # 4 h: the deputies
    await teams.hub.tick()
    [offer] = teams.approval_cards(SUZUKI)
    assert "代理承認のお願い" in card_text(offer.card)
    assert SUZUKI in offer.card["refresh"]["userIds"]


async def test_an_incident_card_in_the_alerts_channel_and_by_chat_with_playbook_buttons(
    teams: TeamsHarness,
) -> None:
    # The bot is installed in the team: Teams says so, and postgate learns where to send.
    installed = teams.base(SATO, ALERTS, type="conversationUpdate", membersAdded=[])
    assert (await teams.send(installed)).status == 200
    form = ReportForm(
        kind="flaming",
        account_id="midori-x",
        url=None,
        notes="ごみ袋の有料化の投稿に批判が集まっています",
    )
    view, intro, _ = await teams.bot.incident_flows.report(Actor("teams", ITO), form)
    assert "受け付けました" in intro or str(view.id) in intro
    [card] = teams.fake.messages(ALERTS)
    shown = card_text(card.card)
    assert f"インシデント #{view.id}" in shown
    buttons = verbs(card.card)
    assert actions.INCIDENT_ACKNOWLEDGE in buttons
    assert actions.INCIDENT_TICK in buttons
    mentioned = {e["mentioned"]["id"] for e in card.activity.get("entities", [])}
    assert SATO in mentioned  # Teams cannot @channel from a bot: the contacts are mentioned
    dms = [a for a in teams.fake.activities if a.conversation.startswith("a:")]
    assert {a.conversation for a in dms} >= {f"a:{SATO}"}

    reply = await teams.click(SATO, card, actions.INCIDENT_ACKNOWLEDGE)
    assert reply.status == 200
    assert actions.INCIDENT_ACKNOWLEDGE not in verbs(reply.card)
    await teams.settle()
    assert all(a.versions for a in dms)  # every other copy updated
    assert any(
        "対応を開始" in a.text or "確認" in a.text for a in teams.fake.thread(ALERTS, card.id)
    )

    step = verbs(card.card)[actions.INCIDENT_TICK]
    reply = await teams.invoke(SATO, card, actions.INCIDENT_TICK, step)
    assert "☑" in card_text(reply.card) or actions.INCIDENT_UNTICK in verbs(reply.card)

    # Resolving needs the note, typed in the card.
    reply = await teams.click(SATO, card, actions.INCIDENT_RESOLVE)
    assert "メモ欄" in reply.text
    reply = await teams.click(
        SATO, card, actions.INCIDENT_RESOLVE, {"reason": "投稿を説明し、批判は収まりました"}
    )
    assert actions.INCIDENT_REOPEN in verbs(reply.card)
    await teams.settle()
    assert any("投稿を説明し" in a.text for a in teams.fake.thread(ALERTS, card.id))


async def test_after_a_restart_the_bot_connector_is_remembered(
    teams: TeamsHarness, fake_teams: FakeTeams
) -> None:
    """postgate learns the serviceUrl from activities; after a restart it sends to the last one
    remembered (an approval reminder before anyone writes again)."""
    await ready_for_approval(teams)
    await teams.close()
    again = TeamsHarness(fake_teams, teams.db, teams.config, teams.clock, teams_env(fake_teams))
    await again.start()
    try:
        assert again.bot.connector.service_url == fake_teams.service_url
        again.clock.now += timedelta(hours=2, minutes=1)
        await again.hub.tick()
        assert len(again.approval_cards(SATO)) == 2
    finally:
        await again.close()
