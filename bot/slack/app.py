"""The Slack app: settings from the environment, the bolt AsyncApp, its transport, its one error
boundary and the tasks it runs after acknowledging. The orchestration it shares with Teams
(``bot.chat``) is added to the ``ChatHub``, which runs the timed jobs.

Two ways to connect (both with ``SLACK_BOT_TOKEN``):

- HTTP mode (``SLACK_SIGNING_SECRET``): events, the slash command and interactivity all arrive
  at ``POST /slack/events`` on the server of ``postgate serve``; bolt verifies every signature
  (401 for a bad one or a timestamp more than 300 s off) before any listener runs.
- Socket Mode (``SLACK_APP_TOKEN``, an ``xapp-`` token): postgate dials out to Slack over a
  WebSocket, so no public URL is needed — what a city hall behind a firewall needs.

``SLACK_API_URL`` sets the Web API base (default ``https://slack.com/api/``; GovSlack:
``https://slack-gov.com/api/``). Rate-limited calls are retried after ``Retry-After``.

Nothing here logs a token, the signing secret, a request body or a ``response_url``: bolt's and
the SDK's loggers are held at WARNING (at INFO bolt logs whole bodies, ``response_url`` included).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.context import ChatContext, attach, join
from bot.chat.flows import IncidentFlows as CoreIncidentFlows
from bot.chat.forms import BadPayload
from bot.chat.tasks import Tasks
from bot.proxy import proxy_for
from bot.slack import listeners, parse, render
from bot.slack.delivery import SlackPort, slack_error
from bot.slack.flows import Flows
from bot.slack.incidents import IncidentFlows
from workflows.catalogue import Lang, message
from workflows.errors import Refusal

log = logging.getLogger(__name__)

DEFAULT_API_URL: Final = "https://slack.com/api/"
EVENTS_PATH: Final = "/slack/events"
QUIET_LOGGERS: Final = ("slack_bolt", "slack_sdk")
SHUTDOWN_GRACE_SECONDS: Final = 10.0


@dataclass(frozen=True)
class SlackSettings:
    """The Slack part of the environment. Secrets never appear in ``repr``."""

    bot_token: str = field(repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    api_url: str = DEFAULT_API_URL
    proxy: str | None = None  # the outbound proxy for the Web API (HTTPS_PROXY, NO_PROXY)

    @property
    def mode(self) -> str:
        return "socket" if self.app_token else "http"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SlackSettings | None:
        """None (Slack off, and the log says which variables turn it on) unless
        ``SLACK_BOT_TOKEN`` and either ``SLACK_APP_TOKEN`` or ``SLACK_SIGNING_SECRET`` are set."""
        token = environ.get("SLACK_BOT_TOKEN", "")
        app_token = environ.get("SLACK_APP_TOKEN", "")
        secret = environ.get("SLACK_SIGNING_SECRET", "")
        if not token or not (app_token or secret):
            return None
        api_url = environ.get("SLACK_API_URL") or DEFAULT_API_URL
        return cls(
            bot_token=token,
            signing_secret=secret,
            app_token=app_token,
            api_url=api_url if api_url.endswith("/") else api_url + "/",
            proxy=proxy_for(api_url, environ),
        )


def quiet_slack_loggers() -> logging.Logger:
    """Hold bolt's and the SDK's loggers at WARNING; return the base logger for bolt."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return logging.getLogger("slack_bolt")


def web_client(settings: SlackSettings) -> AsyncWebClient:
    client = AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        proxy=settings.proxy,
        logger=logging.getLogger("slack_sdk.web.async_client"),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
        ],
    )
    client.proxy = settings.proxy  # the SDK falls back to HTTPS_PROXY even where NO_PROXY says no
    return client


