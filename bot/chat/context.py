"""What every chat adapter is built from, and the part of it that is the same on every platform.

An adapter (``bot.slack``, ``bot.teams``) brings only its port (how to post, reply, update, open
a DM) and which of a channel entry's ids is its own; ``join`` builds the rest — the
conversation, the draft flows, the incident alerts — and adds the platform to the hub.
``attach`` puts the adapter on the server of ``postgate serve`` and starts and stops it with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from aiohttp import web

from bot.chat.alerts import ChatAlerts
from bot.chat.commands import CheckNow, PostCommands
from bot.chat.conversation import Conversation
from bot.chat.flows import DraftFlows
from bot.chat.hub import ChatHub, Platform
from bot.chat.jobs import ChatJobs, ChatNotifier
from bot.chat.port import ChatPort
from bot.chat.results import ResultButtons
from bot.config import AppConfig, ChatTarget
from handlers.chat import ChatUseCases
from handlers.deletions import DeletionUseCases
from handlers.drafts import Clock, DraftUseCases
from handlers.incidents import IncidentUseCases
from handlers.publishing import PublicationUseCases

# Which of a channel entry's ids belongs to the platform (``lambda c: c.slack``).
ChannelId = Callable[[ChatTarget], str | None]


@dataclass(frozen=True)
class ChatContext:
    """The organisation, the use cases, the hub and the clock every adapter is built from."""

    config: AppConfig
    drafts: DraftUseCases
    chat: ChatUseCases
    publications: PublicationUseCases
    incidents: IncidentUseCases
    deletions: DeletionUseCases
    hub: ChatHub
    clock: Clock
    check_now: CheckNow | None = None  # one monitor poll now (``Monitor.run_now``)


@dataclass(frozen=True)
class Joined:
    """One platform's share of the orchestration, built over its port."""

    conversation: Conversation
    flows: DraftFlows
    alerts: ChatAlerts
    commands: PostCommands
    alerts_channel: str | None
    results: ResultButtons


def join(context: ChatContext, port: ChatPort, channel_id: ChannelId) -> Joined:
    """Build a platform's conversation, flows and alerts over ``port`` and add it to the hub."""
    channels = context.config.channels
    approvals, alerts = channels.approvals, channels.alerts
    conversation = Conversation(
        port=port,
        chat=context.chat,
        directory=context.drafts.directory,
        approvals_channel=channel_id(approvals) if approvals else None,
        clock=context.clock,
        others=lambda: [p.conversation for p in context.hub.platforms.values()],
    )
    alerts_channel = channel_id(alerts) if alerts else None
    flows = DraftFlows(
        conversation=conversation,
        drafts=context.drafts,
        publications=context.publications,
        draft_channels={cid: c for c in channels.drafts if (cid := channel_id(c))},
        accounts=context.config.accounts,
        alerts_channel=alerts_channel,
    )
    chat_alerts = ChatAlerts(
        conversation=conversation, incidents=context.incidents, alerts_channel=alerts_channel
    )
    context.hub.add(
        Platform(
            conversation=conversation,
            jobs=ChatJobs(conversation=conversation, drafts=context.drafts),
            notifier=ChatNotifier(
                conversation=conversation, drafts=context.drafts, alerts_channel=alerts_channel
            ),
            alerts=chat_alerts,
        )
    )
    commands = PostCommands(
        conversation=conversation,
        publications=context.publications,
        deletions=context.deletions,
        drafts=context.drafts,
        check_now=context.check_now,
    )
    results = ResultButtons(commands=commands)
    return Joined(conversation, flows, chat_alerts, commands, alerts_channel, results)


class Adapter(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


A = TypeVar("A", bound=Adapter)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def attach(
    app: web.Application, key: web.AppKey[A], adapter: A, route: tuple[str, Handler] | None
) -> A:
    """Put ``adapter`` on the server of ``postgate serve``: under ``key``, answering POSTs at
    ``route`` (path, handler) if it has one, started and stopped with the server."""
    app[key] = adapter
    if route is not None:
        app.router.add_post(*route)

    async def on_startup(_app: web.Application) -> None:
        await adapter.start()

    async def on_cleanup(_app: web.Application) -> None:
        await adapter.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return adapter
