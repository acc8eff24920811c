"""Teams settings, the inbound check of every Bot Connector request, and the outbound token.

Every ``POST /api/messages`` passes, before anything in it is acted on or stored (Bot Connector
authentication, learn.microsoft.com/azure/bot-service/rest-api/
bot-framework-rest-connector-authentication):

1. an ``Authorization: Bearer <JWT>`` header;
2. an RS256 signature by a key of the JWKS named by the OpenID metadata (cached for a day,
   fetched again for an unknown ``kid``) whose ``endorsements`` include the activity's
   ``channelId`` (``msteams``);
3. ``iss`` = ``https://api.botframework.com``;  4. ``aud`` = our app id;
5. not expired, with 5 minutes of clock skew, by the injected clock;
6. the ``serviceurl`` claim = the activity's ``serviceUrl`` (a replayed token cannot redirect the
   bot's replies, and its own token, elsewhere), whose host is on the allow-list;

then ``channelData.tenant.id`` = our tenant. Anything else is ``Unauthorized`` (401).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

from bot.teams.certificate import ASSERTION_TYPE, CERT_FILE, CERT_PASSWORD, Certificate
from handlers.drafts import Clock

log = logging.getLogger(__name__)

DEFAULT_OPENID_METADATA_URL: Final = (
    "https://login.botframework.com/v1/.well-known/openidconfiguration"
)
DEFAULT_TOKEN_URL: Final = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"  # noqa: S105
# The Bot Connector's hosts (TEAMS.md §2: the Agents SDK's default outbound host list).
DEFAULT_SERVICE_HOSTS: Final = (
    "smba.trafficmanager.net",
    "botframework.com",
    "teams.microsoft.com",
)
ISSUER: Final = "https://api.botframework.com"
SCOPE: Final = "https://api.botframework.com/.default"
SKEW: Final = timedelta(minutes=5)
KEYS_KEPT: Final = timedelta(hours=24)
# An unknown key id makes us fetch the keys again (they rotate), but not more often than this:
# a stream of tokens with made-up key ids must not turn into a stream of requests to Microsoft.
REFETCH_AFTER: Final = timedelta(minutes=5)
CHANNEL: Final = "msteams"


@dataclass(frozen=True)
class TeamsSettings:
    """The Teams part of the environment. Secrets never appear in ``repr``."""

    app_id: str
    tenant_id: str
    app_secret: str | None = field(default=None, repr=False)
    certificate: Certificate | None = field(default=None, repr=False)  # wins over the secret
    openid_metadata_url: str = DEFAULT_OPENID_METADATA_URL
    token_url: str = DEFAULT_TOKEN_URL
    service_hosts: tuple[str, ...] = DEFAULT_SERVICE_HOSTS
    service_url: str | None = None  # where to send before any activity came in

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TeamsSettings | None:
        """None (Teams off) unless the app id, the tenant id and a credential — the client
        secret, or a certificate file (``bot.teams.certificate``; it wins when both are set)
        — are set. A certificate file that cannot be used is a ``ConfigError``."""
        app_id = environ.get("POSTGATE_TEAMS_APP_ID", "")
        secret = environ.get("POSTGATE_TEAMS_APP_SECRET", "")
        cert_file = environ.get(CERT_FILE, "")
        tenant = environ.get("POSTGATE_TEAMS_TENANT_ID", "")
        if not (app_id and tenant and (secret or cert_file)):
            return None
        certificate = (
            Certificate.load(cert_file, environ.get(CERT_PASSWORD) or None) if cert_file else None
        )
        hosts = environ.get("POSTGATE_TEAMS_SERVICE_HOSTS", "")
        return cls(
            app_id=app_id,
            app_secret=None if certificate else secret,
            certificate=certificate,
            tenant_id=tenant,
            openid_metadata_url=environ.get("POSTGATE_TEAMS_OPENID_METADATA_URL")
            or DEFAULT_OPENID_METADATA_URL,
            token_url=(environ.get("POSTGATE_TEAMS_TOKEN_URL") or DEFAULT_TOKEN_URL).format(
                tenant=tenant
            ),
            service_hosts=tuple(h.strip().lower() for h in hosts.split(",") if h.strip())
            or DEFAULT_SERVICE_HOSTS,
            service_url=environ.get("POSTGATE_TEAMS_SERVICE_URL") or None,
        )

    def allows(self, service_url: str) -> bool:
        """True if the bot may send its token to ``service_url`` (https, or a loopback test
        host named on the allow-list)."""
        parts = urlsplit(service_url)
        host = (parts.hostname or "").lower()
        allowed = any(host == h or host.endswith("." + h) for h in self.service_hosts)
        return allowed and (parts.scheme == "https" or host in ("127.0.0.1", "localhost"))


class Http:
    """The adapter's one HTTP client session, opened on first use (inside the event loop) and
    closed with the server."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class Unauthorized(Exception):
    """The request is not from the Bot Connector for our bot and tenant (never shown)."""


