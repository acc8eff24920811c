"""One table of scenarios, run against both adapters through real HTTP: the same rules, the
same Japanese texts, whatever the platform. Each ``Driver`` does what a person does on its
platform (a message in the drafts channel, a click, a form) and reads what they would see."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import pytest

from bot.chat import actions
from bot.config import AppConfig
from bot.teams import render as teams_render
from storage.engine import Database
from tests.bot.slack import harness as slack_h
from tests.bot.slack import test_flow as slack_flow
from tests.bot.slack.harness import CLEAN, SlackHarness, slack_env
from tests.bot.teams import harness as teams_h
from tests.bot.teams import test_flow as teams_flow
from tests.bot.teams.harness import TeamsHarness, card_text, teams_env, verbs
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeTeams
from tests.handlers.conftest import FixedClock

WITH_ERROR = "12月5日(金)に中央図書館でおはなし会を開きます。"


class Driver(Protocol):
    platform: str
    harness: Any

    async def draft(self, text: str) -> str: ...
    def submit_offered(self, handle: str) -> bool: ...
    async def to_approval(self, handle: str) -> None: ...
    async def approve(self, user: str) -> str | None: ...
    def thread(self, handle: str) -> str: ...
    def chief_card(self) -> str: ...
    def state(self) -> str: ...


class SlackDriver:
    platform = "slack"
    author, chief = slack_h.TAKAHASHI, slack_h.SATO

    def __init__(self, harness: SlackHarness) -> None:
        self.harness = harness

    async def draft(self, text: str) -> str:
        return await slack_flow.draft(self.harness, text)

    def submit_offered(self, handle: str) -> bool:
        return actions.SUBMIT in slack_h.buttons(self.harness.card(handle).blocks)

    async def to_approval(self, handle: str) -> None:
        await slack_flow.submit(self.harness, handle)
        await slack_flow.peer_check(self.harness, handle)

    async def approve(self, user: str) -> str | None:
        [card] = self.harness.fake.messages(slack_h.APPROVALS)
        opened = len(self.harness.fake.views)
        await self.harness.click(user, card, actions.APPROVE)
        await self.harness.settle()
        if len(self.harness.fake.views) == opened:
            return self.harness.ephemerals(user)[-1]
        view = self.harness.last_view("postgate.view.approve")
        await self.harness.submit(user, view, slack_h.all_ticked(view))
        await self.harness.settle()
        return None

    def thread(self, handle: str) -> str:
        return "\n".join(
            m.text + slack_h.blocks_text(m.blocks) for m in self.harness.thread(handle)
        )

    def chief_card(self) -> str:
        [card] = self.harness.approval_cards(self.chief)
        return slack_h.blocks_text(self.harness.fake.message(card.channel, card.ts).blocks)

    def state(self) -> str:
        return self.harness.draft().state


class TeamsDriver:
    platform = "teams"
    author, chief = teams_h.TAKAHASHI, teams_h.SATO

    def __init__(self, harness: TeamsHarness) -> None:
        self.harness = harness

    async def draft(self, text: str) -> str:
        return await teams_flow.draft(self.harness, text)

    def submit_offered(self, handle: str) -> bool:
        return actions.SUBMIT in verbs(self.harness.card(handle).card)

    async def to_approval(self, handle: str) -> None:
        harness = self.harness
        await harness.click(self.author, harness.card(handle), actions.SUBMIT)
        await harness.settle()
        request = teams_flow.peer_request(harness, handle)
        checked = {teams_render.CHECKLIST: teams_flow.ALL_CHECKED}
        await harness.click(teams_h.ITO, request, actions.PEER_CHECK, checked)
        await harness.settle()

    async def approve(self, user: str) -> str | None:
        [card] = self.harness.fake.messages(teams_h.APPROVALS)
        data = {**card.card["refresh"]["action"]["data"], "checklist": teams_flow.ALL_CHECKED}
        reply = await self.harness.invoke(user, card, actions.APPROVE, data)
        await self.harness.settle()
        answer = reply.json()
        return str(answer["value"]) if answer["type"].endswith("activity.message") else None

    def thread(self, handle: str) -> str:
        return "\n".join(
            a.text + card_text(a.card) for a in self.harness.fake.thread(teams_h.DRAFTS, handle)
        )

    def chief_card(self) -> str:
        [card] = self.harness.approval_cards(self.chief)
        return card_text(card.card)

    def state(self) -> str:
        return self.harness.drafts()[0].state


@pytest.fixture(params=["slack", "teams"])
async def driver(
    request: pytest.FixtureRequest,
    *,
    fake_slack: FakeSlack,
    fake_teams: FakeTeams,
    database: Database,
    config: AppConfig,
    clock: FixedClock,
) -> AsyncIterator[Driver]:
    if request.param == "slack":
        harness: Any = SlackHarness(fake_slack, database, config, clock, slack_env(fake_slack))
        made: Driver = SlackDriver(harness)
    else:
        harness = TeamsHarness(fake_teams, database, config, clock, teams_env(fake_teams))
        made = TeamsDriver(harness)
    await harness.start()
    try:
        yield made
    finally:
        await harness.close()


Scenario = Callable[[Driver], Awaitable[None]]


async def clean_draft_is_approved(driver: Driver) -> None:
    handle = await driver.draft(CLEAN)
    assert driver.submit_offered(handle)
    await driver.to_approval(handle)
    assert "承認を依頼しました: 佐藤 恵子" in driver.thread(handle)
    assert "承認待ち" in driver.chief_card()
    assert await driver.approve(driver.chief) is None
    assert driver.state() in ("approved", "publishing", "published")
    assert "承認されました（佐藤 恵子）" in driver.thread(handle)
    assert "この承認依頼は終了しました" in driver.chief_card()


async def author_is_refused_at_the_click(driver: Driver) -> None:
    handle = await driver.draft(CLEAN)
    await driver.to_approval(handle)
    told = await driver.approve(driver.author)
    assert told is not None
    assert "この投稿案の作成者は承認できません" in told
    assert driver.state() == "awaiting_approval"


async def draft_with_an_error_offers_no_submit(driver: Driver) -> None:
    handle = await driver.draft(WITH_ERROR)
    assert not driver.submit_offered(handle)
    assert "12月5日(金)" in driver.thread(handle)  # the finding quotes what is wrong
    assert driver.state() == "draft"


SCENARIOS: dict[str, Scenario] = {
    "a clean draft is checked, peer-checked and approved": clean_draft_is_approved,
    "the author is refused at the approve click": author_is_refused_at_the_click,
    "a draft with an error offers no submit": draft_with_an_error_offers_no_submit,
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_scenario(driver: Driver, name: str) -> None:
    await SCENARIOS[name](driver)
