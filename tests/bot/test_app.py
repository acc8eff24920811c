from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot.app import build_app, synchronise
from bot.config import load_config
from handlers.drafts import DraftUseCases
from storage.engine import Database
from storage.migrate import upgrade
from storage.tables import AuditEvent, DryRunPost, MonitorState, Publication
from tests.handlers.publishing_support import approve

REPO = Path(__file__).resolve().parents[2]


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
            return await response.json()

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
        body = None
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
                    chunks = []
                    while chunk := conn.recv(4096):  # HTTP/1.0: the server closes when done
                        chunks.append(chunk)
                    body = b"".join(chunks).decode()
                    break
            except OSError:
                if server.poll() is not None:
                    pytest.fail((tmp_path / "serve.log").read_text())
                time.sleep(0.1)
        assert body is not None
        assert "200 OK" in body
        assert json.loads(body.split("\r\n\r\n", 1)[1])["organisation"] == "みどり市"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert "configuration changes recorded" in (tmp_path / "serve.log").read_text()


async def test_the_timer_publishes_at_start_up_and_every_second(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade(db)
    config = load_config(REPO / "app.yaml")
    synchronise(config, db)
    drafts = DraftUseCases(
        db=db,
        directory=config.directory,
        check_settings=config.checks,
        calendar_for=config.calendar,
    )
    before_start = approve(drafts, config)  # due now, while postgate is not running
    server = TestServer(build_app(config, db, environ={}), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        assert await _published_within(db, before_start, seconds=5)
        while_running = approve(drafts, config, targets=("kankyo-x",))
        assert await _published_within(db, while_running, seconds=5)
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
