"""A fake Microsoft Bot Connector (and its login endpoints) on 127.0.0.1, port 0.

- ``GET /openid`` — the OpenID metadata naming ``/keys``; ``GET /keys`` — the JWKS: an RSA key
  generated for the test run (``kid`` ``KID``, endorsed for ``msteams``);
- ``POST /token`` — client credentials: the bot's token for the right app id and secret, or
  (``fake.certificate`` set: the certificate the city uploaded to Entra) for a ``client_assertion``
  that verifies as Microsoft's certificate credentials require (PS256/RS256 signature by that
  certificate's key, ``x5t#S256`` its thumbprint, ``aud`` this endpoint, ``iss`` = ``sub`` = the
  app id, a ``jti`` never seen before, at most 10 minutes between ``nbf`` and ``exp``); the
  verified claims are in ``fake.assertions``;
- ``POST /v3/conversations`` — a 1:1 chat with the member (``a:<aad id>``);
- ``POST /v3/conversations/{id}/activities`` — a new message (in a thread when the id ends in
  ``;messageid=<root>``); ``PUT …/activities/{activity}`` — replace one (404 if unknown).

Every ``/v3`` call must carry the token from ``/token``, else 401. ``fake.token(**claims)`` mints
the JWT Teams would send postgate (override or drop claims to forge one; ``key=other_key()`` signs
with a key not in the JWKS). What was sent is in ``fake.activities`` (``FakeActivity``); the
``FakeServer`` switches (``fail_next``…) work too.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from tests.fakes.server import FakeServer, recorded

APP_ID = "00000000-0000-4000-8000-00000000a11d"
TENANT = "0f0e0d0c-0b0a-4909-8807-060504030201"
KID = "postgate-test-key"
ISSUER = "https://api.botframework.com"


def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def thumbprint(der: bytes) -> str:
    """``x5t#S256``: the base64url SHA-256 of a certificate's DER."""
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def self_signed(
    now: datetime, *, days: int = 365, key: rsa.RSAPrivateKey | None = None
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A city's app certificate: a fresh RSA key and a self-signed certificate valid from
    ``now`` (the test's clock) for ``days``."""
    key = key or other_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "postgate-teams-test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def pem(
    key: rsa.RSAPrivateKey | None, cert: x509.Certificate | None, password: bytes | None = None
) -> bytes:
    """The PEM file postgate reads (``POSTGATE_TEAMS_CERT_FILE``): the key, then the
    certificate (either may be left out, to make a broken one)."""
    out = b""
    if key is not None:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        out += key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    if cert is not None:
        out += cert.public_bytes(serialization.Encoding.PEM)
    return out


@dataclass
class FakeActivity:
    conversation: str  # without ";messageid="
    id: str
    activity: dict[str, Any]
    thread: str | None = None  # the root activity id of the thread it was posted in
    versions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.activity.get("attachments") or []:
            return dict(attachment["content"])
        return None

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")


class FakeTeams(FakeServer):
    def __init__(self, *, app_secret: str) -> None:
        self.app_secret = app_secret
        self.certificate: x509.Certificate | None = None  # uploaded to the app registration
        self.assertions: list[dict[str, Any]] = []
        self.key = other_key()
        self.kid = KID  # rotate: a new key under a new kid
        self.endorsements = ["msteams"]
        self.bot_token = "fake-connector-token-" + KID
        self.activities: list[FakeActivity] = []
        self.conversations: list[dict[str, Any]] = []
        self.tokens_issued = 0
        self._ids = itertools.count(1_700_000_000_000)
        super().__init__()

    @property
    def service_url(self) -> str:
        return self.url + "/"

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/openid", self._openid)
        router.add_get("/keys", self._keys)
        router.add_post("/token", self._token)
        router.add_post("/v3/conversations", self._create)
        router.add_post("/v3/conversations/{conversation}/activities", self._send)
        router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)

    # -- tokens Teams sends postgate ----------------------------------------------------------

    def token(
        self,
        now: datetime,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        drop: tuple[str, ...] = (),
        **claims: Any,
    ) -> str:
        body: dict[str, Any] = {
            "iss": ISSUER,
            "aud": APP_ID,
            "serviceurl": self.service_url,
            "nbf": int((now - timedelta(minutes=1)).timestamp()),
            "exp": int((now + timedelta(hours=1)).timestamp()),
            **claims,
        }
        for name in drop:
            body.pop(name, None)
        return jwt.encode(
            body, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    # -- what postgate sent --------------------------------------------------------------------

    def messages(self, conversation: str) -> list[FakeActivity]:
        return [a for a in self.activities if a.conversation == conversation]

    def thread(self, channel: str, root: str) -> list[FakeActivity]:
        return [a for a in self.activities if a.conversation == channel and a.thread == root]

    def find(self, activity_id: str) -> FakeActivity:
        return next(a for a in self.activities if a.id == activity_id)

    # -- handlers -------------------------------------------------------------------------------

    async def _openid(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": ISSUER,
                "jwks_uri": f"{self.url}/keys",
                "id_token_signing_alg_values": ["RS256"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "endorsements": list(self.endorsements)})
        return web.json_response({"keys": [jwk]})

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(parse_qsl(recorded(request).body.decode()))
        if "client_assertion" in form:
            credential = "client_secret" not in form and self._assertion_ok(
                form.get("client_assertion_type"), form["client_assertion"]
            )
        else:
            credential = form.get("client_secret") == self.app_secret
        ok = (
            form.get("grant_type") == "client_credentials"
            and form.get("client_id") == APP_ID
            and credential
            and form.get("scope") == "https://api.botframework.com/.default"
        )
        if not ok:
            return web.json_response({"error": "invalid_client"}, status=401)
        self.tokens_issued += 1
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": self.bot_token}
        )

    def _assertion_ok(self, kind: str | None, assertion: str) -> bool:
        """Microsoft's certificate-credential checks, with the uploaded certificate's key."""
        if self.certificate is None or kind != ASSERTION_TYPE:
            return False
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        try:
            header = jwt.get_unverified_header(assertion)
            if header.get("x5t#S256") != thumbprint(der):
                return False
            claims: dict[str, Any] = jwt.decode(
                assertion,
                self.certificate.public_key(),  # type: ignore[arg-type]
                algorithms=["PS256", "RS256"],
                audience=f"{self.url}/token",
                issuer=APP_ID,
                # The app's clock is the test's: the times are checked against each other.
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["aud", "iss", "sub", "jti", "nbf", "exp"],
                },
            )
        except jwt.PyJWTError:
            return False
        lifetime = int(claims["exp"]) - int(claims["nbf"])
        seen = {a["jti"] for a in self.assertions}
        if claims["sub"] != APP_ID or not 0 < lifetime <= 600 or claims["jti"] in seen:
            return False
        self.assertions.append(claims)
        return True

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.bot_token}"

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        body = recorded(request).json
        self.conversations.append(body)
        return web.json_response({"id": "a:" + body["members"][0]["id"]}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        conversation, _, root = request.match_info["conversation"].partition(";messageid=")
        activity_id = str(next(self._ids))
        self.activities.append(
            FakeActivity(conversation, activity_id, recorded(request).json, root or None)
        )
        return web.json_response({"id": activity_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        conversation = request.match_info["conversation"].partition(";messageid=")[0]
        activity_id = request.match_info["activity"]
        for sent in self.activities:
            if sent.id == activity_id and sent.conversation == conversation:
                sent.versions.append(sent.activity)
                sent.activity = recorded(request).json
                return web.json_response({"id": activity_id})
        return web.json_response({"error": {"code": "NotFound"}}, status=404)
