"""What every incident detector returns: a Signal — one cause, one stable key, its evidence.

A detector looks at what a monitor read from a platform and returns Signals. The monitor stores a
Signal as an incident unless an incident with the same ``dedupe_key`` already exists, so the key
names the cause (this post, this new profile value, this refusal streak), never the poll that saw
it: the same evidence seen twice gives the same key.

Evidence is kind-specific (an unknown post, a profile change, ...), and each kind renders itself
the same three ways: ``params`` for the summary message, ``rows`` for a card's labelled fields and
``to_dict`` for storage (JSON-safe). Texts come from the catalogue (messages/incidents.yaml).
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from workflows.catalogue import Lang, message
from workflows.checks.model import Platform
from workflows.org import Account

TOKYO = ZoneInfo("Asia/Tokyo")
_WEEKDAYS = {Lang.JA: "月火水木金土日", Lang.EN: ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


class IncidentKind(StrEnum):
    """The manual's three troubles (§8), and anything else a member reports."""

    HIJACK = "hijack"  # 乗っ取り
    IMPERSONATION = "impersonation"  # なりすまし
    FLAMING = "flaming"  # 炎上
    OTHER = "other"

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"incident.kind.{self.value}", lang)


class Cause(StrEnum):
    """What a detector saw; the first part of a Signal's dedupe key after the kind."""

    UNKNOWN_POST = "unknown-post"  # a post postgate never published
    PROFILE = "profile"  # a profile field differs from the stored baseline
    AUTH = "auth"  # the platform refused the account's credentials
    LOOKALIKE = "lookalike"  # an account that looks like one of ours
    SURGE = "surge"  # replies far above the account's baseline, or hostile

    @property
    def kind(self) -> IncidentKind:
        return _KIND_OF[self]


_KIND_OF = {
    Cause.UNKNOWN_POST: IncidentKind.HIJACK,
    Cause.PROFILE: IncidentKind.HIJACK,
    Cause.AUTH: IncidentKind.HIJACK,
    Cause.LOOKALIKE: IncidentKind.IMPERSONATION,
    Cause.SURGE: IncidentKind.FLAMING,
}


class Evidence(ABC):
    """What was seen, in a form a card, a summary and the database can each use."""

    __slots__ = ()

    @abstractmethod
    def params(self, lang: Lang = Lang.JA) -> dict[str, str]:
        """Placeholders of the cause's summary message."""

    @abstractmethod
    def rows(self, lang: Lang = Lang.JA) -> tuple[tuple[str, str], ...]:
        """Labelled fields for a card, in reading order."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, for the incident row and the audit log."""


@dataclass(frozen=True, slots=True)
class AccountRef:
    """A managed account as a Signal names it (a value: the Signal outlives app.yaml edits)."""

    id: str
    platform: Platform
    handle: str
    display_name: str

    @classmethod
    def of(cls, account: Account) -> AccountRef:
        return cls(account.id, account.platform, account.handle, account.display_name)

    @property
    def shown_handle(self) -> str:
        return shown_handle(self.platform, self.handle)

    def label(self, lang: Lang = Lang.JA) -> str:
        """「みどり市（X @midori_city）」: the display name, the platform and the handle."""
        return message(
            "incident.account",
            lang,
            name=self.display_name,
            platform=platform_label(self.platform, lang),
            handle=self.shown_handle,
        )


@dataclass(frozen=True, slots=True)
class Signal:
    """One cause of one incident: alert once per ``dedupe_key``."""

    cause: Cause
    account: AccountRef
    dedupe_key: str
    evidence: Evidence

    @property
    def kind(self) -> IncidentKind:
        return self.cause.kind

    @property
    def account_id(self) -> str:
        return self.account.id

    def summary(self, lang: Lang = Lang.JA) -> str:
        """One or two sentences saying what was seen and what it may mean."""
        return message(
            f"incident.summary.{self.cause.value}",
            lang,
            account=self.account.label(lang),
            **self.evidence.params(lang),
        )

    def rows(self, lang: Lang = Lang.JA) -> tuple[tuple[str, str], ...]:
        """The card's fields: the account, then the evidence."""
        account = (message("incident.field.account", lang), self.account.label(lang))
        return (account, *self.evidence.rows(lang))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "cause": self.cause.value,
            "account": self.account.id,
            "dedupe_key": self.dedupe_key,
            "summary": self.summary(),
            "evidence": self.evidence.to_dict(),
        }


_SCHEME = re.compile(r"\b(h)tt(ps?)://", re.IGNORECASE)
# A host name: labels of letters, digits and hyphens, a dot, and a top-level label of letters.
_HOST = re.compile(r"(?<![\w.-])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63})\b", re.I)


def defang(text: str) -> str:
    """A text whose links and host names cannot be clicked or unfurled: ``https://evil.example/x``
    becomes ``hxxps://evil[.]example/x`` (what someone else wrote: a hijacker's post, an
    impostor's profile). People can still read it, and copy it to report it."""
    text = _SCHEME.sub(lambda m: f"{m.group(1)}xx{m.group(2)}://", text)
    return _HOST.sub(lambda m: m.group(1).replace(".", "[.]"), text)


def platform_label(platform: Platform, lang: Lang = Lang.JA) -> str:
    return message(f"incident.platform.{platform.value}", lang)


def shown_handle(platform: Platform, handle: str) -> str:
    """A handle as the platform shows it: ``@name`` on X, Instagram and LINE, bare on Facebook."""
    bare = handle.strip().lstrip("@")
    return bare if platform is Platform.FACEBOOK else f"@{bare}"


def format_when(at: datetime, lang: Lang = Lang.JA) -> str:
    """A moment in Tokyo time as people read it: 11月20日(金) 10:05."""
    require_aware(at)
    local = at.astimezone(TOKYO)
    weekday = _WEEKDAYS[lang][local.weekday()]
    if lang is Lang.JA:
        return f"{local.year}年{local.month}月{local.day}日({weekday}) {local:%H:%M}"
    return f"{weekday} {local:%Y-%m-%d %H:%M} JST"


def require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, got {at!r}")


def digest(value: str, length: int = 16) -> str:
    """A short, stable fingerprint of a value for a dedupe key (hex SHA-256 prefix)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:length]
