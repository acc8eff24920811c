"""What happens after a Slack request is acknowledged: drop replays, parse, call one flow of
``bot.chat.flows``, deliver. Slack-only work (modals, the slash command's answers, App Home)
stays here.

Each flow runs as a tracked task started by a listener right after ``ack()``. Refusals propagate
to the one error boundary (``SlackBot.report``), which shows them to the person as an ephemeral
message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.commands import DRAFT_QUERIES, POST_COMMANDS, DraftQueries, PostCommands
from bot.chat.conversation import Conversation
from bot.chat.flows import DraftFlows
from bot.chat.forms import ApproveForm, Command, DraftForm, PeerForm
from bot.chat.port import DraftCard
from bot.slack import parse, render
from bot.slack.parse import Body, ModalMeta
from bot.slack.text import plain_from_slack
from handlers.chat import ChatUseCases
from handlers.drafts import Actor, DraftUseCases
from handlers.views import Result
from workflows.catalogue import message

Respond = Callable[..., Awaitable[Any]]


class Flows:
    def __init__(
        self,
        *,
        core: DraftFlows,
        commands: PostCommands,
        drafts: DraftUseCases,
        chat: ChatUseCases,
        client: AsyncWebClient,
    ) -> None:
        self.core = core
        self.commands = commands
        self.queries = DraftQueries(drafts)
        self.talk: Conversation = core.talk
        self.drafts = drafts
        self.chat = chat
        self.client = client
        self.directory = drafts.directory
        self.draft_channels = core.draft_channels
        self.accounts = core.accounts

    async def fresh(self, body: Body) -> bool:
        """False for a request already handled (Slack replays signed requests as they are)."""
        return await self.core.fresh(parse.request_key(body))

    async def _deliver(self, work: Awaitable[Result]) -> None:
        await self.talk.deliver(await work)

    # ------------------------------------------------------------ messages in a drafts channel

    async def draft_message(self, body: Body) -> None:
        """A drafter's message becomes a draft; the card answers in its thread."""
        if not await self.fresh(body):
            return
        event = body["event"]
        text = plain_from_slack(event.get("text") or "", self.directory)
        note = message("slack.draft.files_ignored") if event.get("files") else None
        await self.core.new_message(
            parse.actor(body), event["channel"], event["ts"], text, note=note
        )

    async def message_edited(self, body: Body) -> None:
        """The drafter edited their message: a new revision, checked again."""
        if not await self.fresh(body):
            return
        event = body["event"]
        edited = event["message"]
        text = plain_from_slack(edited.get("text") or "", self.directory)
        await self.core.message_edited(parse.actor(body), event["channel"], edited["ts"], text)

    # ------------------------------------------------------------ buttons

    async def submit(self, body: Body) -> None:
        if not await self.fresh(body):
            return
        await self._deliver(self.core.submit(parse.actor(body), parse.clicked(body).draft_id))

    async def withdraw(self, body: Body) -> None:
        if not await self.fresh(body):
            return
        result = await self.core.withdraw(parse.actor(body), parse.clicked(body).draft_id)
        await self.talk.deliver(result, note=message("slack.thread.withdrawn"))

    async def retry(self, body: Body) -> None:
        """再送する on a failed publication's notice (the thread says who did it)."""
        if not await self.fresh(body):
            return
        await self.core.retry(parse.actor(body), parse.clicked_publication(body))

    async def open_modal(self, body: Body, kind: str) -> None:
        """Open the modal a button asks for (``trigger_id`` is valid for 3 s: at once)."""
        if not await self.fresh(body):
            return
        ref = parse.clicked(body)
        actor = parse.actor(body)
        if kind == "approve":  # refused here, with the reason, not after filling in the form
            view = await asyncio.to_thread(
                self.drafts.may_approve, actor, ref.draft_id, shown_revision=ref.revision
            )
        else:
            await asyncio.to_thread(self.drafts.member, actor)
            view = await asyncio.to_thread(self.drafts.get, ref.draft_id)
        channel, thread_ts = parse.where_clicked(body)
        meta = ModalMeta(ref.draft_id, ref.revision, channel, thread_ts)
        if kind == "approve":
            modal = render.approve_modal(view, ref, meta)
        elif kind == "peer_check":
            modal = render.peer_modal(view, ref, meta)
        elif kind in ("request_changes", "reject"):
            modal = render.reason_modal(kind, view, ref, meta)
        elif kind == "edit":
            modal = render.edit_modal(view, meta)
        else:
            modal = render.settings_modal(view, self.accounts, meta)
        await self.client.views_open(trigger_id=body["trigger_id"], view=modal)

    # ------------------------------------------------------------ modal submissions

    async def approve(self, body: Body, form: ApproveForm) -> None:
        if not await self.fresh(body):
            return
        ref = parse.modal_meta(body).ref
        await self._deliver(self.core.approve(parse.actor(body), ref, form))

    async def peer_check(self, body: Body, form: PeerForm) -> None:
        if not await self.fresh(body):
            return
        ref = parse.modal_meta(body).ref
        await self._deliver(self.core.peer_check(parse.actor(body), ref, form))

    async def decide_against(self, body: Body, kind: str, reason: str) -> None:
        """Request changes (差し戻し) or reject (却下), with the reason."""
        if not await self.fresh(body):
            return
        ref = parse.modal_meta(body).ref
        await self._deliver(self.core.decide_against(parse.actor(body), ref, kind, reason))

    async def revise(self, body: Body, form: DraftForm) -> None:
        """The edit and settings modals: a new revision with what the form changed."""
        if not await self.fresh(body):
            return
        await self.core.revise(parse.actor(body), parse.modal_meta(body).ref, form)

    async def new_draft(self, body: Body, form: DraftForm) -> None:
        """``/postgate draft``: the draft is announced in a drafts channel (the one the command
        came from, else one whose accounts it targets) and its card answers in that thread."""
        if not await self.fresh(body):
            return
        meta = parse.modal_meta(body)
        await self.core.new_draft(parse.actor(body), form, origin=meta.channel)

    # ------------------------------------------------------------ the slash command

    async def command(self, body: Body, command: Command, respond: Respond) -> None:
        if not await self.fresh(body):
            return
        actor = parse.actor(body)
        if command.name == "draft":
            await self.open_new_draft(body)
            return
        await asyncio.to_thread(self.drafts.member, actor)
        if command.name in DRAFT_QUERIES:
            answer = await self.queries.answer(actor, command)
            msg = (
                render.status_message(answer.view)
                if isinstance(answer, DraftCard)
                else render.summaries(answer)
            )
            await respond(response_type="ephemeral", **msg.kwargs())
        elif command.name in ("pause", "resume"):
            await self.pause_or_resume(actor, command, respond)
        elif command.name in POST_COMMANDS:
            text = await self.commands.run(actor, command)
            await respond(response_type="ephemeral", text=text, blocks=[render.section(text)])

    async def open_new_draft(self, body: Body) -> None:
        await asyncio.to_thread(self.drafts.member, parse.actor(body))
        channel = body.get("channel_id")
        settings = self.draft_channels.get(channel) if isinstance(channel, str) else None
        defaults = settings.default_accounts if settings else ()
        meta = ModalMeta(channel=channel if isinstance(channel, str) else None)
        modal = render.new_draft_modal(self.accounts, defaults, meta)
        await self.client.views_open(trigger_id=body["trigger_id"], view=modal)

    async def pause_or_resume(self, actor: Actor, command: Command, respond: Respond) -> None:
        """``/postgate pause [account|all] reason`` and ``/postgate resume [account]``."""
        text = await self.core.pause_or_resume(actor, command)
        await respond(response_type="ephemeral", text=text, blocks=[render.section(text)])

    # ------------------------------------------------------------ App Home

    async def home(self, body: Body) -> None:
        actor = parse.actor(body)
        view = await asyncio.to_thread(self.chat.home, actor)
        await self.client.views_publish(user_id=actor.user_id, view=render.home(view))
