"""What happens after a Slack request is acknowledged: drop replays, call one use case, render.

Each flow runs as a tracked task started by a listener right after ``ack()``. The use cases are
synchronous database work, run in threads (``asyncio.to_thread``) so the event loop keeps
acknowledging other requests; each commits its decision before any Slack call is made, so a slow
or failing Slack never loses one. Refusals propagate to the one error boundary
(``SlackBot.report``), which shows them to the person as an ephemeral message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import AppConfig
from bot.slack import parse, render
from bot.slack.delivery import PLATFORM, Delivery
from bot.slack.parse import ApproveForm, Body, Command, DraftForm, ModalMeta, PeerForm
from bot.slack.text import mrkdwn, plain_from_slack
from handlers.chat import ChatUseCases, Purpose
from handlers.drafts import Actor, Clock, DraftUseCases, NewDraft
from handlers.publishing import PublicationUseCases
from handlers.views import DraftView, Result
from workflows.catalogue import message
from workflows.org import Account

Respond = Callable[..., Awaitable[Any]]
_ALL_ACCOUNTS = frozenset({"all", "全体", "すべて", "全て"})


class Flows:
    def __init__(
        self,
        *,
        config: AppConfig,
        drafts: DraftUseCases,
        chat: ChatUseCases,
        publications: PublicationUseCases,
        delivery: Delivery,
        client: AsyncWebClient,
        clock: Clock,
    ) -> None:
        self.config = config
        self.drafts = drafts
        self.chat = chat
        self.publications = publications
        self.delivery = delivery
        self.client = client
        self.clock = clock
        self.directory = drafts.directory
        self.draft_channels = {c.slack: c for c in config.channels.drafts if c.slack}
        self.accounts: tuple[Account, ...] = config.accounts

    async def fresh(self, body: Body) -> bool:
        """False for a request already handled (Slack replays signed requests as they are)."""
        return await asyncio.to_thread(self.chat.first_time, parse.request_key(body))

    async def _run(self, call: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
        return await asyncio.to_thread(call, *args, **kwargs)

    # ------------------------------------------------------------ messages in a drafts channel

    async def draft_message(self, body: Body) -> None:
        """A drafter's message becomes a draft; the card answers in its thread."""
        if not await self.fresh(body):
            return
        event = body["event"]
        channel, ts = event["channel"], event["ts"]
        text = plain_from_slack(event.get("text") or "", self.directory)
        new = NewDraft(text, targets=self.draft_channels[channel].default_accounts, source=PLATFORM)
        result = await self._run(self.drafts.create, parse.actor(body), new)
        view = result.draft
        await asyncio.to_thread(
            self.chat.remember,
            draft_id=view.id,
            purpose=Purpose.SOURCE,
            platform=PLATFORM,
            channel=channel,
            ts=ts,
            revision=view.revision,
        )
        note = message("slack.draft.files_ignored") if event.get("files") else None
        await self.delivery.show_draft(view, channel, thread_ts=ts, note=note)

    async def message_edited(self, body: Body) -> None:
        """The drafter edited their message: a new revision, checked again."""
        if not await self.fresh(body):
            return
        event = body["event"]
        edited = event["message"]
        draft_id = await asyncio.to_thread(
            self.chat.draft_of_message, PLATFORM, event["channel"], edited["ts"]
        )
        if draft_id is None:
            return
        text = plain_from_slack(edited.get("text") or "", self.directory)
        current = await asyncio.to_thread(self.drafts.get, draft_id)
        if text == current.text:
            return  # an unfurl or a thread reply changed the message, not its text
        result = await self._run(self.drafts.revise, parse.actor(body), draft_id, text=text)
        await self.delivery.deliver(result, note=self._revised_note(current, result.draft))

    def _revised_note(self, before: DraftView, after: DraftView) -> str:
        key = (
            "slack.thread.revised_review" if before.state != after.state else "slack.thread.revised"
        )
        return message(key, revision=after.revision)

    # ------------------------------------------------------------ buttons

    async def submit(self, body: Body) -> None:
        if not await self.fresh(body):
            return
        ref = parse.clicked(body)
        result = await self._run(self.drafts.submit, parse.actor(body), ref.draft_id)
        await self.delivery.deliver(result)

    async def withdraw(self, body: Body) -> None:
        if not await self.fresh(body):
            return
        ref = parse.clicked(body)
        result = await self._run(self.drafts.withdraw, parse.actor(body), ref.draft_id)
        await self.delivery.deliver(result, note=message("slack.thread.withdrawn"))

    async def open_modal(self, body: Body, kind: str) -> None:
        """Open the modal a button asks for (``trigger_id`` is valid for 3 s: at once)."""
        if not await self.fresh(body):
            return
        ref = parse.clicked(body)
        await asyncio.to_thread(self.drafts.member, parse.actor(body))
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
        result = await self._run(
            self.drafts.approve,
            parse.actor(body),
            ref.draft_id,
            shown_revision=ref.revision,
            checklist=form.checklist,
            acknowledged=form.acknowledged,
            publish_at=form.publish_at,
            comment=form.comment,
        )
        await self.delivery.deliver(result)

    async def peer_check(self, body: Body, form: PeerForm) -> None:
        if not await self.fresh(body):
            return
        ref = parse.modal_meta(body).ref
        result = await self._run(
            self.drafts.peer_check,
            parse.actor(body),
            ref.draft_id,
            shown_revision=ref.revision,
            checklist=form.checklist,
            comment=form.comment,
        )
        await self.delivery.deliver(result)

    async def decide_against(self, body: Body, kind: str, reason: str) -> None:
        """Request changes (差し戻し) or reject (却下), with the reason."""
        if not await self.fresh(body):
            return
        ref = parse.modal_meta(body).ref
        call = self.drafts.request_changes if kind == "request_changes" else self.drafts.reject
        result = await self._run(
            call, parse.actor(body), ref.draft_id, shown_revision=ref.revision, reason=reason
        )
        await self.delivery.deliver(result)

    async def revise(self, body: Body, form: DraftForm) -> None:
        """The edit and settings modals: a new revision with what the form changed."""
        if not await self.fresh(body):
            return
        ref = parse.modal_meta(body).ref
        current = await asyncio.to_thread(self.drafts.get, ref.draft_id)
        result = await self._run(
            self.drafts.revise,
            parse.actor(body),
            ref.draft_id,
            text=form.text if form.text is not None else current.text,
            targets=form.targets,
            variants=form.variants,
            media=form.media,
            publish_at=form.publish_at,
            emergency=form.emergency,
        )
        await self.delivery.deliver(result, note=self._revised_note(current, result.draft))

    async def new_draft(self, body: Body, form: DraftForm) -> None:
        """``/postgate draft``: the draft is announced in a drafts channel (the one the command
        came from, else one whose accounts it targets) and its card answers in that thread."""
        if not await self.fresh(body):
            return
        meta = parse.modal_meta(body)
        actor = parse.actor(body)
        new = NewDraft(
            form.text or "",
            targets=form.targets or (),
            variants=form.variants or {},
            media=form.media or (),
            publish_at=form.publish_at,
            emergency=bool(form.emergency),
            source=PLATFORM,
        )
        result = await self._run(self.drafts.create, actor, new)
        await self.announce_draft(result.draft, actor, origin=meta.channel)

    async def announce_draft(
        self, view: DraftView, author: Actor, *, origin: str | None, note: str | None = None
    ) -> str:
        """A draft made outside a drafts channel (``/postgate draft``, an incident's notice):
        announced in a drafts channel (``origin`` if it is one, else one whose accounts it
        targets, else the author's DM), with its card in that thread. The channel."""
        channel = self._channel_for(origin, view)
        if channel is None:
            channel = await self.delivery.dm_channel(author.user_id)
        announcement = render.new_draft_announcement(view, author.user_id)
        ts = await self.delivery.post(channel, announcement)
        await self.delivery.show_draft(view, channel, thread_ts=ts, note=note)
        return channel

    def _channel_for(self, origin: str | None, view: DraftView) -> str | None:
        if origin in self.draft_channels:
            return origin
        targets = {t.account_id for t in view.targets}
        for channel, settings in self.draft_channels.items():
            if targets & set(settings.default_accounts):
                return channel
        return next(iter(self.draft_channels), None)

    # ------------------------------------------------------------ the slash command

    async def command(self, body: Body, command: Command, respond: Respond) -> None:
        if not await self.fresh(body):
            return
        actor = parse.actor(body)
        if command.name == "draft":
            await self.open_new_draft(body)
            return
        await asyncio.to_thread(self.drafts.member, actor)
        if command.name == "status" and command.args and command.args[0].lstrip("#").isdigit():
            view = await asyncio.to_thread(self.drafts.get, int(command.args[0].lstrip("#")))
            await respond(response_type="ephemeral", **render.status_message(view).kwargs())
        elif command.name in ("status", "mine"):
            items = await asyncio.to_thread(self.drafts.my_drafts, actor)
            msg = render.summaries(
                message("slack.list.mine"), items[:30], empty=message("slack.list.none")
            )
            await respond(response_type="ephemeral", **msg.kwargs())
        elif command.name == "pending":
            items = await asyncio.to_thread(self.drafts.awaiting, actor)
            msg = render.summaries(
                message("slack.list.pending"), items[:30], empty=message("slack.list.none")
            )
            await respond(response_type="ephemeral", **msg.kwargs())
        elif command.name in ("pause", "resume"):
            await self.pause_or_resume(actor, command, respond)

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
        account_id, reason = self._scope(command.args)
        who = mrkdwn(self.drafts.member(actor).name)
        if command.name == "pause":
            done = await asyncio.to_thread(
                self.publications.pause, actor, account_id=account_id, reason=reason
            )
            key = "slack.pause.started"
        else:
            done = await asyncio.to_thread(self.publications.resume, actor, account_id=account_id)
            key = "slack.pause.released"
        scope = (
            message("pause.scope_account", account=done.account_id)
            if done.account_id
            else message("pause.scope_all")
        )
        text = message(
            key, who=who, scope=scope, reason=mrkdwn(done.reason), count=len(done.publication_ids)
        )
        await respond(response_type="ephemeral", text=text, blocks=[render.section(text)])
        alerts = self.config.channels.alerts
        if alerts is not None and alerts.slack:
            await self.delivery.post(alerts.slack, render.note(text))

    def _scope(self, args: tuple[str, ...]) -> tuple[str | None, str]:
        if args and args[0] in self.directory.accounts:
            return args[0], " ".join(args[1:])
        if args and args[0].lower() in _ALL_ACCOUNTS:
            return None, " ".join(args[1:])
        return None, " ".join(args)

    # ------------------------------------------------------------ App Home

    async def home(self, body: Body) -> None:
        actor = parse.actor(body)
        view = await asyncio.to_thread(self.chat.home, actor)
        await self.client.views_publish(user_id=actor.user_id, view=render.home(view))
