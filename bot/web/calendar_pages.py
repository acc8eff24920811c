"""The calendar pages: month and week, the month as CSV, the iCalendar feeds and their tokens."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final

from aiohttp import web

from bot.config import AppConfig
from bot.web.calendar import Filter, Kind
from bot.web.console import (
    CONSOLE_KEY,
    TOKYO,
    Console,
    form_of,
    redirect,
    render,
    run,
    signed_in,
    t,
    text_field,
)
from bot.web.security import Viewer
from storage import audit
from storage import web as reads

routes = web.RouteTableDef()

# ---------------------------------------------------------------- the calendar

FEED_WINDOW: Final = (timedelta(days=31), timedelta(days=186))  # back, ahead


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
