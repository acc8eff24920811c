"""Slack text in and out: message markup to plain text, plain text to safe mrkdwn, Block Kit limits.

A drafter's message arrives in Slack's markup (``<https://…|label>``, ``<@U123>``, ``<!here>``,
``&amp;``); the draft stores the plain text that will be published. Anything postgate shows back
(previews, quotes) is escaped and has its mass mentions neutralised, so a draft saying
``@here`` never pings a channel when the approval card is posted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Final

from bot.chat.text import TOKYO, mrkdwn, neutralise, short_when, when
from workflows.org import Directory

__all__ = ["TOKYO", "mrkdwn", "neutralise", "short_when", "when"]


# Block Kit limits (https://api.slack.com/reference/block-kit).
SECTION_TEXT: Final = 3000
BLOCKS_PER_MESSAGE: Final = 50
BLOCKS_PER_VIEW: Final = 100
BUTTON_VALUE: Final = 2000
OPTION_TEXT: Final = 75
OPTIONS_PER_CHECKBOXES: Final = 10
PLAIN_INPUT: Final = 3000
HEADER_TEXT: Final = 150
VIEW_TITLE: Final = 24
PRIVATE_METADATA: Final = 3000
MESSAGE_TEXT: Final = 4000  # the notification fallback; Slack truncates long ones anyway
# Slack refuses a message whose blocks hold more than about 13,000 characters in all
# (msg_blocks_too_long; undocumented, slackapi/bolt-js#2509), whatever the per-block limits.
BLOCKS_TEXT: Final = 11_000

_TOKEN = re.compile(r"<([^<>]*)>")


def slack_length(text: str) -> int:
    """Length as Slack counts it (UTF-16 code units: an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def plain_from_slack(text: str, directory: Directory | None = None) -> str:
    """A Slack message's text as the plain text to publish: links as typed, mentions as names."""

    def token(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            if label:
                return f"@{label}"
            member = directory.by_slack_user(target[1:]) if directory else None
            return f"@{member.name}" if member else target
        if target.startswith("#"):
            return f"#{label}" if label else target
        if target.startswith("!"):
            special = target[1:]
            if special in ("here", "channel", "everyone"):
                return f"@{special}"
            if label:  # <!subteam^S1|@team>, <!date^…|fallback>
                return label
            return f"@{special.split('^', 1)[-1]}" if special.startswith("subteam^") else ""
        if not label:
            return target
        if target.startswith("mailto:"):
            return label
        bare_url = _strip_scheme(target).rstrip("/")
        if _strip_scheme(label).rstrip("/") == bare_url:
            return label
        return f"{label} {target}"

    return _unescape(_TOKEN.sub(token, text))


def _strip_scheme(url: str) -> str:
    return re.sub(r"^[a-z]+://", "", url, flags=re.IGNORECASE)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain(text: str) -> str:
    """User text for a plain_text object (never parsed for mentions; mass mentions broken all
    the same, since the same string may end up in a notification)."""
    return neutralise(text)


def truncate(text: str, limit: int) -> str:
    if slack_length(text) <= limit:
        return text
    out = []
    used = 0
    for char in text:
        size = slack_length(char)
        if used + size > limit - 1:
            break
        out.append(char)
        used += size
    return "".join(out) + "…"


def split(text: str, limit: int = SECTION_TEXT, render: Callable[[str], str] = plain) -> list[str]:
    """``text`` rendered by ``render`` in pieces of at most ``limit`` (Slack) characters each,
    cut at line ends where possible. Empty text gives no pieces."""
    pieces: list[str] = []
    current = ""
    for line in _lines_within(text, limit, render):
        candidate = current + line
        if current and slack_length(render(candidate)) > limit:
            pieces.append(render(current))
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(render(current))
    return pieces


def _lines_within(text: str, limit: int, render: Callable[[str], str]) -> Iterator[str]:
    """The lines of ``text`` (with their newlines), any line too long alone cut into parts."""
    for line in text.splitlines(keepends=True):
        if slack_length(render(line)) <= limit:
            yield line
            continue
        part = ""
        for char in line:
            if part and slack_length(render(part + char)) > limit:
                yield part
                part = ""
            part += char
        if part:
            yield part
