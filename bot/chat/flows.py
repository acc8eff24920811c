"""What happens after a chat request is accepted, whatever the platform: call one use case,
then show its outcome through the platform's ``Conversation``.

The use cases are synchronous database work, run in threads (``asyncio.to_thread``) so the event
loop keeps answering other requests; each commits its decision before any chat call is made, so
a slow or failing platform never loses one. Refusals propagate to the adapter's one error
boundary, which shows them to the person. A method returning a ``Result`` leaves its delivery to
the caller (``Conversation.deliver``): Teams answers the click with the new card first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.chat.alerts import ChatAlerts
from bot.chat.conversation import Conversation
from bot.chat.forms import ApproveForm, Command, DraftForm, DraftRef, PeerForm, ReportForm
from bot.chat.port import Note
from bot.chat.text import mrkdwn
from bot.config import DraftChannel
from handlers.chat import Purpose
from handlers.drafts import Actor, DraftUseCases, NewDraft
from handlers.incidents import ActionResult, Alerts, IncidentUseCases, IncidentView
from handlers.publishing import PublicationUseCases
from handlers.views import DraftView, Result
from workflows.catalogue import message
from workflows.org import Account

_ALL_ACCOUNTS = frozenset({"all", "全体", "すべて", "全て"})


class DraftFlows:
    """Drafts from chat: messages in a drafts channel, buttons, forms, the command."""

    def __init__(
        self,
        *,
        conversation: Conversation,
        drafts: DraftUseCases,
        publications: PublicationUseCases,
        draft_channels: Mapping[str, DraftChannel],
        accounts: Sequence[Account],
        alerts_channel: str | None,
    ) -> None:
        self.talk = conversation
        self.platform = conversation.platform
        self.chat = conversation.chat
        self.drafts = drafts
        self.publications = publications
        self.directory = drafts.directory
        self.draft_channels = dict(draft_channels)
        self.accounts = tuple(accounts)
        self.alerts_channel = alerts_channel

    async def fresh(self, key: str) -> bool:
        """False for a request already handled (a replay, a retried delivery)."""
        return await asyncio.to_thread(self.chat.first_time, key)

    async def _run(self, call: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
        return await asyncio.to_thread(call, *args, **kwargs)

    # ------------------------------------------------------------ messages in a drafts channel

    async def new_message(
        self,
        actor: Actor,
        channel: str,
        ts: str,
        text: str,
        *,
        note: str | None = None,
        reference: Mapping[str, Any] | None = None,
    ) -> DraftView:
        """A drafter's message becomes a draft; the card answers in its thread."""
        settings = self.draft_channels[channel]
        new = NewDraft(text, targets=settings.default_accounts, source=self.platform)
        view = (await self._run(self.drafts.create, actor, new)).draft
        await self.talk.remember(view, Purpose.SOURCE, channel, ts, reference=reference)
        await self.talk.show_draft(view, channel, thread_ts=ts, note=note)
        return view

    async def message_edited(self, actor: Actor, channel: str, ts: str, text: str) -> None:
        """The drafter edited their message: a new revision, checked again."""
        draft_id = await asyncio.to_thread(self.chat.draft_of_message, self.platform, channel, ts)
        if draft_id is None:
            return
        current = await asyncio.to_thread(self.drafts.get, draft_id)
        if text == current.text:
            return  # an unfurl or a thread reply changed the message, not its text
        result = await self._run(self.drafts.revise, actor, draft_id, text=text)
        await self.talk.deliver(result, note=revised_note(current, result.draft))

    # ------------------------------------------------------------ decisions

    async def submit(self, actor: Actor, draft_id: int) -> Result:
        return await self._run(self.drafts.submit, actor, draft_id)

    async def withdraw(self, actor: Actor, draft_id: int) -> Result:
        return await self._run(self.drafts.withdraw, actor, draft_id)

    async def approve(self, actor: Actor, ref: DraftRef, form: ApproveForm) -> Result:
        return await self._run(
            self.drafts.approve,
            actor,
            ref.draft_id,
            shown_revision=ref.revision,
            checklist=form.checklist,
            acknowledged=form.acknowledged,
            publish_at=form.publish_at,
            comment=form.comment,
        )

    async def peer_check(self, actor: Actor, ref: DraftRef, form: PeerForm) -> Result:
        return await self._run(
            self.drafts.peer_check,
            actor,
            ref.draft_id,
            shown_revision=ref.revision,
            checklist=form.checklist,
            comment=form.comment,
        )

    async def decide_against(self, actor: Actor, ref: DraftRef, kind: str, reason: str) -> Result:
        """Request changes (差し戻し) or reject (却下), with the reason."""
        call = self.drafts.request_changes if kind == "request_changes" else self.drafts.reject
        return await self._run(
            call, actor, ref.draft_id, shown_revision=ref.revision, reason=reason
        )

    async def revise(self, actor: Actor, ref: DraftRef, form: DraftForm) -> None:
        """The edit and settings forms: a new revision with what the form changed."""
        result, note = await self.edit(actor, ref, form)
        await self.talk.deliver(result, note=note)

    async def edit(self, actor: Actor, ref: DraftRef, form: DraftForm) -> tuple[Result, str]:
        """``revise`` without the delivery (Teams answers the click with the card first): the
        result and the note for the draft's thread."""
        current = await asyncio.to_thread(self.drafts.get, ref.draft_id)
        result = await self._run(
            self.drafts.revise,
            actor,
            ref.draft_id,
            text=form.text if form.text is not None else current.text,
            targets=form.targets,
            variants=form.variants,
            media=form.media,
            publish_at=form.publish_at,
            emergency=form.emergency,
        )
        return result, revised_note(current, result.draft)

    # ------------------------------------------------------------ publications

    async def retry(self, actor: Actor, publication_id: int) -> str:
        """再送する on a failed publication's notice: back in the queue (the use case refuses
        anyone but the author and the approvers, and a publication that is not failed); the
        thread says who did it. The text said."""
        done = (await asyncio.to_thread(self.publications.retry, actor, publication_id)).publication
        who = mrkdwn(self.drafts.member(actor).name)
        text = message("chat.retry.done", who=who, publication=done.id, account=done.account_id)
        await self.talk.tell(done.draft_id, text)
        await self.talk.refresh(await asyncio.to_thread(self.drafts.get, done.draft_id))
        return text

    # ------------------------------------------------------------ drafts made elsewhere

    async def new_draft(self, actor: Actor, form: DraftForm, *, origin: str | None) -> DraftView:
        """A draft written in a form: announced in a drafts channel, its card in that thread."""
        new = NewDraft(
            form.text or "",
            targets=form.targets or (),
            variants=form.variants or {},
            media=form.media or (),
            publish_at=form.publish_at,
            emergency=bool(form.emergency),
            source=self.platform,
        )
        result = await self._run(self.drafts.create, actor, new)
        await self.announce_draft(result.draft, actor, origin=origin)
        return result.draft

    async def draft_from_text(self, actor: Actor, text: str) -> DraftView:
        """``draft <本文>`` typed in a chat: a draft for the accounts of the first drafts
        channel, announced there with its card in that thread (change it from the card)."""
        origin = next(iter(self.draft_channels), None)
        form = DraftForm(text=text, targets=self.default_targets())
        return await self.new_draft(actor, form, origin=origin)

    def default_targets(self) -> tuple[str, ...]:
        """The accounts of a draft written outside a drafts channel (a chat with postgate):
        those of the first drafts channel."""
        first = next(iter(self.draft_channels.values()), None)
        return tuple(first.default_accounts) if first else ()

    async def announce_draft(
        self, view: DraftView, author: Actor, *, origin: str | None, note: str | None = None
    ) -> str:
        """A draft made outside a drafts channel (a form, an incident's notice): announced in a
        drafts channel (``origin`` if it is one, else one whose accounts it targets, else the
        author's DM), with its card in that thread. The channel."""
        channel = self._channel_for(origin, view)
        mention = self.talk.port.user_of(view.author_id)
        if channel is None:
            user = mention or (author.user_id if author.platform == self.platform else None)
            if user is None:
                raise ValueError(f"draft {view.id}: no drafts channel on {self.platform}")
            channel = await self.talk.port.open_dm(user)
        await self.talk.announce(view, channel, author=mention, note=note)
        return channel

    def _channel_for(self, origin: str | None, view: DraftView) -> str | None:
        if origin in self.draft_channels:
            return origin
        targets = {t.account_id for t in view.targets}
        for channel, settings in self.draft_channels.items():
            if targets & set(settings.default_accounts):
                return channel
        return next(iter(self.draft_channels), None)

    # ------------------------------------------------------------ the command

    async def pause_or_resume(self, actor: Actor, command: Command) -> str:
        """``pause [account|all] reason`` and ``resume [account]``: what was done (also said
        in the alerts channel)."""
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
        if self.alerts_channel:
            await self.talk.port.post(self.alerts_channel, Note(text))
        return text

    def _scope(self, args: tuple[str, ...]) -> tuple[str | None, str]:
        if args and args[0] in self.directory.accounts:
            return args[0], " ".join(args[1:])
        if args and args[0].lower() in _ALL_ACCOUNTS:
            return None, " ".join(args[1:])
        return None, " ".join(args)


