"""The Teams adapter: ``POST /api/messages`` on the server of ``postgate serve``.

Each request is authenticated first (``bot.teams.auth``: the six Bot Connector checks and the
tenant; else 401 and nothing is stored), then:

- a ``message`` in a drafts channel (``channels.drafts[].teams``; every post arrives through the
  RSC permission ``ChannelMessage.Read.Group``, no @mention needed) becomes a draft whose card
  answers in the post's thread; a ``messageUpdate`` of it makes a new revision;
- an ``invoke`` ``adaptiveCard/action`` (a button, or a card's ``refresh``) is decided at once in
  the database and answered synchronously with the updated card; every other copy is updated
  (PUT) and whoever must hear of it told afterwards, in a task.

Messages and edits are answered 200 at once and worked in a task (``bot.chat.tasks``). A
replayed activity or a retried invoke (same id) decides nothing twice. Refusals are shown to the
person in Japanese; anything else gets an apology with an incident id that is in the log.
Nothing here logs a token, the app secret or a request body.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from bot.chat import actions, forms
from bot.chat.actions import NOTE_FIELD
from bot.chat.commands import DRAFT_QUERIES, POST_COMMANDS, DraftQueries
from bot.chat.context import ChatContext, attach, join
from bot.chat.flows import IncidentFlows
from bot.chat.port import (
    AlertCard,
    ApprovalCard,
    Card,
    DraftCard,
    IncidentBrief,
    Note,
    PeerRequest,
)
from bot.chat.tasks import Tasks
from bot.teams import forms as team_forms
from bot.teams import parse, render
from bot.teams.auth import Authenticator, Http, TeamsSettings, TokenSource, Unauthorized
from bot.teams.connector import PLATFORM, Connector, TeamsPort, thread_of
from bot.teams.parse import Activity, Click, FormIncomplete
from handlers.drafts import Actor
from handlers.views import DraftView, Result
from workflows.catalogue import Lang, message
from workflows.errors import Refusal, UnknownMember
from workflows.lifecycle import DraftState

log = logging.getLogger(__name__)

MESSAGES_PATH: Final = "/api/messages"
MAX_BODY: Final = 512 * 1024
SHUTDOWN_GRACE_SECONDS: Final = 10.0
MESSAGE_TYPE: Final = "application/vnd.microsoft.activity.message"
ERROR_TYPE: Final = "application/vnd.microsoft.error"

_DRAFT_VERBS: Final = frozenset({actions.SUBMIT, actions.WITHDRAW})
_PEER_VERBS: Final = frozenset({actions.PEER_CHECK, actions.PEER_SEND_BACK})
_APPROVAL_VERBS: Final = frozenset(
    {actions.APPROVE, actions.REQUEST_CHANGES, actions.REJECT, render.REFRESH}
)
_FORM_VERBS: Final = frozenset({actions.EDIT, actions.SETTINGS, *actions.FORM_ACTIONS})


def answer_card(card: dict[str, Any]) -> web.Response:
    return web.json_response({"statusCode": 200, "type": render.CARD_TYPE, "value": card})


def answer_text(text: str) -> web.Response:
    return web.json_response(
        {"statusCode": 200, "type": MESSAGE_TYPE, "value": render.markdown(text)}
    )


class TeamsBot:
    def __init__(self, *, settings: TeamsSettings, context: ChatContext) -> None:
        self.settings = settings
        self.clock = clock = context.clock
        self.drafts = context.drafts
        self.chat = context.chat
        self.http = Http()
        self.auth = Authenticator(settings=settings, http=self.http, clock=clock)
        tokens = TokenSource(settings=settings, http=self.http, clock=clock)
        self.connector = Connector(settings=settings, http=self.http, tokens=tokens)
        self.port = TeamsPort(
            connector=self.connector,
            directory=context.drafts.directory,
            tenant_id=settings.tenant_id,
        )
        joined = join(context, self.port, lambda channel: channel.teams)
        self.conversation = joined.conversation
        self.flows = joined.flows
        self.incident_flows = IncidentFlows(
            incidents=context.incidents,
            alerts=joined.alerts,
            everywhere=context.hub,
            draft_flows=self.flows,
        )
        self.commands = joined.commands
        self.results = joined.results  # 削除を依頼, 投稿済みと確認, 未投稿として再送
        self.queries = DraftQueries(context.drafts)
        self.tasks = Tasks(self.report, "Teams")

    # ------------------------------------------------------------ the endpoint

    async def handle(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        if not authorization:
            return web.json_response({"error": "unauthorized"}, status=401)
        if (request.content_length or 0) > MAX_BODY:
            return web.json_response({"error": "too large"}, status=413)
        try:
            activity = json.loads(await request.read())
        except ValueError:
            return web.json_response({"error": "unauthorized"}, status=401)
        if not isinstance(activity, dict):
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            await self.auth.check(authorization, activity)
        except Unauthorized as refused:
            log.warning("Teams request refused (401): %s", refused)
            return web.json_response({"error": "unauthorized"}, status=401)
        self.connector.learn(str(activity["serviceUrl"]))
        kind = activity.get("type")
        if kind == "invoke" and activity.get("name") == "adaptiveCard/action":
            return await self.invoke(activity)
        if kind == "message":
            self.tasks.spawn(self.on_message(activity), activity)
        elif kind == "messageUpdate":
            self.tasks.spawn(self.on_edit(activity), activity)
        return web.Response(status=200)

    async def fresh(self, key: str) -> bool:
        return await self.flows.fresh(f"teams:{key}")

    # ------------------------------------------------------------ channel posts

    def _draft_post(self, activity: Activity) -> str | None:
        """The drafts channel of a person's top-level post, else None."""
        channel = parse.channel_of(activity)
        if channel not in self.flows.draft_channels or parse.is_from_bot(activity):
            return None
        _, root = parse.where(activity)
        if activity.get("replyToId") or (root and root != activity.get("id")):
            return None  # a reply in a thread is conversation, not a draft
        return channel

    async def on_message(self, activity: Activity) -> None:
        if (activity.get("conversation") or {}).get("conversationType") == "personal":
            await self.on_personal(activity)
            return
        channel = self._draft_post(activity)
        if channel is None or not await self.fresh(f"activity:{activity.get('id')}"):
            return
        reference = {
            "serviceUrl": activity.get("serviceUrl"),
            "conversation": (activity.get("conversation") or {}).get("id"),
        }
        await self.flows.new_message(
            parse.actor(activity),
            channel,
            str(activity["id"]),
            parse.plain_text(activity),
            reference=reference,
        )

    async def on_personal(self, activity: Activity) -> None:
        """A 1:1 chat with postgate: the commands of ``bot.chat.commands``, as Slack's
        ``/postgate`` has them (anything else: the help)."""
        if not await self.fresh(f"activity:{activity.get('id')}"):
            return
        command = forms.command(parse.plain_text(activity))
        actor = parse.actor(activity)
        answer: Card
        if command.name in DRAFT_QUERIES:
            found = await self.queries.answer(actor, command)
            answer = found if isinstance(found, DraftCard) else Note("\n".join(found.lines()))
        elif command.name == "draft" and command.args:  # the text as written, line breaks kept
            text = parse.plain_text(activity).split(maxsplit=1)[1]
            view = await self.flows.draft_from_text(actor, text)
            answer = Note(message("teams.draft.written", draft=view.id))
        elif command.name in ("draft", "incident"):
            await self.open_form(actor, parse.where(activity)[0], command)
            return
        elif command.name in ("pause", "resume"):
            answer = Note(await self.flows.pause_or_resume(actor, command))
        elif command.name in POST_COMMANDS:
            answer = Note(await self.commands.run(actor, command))
        else:
            answer = Note(message("teams.help"))
        conversation, _ = parse.where(activity)
        await self.port.post(conversation, answer)

    async def on_edit(self, activity: Activity) -> None:
        channel = self._draft_post(activity)
        if channel is None:
            return
        text = parse.plain_text(activity)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        if not await self.fresh(f"edit:{activity.get('id')}:{digest}"):
            return
        await self.flows.message_edited(parse.actor(activity), channel, str(activity["id"]), text)

    # ------------------------------------------------------------ card actions

    async def invoke(self, activity: Activity) -> web.Response:
        """Decide, answer with the new card, then update the other copies in a task."""
        try:
            click = parse.click(activity)
            actor = parse.actor(activity)
            first = await self.fresh(f"invoke:{activity.get('id')}")
            if click.verb in actions.INCIDENT_ACTIONS:
                return await self.incident_click(actor, click, first=first)
            if click.verb == actions.RETRY:
                if not first:
                    return answer_text(message("chat.retry.already"))
                return answer_text(await self.flows.retry(actor, click.publication()))
            if click.verb in actions.RESULT_ACTIONS:
                return await self.result_click(actor, click, first=first)
            if click.verb in _FORM_VERBS:
                return await self.form_click(actor, click, first=first)
            if click.verb not in _DRAFT_VERBS | _PEER_VERBS | _APPROVAL_VERBS:
                return answer_text(message("teams.error.unknown_action"))
            return await self.draft_click(actor, click, first=first)
        except FormIncomplete as missing:
            return answer_text(str(missing))
        except UnknownMember:
            return answer_text(self.unknown(activity))
        except Refusal as refusal:
            return answer_text(message("slack.refusal", reason=str(refusal)))
        except Exception as error:  # the error boundary of a click
            return answer_text(self.apology(error, activity))

    async def draft_click(self, actor: Actor, click: Click, *, first: bool) -> web.Response:
        ref = click.draft()
        view = await asyncio.to_thread(self.drafts.get, ref.draft_id)
        if click.verb == render.REFRESH:
            return answer_card(await self.approval_copy(actor, view, ref.revision))
        result: Result | None = None
        if first:
            await asyncio.to_thread(self.drafts.member, actor)
            result = await self.decide(actor, click, view)
            view = result.draft
        if click.verb in _DRAFT_VERBS:
            card: Card = DraftCard(view)
        elif click.verb in _PEER_VERBS:
            card = PeerRequest(view, ref.revision)
        else:
            card = ApprovalCard(view, ref.revision, approvers=self.conversation.approvers(view))
        if result is not None:
            # The answer replaces the clicked card for the one who clicked; everyone else sees it
            # only when it is PUT, so every copy is refreshed, the clicked one too.
            note = message("slack.thread.withdrawn") if click.verb == actions.WITHDRAW else None
            self.tasks.spawn(self.conversation.deliver(result, note=note), None)
        return answer_card(render.activity(card, self.port.names)["attachments"][0]["content"])

    async def decide(self, actor: Actor, click: Click, view: DraftView) -> Result:
        ref = click.draft()
        flows = self.flows
        if click.verb == actions.SUBMIT:
            return await flows.submit(actor, ref.draft_id)
        if click.verb == actions.WITHDRAW:
            return await flows.withdraw(actor, ref.draft_id)
        if click.verb == actions.PEER_CHECK:
            return await flows.peer_check(actor, ref, parse.peer_form(click, view))
        if click.verb == actions.APPROVE:
            form = parse.approve_form(click, view, self.clock())
            return await flows.approve(actor, ref, form)
        kind = "reject" if click.verb == actions.REJECT else "request_changes"
        return await flows.decide_against(actor, ref, kind, parse.reason(click))

    async def approval_copy(self, actor: Actor, view: DraftView, revision: int) -> dict[str, Any]:
        """A card's refresh: the form for whoever may approve now, the status for others."""
        card = ApprovalCard(view, revision, approvers=self.conversation.approvers(view))
        open_ = view.state is DraftState.AWAITING_APPROVAL and revision == view.revision
        if open_ and actor.user_id in card.approvers:
            return render.approval_form(card)
        return render.approval_card(card)

    async def result_click(self, actor: Actor, click: Click, *, first: bool) -> web.Response:
        """削除を依頼, 投稿済みと確認, 未投稿として再送: the card under the message becomes what
        was done (the message's text stays)."""
        if not first:
            return answer_text(message("chat.result.already"))
        typed = click.text(NOTE_FIELD)
        done = await self.results.press(actor, click.verb, click.publication(), typed)
        return answer_card(render.adaptive([render.text_block(done)]))

    async def incident_click(self, actor: Actor, click: Click, *, first: bool) -> web.Response:
        target = click.incident()
        flows = self.incident_flows
        if first:
            if click.verb == actions.INCIDENT_ACKNOWLEDGE:
                await flows.acknowledge(actor, target.incident_id)
            elif click.verb in (actions.INCIDENT_TICK, actions.INCIDENT_UNTICK):
                done = click.verb == actions.INCIDENT_TICK
                await flows.tick(actor, target.incident_id, target.item_id or "", done=done)
            elif click.verb == actions.INCIDENT_ACTION:
                said = await flows.run_action(actor, target.incident_id, target.item_id or "")
                if said is not None and not said.said:
                    return answer_text(said.text)
            elif click.verb == actions.INCIDENT_RESOLVE:
                await flows.resolve(actor, target.incident_id, parse.note(click))
            else:
                await flows.reopen(actor, target.incident_id, parse.note(click))
        view = await asyncio.to_thread(flows.incidents.get, target.incident_id)
        return answer_card(render.alert_card(AlertCard(view)))

    # ------------------------------------------------------------ forms

    async def form_click(self, actor: Actor, click: Click, *, first: bool) -> web.Response:
        """A form opened from a draft's card (edit, settings), a form sent (those two, a new
        draft, an incident report), or a form's キャンセル. A form's values are read (and an
        incomplete one refused, the card left as the person filled it) before anything is
        decided; a retried invoke decides nothing twice."""
        if click.verb == actions.NEW_DRAFT:
            form = team_forms.draft_form(click, self.clock())
            if not first:
                return answer_text(message("teams.form.already_sent"))
            view = await self.flows.new_draft(actor, form, origin=None)
            return answer_card(team_forms.done(message("teams.draft.written", draft=view.id)))
        if click.verb == actions.INCIDENT_REPORT:
            report = team_forms.report(click)
            if not first:
                return answer_text(message("teams.form.already_sent"))
            incident, intro, link = await self.incident_flows.report(actor, report)
            return answer_card(team_forms.incident_brief(IncidentBrief(incident, intro, link)))
        ref = click.draft()
        if click.verb in (actions.SAVE_EDIT, actions.SAVE_SETTINGS):
            form = team_forms.draft_form(click, self.clock())
            if first:
                result, note = await self.flows.edit(actor, ref, form)
                # Every copy is updated, this one too: Teams shows the answer to the clicker only.
                self.tasks.spawn(self.conversation.deliver(result, note=note), None)
        await asyncio.to_thread(self.drafts.member, actor)
        view = await asyncio.to_thread(self.drafts.get, ref.draft_id)
        if click.verb == actions.EDIT:
            return answer_card(team_forms.edit_form(view))
        if click.verb == actions.SETTINGS:
            return answer_card(team_forms.settings_form(view, self.flows.accounts))
        return answer_card(render.draft_card(view))

    async def open_form(self, actor: Actor, conversation: str, command: forms.Command) -> None:
        """``draft`` without a text, or ``incident``, in a 1:1 chat: the form, as a card."""
        await asyncio.to_thread(self.drafts.member, actor)
        accounts = self.flows.accounts
        if command.name == "incident":
            card = team_forms.report_form(accounts)
        else:
            card = team_forms.new_draft_form(accounts, self.flows.default_targets())
        await self.connector.send(conversation, team_forms.form_activity(card))

    # ------------------------------------------------------------ the one error boundary

    def unknown(self, activity: Activity) -> str:
        who = (activity.get("from") or {}).get("aadObjectId", "-")
        return message("teams.unknown_member", aad=who)

    def apology(self, error: BaseException, activity: Activity | None) -> str:
        incident = secrets.token_hex(4)
        kind = (activity or {}).get("type", "-")
        log.error(
            "teams incident %s: %s while handling %s",
            incident,
            type(error).__name__,
            kind,
            exc_info=error,
        )
        return message("teams.error.apology", incident=incident)

    async def report(self, error: BaseException, activity: Activity | None) -> None:
        """What a message or an edit raised, told in its thread (nothing was changed)."""
        if isinstance(error, UnknownMember) and activity is not None:
            text = self.unknown(activity)
        elif isinstance(error, Refusal):
            text = message("slack.refusal", reason=str(error))
        else:
            text = self.apology(error, activity)
        if activity is None:
            return
        base, root = parse.where(activity)
        personal = (activity.get("conversation") or {}).get("conversationType") == "personal"
        where = base if personal else thread_of(base, root or str(activity.get("id")))
        try:
            await self.connector.send(where, render.activity(Note(text), self.port.names))
        except self.port.errors as lost:
            log.error("could not tell a Teams user: %s", self.port.describe(lost))

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self.connector.service_url is None:  # where the Bot Connector was last seen
            latest = await asyncio.to_thread(self.chat.latest_reference, PLATFORM)
            url = (latest or {}).get("serviceUrl")
            if isinstance(url, str):
                self.connector.learn(url)

    async def stop(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        await self.tasks.drain(grace)
        await self.http.close()


TEAMS_KEY: Final = web.AppKey("teams", TeamsBot)


def install(
    app: web.Application, context: ChatContext, environ: Mapping[str, str], lang: Lang
) -> TeamsBot | None:
    """Add Teams to the server of ``postgate serve``, or log (in ``lang``, the administrator's
    language) which variables would."""
    settings = TeamsSettings.from_env(environ)
    if settings is None:
        log.info(message("teams.log.disabled", lang))
        return None
    bot = TeamsBot(settings=settings, context=context)
    attach(app, TEAMS_KEY, bot, (MESSAGES_PATH, bot.handle))
    log.info(message("teams.log.enabled", lang, path=MESSAGES_PATH))
    return bot
