"""A city running Slack and Teams together, through real HTTP: one ``postgate serve`` app with
both adapters, a fake Slack and a fake Bot Connector. A draft lives on the platform where it was
written; each member gets its approval cards on every platform they have an id for, and a click
on any copy decides the same draft and updates every other copy."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest

from bot.chat import actions
from bot.config import AppConfig
from storage.engine import Database
from tests.bot.server_harness import running
from tests.bot.slack import harness as slack_h
from tests.bot.slack import test_flow as slack_flow
from tests.bot.slack.harness import SlackHarness, slack_env
from tests.bot.teams import harness as teams_h
from tests.bot.teams import test_flow as teams_flow
from tests.bot.teams.harness import TeamsHarness, card_text, teams_env, verbs
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeTeams
from tests.handlers.conftest import FixedClock


class SharedTeams(TeamsHarness):
    """Teams' side of the app a ``SlackHarness`` runs (both adapters on one server)."""

    def __init__(self, fake: FakeTeams, slack: SlackHarness) -> None:
        self.db, self.config, self.clock = slack.db, slack.config, slack.clock
        self.app, self.server = slack.app, slack.server
        self.fake = fake
        self.slack = slack
        self._n = itertools.count(1)

    @property  # type: ignore[override]
    def session(self) -> aiohttp.ClientSession | None:
        return self.slack.session


@dataclass
class Both:
    slack: SlackHarness
    teams: SharedTeams

    async def settle(self) -> None:
        for _ in range(2):  # a click on one platform may leave work for the other
            await self.slack.settle()
            await self.teams.settle()


def without(config: AppConfig, member_id: str, id_field: str = "slack_user_id") -> AppConfig:
    """``config`` with the member's Slack (or Teams) id removed."""
    members = tuple(
        m.model_copy(update={id_field: None}) if m.id == member_id else m for m in config.members
    )
    return config.model_copy(update={"members": members})


@pytest.fixture
async def both(
    fake_slack: FakeSlack,
    fake_teams: FakeTeams,
    database: Database,
    config: AppConfig,
    clock: FixedClock,
) -> AsyncIterator[Both]:
    """The chief (佐藤) has only a Teams id; everyone else has both."""
    env = {
        **slack_env(fake_slack),
        **teams_env(fake_teams, POSTGATE_TEAMS_SERVICE_URL=fake_teams.service_url),
    }
    slack = SlackHarness(fake_slack, database, without(config, "sato.keiko"), clock, env)
    async with running(slack):
        yield Both(slack, SharedTeams(fake_teams, slack))


async def test_a_slack_draft_is_approved_from_a_teams_chat(both: Both) -> None:
    slack, teams = both.slack, both.teams
    handle = await slack_flow.ready_for_approval(slack)
    await both.settle()

    # The chief has no Slack id: their card reaches them in a Teams 1:1 chat.
    assert slack.approval_cards(slack_h.SATO) == []
    [chief_card] = teams.approval_cards(teams_h.SATO)
    assert "承認待ち" in card_text(chief_card.card)
    thread = "\n".join(m.text + slack_h.blocks_text(m.blocks) for m in slack.thread(handle))
    assert "承認を依頼しました: 佐藤 恵子" in thread
    # The approvals channel of the draft's own platform has its copy; Teams' has none.
    [channel_card] = slack.fake.messages(slack_h.APPROVALS)
    assert teams.fake.messages(teams_h.APPROVALS) == []

    # The chief approves from Teams, with the same checklist as any approval.
    refresh = chief_card.card["refresh"]
    assert refresh["userIds"] == [teams_h.SATO, teams_h.SUZUKI]  # the approvers (and deputy)
    data = {**refresh["action"]["data"], "checklist": teams_flow.ALL_CHECKED}
    reply = await teams.invoke(teams_h.SATO, chief_card, actions.APPROVE, data)
    assert reply.status == 200
    assert "この承認依頼は終了しました" in card_text(reply.json()["value"])
    await both.settle()

    assert slack.draft().state in ("approved", "publishing", "published")
    [review] = [r for r in slack.reviews() if r.decision == "approved"]
    # The draft's thread, on Slack, says so; every copy on both platforms is updated.
    thread = "\n".join(m.text + slack_h.blocks_text(m.blocks) for m in slack.thread(handle))
    assert "承認されました（佐藤 恵子）" in thread
    updated = slack.fake.message(slack_h.APPROVALS, channel_card.ts)
    assert "この承認依頼は終了しました" in slack_h.blocks_text(updated.blocks)
    assert actions.APPROVE not in slack_h.buttons(updated.blocks)
    draft_card = slack.card(handle)
    assert actions.SUBMIT not in slack_h.buttons(draft_card.blocks)
    assert review.reviewer_id == "sato.keiko"


