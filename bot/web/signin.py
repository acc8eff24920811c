"""Sign-in pages: one-time links, OpenID Connect (Entra ID / Slack), sign-out."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from bot.web import security
from bot.web.console import (
    CONSOLE_KEY,
    Console,
    form_of,
    redirect,
    render,
    run,
    signed_in,
    t,
    text_field,
)
from bot.web.oidc import OidcError
from bot.web.security import Viewer
from storage import audit

routes = web.RouteTableDef()
log = logging.getLogger(__name__)

# ---------------------------------------------------------------- sign-in


def _signin_page(
    request: web.Request, *, token: str | None = None, error: str | None = None, status: int = 200
) -> web.Response:
    oidc = request.app[CONSOLE_KEY].oidc
    context = {
        "token": token,
        "error": error,
        "oidc": t(f"signin.with_{oidc.settings.match.value}") if oidc else None,
    }
    return render(request, "signin.html", context, status=status)


@routes.get("/signin")
async def signin_help(request: web.Request) -> web.StreamResponse:
    return _signin_page(request)


@routes.get("/signin/{token}")
async def signin_confirm(request: web.Request) -> web.StreamResponse:
    """The link's page: a button, so that a link preview fetching the page does not use it."""
    return _signin_page(request, token=request.match_info["token"])


@routes.post("/signin")
async def signin(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    form = await form_of(request)
    started = await run(
        security.start_session, console.db, text_field(form, "token"), at=console.clock()
    )
    if started is None:
        return _signin_page(request, error=t("signin.expired"), status=400)
    secret, member_id = started
    if console.config.directory.member(member_id) is None:
        return render(request, "not_member.html", {}, status=403)
    response = redirect("/")
    security.set_session_cookie(response, request, secret, console.settings)
    return response


OIDC_STATE_COOKIE: Final = "postgate_oidc_state"


@routes.get("/oidc/signin")
async def oidc_signin(request: web.Request) -> web.StreamResponse:
    """To the identity provider, with a state (stored hashed, used once, bound to this browser
    by a cookie) and a nonce."""
    console = request.app[CONSOLE_KEY]
    if console.oidc is None:
        raise web.HTTPNotFound()
    state, nonce = await run(security.oidc_state, console.db, at=console.clock())
    try:
        url = await run(console.oidc.authorization_url, state=state, nonce=nonce)
    except (OSError, ValueError, KeyError) as exc:  # requests' errors are OSErrors
        log.warning("OpenID Connect provider unreachable: %s", exc)
        return _signin_page(request, error=t("signin.provider_down"), status=502)
    response = redirect(url)
    response.set_cookie(
        OIDC_STATE_COOKIE,
        state,
        max_age=int(security.OIDC_STATE_LIFETIME.total_seconds()),
        path="/oidc/",
        httponly=True,
        samesite="Lax",
        secure=security.is_secure(request, console.settings),
    )
    return response


@routes.get("/oidc/callback")
async def oidc_callback(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    if console.oidc is None:
        raise web.HTTPNotFound()
    state = request.query.get("state", "")
    code = request.query.get("code", "")
    if not state or state != request.cookies.get(OIDC_STATE_COOKIE) or not code:
        return _signin_page(request, error=t("signin.oidc_failed"), status=400)
    nonce = await run(security.redeem_oidc_state, console.db, state, at=console.clock())
    if nonce is None:
        return _signin_page(request, error=t("signin.oidc_failed"), status=400)
    try:
        claims = await run(console.oidc.claims, code=code, nonce=nonce)
    except (OidcError, OSError) as exc:
        log.warning("OpenID Connect sign-in refused: %s", exc)
        return _signin_page(request, error=t("signin.oidc_failed"), status=400)
    member = console.oidc.member(console.config.directory, claims)
    if member is None:
        await run(_audit_stranger, console, claims)
        return render(request, "not_member.html", {}, status=403)
    secret = await run(
        security.start_oidc_session,
        console.db,
        member.id,
        at=console.clock(),
        subject=str(claims.get("sub", "")),
    )
    response = redirect("/")
    response.del_cookie(OIDC_STATE_COOKIE, path="/oidc/")
    security.set_session_cookie(response, request, secret, console.settings)
    return response


def _audit_stranger(console: Console, claims: Mapping[str, Any]) -> None:
    """Someone the provider knows but app.yaml does not: recorded, nothing else."""
    assert console.oidc is not None
    match = console.oidc.settings.match
    with console.db.session() as session:
        audit.append(
            session,
            actor=f"oidc:{claims.get('sub', '-')}",
            action="web.signin_refused",
            subject="member:-",
            details={
                "reason": "not_in_app_yaml",
                "match": match.value,
                "user": str(claims.get(match.claim, "")),
            },
            at=console.clock(),
        )


@routes.post("/signout")
@signed_in
async def signout(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    await run(security.end_session, console.db, viewer.secret, at=console.clock())
    response = redirect("/signin")
    security.clear_session_cookie(response)
    return response
