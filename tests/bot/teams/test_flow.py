"""The whole flow through Teams: authenticated activities in, what the Bot Connector received
and the database out."""

from __future__ import annotations

import asyncio
import time

from bot.app import publish_and_report
from bot.chat import actions
from bot.teams import render
from tests.bot.slack.harness import CLEAN
from tests.bot.teams.harness import (
    APPROVALS,
    DRAFTS,
    ITO,
    KOBAYASHI,
    SATO,
    STRANGER,
    TAKAHASHI,
    TeamsHarness,
    card_text,
    verbs,
)
from tests.fakes.teams import TENANT, FakeActivity
from workflows.approval import ChecklistItem

ALL_CHECKED = ",".join(item.value for item in ChecklistItem)


async def draft(teams: TeamsHarness, text: str = CLEAN, user: str = TAKAHASHI) -> str:
    post_id, reply = await teams.post(user, text)
    assert reply.status == 200
    await teams.settle()
    return post_id


def peer_request(teams: TeamsHarness, post_id: str) -> FakeActivity:
    return next(
        a for a in teams.fake.thread(DRAFTS, post_id) if actions.PEER_CHECK in verbs(a.card)
    )


async def ready_for_approval(teams: TeamsHarness) -> str:
    post_id = await draft(teams)
    reply = await teams.click(TAKAHASHI, teams.card(post_id), actions.SUBMIT)
    assert reply.status == 200
    await teams.settle()
    reply = await teams.click(
        ITO, peer_request(teams, post_id), actions.PEER_CHECK, {render.CHECKLIST: ALL_CHECKED}
    )
    assert reply.status == 200, reply.body
    await teams.settle()
    return post_id


async def test_a_channel_post_becomes_a_draft_with_its_card_in_the_thread(
    teams: TeamsHarness,
) -> None:
    post_id = await draft(teams, "12月5日(金)に中央図書館でおはなし会を開きます。")
    [row] = teams.drafts()
    assert row.author_id == "takahashi.yui"
    card = teams.card(post_id)
    assert card.conversation == DRAFTS
    assert card.thread == post_id
    shown = card_text(card.card)
    assert "投稿案 #1（第1版）" in shown
    assert "12月5日(金)" in shown  # the finding quotes the wrong weekday
    assert actions.SUBMIT not in verbs(card.card)  # an error: no submit button
    assert actions.WITHDRAW in verbs(card.card)


async def test_a_click_in_the_channel_updates_the_card_for_everyone_there(
    teams: TeamsHarness,
) -> None:
    post_id = await draft(teams)
    card = teams.card(post_id)
    reply = await teams.click(TAKAHASHI, card, actions.SUBMIT)
    assert reply.status == 200
    assert actions.SUBMIT not in verbs(reply.card)  # what the author sees at once
    await teams.settle()
    # Teams shows that answer to the author only; the channel sees the card PUT in its place.
    assert card.versions
    assert actions.SUBMIT not in verbs(card.card)
    assert "ダブルチェック待ち" in card_text(card.card)


async def test_the_mention_of_the_bot_is_not_part_of_the_draft(teams: TeamsHarness) -> None:
    await draft(teams)
    from sqlmodel import select

    from storage.tables import DraftRevision

    with teams.db.session(read_only=True) as session:
        [revision] = session.exec(select(DraftRevision)).all()
    assert revision.text == CLEAN


async def test_an_edit_makes_a_new_revision_and_updates_the_card(teams: TeamsHarness) -> None:
    post_id = await draft(teams, "12月5日(金)に中央図書館でおはなし会を開きます。")
    reply = await teams.edit(TAKAHASHI, post_id, CLEAN)
    assert reply.status == 200
    await teams.settle()
    card = teams.card(post_id)
    assert card.versions  # updated in place (PUT)
    assert "投稿案 #1（第2版）" in card_text(card.card)
    assert actions.SUBMIT in verbs(card.card)
    assert any("第2版に更新" in a.text for a in teams.fake.thread(DRAFTS, post_id))
    # The same edit delivered twice changes nothing more.
    await teams.edit(TAKAHASHI, post_id, CLEAN)
    await teams.settle()
    assert len(card.versions) == 1


