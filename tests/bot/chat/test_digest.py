"""The weekly digest of next week's plan and its gaps, through real HTTP to a fake Slack and a
fake Bot Connector: sent at its slot to each section's drafts channel on both platforms, once a
week however many replicas tick and however often they restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest

from bot.app import DIGEST_KEY, SERVICES_KEY
from bot.config import AppConfig, DigestSettings
from handlers.drafts import NewDraft
from storage.engine import Database
from tests.bot.server_harness import running
from tests.bot.slack.harness import SlackHarness, slack_env
from tests.bot.teams import harness as teams_h
from tests.bot.teams.harness import teams_env
from tests.conftest import JST
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeTeams
from tests.handlers.conftest import FixedClock, slack
from tests.handlers.publishing_support import approve
from workflows.calendar import Weekday

MONDAY_0859 = datetime(2026, 11, 30, 8, 59, tzinfo=JST)  # the week after NOW's
NEXT_WEEK = datetime(2026, 12, 8, 10, 0, tzinfo=JST)  # Tuesday of the week the digest is about
PROMOTION, KANKYO, MUSEUM = "C0DRAFTS01", "C0KANKYO01", "C0MUSEUM01"


def env(fake_slack: FakeSlack, fake_teams: FakeTeams) -> dict[str, str]:
    return {
        **slack_env(fake_slack),
        **teams_env(fake_teams, POSTGATE_TEAMS_SERVICE_URL=fake_teams.service_url),
        "POSTGATE_WEB_URL": "https://postgate.city.example",
    }


@dataclass
class World:
    fake_slack: FakeSlack
    fake_teams: FakeTeams
    database: Database
    config: AppConfig
    clock: FixedClock


@pytest.fixture
def world(
    fake_slack: FakeSlack,
    fake_teams: FakeTeams,
    database: Database,
    config: AppConfig,
    clock: FixedClock,
) -> World:
    return World(fake_slack, fake_teams, database, config, clock)


@asynccontextmanager
async def replicas(
    count: int, w: World, config: AppConfig | None = None
) -> AsyncIterator[list[SlackHarness]]:
    """``count`` copies of ``postgate serve`` (Slack and Teams on) on one database."""
    variables = env(w.fake_slack, w.fake_teams)
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                running(
                    SlackHarness(w.fake_slack, w.database, config or w.config, w.clock, variables)
                )
            )
            for _ in range(count)
        ]


def plan_next_week(app_harness: SlackHarness) -> None:
    """midori-x (target 3 a week): one approved post and one awaiting its checks next week."""
    drafts = app_harness.app[SERVICES_KEY].drafts
    approve(drafts, app_harness.config, publish_at=NEXT_WEEK)
    author = slack("takahashi.yui", app_harness.config)
    waiting = drafts.create(
        author,
        NewDraft(
            "【みどり市】12月12日(土)に市民マラソンの受付を行います。",
            targets=("midori-x",),
            publish_at=NEXT_WEEK + timedelta(days=1),
        ),
    )
    drafts.submit(author, waiting.draft.id)


def slack_texts(fake: FakeSlack, channel: str) -> list[str]:
    return [m.text for m in fake.messages(channel) if "来週の投稿予定" in m.text]


def teams_texts(fake: FakeTeams, conversation: str) -> list[str]:
    return [a.text for a in fake.messages(conversation) if "来週の投稿予定" in a.text]


async def test_the_digest_goes_to_each_sections_channel_on_monday_at_nine(world: World) -> None:
    fake_slack, fake_teams, clock = world.fake_slack, world.fake_teams, world.clock
    async with replicas(2, world) as (one, two):
        plan_next_week(one)
        clock.now = MONDAY_0859
        assert await one.app[DIGEST_KEY].tick() == 0  # not yet
        assert slack_texts(fake_slack, PROMOTION) == []

        clock.now += timedelta(minutes=1)  # 09:00: both replicas tick at once
        sent = await asyncio.gather(one.app[DIGEST_KEY].tick(), two.app[DIGEST_KEY].tick())
        # Slack: three drafts channels (one section each); Teams: the City Promotion one.
        assert sum(sent) == 4
        [promotion] = slack_texts(fake_slack, PROMOTION)
        assert "*来週の投稿予定 12月7日(月)〜12月13日(日)（シティ・プロモーション課）*" in promotion
        assert (
            "みどり市（x）: 予定 2件／目標 週3件 — *あと1件* 足りません" in promotion
        )  # the approved post and the one waiting for its checks count
        assert "*予定 2件*" in promotion
        assert "12月8日(火) 10:00 みどり市（x）［予定］【みどり市】12月5日(土)10時から" in promotion
        assert "12月9日(水) 10:00 みどり市（x）［承認待ち］【みどり市】12月12日(土)に" in promotion
        assert (
            "<https://postgate.city.example/?view=week&date=2026-12-07&section="
            "%E3%82%B7%E3%83%86%E3%82%A3%E3%83%BB%E3%83%97%E3%83%AD%E3%83%A2%E3%83%BC%E3%82%B7"
            "%E3%83%A7%E3%83%B3%E8%AA%B2|カレンダー（週）で見る>" in promotion
        )
        [kankyo] = slack_texts(fake_slack, KANKYO)
        assert "（環境推進課）" in kankyo
        assert "来週の投稿予定はまだありません。" in kankyo
        assert "投稿目標" not in kankyo  # kankyo-x has no cadence
        assert len(slack_texts(fake_slack, MUSEUM)) == 1

        [teams] = teams_texts(fake_teams, teams_h.DRAFTS)  # the same text, as Teams markdown
        assert "🗓️ **来週の投稿予定 12月7日(月)〜12月13日(日)（シティ・プロモーション課）**" in teams
        assert "みどり市（x）: 予定 2件／目標 週3件 — **あと1件** 足りません" in teams
        assert "[カレンダー（週）で見る](https://postgate.city.example/?view=week" in teams

        clock.now += timedelta(hours=3)  # later ticks of the same week send nothing
        assert await one.app[DIGEST_KEY].tick() == 0
        assert await two.app[DIGEST_KEY].tick() == 0

    # A restart the same week (a new process on the same database): nothing again.
    async with replicas(1, world) as [restarted]:
        clock.now += timedelta(days=2)
        assert await restarted.app[DIGEST_KEY].tick() == 0
        assert len(slack_texts(fake_slack, PROMOTION)) == 1
        assert len(teams_texts(fake_teams, teams_h.DRAFTS)) == 1

        clock.now = MONDAY_0859 + timedelta(days=7, minutes=1)  # the next Monday: next week's
        assert await restarted.app[DIGEST_KEY].tick() == 4
        latest = slack_texts(fake_slack, PROMOTION)[-1]
        assert "12月14日(月)〜12月20日(日)" in latest
        assert "予定 0件／目標 週3件 — *あと3件* 足りません" in latest


async def test_a_digest_missed_while_down_goes_out_at_the_next_tick(world: World) -> None:
    fake_slack, clock = world.fake_slack, world.clock
    clock.now = MONDAY_0859 + timedelta(days=2, hours=5)  # down on Monday; up on Wednesday
    async with replicas(1, world) as [app]:
        assert await app.app[DIGEST_KEY].tick() == 4
        assert "12月7日(月)〜12月13日(日)" in slack_texts(fake_slack, PROMOTION)[0]


@pytest.mark.parametrize(
    ("digest", "quiet", "due"),
    [
        (  # Friday 16:30: not on Monday morning; at 16:30 on Friday, about the next week
            DigestSettings(day=Weekday.FRI, at=time(16, 30)),
            datetime(2026, 12, 4, 16, 29, tzinfo=JST),
            datetime(2026, 12, 4, 16, 30, tzinfo=JST),
        ),
        (DigestSettings(enabled=False), MONDAY_0859 + timedelta(days=1), None),
    ],
)
async def test_the_slot_is_configurable_and_the_digest_can_be_off(
    world: World,
    digest: DigestSettings,
    quiet: datetime,
    due: datetime | None,
) -> None:
    config = world.config.model_copy(update={"digest": digest})
    fake_slack, clock = world.fake_slack, world.clock
    clock.now = MONDAY_0859 + timedelta(minutes=1)
    async with replicas(1, world, config) as [app]:
        assert await app.app[DIGEST_KEY].tick() == 0  # Monday 09:00 is not its slot
        clock.now = quiet
        assert await app.app[DIGEST_KEY].tick() == 0
        if due is not None:
            clock.now = due
            assert await app.app[DIGEST_KEY].tick() == 4
            assert "12月7日(月)〜12月13日(日)" in slack_texts(fake_slack, PROMOTION)[0]
        else:
            assert slack_texts(fake_slack, PROMOTION) == []
