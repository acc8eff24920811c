"""The monitors with the real X and Facebook clients against the loopback fakes, on SQLite and
PostgreSQL: what the platform shows between polls, and the incidents (and alerts) it gives."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.config import AppConfig
from handlers.drafts import DraftUseCases
from handlers.incidents import IncidentUseCases
from handlers.monitors import (
    FedReplies,
    MentionReader,
    Monitor,
    MonitorReport,
    MonitorSettings,
    PollOutcome,
    ReplySeries,
    account_key,
    blind_watches,
    lookup_key,
    monitor_clients,
)
from handlers.publishing import OutboxSettings
from sns.base import SnsClient
from sns.dryrun import clients_for
from sns.factory import SnsSettings
from sns.watch import Mention, Mentions
from sns.x import XClient
from storage.engine import Database
from storage.tables import MonitorState
from tests.fakes import (  # noqa: F401 - the fixtures
    FakeGraph,
    FakeX,
    fake_graph_fixture,
    fake_x_fixture,
    sns_settings,
)
from tests.handlers.conftest import NOW, FixedClock
from tests.handlers.incident_support import (
    RecordingAlerts,
    audit_events,
    incident_uc,
    incidents,
    row_value,
)
from tests.handlers.publishing_support import (
    FAST_RETRY,
    RecordingNotifier,
    approve,
    make_outbox,
    publications,
)
from tests.handlers.test_anchors import RecordingAnnouncer
from workflows.incidents.flaming import FlameRules, Reply
from workflows.incidents.model import IncidentKind

SETTINGS = MonitorSettings(
    interval=timedelta(minutes=5),
    lookup_interval=timedelta(hours=6),
    flame=FlameRules(window=48),
)
HIJACK_TEXT = "【当選】みどり市から10万円をプレゼント！今すぐこちらから受け取ってください"
HOSTILE = [
    "ふざけるな、税金泥棒",
    "市長は辞めろ、ふざけるな",
    "バカにしてるのか",
    "死ね",
    "最低の市役所だ、ふざけるな",
]


@dataclass
class World:
    """postgate's monitor watching midori-x (X) and midori-facebook (Facebook) on the fakes, with
    every other account on the dry-run client; the same clock for postgate and the fakes."""

    db: Database
    config: AppConfig
    clock: FixedClock
    x: FakeX
    graph: FakeGraph
    drafts: DraftUseCases
    incidents: IncidentUseCases
    alerts: RecordingAlerts
    environ: dict[str, str]
    settings: SnsSettings
    monitors: list[Monitor] = field(default_factory=list)

    def monitor(
        self,
        *,
        replies: dict[str, MentionReader] | None = None,
        config: AppConfig | None = None,
        announcer: RecordingAnnouncer | None = None,
    ) -> Monitor:
        config = config or self.config
        clients: dict[str, SnsClient] = dict(
            clients_for(config, {}, SnsSettings(), db=self.db, clock=self.clock)
        )
        clients.update(
            monitor_clients(config.accounts, self.environ, self.settings, clock=self.clock)
        )
        uc = self.incidents if config is self.config else incident_uc(
            self.db, config, self.drafts, self.clock
        )  # fmt: skip
        monitor = Monitor(
            db=self.db,
            incidents=uc,
            clients=clients,
            alerts=self.alerts,
            replies=replies,
            settings=SETTINGS,
            clock=self.clock,
            announcer=announcer,
        )
        self.monitors.append(monitor)
        return monitor

    async def tick(self, monitor: Monitor, advance: timedelta = SETTINGS.interval) -> MonitorReport:
        self.clock.now += advance
        return await monitor.tick()


@pytest.fixture
async def world(
    *,
    db: Database,
    config: AppConfig,
    clock: FixedClock,
    usecases: DraftUseCases,
    fake_x: FakeX,
    fake_graph: FakeGraph,
) -> AsyncIterator[World]:
    fake_x.clock = clock  # the fakes keep postgate's (injected) time
    fake_graph.clock = clock
    given = {"midori-x": fake_x.credentials(), "midori-facebook": fake_graph.facebook_credentials()}
    environ = {
        variable: given[account.id][key]
        for account in config.accounts
        if account.id in given
        for key, variable in account.credentials.items()
    }
    settings = sns_settings(fake_x=fake_x, fake_graph=fake_graph, timeout=10.0)
    state = World(
        db,
        config,
        clock,
        fake_x,
        fake_graph,
        usecases,
        incident_uc(db, config, usecases, clock),
        RecordingAlerts(),
        environ,
        settings,
    )
    yield state
    for monitor in state.monitors:
        await monitor.close()


def monitor_state(db: Database, key: str) -> MonitorState | None:
    with db.session(read_only=True) as session:
        return session.exec(select(MonitorState).where(MonitorState.key == key)).first()


def timeline_reads(fake: FakeX) -> int:
    return len(fake.requests_to("GET", r"/2/users/\d+/tweets"))


# ---------------------------------------------------------------- watching


async def test_dry_run_accounts_are_not_watched_each_said_once_at_info(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="handlers.monitors"):
        monitor = world.monitor()
    assert sorted(monitor.watched) == ["midori-facebook", "midori-x"]
    skipped = [r.getMessage() for r in caplog.records if "not watching" in r.getMessage()]
    dry = sorted(a.id for a in world.config.accounts if a.id not in monitor.watched)
    assert sorted(m.split("not watching ")[1].split(":")[0] for m in skipped) == dry
    assert all(r.levelno == logging.INFO for r in caplog.records if "not watching" in r.message)


async def test_the_first_poll_records_the_baseline_and_alerts_nothing_for_history(
    world: World,
) -> None:
    world.x.add_tweet("昔からある投稿（postgate 導入前）", created_at=NOW - timedelta(days=2))
    world.graph.add_page_post("以前の投稿", created_time=NOW - timedelta(days=1))
    monitor = world.monitor()

    report = await monitor.tick()

    assert report.outcome(account_key("midori-x")) is PollOutcome.BASELINE
    assert report.outcome(account_key("midori-facebook")) is PollOutcome.BASELINE
    assert incidents(world.db) == []
    assert world.alerts.opened == []
    state = monitor_state(world.db, account_key("midori-x"))
    assert state is not None
    assert state.watching_since == NOW
    assert state.profile is not None
    assert state.profile["handle"] == "midori_city"
    assert state.profile["description"] == "みどり市の公式アカウントです。"


# ---------------------------------------------------------------- hijack


async def test_an_unknown_post_is_exactly_one_hijack_incident_with_its_text_and_link(
    world: World,
) -> None:
    monitor = world.monitor()
    await monitor.tick()
    world.clock.now += timedelta(minutes=1)
    post_id = world.x.add_tweet(HIJACK_TEXT)

    report = await world.tick(monitor)

    [view] = report.opened
    assert view.kind is IncidentKind.HIJACK
    assert view.account_id == "midori-x"
    assert "postgate を通していない投稿があります" in view.summary
    assert row_value(view, "本文") == HIJACK_TEXT
    assert row_value(view, "リンク") == f"https://x.com/midori_city/status/{post_id}"
    assert row_value(view, "投稿ID") == post_id
    assert row_value(view, "アカウント") == "みどり市（X @midori_city）"
    assert view.audience.mention_everyone
    assert view.audience.channel is not None
    assert view.audience.channel.slack == "C0ALERTS01"
    assert "sato.keiko" in view.audience.dm_member_ids  # the owning section's chief
    assert "kobayashi.takeshi" in view.audience.dm_member_ids  # Digital Promotion
    assert [v.id for v in world.alerts.opened] == [view.id]
    for _ in range(3):
        again = await world.tick(monitor)
        assert again.opened == ()
    [row] = incidents(world.db)
    assert row.dedupe_key == f"hijack:unknown-post:midori-x:{post_id}"
    assert row.created_by == "monitor"
    assert len(world.alerts.opened) == 1
    assert [a for _, a, _ in audit_events(world.db)] == ["incident.opened"]
    assert timeline_reads(world.x) == 5  # every poll read the timeline


async def test_a_post_postgate_published_is_not_an_incident(world: World) -> None:
    monitor = world.monitor()
    await monitor.tick()
    world.clock.now += timedelta(minutes=1)
    approve(world.drafts, world.config)
    clients = dict(clients_for(world.config, {}, SnsSettings(), db=world.db, clock=world.clock))
    clients["midori-x"] = XClient(
        world.x.credentials(), api_url=world.x.url, upload_url=world.x.url, clock=world.clock
    )
    box = make_outbox(world.db, world.config, world.clock, RecordingNotifier(), clients=clients)
    await box.run_once()
    await box.close(0)
    [publication] = publications(world.db)
    assert publication.state == "published"
    assert publication.platform_post_id == world.x.posted[0].id

    report = await world.tick(monitor)

    assert report.outcome(account_key("midori-x")) is PollOutcome.POLLED
    assert report.opened == ()
    assert incidents(world.db) == []


async def test_a_post_whose_id_the_outbox_has_not_recorded_yet_is_matched_by_its_text(
    world: World,
) -> None:
    monitor = world.monitor()
    await monitor.tick()
    world.clock.now += timedelta(minutes=1)
    approve(world.drafts, world.config)
    clients = dict(clients_for(world.config, {}, SnsSettings(), db=world.db, clock=world.clock))
    clients["midori-x"] = XClient(
        world.x.credentials(),
        api_url=world.x.url,
        upload_url=world.x.url,
        timeout=0.5,
        clock=world.clock,
    )
    settings = OutboxSettings(
        lease=timedelta(seconds=30), publish_timeout=timedelta(seconds=1), retry=FAST_RETRY
    )
    world.x.hang_next(method="POST", path="/2/tweets")  # X posts it, the answer never comes
    box = make_outbox(
        world.db, world.config, world.clock, RecordingNotifier(), clients=clients, settings=settings
    )
    await box.run_once()
    await box.close(0)
    [publication] = publications(world.db)
    assert publication.state == "sending"
    assert publication.platform_post_id is None
    assert len(world.x.posted) == 1  # on the timeline, as X shows it (links as t.co)

    report = await world.tick(monitor)

    assert report.opened == ()
    assert incidents(world.db) == []


async def test_a_profile_change_between_polls_is_one_incident_per_change(world: World) -> None:
    monitor = world.monitor()
    await monitor.tick()
    world.x.user["description"] = "副業で月100万円！詳しくはプロフィールのリンクから"

    report = await world.tick(monitor)

    [view] = report.opened
    assert view.kind is IncidentKind.HIJACK
    assert "自己紹介文が変わりました" in view.summary
    assert row_value(view, "変更前") == "みどり市の公式アカウントです。"
    assert row_value(view, "変更後") == "副業で月100万円！詳しくはプロフィールのリンクから"
    assert (await world.tick(monitor)).opened == ()
    assert (await world.tick(monitor)).opened == ()
    world.graph.page["name"] = "みどり市【公式】プレゼント企画"
    report = await world.tick(monitor)
    [facebook] = report.opened
    assert facebook.account_id == "midori-facebook"
    assert row_value(facebook, "変更された項目") == "表示名"
    assert len(incidents(world.db)) == 2
    assert len(world.alerts.opened) == 2


async def test_refused_credentials_are_one_auth_incident_per_streak(world: World) -> None:
    monitor = world.monitor()
    await monitor.tick()
    world.x.revoked = True

    report = await world.tick(monitor)

    [view] = report.opened
    assert view.kind is IncidentKind.HIJACK
    assert "認証情報がプラットフォームに拒否されています" in view.summary
    assert row_value(view, "応答") == "HTTP 401"
    for _ in range(3):
        assert (await world.tick(monitor)).opened == ()
    [row] = incidents(world.db)
    assert row.dedupe_key == "hijack:auth:midori-x:2026-11-24"
    state = monitor_state(world.db, account_key("midori-x"))
    assert state is not None
    assert state.auth_refused_since == NOW + SETTINGS.interval
    world.x.revoked = False
    await world.tick(monitor)
    state = monitor_state(world.db, account_key("midori-x"))
    assert state is not None
    assert state.auth_refused_since is None
    assert len(incidents(world.db)) == 1


async def test_a_platform_outage_is_no_incident_and_the_next_poll_carries_on(
    world: World,
) -> None:
    monitor = world.monitor()
    await monitor.tick()
    world.x.fail_next(503, method="GET", path="/2/users/me")

    report = await world.tick(monitor)

    assert report.outcome(account_key("midori-x")) is PollOutcome.FAILED
    assert report.outcome(account_key("midori-facebook")) is PollOutcome.POLLED
    assert report.opened == ()
    state = monitor_state(world.db, account_key("midori-x"))
    assert state is not None
    assert state.last_error is not None
    assert "503" in state.last_error
    world.clock.now += timedelta(minutes=1)
    world.x.add_tweet(HIJACK_TEXT)
    report = await world.tick(monitor)
    assert report.outcome(account_key("midori-x")) is PollOutcome.POLLED
    assert len(report.opened) == 1
    state = monitor_state(world.db, account_key("midori-x"))
    assert state is not None
    assert state.last_error is None


async def test_three_failed_polls_in_a_row_say_once_that_monitoring_is_blind_then_recovery(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    announcer = RecordingAnnouncer()
    monitor = world.monitor(announcer=announcer)
    caplog.set_level(logging.INFO, logger="handlers.monitors")
    await monitor.tick()
    # A too-small X tier: every read of the account is refused with 403.
    world.x.fail_next(403, count=4, method="GET", path="/2/users/me")
    for _ in range(2):
        report = await world.tick(monitor)
        assert report.outcome(account_key("midori-x")) is PollOutcome.FAILED
    assert announcer.lines == []  # two failures may be a blip
    await world.tick(monitor)
    [blind] = announcer.lines
    assert "監視できていません" in blind
    assert "3回続けて" in blind
    assert "403" in blind
    assert "プラン" in blind  # what to do about a 403
    assert set(announcer.mentioned[0]) == {"sato.keiko", "suzuki.hiroshi", "kobayashi.takeshi"}
    [watch] = blind_watches(world.db)
    assert (watch.account_id, watch.failed_polls) == ("midori-x", 3)
    await world.tick(monitor)  # still blind: said once only
    assert len(announcer.lines) == 1
    assert blind_watches(world.db)[0].failed_polls == 4
    await world.tick(monitor)  # the plan was upgraded: reads work again
    assert len(announcer.lines) == 2
    assert "監視を再開しました" in announcer.lines[1]
    assert blind_watches(world.db) == []
    polled = [
        r.getMessage() for r in caplog.records if "monitor: polled midori-x" in r.getMessage()
    ]
    assert polled  # the serve log says (INFO) when each account was polled


async def test_an_unknown_facebook_post_is_one_incident_too(world: World) -> None:
    monitor = world.monitor()
    await monitor.tick()
    world.clock.now += timedelta(minutes=2)
    post_id = world.graph.add_page_post("このページは売却されました。新しい公式はこちら")

    report = await world.tick(monitor)
    await world.tick(monitor)

    [view] = report.opened
    assert view.account_id == "midori-facebook"
    assert row_value(view, "リンク") == f"https://www.facebook.com/{post_id}"
    assert len(incidents(world.db)) == 1


# ---------------------------------------------------------------- impersonation


async def test_a_lookalike_account_is_one_impersonation_incident_with_score_and_reasons(
    world: World,
) -> None:
    world.x.add_user("midori_clty", "みどり市公式(偽)", description="みどり市の公式アカウントです")
    monitor = world.monitor()

    report = await monitor.tick()

    assert report.outcome(lookup_key()) is PollOutcome.POLLED
    [view] = report.opened
    assert view.kind is IncidentKind.IMPERSONATION
    assert view.account_id == "midori-x"
    assert "@midori_clty" in view.summary
    score = row_value(view, "スコア")
    assert score.endswith("（しきい値 60）")
    assert int(score.split(" / ")[0]) >= 60
    reasons = row_value(view, "理由")
    assert "ユーザー名 @midori_clty" in reasons
    assert "公式" in reasons
    [row] = incidents(world.db)
    assert row.dedupe_key == "impersonation:lookalike:x:midori_clty"
    data = row.evidence["data"]
    assert data["handle"] == "midori_clty"
    assert data["score"] >= 60
    assert data["reasons"]
    lookups = world.x.requests_to("GET", "/2/users/by")
    assert lookups
    assert all(len(r.query["usernames"].split(",")) <= 100 for r in lookups)
    assert "midori_clty" in ",".join(r.query["usernames"] for r in lookups).split(",")
    # Not due again for six hours; then the same impostor is no new incident.
    assert (await world.tick(monitor)).outcome(lookup_key()) is PollOutcome.NOT_DUE
    report = await world.tick(monitor, SETTINGS.lookup_interval)
    assert report.outcome(lookup_key()) is PollOutcome.POLLED
    assert report.opened == ()
    assert len(incidents(world.db)) == 1


async def test_the_real_account_and_allow_listed_lookalikes_never_alert(world: World) -> None:
    config = world.config.model_copy(
        update={"allowlist": (*world.config.allowlist, "midori_city_jp")}
    )
    world.x.add_user("midori_city_jp", "みどり市公式", description="みどり市の公式ファンです")
    monitor = world.monitor(config=config)

    report = await monitor.tick()

    assert report.outcome(lookup_key()) is PollOutcome.POLLED
    assert report.opened == ()
    assert incidents(world.db) == []
    asked = ",".join(r.query["usernames"] for r in world.x.requests_to("GET", "/2/users/by"))
    assert "midori_city_jp" not in asked.split(",")  # known: never even looked up
    assert "midori_city" not in asked.split(",")


# ---------------------------------------------------------------- flaming


def _baseline_traffic(fake: FakeX, hours: int = 48) -> str:
    """An older post, and one reply an hour to it for ``hours`` hours; returns the post's id."""
    post = fake.add_tweet("市民まつりのお知らせ", created_at=NOW - timedelta(hours=hours + 1))
    for hour in range(hours):
        fake.add_reply(
            "楽しみにしています", to=post, created_at=NOW - timedelta(hours=hour, minutes=10)
        )
    return post


