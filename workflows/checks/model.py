"""What the checker takes and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class Platform(StrEnum):
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    LINE = "line"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a draft; ``start``/``end`` index the original text (code points)."""

    rule: str
    severity: Severity
    message: str
    start: int
    end: int
    suggestion: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "start": self.start,
            "end": self.end,
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True, slots=True)
class PastPost:
    """A post already published (or scheduled) on an account, for the duplicate rule."""

    text: str
    at: datetime
    account: str | None = None


@dataclass(frozen=True, slots=True)
class MediaItem:
    """An image or video attached to a draft: a URL (or file name) and what it is."""

    url: str
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class DraftToCheck:
    """One text to check, for the platforms it will go to, at the time it will be published.

    ``at`` must be timezone-aware. ``history`` holds recent posts of the target accounts.
    """

    text: str
    at: datetime
    platforms: tuple[Platform, ...] = (Platform.X,)
    emergency: bool = False
    media: tuple[MediaItem, ...] = ()
    history: tuple[PastPost, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("DraftToCheck.at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class CheckResult:
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def to_dict(self, draft_id: str | None = None) -> dict[str, Any]:
        return {
            "id": draft_id,
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
        }
