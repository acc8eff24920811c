"""Publishing results back to chat, and the timed jobs, for one platform.

- ``ChatNotifier`` implements ``handlers.publishing.Notifier``: a failed, undecidable or held
  publication is told in the draft's thread (the platform's reason and what to do), mentioning
  the author and approvers; a refused credential also goes to the alerts channel. A failed one
  carries a 再送する button (``actions.RETRY``, worked by ``DraftFlows.retry``).
- ``ChatJobs.report_published()`` runs right after each outbox tick (and on the timer):
  publications published since are reported in their thread with a link per account.
  ``send_reminders()`` re-sends approvals pending too long to the chief, then offers them to the
  deputies (``workflows.approval.escalation``). Each result and each reminder is claimed in the
  database first (``first_time``), so it is posted once however many replicas run.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import defaultdict

from bot.chat import actions
from bot.chat.conversation import Conversation
from bot.chat.port import Button, Note
from bot.chat.results import published_buttons, review_buttons
from bot.chat.text import mrkdwn, published, target_label
from handlers.chat import PublishedResult
from handlers.drafts import DraftUseCases
from handlers.publishing import NoticeKind, PublicationNotice
from workflows.catalogue import message
from workflows.errors import UnknownDraft

log = logging.getLogger(__name__)


class ChatNotifier:
    """Tells people on one platform what happened to a publication; never raises (the outbox
    has already committed the publication's state when it calls)."""

    def __init__(
        self, *, conversation: Conversation, drafts: DraftUseCases, alerts_channel: str | None
    ) -> None:
        self.conversation = conversation
        self.drafts = drafts
        self.alerts_channel = alerts_channel

    async def notify(self, notice: PublicationNotice) -> None:
        talk = self.conversation
        lost: tuple[type[Exception], ...] = (*talk.port.errors, UnknownDraft)
        try:
            text = message(
                f"slack.notice.{notice.kind.value}",
                detail=mrkdwn(notice.text()),
                draft=notice.draft_id,
            )
            buttons: tuple[Button, ...] = ()
            field: str | None = None
            if notice.kind is NoticeKind.NEEDS_REVIEW:  # settled from its buttons, or the CLI
                hint = message("chat.hint.review_buttons", publication=notice.publication_id)
                text += "\n" + hint
                buttons, field = review_buttons(notice.publication_id)
            if notice.kind is NoticeKind.FAILED:  # 再送する: back in the queue (author, approvers)
                label = message("chat.button.retry")
                buttons = (Button(label, actions.RETRY, notice.publication_id),)
            await talk.tell(notice.draft_id, text, notice.member_ids, buttons=buttons, field=field)
            if notice.kind is NoticeKind.AUTH_FAILED and self.alerts_channel:
                note = Note(text, talk.users(notice.member_ids))
                await talk.port.post(self.alerts_channel, note)
            view = await asyncio.to_thread(self.drafts.get, notice.draft_id)
            await talk.refresh(view)
        except lost as error:
            log.error(
                "publication %s: %s notice not delivered on %s: %s",
                notice.publication_id,
                notice.kind.value,
                talk.platform,
                _detail(talk, error),
            )


class ChatJobs:
    """What a platform's conversation does after the outbox and on a timer."""

    def __init__(self, *, conversation: Conversation, drafts: DraftUseCases) -> None:
        self.conversation = conversation
        self.drafts = drafts
        self.chat = conversation.chat

    async def report_published(self) -> int:
        """Post each newly published publication's link into its draft's thread."""
        talk = self.conversation
        results = await asyncio.to_thread(self.chat.unreported_published, talk.platform)
        by_draft: dict[int, list[PublishedResult]] = defaultdict(list)
        for result in results:
            by_draft[result.draft_id].append(result)
        reported = 0
        for draft_id, items in by_draft.items():
            claimed = [
                r
                for r in items
                if await asyncio.to_thread(self.chat.first_time, r.key(talk.platform))
            ]
            if not claimed:
                continue
            try:
                view = await asyncio.to_thread(self.drafts.get, draft_id)
                labels = {t.account_id: target_label(t) for t in view.targets}
                buttons, field = published_buttons(claimed[0].publication_id)
                text = published(claimed, labels)
                await talk.tell(draft_id, text, (view.author_id,), buttons=buttons, field=field)
                reported += len(claimed)
            except talk.port.errors as error:
                self._lost("result", draft_id, error)
                continue
            for other in talk.everywhere():  # approval copies on every platform show the result
                try:
                    await other.refresh(view)
                except other.port.errors as error:
                    self._lost("result refresh", draft_id, error, other)
        return reported

    async def send_reminders(self) -> int:
        """Re-send pending approval cards to the chief, then offer them to the deputies."""
        talk = self.conversation
        sent = 0
        now = talk.clock()
        for reminder in await asyncio.to_thread(self.chat.due_reminders, talk.platform):
            if not reminder.member_ids:
                continue
            if not await asyncio.to_thread(self.chat.first_time, reminder.key(talk.platform)):
                continue
            try:
                view = await asyncio.to_thread(self.drafts.get, reminder.draft_id)
                hours = max(1, int((now - reminder.waiting_since).total_seconds() // 3600))
                intro = message(f"slack.reminder.{reminder.step.value}", hours=hours)
                to = await talk.send_cards(view, reminder.member_ids, intro=intro, again=True)
                sent += len(to)
                if to:
                    await self._tell_reminded(view.id, reminder.step.value, to)
            except talk.port.errors as error:
                self._lost("reminder", reminder.draft_id, error)
        return sent

    async def _tell_reminded(self, draft_id: int, step: str, to: list[str]) -> None:
        """The draft's thread says who was reminded. A reminder sent here while the draft lives
        on another platform is said there, for those who have no id on that platform (they were
        told only here): 「承認者 〇〇 さんにTeamsでリマインドしました」."""
        talk = self.conversation
        home = await talk.home(draft_id)
        if home is talk:
            names = "、".join(mrkdwn(talk.name(m)) for m in to)
            await talk.tell(draft_id, message(f"slack.thread.reminder.{step}", names=names))
            return
        only_here = [m for m in to if home.port.user_of(m) is None]
        if not only_here:
            return  # the home platform's own reminder names them
        names = "、".join(mrkdwn(talk.name(m)) for m in only_here)
        platform = message(f"chat.platform.{talk.platform}")
        text = message(f"chat.thread.reminder_elsewhere.{step}", names=names, platform=platform)
        try:
            await home.tell(draft_id, text)
        except home.port.errors as error:
            self._lost("reminder note", draft_id, error, home)

    def _lost(
        self, what: str, draft_id: int, error: Exception, talk: Conversation | None = None
    ) -> None:
        talk = talk or self.conversation
        log.error(
            "%s incident %s: %s for draft %s not delivered: %s",
            talk.platform,
            secrets.token_hex(4),
            what,
            draft_id,
            _detail(talk, error),
        )


def _detail(talk: Conversation, error: Exception) -> str:
    return (
        talk.port.describe(error) if isinstance(error, talk.port.errors) else type(error).__name__
    )
