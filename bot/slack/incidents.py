"""Incidents on Slack: the alerts (``SlackAlerts``) and the work after a click or a modal
(``IncidentFlows``).

- ``SlackAlerts`` implements ``handlers.incidents.Alerts``. A new incident becomes a card in the
  alerts channel starting with ``<!channel>`` — the one place postgate mentions everyone on
  purpose — and a copy by DM to each of its recipients; every copy is remembered
  (``ChatMessage``, subject ``incident``) and updated with ``chat.update`` after each change.
  ``send_reminders`` (on a timer) reminds the card's thread and the recipients of incidents
  nobody has acknowledged. It never raises: the incident is committed before it is called.
- ``IncidentFlows`` is what the listeners hand incident clicks and modals to: drop replays, call
  one use case of ``handlers.incidents.IncidentUseCases`` in a thread (it commits and audits the
  decision, or refuses and audits the refusal), then update the cards and say what happened in
  the card's thread. A step's action is run the same way: the notice draft it creates is posted
  as any draft is (a drafts channel, its card in the thread) and goes through the normal peer
  check and approval; the pause holds the account's scheduled posts at once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Final

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import ids, incident_render, parse, render
from bot.slack.delivery import PLATFORM, Delivery, slack_error
from bot.slack.parse import Body, IncidentClick, ModalMeta, ReportForm
from bot.slack.render import SlackMessage
from bot.slack.text import mrkdwn
from handlers.chat import AlertRef, ChatUseCases, Purpose
from handlers.drafts import Actor
from handlers.incidents import ActionResult, IncidentUseCases, IncidentView
from workflows.catalogue import message

if TYPE_CHECKING:
    from bot.slack.flows import Flows

log = logging.getLogger(__name__)

Tell = Callable[[Body, str, SlackMessage | None], Awaitable[None]]
DELIVERY_ERRORS: Final = (SlackApiError, aiohttp.ClientError, TimeoutError)
DEFAULT_REMIND_AFTER: Final = timedelta(minutes=30)


def opened_key(incident_id: int) -> str:
    """Claimed before an incident's cards are posted: one set of cards however often asked."""
    return f"{PLATFORM}:incident:{incident_id}:opened"


