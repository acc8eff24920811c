"""The shared base of the fake platform servers: an aiohttp app on 127.0.0.1, port 0.

Every fake records each request it receives (``server.requests``: method, path, query, headers,
raw body, JSON, form fields and uploaded files) before anything else happens, and has the same
switches, which apply to the next matching requests (``method`` and a ``path`` regular
expression narrow them; by default any request matches):

- ``fail_next(status, count=1, method=None, path=None, body=None, headers=None, delay=0.0)``:
  answer with that status (body: the platform's usual error JSON) without doing anything;
- ``hang_next(count=1, method=None, path=None)``: accept-then-hang: do the work (the post is
  recorded and counted), then never answer, so the client times out after sending — the
  AMBIGUOUS case. Hung requests are released when the server stops;
- ``delay_next(seconds, count=1, method=None, path=None)``: do the work, answer after a delay;
- ``hold_next(count=1, method=None, path=None) -> asyncio.Event``: hold the request, before
  doing anything, until the test sets the event — "slow" without a clock: a test can look at
  what happened meanwhile (e.g. that the request it sent was acknowledged), then let it go.
  Held requests are released when the server stops;
- ``serve(name, body, content_type) -> url``: a static file (an image to attach) on this server.

``server.clock`` (a callable returning an aware datetime) can be replaced to move time.
Start and stop with ``async with FakeX() as x:`` or ``await server.start()`` / ``server.stop()``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import CIMultiDict

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Recorded:
    """One request as the platform received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]
    body: bytes = b""
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        """A parameter from the query string or the form body (as platforms read both)."""
        if name in self.query:
            return self.query[name]
        return self.form.get(name)


@dataclass
class Fault:
    remaining: int
    method: str | None
    path: re.Pattern[str] | None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang: bool = False
    hold: asyncio.Event | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path.fullmatch(path) is not None
        )


_RECORDED = web.RequestKey("recorded", Recorded)


def utcnow() -> datetime:
    return datetime.now(UTC)


class FakeServer:
    """A loopback HTTP server that records requests and misbehaves on demand."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.clock: Callable[[], datetime] = utcnow
        self.url = ""
        self.hung = 0  # requests answered by hanging so far
        self._faults: list[Fault] = []
        self._static: dict[str, tuple[bytes, str]] = {}
        self._release = asyncio.Event()
        self._holds: list[asyncio.Event] = []
        self._runner: web.AppRunner | None = None
        self.app = web.Application(middlewares=[self._middleware])
        self.app.router.add_get("/_static/{name}", self._serve_static)
        self.add_routes(self.app.router)

    # -- for subclasses -----------------------------------------------------------------------

    def add_routes(self, router: web.UrlDispatcher) -> None:
        raise NotImplementedError

    def error_body(self, status: int) -> Any:
        """The platform's usual error JSON for a status (used by ``fail_next``)."""
        return {"message": f"HTTP {status}"}

    # -- switches -----------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        method: str | None = None,
        path: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        self._faults.append(
            Fault(
                remaining=count,
                method=method,
                path=re.compile(path) if path else None,
                status=status,
                body=self.error_body(status) if body is None else body,
                headers=headers or {},
                delay=delay,
            )
        )

    def hang_next(
        self, *, count: int = 1, method: str | None = None, path: str | None = None
    ) -> None:
        pattern = re.compile(path) if path else None
        self._faults.append(Fault(remaining=count, method=method, path=pattern, hang=True))

    def hold_next(
        self, *, count: int = 1, method: str | None = None, path: str | None = None
    ) -> asyncio.Event:
        held = asyncio.Event()
        pattern = re.compile(path) if path else None
        self._faults.append(Fault(remaining=count, method=method, path=pattern, hold=held))
        self._holds.append(held)
        return held

    def delay_next(
        self, seconds: float, *, count: int = 1, method: str | None = None, path: str | None = None
    ) -> None:
        self._faults.append(
            Fault(
                remaining=count,
                method=method,
                path=re.compile(path) if path else None,
                delay=seconds,
            )
        )

    def serve(self, name: str, body: bytes, content_type: str) -> str:
        """Serve a static file (e.g. an image to attach) and return its URL."""
        self._static[name] = (body, content_type)
        return f"{self.url}/_static/{name}"

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        """The recorded requests with this method whose path matches the regular expression."""
        pattern = re.compile(path)
        return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> str:
        self._release = asyncio.Event()
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        self._release.set()
        for held in self._holds:
            held.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- machinery ----------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        recorded = await _record(request)
        self.requests.append(recorded)
        request[_RECORDED] = recorded
        fault = self._take_fault(request.method, request.path)
        if fault is not None and fault.hold is not None:
            await fault.hold.wait()
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            return web.json_response(fault.body, status=fault.status, headers=fault.headers)
        response = await handler(request)
        if fault is not None and fault.hang:
            self.hung += 1
            await self._release.wait()
        return response

    def _take_fault(self, method: str, path: str) -> Fault | None:
        if path.startswith("/_static/"):
            return None
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _serve_static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._static:
            raise web.HTTPNotFound
        body, content_type = self._static[name]
        return web.Response(body=body, content_type=content_type)


def recorded(request: web.Request) -> Recorded:
    """What the middleware recorded for this request (handlers read the body from here)."""
    return request[_RECORDED]


async def _record(request: web.Request) -> Recorded:
    entry = Recorded(
        method=request.method,
        path=request.path,
        query=dict(request.query),
        headers=CIMultiDict(request.headers),
    )
    if request.content_type == "multipart/form-data":
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                entry.files[name] = UploadedFile(
                    value.filename, value.content_type, value.file.read()
                )
            else:
                entry.form[name] = str(value)
        return entry
    entry.body = await request.read()
    if request.content_type == "application/x-www-form-urlencoded":
        entry.form = dict(parse_qsl(entry.body.decode(), keep_blank_values=True))
    elif request.content_type == "application/json" and entry.body:
        entry.json = json.loads(entry.body)
    return entry
