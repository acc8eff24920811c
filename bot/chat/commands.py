"""Commands from chat, whatever the platform (Slack ``/postgate …``, a Teams 1:1 chat with
postgate).

``DraftQueries`` answers the person who asks about drafts:

    status [番号]   a draft's state (no number: their drafts)     mine     their drafts
    pending         drafts waiting for their check or approval

``PostCommands`` settles a publication that needs review, asks to delete a published post,
decides a deletion request, and polls the watched accounts now (``check-now``). The use cases
decide and audit; this says what happened and tells whoever must hear of it (the approvers of a
request, its requester) by direct message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Final

from bot.chat.conversation import Conversation
from bot.chat.forms import Command
from bot.chat.port import DraftCard, Note
from bot.chat.text import mrkdwn, summary_line
from handlers.deletions import DeletionUseCases
from handlers.drafts import Actor, DraftUseCases
from handlers.monitors import PollReport, report_lines
from handlers.publishing import PublicationUseCases
from handlers.views import DeletionResult, DeletionView
from workflows.catalogue import message
from workflows.errors import Refusal
from workflows.publishing import PublicationState

DRAFT_QUERIES: Final = frozenset({"status", "mine", "pending"})
POST_COMMANDS: Final = frozenset(
    {"review", "delete", "delete-approve", "delete-reject", "check-now"}
)
LISTED: Final = 30  # drafts in one answer
NOT_THERE: Final = frozenset({"なし", "無し", "none", "no", "not-published"})

# One monitor poll of every watched account, now (``Monitor.run_now``).
CheckNow = Callable[[], Awaitable[Sequence[PollReport]]]


class PromotionOnly(Refusal):
    """``check-now`` is for the City Promotion and Digital Promotion sections."""

    key: ClassVar[str] = "refusal.check_now_promotion_only"


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
        drafts: DraftUseCases,
        check_now: CheckNow | None = None,
    ) -> None:
        self.talk = conversation
        self.publications = publications
        self.deletions = deletions
        self.drafts = drafts
        self._check_now = check_now

    async def run(self, actor: Actor, command: Command) -> str:
        """What to answer the person (a usage line when the arguments are not right)."""
        if command.name == "check-now":
            return await self.check_now(actor)
        args = command.args
        number = int(args[0].lstrip("#")) if args and args[0].lstrip("#").isdigit() else None
        rest = " ".join(args[1:]).strip()
        if number is None or (command.name != "delete-approve" and not rest):
            return message(f"chat.usage.{command.name}")
        if command.name == "review":
            return await self.review(actor, number, rest)
        if command.name == "delete":
            request = await self.request_deletion(actor, number, rest)
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

    async def check_now(self, actor: Actor) -> str:
        """One monitor poll now, for members of City Promotion or Digital Promotion: what it
        found (a line per account, and per incident it opened)."""
        member = await asyncio.to_thread(self.drafts.member, actor)
        directory = self.talk.directory
        promotion = (directory.city_promotion, directory.digital_promotion)
        if member.section not in {s.name for s in promotion if s is not None}:
            raise PromotionOnly()
        reports = await self._check_now() if self._check_now is not None else ()
        lines = [mrkdwn(line) for line in report_lines(reports)]
        return "\n".join([message("chat.check_now.title"), *lines])

    async def request_deletion(
        self, actor: Actor, publication_id: int, reason: str
    ) -> DeletionView:
        """Ask for the post's deletion; its approvers are told (the command and the button)."""
        result = await asyncio.to_thread(
            self.deletions.request, actor, publication_id, reason=reason
        )
        request = result.request
        asked = message(
            "chat.deletion.asked",
            request=request.id,
            who=mrkdwn(request.requester_name),
            reason=mrkdwn(request.reason),
        )
        await self.tell(result, asked)
        return request

    async def tell(self, result: DeletionResult, text: str) -> None:
        """The deletion's news by direct message to whoever its notices name."""
        people = dict.fromkeys(m for notice in result.notices for m in notice.member_ids)
        for user in self.talk.users(people):
            await self.talk.dm(user, Note(text))