async def test_a_teams_copy_is_updated_after_a_decision_on_slack(
    fake_slack: FakeSlack,
    fake_teams: FakeTeams,
    database: Database,
    config: AppConfig,
    clock: FixedClock,
) -> None:
    """A chief with both ids gets a card on each; approving on Slack closes the Teams one."""
    env = {
        **slack_env(fake_slack),
        **teams_env(fake_teams, POSTGATE_TEAMS_SERVICE_URL=fake_teams.service_url),
    }
    async with running(SlackHarness(fake_slack, database, config, clock, env)) as slack:
        teams = SharedTeams(fake_teams, slack)
        both = Both(slack, teams)
        handle = await slack_flow.ready_for_approval(slack)
        await both.settle()
        [slack_card] = slack.approval_cards(slack_h.SATO)
        [teams_card] = teams.approval_cards(teams_h.SATO)
        assert "承認待ち" in card_text(teams_card.card)

        await slack_flow.approve(slack, slack_card)
        await both.settle()

        assert slack.draft().state in ("approved", "publishing", "published")
        closed = fake_teams.find(teams_card.id)
        assert closed.versions  # replaced (PUT) after the decision
        assert "この承認依頼は終了しました" in card_text(closed.card)
        assert actions.APPROVE not in verbs(closed.card)
        assert len(teams.approval_cards(teams_h.SATO)) == 1  # no second card
        said = [m for m in slack.thread(handle) if "承認されました（佐藤 恵子）" in m.text]
        assert len(said) == 1


async def test_reminders_and_deputy_offers_reach_each_member_where_they_have_an_id(
    fake_slack: FakeSlack,
    fake_teams: FakeTeams,
    database: Database,
    config: AppConfig,
    clock: FixedClock,
) -> None:
    """The chief is on Slack only, the deputy on Teams only: a Slack draft's reminder goes to the
    chief on Slack, and the deputy offer to the deputy in a Teams chat."""
    config = without(without(config, "sato.keiko", "teams_aad_id"), "suzuki.hiroshi")
    env = {
        **slack_env(fake_slack),
        **teams_env(fake_teams, POSTGATE_TEAMS_SERVICE_URL=fake_teams.service_url),
    }
    async with running(SlackHarness(fake_slack, database, config, clock, env)) as slack:
        teams = SharedTeams(fake_teams, slack)
        await slack_flow.ready_for_approval(slack)
        await Both(slack, teams).settle()
        assert len(slack.approval_cards(slack_h.SATO)) == 1
        assert teams.approval_cards(teams_h.SATO) == []

        clock.now += timedelta(hours=2, minutes=1)  # the chief again, where they are
        await slack.hub.tick()
        await slack.hub.tick()  # once only
        assert len(slack.approval_cards(slack_h.SATO)) == 2
        assert teams.approval_cards(teams_h.SATO) == []
        assert teams.approval_cards(teams_h.SUZUKI) == []

        clock.now += timedelta(hours=2)  # the deputies: Suzuki has only a Teams id
        await slack.hub.tick()
        await slack.hub.tick()
        [offer] = teams.approval_cards(teams_h.SUZUKI)
        assert "代理承認のお願い" in card_text(offer.card)
        assert teams_h.SUZUKI in offer.card["refresh"]["userIds"]
        assert slack.fake.messages(slack_h.dm(slack_h.SUZUKI)) == []


