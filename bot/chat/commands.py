"""Commands from chat, whatever the platform (Slack ``/postgate …``, a Teams 1:1 chat with
postgate).

``DraftQueries`` answers the person who asks about drafts:

    status [番号]   a draft's state (no number: their drafts)     mine     their drafts
    pending         drafts waiting for their check or approval

``PostCommands`` settles a publication that needs review, asks to delete a published post, and
decides a deletion request. The use cases decide and audit; this says what happened and tells
whoever must hear of it (the approvers of a request, its requester) by direct message.

    review <投稿ID> <URL|ID>     the post is there      review <投稿ID> なし   it is not
    delete <投稿ID> <理由>       ask to delete it (every published post of its draft)
    delete-approve <依頼ID>      approve a deletion     delete-reject <依頼ID> <理由>
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

from bot.chat.conversation import Conversation
from bot.chat.forms import Command
from bot.chat.port import DraftCard, Note
from bot.chat.text import mrkdwn, summary_line
from handlers.deletions import DeletionUseCases
from handlers.drafts import Actor, DraftUseCases
from handlers.publishing import PublicationUseCases
from handlers.views import DeletionResult
from workflows.catalogue import message
from workflows.publishing import PublicationState

DRAFT_QUERIES: Final = frozenset({"status", "mine", "pending"})
POST_COMMANDS: Final = frozenset({"review", "delete", "delete-approve", "delete-reject"})
LISTED: Final = 30  # drafts in one answer
NOT_THERE: Final = frozenset({"なし", "無し", "none", "no", "not-published"})


@dataclass(frozen=True, slots=True)
class Listing:
    """A titled list of drafts, one line each (catalogue markup)."""

    title: str
    items: tuple[str, ...]

    def lines(self) -> list[str]:
        return [self.title, *(self.items or (message("slack.list.none"),))]


class DraftQueries:
    def __init__(self, drafts: DraftUseCases) -> None:
        self.drafts = drafts

    async def answer(self, actor: Actor, command: Command) -> DraftCard | Listing:
        """``status <番号>``: the draft's card without buttons; else the person's list."""
        await asyncio.to_thread(self.drafts.member, actor)
        number = command.args[0].lstrip("#") if command.args else ""
        if command.name == "status" and number.isdigit():
            view = await asyncio.to_thread(self.drafts.get, int(number))
            return DraftCard(view, buttons=False)
        if command.name == "pending":
            items = await asyncio.to_thread(self.drafts.awaiting, actor)
            title = message("slack.list.pending")
        else:
            items = await asyncio.to_thread(self.drafts.my_drafts, actor)
            title = message("slack.list.mine")
        return Listing(title, tuple(summary_line(i) for i in items[:LISTED]))


class PostCommands:
    def __init__(
        self,
        *,
        conversation: Conversation,
        publications: PublicationUseCases,
        deletions: DeletionUseCases,
    ) -> None:
        self.talk = conversation
        self.publications = publications
        self.deletions = deletions

    async def run(self, actor: Actor, command: Command) -> str:
        """What to answer the person (a usage line when the arguments are not right)."""
        args = command.args
        number = int(args[0].lstrip("#")) if args and args[0].lstrip("#").isdigit() else None
        rest = " ".join(args[1:]).strip()
        if number is None or (command.name != "delete-approve" and not rest):
            return message(f"chat.usage.{command.name}")
        if command.name == "review":
            return await self.review(actor, number, rest)
        if command.name == "delete":
            result = await asyncio.to_thread(self.deletions.request, actor, number, reason=rest)
            request = result.request
            asked = message(
                "chat.deletion.asked",
                request=request.id,
                who=mrkdwn(request.requester_name),
                reason=mrkdwn(request.reason),
            )
            await self.tell(result, asked)
            return message("chat.deletion.requested", request=request.id) + "\n" + request.advice
        if command.name == "delete-approve":
            result = await asyncio.to_thread(self.deletions.approve, actor, number)
        else:
            result = await asyncio.to_thread(self.deletions.reject, actor, number, reason=rest)
        request = result.request
        text = message("chat.deletion.decided", request=request.id, state=request.state_label)
        await self.tell(result, text)
        return text

    async def review(self, actor: Actor, publication_id: int, answer: str) -> str:
        not_there = answer.lower() in NOT_THERE
        done = (
            await asyncio.to_thread(
                self.publications.review,
                actor,
                publication_id,
                published=None if not_there else answer,
                not_published=not_there,
            )
        ).publication
        if done.state == PublicationState.PUBLISHED.value:
            return message("chat.review.published", publication=done.id, account=done.account_id)
        return message("chat.review.pending", publication=done.id, account=done.account_id)

    async def tell(self, result: DeletionResult, text: str) -> None:
        """The deletion's news by direct message to whoever its notices name."""
        people = dict.fromkeys(m for notice in result.notices for m in notice.member_ids)
        for user in self.talk.users(people):
            await self.talk.dm(user, Note(text))
