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
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bot.config import ConfigError
from handlers.drafts import Clock
from workflows.org import Directory, Member

TIMEOUT_SECONDS = 15
CLOCK_LEEWAY_SECONDS = 120


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
            problem = f"POSTGATE_OIDC_ISSUER is set: set {' and '.join(missing)} too"
            raise ConfigError("environment", [problem])
        default = MatchBy.SLACK_USER_ID if "slack.com" in issuer else MatchBy.TEAMS_AAD_ID
        match = environ.get("POSTGATE_OIDC_MATCH") or default.value
        try:
            by = MatchBy(match)
        except ValueError:
            choices = ", ".join(m.value for m in MatchBy)
            problem = f"POSTGATE_OIDC_MATCH={match!r}: use one of {choices}"
            raise ConfigError("environment", [problem]) from None
        return cls(
            issuer=issuer,
            client_id=environ["POSTGATE_OIDC_CLIENT_ID"],
            client_secret=environ["POSTGATE_OIDC_CLIENT_SECRET"],
            match=by,
        )


class OidcClient:
    """The relying party. Blocking (requests): call from a thread."""

    def __init__(self, settings: OidcSettings, *, redirect_uri: str, clock: Clock) -> None:
        self.settings = settings
        self.redirect_uri = redirect_uri
        self.clock = clock
        self._metadata: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _session(self) -> OAuth2Session:
        return OAuth2Session(
            self.settings.client_id,
            self.settings.client_secret,
            scope="openid profile email",
            redirect_uri=self.redirect_uri,
        )

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None:
                url = f"{self.settings.issuer}/.well-known/openid-configuration"
                with self._session() as session:
                    response = session.get(url, timeout=TIMEOUT_SECONDS, withhold_token=True)
                    response.raise_for_status()
                    self._metadata = dict(response.json())
            return self._metadata

    def authorization_url(self, *, state: str, nonce: str) -> str:
        endpoint = self.metadata()["authorization_endpoint"]
        with self._session() as session:
            url, _ = session.create_authorization_url(endpoint, state=state, nonce=nonce)
        return str(url)

    def claims(self, *, code: str, nonce: str) -> dict[str, Any]:
        """Exchange the code; the ID token's claims once its signature, issuer, audience,
        expiry and nonce are checked."""
        metadata = self.metadata()
        try:
            with self._session() as session:
                token = session.fetch_token(
                    metadata["token_endpoint"],
                    code=code,
                    grant_type="authorization_code",
                    timeout=TIMEOUT_SECONDS,
                )
                keys = session.get(
                    metadata["jwks_uri"], timeout=TIMEOUT_SECONDS, withhold_token=True
                )
                keys.raise_for_status()
            if "id_token" not in token:
                raise OidcError("the token response has no id_token")
            algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
            decoded = jwt.decode(
                token["id_token"], KeySet.import_key_set(keys.json()), algorithms=algorithms
            )
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {"iss": {"essential": True, "values": [metadata["issuer"]]}},
                {
                    "nonce": nonce,
                    "client_id": self.settings.client_id,
                    "access_token": token.get("access_token"),
                },
            )
            claims.validate(now=int(self.clock().timestamp()), leeway=CLOCK_LEEWAY_SECONDS)
        except (OAuthError, JoseError, KeyError, ValueError) as exc:
            raise OidcError(f"{type(exc).__name__}: {exc}") from exc
        return dict(claims)

    def member(self, directory: Directory, claims: Mapping[str, Any]) -> Member | None:
        user_id = claims.get(self.settings.match.claim)
        if not isinstance(user_id, str) or not user_id:
            return None
        if self.settings.match is MatchBy.TEAMS_AAD_ID:
            return directory.by_teams_user(user_id)
        return directory.by_slack_user(user_id)
