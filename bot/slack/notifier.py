"""Publishing results back to Slack: the outbox's ``Notifier``, and the timed jobs.

- ``SlackNotifier`` implements ``handlers.publishing.Notifier``: a failed, undecidable or held
  publication is told in the draft's thread (the platform's reason and what to do), mentioning
  the author and approvers; a refused credential also goes to the alerts channel.
- ``SlackJobs.tick()`` runs on a timer: publications published since the last tick are reported
  in their thread with a permalink per account, and approvals pending too long are sent again to
  the chief, then offered to the deputies (``workflows.approval.escalation``). Each result and
  each reminder is claimed in the database first (``first_time``), so it is posted once however
  many replicas run.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import defaultdict
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.slack import render
from bot.slack.delivery import PLATFORM, Delivery, slack_error
from bot.slack.text import mrkdwn
from handlers.chat import ChatUseCases, PublishedResult
from handlers.drafts import Clock, DraftUseCases
from handlers.publishing import NoticeKind, PublicationNotice
from workflows.catalogue import message
from workflows.errors import UnknownDraft

log = logging.getLogger(__name__)
PROCESSED_KEPT = timedelta(days=30)  # longer than any result or reminder can still be due
CLEANUP_EVERY = timedelta(hours=1)


class SlackNotifier:
    """Tells people on Slack what happened to a publication; never raises (the outbox has
    already committed the publication's state when it calls)."""

    def __init__(
        self,
        *,
        delivery: Delivery,
        drafts: DraftUseCases,
        alerts_channel: str | None,
    ) -> None:
        self.delivery = delivery
        self.drafts = drafts
        self.alerts_channel = alerts_channel

    async def notify(self, notice: PublicationNotice) -> None:
        try:
            text = message(
                f"slack.notice.{notice.kind.value}",
                detail=mrkdwn(notice.text()),
                draft=notice.draft_id,
            )
            await self.delivery.tell(notice.draft_id, text, notice.member_ids)
            if notice.kind is NoticeKind.AUTH_FAILED and self.alerts_channel:
                mentions = self.delivery.slack_ids(notice.member_ids)
                await self.delivery.post(self.alerts_channel, render.note(text, mentions=mentions))
            view = await asyncio.to_thread(self.drafts.get, notice.draft_id)
            await self.delivery.refresh(view)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, UnknownDraft) as error:
            detail = (
                slack_error(error) if isinstance(error, SlackApiError) else type(error).__name__
            )
            log.error(
                "publication %s: %s notice not delivered on Slack: %s",
                notice.publication_id,
                notice.kind.value,
                detail,
            )


class SlackJobs:
    """What the Slack adapter does on a timer: report results, send reminders."""

    def __init__(
        self, *, delivery: Delivery, drafts: DraftUseCases, chat: ChatUseCases, clock: Clock
    ) -> None:
        self.delivery = delivery
        self.drafts = drafts
        self.chat = chat
        self.clock = clock
        self._cleaned_at: datetime | None = None

    async def tick(self) -> None:
        """One pass; a problem with one draft is logged and the others still go."""
        await self.report_published()
        await self.send_reminders()
        now = self.clock()
        if self._cleaned_at is None or now - self._cleaned_at >= CLEANUP_EVERY:
            await asyncio.to_thread(self.chat.forget_processed, PROCESSED_KEPT)
            self._cleaned_at = now

    async def report_published(self) -> int:
        """Post each newly published publication's permalink into its draft's thread."""
        results = await asyncio.to_thread(self.chat.unreported_published, PLATFORM)
        by_draft: dict[int, list[PublishedResult]] = defaultdict(list)
        for result in results:
            by_draft[result.draft_id].append(result)
        reported = 0
        for draft_id, items in by_draft.items():
            claimed = [
                r for r in items if await asyncio.to_thread(self.chat.first_time, r.key(PLATFORM))
            ]
            if not claimed:
                continue
            try:
                view = await asyncio.to_thread(self.drafts.get, draft_id)
                labels = {t.account_id: render.target_label(t) for t in view.targets}
                await self.delivery.tell(
                    draft_id, render.published(claimed, labels), (view.author_id,)
                )
                await self.delivery.refresh(view)
                reported += len(claimed)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
                self._lost("result", draft_id, error)
        return reported

    async def send_reminders(self) -> int:
        """Re-send pending approval cards to the chief, then offer them to the deputies."""
        sent = 0
        now = self.clock()
        for reminder in await asyncio.to_thread(self.chat.due_reminders, PLATFORM):
            if not reminder.member_ids:
                continue
            if not await asyncio.to_thread(self.chat.first_time, reminder.key(PLATFORM)):
                continue
            try:
                view = await asyncio.to_thread(self.drafts.get, reminder.draft_id)
                hours = max(1, int((now - reminder.waiting_since).total_seconds() // 3600))
                intro = render.reminder_intro(reminder.step.value, hours)
                to = await self.delivery.send_cards(
                    view, reminder.member_ids, intro=intro, again=True
                )
                if to:
                    names = "、".join(mrkdwn(self.delivery.directory.members[m].name) for m in to)
                    await self.delivery.tell(
                        view.id,
                        message(f"slack.thread.reminder.{reminder.step.value}", names=names),
                    )
                sent += len(to)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
                self._lost("reminder", reminder.draft_id, error)
        return sent

    def _lost(self, what: str, draft_id: int, error: Exception) -> None:
        detail = slack_error(error) if isinstance(error, SlackApiError) else type(error).__name__
        incident = secrets.token_hex(4)
        log.error(
            "slack incident %s: %s for draft %s not delivered: %s", incident, what, draft_id, detail
        )
