"""The console's pages and forms: parse, call one use case, render (STYLE.md "Handlers are
short"). Every use case is the one Slack and Teams call, with ``Actor("web", member id)``: the
same rules, the same refusals (shown in Japanese on the page) and the same audit events.

Database work is synchronous and runs in a thread (``asyncio.to_thread``), as in the Slack
adapter. Time comes from the application's injected clock.
"""

from __future__ import annotations

import asyncio
import csv
import difflib
import io
import itertools
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from bot.config import AppConfig
from bot.web import security
from bot.web.calendar import Calendar, Filter, Kind
from bot.web.oidc import OidcClient, OidcError, OidcSettings
from bot.web.security import Unknown, Viewer, WebSettings
from handlers.deletions import DeletionUseCases
from handlers.drafts import Actor, Clock, DraftUseCases, NewDraft
from handlers.incidents import IncidentUseCases
from handlers.publishing import PublicationUseCases
from storage import audit
from storage import drafts as draft_repo
from storage import web as reads
from storage.drafts import StoredFinding
from storage.engine import Database
from storage.tables import AuditEvent
from workflows.approval import ChecklistItem, Content
from workflows.catalogue import Lang, message
from workflows.checks import Platform, Severity
from workflows.errors import Refusal
from workflows.incidents.playbook import IncidentState
from workflows.lifecycle import DraftState
from workflows.publishing import PublicationState

HERE: Final = Path(__file__).parent
log = logging.getLogger(__name__)
TOKYO: Final = ZoneInfo("Asia/Tokyo")
FEED_WINDOW: Final = (timedelta(days=31), timedelta(days=186))  # back, ahead
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
    calendar: Calendar = field(init=False)
    deletions: DeletionUseCases = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "calendar", Calendar(self.config, self.db))
        deletions = DeletionUseCases(
            db=self.db, directory=self.config.directory, drafts=self.drafts, clock=self.clock
        )
        object.__setattr__(self, "deletions", deletions)


CONSOLE_KEY: web.AppKey[Console] = web.AppKey("web_console", Console)
JINJA_KEY: web.AppKey[jinja2.Environment] = web.AppKey("web_jinja", jinja2.Environment)
routes = web.RouteTableDef()
Page = Callable[[web.Request, Viewer], Awaitable[web.StreamResponse]]


def t(key: str, **params: Any) -> str:
    """A text of the console from the message catalogue (``web.`` keys), Japanese."""
    return message(f"web.{key}", Lang.JA, **params)


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
    app.router.add_routes(routes)
    static = app.router.add_static("/static/", HERE / "static", append_version=True)
    env.globals.update(t=t, tokyo=_tokyo, static=lambda name: str(static.url_for(filename=name)))
    app.on_response_prepare.append(security.add_security_headers)
    return console


