from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from bot.app import build_app
from bot.config import load_config

REPO = Path(__file__).resolve().parents[2]


async def test_healthz_reports_the_loaded_organisation() -> None:
    server = TestServer(build_app(load_config(REPO / "app.yaml")), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.make_url("/healthz")) as response,
        ):
            assert response.status == 200
            body = await response.json()
    finally:
        await server.close()
    assert body == {"status": "ok", "organisation": "みどり市", "accounts": 9}
