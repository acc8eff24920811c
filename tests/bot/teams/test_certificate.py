"""The bot's outbound token with a certificate instead of the client secret
(``POSTGATE_TEAMS_CERT_FILE``): a client assertion signed with the certificate's key, verified by
the fake token endpoint with the certificate's public key, through real HTTP."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qsl

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from bot.config import AppConfig, ConfigError
from bot.teams.auth import TeamsSettings
from storage.engine import Database
from tests.bot.server_harness import running
from tests.bot.slack.harness import CLEAN
from tests.bot.teams import test_flow as teams_flow
from tests.bot.teams.harness import APP_SECRET, DRAFTS, TeamsHarness, card_text, teams_env
from tests.fakes.teams import APP_ID, FakeTeams, pem, self_signed, thumbprint
from tests.handlers.conftest import FixedClock

PASSWORD = "CANARY-teams-cert-password"


def cert_env(fake: FakeTeams, path: Path, **extra: str) -> dict[str, str]:
    env = teams_env(fake, POSTGATE_TEAMS_CERT_FILE=str(path), **extra)
    del env["POSTGATE_TEAMS_APP_SECRET"]
    return env


async def test_a_draft_is_answered_with_a_certificate_instead_of_a_secret(
    fake_teams: FakeTeams,
    *,
    database: Database,
    config: AppConfig,
    clock: FixedClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key, cert = self_signed(clock.now)
    path = tmp_path / "postgate-teams.pem"
    path.write_bytes(pem(key, cert, PASSWORD.encode()))
    fake_teams.certificate = cert  # what the city uploaded to the app registration
    caplog.set_level(logging.DEBUG)
    env = cert_env(fake_teams, path, POSTGATE_TEAMS_CERT_PASSWORD=PASSWORD)
    async with running(TeamsHarness(fake_teams, database, config, clock, env)) as teams:
        post_id = await teams_flow.draft(teams, CLEAN)
        # The card reached the thread: the Bot Connector took the token the assertion earned.
        assert "投稿案 #1" in card_text(teams.card(post_id).card)

    [claims] = fake_teams.assertions
    assert claims["iss"] == claims["sub"] == APP_ID
    assert claims["aud"] == f"{fake_teams.url}/token"
    assert claims["nbf"] == claims["iat"] == int(clock.now.timestamp())  # the injected clock
    assert claims["exp"] - claims["nbf"] == 600
    [request] = fake_teams.requests_to("POST", "/token")
    form = dict(parse_qsl(request.body.decode()))
    assert "client_secret" not in form
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    header = jwt.get_unverified_header(form["client_assertion"])
    assert header["alg"] == "PS256"
    assert header["x5t#S256"] == thumbprint(cert.public_bytes(serialization.Encoding.DER))
    assert "x5t" in header
    # Neither the assertion, the key nor its password reach the logs.
    key_body = pem(key, None).decode().splitlines()[1]
    for secret in (form["client_assertion"], PASSWORD, key_body, APP_SECRET):
        assert secret not in caplog.text


async def test_a_certificate_the_app_registration_does_not_know_earns_no_token(
    fake_teams: FakeTeams,
    database: Database,
    config: AppConfig,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    key, cert = self_signed(clock.now)
    path = tmp_path / "postgate-teams.pem"
    path.write_bytes(pem(key, cert))
    fake_teams.certificate = self_signed(clock.now)[1]  # another certificate was uploaded
    async with running(
        TeamsHarness(fake_teams, database, config, clock, cert_env(fake_teams, path))
    ) as teams:
        post_id = await teams_flow.draft(teams, CLEAN)
        assert fake_teams.thread(DRAFTS, post_id) == []
    assert fake_teams.assertions == []
    assert fake_teams.tokens_issued == 0


def broken(tmp_path: Path, clock: FixedClock, kind: str) -> tuple[dict[str, str], str]:
    """An environment with an unusable certificate file, and what postgate says of it."""
    key, cert = self_signed(clock.now)
    path = tmp_path / "bad.pem"
    env = {
        "POSTGATE_TEAMS_APP_ID": APP_ID,
        "POSTGATE_TEAMS_TENANT_ID": "tenant",
        "POSTGATE_TEAMS_CERT_FILE": str(path),
    }
    if kind == "missing":
        return env, f"証明書ファイル {path} を読めません（FileNotFoundError）"
    if kind == "key only":
        path.write_bytes(pem(key, None))
        return env, "秘密鍵（BEGIN PRIVATE KEY）と証明書（BEGIN CERTIFICATE）の両方をPEM形式で"
    if kind == "wrong password":
        path.write_bytes(pem(key, cert, b"the-right-one"))
        env["POSTGATE_TEAMS_CERT_PASSWORD"] = "a-wrong-one"
        return env, "POSTGATE_TEAMS_CERT_PASSWORD を確認してください"
    path.write_bytes(pem(self_signed(clock.now)[0], cert))  # another certificate's key
    return env, "秘密鍵と証明書が対応していません"


@pytest.mark.parametrize("kind", ["missing", "key only", "wrong password", "mismatch"])
def test_an_unusable_certificate_file_is_refused_with_what_is_wrong(
    tmp_path: Path, clock: FixedClock, kind: str
) -> None:
    env, said = broken(tmp_path, clock, kind)
    with pytest.raises(ConfigError) as refused:
        TeamsSettings.from_env(env)
    text = refused.value.message()
    assert "POSTGATE_TEAMS_CERT_FILE" in text
    assert said in text
    assert "PRIVATE KEY-----\nMII" not in text  # never the file's content


def test_the_certificate_wins_over_a_secret_and_neither_is_in_repr(
    tmp_path: Path, clock: FixedClock
) -> None:
    key, cert = self_signed(clock.now)
    path = tmp_path / "postgate-teams.pem"
    path.write_bytes(pem(key, cert))
    env = {
        "POSTGATE_TEAMS_APP_ID": APP_ID,
        "POSTGATE_TEAMS_TENANT_ID": "tenant",
        "POSTGATE_TEAMS_APP_SECRET": APP_SECRET,
        "POSTGATE_TEAMS_CERT_FILE": str(path),
    }
    settings = TeamsSettings.from_env(env)
    assert settings is not None
    assert settings.certificate is not None
    assert settings.app_secret is None
    assert APP_SECRET not in repr(settings)
    assert "Certificate" not in repr(settings)
