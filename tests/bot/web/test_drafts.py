"""Drafts through the console: the same use cases, rules, refusals and audit events as chat."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import aiohttp
from sqlmodel import select

from bot.app import SERVICES_KEY
from handlers.drafts import Actor
from storage.tables import AuditEvent, Draft, Publication
from tests.bot.web.conftest import Console, Person
from tests.handlers.publishing_support import CLEAN
from workflows.checks import Platform

WRONG_WEEKDAY = "11月24日(月)に市民ホールでコンサートを開きます。"
ALL_CHECKS = [("checklist", c) for c in ("dates", "wording", "facts", "flame", "human_rights")]


async def _check(person: Person, text: str, accounts: list[str]) -> dict[str, object]:
    async with person.session.post(
        person.url("/check"),
        json={"text": text, "accounts": accounts, "publish_at": ""},
        headers={"X-CSRF-Token": person.csrf},
    ) as response:
        assert response.status == 200
        result: dict[str, object] = await response.json()
        return result


async def test_the_live_check_answers_with_the_checkers_findings(console: Console) -> None:
    person = await console.signed_in("takahashi.yui")
    status, page = await person.get("/drafts/new")
    assert status == 200
    assert 'value="midori-x" checked' in page  # the viewer's section's first account
    result = await _check(person, WRONG_WEEKDAY, ["midori-x"])
    [finding] = result["findings"]  # type: ignore[misc]
    assert finding["rule"] == "date-weekday"
    assert finding["severity"] == "error"
    assert finding["quote"] == "11月24日(月)"
    assert "火曜日" in finding["message"]
    assert (await _check(person, CLEAN, ["midori-x"]))["findings"] == []
    async with person.session.post(
        person.url("/check"), data=json.dumps({"text": "x"}), headers={"X-CSRF-Token": "forged"}
    ) as response:
        assert response.status == 403


async def test_write_submit_peer_check_and_approve_in_the_browser(console: Console) -> None:
    author = await console.signed_in("takahashi.yui")
    status, page = await author.post(
        "/drafts",
        [
            ("text", WRONG_WEEKDAY),
            ("accounts", "midori-x"),
            ("publish_at", "2026-12-01T10:00"),
            ("action", "submit"),
        ],
    )
    assert status == 400  # saved, but an error finding keeps it from review
    assert "投稿案 #1" in page
    assert '<mark class="f-error"' in page
    assert "11月24日(月)</mark>" in page
    with console.db.session(read_only=True) as session:
        [draft] = session.exec(select(Draft)).all()
    assert draft.state == "draft"
    assert draft.source == "web"

    status, page = await author.post(
        "/drafts",
        [
            ("text", CLEAN),
            ("accounts", "midori-x"),
            ("publish_at", "2026-12-01T10:00"),
            ("action", "submit"),
        ],
    )
    assert status == 200
    assert "投稿案 #2" in page
    assert '<span class="badge s-in_review" id="state">ダブルチェック待ち</span>' in page

    # The author cannot check their own draft: the chat's refusal, in Japanese, and audited.
    status, page = await author.post("/drafts/2/peer_check", [("revision", "1"), *ALL_CHECKS])
    assert status == 400
    assert 'id="message"' in page

    peer = await console.signed_in("ito.makoto")
    status, page = await peer.get("/drafts?tab=waiting")
    assert '<a href="/drafts/2">' in page
    status, page = await peer.post("/drafts/2/peer_check", [("revision", "1"), *ALL_CHECKS])
    assert status == 200
    assert "ピアチェックを記録しました" in page

    chief = await console.signed_in("sato.keiko")
    status, page = await chief.post(
        "/drafts/2/approve", [("revision", "1"), ("checklist", "dates")]
    )
    assert status == 400  # the checklist is not complete
    status, page = await chief.post("/drafts/2/approve", [("revision", "1"), *ALL_CHECKS])
    assert status == 200
    assert "承認しました" in page
    assert '<span class="badge s-approved" id="state">承認済み</span>' in page

    with console.db.session(read_only=True) as session:
        [publication] = session.exec(select(Publication)).all()
        events = session.exec(select(AuditEvent)).all()
    assert publication.draft_id == 2
    assert publication.state == "pending"
    refused = [e for e in events if e.action == "draft.refused"]
    assert {e.details["via"] for e in refused} == {"web"}
    assert {e.actor for e in refused} == {"takahashi.yui", "sato.keiko"}
    decided = [e for e in events if e.subject == "draft:2" and e.actor == "sato.keiko"]
    assert any(e.details.get("via") == "web" for e in decided)

    status, page = await chief.get("/?date=2026-12-01")
    assert 'href="/drafts/2"' in page
    assert "k-scheduled" in page


async def test_send_back_needs_a_reason_and_then_returns_the_draft(console: Console) -> None:
    author = await console.signed_in("takahashi.yui")
    await author.post("/drafts", [("text", CLEAN), ("accounts", "midori-x"), ("action", "submit")])
    peer = await console.signed_in("ito.makoto")
    status, page = await peer.post("/drafts/1/send_back", [("revision", "1"), ("reason", " ")])
    assert status == 400
    assert 'id="message"' in page
    status, page = await peer.post(
        "/drafts/1/send_back", [("revision", "1"), ("reason", "日時を確認してください")]
    )
    assert status == 200
    status, page = await author.get("/drafts?tab=mine")
    assert "差し戻し" in page

    # The author fixes it: a new revision, checked again, then submitted again.
    status, page = await author.get("/drafts/1")
    assert 'id="revise-form"' in page
    fixed = CLEAN.replace("10時", "10時30分")
    status, page = await author.post(
        "/drafts/1/revise", [("text", fixed), ("publish_at", "2026-12-01T10:00")]
    )
    assert status == 200
    assert "新しい版を保存しました" in page
    assert '<span class="badge s-draft" id="state">下書き</span>' in page
    assert "第1版 → 第2版" in page
    status, page = await author.post("/drafts/1/submit")
    assert '<span class="badge s-in_review" id="state">ダブルチェック待ち</span>' in page
    status, page = await peer.post("/drafts/1/revise", [("text", "横から書き換え")])
    assert status == 400  # only the author revises
    with console.db.session(read_only=True) as session:
        draft = session.get(Draft, 1)
    assert draft is not None
    assert draft.revision == 2


async def test_a_draft_page_shows_revisions_side_by_side(console: Console) -> None:
    author = await console.signed_in("takahashi.yui")
    await author.post("/drafts", [("text", CLEAN), ("accounts", "midori-x")])
    drafts = console.server.app[SERVICES_KEY].drafts
    actor = Actor("web", "takahashi.yui")
    drafts.revise(actor, 1, text=CLEAN.replace("10時", "11時"))
    console.clock.now += timedelta(minutes=30)
    drafts.revise(
        actor,
        1,
        text=CLEAN.replace("10時", "11時").replace("参加は無料です。", ""),
        variants={Platform.FACEBOOK: "フェイスブック用の本文です。"},
    )
    status, page = await author.get("/drafts/1")
    assert status == 200
    assert "第2版 → 第3版" in page  # by default the latest change
    left, right = _column(page, "left", 1), _column(page, "right", 1)
    assert "第2版 高橋 結衣 2026-11-24 10:00" in left
    assert "第3版 高橋 結衣 2026-11-24 10:30" in right
    assert re.search(r"<del>[^<]*参加は無料[^<]*</del>", left), left
    assert "参加は無料です。" not in right  # the later side shows only what it has
    assert "<ins>フェイスブック用の本文です。</ins>" in _column(page, "right", 2)
    assert "facebook 用の本文" in page

    status, page = await author.get("/drafts/1?from=1&to=3")  # any two, chosen on the page
    assert "第1版 → 第3版" in page
    assert "<del>0</del>" in _column(page, "left", 1)
    assert "<ins>1</ins>" in _column(page, "right", 1)
    assert '<option value="1" selected>第1版</option>' in page
    status, page = await author.get("/drafts/1?from=9&to=x")  # unknown: the latest change
    assert status == 200
    assert "第2版 → 第3版" in page
    # The timeline, from the audit log, in Japanese (the action's code on hover).
    assert '<span title="draft.created">投稿案の作成</span>' in page
    assert '<span title="draft.revised">修正</span>' in page


def _column(page: str, side: str, part: int) -> str:
    start = page.index(f'id="{side}-{part}"')
    return page[start : page.index("</div>", start)]


async def test_a_file_posted_where_text_is_expected_is_ignored(console: Console) -> None:
    author = await console.signed_in("takahashi.yui")
    form = aiohttp.FormData()
    form.add_field("csrf", author.csrf)
    form.add_field("text", CLEAN)
    form.add_field("accounts", b"midori-x", filename="accounts.txt")
    async with author.session.post(author.url("/drafts"), data=form) as response:
        assert response.status == 400  # no account chosen: the use case's refusal
        assert 'id="message"' in await response.text()


async def test_drafts_by_state_newest_first(console: Console) -> None:
    author = await console.signed_in("takahashi.yui")
    await author.post("/drafts", [("text", CLEAN), ("accounts", "midori-x")])
    console.clock.now += timedelta(minutes=5)
    await author.post("/drafts", [("text", CLEAN), ("accounts", "midori-facebook")])
    _, page = await author.get("/drafts?tab=state&state=draft")
    assert page.index('<a href="/drafts/2">2</a>') < page.index('<a href="/drafts/1">1</a>')
    _, page = await author.get("/drafts?tab=state&state=published")
    assert "該当する投稿案はありません" in page
