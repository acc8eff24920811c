"""Incident alerts on one chat platform: the cards, their updates, the reminders.

A new incident becomes a card in the platform's alerts channel (everyone there is notified: on
Slack ``<!channel>``; on Teams the contacts are mentioned, see the README) and a copy by direct
message to each of its recipients; every copy is remembered (``ChatMessage``, subject
``incident``) and updated after each change. ``remind`` reminds the card's thread and the
recipients of an incident nobody has acknowledged. Nothing here raises a delivery error: the
incident is committed before it is called.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from bot.chat.conversation import Conversation
from bot.chat.port import AlertCard, IncidentReminder, Note
from handlers.chat import AlertRef, Purpose
from handlers.incidents import IncidentUseCases, IncidentView

log = logging.getLogger(__name__)


class ChatAlerts:
    """The alert cards of incidents on one platform."""

    def __init__(
        self,
        *,
        conversation: Conversation,
        incidents: IncidentUseCases,
        alerts_channel: str | None,
    ) -> None:
        self.conversation = conversation
        self.port = conversation.port
        self.platform = conversation.platform
        self.chat = conversation.chat
        self.incidents = incidents
        self.alerts_channel = alerts_channel

    def opened_key(self, incident_id: int) -> str:
        """Claimed before an incident's cards are posted: one set of cards however often asked."""
        return f"{self.platform}:incident:{incident_id}:opened"

    # ------------------------------------------------------------ handlers.incidents.Alerts

    async def incident_opened(self, view: IncidentView) -> None:
        try:
            if not await asyncio.to_thread(self.chat.first_time, self.opened_key(view.id)):
                return
            await self.post_cards(view)
        except self.port.errors as error:
            self._lost("alert", view.id, error)

    async def incident_updated(self, view: IncidentView) -> None:
        try:
            await self.refresh(view.id)
        except self.port.errors as error:
            self._lost("card update", view.id, error)

    # ------------------------------------------------------------ the cards

    def _channel_card(self, view: IncidentView, links: dict[int, str]) -> AlertCard:
        everyone = view.audience.mention_everyone
        mentions = self.conversation.users(view.audience.dm_member_ids) if everyone else ()
        return AlertCard(view, everyone=everyone, draft_links=links, mentions=mentions)

    async def post_cards(self, view: IncidentView) -> None:
        audience = view.audience
        links = await self.draft_links(view)
        channel = self.alerts_channel if audience.channel else None
        if channel:
            ts = await self.port.post(channel, self._channel_card(view, links))
            await asyncio.to_thread(
                self.chat.remember_alert,
                incident_id=view.id,
                purpose=Purpose.ALERT,
                platform=self.platform,
                channel=channel,
                ts=ts,
                permalink=await self.port.permalink(channel, ts),
            )
        else:
            log.warning("incident %s: no %s alerts channel", view.id, self.platform)
        recipients = {r.member_id: r for r in view.recipients}
        for member_id in audience.dm_member_ids:
            user = self.port.user_of(member_id)
            if user is None:
                log.info("incident %s: %s has no %s id", view.id, member_id, self.platform)
                continue
            card = AlertCard(view, recipient=recipients.get(member_id), draft_links=links)
            try:
                dm_channel, ts = await self.conversation.dm(user, card)
            except self.port.errors as error:  # one closed DM must not keep the others out
                log.warning(
                    "incident %s: DM to %s failed: %s",
                    view.id,
                    member_id,
                    self.port.describe(error),
                )
                continue
            await asyncio.to_thread(
                self.chat.remember_alert,
                incident_id=view.id,
                purpose=Purpose.ALERT_DM,
                platform=self.platform,
                channel=dm_channel,
                ts=ts,
                reference={"member_id": member_id},
            )

    async def refresh(self, incident_id: int) -> None:
        """Render the incident as it is now (not as a possibly older caller saw it) into every
        copy of its card, one at a time (updates are rate-limited)."""
        view = await asyncio.to_thread(self.incidents.get, incident_id)
        refs = await asyncio.to_thread(self.chat.alert_refs, incident_id, self.platform)
        if not refs:
            return
        links = await self.draft_links(view)
        recipients = {r.member_id: r for r in view.recipients}
        for ref in refs:
            if ref.purpose is Purpose.ALERT:
                card = self._channel_card(view, links)
            else:
                member = (ref.reference or {}).get("member_id")
                card = AlertCard(view, recipient=recipients.get(str(member)), draft_links=links)
            await self._update(ref, card)

    async def _update(self, ref: AlertRef, card: AlertCard) -> None:
        if ref.channel is None or ref.ts is None:
            return
        try:
            await self.port.update(ref.channel, ref.ts, card)
        except self.port.errors as error:  # a deleted copy: the others still matter
            log.warning(
                "incident %s: card %s not updated: %s",
                ref.incident_id,
                ref.id,
                self.port.describe(error),
            )

    async def draft_link(self, draft_id: int) -> str | None:
        ref = await self.conversation.thread(draft_id)
        if ref is None or ref.channel is None or ref.ts is None:
            return None
        return await self.port.permalink(ref.channel, ref.ts)

    async def draft_links(self, view: IncidentView) -> dict[int, str]:
        """A link to the thread of each notice draft the incident's steps made."""
        links: dict[int, str] = {}
        for line in view.checklist:
            for draft_id in line.draft_ids:
                link = await self.draft_link(draft_id)
                if link:
                    links[draft_id] = link
        return links

    async def channel_card(self, incident_id: int) -> AlertRef | None:
        """The card in the alerts channel (whose thread is the incident's)."""
        refs = await asyncio.to_thread(self.chat.alert_refs, incident_id, self.platform)
        return next((r for r in refs if r.purpose is Purpose.ALERT), None)

    async def card_link(self, incident_id: int) -> str | None:
        card = await self.channel_card(incident_id)
        return card.permalink if card else None

    async def say(self, incident_id: int, text: str) -> bool:
        """Post ``text`` in the thread of the incident's card; False if it has none."""
        card = await self.channel_card(incident_id)
        if card is None or card.channel is None or card.ts is None:
            return False
        await self.port.post(card.channel, Note(text), thread=card.ts)
        return True

    # ------------------------------------------------------------ reminders

    async def remind(self, view: IncidentView) -> None:
        """Remind of an unacknowledged incident in its card's thread and by DM."""
        try:
            refs = await asyncio.to_thread(self.chat.alert_refs, view.id, self.platform)
            if not refs:  # the alert never reached this platform (it was down): post it now
                await self.post_cards(view)
            text = await asyncio.to_thread(self.incidents.reminder_text, view)
            card = await self.channel_card(view.id)
            if card is not None and card.channel and card.ts:
                await self.port.post(card.channel, IncidentReminder(text, view.id), thread=card.ts)
            link = card.permalink if card else None
            for user in self.conversation.users(view.audience.dm_member_ids):
                try:
                    await self.conversation.dm(user, IncidentReminder(text, view.id, link))
                except self.port.errors as error:
                    log.warning(
                        "incident %s: reminder DM failed: %s", view.id, self.port.describe(error)
                    )
        except self.port.errors as error:
            self._lost("reminder", view.id, error)

    def _lost(self, what: str, incident_id: int, error: Exception) -> None:
        log.error(
            "%s incident %s: %s of incident %s not delivered: %s",
            self.platform,
            secrets.token_hex(4),
            what,
            incident_id,
            self.port.describe(error),
        )
