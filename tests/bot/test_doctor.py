"""`postgate doctor` against the loopback fakes: real clients, real requests, read-only calls."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.doctor import Report, Status, diagnose, print_report
from storage.engine import Database
from storage.migrate import upgrade
from tests.bot.teams.harness import APP_SECRET, teams_env
from tests.fakes.graph import FakeGraph
from tests.fakes.line import FakeLine
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeTeams, pem, self_signed
from tests.fakes.x import FakeX
from workflows.catalogue import Lang

REPO = Path(__file__).resolve().parents[2]

APP_YAML = """\
organisation: {name: みどり市}
sections:
  - {name: シティ・プロモーション課, chief: sato, city_promotion: true}
members:
  - {id: sato, name: 佐藤 恵子, section: シティ・プロモーション課, slack_user_id: U0SATO}
accounts:
  - id: midori-x
    platform: x
    handle: midori_city
    display_name: みどり市
    owner_section: シティ・プロモーション課
    approving_section: シティ・プロモーション課
    credentials: {consumer_key: X_CK, consumer_secret: X_CS, access_token: X_AT,
                  access_token_secret: X_ATS}
  - id: midori-facebook
    platform: facebook
    handle: midori.city
    display_name: みどり市
    owner_section: シティ・プロモーション課
    approving_section: シティ・プロモーション課
    credentials: {page_id: FB_PAGE, page_access_token: FB_TOKEN, app_secret: GRAPH_SECRET}
  - id: midori-instagram
    platform: instagram
    handle: midori_city
    display_name: みどり市
    owner_section: シティ・プロモーション課
    approving_section: シティ・プロモーション課
    credentials: {ig_user_id: IG_USER, access_token: IG_TOKEN, app_secret: GRAPH_SECRET}
  - id: midori-line
    platform: line
    handle: "@midori"
    display_name: みどり市
    owner_section: シティ・プロモーション課
    approving_section: シティ・プロモーション課
    credentials: {channel_access_token: LINE_TOKEN}
channels:
  drafts: [{slack: C0DRAFTS}]
  approvals: {slack: C0APPROVE}
  alerts: {slack: C0ALERTS}
