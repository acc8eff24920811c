"""Builds the real client for an account from its credentials and the base-URL settings.

The base URLs default to the real hosts; each can be overridden from the environment for a
corporate proxy or for tests against fake servers:

=========================  ======================================  ===========================
variable                   default                                 used by
=========================  ======================================  ===========================
POSTGATE_X_API_URL         https://api.twitter.com                 X (tweepy, via an adapter)
POSTGATE_X_UPLOAD_URL      https://api.x.com                       X media upload
POSTGATE_GRAPH_API_URL     https://graph.facebook.com/v21.0        Facebook and Instagram
POSTGATE_LINE_API_URL      https://api.line.me                     LINE
POSTGATE_SNS_TIMEOUT       30 (seconds, total per request)         every client
=========================  ======================================  ===========================

Choosing the dry-run client for an account without credentials is the caller's business.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sns.base import SnsClient
from sns.common import (
    DEFAULT_TIMEOUT,
    Clock,
    CredentialsError,
    SnsConfigError,
    check_base_url,
    utcnow,
)
from sns.facebook import DEFAULT_GRAPH_API_URL, FACEBOOK_CREDENTIALS, FacebookClient
from sns.instagram import INSTAGRAM_CREDENTIALS, InstagramClient
from sns.line import DEFAULT_LINE_API_URL, LINE_CREDENTIALS, LineClient
from sns.x import DEFAULT_X_API_URL, DEFAULT_X_UPLOAD_URL, X_CREDENTIALS, XClient
from workflows.checks.model import Platform
from workflows.org import Account

__all__ = [
    "REQUIRED_CREDENTIALS",
    "CredentialsError",
    "SnsConfigError",
    "SnsSettings",
    "build_client",
]

# The credential names each platform's client reads (the keys of an account's `credentials:`).
REQUIRED_CREDENTIALS: Mapping[Platform, tuple[str, ...]] = {
    Platform.X: X_CREDENTIALS,
    Platform.FACEBOOK: FACEBOOK_CREDENTIALS,
    Platform.INSTAGRAM: INSTAGRAM_CREDENTIALS,
    Platform.LINE: LINE_CREDENTIALS,
}


@dataclass(frozen=True, slots=True)
class SnsSettings:
    """Where the clients send their requests, and how long they wait for an answer."""

    x_api_url: str = DEFAULT_X_API_URL
    x_upload_url: str = DEFAULT_X_UPLOAD_URL
    graph_api_url: str = DEFAULT_GRAPH_API_URL
    line_api_url: str = DEFAULT_LINE_API_URL
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        check_base_url("POSTGATE_X_API_URL", self.x_api_url)
        check_base_url("POSTGATE_X_UPLOAD_URL", self.x_upload_url)
        check_base_url("POSTGATE_GRAPH_API_URL", self.graph_api_url)
        check_base_url("POSTGATE_LINE_API_URL", self.line_api_url)
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise SnsConfigError(
                f"POSTGATE_SNS_TIMEOUT: a positive number of seconds is required, "
                f"got {self.timeout!r}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SnsSettings:
        """Settings from ``POSTGATE_*`` variables; an unset or empty one keeps its default."""

        def get(name: str, default: str) -> str:
            return (environ.get(name) or "").strip() or default

        raw_timeout = get("POSTGATE_SNS_TIMEOUT", str(DEFAULT_TIMEOUT))
        try:
            timeout = float(raw_timeout)
        except ValueError:
            raise SnsConfigError(
                f"POSTGATE_SNS_TIMEOUT: a number of seconds is required, got {raw_timeout!r}"
            ) from None
        return cls(
            x_api_url=get("POSTGATE_X_API_URL", DEFAULT_X_API_URL),
            x_upload_url=get("POSTGATE_X_UPLOAD_URL", DEFAULT_X_UPLOAD_URL),
            graph_api_url=get("POSTGATE_GRAPH_API_URL", DEFAULT_GRAPH_API_URL),
            line_api_url=get("POSTGATE_LINE_API_URL", DEFAULT_LINE_API_URL),
            timeout=timeout,
        )


def build_client(
    account: Account,
    credentials: Mapping[str, str],
    settings: SnsSettings,
    *,
    clock: Clock = utcnow,
) -> SnsClient:
    """The real client for ``account``, reading time from ``clock``; raises ``CredentialsError``
    naming what is missing."""
    try:
        return _build(account, credentials, settings, clock)
    except CredentialsError as exc:
        raise CredentialsError(f"account {account.id!r}: {exc}") from None


def _build(
    account: Account, credentials: Mapping[str, str], settings: SnsSettings, clock: Clock
) -> SnsClient:
    match account.platform:
        case Platform.X:
            return XClient(
                credentials,
                handle=account.handle,
                api_url=settings.x_api_url,
                upload_url=settings.x_upload_url,
                timeout=settings.timeout,
                clock=clock,
            )
        case Platform.FACEBOOK:
            return FacebookClient(
                credentials,
                handle=account.handle,
                api_url=settings.graph_api_url,
                timeout=settings.timeout,
                clock=clock,
            )
        case Platform.INSTAGRAM:
            return InstagramClient(
                credentials,
                handle=account.handle,
                api_url=settings.graph_api_url,
                timeout=settings.timeout,
                clock=clock,
            )
        case Platform.LINE:
            return LineClient(
                credentials,
                handle=account.handle,
                api_url=settings.line_api_url,
                timeout=settings.timeout,
                clock=clock,
            )
