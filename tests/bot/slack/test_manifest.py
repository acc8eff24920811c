"""`postgate slack manifest`."""

from __future__ import annotations

import json

import pytest
import yaml

from bot.cli import main
from bot.slack import ids


def test_http_mode_manifest_points_everything_at_slack_events(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["slack", "manifest", "--mode", "http", "--url", "https://postgate.example.jp/"])
    assert code == 0
    data = yaml.safe_load(capsys.readouterr().out)
    url = "https://postgate.example.jp/slack/events"
    settings = data["settings"]
    assert settings["event_subscriptions"]["request_url"] == url
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert settings["socket_mode_enabled"] is False
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "message.channels",
        "message.groups",
    }
    [command] = data["features"]["slash_commands"]
    assert (command["command"], command["url"]) == (ids.COMMAND, url)
    assert set(data["oauth_config"]["scopes"]["bot"]) == {
        "chat:write",
        "im:write",
        "commands",
        "channels:history",
        "groups:history",
    }
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert "みどり市" in data["display_information"]["description"]


def test_socket_mode_manifest_needs_no_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack", "manifest", "--mode", "socket", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in data["settings"]["event_subscriptions"]
    assert "url" not in data["features"]["slash_commands"][0]


def test_http_mode_without_a_url_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    assert main(["slack", "manifest"]) == 2
    assert "--url" in capsys.readouterr().err
