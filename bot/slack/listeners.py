"""The bolt listeners: parse, acknowledge, hand the work to a flow. Nothing else happens here.

Events are acknowledged by bolt before the listener runs; actions, modal submissions and the
command are acknowledged here first thing, so Slack hears back in milliseconds whatever the work
costs. Modal submissions are checked for completeness before the acknowledgement, so a missing
tick is shown in the modal itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.slack import ids, parse, render
from bot.slack.parse import Body

if TYPE_CHECKING:
    from bot.slack.app import SlackBot


def register(app: AsyncApp, bot: SlackBot) -> None:
    flows = bot.flows
    drafts_channels = frozenset(flows.draft_channels)

    @app.event("message")
    async def on_message(body: Body, event: Body) -> None:
        kind = parse.message_kind(event, drafts_channels)
        if kind == "new":
            bot.spawn(flows.draft_message(body), body)
        elif kind == "edited":
            bot.spawn(flows.message_edited(body), body)

    @app.event("app_home_opened")
    async def on_home(body: Body, event: Body) -> None:
        if event.get("tab", "home") == "home":
            bot.spawn(flows.home(body), body)

    @app.action(ids.SUBMIT)
    async def on_submit(ack: AsyncAck, body: Body) -> None:
        await ack()
        bot.spawn(flows.submit(body), body)

    @app.action(ids.WITHDRAW)
    async def on_withdraw(ack: AsyncAck, body: Body) -> None:
        await ack()
        bot.spawn(flows.withdraw(body), body)

    modal_for_action = {
        ids.EDIT: "edit",
        ids.SETTINGS: "settings",
        ids.PEER_CHECK: "peer_check",
        ids.PEER_SEND_BACK: "request_changes",
        ids.APPROVE: "approve",
        ids.REQUEST_CHANGES: "request_changes",
        ids.REJECT: "reject",
    }

    @app.action(_any_of(modal_for_action))
    async def on_open_modal(ack: AsyncAck, body: Body) -> None:
        await ack()
        action_id = body["actions"][0]["action_id"]
        bot.spawn(flows.open_modal(body, modal_for_action[action_id]), body)

    @app.view(ids.VIEW_APPROVE)
    async def on_approve(ack: AsyncAck, body: Body) -> None:
        form, errors = parse.approve_form(body, bot.clock())
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        bot.spawn(flows.approve(body, form), body)

    @app.view(ids.VIEW_PEER_CHECK)
    async def on_peer_check(ack: AsyncAck, body: Body) -> None:
        form, errors = parse.peer_form(body)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        bot.spawn(flows.peer_check(body, form), body)

    @app.view(_any_of((ids.VIEW_REQUEST_CHANGES, ids.VIEW_REJECT)))
    async def on_decide_against(ack: AsyncAck, body: Body) -> None:
        reason, errors = parse.reason_form(body)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        kind = "reject" if body["view"]["callback_id"] == ids.VIEW_REJECT else "request_changes"
        bot.spawn(flows.decide_against(body, kind, reason), body)

    @app.view(_any_of((ids.VIEW_EDIT, ids.VIEW_SETTINGS, ids.VIEW_NEW_DRAFT)))
    async def on_draft_form(ack: AsyncAck, body: Body) -> None:
        form, errors = parse.draft_form(body, bot.clock())
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        if body["view"]["callback_id"] == ids.VIEW_NEW_DRAFT:
            bot.spawn(flows.new_draft(body, form), body)
        else:
            bot.spawn(flows.revise(body, form), body)

    # ---------------------------------------------------------------- incidents

    incidents = bot.incident_flows

    @app.action(_any_of(ids.INCIDENT_ACTIONS))
    async def on_incident_button(ack: AsyncAck, body: Body) -> None:
        await ack()
        bot.spawn(incidents.click(body), body)

    @app.view(ids.VIEW_INCIDENT_REPORT)
    async def on_incident_report(ack: AsyncAck, body: Body) -> None:
        form, errors = parse.report_form(body)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        bot.spawn(incidents.report(body, form), body)

    @app.view(ids.VIEW_INCIDENT_RESOLVE)
    async def on_incident_resolve(ack: AsyncAck, body: Body) -> None:
        note, errors = parse.resolution_form(body)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        bot.spawn(incidents.resolve(body, note), body)

    @app.view(ids.VIEW_INCIDENT_REOPEN)
    async def on_incident_reopen(ack: AsyncAck, body: Body) -> None:
        reason, errors = parse.reason_form(body)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        bot.spawn(incidents.reopen(body, reason), body)

    # ---------------------------------------------------------------- the slash command

    @app.command(ids.COMMAND)
    async def on_command(ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        command = parse.command(body.get("text"))
        if command.name == "help":
            await ack(response_type="ephemeral", **render.help_message().kwargs())
            return
        await ack()
        if command.name == "incident":
            bot.spawn(incidents.open_report(body), body)
            return
        bot.spawn(flows.command(body, command, respond), body)


def _any_of(values: Iterable[str]) -> re.Pattern[str]:
    """A bolt constraint matching any of the given ids exactly."""
    return re.compile("^(" + "|".join(re.escape(v) for v in values) + ")$")
