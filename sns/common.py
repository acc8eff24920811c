"""What the four platform clients share: credentials, redaction, one aiohttp session, error kinds.

The clients never put a secret into a log line or an error: every text that leaves a client goes
through its ``Redactor`` (credential values and derived proofs replaced by ``***``), and transport
exceptions are re-raised as ``SnsError`` without their cause, whose text may carry a URL.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDictProxy

from sns.base import ErrorKind, SnsError
from workflows.checks.model import Platform
from workflows.errors import PostgateError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
# How far before ``sent_after`` a reconciliation looks, for clock skew between us and the platform.
CLOCK_SKEW = timedelta(minutes=2)
_MAX_MESSAGE = 500
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class SnsConfigError(PostgateError):
    """A client cannot be built: a setting or a credential is missing or malformed."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class CredentialsError(SnsConfigError):
    """Credentials are missing; only their names are shown, never a value."""


def require_credentials(
    platform: Platform, credentials: Mapping[str, str], names: Iterable[str]
) -> dict[str, str]:
    """The credentials a client needs, or an error naming every missing one."""
    wanted = tuple(names)
    missing = [name for name in wanted if not (credentials.get(name) or "").strip()]
    if missing:
        raise CredentialsError(
            f"{platform.value}: 認証情報がありません / missing credentials: {', '.join(missing)}"
        )
    return {name: credentials[name].strip() for name in wanted}


def check_base_url(name: str, url: str) -> str:
    """An http(s) base URL without a trailing slash, or an error naming the setting."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise SnsConfigError(f"{name}: an http(s) base URL is required, got {url!r}")
    return url.rstrip("/")


class Redactor:
    """Replaces every known secret in a text by ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        # Very short values (an id like "1") would blank out ordinary text and are not secrets.
        if len(secret) >= 6 and secret not in self._secrets:
            self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        if len(text) > _MAX_MESSAGE:
            text = text[: _MAX_MESSAGE - 1] + "…"
        return text


def normalise_text(text: str) -> str:
    """Text as compared across a round trip to a platform: NFC, whitespace collapsed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def without_urls(text: str) -> str:
    return _URL.sub(" ", text)


def find_urls(text: str) -> list[str]:
    return [url.rstrip(".,;:!?)」』】）") for url in _URL.findall(text)]


def parse_time(value: object) -> datetime | None:
    """A platform timestamp ("2026-11-20T01:00:00+0000", "...000Z") as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    for parse in (
        datetime.fromisoformat,
        lambda v: datetime.strptime(v, "%Y-%m-%dT%H:%M:%S%z"),
    ):
        try:
            parsed = parse(value)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def retry_after(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """``Retry-After`` in seconds, as a time."""
    value = headers.get("Retry-After", "")
    if value.strip().isdigit():
        return now + timedelta(seconds=int(value))
    return None


@dataclass(frozen=True, slots=True)
class HttpResult:
    """A platform's answer, whatever its status: the client maps it to a result or an error."""

    status: int
    headers: CIMultiDictProxy[str]
    body: Any  # the decoded JSON, or None
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json_object(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


class HttpTransport:
    """One aiohttp session for one client, created on first use inside the running loop."""

    def __init__(self, *, platform: Platform, timeout: float, redact: Redactor) -> None:
        if timeout <= 0:
            raise SnsConfigError(f"{platform.value}: the timeout must be positive, got {timeout}")
        self.platform = platform
        self.redact = redact
        # The connect phase has its own, shorter limit: a timeout there means nothing was sent.
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout / 2, 10.0))
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # trust_env: the city's outbound proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
            self._session = aiohttp.ClientSession(timeout=self._timeout, trust_env=True)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def error(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_at: datetime | None = None,
    ) -> SnsError:
        return SnsError(
            kind, self.redact(message), platform=self.platform, status=status, retry_at=retry_at
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        action: str,
        mutating: bool,
        params: Mapping[str, str] | None = None,
        data: Any = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResult:
        """Send one request; transport failures become ``SnsError``, any HTTP answer is returned.

        ``mutating``: the request changes something on the platform (a post), so a failure after
        it was sent is AMBIGUOUS; for anything else it is simply RETRYABLE.
        """
        path = urlsplit(url).path
        try:
            async with self.session().request(
                method, url, params=params, data=data, json=json_body, headers=headers
            ) as response:
                raw = await response.read()
                status, response_headers = response.status, response.headers
        except (aiohttp.ConnectionTimeoutError, aiohttp.ClientConnectorError) as exc:
            log.debug("%s %s %s: not connected (%s)", self.platform, method, path, type(exc))
            raise self.error(
                ErrorKind.RETRYABLE, f"{action}: could not connect ({type(exc).__name__})"
            ) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.debug("%s %s %s: no answer (%s)", self.platform, method, path, type(exc))
            kind = ErrorKind.AMBIGUOUS if mutating else ErrorKind.RETRYABLE
            reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
            raise self.error(
                kind,
                f"{action}: no answer after sending ({reason})"
                + ("; the platform may have accepted it" if mutating else ""),
            ) from None
        log.debug("%s %s %s -> %d", self.platform, method, path, status)
        text = raw.decode("utf-8", errors="replace")
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            body = None
        return HttpResult(status=status, headers=response_headers, body=body, text=text)

    async def download(
        self, url: str, *, max_bytes: int, allowed_types: Mapping[str, str]
    ) -> tuple[bytes, str]:
        """Fetch a media file by URL (nothing is posted yet, so every failure can be retried)."""
        action = "download media"
        try:
            async with self.session().get(url) as response:
                if response.status >= 500:
                    raise self.error(
                        ErrorKind.RETRYABLE, f"{action}: HTTP {response.status} from the media host"
                    )
                if response.status != 200:
                    raise self.error(
                        ErrorKind.PERMANENT,
                        f"画像を取得できません / media URL answered HTTP {response.status}: {url}",
                    )
                content_type = response.content_type
                if content_type not in allowed_types:
                    raise self.error(
                        ErrorKind.PERMANENT,
                        f"この形式の画像は投稿できません / unsupported media type "
                        f"{content_type!r}: {url}",
                    )
                if (response.content_length or 0) > max_bytes:
                    raise self.error(ErrorKind.PERMANENT, _too_large(url, max_bytes))
                body = bytearray()
                async for chunk in response.content.iter_chunked(65536):
                    body += chunk
                    if len(body) > max_bytes:
                        raise self.error(ErrorKind.PERMANENT, _too_large(url, max_bytes))
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self.error(ErrorKind.RETRYABLE, f"{action}: {type(exc).__name__}") from None
        return bytes(body), content_type


def _too_large(url: str, max_bytes: int) -> str:
    return f"画像が大きすぎます / media larger than {max_bytes // 1_000_000} MB: {url}"
