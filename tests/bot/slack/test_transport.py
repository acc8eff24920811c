"""How Slack connects: HTTP mode, Socket Mode, neither; and what never reaches the logs."""

from __future__ import annotations

import json
import logging
import time

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import TIMER_KEY, build_app
from bot.config import AppConfig
from bot.slack import ids
from bot.slack.app import SLACK_KEY
from storage.engine import Database
from tests.bot.slack.harness import (
    APP_TOKEN,
    BOT_TOKEN,
    CLEAN,
    DRAFTS,
    RESPONSE_PATH,
    SATO,
    SIGNING_SECRET,
    STRANGER,
    TAKAHASHI,
    SlackHarness,
    all_ticked,
    buttons,
    dm,
    sign,
    slack_env,
)
from tests.bot.slack.test_flow import approve, draft, published, ready_for_approval
from tests.fakes.slack import FakeSlack
from tests.handlers.conftest import FixedClock
from workflows.catalogue import Lang


async def test_without_slack_variables_serve_starts_and_says_how_to_enable(
    database: Database, config: AppConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = build_app(config, database, environ={})
    assert SLACK_KEY not in app
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.make_url("/healthz")) as health:
                assert health.status == 200
            async with session.post(server.make_url("/slack/events"), data=b"{}") as events:
                assert events.status in (404, 405)
    finally:
        await server.close()
    logged = caplog.text
    assert "Slack連携は無効です" in logged
    assert "SLACK_BOT_TOKEN" in logged
    assert "Slack is off" not in logged  # Japanese by default; English with --lang en
    caplog.clear()
    build_app(config, database, environ={}, lang=Lang.EN)
    assert "Slack is off" in caplog.text
    assert "SLACK_APP_TOKEN" in caplog.text


async def test_serve_ticks_the_outbox_monitors_results_and_incident_reminders(
    database: Database, config: AppConfig, fake_slack: FakeSlack
) -> None:
    app = build_app(config, database, environ=slack_env(fake_slack))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        scheduler = app[TIMER_KEY].scheduler
        jobs = {job.id: job.trigger.interval.total_seconds() for job in scheduler.get_jobs()}
    finally:
        await server.close()
    assert jobs == {
        "outbox": 1,
        "monitors": 30,
        "chat": 3600,
        "incident_reminders": 60,
        "audit_anchors": 3600,
        "weekly_digest": 3600,  # looks as often as the chat tick; sends once a week
    }
    assert not app[TIMER_KEY].scheduler.running


async def test_the_events_url_answers_slacks_verification_challenge(slack: SlackHarness) -> None:
    challenge = {
        "token": "legacy",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
    reply = await slack.post_json(challenge)
    assert reply.status == 200
    assert reply.json() == {"challenge": challenge["challenge"]}
    forged = await slack.post_json(challenge, signature="v0=" + "0" * 64)
    assert forged.status == 401


async def test_socket_mode_receives_events_and_clicks_without_a_public_url(
    fake_slack: FakeSlack, database: Database, config: AppConfig, clock: FixedClock
) -> None:
    env = slack_env(fake_slack, SLACK_APP_TOKEN=APP_TOKEN)
    del env["SLACK_SIGNING_SECRET"]
    slack = SlackHarness(fake_slack, database, config, clock, env)
    await slack.start()
    try:
        assert slack.bot.settings.mode == "socket"
        assert fake_slack.calls_to("apps.connections.open")
        # No HTTP endpoint: nothing can be posted to postgate from outside.
        assert (await slack.post_json(slack.event_body({"type": "message"}))).status in (404, 405)

        ts = slack.next_ts()
        event = {"type": "message", "channel": DRAFTS, "user": TAKAHASHI, "text": CLEAN, "ts": ts}
        ack = await fake_slack.socket_send("events_api", slack.event_body(event))
        assert "envelope_id" in ack
        await slack.settle()
        [card] = fake_slack.thread(DRAFTS, ts)
        assert buttons(card.blocks)[ids.SUBMIT] == "1:1"

        click = slack.click_body(TAKAHASHI, card, ids.SUBMIT)
        await fake_slack.socket_send("interactive", click)
        await slack.settle()
        assert slack.draft().state == "in_review"

        command = {
            "command": ids.COMMAND,
            "text": "help",
            "user_id": TAKAHASHI,
            "channel_id": DRAFTS,
            "trigger_id": "1.2",
            "team_id": "T0MIDORI",
        }
        ack = await fake_slack.socket_send("slash_commands", command)
        assert "postgate の使い方" in json.dumps(ack["payload"], ensure_ascii=False)
    finally:
        await slack.close()


async def test_no_token_secret_or_response_url_reaches_the_logs(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """Every flow at DEBUG, with canary secrets: the logs never show them (bolt logs bodies,
    response_url included, at INFO when a signature is wrong; the SDK logs calls at DEBUG)."""
    caplog.set_level(logging.DEBUG)
    for name in ("slack_bolt", "slack_sdk"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING

    ts = await ready_for_approval(slack)
    [card] = slack.fake.messages(dm(SATO))
    await approve(slack, card)
    await published(slack)
    await slack.hub.tick()
    await slack.command(TAKAHASHI, "mine")
    await slack.command(TAKAHASHI, "help")
    await slack.open_home(SATO)
    await slack.message(STRANGER, CLEAN)  # a refusal
    await slack.click(TAKAHASHI, slack.card(ts), ids.SUBMIT, value="1:1")  # refused: published
    slack.fake.fail_next(500, path="/api/views[.]open")  # an unexpected error: the apology
    await slack.click(TAKAHASHI, slack.card(ts), ids.EDIT, value="1:1")
    body = json.dumps(slack.click_body(SATO, card, ids.APPROVE, value="1:1")).encode()
    stamp = str(int(time.time()))
    await slack.post(
        body,
        "application/x-www-form-urlencoded",
        signature=sign(body, stamp, "forged"),
        timestamp=stamp,
    )
    await slack.settle()
    view = slack.fake.views[-1]
    await slack.submit(SATO, view, all_ticked(view))
    await slack.settle()
    await draft(slack)

    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "slack incident" in logged  # the unexpected error was logged, with its id
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, RESPONSE_PATH):
        assert secret not in logged
    assert "response_url" not in logged
    apology = [t for t in slack.ephemerals(TAKAHASHI) if "問い合わせ番号" in t]
    assert apology
    assert apology[0].split("問い合わせ番号: ")[1][:8] in logged
