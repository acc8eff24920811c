"""The Slack app manifest for ``postgate slack manifest``: paste it into "Create New App → From
an app manifest" (https://api.slack.com/apps) and the app has every scope, event, the slash
command, interactivity and the Home tab postgate uses."""

from __future__ import annotations

import json
from typing import Any

import yaml

from bot.slack import ids
from bot.slack.app import EVENTS_PATH

# What postgate calls, and why (the README lists the same).
BOT_SCOPES = (
    "chat:write",  # the draft's card and thread, approval cards, results, ephemeral refusals
    "im:write",  # approval cards, incident alerts and reminders by DM (conversations.open)
    "commands",  # /postgate
    "channels:history",  # drafters' messages (and their edits) in public drafts channels
    "groups:history",  # ... and in private ones
)
BOT_EVENTS = ("app_home_opened", "message.channels", "message.groups")


def manifest(*, mode: str, url: str | None, organisation: str | None = None) -> dict[str, Any]:
    """``mode``: "socket" (no public URL) or "http" (``url`` is the server's public base URL)."""
    if mode not in ("socket", "http"):
        raise ValueError(f"mode must be socket or http, not {mode!r}")
    if mode == "http" and not url:
        raise ValueError("HTTP mode needs the server's public URL (--url https://…)")
    endpoint = url.rstrip("/") + EVENTS_PATH if mode == "http" and url else None
    description = "投稿案の自動チェック・承認・予約投稿" + (
        f"（{organisation}）" if organisation else ""
    )
    command: dict[str, Any] = {
        "command": ids.COMMAND,
        "description": "投稿案の作成・状況・承認待ち・緊急停止・インシデントの報告",
        "usage_hint": "draft | status [番号] | mine | pending | pause | resume | incident | help",
        "should_escape": False,
    }
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if endpoint:
        command["url"] = endpoint
        events["request_url"] = endpoint
        interactivity["request_url"] = endpoint
    return {
        "display_information": {
            "name": "postgate",
            "description": description,
            "background_color": "#1d5c3a",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,  # approval cards arrive as DMs from the app
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "postgate", "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": mode == "socket",
            "token_rotation_enabled": False,
        },
    }


def dump(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
