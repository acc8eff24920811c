"""Drafts: the lists, the new-draft form with its live check, a draft's page (findings
highlighted, any two revisions side by side, timeline) and its actions — each the use case chat
calls."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from aiohttp import web

from bot.web.console import (
    CONSOLE_KEY,
    Console,
    actor_of,
    form_of,
    int_field,
    local_datetime,
    redirect,
    render,
    run,
    signed_in,
    t,
    text_field,
)
from bot.web.security import Viewer
from handlers.drafts import NewDraft
from storage import drafts as draft_repo
from storage import web as reads
from storage.drafts import StoredFinding
from storage.tables import AuditEvent, DraftRevision
from workflows.approval import ChecklistItem, Content
from workflows.checks import Platform, Severity
from workflows.errors import Refusal
from workflows.lifecycle import DraftState
from workflows.org import Directory

routes = web.RouteTableDef()

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
class Column:
    """One side of a comparison: a revision, its author and time, and its pieces."""

    revision: int
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Compared:
    """One part of two revisions (the text, a platform's text, the media) side by side."""

    label: str
    left: list[DiffPiece]  # the earlier side: what stays and what goes
    right: list[DiffPiece]  # the later side: what stays and what comes
    changed: bool


@dataclass(frozen=True, slots=True)
class SideBySide:
    left: Column
    right: Column
    parts: list[Compared]


def _parts(revision: DraftRevision) -> dict[str, str]:
    parts = {t("form.text"): revision.text}
    for platform, text in sorted(revision.variants.items()):
        parts[t("form.variant", platform=platform)] = text
    if revision.media:
        parts[t("form.media")] = "\n".join(str(m) for m in revision.media)
    return parts


def side_by_side(before: DraftRevision, after: DraftRevision, names: Directory) -> SideBySide:
    """Two revisions in two columns: every part of either, diffed character by character."""
    was, now = _parts(before), _parts(after)
    parts = []
    for label in dict.fromkeys([*was, *now]):
        pieces = diff(was.get(label, ""), now.get(label, ""))
        parts.append(
            Compared(
                label,
                [p for p in pieces if p.change != "added"],
                [p for p in pieces if p.change != "removed"],
                any(p.change != "same" for p in pieces),
            )
        )

    def column(r: DraftRevision) -> Column:
        member = names.member(r.created_by)
        return Column(r.revision, member.name if member else r.created_by, r.created_at)

    return SideBySide(column(before), column(after), parts)


@dataclass(frozen=True, slots=True)
class DraftPage:
    revisions: list[int]
    compare: SideBySide | None  # two revisions side by side (None: there is only one)
    texts: list[tuple[str, list[Segment]]]  # (text key, highlighted text) of the current one
    timeline: list[AuditEvent]
    findings: Sequence[StoredFinding]


def _draft_page(
    console: Console, draft_id: int, left: int | None = None, right: int | None = None
) -> DraftPage:
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
    by_number = {r.revision: r for r in revisions}
    compare = None
    if len(revisions) > 1:  # the chosen two, else the latest change
        before = by_number.get(left or 0, revisions[-2])
        after = by_number.get(right or 0, revisions[-1])
        compare = side_by_side(before, after, console.config.directory)
    return DraftPage(list(by_number), compare, texts, timeline, loaded.findings)


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
        page = await run(
            _draft_page,
            console,
            draft_id,
            _number(request.query.get("from")),
            _number(request.query.get("to")),
        )
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


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdecimal() and len(value) < 6 else None


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
