"""The calendar: month and week grids, closed days, today, filters, CSV and iCalendar feeds."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from bot.app import SERVICES_KEY
from handlers.drafts import Actor, NewDraft
from tests.bot.web.conftest import Console
from tests.conftest import JST
from tests.handlers.publishing_support import CLEAN, approve

DEC_1 = datetime(2026, 12, 1, 10, 0, tzinfo=JST)  # NOW is Tuesday 24 November 2026, 10:00


def _cell(page: str, day: str) -> str:
    found = re.search(rf'<td class="[^"]*" data-date="{day}">(.*?)</td>', page, re.S)
    assert found, day
    return found.group(1)


def _plan(console: Console) -> tuple[int, int]:
    """One approved post on midori-x (1 December) and one kankyo-x draft awaiting review."""
    drafts = console.server.app[SERVICES_KEY].drafts
    approved = approve(drafts, console.config, targets=("midori-x",), publish_at=DEC_1)
    waiting = drafts.create(
        Actor("web", "kato.shota"),
        NewDraft(CLEAN, targets=("kankyo-x",), publish_at=DEC_1.replace(hour=14)),
    ).draft.id
    drafts.submit(Actor("web", "kato.shota"), waiting)
    return approved, waiting


async def test_the_month_shows_every_post_by_state_with_today_and_closed_days(
    console: Console,
) -> None:
    approved, waiting = _plan(console)
    person = await console.signed_in("suzuki.hiroshi")
    status, page = await person.get("/")
    assert status == 200
    assert "2026年11月" in page
    today = _cell(page, "2026-11-24")
    assert "今日" in today
    assert re.search(r'<td class="[^"]*\btoday\b[^"]*" data-date="2026-11-24"', page)
    assert not re.search(r'<td class="[^"]*\btoday\b[^"]*" data-date="2026-11-25"', page)
    assert "祝日（勤労感謝の日）" in _cell(page, "2026-11-23")
    assert "日曜日" in _cell(page, "2026-11-29")
    december = _cell(page, "2026-12-01")  # the grid ends with whole weeks
    assert f'href="/drafts/{approved}"' in december
    assert "k-scheduled" in december
    assert f'href="/drafts/{waiting}"' in december
    assert "k-waiting" in december
    assert "10:00" in december
    assert "14:00" in december

    status, page = await person.get("/?account=midori-x&date=2026-12-01")
    assert "2026年12月" in page
    december = _cell(page, "2026-12-01")
    assert f'href="/drafts/{approved}"' in december
    assert f'href="/drafts/{waiting}"' not in december
    # One account shown: its own operating days (the museum opens at weekends, not Mondays).
    _, page = await person.get("/?account=museum-facebook&date=2026-11-01")
    assert "closed-reason" not in _cell(page, "2026-11-28")
    assert "月曜日" in _cell(page, "2026-11-30")
    status, page = await person.get("/?section=環境推進課&date=2026-12-01")
    december = _cell(page, "2026-12-01")
    assert f'href="/drafts/{approved}"' not in december
    assert f'href="/drafts/{waiting}"' in december


async def test_the_week_has_a_line_at_the_clocks_time(console: Console) -> None:
    drafts = console.server.app[SERVICES_KEY].drafts
    later = approve(drafts, console.config, publish_at=DEC_1.replace(month=11, day=24, hour=15))
    person = await console.signed_in("suzuki.hiroshi")
    _, page = await person.get("/?view=week")
    assert "2026年11月23日〜11月29日" in page
    today = _cell(page, "2026-11-24")
    assert today.index('class="now-line"') < today.index(f'href="/drafts/{later}"')
    assert ">10:00</div>" in today
    # midori-x aims at three posts a week (app.yaml cadence): one is planned.
    assert "みどり市（x）：今週 1 / 目標 3 件 <b>あと 2 件</b>" in page
    _, page = await person.get("/?view=week&account=kankyo-x")
    assert 'id="targets"' not in page  # no target for that account
    _, page = await person.get("/")
    assert 'id="targets"' not in page  # the month shows no weekly gaps


async def test_a_month_as_csv(console: Console) -> None:
    approved, _ = _plan(console)
    person = await console.signed_in("suzuki.hiroshi")
    async with person.session.get(person.url("/calendar/month.csv?date=2026-12-05")) as response:
        assert response.status == 200
        assert "postgate-2026-12.csv" in response.headers["Content-Disposition"]
        body = await response.text()
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:5] == ["日時", "アカウント", "媒体", "区分", "状態"]
    assert rows[1][:4] == ["2026-12-01 10:00", "midori-x", "x", "予定"]
    assert rows[1][5] == str(approved)
    assert rows[2][:4] == ["2026-12-01 14:00", "kankyo-x", "x", "承認待ち"]


async def test_calendar_feeds_behind_a_revocable_personal_token(console: Console) -> None:
    approved, _ = _plan(console)
    person = await console.signed_in("suzuki.hiroshi")
    status, page = await person.post("/feeds", {"label": "自席のOutlook"})
    assert status == 200
    token = re.search(r"/calendar\.ics\?token=([\w-]+)", page).group(1)  # type: ignore[union-attr]
    status, page = await person.get("/feeds")
    assert token not in page  # shown once only
    assert "自席のOutlook" in page

    reader = await console.browser()  # a calendar program: no session, only the address
    async with reader.session.get(reader.url(f"/calendar/midori-x.ics?token={token}")) as response:
        assert response.status == 200
        assert response.content_type == "text/calendar"
        ics = await response.text()
    assert ics.startswith("BEGIN:VCALENDAR\r\n")
    assert f"UID:postgate-{approved}-midori-x-1@postgate" in ics
    assert "DTSTART:20261201T010000Z" in ics
    assert "kankyo-x" not in ics
    async with reader.session.get(reader.url(f"/calendar.ics?token={token}")) as response:
        everything = await response.text()
    assert "SUMMARY:[承認待ち] kankyo-x" in everything
    async with reader.session.get(reader.url("/calendar.ics?token=guessed")) as response:
        assert response.status == 404

    feed_id = re.search(r'action="/feeds/(\d+)/revoke"', page).group(1)  # type: ignore[union-attr]
    await person.post(f"/feeds/{feed_id}/revoke")
    async with reader.session.get(reader.url(f"/calendar.ics?token={token}")) as response:
        assert response.status == 404


async def test_a_busy_day_lists_six_and_links_the_rest_to_its_week(console: Console) -> None:
    drafts = console.server.app[SERVICES_KEY].drafts
    for minute in range(7):
        approve(drafts, console.config, publish_at=DEC_1.replace(minute=minute))
    person = await console.signed_in("suzuki.hiroshi")
    _, page = await person.get("/?date=2026-12-01")
    busy = _cell(page, "2026-12-01")
    assert busy.count('class="entry ') == 6
    assert "他 1 件" in busy
    assert 'href="/?view=week&date=2026-12-01"' in busy
    assert '<li class="k-scheduled">予定 <b>7</b></li>' in page  # every post is counted
    _, page = await person.get("/?view=week&date=2026-12-01")
    assert _cell(page, "2026-12-01").count('class="entry ') == 7
