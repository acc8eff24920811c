"""Sign-in through the city's identity provider (OpenID Connect, a loopback fake provider)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot.app import build_app
from bot.config import AppConfig, ConfigError
from bot.web import CONSOLE_KEY
from storage.engine import Database
from storage.tables import AuditEvent
from tests.fakes.oidc import FakeOidc
from tests.handlers.conftest import FixedClock

SATO_AAD = "1f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a01"


@pytest.fixture
async def idp(clock: FixedClock) -> AsyncIterator[FakeOidc]:
    fake = FakeOidc(client_id="postgate-console", client_secret="s3cret")
    fake.clock = clock
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


async def _serve(
    database: Database, config: AppConfig, clock: FixedClock, idp: FakeOidc, match: str
) -> TestServer:
    environ = {
        "POSTGATE_OIDC_ISSUER": idp.url,
        "POSTGATE_OIDC_CLIENT_ID": "postgate-console",
        "POSTGATE_OIDC_CLIENT_SECRET": "s3cret",
        "POSTGATE_OIDC_MATCH": match,
    }
    app = build_app(config, database, environ=environ, clock=clock, timers=False)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    oidc = app[CONSOLE_KEY].oidc
    assert oidc is not None
    oidc.redirect_uri = str(server.make_url("/oidc/callback"))
    return server


async def _sign_in(server: TestServer) -> tuple[int, str, aiohttp.ClientSession]:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get(server.make_url("/signin")) as response:
        assert 'href="/oidc/signin"' in await response.text()
    async with session.get(server.make_url("/oidc/signin")) as response:
        return response.status, await response.text(), session


def _events(database: Database, action: str) -> list[AuditEvent]:
    with database.session(read_only=True) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


async def test_entra_id_signs_in_the_member_with_that_object_id(
    database: Database, config: AppConfig, clock: FixedClock, idp: FakeOidc
) -> None:
    server = await _serve(database, config, clock, idp, "teams_aad_id")
    idp.sign_in_as({"oid": SATO_AAD, "name": "Sato Keiko"})
    try:
        status, page, session = await _sign_in(server)
        async with session.get(server.make_url("/drafts")) as response:
            still_in = response.status
        await session.close()
        # A replayed callback (the state already used) signs nobody in.
        [authorize] = idp.requests_to("GET", "/authorize")
        state = authorize.query["state"]
        async with (
            aiohttp.ClientSession(
                cookie_jar=aiohttp.CookieJar(unsafe=True),
                cookies={"postgate_oidc_state": state},  # even with the browser's cookie
            ) as other,
            other.get(server.make_url(f"/oidc/callback?code=x&state={state}")) as replay,
        ):
            replayed = replay.status
    finally:
        await server.close()
    assert status == 200
    assert "佐藤 恵子（シティ・プロモーション課）" in page
    assert still_in == 200
    assert replayed == 400
    [signed_in] = _events(database, "web.signed_in")
    assert signed_in.actor == "sato.keiko"
    assert signed_in.details["oidc_subject"] == idp.next_claims["sub"]
    [authorize] = idp.requests_to("GET", "/authorize")
    assert authorize.query["nonce"]
    assert authorize.query["redirect_uri"].endswith("/oidc/callback")


async def test_slack_sign_in_matches_the_slack_user_id(
    database: Database, config: AppConfig, clock: FixedClock, idp: FakeOidc
) -> None:
    server = await _serve(database, config, clock, idp, "slack_user_id")
    idp.sign_in_as({"https://slack.com/user_id": "U0ITOMAKO", "oid": SATO_AAD})
    try:
        status, page, session = await _sign_in(server)
        await session.close()
    finally:
        await server.close()
    assert status == 200
    assert "伊藤 誠" in page


async def test_someone_the_provider_knows_but_app_yaml_does_not_is_turned_away(
    database: Database, config: AppConfig, clock: FixedClock, idp: FakeOidc
) -> None:
    server = await _serve(database, config, clock, idp, "teams_aad_id")
    idp.sign_in_as({"oid": "00000000-0000-0000-0000-000000000000"})
    try:
        status, page, session = await _sign_in(server)
        async with session.get(server.make_url("/"), allow_redirects=False) as response:
            after = response.status
        await session.close()
    finally:
        await server.close()
    assert status == 403
    assert "登録されていません" in page
    assert after == 303  # no session
    [refused] = _events(database, "web.signin_refused")
    assert refused.details["user"] == "00000000-0000-0000-0000-000000000000"
    assert _events(database, "web.signed_in") == []


async def test_an_id_token_for_another_client_is_refused(
    database: Database, config: AppConfig, clock: FixedClock, idp: FakeOidc
) -> None:
    server = await _serve(database, config, clock, idp, "teams_aad_id")
    idp.sign_in_as({"oid": SATO_AAD})
    idp.audience = "someone-else"
    try:
        status, page, session = await _sign_in(server)
        await session.close()
    finally:
        await server.close()
    assert status == 400
    assert "サインインを確認できませんでした" in page
    assert _events(database, "web.signed_in") == []


def test_a_half_configured_provider_is_named_at_start(
    database: Database, config: AppConfig, clock: FixedClock
) -> None:
    environ = {"POSTGATE_OIDC_ISSUER": "https://login.microsoftonline.com/t/v2.0"}
    with pytest.raises(ConfigError) as caught:
        build_app(config, database, environ=environ, clock=clock, timers=False)
    needed = "POSTGATE_OIDC_CLIENT_ID, POSTGATE_OIDC_CLIENT_SECRET も設定してください"
    assert needed in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        build_app(
            config,
            database,
            environ={"POSTGATE_WEB_SECURE_COOKIES": "sometimes"},
            clock=clock,
            timers=False,
        )
    assert "POSTGATE_WEB_SECURE_COOKIES" in str(caught.value)
