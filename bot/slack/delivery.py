"""Slack's ``ChatPort``: cards rendered as Block Kit and moved with the Web API.

Every message postgate may need again is remembered by the orchestration (``bot.chat``) as
channel + ts, so after a decision every copy of a card is updated with ``chat.update`` from the
database — never through ``response_url``, which expires.
"""

from __future__ import annotations

import logging
from typing import Final

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import port as cards
from bot.chat.port import Card
from bot.slack import incident_render, render
from bot.slack.render import SlackMessage
from workflows.org import Directory

log = logging.getLogger(__name__)
PLATFORM: Final = "slack"


def slack_error(error: BaseException) -> str:
    """The error code Slack answered (never the request: it may carry a token or a URL)."""
    if not isinstance(error, SlackApiError):
        return type(error).__name__
    response = error.response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http {getattr(response, 'status_code', '?')}"


def render_card(card: Card) -> SlackMessage:
    """A neutral card as Block Kit."""
    if isinstance(card, cards.DraftCard):
        return render.draft_card(card.view, buttons=card.buttons, note=card.note)
    if isinstance(card, cards.Announcement):
        return render.new_draft_announcement(card.view, card.author)
    if isinstance(card, cards.PeerRequest):
        return render.peer_request(card.view, card.revision, card.peers)
    if isinstance(card, cards.ApprovalCard):
        return render.approval_card(
            card.view,
            card_revision=card.revision,
            thread_link=card.thread_link,
            intro=card.intro,
        )
    if isinstance(card, cards.Note):
        return render.note(
            card.text, mentions=card.mentions, buttons=card.buttons, field=card.field
        )
    if isinstance(card, cards.AlertCard):
        return incident_render.alert_card(
            card.view,
            everyone=card.everyone,
            recipient=card.recipient,
            draft_links=card.draft_links,
        )
    if isinstance(card, cards.IncidentReminder):
        return incident_render.reminder(card.text, card.incident_id, link=card.link)
    return incident_render.brief(card.view, card.intro, link=card.link)


class SlackPort:
    """``bot.chat.port.ChatPort`` over Slack's Web API."""

    platform: Final = PLATFORM
    errors: Final = (SlackApiError, aiohttp.ClientError, TimeoutError)

    def __init__(self, *, client: AsyncWebClient, directory: Directory) -> None:
        self.client = client
        self.directory = directory

    def user_of(self, member_id: str) -> str | None:
        member = self.directory.member(member_id)
        return member.slack_user_id if member else None

    def describe(self, error: Exception) -> str:
        return slack_error(error)

    async def post(self, channel: str, card: Card, *, thread: str | None = None) -> str:
        return await self.post_message(channel, render_card(card), thread=thread)

    async def post_message(
        self, channel: str, msg: SlackMessage, *, thread: str | None = None
    ) -> str:
        response = await self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            unfurl_links=False,
            unfurl_media=False,
            **msg.kwargs(),
        )
        return str(response["ts"])

    async def update(self, channel: str, ts: str, card: Card, *, thread: str | None = None) -> None:
        await self.client.chat_update(channel=channel, ts=ts, **render_card(card).kwargs())

    async def open_dm(self, user: str) -> str:
        response = await self.client.conversations_open(users=user)
        return str(response["channel"]["id"])

    async def permalink(self, channel: str, ts: str) -> str | None:
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError as error:
            log.warning("no permalink for %s/%s: %s", channel, ts, slack_error(error))
            return None
        link = response.get("permalink")
        return str(link) if link else None

    async def ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        msg: SlackMessage | None = None,
    ) -> None:
        """Only ``user`` sees it: ``text`` in a section, or ``msg`` when given."""
        shown = msg or SlackMessage(text, [render.section(text)])
        await self.client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=thread_ts, **shown.kwargs()
        )
