"""Loopback fakes of the social networks postgate publishes to, and pytest fixtures for them.

Each fake is a small aiohttp server on 127.0.0.1 (port 0) that speaks enough of the platform's
API for the real clients, records every request, counts what was really posted, and misbehaves on
demand. Use them as async context managers anywhere::

    async with FakeX() as x:
        client = XClient(x.credentials(), api_url=x.url, upload_url=x.url)

or through the fixtures below. To use them, either import the fixture functions into the test
module (they are registered under the short names: no F811 where a test asks for ``fake_x``)::

    from tests.fakes import fake_x_fixture  # noqa: F401 - the "fake_x" fixture

or register this module once for the whole suite in the root ``tests/conftest.py`` with
``pytest_plugins = ("tests.fakes",)`` (not in a test module: pytest would have imported the
package already and refuses to rewrite it).

===============  ==============================  ==============================================
fixture          fake                            point the client at
===============  ==============================  ==============================================
``fake_x``       ``tests.fakes.x.FakeX``         ``api_url=fake_x.url, upload_url=fake_x.url``
``fake_graph``   ``tests.fakes.graph.FakeGraph`` ``api_url=fake_graph.api_url`` (Facebook and
                                                 Instagram)
``fake_line``    ``tests.fakes.line.FakeLine``   ``api_url=fake_line.url``
===============  ==============================  ==============================================

``sns_settings(fake_x=..., fake_graph=..., fake_line=...)`` builds ``sns.factory.SnsSettings``
pointing at whichever fakes are given (for tests that go through ``build_client``).

Shared switches (``tests.fakes.server.FakeServer``): ``fail_next(status, ...)``,
``hang_next(...)`` (accept, record, never answer: the AMBIGUOUS case), ``delay_next(seconds)``,
``serve(name, body, content_type)``, ``requests`` / ``requests_to(method, path)``, ``clock``.
Platform switches and counters are listed in each module's docstring: X (``posted``,
``add_tweet``, ``user``, ``add_user``, ``add_reply``, ``rate_limit_next``, ``reject_duplicates``,
``revoked``), Graph
(``posted_to_page``, ``published_media``, ``add_page_post``, ``add_ig_media``, ``page``,
``ig_user``, ``script_containers``, ``set_container_status``, ``rate_limit_next``,
``publish_limit_next``, ``revoked``), LINE (``broadcasts``, ``accepted``, ``bot_info``,
``monthly_limit_next``, ``revoked``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sns.factory import SnsSettings
from tests.fakes.graph import FakeGraph
from tests.fakes.line import FakeLine
from tests.fakes.server import FakeServer, Recorded, UploadedFile
from tests.fakes.x import FakeX

__all__ = [
    "FakeGraph",
    "FakeLine",
    "FakeServer",
    "FakeX",
    "Recorded",
    "UploadedFile",
    "fake_graph_fixture",
    "fake_line_fixture",
    "fake_x_fixture",
    "sns_settings",
]


@pytest.fixture(name="fake_x")
async def fake_x_fixture() -> AsyncIterator[FakeX]:
    async with FakeX() as server:
        yield server


@pytest.fixture(name="fake_graph")
async def fake_graph_fixture() -> AsyncIterator[FakeGraph]:
    async with FakeGraph() as server:
        yield server


@pytest.fixture(name="fake_line")
async def fake_line_fixture() -> AsyncIterator[FakeLine]:
    async with FakeLine() as server:
        yield server


def sns_settings(
    *,
    fake_x: FakeX | None = None,
    fake_graph: FakeGraph | None = None,
    fake_line: FakeLine | None = None,
    timeout: float = 5.0,
) -> SnsSettings:
    """Settings that send each platform's calls to the given fakes (the others keep defaults)."""
    defaults = SnsSettings()
    return SnsSettings(
        x_api_url=fake_x.url if fake_x else defaults.x_api_url,
        x_upload_url=fake_x.url if fake_x else defaults.x_upload_url,
        graph_api_url=fake_graph.api_url if fake_graph else defaults.graph_api_url,
        line_api_url=fake_line.url if fake_line else defaults.line_api_url,
        timeout=timeout,
    )