def _tokyo(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
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
    form = await request.post()
    return MultiDictProxy(form)  # type: ignore[arg-type]


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


# ---------------------------------------------------------------- the calendar


def _filter(request: web.Request, config: AppConfig) -> Filter:
    section = request.query.get("section") or None
    account = request.query.get("account") or None
    return Filter(
        section=section if section and config.section(section) else None,
        account=account if account and config.account(account) else None,
    )


def _anchor(request: web.Request, today: date) -> date:
    try:
        return date.fromisoformat(request.query.get("date", ""))
    except ValueError:
        return today


@routes.get("/")
@signed_in
async def calendar_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    now = console.clock()
    wanted = _filter(request, console.config)
    view = "week" if request.query.get("view") == "week" else "month"
    anchor = _anchor(request, now.astimezone(TOKYO).date())
    grid = await run(console.calendar.grid, view, anchor, wanted, now)
    return render(
        request,
        "calendar.html",
        {"grid": grid, "filter": wanted, "config": console.config, "kinds": list(Kind)},
        viewer=viewer,
    )


@routes.get("/calendar/month.csv")
@signed_in
async def calendar_csv(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    month = _anchor(request, console.clock().astimezone(TOKYO).date()).replace(day=1)
    body = await run(console.calendar.month_csv, month, _filter(request, console.config))
    return web.Response(
        text=body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="postgate-{month:%Y-%m}.csv"'},
    )


def _feed_member(console: Console, token: str) -> str | None:
    with console.db.session(read_only=True) as session:
        row = reads.find(session, reads.TokenKind.FEED, token, at=console.clock())
        return row.member_id if row else None


async def _feed(request: web.Request, account: str | None) -> web.StreamResponse:
    """An iCalendar feed, behind the person's feed token (``?token=``): calendar programs
    cannot sign in, so the address itself is the secret, revocable on the feeds page."""
    console = request.app[CONSOLE_KEY]
    member_id = await run(_feed_member, console, request.query.get("token", ""))
    if member_id is None or console.config.directory.member(member_id) is None:
        return web.Response(status=404, text=t("feed.unknown"))
    if account is not None and console.config.account(account) is None:
        return web.Response(status=404, text=t("feed.unknown_account", account=account))
    now = console.clock()
    today = now.astimezone(TOKYO).date()
    back, ahead = FEED_WINDOW
    entries = await run(
        console.calendar.posts, today - back, today + ahead, Filter(account=account)
    )
    name = f"postgate {account or t('feed.all_accounts')}"
    body = console.calendar.ics(entries, name=name, now=now, base_url=console.settings.base_url)
    return web.Response(text=body, content_type="text/calendar", charset="utf-8")


@routes.get("/calendar.ics")
async def feed_all(request: web.Request) -> web.StreamResponse:
    return await _feed(request, None)


@routes.get("/calendar/{account}.ics")
async def feed_account(request: web.Request) -> web.StreamResponse:
    return await _feed(request, request.match_info["account"])


@routes.get("/feeds")
@signed_in
async def feeds_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    feeds = await run(_feeds_of, console, viewer.member.id)
    new = request.query.get("new")
    return render(
        request,
        "feeds.html",
        {"feeds": feeds, "new": new, "config": console.config, "base": console.settings.base_url},
        viewer=viewer,
    )


def _feeds_of(console: Console, member_id: str) -> list[Any]:
    with console.db.session(read_only=True) as session:
        return reads.feeds_of(session, member_id, at=console.clock())


def _new_feed(console: Console, member_id: str, label: str) -> str:
    now = console.clock()
    with console.db.session() as session:
        token, row = reads.issue(
            session,
            kind=reads.TokenKind.FEED,
            member_id=member_id,
            at=now,
            lifetime=None,
            label=label or None,
        )
        audit.append(
            session,
            actor=member_id,
            action="web.feed_created",
            subject=f"member:{member_id}",
            details={"feed": row.id, "label": label},
            at=now,
        )
        return token


def _revoke_feed(console: Console, member_id: str, feed_id: int) -> bool:
    now = console.clock()
    with console.db.session() as session:
        mine = [f for f in reads.feeds_of(session, member_id, at=now) if f.id == feed_id]
        if not mine:
            return False
        reads.revoke(session, mine[0], at=now)
        audit.append(
            session,
            actor=member_id,
            action="web.feed_revoked",
            subject=f"member:{member_id}",
            details={"feed": feed_id},
            at=now,
        )
        return True


@routes.post("/feeds")
@signed_in
async def feeds_create(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    form = await form_of(request)
    token = await run(_new_feed, console, viewer.member.id, text_field(form, "label"))
    feeds = await run(_feeds_of, console, viewer.member.id)
    # The address is shown once, on this answer only (never in a URL or a log).
    return render(
        request,
        "feeds.html",
        {"feeds": feeds, "new": token, "config": console.config, "base": console.settings.base_url},
        viewer=viewer,
    )


@routes.post("/feeds/{feed_id:\\d+}/revoke")
@signed_in
async def feeds_revoke(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    await run(_revoke_feed, console, viewer.member.id, int(request.match_info["feed_id"]))
    return redirect("/feeds")


# ---------------------------------------------------------------- drafts


LIST_TABS: Final = ("waiting", "mine", "state")


@routes.get("/drafts")
@signed_in
async def drafts_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    tab = request.query.get("tab", "waiting")
    actor = actor_of(viewer)
    state: DraftState | None = None
    if tab == "mine":
        rows = await run(console.drafts.my_drafts, actor)
    elif tab == "state":
        try:
            state = DraftState(request.query.get("state", DraftState.AWAITING_APPROVAL.value))
        except ValueError:
            state = DraftState.AWAITING_APPROVAL
        rows = await run(console.drafts.in_states, (state,))
        rows.reverse()  # newest first
    else:
        tab = "waiting"
        rows = await run(console.drafts.awaiting, actor)
    return render(
        request,
        "drafts.html",
        {"rows": rows, "tab": tab, "state": state, "states": list(DraftState)},
        viewer=viewer,
    )


def _form_context(console: Console, viewer: Viewer, values: Mapping[str, Any]) -> dict[str, Any]:
    mine = [a.id for a in console.config.accounts if a.owner_section == viewer.member.section]
    chosen = values.get("accounts") or mine[:1]
    return {
        "accounts": console.config.accounts,
        "chosen": set(chosen),
        "values": values,
        "platforms": [p.value for p in Platform],
    }


@routes.get("/drafts/new")
@signed_in
async def draft_form(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    return render(request, "draft_form.html", _form_context(console, viewer, {}), viewer=viewer)


def _content_of(form: Mapping[str, Any], accounts: Sequence[str]) -> Content:
    variants = {p: text for p in Platform if (text := text_field(form, f"variant_{p.value}"))}
    media = tuple(line.strip() for line in text_field(form, "media").splitlines() if line.strip())
    return Content(
        text=text_field(form, "text"),
        targets=tuple(accounts),
        variants=variants,
        media=media,
    )


@routes.post("/drafts")
@signed_in
async def draft_create(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    form = await form_of(request)
    accounts = form.getall("accounts", [])
    content = _content_of(form, accounts)
    when, emergency = text_field(form, "publish_at"), bool(form.get("emergency"))
    values = {
        "text": content.text,
        "accounts": accounts,
        "media": text_field(form, "media"),
        "publish_at": when,
        "emergency": emergency,
        **{f"variant_{p.value}": t_ for p, t_ in content.variants.items()},
    }
    publish_at = local_datetime(when)
    if when and publish_at is None:
        context = _form_context(console, viewer, values)
        context["error"] = t("form.bad_datetime", value=when)
        return render(request, "draft_form.html", context, viewer=viewer, status=400)
    new = NewDraft(
        text=content.text,
        targets=content.targets,
        variants=dict(content.variants),
        media=content.media,
        publish_at=publish_at,
        emergency=emergency,
        source="web",
    )
    actor = actor_of(viewer)
    try:
        result = await run(console.drafts.create, actor, new)
    except Refusal as refusal:
        context = _form_context(console, viewer, values)
        context["error"] = str(refusal)
        return render(request, "draft_form.html", context, viewer=viewer, status=400)
    draft_id = result.draft.id
    if form.get("action") == "submit":
        try:
            await run(console.drafts.submit, actor, draft_id)
        except Refusal as refusal:
            return await _draft_response(request, viewer, draft_id, error=str(refusal))
    return redirect(f"/drafts/{draft_id}")


@routes.post("/check")
@signed_in
async def live_check(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The findings of a draft being written, from the same checker as a saved draft."""
    console = request.app[CONSOLE_KEY]
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": t("check.bad_request")}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": t("check.bad_request")}, status=400)
    known = {a.id for a in console.config.accounts}
    accounts = [a for a in body.get("accounts", []) if isinstance(a, str) and a in known]
    form = {k: v for k, v in body.items() if isinstance(v, str)}
    content = _content_of(form, accounts)
    at = local_datetime(form.get("publish_at", "")) or console.clock()
    findings = await run(_check, console, content, at, bool(body.get("emergency")))
    return web.json_response(
        {
            "accounts": accounts,
            "errors": sum(1 for f in findings if f.finding.severity is Severity.ERROR),
            "warnings": sum(1 for f in findings if f.finding.severity is Severity.WARNING),
            "findings": [_finding_json(content, f) for f in findings],
            "hint": "" if accounts else t("check.choose_account"),
        }
    )


def _check(
    console: Console, content: Content, at: datetime, emergency: bool
) -> list[StoredFinding]:
    with console.db.session(read_only=True) as session:
        return console.drafts.check(content, at=at, emergency=emergency, session=session)


def _text_of(content: Content, key: str) -> str:
    return content.text if key == "text" else content.variants.get(Platform(key), "")


def _finding_json(content: Content, stored: StoredFinding) -> dict[str, Any]:
    f = stored.finding
    return {
        "rule": f.rule,
        "severity": f.severity.value,
        "severity_label": t(f"severity.{f.severity.value}"),
        "message": f.message,
        "start": f.start,
        "end": f.end,
        "quote": _text_of(content, stored.text_key)[f.start : f.end],
        "suggestion": f.suggestion,
        "text_key": stored.text_key,
    }


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a text as the page shows it: plain, or marked by findings."""

    text: str
    severity: str | None = None
    note: str = ""


def highlight(text: str, findings: Sequence[StoredFinding]) -> list[Segment]:
    """``text`` cut into plain and marked pieces (overlapping findings: the first one marks)."""
    out: list[Segment] = []
    at = 0
    for stored in sorted(findings, key=lambda s: (s.finding.start, -s.finding.end)):
        f = stored.finding
        if f.start < at or f.end <= f.start or f.end > len(text):
            continue
        if f.start > at:
            out.append(Segment(text[at : f.start]))
        out.append(Segment(text[f.start : f.end], f.severity.value, f.message))
        at = f.end
    if at < len(text):
        out.append(Segment(text[at:]))
    return out


@dataclass(frozen=True, slots=True)
class DiffPiece:
    text: str
    change: str  # "same", "added", "removed"


def diff(before: str, after: str) -> list[DiffPiece]:
    """A character-level diff (Japanese has no spaces to split words on)."""
    pieces: list[DiffPiece] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(DiffPiece(before[a0:a1], "same"))
            continue
        if a1 > a0:
            pieces.append(DiffPiece(before[a0:a1], "removed"))
        if b1 > b0:
            pieces.append(DiffPiece(after[b0:b1], "added"))
    return pieces


@dataclass(frozen=True, slots=True)
class DraftPage:
    revisions: list[Any]
    diffs: list[tuple[int, list[DiffPiece]]]  # (revision, diff against the one before)
    texts: list[tuple[str, list[Segment]]]  # (text key, highlighted text) of the current one
    timeline: list[AuditEvent]
    findings: Sequence[StoredFinding]


def _draft_page(console: Console, draft_id: int) -> DraftPage:
    with console.db.session(read_only=True) as session:
        loaded = draft_repo.load(session, draft_id)
        revisions = reads.revisions_of(session, draft_id)
        subjects = [f"draft:{draft_id}"] + [
            f"publication:{p.id}" for p in draft_repo.publications_of(session, draft_id)
        ]
        timeline = reads.events_about(session, subjects)
    content = loaded.content
    keys = ["text", *(p.value for p in content.variants)]
    texts = [
        (key, highlight(_text_of(content, key), [f for f in loaded.findings if f.text_key == key]))
        for key in keys
    ]
    diffs = [
        (after.revision, diff(before.text, after.text))
        for before, after in itertools.pairwise(revisions)
    ]
    return DraftPage(revisions, diffs, texts, timeline, loaded.findings)


async def _draft_response(
    request: web.Request,
    viewer: Viewer,
    draft_id: int,
    *,
    error: str | None = None,
    done: str | None = None,
) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    try:
        view = await run(console.drafts.get, draft_id)
        page = await run(_draft_page, console, draft_id)
    except Refusal as refusal:
        return render(request, "message.html", {"text": str(refusal)}, viewer=viewer, status=404)
    return render(
        request,
        "draft.html",
        {
            "d": view,
            "page": page,
            "error": error,
            "done": done,
            "checklist": list(ChecklistItem),
            "is_author": view.author_id == viewer.member.id,
            "members": console.config.directory,
        },
        viewer=viewer,
        status=400 if error else 200,
    )


@routes.get("/drafts/{draft_id:\\d+}")
@signed_in
async def draft_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    done = request.query.get("done")
    return await _draft_response(
        request,
        viewer,
        int(request.match_info["draft_id"]),
        done=t(f"done.{done}") if done in DONE_KEYS else None,
    )


DONE_KEYS: Final = frozenset(
    {"submit", "peer_check", "approve", "send_back", "reject", "withdraw", "revise"}
)


@routes.post("/drafts/{draft_id:\\d+}/{action}")
@signed_in
async def draft_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Submit, peer-check, approve, send back, reject, withdraw or revise: one use case each."""
    console = request.app[CONSOLE_KEY]
    draft_id = int(request.match_info["draft_id"])
    action = request.match_info["action"]
    form = await form_of(request)
    actor = actor_of(viewer)
    shown = int_field(form, "revision") or 0
    checklist = [ChecklistItem(v) for v in form.getall("checklist", []) if v in _CHECKLIST]
    comment = text_field(form, "comment") or None
    uc = console.drafts
    calls: dict[str, Callable[[], Any]] = {
        "submit": lambda: uc.submit(actor, draft_id),
        "withdraw": lambda: uc.withdraw(actor, draft_id),
        "peer_check": lambda: uc.peer_check(
            actor, draft_id, shown_revision=shown, checklist=checklist, comment=comment
        ),
        "approve": lambda: uc.approve(
            actor,
            draft_id,
            shown_revision=shown,
            checklist=checklist,
            acknowledged=form.getall("acknowledged", []),
            comment=comment,
        ),
        "send_back": lambda: uc.request_changes(
            actor, draft_id, shown_revision=shown, reason=text_field(form, "reason")
        ),
        "reject": lambda: uc.reject(
            actor, draft_id, shown_revision=shown, reason=text_field(form, "reason")
        ),
    }
    if action == "revise":
        edited = _content_of(form, ())
        when = text_field(form, "publish_at")
        publish_at = local_datetime(when)
        if when and publish_at is None:
            error = t("form.bad_datetime", value=when)
            return await _draft_response(request, viewer, draft_id, error=error)
        calls["revise"] = lambda: uc.revise(
            actor,
            draft_id,
            text=edited.text,
            variants=dict(edited.variants),
            media=edited.media,
            publish_at=publish_at,
            emergency=bool(form.get("emergency")),
        )
    call = calls.get(action)
    if call is None:
        raise web.HTTPNotFound()
    try:
        await run(call)
    except Refusal as refusal:
        return await _draft_response(request, viewer, draft_id, error=str(refusal))
    return redirect(f"/drafts/{draft_id}?done={action}")


_CHECKLIST: Final = frozenset(c.value for c in ChecklistItem)


# ---------------------------------------------------------------- the outbox


OUTBOX_STATES: Final = (
    PublicationState.PENDING,
    PublicationState.HELD,
    PublicationState.NEEDS_REVIEW,
    PublicationState.SENDING,
    PublicationState.FAILED,
    PublicationState.PUBLISHED,
)


async def _outbox_response(
    request: web.Request, viewer: Viewer, *, error: str | None = None, notes: Sequence[str] = ()
) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    state = request.query.get("state", "")
    states = [PublicationState(state)] if state in {s.value for s in PublicationState} else []
    account = request.query.get("account") or None
    rows = await run(
        console.publications.list_publications, states=states, account_id=account, limit=200
    )
    rows.reverse()  # newest first
    deletions = await run(console.deletions.awaiting, actor_of(viewer))
    return render(
        request,
        "outbox.html",
        {
            "rows": rows,
            "states": OUTBOX_STATES,
            "state": state,
            "account": account,
            "config": console.config,
            "error": error,
            "notes": notes,
            "deletions": deletions,
        },
        viewer=viewer,
        status=400 if error else 200,
    )


@routes.get("/outbox")
@signed_in
async def outbox_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await _outbox_response(request, viewer)


@routes.post("/outbox/{publication_id:\\d+}/{action}")
@signed_in
async def outbox_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Cancel, reschedule, confirm a held post, settle one that needs review, ask to delete a
    published one."""
    console = request.app[CONSOLE_KEY]
    publication_id = int(request.match_info["publication_id"])
    form = await form_of(request)
    actor = actor_of(viewer)
    uc = console.publications
    action = request.match_info["action"]
    if action == "reschedule":
        at = local_datetime(text_field(form, "at"))
        if at is None:
            return await _outbox_response(
                request, viewer, error=t("form.bad_datetime", value=text_field(form, "at"))
            )
        call: Callable[[], Any] = lambda: uc.reschedule(actor, publication_id, at=at)  # noqa: E731
    elif action == "cancel":
        call = lambda: uc.cancel(actor, publication_id, reason=text_field(form, "reason"))  # noqa: E731
    elif action == "confirm":
        call = lambda: uc.confirm(actor, publication_id)  # noqa: E731
    elif action == "review":
        found = text_field(form, "published")
        if found:
            call = lambda: uc.review(actor, publication_id, published=found)  # noqa: E731
        else:
            call = lambda: uc.review(actor, publication_id, not_published=True)  # noqa: E731
    elif action == "delete_request":
        reason = text_field(form, "reason")
        try:
            asked = await run(console.deletions.request, actor, publication_id, reason=reason)
        except Refusal as refusal:
            return await _outbox_response(request, viewer, error=str(refusal))
        return await _outbox_response(request, viewer, notes=(asked.request.advice,))
    else:
        raise web.HTTPNotFound()
    try:
        result = await run(call)
    except Refusal as refusal:
        return await _outbox_response(request, viewer, error=str(refusal))
    if result.notes:
        return await _outbox_response(request, viewer, notes=result.notes)
    return redirect("/outbox")


@routes.post("/deletions/{request_id:\\d+}/{action:approve|reject}")
@signed_in
async def deletion_decide(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Approve or reject a request to delete published posts (the same rules as chat)."""
    console = request.app[CONSOLE_KEY]
    request_id = int(request.match_info["request_id"])
    form = await form_of(request)
    actor = actor_of(viewer)
    try:
        if request.match_info["action"] == "approve":
            await run(console.deletions.approve, actor, request_id)
        else:
            reason = text_field(form, "reason")
            await run(console.deletions.reject, actor, request_id, reason=reason)
    except Refusal as refusal:
        return await _outbox_response(request, viewer, error=str(refusal))
    return redirect("/outbox")


@routes.post("/outbox/{action:pause|resume}")
@signed_in
async def outbox_pause(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    form = await form_of(request)
    account = text_field(form, "account") or None
    actor = actor_of(viewer)
    uc = console.publications
    try:
        if request.match_info["action"] == "pause":
            await run(uc.pause, actor, account_id=account, reason=text_field(form, "reason"))
        else:
            await run(uc.resume, actor, account_id=account)
    except Refusal as refusal:
        return await _outbox_response(request, viewer, error=str(refusal))
    return redirect("/outbox")


# ---------------------------------------------------------------- incidents


@routes.get("/incidents")
@signed_in
async def incidents_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    current = await run(console.incidents.list_open)
    past = await run(
        console.incidents.list_incidents, states=(IncidentState.RESOLVED.value,), limit=50
    )
    return render(request, "incidents.html", {"current": current, "past": past}, viewer=viewer)


async def _incident_response(
    request: web.Request, viewer: Viewer, incident_id: int, *, error: str | None = None
) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    try:
        view = await run(console.incidents.get, incident_id)
    except Refusal as refusal:
        return render(request, "message.html", {"text": str(refusal)}, viewer=viewer, status=404)
    return render(
        request,
        "incident.html",
        {"i": view, "error": error},
        viewer=viewer,
        status=400 if error else 200,
    )


@routes.get("/incidents/{incident_id:\\d+}")
@signed_in
async def incident_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await _incident_response(request, viewer, int(request.match_info["incident_id"]))


@routes.post("/incidents/{incident_id:\\d+}/{action:acknowledge|tick}")
@signed_in
async def incident_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    incident_id = int(request.match_info["incident_id"])
    form = await form_of(request)
    actor = actor_of(viewer)
    try:
        if request.match_info["action"] == "acknowledge":
            await run(console.incidents.acknowledge, actor, incident_id)
        else:
            await run(console.incidents.tick, actor, incident_id, text_field(form, "item"))
    except Refusal as refusal:
        return await _incident_response(request, viewer, incident_id, error=str(refusal))
    return redirect(f"/incidents/{incident_id}")


# ---------------------------------------------------------------- the audit log


def _audit_query(request: web.Request) -> reads.AuditQuery:
    q = request.query

    def day(name: str) -> datetime | None:
        try:
            return datetime.combine(date.fromisoformat(q.get(name, "")), datetime.min.time(), TOKYO)
        except ValueError:
            return None

    until = day("until")
    subject = q.get("draft", "").strip()
    return reads.AuditQuery(
        actor=q.get("actor", "").strip() or None,
        action=q.get("action", "").strip() or None,
        subject=f"draft:{subject}" if subject.isdecimal() else None,
        start=day("since"),
        end=until + timedelta(days=1) if until else None,
        limit=1000,
    )


def _audit_state(console: Console, query: reads.AuditQuery) -> tuple[list[AuditEvent], Any, Any]:
    with console.db.session(read_only=True) as session:
        events = reads.audit_events(session, query)
        broken, head = audit.walk(session)
    return events, broken, head


@routes.get("/audit")
@signed_in
async def audit_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    events, broken, head = await run(_audit_state, console, _audit_query(request))
    return render(
        request,
        "audit.html",
        {
            "events": events[:200],
            "broken": broken,
            "head": head,
            "q": request.query,
            "query_string": request.query_string,
        },
        viewer=viewer,
    )


@routes.get("/audit/export.{fmt:csv|jsonl}")
@signed_in
async def audit_export(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    query = _audit_query(request)
    events = await run(lambda: _audit_state(console, query)[0])
    fmt = request.match_info["fmt"]
    if fmt == "jsonl":
        body = "".join(
            json.dumps(_event_record(e), ensure_ascii=False, separators=(",", ":")) + "\n"
            for e in reversed(events)
        )
        content_type = "application/x-ndjson"
    else:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(audit.EXPORT_COLUMNS)
        for e in reversed(events):
            record = _event_record(e)
            record["details"] = audit.canonical_json(e.details)
            writer.writerow([record[c] for c in audit.EXPORT_COLUMNS])
        body = out.getvalue()
        content_type = "text/csv"
    return web.Response(
        text=body,
        content_type=content_type,
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="postgate-audit.{fmt}"'},
    )


def _event_record(e: AuditEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": e.at.astimezone(TOKYO).isoformat(timespec="microseconds"),
        "actor": e.actor,
        "action": e.action,
        "subject": e.subject,
        "details": e.details,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }
