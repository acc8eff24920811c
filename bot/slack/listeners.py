"""The bolt listeners: parse, acknowledge, hand the work to a flow. Nothing else happens here.

Events are acknowledged by bolt before the listener runs; actions, modal submissions and the
command are acknowledged here first thing, so Slack hears back in milliseconds whatever the work
costs. Modal submissions are checked for completeness before the acknowledgement, so a missing
tick is shown in the modal itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.chat import actions, forms
from bot.slack import ids, parse, render, results
from bot.slack.parse import Body, Errors

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

Form = TypeVar("Form")


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

    @app.action(ids.RETRY)
    async def on_retry(ack: AsyncAck, body: Body) -> None:
        await ack()
        bot.spawn(flows.retry(body), body)

    @app.action(_any_of(actions.RESULT_ACTIONS))
    async def on_result_button(ack: AsyncAck, body: Body) -> None:
        await ack()
        bot.spawn(results.press(flows, bot.results, body), body)

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

    def modal(
        callback: str | re.Pattern[str],
        read: Callable[[Body], tuple[Form, Errors]],
        work: Callable[[Body, Form], Coroutine[Any, Any, None]],
    ) -> None:
        """A modal submission: refuse an incomplete form in the modal itself, else ack and work."""

        async def on_submission(ack: AsyncAck, body: Body) -> None:
            form, errors = read(body)
            if errors:
                await ack(response_action="errors", errors=errors)
                return
            await ack()
            bot.spawn(work(body, form), body)

        app.view(callback)(on_submission)

    def with_clock(
        read: Callable[[Body, datetime], tuple[Form, Errors]],
    ) -> Callable[[Body], tuple[Form, Errors]]:
        return lambda body: read(body, bot.clock())

    modal(ids.VIEW_APPROVE, with_clock(parse.approve_form), flows.approve)
    modal(ids.VIEW_PEER_CHECK, parse.peer_form, flows.peer_check)
    modal(
        ids.VIEW_REQUEST_CHANGES,
        parse.reason_form,
        lambda body, reason: flows.decide_against(body, "request_changes", reason),
    )
    modal(
        ids.VIEW_REJECT,
        parse.reason_form,
        lambda body, reason: flows.decide_against(body, "reject", reason),
    )
    modal(_any_of((ids.VIEW_EDIT, ids.VIEW_SETTINGS)), with_clock(parse.draft_form), flows.revise)
    modal(ids.VIEW_NEW_DRAFT, with_clock(parse.draft_form), flows.new_draft)

    # ---------------------------------------------------------------- incidents

    incidents = bot.incident_flows

    @app.action(_any_of(ids.INCIDENT_ACTIONS))
    async def on_incident_button(ack: AsyncAck, body: Body) -> None:
        await ack()
        bot.spawn(incidents.click(body), body)

    modal(ids.VIEW_INCIDENT_REPORT, parse.report_form, incidents.report)
    modal(ids.VIEW_INCIDENT_RESOLVE, parse.resolution_form, incidents.resolve)
    modal(ids.VIEW_INCIDENT_REOPEN, parse.reason_form, incidents.reopen)

    # ---------------------------------------------------------------- the slash command

    @app.command(ids.COMMAND)
    async def on_command(ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        command = forms.command(body.get("text"))
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
