"""The draft checker: the manual's automatic checks as small, uniform rule families."""

from __future__ import annotations

from workflows.checks.engine import Checker
from workflows.checks.model import (
    CheckResult,
    DraftToCheck,
    Finding,
    MediaItem,
    PastPost,
    Platform,
    Severity,
)
from workflows.checks.settings import CheckSettings

__all__ = [
    "CheckResult",
    "CheckSettings",
    "Checker",
    "DraftToCheck",
    "Finding",
    "MediaItem",
    "PastPost",
    "Platform",
    "Severity",
]
