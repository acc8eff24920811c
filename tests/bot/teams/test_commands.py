"""The commands of Slack's ``/postgate`` typed in a 1:1 chat with postgate on Teams, answered by
the same shared code (``bot.chat.commands``), through real HTTP."""

from __future__ import annotations

from bot.chat import actions
from tests.bot.slack.harness import CLEAN
from tests.bot.teams.harness import (
    DRAFTS,
    KOBAYASHI,
    SATO,
    STRANGER,
    TAKAHASHI,
    TeamsHarness,
    card_text,
    verbs,
)
from tests.bot.teams.test_flow import ready_for_approval


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
    for command in ("status", "mine", "pending", "review", "delete"):
        assert f"`{command}" in help_text
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
