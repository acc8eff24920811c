from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot.app import build_app, build_monitor, build_services, log_polls, synchronise
from bot.config import load_config
from handlers.drafts import DraftUseCases
from storage.engine import Database
from storage.migrate import upgrade
from storage.tables import AuditEvent, DryRunPost, MonitorState, Publication
from tests.fakes.x import FakeX
from tests.handlers.conftest import NOW, FixedClock, RunningClock
from tests.handlers.publishing_support import approve
from workflows.catalogue import Lang

REPO = Path(__file__).resolve().parents[2]
STARTUP_LIMIT_SECONDS = 120


async def test_healthz_reports_the_loaded_organisation_and_blind_monitors(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade(db)
    server = TestServer(build_app(load_config(REPO / "app.yaml"), db), host="127.0.0.1", port=0)
    await server.start_server()

    async def healthz() -> object:
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.make_url("/healthz")) as response,
        ):
            assert response.status == 200
            assert response.charset == "utf-8"
            raw = await response.read()
            assert "みどり市".encode() in raw  # UTF-8 as it is, not \uXXXX escapes
            return json.loads(raw)

    try:
        body = await healthz()
        since = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
        with db.session() as session:
            session.add(
                MonitorState(
                    key="account:midori-x",
                    account_id="midori-x",
                    watching_since=since,
                    last_error="x HTTP 403: Forbidden",
                    failed_polls=3,
                    blind_since=since,
                )
            )
        blind = await healthz()
    finally:
        await server.close()
        db.dispose()
    assert body == {
        "status": "ok",
        "organisation": "みどり市",
        "accounts": 9,
        "monitoring_blind": [],
    }
    assert blind == {
        "status": "degraded",
        "organisation": "みどり市",
        "accounts": 9,
        "monitoring_blind": [
            {
                "account": "midori-x",
                "since": "2026-11-24T01:00:00+00:00",
                "failed_polls": 3,
                "error": "x HTTP 403: Forbidden",
            }
        ],
    }


def test_configuration_is_mirrored_and_audited_once(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade(db)
    config = load_config(REPO / "app.yaml")
    first = synchronise(config, db)
    assert first == len(config.sections) + len(config.members) + len(config.accounts)
    assert synchronise(config, db) == 0
    with db.session(read_only=True) as session:
        actions = {e.action for e in session.exec(select(AuditEvent)).all()}
    db.dispose()
    assert {"config.section.added", "config.member.added", "config.account.added"} <= actions


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTGATE_")}
    env["POSTGATE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.db'}"
    return env


def _healthz_when_up(port: int, server: subprocess.Popen[bytes], log: Path) -> str:
    """The raw answer to GET /healthz once the server is up; fails with its log if it dies or
    is not up within a generous limit (a loaded machine starts slowly)."""
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                conn.sendall(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
                chunks = []
                while chunk := conn.recv(4096):  # HTTP/1.0: the server closes when done
                    chunks.append(chunk)
                return b"".join(chunks).decode()
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"postgate serve exited {server.returncode}:\n{log.read_text()}")
            time.sleep(0.1)  # polling, not waiting for luck: the deadline is the limit
    pytest.fail(f"postgate serve not up after {STARTUP_LIMIT_SECONDS} s:\n{log.read_text()}")


def test_serve_refuses_an_unmigrated_database_then_runs_after_upgrade(tmp_path: Path) -> None:
    env = _env(tmp_path)
    cli = [sys.executable, "-m", "bot.cli"]
    refused = subprocess.run(
        [*cli, "serve", "--port", "0"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "postgate db upgrade" in refused.stderr
    upgraded = subprocess.run(
        [*cli, "db", "upgrade"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        body = _healthz_when_up(port, server, tmp_path / "serve.log")
        assert "200 OK" in body
        assert json.loads(body.split("\r\n\r\n", 1)[1])["organisation"] == "みどり市"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    logged = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert "postgate を起動しました: みどり市（所属 6、アカウント 9）" in logged
    assert "試験モード（実際には投稿しません）のアカウント: " in logged
    assert "Slack連携は無効です" in logged
    assert "Teams は無効です" in logged


async def test_serve_log_lines_are_english_on_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade(db)
    config = load_config(REPO / "app.yaml")
    caplog.set_level(logging.INFO)
    build_app(config, db, environ={"MIDORI_LINE_CHANNEL_TOKEN": "t" * 20}, lang=Lang.EN)
    db.dispose()
    logged = caplog.text
    assert "publishing for real to: midori-line" in logged
    assert "dry run (no credentials, nothing is really posted) for: " in logged
    assert "watching for hijacking, impersonation and flaming: midori-line (every 5 min)" in logged
    assert "Teams is off (set POSTGATE_TEAMS_APP_ID" in logged
    assert "試験モード" not in logged


async def test_the_timer_publishes_at_start_up_and_every_second(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade(db)
    config = load_config(REPO / "app.yaml")
    clock = RunningClock(NOW)  # the real timer, on a calendar where the drafts' dates are right
    synchronise(config, db, clock=clock)
    drafts = DraftUseCases(
        db=db,
        directory=config.directory,
        check_settings=config.checks,
        calendar_for=config.calendar,
        clock=clock,
    )
    before_start = approve(drafts, config)  # due now, while postgate is not running
    server = TestServer(build_app(config, db, environ={}, clock=clock), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        assert await _published_within(db, before_start, seconds=60)
        while_running = approve(drafts, config, targets=("kankyo-x",))
        assert await _published_within(db, while_running, seconds=60)
    finally:
        await server.close()
        db.dispose()
    with db.session(read_only=True) as session:
        posts = session.exec(select(DryRunPost)).all()
    assert sorted(p.account_id for p in posts) == ["kankyo-x", "midori-x"]


async def _published_within(db: Database, draft_id: int, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with db.session(read_only=True) as session:
            rows = session.exec(select(Publication).where(Publication.draft_id == draft_id)).all()
        if rows and all(r.state == "published" for r in rows):
            return True
        await asyncio.sleep(0.1)
    return False


async def test_polls_and_incidents_are_logged_for_the_administrator(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade(db)
    config = load_config(REPO / "app.yaml")
    synchronise(config, db)
    started = datetime.now(UTC)
    clock = FixedClock(started)
    async with FakeX() as x:
        x.clock = clock
        [account] = [a for a in config.accounts if a.id == "midori-x"]
        environ = {env: x.credentials()[key] for key, env in account.credentials.items()}
        environ |= {"POSTGATE_X_API_URL": x.url, "POSTGATE_X_UPLOAD_URL": x.url}
        services = build_services(config, db, clock=clock)
        caplog.set_level(logging.INFO)
        monitor = build_monitor(config, db, environ, incidents=services.incidents, clock=clock)
        try:
            log_polls(await monitor.tick(), Lang.JA)  # the baseline
            clock.now = started + timedelta(minutes=6)
            x.add_tweet("本日限りの無料プレゼント！ こちらから http://example.invalid")
            log_polls(await monitor.tick(), Lang.JA)
        finally:
            await monitor.close()
            db.dispose()
    logged = caplog.text
    assert "乗っ取り・なりすまし・炎上を監視するアカウント: midori-x（5分ごと）" in logged
    assert "監視: midori-x を確認しました。" in logged
    assert "インシデント #1（乗っ取り、midori-x）: " in logged
    assert "連絡先: " in logged