async def test_peer_check_then_approval_by_chat_with_the_chief_and_in_the_channel(
    teams: TeamsHarness,
) -> None:
    post_id = await draft(teams)
    reply = await teams.click(TAKAHASHI, teams.card(post_id), actions.SUBMIT)
    assert actions.SUBMIT not in verbs(reply.card)  # the answer is the updated card
    await teams.settle()
    request = peer_request(teams, post_id)
    mentioned = {e["mentioned"]["id"] for e in request.activity["entities"]}
    assert ITO in mentioned
    assert TAKAHASHI not in mentioned
    assert SATO not in mentioned  # an approver is not asked while a colleague can check

    # An incomplete checklist is refused at the click, and nothing is decided.
    reply = await teams.click(ITO, request, actions.PEER_CHECK, {render.CHECKLIST: "dates"})
    assert "チェック項目をすべて確認" in reply.text
    assert not teams.approval_cards()

    reply = await teams.click(ITO, request, actions.PEER_CHECK, {render.CHECKLIST: ALL_CHECKED})
    assert "ダブルチェックの依頼は終了しました" in card_text(reply.card)
    await teams.settle()

    # A 1:1 chat with the chief, created with the AAD id and the tenant.
    [created] = [c for c in teams.fake.conversations if c["members"][0]["id"] == SATO]
    assert created["channelData"] == {"tenant": {"id": TENANT}}
    assert created["isGroup"] is False
    [dm] = teams.approval_cards(SATO)
    [channel_copy] = teams.fake.messages(APPROVALS)
    for copy in (dm, channel_copy):
        assert "承認依頼: 投稿案 #1（第1版）" in card_text(copy.card)
        assert not verbs(copy.card)  # the status for everyone ...
        assert SATO in copy.card["refresh"]["userIds"]  # ... the form for who may act
        assert TAKAHASHI not in copy.card["refresh"]["userIds"]


async def test_refresh_shows_the_form_only_to_an_approver(teams: TeamsHarness) -> None:
    await ready_for_approval(teams)
    [card] = teams.approval_cards(SATO)
    data = card.card["refresh"]["action"]["data"]
    mine = await teams.invoke(SATO, card, render.REFRESH, data, trigger="automatic")
    assert set(verbs(mine.card)) == {actions.APPROVE, actions.REQUEST_CHANGES, actions.REJECT}
    theirs = await teams.invoke(KOBAYASHI, card, render.REFRESH, data, trigger="automatic")
    assert not verbs(theirs.card)
    assert "承認待ち" in card_text(theirs.card)


async def test_approve_answers_with_the_card_and_updates_every_other_copy(
    teams: TeamsHarness,
) -> None:
    post_id = await ready_for_approval(teams)
    [dm] = teams.approval_cards(SATO)
    [channel_copy] = teams.fake.messages(APPROVALS)
    form = await teams.invoke(SATO, dm, render.REFRESH, dm.card["refresh"]["action"]["data"])
    inputs = {render.CHECKLIST: ALL_CHECKED, render.COMMENT: "よろしくお願いします"}
    data = {**verbs(form.card)[actions.APPROVE], **inputs}

    click = teams.invoke_activity(SATO, dm, actions.APPROVE, data)
    reply = await teams.send(click)  # decided before the answer: the answer is the new card
    assert reply.status == 200
    assert not verbs(reply.card)
    assert "この承認依頼は終了しました" in card_text(reply.card)
    assert teams.drafts()[0].state in ("approved", "publishing", "published")
    await teams.settle()
    # The answer replaced the clicked card for the chief only: every copy is PUT as well.
    for copy in (dm, channel_copy):
        assert copy.versions
        assert "この承認依頼は終了しました" in card_text(copy.card)
        assert not verbs(copy.card)
    assert any("承認されました" in a.text for a in teams.fake.thread(DRAFTS, post_id))

    # Teams retries the invoke: one decision, the same answer.
    again = await teams.send(click)
    assert not verbs(again.card)
    from sqlmodel import select

    from storage.tables import Review

    with teams.db.session(read_only=True) as session:
        approvals = [r for r in session.exec(select(Review)).all() if r.decision == "approved"]
    assert len(approvals) == 1


async def test_the_author_is_refused_at_the_click_with_the_reason(teams: TeamsHarness) -> None:
    await ready_for_approval(teams)
    [dm] = teams.approval_cards(SATO)
    data = {**dm.card["refresh"]["action"]["data"], render.CHECKLIST: ALL_CHECKED}
    reply = await teams.invoke(TAKAHASHI, dm, actions.APPROVE, data)
    assert "この投稿案の作成者は承認できません" in reply.text
    assert teams.drafts()[0].state == "awaiting_approval"


async def test_the_publication_result_reaches_the_thread(teams: TeamsHarness) -> None:
    post_id = await ready_for_approval(teams)
    [dm] = teams.approval_cards(SATO)
    data = {**dm.card["refresh"]["action"]["data"], render.CHECKLIST: ALL_CHECKED}
    assert (await teams.invoke(SATO, dm, actions.APPROVE, data)).status == 200
    await teams.settle()
    deadline = time.monotonic() + 20
    while not any("投稿しました" in a.text for a in teams.fake.thread(DRAFTS, post_id)):
        assert time.monotonic() < deadline, [a.text for a in teams.fake.thread(DRAFTS, post_id)]
        await publish_and_report(teams.app)  # the outbox timer's job: no chat tick needed
        await asyncio.sleep(0.05)
    [result] = [a for a in teams.fake.thread(DRAFTS, post_id) if "投稿しました" in a.text]
    assert TAKAHASHI in {e["mentioned"]["id"] for e in result.activity["entities"]}


async def test_an_unknown_person_is_told_in_japanese_and_nothing_changes(
    teams: TeamsHarness,
) -> None:
    post_id, reply = await teams.post(STRANGER, CLEAN)
    assert reply.status == 200
    await teams.settle()
    assert teams.drafts() == []
    [told] = teams.fake.thread(DRAFTS, post_id)
    assert "職員名簿" in told.text
    assert STRANGER in told.text


