"""Posting and updating on Slack: the draft's card and thread, approval cards, DMs, ephemerals.

Every message postgate may need again is remembered through ``handlers.chat`` (channel + ts), so
after a decision every copy of a card is updated with ``chat.update`` from the database — never
through ``response_url``, which expires.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import render
from bot.slack.render import SlackMessage
from bot.slack.text import mrkdwn, when
from handlers.chat import ChatRef, ChatUseCases, Purpose
from handlers.drafts import Clock
from handlers.views import DraftView, Notice, Result
from workflows.catalogue import message
from workflows.lifecycle import DraftState
from workflows.org import Directory

log = logging.getLogger(__name__)
PLATFORM = "slack"
SOON = timedelta(minutes=2)


def slack_error(error: SlackApiError) -> str:
    """The error code Slack answered (never the request: it may carry a token or a URL)."""
    response = error.response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http {getattr(response, 'status_code', '?')}"


class Delivery:
    def __init__(
        self,
        *,
        client: AsyncWebClient,
        chat: ChatUseCases,
        directory: Directory,
        approvals_channel: str | None,
        clock: Clock,
    ) -> None:
        self.client = client
        self.chat = chat
        self.directory = directory
        self.approvals_channel = approvals_channel
        self.clock = clock

    # ------------------------------------------------------------ primitives

    def slack_id(self, member_id: str) -> str | None:
        member = self.directory.member(member_id)
        return member.slack_user_id if member else None

    def slack_ids(self, member_ids: Iterable[str]) -> list[str]:
        return [s for s in (self.slack_id(m) for m in member_ids) if s]

    async def post(self, channel: str, msg: SlackMessage, *, thread_ts: str | None = None) -> str:
        response = await self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **msg.kwargs(),
        )
        return str(response["ts"])

    async def update(self, ref: ChatRef, msg: SlackMessage) -> None:
        if ref.channel is None or ref.ts is None:
            return
        try:
            await self.client.chat_update(channel=ref.channel, ts=ref.ts, **msg.kwargs())
        except SlackApiError as error:
            # A deleted message, or a channel the bot left: the other copies still matter.
            log.warning("message %s (%s) not updated: %s", ref.id, ref.purpose, slack_error(error))

    async def ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        msg: SlackMessage | None = None,
    ) -> None:
        """Only ``user`` sees it: ``text`` in a section, or ``msg`` when given."""
        shown = msg or SlackMessage(text, [render.section(text)])
        await self.client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=thread_ts, **shown.kwargs()
        )

    async def permalink(self, channel: str, ts: str) -> str | None:
        """A link to a message, or None when Slack gives none (logged)."""
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError as error:
            log.warning("no permalink for %s/%s: %s", channel, ts, slack_error(error))
            return None
        link = response.get("permalink")
        return str(link) if link else None

    async def dm_channel(self, slack_user: str) -> str:
        response = await self.client.conversations_open(users=slack_user)
        return str(response["channel"]["id"])

    async def dm(self, slack_user: str, msg: SlackMessage) -> tuple[str, str]:
        channel = await self.dm_channel(slack_user)
        return channel, await self.post(channel, msg)

    async def thread_link(self, ref: ChatRef | None) -> str | None:
        if ref is None or ref.channel is None or ref.ts is None:
            return None
        try:
            response = await self.client.chat_getPermalink(channel=ref.channel, message_ts=ref.ts)
        except SlackApiError as error:
            log.warning("no permalink for message %s: %s", ref.id, slack_error(error))
            return None
        link = response.get("permalink")
        return f"<{link}|{message('slack.approval.thread_label')}>" if link else None

    # ------------------------------------------------------------ the draft's thread

    async def show_draft(
        self, view: DraftView, channel: str, *, thread_ts: str, note: str | None = None
    ) -> None:
        """Post the draft's card as a reply to ``thread_ts`` and remember it."""
        ts = await self.post(channel, render.draft_card(view, note=note), thread_ts=thread_ts)
        await asyncio.to_thread(
            self.chat.remember,
            draft_id=view.id,
            purpose=Purpose.DRAFT,
            platform=PLATFORM,
            channel=channel,
            ts=ts,
            thread_ts=thread_ts,
            revision=view.revision,
        )

    async def thread(self, draft_id: int) -> ChatRef | None:
        return await asyncio.to_thread(self.chat.thread, draft_id, PLATFORM)

    async def say(self, draft_id: int, msg: SlackMessage) -> bool:
        """Post in the draft's thread; False when the draft has no thread on Slack."""
        ref = await self.thread(draft_id)
        if ref is None or ref.channel is None:
            return False
        await self.post(ref.channel, msg, thread_ts=ref.thread_ts or ref.ts)
        return True

    async def tell(self, draft_id: int, text: str, member_ids: Sequence[str] = ()) -> None:
        """Say ``text`` in the draft's thread mentioning the members; DM them if no thread."""
        mentions = self.slack_ids(member_ids)
        if await self.say(draft_id, render.note(text, mentions=mentions)):
            return
        for user in mentions:
            await self.dm(user, render.note(text))

    # ------------------------------------------------------------ after a use case

    async def deliver(self, result: Result, *, note: str | None = None) -> None:
        """Show the outcome of a use case: every card of the draft updated, then whoever must
        hear of it told (peer-check request, approval cards, the author in the thread)."""
        view = result.draft
        await self.refresh(view)
        if note:
            await self.tell(view.id, note)
        for notice in result.notices:
            await self.notify(view, notice)

    async def notify(self, view: DraftView, notice: Notice) -> None:
        reason = notice.reason
        if reason == "peer_check_requested":
            await self.ask_peers(view, notice.member_ids)
        elif reason == "approval_requested":
            sent = await self.send_cards(view, notice.member_ids)
            if sent:
                names = "、".join(mrkdwn(self._name(m)) for m in sent)
                await self.tell(view.id, message("slack.thread.approval_requested", names=names))
        elif reason == "partly_approved":
            pending = "、".join(mrkdwn(s) for s in view.pending_sections) or "-"
            await self.tell(
                view.id, message("slack.thread.partly_approved", pending=pending), notice.member_ids
            )
        elif reason == "approved":
            await self.tell(view.id, self._approved_text(view), notice.member_ids)
        elif reason in ("changes_requested", "rejected"):
            decision = next((r for r in reversed(view.reviews) if r.decision == reason), None)
            await self.tell(
                view.id,
                message(
                    f"slack.thread.{reason}",
                    who=mrkdwn(decision.reviewer_name if decision else "-"),
                    reason=mrkdwn(decision.comment or "-" if decision else "-"),
                ),
                notice.member_ids,
            )
        else:
            log.warning("draft %s: no Slack rendering for notice %r", view.id, reason)

    def _name(self, member_id: str) -> str:
        member = self.directory.member(member_id)
        return member.name if member else member_id

    def _approved_text(self, view: DraftView) -> str:
        approvals = [r for r in view.reviews if r.decision == "approved"]
        who = "、".join(mrkdwn(r.reviewer_name) for r in approvals) or "-"
        now = self.clock()
        due = [p.due_at for p in view.publications if p.state in ("pending", "held")]
        if due and max(due) > now + SOON:
            schedule = message("slack.thread.scheduled", at=when(max(due)))
        else:
            schedule = message("slack.thread.publishing_soon")
        return message("slack.thread.approved", who=who, schedule=schedule)

    async def refresh(self, view: DraftView) -> None:
        """Update the draft's card, closed peer requests, and every approval card copy of this
        revision and of the one just superseded (older ones already say so)."""
        refs = await asyncio.to_thread(
            self.chat.refs,
            view.id,
            PLATFORM,
            (Purpose.DRAFT, Purpose.PEER_REQUEST, Purpose.APPROVAL),
        )
        updates = []
        drafts = [r for r in refs if r.purpose is Purpose.DRAFT]
        if drafts:
            updates.append(self.update(drafts[-1], render.draft_card(view)))
        recent = [r for r in refs if r.revision is not None and r.revision >= view.revision - 1]
        link = None
        if any(r.purpose is Purpose.APPROVAL for r in recent):
            link = await self.thread_link(drafts[-1] if drafts else None)
        for ref in recent:
            assert ref.revision is not None
            if ref.purpose is Purpose.PEER_REQUEST:
                still_open = view.state is DraftState.IN_REVIEW and ref.revision == view.revision
                if not still_open:
                    updates.append(self.update(ref, render.peer_request(view, ref.revision, ())))
            elif ref.purpose is Purpose.APPROVAL:
                card = render.approval_card(view, card_revision=ref.revision, thread_link=link)
                updates.append(self.update(ref, card))
        for update in updates:  # one at a time: chat.update is rate-limited per workspace
            await update

    async def ask_peers(self, view: DraftView, member_ids: Sequence[str]) -> None:
        """The thread asks the colleagues (once per revision; later the request is updated)."""
        refs = await asyncio.to_thread(self.chat.refs, view.id, PLATFORM, (Purpose.PEER_REQUEST,))
        msg = render.peer_request(view, view.revision, self.slack_ids(member_ids))
        current = [r for r in refs if r.revision == view.revision]
        if current:
            await self.update(current[-1], msg)
            return
        thread = await self.thread(view.id)
        if thread is None or thread.channel is None:
            for user in self.slack_ids(member_ids):
                channel, ts = await self.dm(user, msg)
                await self._remember(view, Purpose.PEER_REQUEST, channel, ts)
            return
        thread_ts = thread.thread_ts or thread.ts
        ts = await self.post(thread.channel, msg, thread_ts=thread_ts)
        await self._remember(view, Purpose.PEER_REQUEST, thread.channel, ts, thread_ts)

    async def send_cards(
        self,
        view: DraftView,
        member_ids: Sequence[str],
        *,
        intro: str | None = None,
        again: bool = False,
    ) -> list[str]:
        """Approval cards by DM to each member (and once into the approvals channel); a member
        who already has this revision's card gets none unless ``again``. Returns who got one."""
        existing = await asyncio.to_thread(self.chat.cards, view.id, PLATFORM)
        have = {r.channel for r in existing if r.revision == view.revision}
        link = await self.thread_link(await self.thread(view.id))
        card = render.approval_card(
            view, card_revision=view.revision, thread_link=link, intro=intro
        )
        sent: list[str] = []
        for member_id in dict.fromkeys(member_ids):
            user = self.slack_id(member_id)
            if user is None:
                log.warning("draft %s: approver %s has no slack_user_id", view.id, member_id)
                continue
            channel = await self.dm_channel(user)
            if channel in have and not again:
                continue
            ts = await self.post(channel, card)
            await self._remember(view, Purpose.APPROVAL, channel, ts)
            sent.append(member_id)
        if self.approvals_channel and self.approvals_channel not in have and not again:
            ts = await self.post(self.approvals_channel, card)
            await self._remember(view, Purpose.APPROVAL, self.approvals_channel, ts)
        return sent

    async def _remember(
        self,
        view: DraftView,
        purpose: Purpose,
        channel: str,
        ts: str,
        thread_ts: str | None = None,
    ) -> None:
        await asyncio.to_thread(
            self.chat.remember,
            draft_id=view.id,
            purpose=purpose,
            platform=PLATFORM,
            channel=channel,
            ts=ts,
            thread_ts=thread_ts,
            revision=view.revision,
        )