class SlackAlerts:
    """``handlers.incidents.Alerts`` on Slack: the alert cards, their updates, the reminders."""

    def __init__(
        self,
        *,
        delivery: Delivery,
        chat: ChatUseCases,
        incidents: IncidentUseCases,
        remind_after: timedelta = DEFAULT_REMIND_AFTER,
    ) -> None:
        if remind_after <= timedelta(0):
            raise ValueError("remind_after must be positive")
        self.delivery = delivery
        self.chat = chat
        self.incidents = incidents
        self.remind_after = remind_after

    # ------------------------------------------------------------ handlers.incidents.Alerts

    async def incident_opened(self, view: IncidentView) -> None:
        """The card in the alerts channel (with ``<!channel>``) and a copy by DM to each
        recipient, once per incident."""
        try:
            if not await asyncio.to_thread(self.chat.first_time, opened_key(view.id)):
                return
            await self.post_cards(view)
        except DELIVERY_ERRORS as error:
            _lost("alert", view.id, error)

    async def incident_updated(self, view: IncidentView) -> None:
        """Every copy of the incident's card updated to what the incident now is."""
        try:
            await self.refresh(view.id)
        except DELIVERY_ERRORS as error:
            _lost("card update", view.id, error)

    # ------------------------------------------------------------ the cards

    async def post_cards(self, view: IncidentView) -> None:
        audience = view.audience
        links = await self.draft_links(view)
        channel = audience.channel.slack if audience.channel else None
        if channel:
            card = incident_render.alert_card(
                view, everyone=audience.mention_everyone, draft_links=links
            )
            ts = await self.delivery.post(channel, card)
            await asyncio.to_thread(
                self.chat.remember_alert,
                incident_id=view.id,
                purpose=Purpose.ALERT,
                platform=PLATFORM,
                channel=channel,
                ts=ts,
                permalink=await self.delivery.permalink(channel, ts),
            )
        else:
            log.warning("incident %s: no Slack alerts channel (channels.alerts.slack)", view.id)
        recipients = {r.member_id: r for r in view.recipients}
        for member_id in audience.dm_member_ids:
            user = self.delivery.slack_id(member_id)
            if user is None:
                log.warning("incident %s: recipient %s has no slack_user_id", view.id, member_id)
                continue
            card = incident_render.alert_card(
                view, everyone=False, recipient=recipients.get(member_id), draft_links=links
            )
            try:
                dm_channel, ts = await self.delivery.dm(user, card)
            except SlackApiError as error:  # one closed DM must not keep the others from hearing
                log.warning(
                    "incident %s: DM to %s failed: %s", view.id, member_id, slack_error(error)
                )
                continue
            await asyncio.to_thread(
                self.chat.remember_alert,
                incident_id=view.id,
                purpose=Purpose.ALERT_DM,
                platform=PLATFORM,
                channel=dm_channel,
                ts=ts,
                reference={"member_id": member_id},
            )

    async def refresh(self, incident_id: int) -> None:
        """Render the incident as it is now (not as a possibly older caller saw it) into every
        copy of its card, one at a time (chat.update is rate-limited)."""
        view = await asyncio.to_thread(self.incidents.get, incident_id)
        refs = await asyncio.to_thread(self.chat.alert_refs, incident_id, PLATFORM)
        if not refs:
            return
        links = await self.draft_links(view)
        recipients = {r.member_id: r for r in view.recipients}
        for ref in refs:
            if ref.purpose is Purpose.ALERT:
                card = incident_render.alert_card(
                    view, everyone=view.audience.mention_everyone, draft_links=links
                )
            else:
                member = (ref.reference or {}).get("member_id")
                card = incident_render.alert_card(
                    view,
                    everyone=False,
                    recipient=recipients.get(str(member)),
                    draft_links=links,
                )
            await self._update(ref, card)

    async def _update(self, ref: AlertRef, card: SlackMessage) -> None:
        if ref.channel is None or ref.ts is None:
            return
        try:
            await self.delivery.client.chat_update(channel=ref.channel, ts=ref.ts, **card.kwargs())
        except SlackApiError as error:  # a deleted copy: the others still matter
            log.warning(
                "incident %s: card %s not updated: %s", ref.incident_id, ref.id, slack_error(error)
            )

    async def draft_links(self, view: IncidentView) -> dict[int, str]:
        """A link to the thread of each notice draft the incident's steps made."""
        links: dict[int, str] = {}
        for line in view.checklist:
            for draft_id in line.draft_ids:
                ref = await self.delivery.thread(draft_id)
                if ref is not None and ref.channel and ref.ts:
                    link = await self.delivery.permalink(ref.channel, ref.ts)
                    if link:
                        links[draft_id] = link
        return links

    async def channel_card(self, incident_id: int) -> AlertRef | None:
        """The card in the alerts channel (whose thread is the incident's)."""
        refs = await asyncio.to_thread(self.chat.alert_refs, incident_id, PLATFORM)
        return next((r for r in refs if r.purpose is Purpose.ALERT), None)

    async def card_link(self, incident_id: int) -> str | None:
        card = await self.channel_card(incident_id)
        return card.permalink if card else None

    async def say(self, incident_id: int, text: str) -> bool:
        """Post ``text`` in the thread of the incident's card; False if it has none."""
        card = await self.channel_card(incident_id)
        if card is None or card.channel is None or card.ts is None:
            return False
        await self.delivery.post(card.channel, render.note(text), thread_ts=card.ts)
        return True

    # ------------------------------------------------------------ reminders

    async def send_reminders(self) -> int:
        """Remind of each incident nobody has acknowledged ``remind_after`` after it opened (and
        again every ``remind_after``): in its card's thread and by DM to its recipients. Each
        reminder is claimed in the database first, so replicas remind once."""
        views = await asyncio.to_thread(
            self.incidents.claim_reminders, after=self.remind_after, every=self.remind_after
        )
        for view in views:
            try:
                await self.remind(view)
            except DELIVERY_ERRORS as error:
                _lost("reminder", view.id, error)
        return len(views)

    async def remind(self, view: IncidentView) -> None:
        refs = await asyncio.to_thread(self.chat.alert_refs, view.id, PLATFORM)
        if not refs:  # the alert never reached Slack (it was down): post the card now
            await self.post_cards(view)
        text = await asyncio.to_thread(self.incidents.reminder_text, view)
        card = await self.channel_card(view.id)
        if card is not None and card.channel and card.ts:
            msg = incident_render.reminder(text, view.id)
            await self.delivery.post(card.channel, msg, thread_ts=card.ts)
        link = card.permalink if card else None
        for user in self.delivery.slack_ids(view.audience.dm_member_ids):
            try:
                await self.delivery.dm(user, incident_render.reminder(text, view.id, link=link))
            except SlackApiError as error:
                log.warning("incident %s: reminder DM failed: %s", view.id, slack_error(error))


