"""How fast the web console answers: the calendar of a month with 2,000 publications, and the
live check of a draft being typed.

Builds a fresh SQLite database with ``--publications`` publications spread over one month
(every state, every account), serves the whole bot application (``build_app``) on 127.0.0.1,
signs in with a one-time link and times, over loopback:

- ``GET /?date=...`` (the month grid, server-rendered: every post counted and coloured, a day's
  cell listing six and the rest behind 「他 N 件」, a link to that week) ``--rounds`` times;
- ``POST /check`` (the live check: the same checker as a saved draft) ``--rounds`` times with a
  typical post (about 130 characters, a date, a URL, a phone number);
- ``GET /audit`` with ``--audit-events`` events in the log: the first view after start-up (it
  walks the whole chain), then ``--rounds`` views with a few events appended before each (only
  those are walked, and the 200 rows shown are checked), and ``POST /audit/verify`` (the whole
  chain again, the page's 「全件を再検証」).

    uv run python benchmarks/web_speed.py [--publications 2000] [--rounds 30]
                                          [--audit-events 200000]

Targets: the month under 300 ms, the live check under 150 ms, a later audit view under 300 ms
(p50 and p95 are printed; the whole walks are printed for what they cost).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp.test_utils import TestServer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.app import build_app, synchronise  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.web.security import WebSettings, issue_signin_link  # noqa: E402
from storage import audit  # noqa: E402
from storage.engine import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.tables import Draft, DraftRevision, Publication  # noqa: E402

TOKYO = ZoneInfo("Asia/Tokyo")
STATES = ("pending", "published", "failed", "held", "needs_review", "pending", "published")
TEXT = (
    "【みどり市】12月5日(土)10時から中央図書館でおはなし会を開きます。参加は無料です。"
    "問い合わせは中央図書館（電話 0470-12-3456）まで。"
    "詳しくは https://www.city.midori.lg.jp/library/ をご覧ください。"
)


def seed(db: Database, accounts: list[str], count: int, month: datetime) -> None:
    """``count`` publications over the month, one draft each (as approved drafts have)."""
    with db.session() as session:
        for i in range(count):
            due = month + timedelta(minutes=(i * 1321) % (28 * 24 * 60))
            draft = Draft(
                author_id="takahashi.yui",
                state="scheduled",
                publish_at=due,
                source="bench",
                created_at=month,
                updated_at=month,
            )
            session.add(draft)
            session.flush()
            assert draft.id is not None
            account = accounts[i % len(accounts)]
            text = f"{TEXT} #{i}"
            content_hash = hashlib.sha256(text.encode()).hexdigest()
            session.add(
                DraftRevision(
                    draft_id=draft.id,
                    revision=1,
                    text=text,
                    targets=[account],
                    content_hash=content_hash,
                    created_by="takahashi.yui",
                    created_at=month,
                )
            )
            state = STATES[i % len(STATES)]
            session.add(
                Publication(
                    draft_id=draft.id,
                    revision=1,
                    account_id=account,
                    content_hash=content_hash,
                    due_at=due,
                    state=state,
                    hold_reason="paused" if state == "held" and i % 2 else None,
                    permalink=f"dryrun://{account}/{i}" if state == "published" else None,
                    created_at=month,
                    updated_at=month,
                )
            )


def seed_audit(db: Database, count: int, at: datetime) -> None:
    """``count`` events more in the audit log (appended as the app appends them: chained)."""
    done = 0
    while done < count:
        batch = min(5000, count - done)
        with db.session() as session:
            audit.append_many(
                session,
                [
                    audit.Entry(
                        actor="takahashi.yui",
                        action="draft.created",
                        subject=f"draft:{done + i}",
                        at=at,
                        details={"revision": 1, "text": TEXT},
                    )
                    for i in range(batch)
                ],
            )
        done += batch


def summary(name: str, seconds: list[float], target_ms: float) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p50 = statistics.median(ms)
    p95 = ms[min(len(ms) - 1, round(len(ms) * 0.95))]
    verdict = "ok" if p95 < target_ms else "OVER TARGET"
    print(
        f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms "
        f"(n={len(ms)}; target {target_ms:.0f} ms: {verdict})"
    )


async def main(publications: int, rounds: int, audit_events: int) -> None:
    config = load_config(REPO / "app.yaml")
    month = datetime(2026, 12, 1, tzinfo=TOKYO)
    now = month + timedelta(days=10, hours=10)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(db)
        synchronise(config, db, clock=lambda: now)
        started = time.perf_counter()
        seed(db, [a.id for a in config.accounts], publications, month)
        print(f"seeded {publications} publications in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        seed_audit(db, audit_events, now)
        print(f"seeded {audit_events} audit events in {time.perf_counter() - started:.1f} s")
        server = TestServer(
            build_app(config, db, environ={}, clock=lambda: now, timers=False),
            host="127.0.0.1",
            port=0,
        )
        await server.start_server()
        try:
            base = str(server.make_url("")).rstrip("/")
            member = config.member("takahashi.yui")
            assert member is not None
            link = issue_signin_link(db, member, WebSettings(base_url=base), at=now)
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as http:
                token = link.rsplit("/", 1)[1]
                async with http.post(f"{base}/signin", data={"token": token}) as response:
                    page = await response.text()
                found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page)
                assert found, "sign-in failed"
                csrf = found.group(1)

                month_times = []
                for _ in range(rounds + 1):
                    t0 = time.perf_counter()
                    async with http.get(f"{base}/?date=2026-12-01") as response:
                        body = await response.text()
                        assert response.status == 200
                    month_times.append(time.perf_counter() - t0)
                shown = body.count('class="entry ')
                size = len(body) / 1024
                print(f"month page: {shown} posts listed in cells, {size:.0f} KiB of HTML")
                summary("calendar month (GET /)", month_times[1:], 300)

                check_times = []
                payload = {"text": TEXT, "accounts": ["midori-x"], "publish_at": ""}
                for _ in range(rounds + 1):
                    t0 = time.perf_counter()
                    async with http.post(
                        f"{base}/check", json=payload, headers={"X-CSRF-Token": csrf}
                    ) as response:
                        await response.json()
                        assert response.status == 200
                    check_times.append(time.perf_counter() - t0)
                summary("live check (POST /check)", check_times[1:], 150)

                t0 = time.perf_counter()
                async with http.get(f"{base}/audit") as response:
                    body = await response.text()
                    assert response.status == 200
                first = time.perf_counter() - t0
                assert "すべて正常" in body, "the chain does not verify"
                print(
                    f"audit page, first view (walks all {audit_events:,} events and more): "
                    f"{first * 1000:.0f} ms"
                )
                audit_times = []
                for _ in range(rounds):
                    seed_audit(db, 5, now)  # what a busy city appends between two views
                    t0 = time.perf_counter()
                    async with http.get(f"{base}/audit") as response:
                        body = await response.text()
                        assert response.status == 200
                    audit_times.append(time.perf_counter() - t0)
                assert "すべて正常" in body
                assert "その後に追加された" in body
                summary("audit page, later views (GET /audit)", audit_times, 300)
                t0 = time.perf_counter()
                async with http.post(
                    f"{base}/audit/verify", data={"csrf": csrf}, allow_redirects=True
                ) as response:
                    body = await response.text()
                    assert response.status == 200
                print(
                    f"audit page, 全件を再検証 (POST /audit/verify, then the page): "
                    f"{(time.perf_counter() - t0) * 1000:.0f} ms"
                )
        finally:
            await server.close()
            db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publications", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--audit-events", type=int, default=200_000)
    args = parser.parse_args()
    asyncio.run(main(args.publications, args.rounds, args.audit_events))
