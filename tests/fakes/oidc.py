"""A loopback OpenID Connect provider (Entra ID or Sign in with Slack, as a relying party sees
them): discovery, an authorization endpoint that signs the next person in at once, a token
endpoint that checks the client and the code, and the signing keys.

    async with FakeOidc(client_id="postgate", client_secret="s3cret") as idp:
        idp.sign_in_as({"oid": "1f0c...", "name": "佐藤 恵子"})
        # the browser follows /authorize -> redirect_uri?code=...&state=...
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import BasicAuth, web
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.fakes.server import FakeServer


class FakeOidc(FakeServer):
    def __init__(self, *, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-1"})
        self.next_claims: dict[str, Any] = {}
        self.codes: dict[str, dict[str, Any]] = {}  # code -> claims (with the nonce)
        self.audience: str | None = None  # None: the client id; set to mint a wrong one
        super().__init__()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/.well-known/openid-configuration", self._discovery)
        router.add_get("/authorize", self._authorize)
        router.add_post("/token", self._token)
        router.add_get("/jwks", self._jwks)

    def sign_in_as(self, claims: dict[str, Any]) -> None:
        """Who the next authorization request signs in (the provider's own login, skipped)."""
        self.next_claims = {"sub": secrets.token_hex(8), **claims}

    async def _discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return web.json_response({"error": "invalid_request"}, status=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**self.next_claims, "nonce": q.get("nonce")}
        target = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"
        return web.Response(status=302, headers={"Location": target})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        claims = self.codes.pop(str(form.get("code")), None)
        basic = BasicAuth.decode(request.headers.get("Authorization", "Basic Og=="))
        client_ok = (basic.login, basic.password) == (self.client_id, self.client_secret)
        if claims is None or not client_ok:
            return web.json_response({"error": "invalid_grant"}, status=400)
        now = self.clock()
        body = {
            "iss": self.url,
            "aud": self.audience or self.client_id,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=5)).timestamp()),
            **claims,
        }
        id_token = jwt.encode({"alg": "RS256", "kid": "fake-1"}, body, self.key)
        return web.json_response(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )

    async def _jwks(self, request: web.Request) -> web.Response:
        return web.json_response(KeySet([self.key]).as_dict(private=False))
