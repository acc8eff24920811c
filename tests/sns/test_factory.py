"""SnsSettings from the environment and build_client for each platform."""

from __future__ import annotations

import uuid

import pytest

from sns.base import PostRequest, SnsClient
from sns.common import CredentialsError, SnsConfigError
from sns.facebook import FacebookClient
from sns.factory import SnsSettings, build_client
from sns.instagram import InstagramClient
from sns.line import LineClient
from sns.x import XClient
from tests.fakes import (  # noqa: F401 - the "fake_*" fixtures
    fake_graph_fixture,
    fake_line_fixture,
    fake_x_fixture,
    sns_settings,
)
from tests.fakes.graph import FakeGraph
from tests.fakes.line import FakeLine
from tests.fakes.x import FakeX
from tests.sns import RecordingCheckpoint, no_checkpoint
from workflows.checks.model import Platform
from workflows.org import Account


def account(platform: Platform, handle: str = "midori_city") -> Account:
    return Account(
        id=f"city-{platform.value}",
        platform=platform,
        handle=handle,
        display_name="みどり市",
        owner_section="広報課",
        approving_section="広報課",
    )


def test_defaults_are_the_real_hosts() -> None:
    settings = SnsSettings.from_env({})

    assert settings == SnsSettings(
        x_api_url="https://api.twitter.com",
        x_upload_url="https://api.x.com",
        graph_api_url="https://graph.facebook.com/v21.0",
        line_api_url="https://api.line.me",
        timeout=30.0,
    )


def test_each_base_url_and_the_timeout_can_be_overridden() -> None:
    settings = SnsSettings.from_env(
        {
            "POSTGATE_X_API_URL": "https://proxy.city.example/x/",
            "POSTGATE_X_UPLOAD_URL": "https://proxy.city.example/x-upload",
            "POSTGATE_GRAPH_API_URL": "https://proxy.city.example/graph/v21.0",
            "POSTGATE_LINE_API_URL": "http://127.0.0.1:8099",
            "POSTGATE_SNS_TIMEOUT": "12.5",
            "POSTGATE_UNRELATED": "ignored",
        }
    )

    assert settings.x_api_url == "https://proxy.city.example/x/"
    assert settings.x_upload_url == "https://proxy.city.example/x-upload"
    assert settings.graph_api_url == "https://proxy.city.example/graph/v21.0"
    assert settings.line_api_url == "http://127.0.0.1:8099"
    assert settings.timeout == 12.5


def test_an_empty_variable_keeps_the_default() -> None:
    assert SnsSettings.from_env({"POSTGATE_LINE_API_URL": " "}).line_api_url == (
        "https://api.line.me"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("POSTGATE_X_API_URL", "api.twitter.com"),
        ("POSTGATE_GRAPH_API_URL", "ftp://graph.example"),
        ("POSTGATE_LINE_API_URL", "https://api.line.me?x=1"),
        ("POSTGATE_SNS_TIMEOUT", "soon"),
        ("POSTGATE_SNS_TIMEOUT", "0"),
        ("POSTGATE_SNS_TIMEOUT", "nan"),
    ],
)
def test_a_bad_setting_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SnsConfigError, match=name):
        SnsSettings.from_env({name: value})


def test_settings_are_frozen() -> None:
    settings = SnsSettings()
    with pytest.raises(AttributeError):
        settings.timeout = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("platform", "credentials", "cls"),
    [
        (
            Platform.X,
            {
                "consumer_key": "ck-value",
                "consumer_secret": "cs-value",
                "access_token": "at-value",
                "access_token_secret": "ats-value",
            },
            XClient,
        ),
        (
            Platform.FACEBOOK,
            {"page_id": "1", "page_access_token": "token", "app_secret": "secret"},
            FacebookClient,
        ),
        (
            Platform.INSTAGRAM,
            {"ig_user_id": "1", "access_token": "token", "app_secret": "secret"},
            InstagramClient,
        ),
        (Platform.LINE, {"channel_access_token": "token"}, LineClient),
    ],
)
async def test_build_client_makes_the_platforms_client(
    platform: Platform, credentials: dict[str, str], cls: type
) -> None:
    client: SnsClient = build_client(account(platform), credentials, SnsSettings())
    try:
        assert isinstance(client, cls)
        assert client.platform is platform
    finally:
        await client.close()


def test_missing_credentials_are_named_without_any_value() -> None:
    given = {"consumer_key": "ck-SECRET-VALUE", "access_token": "  "}

    with pytest.raises(CredentialsError) as caught:
        build_client(account(Platform.X), given, SnsSettings())

    message = str(caught.value)
    assert "city-x" in message
    assert "consumer_secret" in message
    assert "access_token," in message or message.endswith("access_token_secret")
    assert "access_token_secret" in message
    assert "SECRET-VALUE" not in message


async def test_built_clients_publish_to_the_configured_hosts(
    fake_x: FakeX, fake_graph: FakeGraph, fake_line: FakeLine
) -> None:
    settings = sns_settings(fake_x=fake_x, fake_graph=fake_graph, fake_line=fake_line)
    clients = [
        build_client(account(Platform.X), fake_x.credentials(), settings),
        build_client(account(Platform.FACEBOOK), fake_graph.facebook_credentials(), settings),
        build_client(account(Platform.INSTAGRAM), fake_graph.instagram_credentials(), settings),
        build_client(account(Platform.LINE), fake_line.credentials(), settings),
    ]
    post = PostRequest(
        text="【みどり市】市民まつりのお知らせ",
        media=("https://www.city.midori.example.jp/img/matsuri.jpg",),
        idempotency_key=str(uuid.uuid4()),
    )
    text_only = PostRequest(text=post.text, idempotency_key=post.idempotency_key)
    try:
        await clients[0].publish(text_only, material={}, checkpoint=no_checkpoint)
        await clients[1].publish(post, material={}, checkpoint=no_checkpoint)
        await clients[2].publish(post, material={}, checkpoint=RecordingCheckpoint())
        await clients[3].publish(post, material={}, checkpoint=no_checkpoint)
    finally:
        for client in clients:
            await client.close()

    assert len(fake_x.posted) == 1
    assert len(fake_graph.posted_to_page) == 1
    assert len(fake_graph.published_media) == 1
    assert len(fake_line.broadcasts) == 1
