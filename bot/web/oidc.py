"""Sign-in with the city's identity provider: OpenID Connect (authorization code flow) against
Microsoft Entra ID (members matched by ``teams_aad_id``, the ``oid`` claim) or Sign in with
Slack (matched by ``slack_user_id``, the ``https://slack.com/user_id`` claim).

Authlib does the protocol: the authorization URL, the code exchange (``OAuth2Session``) and the
ID token's claims (``CodeIDToken``: issuer, audience, expiry against the injected clock, nonce);
joserfc checks the signature against the provider's published keys. Nothing here parses or
signs a token by hand.

Configured by environment variables:

- ``POSTGATE_OIDC_ISSUER``: e.g. ``https://login.microsoftonline.com/TENANT_ID/v2.0`` or
  ``https://slack.com`` (its ``/.well-known/openid-configuration`` is read once);
- ``POSTGATE_OIDC_CLIENT_ID``, ``POSTGATE_OIDC_CLIENT_SECRET``;
- ``POSTGATE_OIDC_MATCH``: ``teams_aad_id`` or ``slack_user_id`` (default: by the issuer).

The redirect URI to register with the provider is ``POSTGATE_WEB_URL`` + ``/oidc/callback``.
The relying party itself is ``bot.web.oidc_client`` (imported only when configured: Authlib
and its JOSE library take a while to load).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.config import ConfigError, Problem


class MatchBy(StrEnum):
    """Which member field the provider's user id is compared with."""

    TEAMS_AAD_ID = "teams_aad_id"  # Entra ID: the ``oid`` claim
    SLACK_USER_ID = "slack_user_id"  # Sign in with Slack: ``https://slack.com/user_id``

    @property
    def claim(self) -> str:
        return "oid" if self is MatchBy.TEAMS_AAD_ID else "https://slack.com/user_id"


class OidcError(Exception):
    """The provider's answer could not be used (logged; the person sees a Japanese page)."""


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    match: MatchBy

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OidcSettings | None:
        issuer = environ.get("POSTGATE_OIDC_ISSUER", "").strip().rstrip("/")
        if not issuer:
            return None
        missing = [
            name
            for name in ("POSTGATE_OIDC_CLIENT_ID", "POSTGATE_OIDC_CLIENT_SECRET")
            if not environ.get(name)
        ]
        if missing:
            problem = Problem(
                "POSTGATE_OIDC_ISSUER",
                "env_also_needed",
                {"name": "POSTGATE_OIDC_ISSUER", "missing": ", ".join(missing)},
            )
            raise ConfigError("environment", [problem])
        default = MatchBy.SLACK_USER_ID if "slack.com" in issuer else MatchBy.TEAMS_AAD_ID
        match = environ.get("POSTGATE_OIDC_MATCH") or default.value
        try:
            by = MatchBy(match)
        except ValueError:
            choices = ", ".join(m.value for m in MatchBy)
            problem = Problem(
                "POSTGATE_OIDC_MATCH", "env_choice", {"value": repr(match), "choices": choices}
            )
            raise ConfigError("environment", [problem]) from None
        return cls(
            issuer=issuer,
            client_id=environ["POSTGATE_OIDC_CLIENT_ID"],
            client_secret=environ["POSTGATE_OIDC_CLIENT_SECRET"],
            match=by,
        )
