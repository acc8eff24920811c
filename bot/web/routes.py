"""The console's routes: pages parse, call one use case, render (STYLE.md "Handlers are short").

Every use case is the one Slack and Teams call, with ``Actor("web", member id)``: the same
rules, the same refusals (shown in Japanese on the page) and the same audit events.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Final

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.config import AppConfig
from bot.web import calendar_pages, draft_pages, operations, security, signin
from bot.web.console import (
    CONSOLE_KEY,
    HERE,
    JINJA_KEY,
    Console,
    action_label,
    actor_text,
    render,
    t,
    tokyo_text,
)
from bot.web.oidc import OidcSettings
from bot.web.security import WebSettings
from handlers.drafts import Clock, DraftUseCases
from handlers.incidents import IncidentUseCases
from handlers.publishing import PublicationUseCases
from storage import audit
from storage.engine import Database

if TYPE_CHECKING:
    from bot.web.oidc_client import OidcClient

log = logging.getLogger(__name__)
CHAT_PATHS: Final = ("/slack/", "/api/")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def install(
    app: web.Application,
    *,
    config: AppConfig,
    db: Database,
    drafts: DraftUseCases,
    publications: PublicationUseCases,
    incidents: IncidentUseCases,
    environ: Mapping[str, str],
    clock: Clock,
) -> Console:
    """Add the console's routes at ``/`` (and its static files at ``/static/``)."""
    settings = WebSettings.from_env(environ)
    oidc = OidcSettings.from_env(environ)
    console = Console(
        config=config,
        db=db,
        drafts=drafts,
        publications=publications,
        incidents=incidents,
        settings=settings,
        clock=clock,
        oidc=_relying_party(oidc, settings, clock) if oidc else None,
        audit_key=audit.audit_key(environ),
    )
    app[CONSOLE_KEY] = console
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        app_key=JINJA_KEY,
        undefined=jinja2.StrictUndefined,
    )
    for page in (signin, calendar_pages, draft_pages, operations):
        app.router.add_routes(page.routes)
    static = app.router.add_static("/static/", HERE / "static", append_version=True)
    env.globals.update(
        t=t,
        tokyo=tokyo_text,
        action_label=action_label,
        actor_label=functools.partial(actor_text, config.directory),
        static=lambda name: str(static.url_for(filename=name)),
    )
    app.on_response_prepare.append(security.add_security_headers)
    app.middlewares.append(japanese_errors)
    return console


def _relying_party(oidc: OidcSettings, settings: WebSettings, clock: Clock) -> OidcClient:
    # Imported here: Authlib and its JOSE library are loaded only when sign-in uses them.
    from bot.web.oidc_client import OidcClient

    return OidcClient(oidc, redirect_uri=f"{settings.base_url}/oidc/callback", clock=clock)


@web.middleware
async def japanese_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown addresses and unexpected failures of the console answer with a Japanese page
    (never a traceback); the chat platforms' endpoints keep their own answers."""
    if request.path.startswith(CHAT_PATHS):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return render(request, "message.html", {"text": t("not_found")}, status=404)
    except web.HTTPMethodNotAllowed:
        return render(request, "message.html", {"text": t("not_found")}, status=405)
    except web.HTTPException:
        raise
    except Exception:  # the error boundary of the web front door (STYLE.md)
        log.exception("web console: %s %s failed", request.method, request.path)
        return render(request, "message.html", {"text": t("server_error")}, status=500)