"""


@dataclass
class World:
    config: Path
    environ: dict[str, str]
    x: FakeX
    graph: FakeGraph
    line: FakeLine
    slack: FakeSlack

    async def diagnose(self, *, skew: timedelta = timedelta(0)) -> Report:
        return await diagnose(
            config_file=str(self.config),
            environ=self.environ,
            clock=lambda: datetime.now(UTC) + skew,
        )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    config = tmp_path / "app.yaml"
    config.write_text(APP_YAML, encoding="utf-8")
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade(db)
    db.dispose()
    async with FakeX() as x, FakeGraph() as graph, FakeLine() as line, FakeSlack() as slack:
        slack.channels.update({"C0DRAFTS": True, "C0APPROVE": True, "C0ALERTS": True})
        creds = x.credentials()
        fb, ig = graph.facebook_credentials(), graph.instagram_credentials()
        environ = {
            "POSTGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
            "POSTGATE_X_API_URL": x.url,
            "POSTGATE_X_UPLOAD_URL": x.url,
            "POSTGATE_GRAPH_API_URL": graph.api_url,
            "POSTGATE_LINE_API_URL": line.url,
            "POSTGATE_SNS_TIMEOUT": "5",
            "X_CK": creds["consumer_key"],
            "X_CS": creds["consumer_secret"],
            "X_AT": creds["access_token"],
            "X_ATS": creds["access_token_secret"],
            "FB_PAGE": fb["page_id"],
            "FB_TOKEN": fb["page_access_token"],
            "GRAPH_SECRET": fb["app_secret"],
            "IG_USER": ig["ig_user_id"],
            "IG_TOKEN": ig["access_token"],
            "LINE_TOKEN": line.credentials()["channel_access_token"],
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": "not-used-by-doctor",
            "SLACK_API_URL": slack.api_url,
        }
        yield World(config, environ, x, graph, line, slack)


def row(report: Report, starts: str) -> tuple[Status, str, str]:
    [found] = [r for r in report.rows if r.item.startswith(starts)]
    return found.status, found.result, found.fix


async def test_everything_set_up_is_all_ticks_from_read_only_calls(world: World) -> None:
    report = await world.diagnose()
    assert report.blocking == 0, report
    statuses = {r.item: r.status for r in report.rows}
    assert statuses.pop("Microsoft Teams") is Status.NOT_APPLICABLE
    assert set(statuses.values()) == {Status.OK}, statuses
    assert row(report, "midori-x（")[1] == "認証情報は有効です（みどり市 @midori_city）"
    assert row(report, "Slack チャンネル C0APPROVE")[1] == (
        "#channel-c0approve にボットが参加しています"
    )
    assert len([r for r in report.rows if r.item.startswith("時刻")]) == 4  # X, Graph, LINE, Slack
    # Read-only: who am I, the page, the IG user, the bot's info; nothing was posted.
    assert world.x.requests_to("GET", "/2/users/me")
    assert world.line.requests_to("GET", "/v2/bot/info")
    assert not world.x.posted
    assert not world.line.broadcasts
    assert not world.graph.posted_to_page
    assert [c.method for c in world.slack.calls] == ["auth.test"] + ["conversations.info"] * 3


async def test_an_expired_token_and_a_missing_membership_block_publishing(world: World) -> None:
    world.x.revoked = True
    world.slack.channels["C0APPROVE"] = False
    del world.slack.channels["C0DRAFTS"]
    report = await world.diagnose()
    assert report.blocking == 3
    status, result, fix = row(report, "midori-x（")
    assert status is Status.BLOCKING
    assert result.startswith("認証情報が拒否されました（期限切れ・失効・変更のおそれ）")
    assert "トークンを発行し直して" in fix
    status, result, fix = row(report, "Slack チャンネル C0APPROVE（承認）")
    assert (status, result) == (Status.BLOCKING, "#channel-c0approve にボットが参加していません")
    assert fix == "チャンネルで /invite @postgate を実行してボットを招待してください。"
    status, result, _ = row(report, "Slack チャンネル C0DRAFTS（投稿案）")
    assert (status, result) == (Status.BLOCKING, "チャンネルが見つかりません（channel_not_found）")
    assert row(report, "midori-line（")[0] is Status.OK
    out = io.StringIO()
    print_report(report, out, Lang.JA, at=datetime.now(UTC))
    printed = out.getvalue()
    assert "✗ midori-x（x midori_city）" in printed
    assert "  → チャンネルで /invite @postgate を実行してボットを招待してください。" in printed
    assert printed.rstrip().endswith(
        "投稿を止める問題が3件あります。上の「→」の対処をしてください。"
    )
    assert world.x.consumer_secret not in printed


async def test_a_revoked_slack_token_and_unset_variables(world: World) -> None:
    world.environ["SLACK_BOT_TOKEN"] = "xoxb-revoked"
    del world.environ["LINE_TOKEN"]
    world.graph.revoked = True
    report = await world.diagnose()
    [slack] = [r for r in report.rows if r.item == "Slack"]
    assert (slack.status, slack.result) == (
        Status.BLOCKING,
        "トークンが拒否されました（invalid_auth）",
    )
    status, result, fix = row(report, "midori-line（")
    assert (status, result) == (Status.BLOCKING, "環境変数が設定されていません: LINE_TOKEN")
    assert "LINE_TOKEN" in fix
    assert row(report, "midori-facebook（")[0] is Status.BLOCKING
    assert row(report, "midori-instagram（")[0] is Status.BLOCKING
    assert not any(r.item.startswith("Slack チャンネル") for r in report.rows)


async def test_a_clock_minutes_off_the_platforms_blocks(world: World) -> None:
    report = await world.diagnose(skew=timedelta(minutes=10))
    clocks = [r for r in report.rows if r.item.startswith("時刻")]
    assert clocks
    assert {r.status for r in clocks} == {Status.BLOCKING}
    assert all(r.result.endswith("秒ずれています") for r in clocks)
    assert "NTP" in clocks[0].fix


async def test_an_unmigrated_database_says_to_upgrade(world: World, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    Database(f"sqlite:///{fresh}").dispose()
    fresh.touch()
    world.environ["POSTGATE_DATABASE_URL"] = f"sqlite:///{fresh}"
    report = await world.diagnose()
    status, result, fix = row(report, "データベース")
    assert status is Status.BLOCKING
    assert result.startswith("構造が古い版です（-、必要: ")
    assert fix == "postgate を止めて postgate db upgrade を実行してください。"
    assert row(report, "空き容量")[0] in (Status.OK, Status.WARNING)


def test_the_command_exits_1_and_speaks_english_on_request(tmp_path: Path) -> None:
    broken = tmp_path / "app.yaml"
    broken.write_text("organisation: [\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGATE_", "SLACK_"))}
    env["POSTGATE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'none.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(broken), "doctor"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert f"✗ 設定ファイル {broken}" in done.stdout
    assert "postgate config check で一覧を確かめ" in done.stdout
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "none.db").exists()  # doctor does not create the database
    english = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(broken), "doctor", "--lang", "en"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert english.returncode == 1
    assert f"✗ configuration {broken}" in english.stdout
    assert "block publishing" in english.stdout


PG_URL = os.environ.get("POSTGATE_TEST_DATABASE_URL", "")


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: set POSTGATE_TEST_DATABASE_URL")
async def test_postgresql_reachable_migrated_and_writable() -> None:
    from sqlalchemy import create_engine, text

    schema = f"postgate_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        environ = {"POSTGATE_DATABASE_URL": url}
        before = await diagnose(config_file=str(REPO / "app.yaml"), environ=environ, clock=now)
        assert row(before, "データベース")[0] is Status.BLOCKING
        assert row(before, "データベース")[2].startswith("postgate を止めて postgate db upgrade")
        db = Database(url)
        upgrade(db)
        db.dispose()
        after = await diagnose(config_file=str(REPO / "app.yaml"), environ=environ, clock=now)
        status, result, _ = row(after, "データベース")
        assert (status, result.split("（")[0]) == (Status.OK, "接続・書き込みとも可能、最新の版")
        assert row(after, "空き容量")[0] is Status.NOT_APPLICABLE
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def now() -> datetime:
    return datetime.now(UTC)


async def test_the_teams_token_is_asked_for_and_a_wrong_secret_blocks(world: World) -> None:
    async with FakeTeams(app_secret=APP_SECRET) as teams:
        world.environ.update(teams_env(teams))
        report = await world.diagnose()
        host = teams.url.removeprefix("http://")
        assert row(report, "Microsoft Teams")[1] == f"ボットのトークンを取得できました（{host}）"
        assert teams.tokens_issued == 1
        world.environ["POSTGATE_TEAMS_APP_SECRET"] = "expired-secret"
        report = await world.diagnose()
    status, result, fix = row(report, "Microsoft Teams")
    assert status is Status.BLOCKING
    assert result == "ボットのトークンが発行されませんでした（HTTP 401）"
    assert "クライアントシークレット" in fix
    assert report.blocking >= 1
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        world.environ.pop(name, None)
    report = await world.diagnose()  # a city on Teams only: Slack off blocks nothing
    assert row(report, "Slack")[0] is Status.NOT_APPLICABLE


async def test_the_teams_token_is_asked_for_with_a_certificate(
    world: World, tmp_path: Path
) -> None:
    """POSTGATE_TEAMS_CERT_FILE instead of the secret: the same token request, signed with
    the certificate; its expiry is shown, and one that is near or past asks for a new one."""
    path = tmp_path / "postgate-teams.pem"
    async with FakeTeams(app_secret=APP_SECRET) as teams:
        world.environ.update(teams_env(teams, POSTGATE_TEAMS_CERT_FILE=str(path)))
        del world.environ["POSTGATE_TEAMS_APP_SECRET"]
        host = teams.url.removeprefix("http://")
        for days, status in ((365, Status.OK), (10, Status.WARNING)):
            key, cert = self_signed(now(), days=days)
            path.write_bytes(pem(key, cert))
            teams.certificate = cert
            status_seen, result, fix = row(await world.diagnose(), "Microsoft Teams")
            until = cert.not_valid_after_utc.date().isoformat()
            issued = f"ボットのトークンを証明書で取得できました（{host}、証明書の有効期限 {until}）"
            assert result == issued
            assert status_seen is status
            assert ("新しい証明書を作って" in fix) is (status is Status.WARNING)
        assert len(teams.assertions) == 2

        teams.certificate = self_signed(now())[1]  # not the one uploaded
        status_seen, result, fix = row(await world.diagnose(), "Microsoft Teams")
        assert status_seen is Status.BLOCKING
        assert result == "ボットのトークンが発行されませんでした（HTTP 401）"
        assert "証明書（アップロード済みか）" in fix

        key, cert = self_signed(now() - timedelta(days=30), days=20)
        path.write_bytes(pem(key, cert))
        teams.certificate = cert
        status_seen, result, fix = row(await world.diagnose(), "Microsoft Teams")
        assert status_seen is Status.BLOCKING
        assert result.startswith("証明書の有効期限が切れています")
        assert teams.tokens_issued == 2  # an expired certificate is not even tried

        path.write_bytes(pem(key, None))
        for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
            world.environ.pop(name, None)
        report = await world.diagnose()
    status_seen, result, fix = row(report, "Microsoft Teams")
    assert status_seen is Status.BLOCKING
    assert result.startswith("証明書を使えません: POSTGATE_TEAMS_CERT_FILE: 証明書ファイル")
    assert "Entra ID のアプリ登録（証明書とシークレット）にアップロード" in fix
    assert row(report, "Slack")[0] is Status.NOT_APPLICABLE  # a Teams city, its row blocks