async def test_a_reply_surge_is_a_flaming_incident_with_counts_and_samples(world: World) -> None:
    _baseline_traffic(world.x)
    post = world.x.add_tweet("ごみ袋の有料化について", created_at=NOW - timedelta(hours=2))
    monitor = world.monitor()
    first = await monitor.tick()
    assert first.outcome(account_key("midori-x")) is PollOutcome.BASELINE
    state = monitor_state(world.db, account_key("midori-x"))
    assert state is not None
    assert state.replies["counts"] == [1] * 48
    for minute in range(30):
        world.x.add_reply(
            HOSTILE[minute % len(HOSTILE)], to=post, created_at=NOW + timedelta(minutes=minute)
        )

    report = await world.tick(monitor, timedelta(minutes=35))

    [view] = report.opened
    assert view.kind is IncidentKind.FLAMING
    assert row_value(view, "本文") == "ごみ袋の有料化について"
    assert row_value(view, "返信・メンション").startswith("30件")
    assert "中央値1件" in row_value(view, "平常時")
    assert "ふざけるな" in row_value(view, "返信の例")
    assert "返信が平常時を大きく上回っています" in row_value(view, "判定理由")
    [row] = incidents(world.db)
    assert row.dedupe_key == f"flaming:surge:midori-x:{post}"
    assert row.evidence["data"]["count"] == 30
    for _ in range(2):
        assert (await world.tick(monitor)).opened == ()


