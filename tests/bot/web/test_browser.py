"""The console in a real headless Chromium (Debian's ``chromium`` and ``chromium-driver``,
driven by Selenium): sign in with a one-time link, write a draft and see the live check's
finding, submit, peer-check and approve as two other people, see it on the calendar, then
published, and the audit entries.

One browser for the module. Screenshots of every page go to a temporary folder, or to
docs/screenshots/ (the README's pictures) with ``POSTGATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException as stale
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By as by
from selenium.webdriver.support.ui import WebDriverWait as wait

from bot.app import OUTBOX_KEY, SERVICES_KEY, build_app, synchronise
from bot.config import AppConfig, load_config
from bot.web.security import WebSettings, issue_signin_link
from handlers.drafts import Actor, NewDraft
from storage.engine import Database
from storage.migrate import upgrade
from tests.conftest import JST
from tests.handlers.conftest import NOW, FixedClock
from tests.handlers.publishing_support import CLEAN
from tests.storage.conftest import fresh_database
from workflows.checks import Platform

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO = Path(__file__).resolve().parents[3]
WAIT_SECONDS = 30  # a generous deadline for what the page does on its own (the live check)

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="no headless browser: apt-get install chromium chromium-driver "
    "(scripts/_setup.sh does with POSTGATE_INSTALL_BROWSER=1 or CI=true)",
)

WRONG_WEEKDAY = "11月24日(月)に市民ホールでコンサートを開きます。"
DEC_1 = datetime(2026, 12, 1, 10, 0, tzinfo=JST)


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--lang=ja-JP",
    ):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield browser
    finally:
        browser.quit()


class Server:
    """The whole bot application on 127.0.0.1, in a thread of its own (the browser's requests
    are answered while the test waits for the browser)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner = web.AppRunner(app)
        self.port = 0

    def call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=120)

    def start(self) -> None:
        self.thread.start()
        self.call(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.call(site.start())
        self.port = self.runner.addresses[0][1]

    def stop(self) -> None:
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=60)
        self.loop.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("POSTGATE_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path


def test_draft_to_calendar_to_published_in_a_real_browser(
    driver: Any, tmp_path: Path, shots: Path
) -> None:
    config: AppConfig = load_config(REPO / "app.yaml")
    clock = FixedClock(NOW)
    with fresh_database("sqlite", tmp_path) as db:
        upgrade(db)
        synchronise(config, db, clock=clock)
        server = Server(build_app(config, db, environ={}, clock=clock, timers=False))
        server.start()
        try:
            _journey(driver, server=server, db=db, config=config, clock=clock, shots=shots)
        finally:
            server.stop()


def _journey(
    driver: Any,
    *,
    server: Server,
    db: Database,
    config: AppConfig,
    clock: FixedClock,
    shots: Path,
) -> None:
    base = f"http://127.0.0.1:{server.port}"

    def sign_in(member_id: str) -> None:
        driver.delete_all_cookies()
        member = config.member(member_id)
        assert member is not None
        driver.get(issue_signin_link(db, member, WebSettings(base_url=base), at=clock()))
        driver.find_element(by.ID, "signin").click()
        wait(driver, WAIT_SECONDS).until(lambda d: d.find_elements(by.ID, "calendar"))
        assert member.name in driver.find_element(by.ID, "viewer").text

    def shot(name: str) -> None:
        driver.save_screenshot(str(shots / f"{name}.png"))

    def press(button_id: str) -> str:
        """Click a form's button; the text of the answer's notice once the new page is in."""
        driver.find_element(by.ID, button_id).click()
        return str(
            wait(driver, WAIT_SECONDS, ignored_exceptions=(stale,)).until(
                lambda d: " ".join(
                    e.text for e in d.find_elements(by.CSS_SELECTOR, "#done, #message")
                )
            )
        )

    def check_all(form_id: str) -> None:
        form = driver.find_element(by.ID, form_id)
        for box in form.find_elements(by.NAME, "checklist"):
            box.click()

    # The author: a finding appears while typing; fixed, the draft is submitted.
    sign_in("takahashi.yui")
    driver.get(f"{base}/drafts/new")
    text = driver.find_element(by.ID, "text")
    text.send_keys(WRONG_WEEKDAY)
    finding = wait(driver, WAIT_SECONDS, ignored_exceptions=(stale,)).until(
        lambda d: " ".join(
            li.text
            for li in d.find_elements(by.CSS_SELECTOR, '#findings li[data-rule="date-weekday"]')
        )
    )
    assert "火曜日" in finding
    shot("new-draft")
    text.clear()
    text.send_keys(CLEAN)
    driver.execute_script(
        "document.getElementById('publish_at').value = arguments[0]", "2026-12-01T10:00"
    )
    wait(driver, WAIT_SECONDS, ignored_exceptions=(stale,)).until(
        lambda d: (
            not d.find_elements(by.CSS_SELECTOR, "#findings li")
            and "エラー 0 件" in d.find_element(by.ID, "check-status").text
        )
    )
    driver.find_element(by.ID, "submit").click()
    state = wait(driver, WAIT_SECONDS).until(lambda d: d.find_elements(by.ID, "state"))[0]
    assert state.text == "ダブルチェック待ち"
    draft_url = driver.current_url

    # A colleague checks it; the chief approves it.
    sign_in("ito.makoto")
    driver.get(f"{base}/drafts")
    driver.find_element(by.CSS_SELECTOR, "#drafts a").click()
    check_all("peer-check-form")
    assert press("do-peer-check") == "ピアチェックを記録しました。"
    assert driver.find_element(by.ID, "state").text == "承認待ち"

    sign_in("sato.keiko")
    driver.get(draft_url)
    shot("draft-approval")
    check_all("approve-form")
    assert press("do-approve") == "承認しました。"
    assert driver.find_element(by.ID, "state").text == "承認済み"

    # On the calendar, as 予定 on 1 December.
    driver.get(f"{base}/?date=2026-12-01")
    entry = driver.find_element(by.CSS_SELECTOR, 'td[data-date="2026-12-01"] a.entry')
    assert "k-scheduled" in entry.get_attribute("class")
    assert "10:00" in entry.text
    shot("calendar-month")
    driver.get(f"{base}/?view=week&date=2026-12-01")
    shot("calendar-week")

    # The time comes: the outbox publishes it (dry run); the calendar and the log say so.
    clock.now = DEC_1 + timedelta(minutes=1)
    server.call(server.app[OUTBOX_KEY].tick())
    sign_in("sato.keiko")  # the earlier session ended with the clock's week
    driver.get(f"{base}/?date=2026-12-01")
    entry = driver.find_element(by.CSS_SELECTOR, 'td[data-date="2026-12-01"] a.entry')
    assert "k-published" in entry.get_attribute("class")
    driver.get(draft_url)
    assert driver.find_element(by.ID, "state").text == "投稿済み"
    [permalink] = driver.find_elements(by.CSS_SELECTOR, "#publications a")
    assert permalink.text.startswith("dryrun://midori-x/")
    shot("draft-published")
    driver.get(f"{base}/audit")
    actions = driver.find_element(by.ID, "audit").text
    for action in (
        "draft.created",
        "draft.to_peers",
        "draft.to_approvers",  # the peer check
        "draft.approved",
        "publication.published",
        "web.signed_in",
    ):
        assert action in actions
    assert "すべて正常" in driver.find_element(by.ID, "chain").text
    shot("audit-log")
    for page in ("drafts", "outbox", "incidents"):
        driver.get(f"{base}/{page}")
        shot(page)

    # On a phone.
    driver.set_window_size(390, 844)
    driver.get(f"{base}/?date=2026-12-01")
    assert driver.find_element(by.CSS_SELECTOR, 'td[data-date="2026-12-01"] a.entry')
    shot("calendar-phone")
    driver.set_window_size(1280, 1000)


def test_two_revisions_side_by_side_stack_on_a_phone(
    driver: Any, tmp_path: Path, shots: Path
) -> None:
    """Any two revisions in two columns on a desktop, one above the other on a phone."""
    config: AppConfig = load_config(REPO / "app.yaml")
    clock = FixedClock(NOW)
    with fresh_database("sqlite", tmp_path) as db:
        upgrade(db)
        synchronise(config, db, clock=clock)
        app = build_app(config, db, environ={}, clock=clock, timers=False)
        server = Server(app)
        server.start()
        try:
            drafts = app[SERVICES_KEY].drafts
            author = Actor("web", "takahashi.yui")
            created = drafts.create(author, NewDraft(CLEAN, targets=("midori-x",)))
            draft_id = created.draft.id
            clock.now += timedelta(minutes=20)
            later = CLEAN.replace("10時", "10時30分")
            drafts.revise(author, draft_id, text=later)
            clock.now += timedelta(minutes=20)
            drafts.revise(
                author,
                draft_id,
                text=later.replace("参加は無料です。", "先着30名です。"),
                variants={Platform.INSTAGRAM: "おはなし会を開きます。#みどり市 #図書館"},
            )
            base = f"http://127.0.0.1:{server.port}"
            driver.delete_all_cookies()
            member = config.member("takahashi.yui")
            assert member is not None
            driver.get(issue_signin_link(db, member, WebSettings(base_url=base), at=clock()))
            driver.find_element(by.ID, "signin").click()
            wait(driver, WAIT_SECONDS).until(lambda d: d.find_elements(by.ID, "calendar"))

            driver.get(f"{base}/drafts/{draft_id}")
            select = driver.find_element(by.NAME, "from")
            select.find_element(by.CSS_SELECTOR, 'option[value="1"]').click()
            driver.find_element(by.CSS_SELECTOR, "#revisions button[type=submit]").click()
            wait(driver, WAIT_SECONDS, ignored_exceptions=(stale,)).until(
                lambda d: "第1版 → 第3版" in d.find_element(by.ID, "compared").text
            )
            left, right = (driver.find_element(by.ID, f"{side}-1") for side in ("left", "right"))
            assert left.location["y"] == right.location["y"]  # side by side
            assert left.location["x"] < right.location["x"]
            assert "参加は無料です。" in left.text
            assert "先着30名です。" in right.text
            driver.execute_script("document.getElementById('revisions').scrollIntoView()")
            driver.save_screenshot(str(shots / "draft-revisions.png"))

            driver.set_window_size(390, 844)
            driver.get(f"{base}/drafts/{draft_id}?from=1&to=3")
            left, right = (driver.find_element(by.ID, f"{side}-1") for side in ("left", "right"))
            assert right.location["y"] > left.location["y"]  # stacked on a phone
            assert left.location["x"] == right.location["x"]
            driver.execute_script("document.getElementById('compared').scrollIntoView()")
            driver.save_screenshot(str(shots / "draft-revisions-phone.png"))
        finally:
            driver.set_window_size(1280, 1000)
            server.stop()
