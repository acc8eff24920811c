"""The console's routes: pages parse, call one use case, render (STYLE.md "Handlers are short").

Every use case is the one Slack and Teams call, with ``Actor("web", member id)``: the same
rules, the same refusals (shown in Japanese on the page) and the same audit events.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.config import AppConfig
from bot.web import calendar_pages, draft_pages, operations, security, signin
from bot.web.console import CONSOLE_KEY, HERE, JINJA_KEY, Console, t, tokyo_text
from bot.web.oidc import OidcClient, OidcSettings
from bot.web.security import WebSettings
from handlers.drafts import Clock, DraftUseCases
from handlers.incidents import IncidentUseCases
from handlers.publishing import PublicationUseCases
from storage.engine import Database


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
        oidc=OidcClient(oidc, redirect_uri=f"{settings.base_url}/oidc/callback", clock=clock)
        if oidc
        else None,
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
        t=t, tokyo=tokyo_text, static=lambda name: str(static.url_for(filename=name))
    )
    app.on_response_prepare.append(security.add_security_headers)
    return console
