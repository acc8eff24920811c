"""The weekly digest: next week's plan and its gaps to the posting targets, in each section's
drafts channel on every chat platform.

A section's drafts channel is a ``channels.drafts[]`` entry whose ``default_accounts`` include an
account the section owns (app.yaml); the digest lists the posts of next week (Monday to Sunday) on
the accounts the section posts on or approves, as the calendar's section filter does, and each of
those accounts' gap to its ``cadence``. It goes out at ``digest.day`` / ``digest.at`` (Monday
09:00 by default), or at the first tick after it that week when postgate was down then.

Each digest is claimed in the database first (``first_time`` on a key of platform, channel,
section and week), so it is sent once a week however many replicas run and however often they
restart; the timer only decides when to look.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final
from urllib.parse import urlencode

from bot.chat.hub import ChatHub
from bot.chat.port import Note
from bot.chat.text import mrkdwn, short_when
from bot.config import AppConfig, ChatTarget
from handlers.drafts import Clock
from handlers.plan import Plan, WeekPlan, digest_week
from workflows.catalogue import message

log = logging.getLogger(__name__)

POSTS_LISTED: Final = 30  # a longer week ends with 「…ほか N 件」 (the calendar has them all)
WEEKDAYS: Final = "月火水木金土日"


def _channel_on(target: ChatTarget, platform: str) -> str | None:
    return {"slack": target.slack, "teams": target.teams}.get(platform)


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日({WEEKDAYS[day.weekday()]})"


def digest_text(plan: WeekPlan, calendar_url: str) -> str:
    """The digest as catalogue markup (Slack mrkdwn; Teams converts it)."""
    lines = [
        message(
            "chat.digest.title",
            start=_day(plan.start),
            end=_day(plan.end),
            section=mrkdwn(plan.section),
        )
    ]
    if plan.targets:
        lines.append(message("chat.digest.targets"))
        for target in plan.targets:
            key = "chat.digest.short" if target.gap else "chat.digest.met"
            lines.append(
                message(
                    key,
                    account=mrkdwn(target.account_name),
                    planned=target.planned,
                    wanted=target.wanted,
                    gap=target.gap,
                )
            )
    if plan.entries:
        lines.append(message("chat.digest.posts", count=len(plan.entries)))
        for entry in plan.entries[:POSTS_LISTED]:
            lines.append(
                message(
                    "chat.digest.post",
                    when=short_when(entry.post.at),
                    account=mrkdwn(entry.account_name),
                    kind=entry.kind.label(),
                    excerpt=mrkdwn(entry.excerpt),
                )
            )
        if len(plan.entries) > POSTS_LISTED:
            lines.append(message("chat.digest.more", count=len(plan.entries) - POSTS_LISTED))
    else:
        lines.append(message("chat.digest.none"))
    lines.append(message("chat.digest.link", url=calendar_url))
    return "\n".join(lines)


class WeeklyDigest:
    """Sends each section's digest once a week on every chat platform of the hub."""

    def __init__(
        self, *, hub: ChatHub, plan: Plan, config: AppConfig, clock: Clock, web_url: str
    ) -> None:
        self.hub = hub
        self.plan = plan
        self.settings = config.digest
        self.tz = plan.tz
        self.clock = clock
        self.web_url = web_url.rstrip("/")
        self.sections = _sections_by_channel(config)

    def recipients(self, platform: str) -> list[tuple[str, str]]:
        """(channel, section) of every section's drafts channel on ``platform``."""
        return [
            (channel, section)
            for target, sections in self.sections
            if (channel := _channel_on(target, platform))
            for section in sections
        ]

    def calendar_url(self, section: str, monday: date) -> str:
        query = urlencode({"view": "week", "date": monday.isoformat(), "section": section})
        return f"{self.web_url}/?{query}"

    async def tick(self) -> int:
        """Send the digests due now and not sent yet; how many were sent."""
        if not self.settings.enabled:
            return 0
        monday = digest_week(self.clock(), self.settings.day, self.settings.at, self.tz)
        if monday is None:
            return 0
        sent = 0
        plans: dict[str, WeekPlan] = {}
        for platform in list(self.hub.platforms.values()):
            port = platform.conversation.port
            for channel, section in self.recipients(port.platform):
                key = f"digest:{port.platform}:{channel}:{section}:{monday.isoformat()}"
                if not await asyncio.to_thread(self.hub.chat.first_time, key):
                    continue
                if section not in plans:
                    plans[section] = await asyncio.to_thread(self.plan.week, section, monday)
                text = digest_text(plans[section], self.calendar_url(section, monday))
                try:
                    await port.post(channel, Note(text))
                    sent += 1
                except port.errors as error:
                    log.error(
                        "%s: the weekly digest of %s for %s not delivered to %s: %s",
                        port.platform,
                        monday,
                        section,
                        channel,
                        port.describe(error),
                    )
        return sent


def _sections_by_channel(config: AppConfig) -> Sequence[tuple[ChatTarget, tuple[str, ...]]]:
    """Each drafts channel with the sections owning its default accounts (app.yaml order)."""
    owners: Mapping[str, str] = {a.id: a.owner_section for a in config.accounts}
    out = []
    for channel in config.channels.drafts:
        sections = tuple(dict.fromkeys(owners[a] for a in channel.default_accounts if a in owners))
        if sections:
            out.append((channel, sections))
    return out