async def test_a_replayed_activity_makes_one_draft(teams: TeamsHarness) -> None:
    activity = teams.post_activity(TAKAHASHI, CLEAN)
    for _ in range(3):
        assert (await teams.send(activity)).status == 200
    await teams.settle()
    assert len(teams.drafts()) == 1
    assert len(teams.fake.thread(DRAFTS, activity["id"])) == 1


async def test_rate_limits_are_honoured(teams: TeamsHarness) -> None:
    teams.fake.fail_next(
        429, method="POST", path="/v3/conversations/.*", headers={"Retry-After": "0"}
    )
    teams.fake.fail_next(502, method="POST", path="/v3/conversations/.*")
    post_id = await draft(teams)
    assert actions.SUBMIT in verbs(teams.card(post_id).card)
    tries = teams.fake.requests_to("POST", "/v3/conversations/.*")
    assert len(tries) == 3


async def test_other_client_errors_are_not_retried(teams: TeamsHarness) -> None:
    teams.fake.fail_next(403, method="POST", path="/v3/conversations/.*", count=5)
    post_id, reply = await teams.post(TAKAHASHI, CLEAN)
    assert reply.status == 200
    await teams.settle()
    assert len(teams.drafts()) == 1  # the draft is saved whatever Teams answers
    assert teams.fake.thread(DRAFTS, post_id) == []
    # one try for the card, one for the apology
    assert len(teams.fake.requests_to("POST", "/v3/conversations/.*")) == 2


async def test_deleting_the_post_does_not_lose_the_draft(teams: TeamsHarness) -> None:
    post_id = await draft(teams)
    deleted = teams.post_activity(TAKAHASHI, "", id=post_id)
    deleted["type"] = "messageDelete"
    deleted["channelData"]["eventType"] = "softDeleteMessage"
    assert (await teams.send(deleted)).status == 200
    await teams.settle()
    [row] = teams.drafts()
    assert row.state == "draft"
    assert not teams.card(post_id).versions


async def test_an_unknown_person_clicking_is_told_and_nothing_changes(teams: TeamsHarness) -> None:
    post_id = await draft(teams)
    reply = await teams.click(STRANGER, teams.card(post_id), actions.SUBMIT)
    assert "職員名簿" in reply.text
    assert teams.drafts()[0].state == "draft"


async def test_the_bot_token_is_fetched_once_and_reused(teams: TeamsHarness) -> None:
    await ready_for_approval(teams)
    assert len(teams.fake.activities) > 3
    assert teams.fake.tokens_issued == 1


async def test_a_deletion_is_asked_and_decided_in_a_chat_with_postgate(
    teams: TeamsHarness,
) -> None:
    await ready_for_approval(teams)
    [dm] = teams.approval_cards(SATO)
    data = {**dm.card["refresh"]["action"]["data"], render.CHECKLIST: ALL_CHECKED}
    assert (await teams.invoke(SATO, dm, actions.APPROVE, data)).status == 200
    await teams.settle()
    deadline = time.monotonic() + 20
    while teams.drafts()[0].state != "published":
        assert time.monotonic() < deadline, teams.drafts()[0].state
        await publish_and_report(teams.app)
        await asyncio.sleep(0.05)

    async def say(user: str, text: str) -> str:
        return (await teams.say(user, text)).text

    assert "review 投稿ID" in await say(TAKAHASHI, "こんにちは")  # the help
    assert "削除依頼 #1 を受け付けました" in await say(TAKAHASHI, "delete 1 日付に誤りがありました")
    asked = [a for a in teams.approval_cards(SATO) if "削除依頼 #1" in a.text]
    assert "delete-approve 1" in asked[0].text
    refused = await say(TAKAHASHI, "delete-approve 1")
    assert "削除を依頼した本人は" in refused
    assert not teams.fake.messages(f"a:{TAKAHASHI}")[-1].thread  # said in the chat itself
    assert "削除依頼 #1:" in await say(SATO, "delete-approve 1")


async def test_the_chief_sets_the_publish_time_in_the_card(teams: TeamsHarness) -> None:
    post_id = await ready_for_approval(teams)
    [dm] = teams.approval_cards(SATO)
    data = {**dm.card["refresh"]["action"]["data"], render.CHECKLIST: ALL_CHECKED}
    past = {render.DATE: "2020-01-06", render.TIME: "09:00"}
    assert "過去" in (await teams.invoke(SATO, dm, actions.APPROVE, {**data, **past})).text
    half = {render.DATE: "2026-11-25"}
    said = (await teams.invoke(SATO, dm, actions.APPROVE, {**data, **half})).text
    assert "時刻も指定してください" in said
    when = {render.DATE: "2026-11-25", render.TIME: "10:00"}
    assert (await teams.invoke(SATO, dm, actions.APPROVE, {**data, **when})).status == 200
    await teams.settle()
    thread = [a.text for a in teams.fake.thread(DRAFTS, post_id)]
    assert any("2026年11月25日(水) 10:00 に投稿します" in t for t in thread), thread