async def test_a_result_refreshes_the_approval_copies_on_the_other_platform(
    fake_slack: FakeSlack,
    fake_teams: FakeTeams,
    database: Database,
    config: AppConfig,
    clock: FixedClock,
) -> None:
    """A Slack draft approved on Slack: once its posts are out, the chief's Teams copy of the
    approval card says so too, as the Slack copies do."""
    env = {
        **slack_env(fake_slack),
        **teams_env(fake_teams, POSTGATE_TEAMS_SERVICE_URL=fake_teams.service_url),
    }
    async with running(SlackHarness(fake_slack, database, config, clock, env)) as slack:
        teams = SharedTeams(fake_teams, slack)
        handle = await slack_flow.ready_for_approval(slack)
        await Both(slack, teams).settle()
        [slack_card] = slack.approval_cards(slack_h.SATO)
        [teams_card] = teams.approval_cards(teams_h.SATO)
        await slack_flow.approve(slack, slack_card)
        await Both(slack, teams).settle()
        before = len(fake_teams.find(teams_card.id).versions)
        assert "（現在: 投稿済み）" not in card_text(fake_teams.find(teams_card.id).card)

        await slack_flow.published(slack)
        assert await slack.hub.report_published() == 2  # the result, in the Slack thread
        assert any("投稿しました" in m.text for m in slack.thread(handle))
        assert fake_teams.thread(teams_h.DRAFTS, handle) == []  # no thread on Teams

        shown = fake_teams.find(teams_card.id)
        assert len(shown.versions) > before  # replaced (PUT) after the result
        assert "（現在: 投稿済み）" in card_text(shown.card)
        slack_copy = slack.fake.message(slack_card.channel, slack_card.ts)
        assert "（現在: 投稿済み）" in slack_h.blocks_text(slack_copy.blocks)


async def test_a_reminder_sent_only_on_teams_is_said_in_the_slack_thread(both: Both) -> None:
    """The chief (佐藤) has only a Teams id: the reminder reaches them there, and the drafter
    reads in the draft's Slack thread that it was sent, and where."""
    slack, teams = both.slack, both.teams
    handle = await slack_flow.ready_for_approval(slack)
    await both.settle()
    assert len(teams.approval_cards(teams_h.SATO)) == 1

    slack.clock.now += timedelta(hours=2, minutes=1)
    await slack.hub.tick()
    await slack.hub.tick()  # once only
    assert len(teams.approval_cards(teams_h.SATO)) == 2
    said = [m.text for m in slack.thread(handle) if "リマインド" in m.text]
    assert said == ["承認待ちが続いているため、承認者 佐藤 恵子 さんにTeamsでリマインドしました。"]


async def test_a_deputy_offer_sent_only_on_teams_is_said_in_the_slack_thread(
    fake_slack: FakeSlack,
    fake_teams: FakeTeams,
    database: Database,
    config: AppConfig,
    clock: FixedClock,
) -> None:
    """The chief is on Slack only, the deputy on Teams only: the Slack thread names the chief
    reminded (as ever) and the deputy asked on Teams."""
    config = without(without(config, "sato.keiko", "teams_aad_id"), "suzuki.hiroshi")
    env = {
        **slack_env(fake_slack),
        **teams_env(fake_teams, POSTGATE_TEAMS_SERVICE_URL=fake_teams.service_url),
    }
    async with running(SlackHarness(fake_slack, database, config, clock, env)) as slack:
        teams = SharedTeams(fake_teams, slack)
        handle = await slack_flow.ready_for_approval(slack)
        await Both(slack, teams).settle()
        clock.now += timedelta(hours=2, minutes=1)
        await slack.hub.tick()
        clock.now += timedelta(hours=2)
        await slack.hub.tick()
        await slack.hub.tick()
        assert len(teams.approval_cards(teams_h.SUZUKI)) == 1
        thread = [m.text for m in slack.thread(handle)]
        assert "承認待ちが続いているため、佐藤 恵子 さんに再度お知らせしました。" in thread
        elsewhere = [t for t in thread if "Teamsで" in t]
        assert elsewhere == [
            "承認待ちが続いているため、代理者（鈴木 博）にTeamsで承認を依頼しました。"
        ]
