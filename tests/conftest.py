from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings

from workflows.checks import (
    Checker,
    CheckResult,
    CheckSettings,
    DraftToCheck,
    MediaItem,
    PastPost,
    Platform,
)

pytest_plugins = ("tests.fakes",)

# No timing limit on a Hypothesis example: the first one of a worker may build the rule-data
# cache (seconds on a loaded machine), and speed is measured by benchmarks/, never by a test.
settings.register_profile("postgate", deadline=None)
settings.load_profile("postgate")

JST = ZoneInfo("Asia/Tokyo")
# Friday 20 November 2026, 10:00 in Tokyo: inside business hours; Monday the 23rd is a holiday.
DEFAULT_AT = datetime(2026, 11, 20, 10, 0, tzinfo=JST)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach a host other than this machine."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in {"127.0.0.1", "::1", "localhost"}
            and not (host.startswith("127.") or host.startswith("/"))
        ):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


CheckFn = Callable[..., CheckResult]


@pytest.fixture
def check() -> CheckFn:
    """Check a text with the default settings: ``check("...", platforms=("x",), at=...)``."""

    def run(
        text: str,
        *,
        platforms: tuple[str, ...] = ("x",),
        at: datetime = DEFAULT_AT,
        emergency: bool = False,
        media: tuple[str, ...] = (),
        history: tuple[tuple[str, datetime], ...] = (),
        settings: CheckSettings | None = None,
    ) -> CheckResult:
        draft = DraftToCheck(
            text=text,
            at=at,
            platforms=tuple(Platform(p) for p in platforms),
            emergency=emergency,
            media=tuple(MediaItem(m) for m in media),
            history=tuple(PastPost(t, when) for t, when in history),
        )
        return Checker(settings).check(draft)

    return run


def rules_of(result: CheckResult) -> list[str]:
    return [f.rule for f in result.findings]
