"""The outbox (and deletion requests), incidents and the audit log."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final

from aiohttp import web

from bot.web.chain import ChainStatus
from bot.web.console import (
    CONSOLE_KEY,
    TOKYO,
    Console,
    actor_of,
    form_of,
    local_datetime,
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
from storage.tables import AuditEvent
from workflows.errors import Refusal
from workflows.incidents.playbook import IncidentState
from workflows.publishing import PublicationState

routes = web.RouteTableDef()

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
    """Cancel, reschedule, confirm a held post, retry a failed one, settle one that needs review,
    ask to delete a published one."""
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
    elif action == "retry":
        call = lambda: uc.retry(actor, publication_id)  # noqa: E731
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
        limit=200,
    )


def _audit_events(console: Console, query: reads.AuditQuery) -> list[AuditEvent]:
    with console.db.session(read_only=True) as session:
        return reads.audit_events(session, query)


def _audit_events_and_chain(
    console: Console, query: reads.AuditQuery
) -> tuple[list[AuditEvent], ChainStatus]:
    events = _audit_events(console, query)
    return events, console.chain.status(events)


@routes.get("/audit")
@signed_in
async def audit_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    events, chain = await run(_audit_events_and_chain, console, _audit_query(request))
    return render(
        request,
        "audit.html",
        {
            "events": events,
            "chain": chain,
            "q": request.query,
            "query_string": request.query_string,
        },
        viewer=viewer,
    )


@routes.post("/audit/verify")
@signed_in
async def audit_verify(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Walk the whole chain again (a page view verifies only what was appended since)."""
    console = request.app[CONSOLE_KEY]
    await run(console.chain.verify_all)
    return redirect("/audit")


@routes.get("/audit/export.{fmt:csv|jsonl}")
@signed_in
async def audit_export(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    query = dataclasses.replace(_audit_query(request), limit=None)  # every matching event
    events = await run(_audit_events, console, query)
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
