"""The outbox, incidents and the audit log through the console."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, text
from sqlmodel import select

from bot.app import ANCHORS_KEY, OUTBOX_KEY, SERVICES_KEY, build_app
from bot.config import AppConfig
from bot.web.console import actor_text
from handlers.drafts import Actor
from storage import audit
from storage.engine import Database
from storage.tables import AuditEvent, Publication
from tests.bot.slack.test_incidents import x_env
from tests.bot.web.conftest import Console
from tests.conftest import JST
from tests.fakes.x import FakeX
from tests.handlers.conftest import FixedClock
from tests.handlers.publishing_support import approve

DEC_1 = datetime(2026, 12, 1, 10, 0, tzinfo=JST)


def _state(console: Console, publication_id: int) -> Publication:
    with console.db.session(read_only=True) as session:
        row = session.get(Publication, publication_id)
        assert row is not None
        return row


async def test_reschedule_cancel_and_pause_from_the_outbox(console: Console) -> None:
    drafts = console.server.app[SERVICES_KEY].drafts
    approve(drafts, console.config, publish_at=DEC_1)
    approve(drafts, console.config, publish_at=DEC_1)
    chief = await console.signed_in("sato.keiko")
    status, page = await chief.get("/outbox")
    assert 'id="publication-1"' in page
    assert 'id="publication-2"' in page

    status, page = await chief.post("/outbox/1/reschedule", {"at": "2026-12-02T11:30"})
    assert status == 200
    assert _state(console, 1).due_at == datetime(2026, 12, 2, 11, 30, tzinfo=JST)
    status, page = await chief.post("/outbox/1/reschedule", {"at": "2026-11-01T09:00"})
    assert status == 400  # in the past: the use case's refusal, shown in Japanese
    assert 'id="message"' in page
    assert _state(console, 1).due_at == datetime(2026, 12, 2, 11, 30, tzinfo=JST)

    status, page = await chief.post("/outbox/2/cancel", {"reason": "イベント中止のため"})
    assert _state(console, 2).state == "cancelled"

    stranger = await console.signed_in("kato.shota")  # another section's staff
    status, page = await stranger.post("/outbox/1/cancel", {"reason": "間違い"})
    assert status == 400
    assert _state(console, 1).state == "pending"
    status, page = await stranger.post("/outbox/pause", {"account": "midori-x", "reason": "x"})
    assert status == 400

    status, page = await chief.post(
        "/outbox/pause", {"account": "midori-x", "reason": "乗っ取りの疑い"}
    )
    assert status == 200
    assert _state(console, 1).state == "held"
    status, page = await chief.get("/?date=2026-12-02")
    assert "k-paused" in page
    status, page = await chief.post("/outbox/resume", {"account": "midori-x"})
    assert _state(console, 1).state == "pending"

    with console.db.session(read_only=True) as session:
        actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    for action in (
        "publication.rescheduled",
        "publication.cancelled",
        "publication.refused",
        "pause.started",
        "pause.released",
    ):
        assert action in actions


async def test_acknowledge_and_tick_an_incident(console: Console) -> None:
    incidents = console.server.app[SERVICES_KEY].incidents
    opened = incidents.report(
        Actor("web", "ito.makoto"),
        kind="hijack",
        account_id="midori-x",
        notes="身に覚えのない投稿があります",
    )
    incident_id = opened.id
    person = await console.signed_in("sato.keiko")
    status, page = await person.get("/incidents")
    assert f'href="/incidents/{incident_id}"' in page
    status, page = await person.get(f"/incidents/{incident_id}")
    step = re.search(r'name="item" value="([\w.-]+)"', page).group(1)  # type: ignore[union-attr]
    status, page = await person.post(f"/incidents/{incident_id}/acknowledge")
    assert status == 200
    status, page = await person.post(f"/incidents/{incident_id}/tick", {"item": step})
    assert status == 200
    view = incidents.get(incident_id)
    assert view.state.value == "acknowledged"
    assert [line.done_by_id for line in view.checklist if line.item_id == step] == ["sato.keiko"]


async def test_audit_log_search_export_and_chain_status(console: Console) -> None:
    drafts = console.server.app[SERVICES_KEY].drafts
    draft_id = approve(drafts, console.config, publish_at=DEC_1)
    person = await console.signed_in("sato.keiko")
    status, page = await person.get(f"/audit?draft={draft_id}")
    assert status == 200
    assert "改ざん検知チェーンを検証しました" in page
    assert "承認 <code>draft.approved</code>" in page  # what it means, and the code to search
    assert "投稿案の作成 <code>draft.created</code>" in page
    assert "web.signed_in" not in page  # only this draft's events
    # who acted, by name, with the member id beside it (what the 実行者 search takes)
    assert "<td>佐藤 恵子 <code>sato.keiko</code></td>" in page
    _, page = await person.get("/audit?action=web.")
    assert "Web画面へのサインイン <code>web.signed_in</code>" in page
    async with person.session.get(person.url(f"/audit/export.jsonl?draft={draft_id}")) as response:
        lines = [json.loads(line) for line in (await response.text()).splitlines()]
    assert lines[0]["action"] == "draft.created"
    assert all(line["subject"] == f"draft:{draft_id}" for line in lines)
    async with person.session.get(person.url(f"/audit/export.csv?draft={draft_id}")) as response:
        body = await response.text()
    assert body.splitlines()[0] == "seq,at,actor,action,subject,details,prev_hash,hash"


@pytest.mark.parametrize(
    ("actor", "shown"),
    [
        ("sato.keiko", "佐藤 恵子"),
        ("monitor", "postgate（アカウント監視）"),
        ("slack:U0NOBODY", "名簿にないSlack利用者"),
        ("teams:00000000-0000-0000-0000-000000000000", "名簿にないTeams利用者"),
        ("oidc:someone", "名簿にないサインイン"),
        ("someone.gone", "someone.gone"),  # a member since removed from app.yaml: the id
    ],
)
def test_the_audit_page_names_who_acted(config: AppConfig, actor: str, shown: str) -> None:
    assert actor_text(config.directory, actor) == shown


async def test_ask_to_delete_a_published_post_and_approve_it(console: Console) -> None:
    drafts = console.server.app[SERVICES_KEY].drafts
    approve(drafts, console.config)  # as soon as approved
    outbox = console.server.app[OUTBOX_KEY]
    await outbox.tick()
    await outbox.drain()
    assert _state(console, 1).state == "published"

    author = await console.signed_in("takahashi.yui")
    _, page = await author.get("/audit?draft=1")
    assert "<td>postgate（送信キュー） <code>outbox</code></td>" in page  # the worker that posted
    status, page = await author.post("/outbox/1/delete_request", {"reason": " "})
    assert status == 400  # a reason is required
    status, page = await author.post("/outbox/1/delete_request", {"reason": "日付の誤り"})
    assert status == 200
    assert "削除だけでは" in page  # the manual's advice (§8 (3))

    chief = await console.signed_in("sato.keiko")
    status, page = await chief.get("/outbox")
    assert 'id="deletions"' in page
    assert "日付の誤り" in page
    status, page = await chief.post("/deletions/1/approve")
    assert status == 200
    await outbox.tick()
    await outbox.drain()
    assert _state(console, 1).state == "deleted"
    with console.db.session(read_only=True) as session:
        actions = {e.action for e in session.exec(select(AuditEvent)).all()}
    assert {"deletion.requested", "deletion.approved"} <= actions


async def test_retry_a_failed_post_from_the_outbox(
    database: Database, config: AppConfig, clock: FixedClock
) -> None:
    """X refuses the post (400): it fails; the author's 再送する puts it back in the queue (the
    same use case as the chat button, the same refusals and audit event) and it goes out."""
    async with FakeX() as x:
        app = build_app(config, database, environ=x_env(config, x), clock=clock, timers=False)
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        console = Console(server, database, config, clock)
        try:
            approve(app[SERVICES_KEY].drafts, config)  # as soon as approved
            x.fail_next(400, method="POST", path="/2/tweets")
            outbox = app[OUTBOX_KEY]
            await outbox.tick()
            await outbox.drain()
            assert _state(console, 1).state == "failed"

            author = await console.signed_in("takahashi.yui")
            status, page = await author.get("/outbox?state=failed")
            assert 'action="/outbox/1/retry"' in page
            assert "再送する" in page

            stranger = await console.signed_in("kato.shota")  # another section's staff
            status, page = await stranger.post("/outbox/1/retry")
            assert status == 400
            assert 'id="message"' in page
            assert _state(console, 1).state == "failed"

            status, page = await author.post("/outbox/1/retry", {"csrf": "forged"})
            assert status == 403
            assert _state(console, 1).state == "failed"

            status, page = await author.post("/outbox/1/retry")
            assert status == 200  # back on the outbox page
            assert _state(console, 1).state == "sending"  # reconciled with X first
            status, page = await author.post("/outbox/1/retry")
            assert status == 400  # not failed any more: said, nothing changes
            assert 'id="message"' in page

            await outbox.tick()
            await outbox.drain()
            assert _state(console, 1).state == "published"
            assert len(x.posted) == 1
            with database.session(read_only=True) as session:
                events = session.exec(
                    select(AuditEvent).where(AuditEvent.action == "publication.retried")
                ).all()
            assert [(e.actor, e.subject) for e in events] == [("takahashi.yui", "publication:1")]
        finally:
            for person in console.people:
                await person.session.close()
            await server.close()


def _tamper(console: Console | Database, seq: int) -> None:
    db = console.db if isinstance(console, Console) else console
    with db.session() as session:
        session.connection().execute(
            text("UPDATE audit_event SET actor = 'someone.else' WHERE seq = :seq"), {"seq": seq}
        )


def _count(page: str) -> int:
    found = re.search(r"検証しました：(\d+)件すべて正常", page)
    assert found, page
    return int(found.group(1))


async def test_the_audit_page_verifies_only_what_is_new_and_keeps_a_break_shown(
    console: Console,
) -> None:
    """A view walks what was appended since the last one; the rows shown are checked against
    their own hashes; 全件を再検証 walks everything again and finds an older rewritten event."""
    drafts = console.server.app[SERVICES_KEY].drafts
    approve(drafts, console.config, publish_at=DEC_1)
    chief = await console.signed_in("sato.keiko")
    _, page = await chief.get("/audit")
    first = _count(page)
    assert "全件の検証：2026-11-24 10:00:00" in page
    assert 'action="/audit/verify"' in page

    console.clock.now += timedelta(minutes=5)
    await console.signed_in("ito.makoto")
    _, page = await chief.get("/audit?action=web.")
    assert _count(page) == first + 2  # web.link_issued, web.signed_in
    assert "その後に追加された 2件" in page
    assert "全件の検証：2026-11-24 10:00:00" in page  # not walked again

    _tamper(console, 1)  # an old event, not on this page (app.yaml mirrored at start)
    status, page = await chief.post("/audit/verify", {"csrf": "forged"})
    assert status == 403
    status, page = await chief.post("/audit/verify")  # 全件を再検証
    assert status == 200  # back on the audit page
    assert (
        "改ざん検知チェーンが壊れています：seq 1：記録の内容から計算したハッシュ値が保存された値と"
        in page
    )
    assert "全件の検証：2026-11-24 10:05:00" in page
    _, page = await chief.get("/audit?action=web.")  # and it stays shown
    assert "改ざん検知チェーンが壊れています：seq 1" in page


async def test_a_tampered_event_on_the_page_shows_at_once(console: Console) -> None:
    drafts = console.server.app[SERVICES_KEY].drafts
    draft_id = approve(drafts, console.config, publish_at=DEC_1)
    chief = await console.signed_in("sato.keiko")
    _, page = await chief.get("/audit")
    assert "改ざん検知チェーンを検証しました" in page
    with console.db.session(read_only=True) as session:
        created = session.exec(
            select(AuditEvent.seq).where(AuditEvent.action == "draft.created")
        ).one()
    _tamper(console, created)  # one of this draft's events, on the page asked for next
    _, page = await chief.get(f"/audit?draft={draft_id}")
    assert (
        f"改ざん検知チェーンが壊れています：seq {created}：記録の内容から計算したハッシュ" in page
    )
    assert f'<tr class="tampered" id="tampered"><td>{created}</td>' in page


async def test_the_last_verified_event_changed_shows_at_once(console: Console) -> None:
    approve(console.server.app[SERVICES_KEY].drafts, console.config, publish_at=DEC_1)
    chief = await console.signed_in("sato.keiko")
    _, page = await chief.get("/audit?action=draft.created")
    assert "改ざん検知チェーンを検証しました" in page
    with console.db.session(read_only=True) as session:
        head = session.exec(select(func.max(AuditEvent.seq))).one()
    _tamper(console, head)  # not on the page: the head the last view reached
    _, page = await chief.get("/audit?action=draft.created")
    broken = (
        f"改ざん検知チェーンが壊れています：seq {head}：前回検証した最後の記録が書き換えられたか"
    )
    assert broken in page


async def test_a_keyed_chain_verifies_with_the_key_and_the_anchor_is_shown(
    database: Database,
    config: AppConfig,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``POSTGATE_AUDIT_KEY`` the links are HMACs: the page verifies them with the key.
    The newest anchor of ``audit.anchor_file`` is compared with the chain on each view."""
    monkeypatch.setenv(audit.KEY_ENV, "kept-outside-the-database")
    anchors = tmp_path / "anchors.jsonl"
    config = config.model_copy(
        update={"audit": config.audit.model_copy(update={"anchor_file": anchors})}
    )
    app = build_app(
        config,
        database,
        environ={audit.KEY_ENV: "kept-outside-the-database"},
        clock=clock,
        timers=False,
    )
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    console = Console(server, database, config, clock)
    try:
        approve(app[SERVICES_KEY].drafts, config, publish_at=DEC_1)
        chief = await console.signed_in("sato.keiko")
        _, page = await chief.get("/audit")
        assert "改ざん検知チェーンを検証しました" in page
        assert "アンカーはまだ記録されていません" in page
        anchor = app[ANCHORS_KEY].anchor()
        assert anchor is not None
        _, page = await chief.get("/audit")
        assert f"最新のアンカー（seq {anchor.seq}、" in page
        assert "はチェーンと一致しています" in page
        with database.session() as session:
            session.connection().execute(
                text("UPDATE audit_event SET hash = :h WHERE seq = :seq"),
                {"h": "0" * 64, "seq": anchor.seq},
            )
        _, page = await chief.get("/audit?action=web.")
        assert "アンカーとチェーンが一致しません" in page
        assert "改ざん検知チェーンが壊れています" in page
    finally:
        for person in console.people:
            await person.session.close()
        await server.close()
