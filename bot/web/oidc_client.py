"""The OpenID Connect relying party (see ``bot.web.oidc``): Authlib's ``OAuth2Session`` for the
authorization URL and the code exchange, joserfc for the ID token's signature, Authlib's
``CodeIDToken`` for its claims (issuer, audience, expiry against the injected clock, nonce)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bot.web.oidc import MatchBy, OidcError, OidcSettings
from handlers.drafts import Clock
from workflows.org import Directory, Member

TIMEOUT_SECONDS = 15
CLOCK_LEEWAY_SECONDS = 120


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
