"""Tests of the social-network clients against the loopback fakes in ``tests.fakes``."""

from __future__ import annotations

from collections.abc import Callable, Mapping


class RecordingCheckpoint:
    """A ``Checkpoint`` that keeps what it was given, and can look at the platform when called."""

    def __init__(self, on_call: Callable[[Mapping[str, str]], None] | None = None) -> None:
        self.calls: list[dict[str, str]] = []
        self._on_call = on_call

    async def __call__(self, material: Mapping[str, str]) -> None:
        self.calls.append(dict(material))
        if self._on_call is not None:
            self._on_call(material)

    @property
    def material(self) -> dict[str, str]:
        """What the last call committed (what the outbox would hand to the next attempt)."""
        return self.calls[-1] if self.calls else {}


async def no_checkpoint(material: Mapping[str, str]) -> None:
    raise AssertionError(f"this client should not checkpoint anything, got {dict(material)}")


def assert_no_secret(secrets: Mapping[str, str] | list[str], *texts: str) -> None:
    """None of the secret values occurs in any of the texts."""
    values = list(secrets.values()) if isinstance(secrets, Mapping) else list(secrets)
    for text in texts:
        for secret in values:
            assert secret not in text, "a secret leaked"
