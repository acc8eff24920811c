"""The buttons under a publication's news in the draft's thread, whatever the platform.

- A published result (``ChatJobs.report_published``) carries 削除を依頼 (``actions.DELETE``) and a
  text box for the reason: a deletion request of ``handlers.deletions``, its approvers told by
  direct message — what the ``delete`` command does.
- A needs-review notice (``ChatNotifier``) carries 投稿済みと確認 (``actions.REVIEW_PUBLISHED``, the
  post's URL or id typed in the box) and 未投稿として再送 (``actions.REVIEW_NOT_PUBLISHED``):
  ``PublicationUseCases.review``, what the ``review`` command does.

The use cases decide who may (the same rules and Japanese refusals as the commands). After the
action the draft's thread says who did what, every card of the draft is updated on every
platform, and the adapter replaces the clicked message's buttons with that line.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from bot.chat import actions
from bot.chat.commands import PostCommands
from bot.chat.port import Button
from bot.chat.text import mrkdwn
from handlers.drafts import Actor
from workflows.catalogue import message
from workflows.errors import Refusal


class ReasonNeeded(Refusal):
    key: ClassVar[str] = "refusal.delete_reason_needed"


class PostNeeded(Refusal):
    key: ClassVar[str] = "refusal.review_post_needed"


def published_buttons(publication_id: int) -> tuple[tuple[Button, ...], str]:
    """(buttons, text box label) under a published result: 削除を依頼 with its reason."""
    delete = Button(message("chat.button.delete"), actions.DELETE, publication_id)
    return (delete,), message("chat.input.delete_reason")


def review_buttons(publication_id: int) -> tuple[tuple[Button, ...], str]:
    """(buttons, text box label) under a needs-review notice."""
    return (
        Button(message("chat.button.review_published"), actions.REVIEW_PUBLISHED, publication_id),
        Button(
            message("chat.button.review_not_published"),
            actions.REVIEW_NOT_PUBLISHED,
            publication_id,
        ),
    ), message("chat.input.review_post")


class ResultButtons:
    """What a press of one of those buttons does, on the platform it was pressed on."""

    def __init__(self, *, commands: PostCommands) -> None:
        self.commands = commands
        self.talk = commands.talk
        self.drafts = commands.drafts

    async def press(self, actor: Actor, action: str, publication_id: int, typed: str | None) -> str:
        """Do what ``action`` asks for the publication (``typed``: the text box); the line
        that says what was done (also said in the draft's thread)."""
        typed = (typed or "").strip()
        who = mrkdwn((await asyncio.to_thread(self.drafts.member, actor)).name)
        if action == actions.DELETE:
            if not typed:
                raise ReasonNeeded()
            request = await self.commands.request_deletion(actor, publication_id, typed)
            reason = mrkdwn(request.reason)
            text = message("chat.result.done.delete", who=who, request=request.id, reason=reason)
            draft_id = request.draft_id
        elif action in (actions.REVIEW_PUBLISHED, actions.REVIEW_NOT_PUBLISHED):
            published = action == actions.REVIEW_PUBLISHED
            if published and not typed:
                raise PostNeeded()
            done = (
                await asyncio.to_thread(
                    self.commands.publications.review,
                    actor,
                    publication_id,
                    published=typed if published else None,
                    not_published=not published,
                )
            ).publication
            kind = "review_published" if published else "review_not_published"
            text = message(
                f"chat.result.done.{kind}", who=who, publication=done.id, account=done.account_id
            )
            draft_id = done.draft_id
        else:
            raise ValueError(f"not a result action: {action}")
        home = await self.talk.home(draft_id)
        await home.tell(draft_id, text)
        view = await asyncio.to_thread(self.drafts.get, draft_id)
        for talk in self.talk.everywhere():
            await talk.refresh(view)
        return text
