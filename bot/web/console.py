"""What every page of the console shares: the ``Console`` (the use cases and settings), rendering,
the signed-in guard (session, app.yaml membership, CSRF) and form helpers.

Database work is synchronous and runs in a thread (``asyncio.to_thread``), as in the Slack
adapter. Time comes from the application's injected clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from bot.config import AppConfig
from bot.web import security
from bot.web.calendar import Calendar
from bot.web.chain import ChainWatch
from bot.web.security import Unknown, Viewer, WebSettings
from handlers.deletions import DeletionUseCases
from handlers.drafts import Actor, Clock, DraftUseCases
from handlers.incidents import IncidentUseCases
from handlers.publishing import PublicationUseCases
from storage.engine import Database
from workflows.catalogue import Lang, keys, message
from workflows.org import Directory

if TYPE_CHECKING:
    from bot.web.oidc_client import OidcClient

HERE: Final = Path(__file__).parent
TOKYO: Final = ZoneInfo("Asia/Tokyo")
T = TypeVar("T")


@dataclass(frozen=True)
class Console:
    """What the pages use, built once by ``install``."""

    config: AppConfig
    db: Database
    drafts: DraftUseCases
    publications: PublicationUseCases
    incidents: IncidentUseCases
    settings: WebSettings
    clock: Clock
    oidc: OidcClient | None = None
    audit_key: bytes | None = field(default=None, repr=False)
    calendar: Calendar = field(init=False)
    deletions: DeletionUseCases = field(init=False)
    chain: ChainWatch = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "calendar", Calendar(self.config, self.db))
        chain = ChainWatch(
            self.db, key=self.audit_key, anchor_file=self.config.audit.anchor_file, clock=self.clock
        )
        object.__setattr__(self, "chain", chain)
        deletions = DeletionUseCases(
            db=self.db, directory=self.config.directory, drafts=self.drafts, clock=self.clock
        )
        object.__setattr__(self, "deletions", deletions)


CONSOLE_KEY: web.AppKey[Console] = web.AppKey("web_console", Console)
JINJA_KEY: web.AppKey[jinja2.Environment] = web.AppKey("web_jinja", jinja2.Environment)
Page = Callable[[web.Request, Viewer], Awaitable[web.StreamResponse]]


def t(key: str, **params: Any) -> str:
    """A text of the console from the message catalogue (``web.`` keys), Japanese."""
    return message(f"web.{key}", Lang.JA, **params)


def action_label(action: str) -> str:
    """What an audit event's action means, in Japanese; the code itself when it has no label."""
    known = keys()
    if f"audit.action.{action}" in known:
        return message(f"audit.action.{action}", Lang.JA)
    family, _, event = action.partition(".")
    if family == "draft" and f"event.{event}" in known:
        return message(f"event.{event}", Lang.JA)
    return action


def actor_text(directory: Directory, actor: str) -> str:
    """Who an audit event's actor is, in Japanese: a member's name, postgate's own workers, or
    a chat user who is not in app.yaml (the code stays beside it in the page, for search)."""
    if (member := directory.member(actor)) is not None:
        return member.name
    known = keys()
    if f"web.audit.actor.{actor}" in known:
        return message(f"web.audit.actor.{actor}", Lang.JA)
    platform, sep, _ = actor.partition(":")
    if sep and f"web.audit.stranger.{platform}" in known:
        return message(f"web.audit.stranger.{platform}", Lang.JA)
    return actor


def tokyo_text(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return at.astimezone(TOKYO).strftime(fmt) if at else ""


def render(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    *,
    viewer: Viewer | None = None,
    status: int = 200,
) -> web.Response:
    return aiohttp_jinja2.render_template(
        template,
        request,
        {"viewer": viewer, "path": request.path, **context},
        app_key=JINJA_KEY,
        status=status,
    )


def signed_in(handler: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Only for people signed in and still in app.yaml; a form must carry the CSRF token."""

    async def page(request: web.Request) -> web.StreamResponse:
        console = request.app[CONSOLE_KEY]
        found = await asyncio.to_thread(
            security.viewer_of, request, console.db, console.config.directory, console.clock
        )
        if found is None:
            if request.method == "GET":
                raise web.HTTPSeeOther("/signin")
            return render(request, "message.html", {"text": t("signin.needed")}, status=401)
        if isinstance(found, Unknown):
            return render(request, "not_member.html", {}, status=403)
        if request.method == "POST":
            presented = request.headers.get(security.CSRF_HEADER)
            if presented is None and request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                form = await request.post()
                value = form.get(security.CSRF_FIELD)
                presented = value if isinstance(value, str) else None
            if not security.csrf_ok(found.secret, presented):
                return render(
                    request, "message.html", {"text": t("csrf_failed")}, viewer=found, status=403
                )
        return await handler(request, found)

    return page


async def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(fn, *args, **kwargs)


def actor_of(viewer: Viewer) -> Actor:
    return Actor("web", viewer.member.id)


async def form_of(request: web.Request) -> MultiDictProxy[str]:
    """The posted form's text fields (an uploaded file, which no form asks for, is dropped)."""
    form = await request.post()
    return MultiDictProxy(MultiDict((k, v) for k, v in form.items() if isinstance(v, str)))


def text_field(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def int_field(form: Mapping[str, Any], name: str) -> int | None:
    value = text_field(form, name)
    return int(value) if value.isdecimal() else None


def local_datetime(value: str) -> datetime | None:
    """A ``datetime-local`` field (``2026-11-24T10:00``), read in Asia/Tokyo."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=TOKYO)


def redirect(location: str) -> web.Response:
    """303 See Other: after a form, the browser loads ``location`` with GET."""
    return web.Response(status=303, headers={"Location": location})
