"""Sign-in, sessions, CSRF and the security headers of the web console.

Shell access already means trust: ``postgate web link --as MEMBER`` issues a one-time sign-in
link (15 minutes, stored hashed, redeemed once). Redeeming it starts a session: a random secret
in an HttpOnly, SameSite=Lax cookie (Secure behind HTTPS), stored hashed with its expiry. Every
form carries a CSRF token derived from the session's secret (HMAC), so a page of another site
cannot act for the signed-in person; the live check sends it as a header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from aiohttp import web
from aiohttp.web_log import AccessLogger
from sqlmodel import Session
from yarl import URL

from bot.config import ConfigError, Problem
from handlers.drafts import Clock
from storage import audit
from storage import web as tokens
from storage.engine import Database
from storage.tables import WebToken
from workflows.org import Directory, Member

SIGNIN_LINK_LIFETIME: Final = timedelta(minutes=15)
SESSION_LIFETIME: Final = timedelta(hours=12)
OIDC_STATE_LIFETIME: Final = timedelta(minutes=10)
SESSION_COOKIE: Final = "postgate_session"
CSRF_FIELD: Final = "csrf"
CSRF_HEADER: Final = "X-CSRF-Token"

# Scripts and styles only from the console itself (no inline script or style, no third party);
# no framing, no plugins, forms only back to the console.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # A sign-in link is in the address bar until redeemed: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class SecureCookies(StrEnum):
    AUTO = "auto"  # Secure when the request came over HTTPS (or X-Forwarded-Proto: https)
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class WebSettings:
    """``POSTGATE_WEB_URL``: the console's address as people reach it (for sign-in links);
    ``POSTGATE_WEB_SECURE_COOKIES``: auto (default), always or never."""

    base_url: str = "http://127.0.0.1:8080"
    secure_cookies: SecureCookies = SecureCookies.AUTO

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> WebSettings:
        host = environ.get("POSTGATE_HOST", "127.0.0.1")
        port = environ.get("POSTGATE_PORT", "8080")
        base = environ.get("POSTGATE_WEB_URL") or f"http://{host}:{port}"
        secure = environ.get("POSTGATE_WEB_SECURE_COOKIES", SecureCookies.AUTO.value).lower()
        try:
            mode = SecureCookies(secure)
        except ValueError:
            choices = ", ".join(m.value for m in SecureCookies)
            problem = Problem(
                "POSTGATE_WEB_SECURE_COOKIES",
                "env_choice",
                {"value": repr(secure), "choices": choices},
            )
            raise ConfigError("environment", [problem]) from None
        return cls(base_url=base.rstrip("/"), secure_cookies=mode)


def issue_signin_link(db: Database, member: Member, settings: WebSettings, *, at: datetime) -> str:
    """A one-time sign-in address for ``member``, valid for 15 minutes (audited)."""
    with db.session() as session:
        token, row = tokens.issue(
            session,
            kind=tokens.TokenKind.SIGNIN,
            member_id=member.id,
            at=at,
            lifetime=SIGNIN_LINK_LIFETIME,
        )
        audit.append(
            session,
            actor=member.id,
            action="web.link_issued",
            subject=f"member:{member.id}",
            details={"token": row.id, "expires_at": (at + SIGNIN_LINK_LIFETIME).isoformat()},
            at=at,
        )
    return f"{settings.base_url}/signin/{token}"


def start_session(db: Database, signin_token: str, *, at: datetime) -> tuple[str, str] | None:
    """Redeem a sign-in link: (session secret, member id), or None if it is unknown, expired
    or already used."""
    with db.session() as session:
        link = tokens.redeem(session, signin_token, at=at)
        if link is None:
            return None
        secret = _open_session(session, link.member_id, at=at, details={"link": link.id})
        return secret, link.member_id


def oidc_state(db: Database, *, at: datetime) -> tuple[str, str]:
    """A new (state, nonce) for a sign-in at the identity provider, valid 10 minutes."""
    nonce = secrets.token_urlsafe(24)
    with db.session() as session:
        state, _ = tokens.issue(
            session,
            kind=tokens.TokenKind.OIDC,
            member_id="-",
            at=at,
            lifetime=OIDC_STATE_LIFETIME,
            label=nonce,
        )
    return state, nonce


def redeem_oidc_state(db: Database, state: str, *, at: datetime) -> str | None:
    """The nonce of a live state, used up by this call; None if unknown, expired or used."""
    with db.session() as session:
        row = tokens.redeem(session, state, at=at, kind=tokens.TokenKind.OIDC)
        return row.label if row else None


def start_oidc_session(db: Database, member_id: str, *, at: datetime, subject: str) -> str:
    """A session for a member the identity provider vouched for (audited with its subject)."""
    with db.session() as session:
        return _open_session(session, member_id, at=at, details={"oidc_subject": subject})


def _open_session(
    session: Session, member_id: str, *, at: datetime, details: dict[str, Any]
) -> str:
    secret, row = tokens.issue(
        session,
        kind=tokens.TokenKind.SESSION,
        member_id=member_id,
        at=at,
        lifetime=SESSION_LIFETIME,
    )
    audit.append(
        session,
        actor=member_id,
        action="web.signed_in",
        subject=f"member:{member_id}",
        details={**details, "session": row.id},
        at=at,
    )
    return secret


def end_session(db: Database, secret: str, *, at: datetime) -> None:
    with db.session() as session:
        row = tokens.find(session, tokens.TokenKind.SESSION, secret, at=at)
        if row is not None:
            tokens.revoke(session, row, at=at)
            audit.append(
                session,
                actor=row.member_id,
                action="web.signed_out",
                subject=f"member:{row.member_id}",
                details={"session": row.id},
                at=at,
            )


def session_row(db: Database, secret: str, *, at: datetime) -> WebToken | None:
    with db.session(read_only=True) as session:
        return tokens.find(session, tokens.TokenKind.SESSION, secret, at=at)


def csrf_token(secret: str) -> str:
    return hmac.new(secret.encode(), b"postgate-csrf", hashlib.sha256).hexdigest()


def csrf_ok(secret: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_token(secret), presented)


def set_session_cookie(
    response: web.StreamResponse, request: web.Request, secret: str, settings: WebSettings
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=is_secure(request, settings),
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")


def is_secure(request: web.Request, settings: WebSettings) -> bool:
    """Whether cookies get the Secure flag (over HTTPS, unless configured otherwise)."""
    if settings.secure_cookies is SecureCookies.ALWAYS:
        return True
    if settings.secure_cookies is SecureCookies.NEVER:
        return False
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person of a request: their member record, session secret and CSRF token."""

    member: Member
    secret: str

    @property
    def csrf(self) -> str:
        return csrf_token(self.secret)


@dataclass(frozen=True, slots=True)
class Unknown:
    """A valid session whose member is no longer in app.yaml."""

    member_id: str


def viewer_of(
    request: web.Request, db: Database, directory: Directory, clock: Clock
) -> Viewer | Unknown | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    row = session_row(db, secret, at=clock())
    if row is None:
        return None
    member = directory.member(row.member_id)
    if member is None:
        return Unknown(row.member_id)
    return Viewer(member, secret)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the console's headers on every answer except the chat
    platforms' endpoints."""
    if request.path.startswith(("/slack/", "/api/")):  # the chat platforms' endpoints
        return
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def redacted(url: URL) -> URL:
    """``url`` without its secrets: a sign-in link's token, a feed's ``token`` parameter."""
    hidden = "[redacted]"
    if url.path.startswith("/signin/"):
        url = url.with_path(f"/signin/{hidden}")
    if "token" in url.query:
        url = url.update_query({"token": hidden})
    return url


class RedactingAccessLogger(AccessLogger):
    """aiohttp's access log, with sign-in links and feed tokens left out."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        safe = redacted(request.rel_url)
        super().log(
            request if safe == request.rel_url else request.clone(rel_url=safe), response, time
        )
