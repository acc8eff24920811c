"""The port every chat adapter implements, and the cards it is asked to show.

The orchestration (``bot.chat.conversation``, ``alerts``, ``jobs``, ``flows``) decides who is told
what; an adapter only renders a ``Card`` in its platform's format and moves it over its transport.
A card names people by their platform user id (``ChatPort.user_of`` maps a member to it).

Texts inside cards (``Note.text``, intros, reasons) are catalogue text in the mrkdwn-like markup
shared by the catalogue (``*bold*``, ``<url|label>``, ``:emoji:``), with user-typed parts escaped
by ``bot.chat.text.markup``; an adapter whose platform reads other markup converts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from handlers.incidents import IncidentView, RecipientView
from handlers.views import DraftView


@dataclass(frozen=True, slots=True)
class DraftCard:
    """The draft in its thread: facts, findings, texts, what its author can do."""

    view: DraftView
    note: str | None = None
    buttons: bool = True  # False: its state shown to one person (the ``status`` command)


@dataclass(frozen=True, slots=True)
class Announcement:
    """A draft made outside a drafts channel, announced there (its card goes in the thread)."""

    view: DraftView
    author: str | None  # the author's platform user id, to mention


@dataclass(frozen=True, slots=True)
class PeerRequest:
    """The thread's request to colleagues for a peer check of ``revision``."""

    view: DraftView
    revision: int
    peers: tuple[str, ...] = ()  # platform user ids to mention while it is open


@dataclass(frozen=True, slots=True)
class ApprovalCard:
    """One copy of the chief's card for ``revision`` (buttons while it awaits approval)."""

    view: DraftView
    revision: int
    thread_link: str | None = None
    intro: str | None = None
    approvers: tuple[str, ...] = ()  # platform user ids who may act (Teams: refresh.userIds)


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a note: ``action`` (``bot.chat.actions``) on the publication ``target``."""

    label: str
    action: str
    target: int


@dataclass(frozen=True, slots=True)
class Note:
    """A short message in a thread or a DM, mentioning ``mentions`` (platform user ids).
    ``field``: the label of one text box shown above the buttons (a reason, a URL); what is
    typed there comes back with the click (``bot.chat.results``)."""

    text: str
    mentions: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()
    field: str | None = None


@dataclass(frozen=True, slots=True)
class AlertCard:
    """One copy of an incident's alert card: the channel's (``everyone``) or a recipient's."""

    view: IncidentView
    everyone: bool = False
    recipient: RecipientView | None = None
    draft_links: Mapping[int, str] = field(default_factory=dict)
    mentions: tuple[str, ...] = ()  # platform user ids to mention in the channel's copy


@dataclass(frozen=True, slots=True)
class IncidentReminder:
    text: str
    incident_id: int
    link: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentBrief:
    """What a reporter is shown about the incident their report opened (or matched)."""

    view: IncidentView
    intro: str
    link: str | None = None


Card = (
    DraftCard
    | Announcement
    | PeerRequest
    | ApprovalCard
    | Note
    | AlertCard
    | IncidentReminder
    | IncidentBrief
)


class ChatPort(Protocol):
    """One chat platform as the orchestration sees it.

    ``channel`` is a Slack channel id or a Teams conversation id; ``ts`` a Slack message ts or a
    Teams activity id. ``errors`` are what the transport raises when the platform refuses or
    cannot be reached: the orchestration logs them per message and goes on with the others."""

    @property
    def platform(self) -> str: ...

    @property
    def errors(self) -> tuple[type[Exception], ...]: ...

    def user_of(self, member_id: str) -> str | None:
        """The member's user id on this platform (None: they have none in app.yaml)."""
        ...

    def describe(self, error: Exception) -> str:
        """What went wrong, for the log (never a token or a URL with a secret)."""
        ...

    async def post(self, channel: str, card: Card, *, thread: str | None = None) -> str:
        """Post ``card`` in ``channel`` (in the thread of ``thread`` when given); its ts."""
        ...

    async def update(self, channel: str, ts: str, card: Card, *, thread: str | None = None) -> None:
        """Replace the message ``ts`` (a reply in the thread of ``thread``) with ``card``."""
        ...

    async def open_dm(self, user: str) -> str:
        """The direct conversation with ``user`` (opened if need be)."""
        ...

    async def permalink(self, channel: str, ts: str) -> str | None:
        """A link to a message, or None when the platform gives none."""
        ...