class Authenticator:
    """The six checks and the tenant, with the keys cached by the injected clock."""

    def __init__(self, *, settings: TeamsSettings, http: Http, clock: Clock) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: datetime | None = None

    async def check(self, authorization: str, activity: Mapping[str, Any]) -> dict[str, Any]:
        """The verified claims, or ``Unauthorized``."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("no bearer token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthorized(f"malformed token: {type(error).__name__}") from None
        if header.get("alg") != "RS256":
            raise Unauthorized("not RS256")
        key = await self._key(str(header.get("kid", "")))
        channel = str(activity.get("channelId", ""))
        if channel not in (key.get("endorsements") or ()):
            raise Unauthorized(f"key not endorsed for {channel!r}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=RSAAlgorithm.from_jwk(json.dumps(key)),  # type: ignore[arg-type]
                algorithms=["RS256"],
                audience=self.settings.app_id,
                issuer=ISSUER,
                options={"verify_exp": False, "verify_nbf": False, "require": ["exp"]},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"token refused: {type(error).__name__}") from None
        now = self.clock().timestamp()
        if float(claims["exp"]) + SKEW.total_seconds() < now:
            raise Unauthorized("token expired")
        if "nbf" in claims and float(claims["nbf"]) - SKEW.total_seconds() > now:
            raise Unauthorized("token not valid yet")
        service_url = str(activity.get("serviceUrl", ""))
        if claims.get("serviceurl") != service_url:
            raise Unauthorized("serviceurl claim differs from the activity's serviceUrl")
        if not self.settings.allows(service_url):
            raise Unauthorized("serviceUrl host not allowed")
        tenant = ((activity.get("channelData") or {}).get("tenant") or {}).get("id")
        if tenant != self.settings.tenant_id:
            raise Unauthorized("another tenant")
        return claims

    async def _key(self, kid: str) -> dict[str, Any]:
        now = self.clock()
        age = None if self._fetched_at is None else now - self._fetched_at
        stale = age is None or age > KEYS_KEPT
        rotated = kid not in self._keys and (age is None or age > REFETCH_AFTER)
        if stale or rotated:  # keys rotate: fetch again for an unknown kid, now and then
            await self._fetch_keys()
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("unknown signing key")
        return key

    async def _fetch_keys(self) -> None:
        try:
            async with self.http.session.get(self.settings.openid_metadata_url) as response:
                response.raise_for_status()
                metadata = await response.json(content_type=None)
            async with self.http.session.get(str(metadata["jwks_uri"])) as response:
                response.raise_for_status()
                jwks = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as error:
            log.warning("Teams signing keys not fetched: %s", type(error).__name__)
            raise Unauthorized("signing keys unavailable") from None
        self._keys = {str(k.get("kid")): k for k in jwks.get("keys", []) if k.get("kid")}
        self._fetched_at = self.clock()


class TokenSource:
    """The bot's own token (client credentials with the secret or a certificate's signed
    assertion), cached until shortly before it expires."""

    def __init__(self, *, settings: TeamsSettings, http: Http, clock: Clock) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock
        self._token: str | None = None
        self._until: datetime | None = None

    async def token(self) -> str:
        now = self.clock()
        if self._token is not None and self._until is not None and now < self._until:
            return self._token
        settings = self.settings
        form = {"grant_type": "client_credentials", "client_id": settings.app_id, "scope": SCOPE}
        if settings.certificate is not None:  # a JWT signed with the certificate's key
            form["client_assertion_type"] = ASSERTION_TYPE
            form["client_assertion"] = settings.certificate.assertion(
                client_id=settings.app_id, audience=settings.token_url, now=now
            )
        else:
            form["client_secret"] = settings.app_secret or ""
        async with self.http.session.post(self.settings.token_url, data=form) as response:
            if response.status != 200:
                raise aiohttp.ClientResponseError(
                    response.request_info, (), status=response.status, message="token refused"
                )
            body = await response.json(content_type=None)
        self._token = str(body["access_token"])
        lifetime = max(60, int(body.get("expires_in", 3600)) - 300)
        self._until = now + timedelta(seconds=lifetime)
        return self._token
