"""Incidents on Slack: the work after a click, a modal or ``/postgate incident``.

Parse the payload, drop replays, call one flow of ``bot.chat.flows.IncidentFlows`` (which calls
the use case, updates every copy of the card on every platform and says what happened in the
card's thread), and answer the person. Opening the modals is Slack's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.flows import IncidentFlows as CoreIncidentFlows
from bot.chat.forms import BadPayload, IncidentClick, ReportForm
from bot.slack import ids, incident_render, parse
from bot.slack.parse import Body, ModalMeta
from bot.slack.render import SlackMessage

Tell = Callable[[Body, str, SlackMessage | None], Awaitable[None]]


class IncidentFlows:
    """The work after the acknowledgement of an incident click, modal or ``/postgate incident``."""

    def __init__(
        self,
        *,
        core: CoreIncidentFlows,
        fresh: Callable[[Body], Awaitable[bool]],
        client: AsyncWebClient,
        tell: Tell,
    ) -> None:
        self.core = core
        self.incidents = core.incidents
        self.fresh = fresh
        self.client = client
        self.tell = tell

    # ------------------------------------------------------------ /postgate incident

    async def open_report(self, body: Body) -> None:
        """The report modal (``trigger_id`` is valid for 3 s: at once)."""
        if not await self.fresh(body):
            return
        await asyncio.to_thread(self.incidents.member, parse.actor(body))
        channel = body.get("channel_id")
        meta = ModalMeta(channel=channel if isinstance(channel, str) else None)
        modal = incident_render.report_modal(self.core.draft_flows.accounts, meta)
        await self.client.views_open(trigger_id=body["trigger_id"], view=modal)

    async def report(self, body: Body, form: ReportForm) -> None:
        if not await self.fresh(body):
            return
        view, intro, link = await self.core.report(parse.actor(body), form)
        await self.tell(body, intro, incident_render.brief(view, intro, link=link))

    # ------------------------------------------------------------ the card's buttons

    async def click(self, body: Body) -> None:
        if not await self.fresh(body):
            return
        action = parse.action_id(body)
        target = parse.clicked_incident(body)
        actor = parse.actor(body)
        if action == ids.INCIDENT_ACKNOWLEDGE:
            await self.core.acknowledge(actor, target.incident_id)
        elif action in (ids.INCIDENT_TICK, ids.INCIDENT_UNTICK):
            done = action == ids.INCIDENT_TICK
            await self.core.tick(actor, target.incident_id, _step(target), done=done)
        elif action == ids.INCIDENT_ACTION:
            said = await self.core.run_action(actor, target.incident_id, _step(target))
            channel, _ = parse.where_clicked(body)
            if said is not None and (not said.said or said.card_channel != channel):
                await self.tell(body, said.text, None)
        elif action in (ids.INCIDENT_RESOLVE, ids.INCIDENT_REOPEN):
            await self.open_state_modal(body, target, action)
        else:
            raise BadPayload(f"unknown incident action {action!r}")

    async def open_state_modal(self, body: Body, target: IncidentClick, action: str) -> None:
        await asyncio.to_thread(self.incidents.member, parse.actor(body))
        view = await asyncio.to_thread(self.incidents.get, target.incident_id)
        channel, thread_ts = parse.where_clicked(body)
        meta = ModalMeta(channel=channel, thread_ts=thread_ts, incident_id=view.id)
        if action == ids.INCIDENT_RESOLVE:
            modal = incident_render.resolve_modal(view, meta)
        else:
            modal = incident_render.reopen_modal(view, meta)
        await self.client.views_open(trigger_id=body["trigger_id"], view=modal)

    # ------------------------------------------------------------ the modals

    async def resolve(self, body: Body, note: str) -> None:
        if not await self.fresh(body):
            return
        await self.core.resolve(parse.actor(body), parse.modal_meta(body).incident, note)

    async def reopen(self, body: Body, reason: str) -> None:
        if not await self.fresh(body):
            return
        await self.core.reopen(parse.actor(body), parse.modal_meta(body).incident, reason)


def _step(target: IncidentClick) -> str:
    if target.item_id is None:
        raise BadPayload("the button names no checklist step")
    return target.item_id
