"""Every configured chat platform at once: what the outbox, the monitors and the timer talk to.

A city may run Slack and Teams together. A draft lives on the platform where it was written (its
thread is there; the other platform has no thread for it and says nothing), each member gets
direct messages on the platform(s) they have an id for, and incident alerts go to every
configured alerts channel. ``ChatHub`` is the ``Notifier`` of the outbox and the ``Alerts`` of
the monitors, and runs the chat jobs: results right after each outbox tick, reminders on a timer.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.chat.alerts import ChatAlerts
from bot.chat.conversation import Conversation
from bot.chat.jobs import ChatJobs, ChatNotifier
from bot.chat.port import Note
from handlers.chat import ChatUseCases
from handlers.drafts import Clock
from handlers.incidents import IncidentUseCases, IncidentView
from handlers.publishing import PublicationNotice

log = logging.getLogger(__name__)

PROCESSED_KEPT: Final = timedelta(days=30)  # longer than any result or reminder can still be due
CLEANUP_EVERY: Final = timedelta(hours=1)
DEFAULT_REMIND_AFTER: Final = timedelta(minutes=30)


@dataclass(frozen=True)
class Platform:
    """One chat platform's orchestration: its conversation, jobs, notifier and alerts."""

    conversation: Conversation
    jobs: ChatJobs
    notifier: ChatNotifier
    alerts: ChatAlerts


class ChatHub:
    def __init__(
        self,
        *,
        chat: ChatUseCases,
        incidents: IncidentUseCases,
        clock: Clock,
        remind_after: timedelta = DEFAULT_REMIND_AFTER,
    ) -> None:
        if remind_after <= timedelta(0):
            raise ValueError("remind_after must be positive")
        self.chat = chat
        self.incidents = incidents
        self.clock = clock
        self.remind_after = remind_after
        self.platforms: dict[str, Platform] = {}
        self._cleaned_at: datetime | None = None

    def add(self, platform: Platform) -> None:
        self.platforms[platform.conversation.platform] = platform

    def _each(self) -> Sequence[Platform]:
        return list(self.platforms.values())

    # ------------------------------------------------------------ handlers.publishing.Notifier

    async def notify(self, notice: PublicationNotice) -> None:
        for platform in self._each():
            await platform.notifier.notify(notice)

    # ------------------------------------------------------------ handlers.incidents.Alerts

    async def incident_opened(self, view: IncidentView) -> None:
        for platform in self._each():
            await platform.alerts.incident_opened(view)

    async def incident_updated(self, view: IncidentView) -> None:
        for platform in self._each():
            await platform.alerts.incident_updated(view)

    # ------------------------------------------------------------ handlers.anchors.Announcer

    async def announce(self, text: str, member_ids: Sequence[str] = ()) -> None:
        """A short line in every platform's alerts channel (an audit anchor, a monitor that
        cannot see), mentioning ``member_ids``; a platform that fails is logged, never raised."""
        for platform in self._each():
            channel = platform.alerts.alerts_channel
            if channel is None:
                continue
            conversation = platform.conversation
            note = Note(text, mentions=conversation.users(member_ids))
            try:
                await conversation.port.post(channel, note)
            except conversation.port.errors as error:
                _failed("announcement", platform, error)

    # ------------------------------------------------------------ jobs

    async def report_published(self) -> int:
        """Results of the publications just published, into their threads (run right after
        each outbox tick, so a result is shown within seconds)."""
        reported = 0
        for platform in self._each():
            try:
                reported += await platform.jobs.report_published()
            except Exception as error:  # the job's error boundary: the next run still goes
                _failed("results", platform, error)
        return reported

    async def tick(self) -> None:
        """The timer's job: results missed by the outbox hook, approval reminders, cleanup."""
        await self.report_published()
        for platform in self._each():
            try:
                await platform.jobs.send_reminders()
            except Exception as error:  # the timer's error boundary: the next tick still runs
                _failed("reminders", platform, error)
        now = self.clock()
        if self._cleaned_at is None or now - self._cleaned_at >= CLEANUP_EVERY:
            await asyncio.to_thread(self.chat.forget_processed, PROCESSED_KEPT)
            self._cleaned_at = now

    async def remind_incidents(self) -> int:
        """Remind of each incident nobody has acknowledged ``remind_after`` after it opened (and
        again every ``remind_after``) on every platform. Each reminder is claimed in the
        database first, so replicas remind once."""
        try:
            views = await asyncio.to_thread(
                self.incidents.claim_reminders, after=self.remind_after, every=self.remind_after
            )
            for view in views:
                for platform in self._each():
                    await platform.alerts.remind(view)
        except Exception as error:  # the job's error boundary: the next run still goes
            log.error(
                "chat incident %s in the incident reminders: %s",
                secrets.token_hex(4),
                type(error).__name__,
                exc_info=error,
            )
            return 0
        return len(views)


def _failed(what: str, platform: Platform, error: Exception) -> None:
    log.error(
        "%s incident %s in the %s job: %s",
        platform.conversation.platform,
        secrets.token_hex(4),
        what,
        type(error).__name__,
        exc_info=error,
    )
