"""Certificate credentials for the bot's outbound token (instead of a client secret).

Microsoft identity platform, "certificate credentials" (learn.microsoft.com/entra/
identity-platform/certificate-credentials): the client-credentials request carries, instead of
``client_secret``, ``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer``
and ``client_assertion`` = a JWT signed with the certificate's private key:

- header: ``alg`` PS256, ``typ`` JWT, ``x5t#S256`` (base64url SHA-256 thumbprint of the
  certificate's DER) and, for older endpoints, ``x5t`` (the SHA-1 one);
- claims: ``aud`` = the token endpoint, ``iss`` = ``sub`` = the app (client) id, a fresh ``jti``,
  ``nbf`` = ``iat`` = now, ``exp`` = now + 10 minutes (the docs: 5-10 minutes after ``nbf``).

``POSTGATE_TEAMS_CERT_FILE`` is one PEM file with the RSA private key and its certificate (as
``openssl req -x509 … -keyout key.pem -out cert.pem; cat key.pem cert.pem``), the private key
optionally encrypted with ``POSTGATE_TEAMS_CERT_PASSWORD``. The certificate (its public part) is
what the city uploads to the Entra app registration. The key never leaves this object and is
never in a ``repr`` or a log line.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.config import ConfigError, Problem

ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME: Final = timedelta(minutes=10)
CERT_FILE: Final = "POSTGATE_TEAMS_CERT_FILE"
CERT_PASSWORD: Final = "POSTGATE_TEAMS_CERT_PASSWORD"  # noqa: S105 - the variable's name
_PEM: Final = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _refused(key: str, **params: object) -> ConfigError:
    return ConfigError("environment", [Problem(CERT_FILE, key, params)])


@dataclass(frozen=True)
class Certificate:
    """The app's certificate and private key, as loaded from the PEM file."""

    key: rsa.RSAPrivateKey = field(repr=False)
    x5t: str  # base64url SHA-1 thumbprint of the DER
    x5t_s256: str  # base64url SHA-256 thumbprint of the DER
    not_after: datetime

    @classmethod
    def load(cls, path: str, password: str | None = None) -> Certificate:
        """The certificate in ``path``, or a ``ConfigError`` saying what is wrong with it
        (never its content)."""
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise _refused("teams_cert_unreadable", path=path, error=type(error).__name__) from None
        blocks = [(m.group(1).decode(), m.group(0)) for m in _PEM.finditer(data)]
        keys = [pem for label, pem in blocks if label.endswith("PRIVATE KEY")]
        certs = [pem for label, pem in blocks if label == "CERTIFICATE"]
        if not keys or not certs:
            raise _refused("teams_cert_incomplete", path=path)
        secret = password.encode() if password else None
        try:
            key = serialization.load_pem_private_key(keys[0], password=secret)
            cert = x509.load_pem_x509_certificate(certs[0])
        except (ValueError, TypeError) as error:  # a wrong password, or not PEM inside
            raise _refused("teams_cert_invalid", path=path, error=type(error).__name__) from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise _refused("teams_cert_not_rsa", path=path)
        public = cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey) or (
            public.public_numbers() != key.public_key().public_numbers()
        ):
            raise _refused("teams_cert_mismatch", path=path)
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(
            key=key,
            x5t=_b64url(hashlib.sha1(der, usedforsecurity=False).digest()),
            x5t_s256=_b64url(hashlib.sha256(der).digest()),
            not_after=cert.not_valid_after_utc,
        )

    def assertion(self, *, client_id: str, audience: str, now: datetime) -> str:
        """The signed ``client_assertion`` for one token request at ``now`` (the injected
        clock's time)."""
        at = int(now.astimezone(UTC).timestamp())
        claims = {
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": str(uuid.uuid4()),
            "nbf": at,
            "iat": at,
            "exp": at + int(ASSERTION_LIFETIME.total_seconds()),
        }
        headers = {"typ": "JWT", "x5t": self.x5t, "x5t#S256": self.x5t_s256}
        return jwt.encode(claims, self.key, algorithm="PS256", headers=headers)
