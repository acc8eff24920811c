"""A draft's conversation on one chat platform: its card and thread, peer requests, approval
cards, and who is told what after each use case. Platform-neutral: it talks to a ``ChatPort``.

Every message postgate may need again is remembered through ``handlers.chat`` (channel + ts, or
a Teams conversation + activity id) with its platform, so after a decision every copy of a card
is updated from the database.

A city may run Slack and Teams together: a draft lives on the platform of its thread (its
*home*), where everything about it is said, but approval cards (and a peer-check request sent by
direct message) reach each member on every platform they have an id for. ``others`` gives the
conversations of the other platforms (the hub's); a click on any copy decides the same draft.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from bot.chat.port import (
    Announcement,
    ApprovalCard,
    Button,
    Card,
    ChatPort,
    DraftCard,
    Note,
    PeerRequest,
)
from bot.chat.text import mrkdwn, when
from handlers.chat import ChatRef, ChatUseCases, Purpose
from handlers.drafts import Clock
from handlers.views import DraftView, Notice, Result
from workflows.catalogue import message
from workflows.lifecycle import DraftState
from workflows.org import Directory

log = logging.getLogger(__name__)


class Conversation:
    """The orchestration of drafts on one platform."""

    def __init__(
        self,
        *,
        port: ChatPort,
        chat: ChatUseCases,
        directory: Directory,
        approvals_channel: str | None,
        clock: Clock,
        others: Callable[[], Iterable[Conversation]] = tuple,
    ) -> None:
        self.port = port
        self.others = others
        self.platform = port.platform
        self.chat = chat
        self.directory = directory
        self.approvals_channel = approvals_channel
        self.clock = clock

    # ------------------------------------------------------------ primitives

    def users(self, member_ids: Iterable[str]) -> tuple[str, ...]:
        return tuple(u for u in (self.port.user_of(m) for m in member_ids) if u)

    def everywhere(self) -> list[Conversation]:
        """This platform's conversation first, then the others'."""
        return [self, *(c for c in self.others() if c is not self)]

    async def home(self, draft_id: int) -> Conversation:
        """The conversation of the platform where the draft lives (its thread), else this one."""
        for talk in self.everywhere():
            if await talk.thread(draft_id) is not None:
                return talk
        return self

    def name(self, member_id: str) -> str:
        member = self.directory.member(member_id)
        return member.name if member else member_id

    async def dm(self, user: str, card: Card) -> tuple[str, str]:
        channel = await self.port.open_dm(user)
        return channel, await self.port.post(channel, card)

    async def update(self, ref: ChatRef, card: Card) -> None:
        if ref.channel is None or ref.ts is None:
            return
        try:
            await self.port.update(ref.channel, ref.ts, card, thread=ref.thread_ts)
        except self.port.errors as error:
            # A deleted message, or a channel the bot left: the other copies still matter.
            log.warning(
                "message %s (%s) not updated: %s", ref.id, ref.purpose, self.port.describe(error)
            )

    async def thread_link(self, ref: ChatRef | None) -> str | None:
        if ref is None or ref.channel is None or ref.ts is None:
            return None
        link = await self.port.permalink(ref.channel, ref.ts)
        return f"<{link}|{message('slack.approval.thread_label')}>" if link else None

    async def link_to_thread(self, draft_id: int) -> str | None:
        """A link to the draft's thread, on whichever platform it lives."""
        home = await self.home(draft_id)
        return await home.thread_link(await home.thread(draft_id))

    async def remember(
        self,
        view: DraftView,
        purpose: Purpose,
        channel: str,
        ts: str,
        thread_ts: str | None = None,
        *,
        reference: Mapping[str, Any] | None = None,
    ) -> None:
        await asyncio.to_thread(
            self.chat.remember,
            draft_id=view.id,
            purpose=purpose,
            platform=self.platform,
            channel=channel,
            ts=ts,
            thread_ts=thread_ts,
            revision=view.revision,
            reference=reference,
        )

    # ------------------------------------------------------------ the draft's thread

    async def show_draft(
        self, view: DraftView, channel: str, *, thread_ts: str, note: str | None = None
    ) -> None:
        """Post the draft's card as a reply to ``thread_ts`` and remember it."""
        ts = await self.port.post(channel, DraftCard(view, note), thread=thread_ts)
        await self.remember(view, Purpose.DRAFT, channel, ts, thread_ts)

    async def announce(
        self, view: DraftView, channel: str, *, author: str | None, note: str | None = None
    ) -> None:
        """A draft made outside a drafts channel: announced in ``channel``, its card in that
        announcement's thread."""
        ts = await self.port.post(channel, Announcement(view, author))
        await self.show_draft(view, channel, thread_ts=ts, note=note)

    async def thread(self, draft_id: int) -> ChatRef | None:
        return await asyncio.to_thread(self.chat.thread, draft_id, self.platform)

    async def say(self, draft_id: int, card: Card) -> bool:
        """Post in the draft's thread; False when the draft has no thread on this platform."""
        ref = await self.thread(draft_id)
        if ref is None or ref.channel is None:
            return False
        await self.port.post(ref.channel, card, thread=ref.thread_ts or ref.ts)
        return True

    async def tell(
        self,
        draft_id: int,
        text: str,
        member_ids: Sequence[str] = (),
        *,
        buttons: tuple[Button, ...] = (),
        field: str | None = None,
    ) -> None:
        """Say ``text`` in the draft's thread mentioning the members; DM them if no thread.
        ``buttons`` (and a text box labelled ``field``) go under it."""
        mentions = self.users(member_ids)
        if await self.say(draft_id, Note(text, mentions, buttons, field)):
            return
        for user in mentions:
            await self.dm(user, Note(text, buttons=buttons, field=field))

    # ------------------------------------------------------------ after a use case

    async def deliver(
        self,
        result: Result,
        *,
        note: str | None = None,
    ) -> None:
        """Show the outcome of a use case: every card of the draft updated on every platform
        (the clicked one too: a Teams answer replaces it only for the one who clicked), then
        whoever must hear of it told, from the draft's home (peer-check request, approval
        cards, the author in the thread)."""
        view = result.draft
        for talk in self.everywhere():
            await talk.refresh(view)
        home = await self.home(view.id)
        if note:
            await home.tell(view.id, note)
        for notice in result.notices:
            await home.notify(view, notice)

    async def notify(self, view: DraftView, notice: Notice) -> None:
        reason = notice.reason
        if reason == "peer_check_requested":
            await self.ask_peers(view, notice.member_ids)
        elif reason == "approval_requested":
            sent = await self.send_cards(view, notice.member_ids)
            for talk in self.everywhere()[1:]:
                try:
                    sent += await talk.send_cards(view, notice.member_ids, home=False)
                except talk.port.errors as error:
                    log.error(
                        "draft %s: approval cards not sent on %s: %s",
                        view.id,
                        talk.platform,
                        talk.port.describe(error),
                    )
            sent = list(dict.fromkeys(sent))
            if sent:
                names = "、".join(mrkdwn(self.name(m)) for m in sent)
                await self.tell(view.id, message("slack.thread.approval_requested", names=names))
        elif reason == "partly_approved":
            pending = "、".join(mrkdwn(s) for s in view.pending_sections) or "-"
            await self.tell(
                view.id, message("slack.thread.partly_approved", pending=pending), notice.member_ids
            )
        elif reason == "approved":
            await self.tell(view.id, self.approved_text(view), notice.member_ids)
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
            log.warning("draft %s: no chat rendering for notice %r", view.id, reason)

    def approved_text(self, view: DraftView) -> str:
        """Who approved, and when it goes out: the scheduled time, or 'now' when it is due."""
        approvals = [r for r in view.reviews if r.decision == "approved"]
        who = "、".join(mrkdwn(r.reviewer_name) for r in approvals) or "-"
        due = [p.due_at for p in view.publications if p.state in ("pending", "held")]
        if due and max(due) > self.clock():
            schedule = message("slack.thread.scheduled", at=when(max(due)))
        else:
            schedule = message("slack.thread.publishing_soon")
        return message("slack.thread.approved", who=who, schedule=schedule)

    def approvers(self, view: DraftView) -> tuple[str, ...]:
        """Platform ids of those who may approve the pending sections (not the author)."""
        people = [m for s in view.pending_sections for m in self.directory.approvers(s)]
        return self.users(m for m in dict.fromkeys(people) if m != view.author_id)

    async def refresh(self, view: DraftView) -> None:
        """Update the draft's card, closed peer requests, and every approval card copy of this
        revision and of the one just superseded (older ones already say so)."""
        refs = await asyncio.to_thread(
            self.chat.refs,
            view.id,
            self.platform,
            (Purpose.DRAFT, Purpose.PEER_REQUEST, Purpose.APPROVAL),
        )
        updates: list[tuple[ChatRef, Card]] = []
        drafts = [r for r in refs if r.purpose is Purpose.DRAFT]
        if drafts:
            updates.append((drafts[-1], DraftCard(view)))
        recent = [r for r in refs if r.revision is not None and r.revision >= view.revision - 1]
        link = None
        if any(r.purpose is Purpose.APPROVAL for r in recent):
            link = await self.link_to_thread(view.id)
        approvers = self.approvers(view)
        for ref in recent:
            assert ref.revision is not None
            if ref.purpose is Purpose.PEER_REQUEST:
                still_open = view.state is DraftState.IN_REVIEW and ref.revision == view.revision
                if not still_open:
                    updates.append((ref, PeerRequest(view, ref.revision)))
            elif ref.purpose is Purpose.APPROVAL:
                updates.append(
                    (ref, ApprovalCard(view, ref.revision, thread_link=link, approvers=approvers))
                )
        for ref, card in updates:  # one at a time: updates are rate-limited per workspace
            await self.update(ref, card)

    async def ask_peers(self, view: DraftView, member_ids: Sequence[str]) -> None:
        """The thread asks the colleagues (once per revision; later the request is updated)."""
        refs = await asyncio.to_thread(
            self.chat.refs, view.id, self.platform, (Purpose.PEER_REQUEST,)
        )
        card = PeerRequest(view, view.revision, self.users(member_ids))
        current = [r for r in refs if r.revision == view.revision]
        if current:
            await self.update(current[-1], card)
            return
        thread = await self.thread(view.id)
        if thread is None or thread.channel is None:  # by DM, on every platform
            for talk in self.everywhere():
                for user in talk.users(member_ids):
                    channel, ts = await talk.dm(user, replace(card, peers=talk.users(member_ids)))
                    await talk.remember(view, Purpose.PEER_REQUEST, channel, ts)
            return
        thread_ts = thread.thread_ts or thread.ts
        ts = await self.port.post(thread.channel, card, thread=thread_ts)
        await self.remember(view, Purpose.PEER_REQUEST, thread.channel, ts, thread_ts)

    async def send_cards(
        self,
        view: DraftView,
        member_ids: Sequence[str],
        *,
        intro: str | None = None,
        again: bool = False,
        home: bool = True,
    ) -> list[str]:
        """Approval cards by DM to each member who has an id on this platform (and, on the
        draft's ``home`` platform, once into the approvals channel); a member who already has
        this revision's card gets none unless ``again``. Returns who got one."""
        existing = await asyncio.to_thread(self.chat.cards, view.id, self.platform)
        have = {r.channel for r in existing if r.revision == view.revision}
        link = await self.link_to_thread(view.id)
        card = ApprovalCard(
            view, view.revision, thread_link=link, intro=intro, approvers=self.approvers(view)
        )
        sent: list[str] = []
        for member_id in dict.fromkeys(member_ids):
            user = self.port.user_of(member_id)
            if user is None:
                log.info("draft %s: approver %s has no %s id", view.id, member_id, self.platform)
                continue
            channel = await self.port.open_dm(user)
            if channel in have and not again:
                continue
            ts = await self.port.post(channel, card)
            await self.remember(view, Purpose.APPROVAL, channel, ts)
            sent.append(member_id)
        if home and self.approvals_channel and self.approvals_channel not in have and not again:
            ts = await self.port.post(self.approvals_channel, card)
            await self.remember(view, Purpose.APPROVAL, self.approvals_channel, ts)
        return sent