class SlackBot:
    """The bolt app with its listeners, its flows and its port (``SlackPort``); the
    orchestration it shares with Teams is added to the ``ChatHub``."""

    def __init__(self, *, settings: SlackSettings, context: ChatContext) -> None:
        self.settings = settings
        self.clock = context.clock
        self.client = web_client(settings)
        self.app = AsyncApp(
            name="postgate.slack",  # bolt sets this logger to its own level: not "postgate"
            logger=quiet_slack_loggers(),
            client=self.client,
            signing_secret=settings.signing_secret,
            process_before_response=False,
        )
        self.port = SlackPort(client=self.client, directory=context.drafts.directory)
        joined = join(context, self.port, lambda channel: channel.slack)
        self.conversation = joined.conversation
        self.results = joined.results  # 削除を依頼, 投稿済みと確認, 未投稿として再送
        core = joined.flows
        self.flows = Flows(
            core=core,
            commands=joined.commands,
            drafts=context.drafts,
            chat=context.chat,
            client=self.client,
        )
        self.incident_flows = IncidentFlows(
            core=CoreIncidentFlows(
                incidents=context.incidents,
                alerts=joined.alerts,
                everywhere=context.hub,
                draft_flows=core,
            ),
            fresh=self.flows.fresh,
            client=self.client,
            tell=self.tell,
        )
        self.tasks = Tasks(self.report, "Slack")
        self._socket: AsyncSocketModeHandler | None = None
        listeners.register(self.app, self)
        self.app.error(self.on_bolt_error)

    # ------------------------------------------------------------ work after the ack

    def spawn(self, work: Coroutine[Any, Any, None], body: parse.Body) -> None:
        """Run ``work`` after the acknowledgement, reporting what it raises."""
        self.tasks.spawn(work, body)

    async def settle(self) -> None:
        await self.tasks.settle()

    # ------------------------------------------------------------ the one error boundary

    async def on_bolt_error(self, error: Exception, body: parse.Body) -> BoltResponse:
        """bolt's @app.error: errors raised before the acknowledgement (a malformed payload)."""
        await self.report(error, body)
        return BoltResponse(status=200, body="")

    async def report(self, error: BaseException, body: parse.Body) -> None:
        """A refusal is told to the person in Japanese (nothing changed, and the use case has
        audited it); anything else gets an apology with an incident id that is in the log."""
        if isinstance(error, Refusal):
            text = render.refusal(str(error))
        else:
            incident = secrets.token_hex(4)
            log.error(
                "slack incident %s: %s while handling %s",
                incident,
                type(error).__name__,
                describe(body),
                exc_info=error,
            )
            text = message("slack.error.apology", incident=incident)
        await self.tell(body, text)

    async def tell(
        self, body: parse.Body, text: str, msg: render.SlackMessage | None = None
    ) -> None:
        """An ephemeral message to whoever made the request, where they made it (else a DM):
        ``text`` in a section, or ``msg`` (with ``text`` as its fallback) when given."""
        try:
            user = parse.actor(body).user_id
        except BadPayload:
            return
        channel, thread_ts = _where(body)
        shown = msg or render.note(text)
        try:
            if channel:
                try:
                    await self.port.ephemeral(channel, user, text, thread_ts=thread_ts, msg=msg)
                    return
                except SlackApiError as error:  # e.g. a command in a channel postgate is not in
                    log.info("ephemeral in %s refused: %s", channel, slack_error(error))
            url = body.get("response_url")
            if isinstance(url, str) and url:
                await AsyncRespond(response_url=url)(
                    response_type="ephemeral", replace_original=False, **shown.kwargs()
                )
                return
            await self.port.post_message(await self.port.open_dm(user), shown)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            detail = (
                slack_error(error) if isinstance(error, SlackApiError) else type(error).__name__
            )
            log.error("could not tell a Slack user about a %s: %s", describe(body), detail)

    # ------------------------------------------------------------ transports and the timer

    async def handle_http(self, request: web.Request) -> web.Response:
        """POST /slack/events: bolt verifies the signature, dispatches and answers.

        A timestamp that is not a number is refused here: bolt's verifier would raise on it,
        and an unverified request must never reach a listener or the error boundary."""
        if not request.headers.get("X-Slack-Request-Timestamp", "").isdigit():
            return web.json_response({"error": "invalid request"}, status=401)
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def start(self) -> None:
        if self.settings.mode == "socket":
            self._socket = AsyncSocketModeHandler(self.app, self.settings.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]

    async def stop(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Stop receiving; give the work already acknowledged ``grace`` seconds to finish (its
        decisions are committed already: only Slack messages about them can be lost)."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
        await self.tasks.drain(grace)


def describe(body: parse.Body) -> str:
    """What a request was, without any of its values (they may hold a ``response_url``)."""
    kind = str(body.get("type") or ("command" if "command" in body else "request"))
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        return f"block_actions {actions[0].get('action_id', '?')}"
    if kind == "view_submission":
        return f"view_submission {(body.get('view') or {}).get('callback_id', '?')}"
    if kind == "event_callback":
        event = body.get("event") or {}
        return f"event {event.get('type', '?')}/{event.get('subtype', '-')}"
    if kind == "command":
        return f"command {body.get('command', '?')}"
    return kind


def _where(body: parse.Body) -> tuple[str | None, str | None]:
    """(channel, thread ts) where the person made the request."""
    if body.get("type") == "view_submission":
        meta = parse.modal_meta(body)
        return meta.channel, meta.thread_ts
    event = body.get("event")
    if isinstance(event, Mapping):
        edited = event.get("message")
        ts = edited.get("ts") if isinstance(edited, Mapping) else event.get("ts")
        return event.get("channel"), ts
    if body.get("type") == "block_actions":
        return parse.where_clicked(body)
    channel = body.get("channel_id")
    return (channel if isinstance(channel, str) else None), None


# ---------------------------------------------------------------- wiring into postgate serve

SLACK_KEY: Final = web.AppKey("slack", SlackBot)


def install(
    app: web.Application, context: ChatContext, environ: Mapping[str, str], lang: Lang
) -> SlackBot | None:
    """Add Slack to the server of ``postgate serve``, or log which variables would."""
    settings = SlackSettings.from_env(environ)
    if settings is None:
        log.warning(message("slack.log.disabled", lang))
        return None
    bot = SlackBot(settings=settings, context=context)
    http = settings.mode == "http"  # Socket Mode needs no route: it connects out
    attach(app, SLACK_KEY, bot, (EVENTS_PATH, bot.handle_http) if http else None)
    log.info(
        message(
            "slack.log.enabled", lang, mode=settings.mode, path=EVENTS_PATH, api=settings.api_url
        )
    )
    return bot
