"""Every outbound client goes through the city's proxy (HTTP(S)_PROXY) unless NO_PROXY says not.

The fakes are plain HTTP on 127.0.0.1, so the clients are pointed at them with ``HTTP_PROXY``
(the same code path as ``HTTPS_PROXY`` for https URLs, where the proxy gets a CONNECT); the
loopback proxy records every request that went through it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.proxy import proxy_for
from bot.slack.app import SlackSettings, web_client
from sns.facebook import FacebookClient
from sns.line import LineClient
from sns.x import XClient
from tests.fakes.graph import FakeGraph
from tests.fakes.line import FakeLine
from tests.fakes.proxy import LoopbackProxy
from tests.fakes.slack import FakeSlack
from tests.fakes.x import FakeX


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LoopbackProxy]:
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)  # a default NO_PROXY would skip 127.0.0.1
    async with LoopbackProxy() as server:
        monkeypatch.setenv("HTTP_PROXY", server.url)
        yield server


async def test_x_graph_and_line_clients_go_through_the_proxy(proxy: LoopbackProxy) -> None:
    async with FakeX() as x, FakeGraph() as graph, FakeLine() as line:
        clients = (
            XClient(x.credentials(), api_url=x.url, upload_url=x.url, timeout=5),
            FacebookClient(graph.facebook_credentials(), api_url=graph.api_url, timeout=5),
            LineClient(line.credentials(), api_url=line.url, timeout=5),
        )
        try:
            profiles = [await client.profile() for client in clients]
        finally:
            for client in clients:
                await client.close()
    assert [p.name for p in profiles] == ["みどり市", "みどり市", "みどり市"]
    assert f"GET {x.url}/2/users/me" in [s.split("?")[0] for s in proxy.seen]  # tweepy, requests
    assert any(s.startswith(f"GET {graph.api_url}/{graph.page_id}") for s in proxy.seen)  # aiohttp
    assert f"GET {line.url}/v2/bot/info" in proxy.seen
    assert x.requests_to("GET", "/2/users/me")  # and the platforms got them


async def test_the_slack_web_api_client_goes_through_the_proxy(
    proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeSlack() as slack:
        environ = {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": slack.api_url,
            "HTTP_PROXY": proxy.url,
        }
        settings = SlackSettings.from_env(environ)
        assert settings is not None
        assert settings.proxy == proxy.url
        answer = await web_client(settings).auth_test()
        assert answer["ok"] is True
        assert proxy.seen == [f"POST {slack.api_url}auth.test"]
        # NO_PROXY covers the Slack host: straight there, although HTTP_PROXY is still set
        # (slack_sdk alone would fall back to it).
        bypassed = SlackSettings.from_env({**environ, "NO_PROXY": "127.0.0.1"})
        assert bypassed is not None
        assert bypassed.proxy is None
        await web_client(bypassed).auth_test()
    assert len(proxy.seen) == 1
    assert len(slack.calls_to("auth.test")) == 2


async def test_no_proxy_sends_the_platform_clients_straight_to_the_host(
    proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    async with FakeX() as x, FakeLine() as line:
        clients = (
            XClient(x.credentials(), api_url=x.url, upload_url=x.url, timeout=5),
            LineClient(line.credentials(), api_url=line.url, timeout=5),
        )
        try:
            for client in clients:
                await client.profile()
        finally:
            for client in clients:
                await client.close()
    assert proxy.seen == []
    assert line.requests_to("GET", "/v2/bot/info")


async def test_the_proxy_tunnels_connect_for_https(proxy: LoopbackProxy) -> None:
    async with FakeLine() as line:
        host_port = line.url.removeprefix("http://")
        reader, writer = await asyncio.open_connection(
            *proxy.url.removeprefix("http://").split(":")
        )
        writer.write(f"CONNECT {host_port} HTTP/1.1\r\nHost: {host_port}\r\n\r\n".encode())
        await writer.drain()
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        writer.write(
            f"GET /v2/bot/info HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        answer = await reader.read()
        writer.close()
        await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.1 401")  # no token: LINE's answer came through the tunnel
    assert proxy.seen == [f"CONNECT {host_port}"]


@pytest.mark.parametrize(
    ("url", "environ", "expected"),
    [
        (
            "https://slack.com/api/",
            {"HTTPS_PROXY": "http://proxy.lg.jp:8080"},
            "http://proxy.lg.jp:8080",
        ),
        ("https://slack.com/api/", {"https_proxy": "http://p:1"}, "http://p:1"),
        ("https://slack.com/api/", {"HTTP_PROXY": "http://p:1"}, None),
        (
            "https://slack-gov.com/api/",
            {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".slack-gov.com"},
            None,
        ),
        ("https://slack.com/api/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, None),
        (
            "https://slack.com/api/",
            {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com"},
            "http://p:1",
        ),
        ("https://slack.com/api/", {}, None),
    ],
)
def test_proxy_for_reads_the_variables_like_curl(
    url: str, environ: dict[str, str], expected: str | None
) -> None:
    assert proxy_for(url, environ) == expected