async def test_normal_reply_traffic_is_no_incident(world: World) -> None:
    _baseline_traffic(world.x)
    post = world.x.add_tweet("図書館の休館日のお知らせ", created_at=NOW - timedelta(hours=2))
    monitor = world.monitor()
    await monitor.tick()
    world.x.add_reply("ありがとうございます", to=post, created_at=NOW + timedelta(minutes=3))
    world.x.add_reply("了解です", to=post, created_at=NOW + timedelta(minutes=20))

    for _ in range(4):
        assert (await world.tick(monitor, timedelta(minutes=15))).opened == ()
    assert incidents(world.db) == []
    state = monitor_state(world.db, account_key("midori-x"))
    assert state is not None
    assert len(state.replies["counts"]) == 48  # one more complete hour, the oldest dropped
    assert state.replies["counts"][-1] == 2  # the two new replies, 10:00-11:00


async def test_replies_fed_for_a_platform_without_a_reader_are_watched_too(world: World) -> None:
    post = world.graph.add_page_post(
        "花火大会の中止について", created_time=NOW - timedelta(hours=1)
    )
    fed = FedReplies()
    fed.feed(
        None,
        [Reply("コメント", NOW - timedelta(hours=h, minutes=30), f"old{h}") for h in range(1, 49)],
    )
    monitor = world.monitor(replies={"midori-facebook": fed})
    await monitor.tick()
    fed.feed(post, [Reply(HOSTILE[i % 5], NOW + timedelta(minutes=i), f"r{i}") for i in range(25)])

    report = await world.tick(monitor, timedelta(minutes=30))

    [view] = report.opened
    assert view.kind is IncidentKind.FLAMING
    assert view.account_id == "midori-facebook"
    assert row_value(view, "リンク") == f"https://www.facebook.com/{post}"


