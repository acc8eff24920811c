"""A loopback forward proxy, like a city hall's outbound proxy, that records what went through.

It speaks both ways a client uses a proxy:

- ``CONNECT host:port`` (https URLs): answers 200 and tunnels bytes both ways;
- an absolute URI (``GET http://host:port/path HTTP/1.1``, http URLs through ``HTTP_PROXY``):
  forwards that one request to the host with ``Connection: close`` and relays the answer.

``proxy.seen`` lists each request line (``"CONNECT 127.0.0.1:1234"``, ``"GET http://…"``).
Start with ``async with LoopbackProxy() as proxy:``; ``proxy.url`` is ``http://127.0.0.1:PORT``.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit


class LoopbackProxy:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.url = ""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:  # cancelled at stop if a client keeps its connection open
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        upstream: asyncio.StreamWriter | None = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, version = request_line.split(" ", 2)
            self.seen.append(f"{method} {target}")
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                up_reader, up_writer = await asyncio.open_connection(host, int(port))
                upstream = up_writer
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await asyncio.gather(
                    _pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True
                )
                return
            url = urlsplit(target)
            headers = [
                line
                for line in header_lines
                if line and not line.lower().startswith(("connection:", "proxy-connection:"))
            ]
            length = next(
                (
                    int(h.split(":", 1)[1])
                    for h in headers
                    if h.lower().startswith("content-length:")
                ),
                0,
            )
            body = await reader.readexactly(length) if length else b""
            up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port or 80)
            upstream = up_writer
            path = url.path + (f"?{url.query}" if url.query else "")
            forwarded = "\r\n".join([f"{method} {path or '/'} {version}", *headers])
            up_writer.write(forwarded.encode("latin-1") + b"\r\nConnection: close\r\n\r\n" + body)
            await up_writer.drain()
            await _pipe(up_reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            for stream in (writer, upstream):
                if stream is not None:
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        stream.close()
                        await stream.wait_closed()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    finally:
        with contextlib.suppress(ConnectionError, RuntimeError):
            writer.close()
            await writer.wait_closed()
