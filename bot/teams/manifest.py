"""The Teams app package the city's Teams administrator uploads to the org catalog:
``manifest.json`` (Teams app manifest schema 1.19), ``ja-jp.json`` (the Japanese names and
descriptions) and two icons drawn here (color 192×192, outline 32×32).

The bot works in teams (channels: drafts, approvals, alerts) and in personal chats (approval
cards to the chiefs). The resource-specific consent ``ChannelMessage.Read.Group`` lets it read
every post of the channels it is in, so a draft needs no @mention; the team owner consents when
adding the app.
"""

from __future__ import annotations

import io
import json
import re
import struct
import uuid
import zipfile
import zlib
from typing import Any, Final
from urllib.parse import urlsplit

MANIFEST_VERSION: Final = "1.19"
SCHEMA: Final = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.19/MicrosoftTeams.schema.json"
)
GUID: Final = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
GREEN: Final = (0x2E, 0x7D, 0x32)
WHITE: Final = (0xFF, 0xFF, 0xFF)


def manifest(*, app_id: str, url: str, version: str = "1.0.0") -> dict[str, Any]:
    """The manifest for the bot ``app_id`` served at ``url`` (https; ``ValueError`` if not)."""
    if not GUID.match(app_id):
        raise ValueError(
            f"--app-id {app_id!r} はアプリ ID（GUID）ではありません / is not an app id (GUID)"
        )
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(
            f"--url {url!r} は https の URL でなければなりません / must be an https URL"
        )
    host = parts.hostname
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        # The package's own id: derived from the bot's, so a new upload replaces the old one.
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"postgate:{app_id.lower()}")),
        "developer": {
            "name": "postgate",
            "websiteUrl": f"https://{host}/",
            "privacyUrl": f"https://{host}/",
            "termsOfUseUrl": f"https://{host}/",
        },
        "name": {"short": "postgate", "full": "postgate — SNS posting gate"},
        "description": {
            "short": "Checks, approves and publishes the city's social-media posts.",
            "full": (
                "postgate checks each draft against the city's social-media manual, sends an "
                "approval card to the right chief, publishes to X, Facebook, Instagram and LINE "
                "exactly once, and alerts when an account looks hijacked."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#2E7D32",
        "localizationInfo": {
            "defaultLanguageTag": "en-us",
            "additionalLanguages": [{"languageTag": "ja-jp", "file": "ja-jp.json"}],
        },
        "bots": [
            {
                "botId": app_id,
                "scopes": ["team", "personal"],
                "supportsFiles": False,
                "isNotificationOnly": False,
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
        "webApplicationInfo": {"id": app_id, "resource": f"api://{host}/{app_id}"},
        "authorization": {
            "permissions": {
                "resourceSpecific": [
                    {"name": "ChannelMessage.Read.Group", "type": "Application"},
                ]
            }
        },
    }


def japanese() -> dict[str, Any]:
    return {
        "$schema": (
            "https://developer.microsoft.com/en-us/json-schemas/teams/v1.19/"
            "MicrosoftTeams.Localization.schema.json"
        ),
        "name.short": "postgate",
        "name.full": "postgate（SNS投稿ゲート）",
        "description.short": "市のSNS投稿をチェック・承認・公開します。",
        "description.full": (
            "postgate は投稿案を市のSNS運用マニュアルに照らしてチェックし、所属長へ承認依頼を"
            "送り、X・Facebook・Instagram・LINE へ一度だけ投稿し、アカウントの乗っ取りなどを"
            "検知して知らせます。"
        ),
    }


def package(*, app_id: str, url: str, version: str = "1.0.0") -> bytes:
    """The zip the Teams admin center accepts."""
    data = manifest(app_id=app_id, url=url, version=version)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("ja-jp.json", json.dumps(japanese(), ensure_ascii=False, indent=2))
        archive.writestr("color.png", icon(192, GREEN, WHITE))
        archive.writestr("outline.png", icon(32, None, WHITE))
    return buffer.getvalue()


def icon(size: int, background: tuple[int, int, int] | None, mark: tuple[int, int, int]) -> bytes:
    """A square PNG: a gate (two posts and a lintel) in ``mark`` on ``background`` (None:
    transparent, as Teams wants the outline icon)."""

    def inside(x: int, y: int) -> bool:
        u, v = x / size, y / size
        posts = 0.2 <= v <= 0.85 and (0.22 <= u <= 0.34 or 0.66 <= u <= 0.78)
        lintel = 0.15 <= v <= 0.3 and 0.12 <= u <= 0.88
        return posts or lintel

    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            if inside(x, y):
                row += bytes([*mark, 255])
            elif background is not None:
                row += bytes([*background, 255])
            else:
                row += bytes([0, 0, 0, 0])
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
