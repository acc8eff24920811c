"""The commands of Slack's ``/postgate`` typed in a 1:1 chat with postgate on Teams, answered by
the same shared code (``bot.chat.commands``), through real HTTP."""

from __future__ import annotations

from sqlmodel import col, select

from bot.chat import actions
from bot.teams import render
from storage.tables import AuditEvent, Publication
from tests.bot.slack.harness import CLEAN
from tests.bot.teams.harness import (
    ALERTS,
    DRAFTS,
    KOBAYASHI,
    SATO,
    STRANGER,
    TAKAHASHI,
    TeamsHarness,
    card_text,
    verbs,
)
from tests.bot.teams.test_flow import ALL_CHECKED, ready_for_approval


async def test_status_mine_pending_and_help_in_a_chat_with_postgate(teams: TeamsHarness) -> None:
    assert "ありません。" in (await teams.say(TAKAHASHI, "mine")).text
    await ready_for_approval(teams)

    mine = (await teams.say(TAKAHASHI, "mine")).text
    assert "あなたの投稿案" in mine
    assert "#1 承認待ち" in mine
    assert "おはなし会" in mine
    assert (await teams.say(TAKAHASHI, "status")).text == mine  # no number: their drafts

    status = await teams.say(TAKAHASHI, "status #1")
    assert "投稿案 #1" in card_text(status.card)
    assert "承認待ち" in card_text(status.card)
    assert verbs(status.card) == {}  # the state only: the buttons are in the thread

    pending = (await teams.say(SATO, "pending")).text
    assert "あなたの確認・承認を待っている投稿案" in pending
    assert "#1" in pending
    nothing = (await teams.say(KOBAYASHI, "pending")).text
    assert "#1" not in nothing
    assert "ありません。" in nothing

    help_text = (await teams.say(TAKAHASHI, "help")).text
    for command in ("status", "mine", "pending", "pause", "resume", "incident", "review", "delete"):
        assert f"`{command}" in help_text
    assert "「編集」「投稿先・日時」" in help_text
    assert (await teams.say(TAKAHASHI, "なにこれ")).text == help_text


async def test_someone_not_in_app_yaml_is_told_in_japanese(teams: TeamsHarness) -> None:
    await ready_for_approval(teams)
    answer = (await teams.say(STRANGER, "mine")).text
    assert "職員名簿（app.yaml の members[].teams_aad_id）で見つけられませんでした" in answer
    assert "#1" not in answer


async def test_a_draft_written_in_the_chat_is_announced_in_the_drafts_channel(
    teams: TeamsHarness,
) -> None:
    text = CLEAN + "\n当日は直接会場へお越しください。"
    said = await teams.say(TAKAHASHI, f"draft {text}")
    assert "投稿案 #1 を作成しました" in said.text
    assert len(teams.drafts()) == 1
    draft = teams.bot.drafts.get(1)
    assert draft.text == text  # the line break kept
    assert draft.author_id == "takahashi.yui"
    assert [t.account_id for t in draft.targets] == ["midori-x", "midori-facebook"]
    announcement = next(a for a in teams.fake.messages(DRAFTS) if a.thread is None)
    assert "#1" in announcement.text
    [card] = teams.fake.thread(DRAFTS, announcement.id)
    assert actions.SUBMIT in verbs(card.card)  # from here on as any draft


async def test_pause_and_resume_in_a_chat_with_postgate(teams: TeamsHarness) -> None:
    await ready_for_approval(teams)
    [dm] = teams.approval_cards(SATO)
    paused = (await teams.say(SATO, "pause midori-x 乗っ取りの疑いのため")).text
    assert "midori-x" in paused
    assert "乗っ取りの疑いのため" in paused
    [alert] = teams.fake.messages(ALERTS)
    assert "佐藤 恵子 さんが" in alert.text
    assert "緊急停止しました" in alert.text

    data = {**dm.card["refresh"]["action"]["data"], render.CHECKLIST: ALL_CHECKED}
    assert (await teams.invoke(SATO, dm, actions.APPROVE, data)).status == 200
    await teams.settle()
    assert publication_states(teams) == {"midori-x": "held", "midori-facebook": "pending"}

    refused = (await teams.say(KOBAYASHI, "resume midori-x")).text  # not theirs to resume
    assert "緊急停止・再開ができるのは" in refused
    assert publication_states(teams)["midori-x"] == "held"
    assert "再開しました" in (await teams.say(SATO, "再開 midori-x")).text
    assert publication_states(teams)["midori-x"] == "pending"
    assert len(teams.fake.messages(ALERTS)) == 2
    assert [e.action for e in audit(teams) if e.action.startswith("pause.")] == [
        "pause.started",
        "pause.refused",
        "pause.released",
    ]


async def test_a_pause_needs_a_reason(teams: TeamsHarness) -> None:
    assert "理由を入力してください" in (await teams.say(SATO, "pause")).text
    assert teams.fake.messages(ALERTS) == []


def publication_states(teams: TeamsHarness) -> dict[str, str]:
    with teams.db.session(read_only=True) as session:
        return {p.account_id: p.state for p in session.exec(select(Publication)).all()}


def audit(teams: TeamsHarness) -> list[AuditEvent]:
    with teams.db.session(read_only=True) as session:
        return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all())