class IncidentFlows:
    """The work after the acknowledgement of an incident click, modal or ``/postgate incident``."""

    def __init__(
        self,
        *,
        incidents: IncidentUseCases,
        alerts: SlackAlerts,
        flows: Flows,
        client: AsyncWebClient,
        tell: Tell,
    ) -> None:
        self.incidents = incidents
        self.alerts = alerts
        self.flows = flows
        self.delivery = flows.delivery
        self.client = client
        self.tell = tell

    def _name(self, actor: Actor) -> str:
        return mrkdwn(self.incidents.member(actor).name)

    # ------------------------------------------------------------ /postgate incident

    async def open_report(self, body: Body) -> None:
        """The report modal (``trigger_id`` is valid for 3 s: at once)."""
        if not await self.flows.fresh(body):
            return
        await asyncio.to_thread(self.incidents.member, parse.actor(body))
        channel = body.get("channel_id")
        meta = ModalMeta(channel=channel if isinstance(channel, str) else None)
        modal = incident_render.report_modal(self.flows.accounts, meta)
        await self.client.views_open(trigger_id=body["trigger_id"], view=modal)

    async def report(self, body: Body, form: ReportForm) -> None:
        """A member's report becomes an incident with the same card as the monitors' (or, for
        a cause already on record, the reporter is shown that incident)."""
        if not await self.flows.fresh(body):
            return
        view = await asyncio.to_thread(
            self.incidents.report,
            parse.actor(body),
            kind=form.kind,
            account_id=form.account_id,
            url=form.url,
            notes=form.notes,
        )
        if view.is_new:
            await self.alerts.incident_opened(view)
            intro = message("slack.incident.report.accepted", id=view.id)
        else:
            intro = message("slack.incident.report.known", id=view.id, state=view.state_label)
        link = await self.alerts.card_link(view.id)
        await self.tell(body, intro, incident_render.brief(view, intro, link=link))

    # ------------------------------------------------------------ the card's buttons

    async def click(self, body: Body) -> None:
        if not await self.flows.fresh(body):
            return
        action = parse.action_id(body)
        target = parse.clicked_incident(body)
        actor = parse.actor(body)
        if action == ids.INCIDENT_ACKNOWLEDGE:
            view = await asyncio.to_thread(self.incidents.acknowledge, actor, target.incident_id)
            await self.alerts.incident_updated(view)
            await self.alerts.say(
                view.id, message("slack.incident.note.acknowledged", who=self._name(actor))
            )
        elif action in (ids.INCIDENT_TICK, ids.INCIDENT_UNTICK):
            call = self.incidents.tick if action == ids.INCIDENT_TICK else self.incidents.untick
            view = await asyncio.to_thread(call, actor, target.incident_id, _step(target))
            await self.alerts.incident_updated(view)
        elif action == ids.INCIDENT_ACTION:
            await self.run_action(body, actor, target)
        elif action in (ids.INCIDENT_RESOLVE, ids.INCIDENT_REOPEN):
            await self.open_state_modal(body, actor, target, action)
        else:
            raise parse.BadPayload(f"unknown incident action {action!r}")

    async def open_state_modal(
        self, body: Body, actor: Actor, target: IncidentClick, action: str
    ) -> None:
        await asyncio.to_thread(self.incidents.member, actor)
        view = await asyncio.to_thread(self.incidents.get, target.incident_id)
        channel, thread_ts = parse.where_clicked(body)
        meta = ModalMeta(channel=channel, thread_ts=thread_ts, incident_id=view.id)
        if action == ids.INCIDENT_RESOLVE:
            modal = incident_render.resolve_modal(view, meta)
        else:
            modal = incident_render.reopen_modal(view, meta)
        await self.client.views_open(trigger_id=body["trigger_id"], view=modal)

    async def run_action(self, body: Body, actor: Actor, target: IncidentClick) -> None:
        """A step's own button: the notice draft (posted as any draft is, the first time) or
        the emergency pause of the account's scheduled posts."""
        result: ActionResult = await asyncio.to_thread(
            self.incidents.run_action, actor, target.incident_id, _step(target)
        )
        view = result.incident
        who = self._name(actor)
        if result.draft_id is not None:
            created = await self.delivery.thread(result.draft_id) is None
            if created:
                draft = await asyncio.to_thread(self.flows.drafts.get, result.draft_id)
                note = message("slack.incident.draft_note", incident=view.id, kind=view.kind_label)
                await self.flows.announce_draft(draft, actor, origin=None, note=note)
            link = await self._draft_link(result.draft_id)
            key = "slack.incident.note.drafted" if created else "slack.incident.draft_exists"
            text = message(key, who=who, draft=result.draft_id, link=link)
            await self.alerts.incident_updated(view)
            said = created and await self.alerts.say(view.id, text)
        elif result.pause is not None:
            account = result.pause.account_id or "-"
            text = message(
                "slack.incident.note.paused",
                who=who,
                account=mrkdwn(account),
                count=len(result.pause.publication_ids),
            )
            await self.alerts.incident_updated(view)
            said = await self.alerts.say(view.id, text)
        else:
            return
        card = await self.alerts.channel_card(view.id)
        channel, _ = parse.where_clicked(body)
        if not said or card is None or card.channel != channel:
            await self.tell(body, text, None)

    async def _draft_link(self, draft_id: int) -> str:
        ref = await self.delivery.thread(draft_id)
        if ref is None or ref.channel is None or ref.ts is None:
            return ""
        url = await self.delivery.permalink(ref.channel, ref.ts)
        return message("slack.incident.thread_link", url=url) if url else ""

    # ------------------------------------------------------------ the modals

    async def resolve(self, body: Body, note: str) -> None:
        if not await self.flows.fresh(body):
            return
        actor = parse.actor(body)
        incident_id = parse.modal_meta(body).incident
        view = await asyncio.to_thread(self.incidents.resolve, actor, incident_id, note)
        await self.alerts.incident_updated(view)
        await self.alerts.say(
            view.id,
            message("slack.incident.note.resolved", who=self._name(actor), note=mrkdwn(note)),
        )

    async def reopen(self, body: Body, reason: str) -> None:
        if not await self.flows.fresh(body):
            return
        actor = parse.actor(body)
        incident_id = parse.modal_meta(body).incident
        view = await asyncio.to_thread(self.incidents.reopen, actor, incident_id, reason)
        await self.alerts.incident_updated(view)
        await self.alerts.say(
            view.id,
            message("slack.incident.note.reopened", who=self._name(actor), reason=mrkdwn(reason)),
        )


def _step(target: IncidentClick) -> str:
    if target.item_id is None:
        raise parse.BadPayload("the button names no checklist step")
    return target.item_id


def _lost(what: str, incident_id: int, error: BaseException) -> None:
    detail = slack_error(error) if isinstance(error, SlackApiError) else type(error).__name__
    log.error(
        "slack incident %s: %s of incident %s not delivered: %s",
        secrets.token_hex(4),
        what,
        incident_id,
        detail,
    )