# ---------------------------------------------------------------- one replica per account


async def test_two_monitors_polling_the_same_account_at_once_open_one_incident(
    world: World,
) -> None:
    first, second = world.monitor(), world.monitor()
    await first.poll("midori-x")
    world.clock.now += timedelta(minutes=1)
    world.x.add_tweet(HIJACK_TEXT)
    world.clock.now += SETTINGS.interval
    reads_before = timeline_reads(world.x)
    world.x.delay_next(0.5, method="GET", path="/2/users/me")  # the winner holds the lock a while

    reports = await asyncio.gather(first.poll("midori-x"), second.poll("midori-x"))

    assert len(incidents(world.db)) == 1
    assert sum(len(r.opened) for r in reports) == 1
    assert len(world.alerts.opened) == 1  # SQLite: both polled; the UNIQUE key kept it to one
    if world.db.is_postgres:  # the advisory lock: one replica polled, the other stood aside
        # (LOCKED while the winner polls; NOT_DUE had it asked after the winner finished)
        outcomes = sorted(r.outcome for r in reports)
        assert outcomes in (
            [PollOutcome.LOCKED, PollOutcome.POLLED],
            [PollOutcome.NOT_DUE, PollOutcome.POLLED],
        )
        assert timeline_reads(world.x) == reads_before + 1
    world.clock.now += SETTINGS.interval  # the lock was released: the next poll goes ahead
    assert (await second.poll("midori-x")).outcome is PollOutcome.POLLED


# ---------------------------------------------------------------- the replies baseline (pure)


def test_reply_series_counts_complete_buckets_only_and_keeps_the_window() -> None:
    hour = timedelta(hours=1)
    mentions = Mentions(
        tuple(Mention(str(i), "x", NOW - timedelta(minutes=10 + 60 * i)) for i in range(5)),
        since=NOW - 5 * hour,
    )
    series = ReplySeries(hour).extend(mentions, now=NOW + timedelta(minutes=30), window=3)
    assert series.counts == (1, 1, 1)
    assert series.start == NOW - 3 * hour
    cut = Mentions(mentions.items[:2], since=NOW - 5 * hour, complete=False)
    partial = ReplySeries(hour).extend(cut, now=NOW, window=10)
    assert partial.start == NOW - hour  # before the oldest mention read, nothing is known
    assert partial.counts == (1,)
    assert ReplySeries.from_json(series.to_json(), hour) == series
    assert ReplySeries.from_json(series.to_json(), 2 * hour) == ReplySeries(2 * hour)