def revised_note(before: DraftView, after: DraftView) -> str:
    key = "slack.thread.revised_review" if before.state != after.state else "slack.thread.revised"
    return message(key, revision=after.revision)


# ---------------------------------------------------------------- incidents


@dataclass(frozen=True, slots=True)
class Said:
    """What an incident click did: ``text`` for the person, ``said`` if the card's thread has
    it already (else the adapter tells the person directly)."""

    text: str
    said: bool
    card_channel: str | None = None


class IncidentFlows:
    """The work after an incident click, form or report, whatever the platform."""

    def __init__(
        self,
        *,
        incidents: IncidentUseCases,
        alerts: ChatAlerts,
        everywhere: Alerts,
        draft_flows: DraftFlows,
    ) -> None:
        self.incidents = incidents
        self.alerts = alerts  # this platform's cards (its thread is where notes are said)
        self.everywhere = everywhere  # every platform's cards: updated after each change
        self.draft_flows = draft_flows
        self.talk = draft_flows.talk

    def name(self, actor: Actor) -> str:
        return mrkdwn(self.incidents.member(actor).name)

    async def report(self, actor: Actor, form: ReportForm) -> tuple[IncidentView, str, str | None]:
        """A member's report becomes an incident with the same card as the monitors' (or, for
        a cause already on record, the reporter is shown that incident): the incident, the
        intro to show the reporter, and a link to its card."""
        view = await asyncio.to_thread(
            self.incidents.report,
            actor,
            kind=form.kind,
            account_id=form.account_id,
            url=form.url,
            notes=form.notes,
        )
        if view.is_new:
            await self.everywhere.incident_opened(view)
            intro = message("slack.incident.report.accepted", id=view.id)
        else:
            intro = message("slack.incident.report.known", id=view.id, state=view.state_label)
        return view, intro, await self.alerts.card_link(view.id)

    async def acknowledge(self, actor: Actor, incident_id: int) -> IncidentView:
        view = await asyncio.to_thread(self.incidents.acknowledge, actor, incident_id)
        await self.everywhere.incident_updated(view)
        await self.alerts.say(
            view.id, message("slack.incident.note.acknowledged", who=self.name(actor))
        )
        return view

    async def tick(self, actor: Actor, incident_id: int, step: str, *, done: bool) -> IncidentView:
        call = self.incidents.tick if done else self.incidents.untick
        view = await asyncio.to_thread(call, actor, incident_id, step)
        await self.everywhere.incident_updated(view)
        return view

    async def run_action(self, actor: Actor, incident_id: int, step: str) -> Said | None:
        """A step's own button: the notice draft (posted as any draft is, the first time) or
        the emergency pause of the account's scheduled posts."""
        result: ActionResult = await asyncio.to_thread(
            self.incidents.run_action, actor, incident_id, step
        )
        view = result.incident
        who = self.name(actor)
        if result.draft_id is not None:
            created = await self.talk.thread(result.draft_id) is None
            if created:
                draft = await asyncio.to_thread(self.draft_flows.drafts.get, result.draft_id)
                note = message("slack.incident.draft_note", incident=view.id, kind=view.kind_label)
                await self.draft_flows.announce_draft(draft, actor, origin=None, note=note)
            url = await self.alerts.draft_link(result.draft_id)
            link = message("slack.incident.thread_link", url=url) if url else ""
            key = "slack.incident.note.drafted" if created else "slack.incident.draft_exists"
            text = message(key, who=who, draft=result.draft_id, link=link)
            await self.everywhere.incident_updated(view)
            said = created and await self.alerts.say(view.id, text)
        elif result.pause is not None:
            account = result.pause.account_id or "-"
            text = message(
                "slack.incident.note.paused",
                who=who,
                account=mrkdwn(account),
                count=len(result.pause.publication_ids),
            )
            await self.everywhere.incident_updated(view)
            said = await self.alerts.say(view.id, text)
        else:
            return None
        card = await self.alerts.channel_card(view.id)
        return Said(text, said, card.channel if card else None)

    async def resolve(self, actor: Actor, incident_id: int, note: str) -> IncidentView:
        view = await asyncio.to_thread(self.incidents.resolve, actor, incident_id, note)
        await self.everywhere.incident_updated(view)
        await self.alerts.say(
            view.id,
            message("slack.incident.note.resolved", who=self.name(actor), note=mrkdwn(note)),
        )
        return view

    async def reopen(self, actor: Actor, incident_id: int, reason: str) -> IncidentView:
        view = await asyncio.to_thread(self.incidents.reopen, actor, incident_id, reason)
        await self.everywhere.incident_updated(view)
        await self.alerts.say(
            view.id,
            message("slack.incident.note.reopened", who=self.name(actor), reason=mrkdwn(reason)),
        )
        return view
