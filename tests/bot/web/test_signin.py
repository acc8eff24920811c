from __future__ import annotations

import logging
import re
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot.app import SERVICES_KEY, build_app
from bot.config import AppConfig
from bot.web.security import (
    SESSION_COOKIE,
    RedactingAccessLogger,
    WebSettings,
    issue_signin_link,
)
from handlers.drafts import Actor
from storage import web as tokens
from storage.engine import Database
from storage.tables import AuditEvent, WebToken
from tests.bot.web.conftest import Console
from tests.handlers.conftest import FixedClock
from tests.handlers.publishing_support import approve


async def test_a_sign_in_link_works_once_and_gives_a_safe_session_cookie(console: Console) -> None:
    link = console.link("takahashi.yui")
    token = link.rsplit("/", 1)[1]
    person = await console.browser()
    status, page = await person.get(f"/signin/{token}")
    assert status == 200
    assert "サインインする" in page  # a button: a link preview does not use the link
    async with person.session.post(
        person.url("/signin"), data={"token": token}, allow_redirects=False
    ) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/"
        cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP on 127.0.0.1
    status, page = await person.get("/")
    assert status == 200
    assert "高橋 結衣" in page

    again = await console.browser()
    status, page = await again.post("/signin", {"token": token})
    assert status == 400
    assert "使用済み" in page
    with console.db.session(read_only=True) as session:
        rows = session.exec(select(WebToken)).all()
        actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert token not in {r.token_hash for r in rows}  # only the hash is stored
    assert {r.token_hash for r in rows if r.kind == "signin"} == {tokens.token_hash(token)}
    assert actions.count("web.link_issued") == 1
    assert actions.count("web.signed_in") == 1


async def test_a_sign_in_link_expires_after_15_minutes_of_the_clock(console: Console) -> None:
    token = console.link("takahashi.yui").rsplit("/", 1)[1]
    console.clock.now += timedelta(minutes=15, seconds=1)
    person = await console.browser()
    status, page = await person.post("/signin", {"token": token})
    assert status == 400
    assert "15分" in page
    status, _ = await person.get("/", allow_redirects=False)
    assert status == 303


async def test_the_cookie_is_secure_behind_https(console: Console) -> None:
    token = console.link("sato.keiko").rsplit("/", 1)[1]
    person = await console.browser()
    async with person.session.post(
        person.url("/signin"),
        data={"token": token},
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
    ) as response:
        assert "Secure" in response.headers["Set-Cookie"]


async def test_pages_need_a_session_and_forms_a_csrf_token(console: Console) -> None:
    stranger = await console.browser()
    async with stranger.session.get(stranger.url("/drafts"), allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/signin"
    status, page = await stranger.get("/signin")
    assert "postgate web link --as" in page

    person = await console.signed_in("takahashi.yui")
    async with person.session.get(person.url("/")) as response:
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    status, page = await person.post(
        "/drafts",
        {"text": "お知らせです。", "accounts": "midori-x", "csrf": "forged"},
    )
    assert status == 403
    assert "別のサイトから送信" in page
    status, page = await person.get("/drafts?tab=mine")
    assert "該当する投稿案はありません" in page  # nothing was saved

    status, _ = await person.post("/signout")
    assert status == 200  # back on the sign-in page
    async with person.session.get(person.url("/"), allow_redirects=False) as response:
        assert response.status == 303


async def test_someone_not_in_app_yaml_sees_a_japanese_explanation(console: Console) -> None:
    with console.db.session() as session:
        secret, _ = tokens.issue(
            session,
            kind=tokens.TokenKind.SESSION,
            member_id="former.member",
            at=console.clock(),
            lifetime=timedelta(hours=1),
        )
    async with (
        aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), cookies={SESSION_COOKIE: secret}
        ) as session,
        session.get(console.server.make_url("/")) as response,
    ):
        assert response.status == 403
        page = await response.text()
    assert "app.yaml" in page
    assert "登録されていません" in page
    assert "カレンダー" not in page  # nothing else


async def test_healthz_still_answers_beside_the_console(console: Console) -> None:
    person = await console.browser()
    async with person.session.get(person.url("/healthz")) as response:
        assert response.status == 200
        assert (await response.json())["organisation"] == "みどり市"
    status, page = await person.get("/no-such-page")
    assert status == 404
    assert "このページはありません" in page
    async with person.session.put(person.url("/drafts")) as response:
        assert response.status == 405
        assert "このページはありません" in await response.text()
    async with person.session.get(person.url("/slack/nothing")) as response:
        assert response.status == 404
        assert "このページはありません" not in await response.text()  # not the console's


async def test_the_access_log_never_holds_a_sign_in_link_or_feed_token(
    database: Database, config: AppConfig, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_app(config, database, environ={}, clock=clock, timers=False)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server(access_log_class=RedactingAccessLogger)  # as `postgate serve`
    member = config.member("takahashi.yui")
    assert member is not None
    link = issue_signin_link(database, member, WebSettings(), at=clock())
    token = link.rsplit("/", 1)[1]
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with aiohttp.ClientSession() as session:
                for path in (f"/signin/{token}", f"/calendar.ics?token={token}&x=1"):
                    async with session.get(server.make_url(path)) as response:
                        await response.read()
    finally:
        await server.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 2
    assert token not in "\n".join(lines)
    assert "GET /signin/%5Bredacted%5D HTTP" in lines[0]
    assert "GET /calendar.ics?token=%5Bredacted%5D&x=1" in lines[1]


async def test_every_form_carries_the_csrf_token_and_no_page_the_session_secret(
    console: Console,
) -> None:
    services = console.server.app[SERVICES_KEY]
    draft_id = approve(services.drafts, console.config)
    incident = services.incidents.report(
        Actor("web", "ito.makoto"), kind="hijack", account_id="midori-x", notes="不審な投稿"
    )
    author = await console.signed_in("takahashi.yui")
    await author.post("/drafts", [("text", "お知らせ"), ("accounts", "midori-x")])
    person = await console.signed_in("sato.keiko")
    secret = next(c.value for c in person.session.cookie_jar if c.key == SESSION_COOKIE)
    pages = [
        "/",
        "/?view=week",
        "/feeds",
        "/drafts",
        "/drafts?tab=mine",
        "/drafts/new",
        f"/drafts/{draft_id}",
        f"/drafts/{draft_id + 1}",
        "/outbox",
        "/incidents",
        f"/incidents/{incident.id}",
        "/audit",
    ]
    forms = 0
    for path in pages:
        status, page = await person.get(path)
        assert status == 200, path
        assert secret not in page, path
        for form in re.findall(r'<form[^>]*method="post".*?</form>', page, re.S):
            forms += 1
            assert f'name="csrf" value="{person.csrf}"' in form, (path, form[:120])
    assert forms > 20
    status, page = await person.get("/drafts/999")
    assert status == 404
    assert "999" in page  # the use case's Japanese refusal, not a traceback
