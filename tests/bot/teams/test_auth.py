"""Every request to /api/messages is checked before anything in it is acted on or stored."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from tests.bot.slack.harness import CLEAN
from tests.bot.teams.harness import APP_SECRET, TAKAHASHI, TeamsHarness
from tests.fakes.teams import other_key


@pytest.mark.parametrize(
    "forge",
    [
        "no header",
        "not bearer",
        "garbage",
        "other key",
        "unknown kid",
        "expired",
        "wrong audience",
        "wrong issuer",
        "wrong serviceurl",
        "no serviceurl",
        "wrong tenant",
        "not endorsed",
        "foreign service host",
    ],
)
async def test_a_forged_request_is_refused_and_nothing_is_stored(
    teams: TeamsHarness, forge: str
) -> None:
    fake, now = teams.fake, teams.clock()
    activity = teams.post_activity(TAKAHASHI, CLEAN)
    token = fake.token(now)
    header = None
    if forge == "no header":
        header = ""
    elif forge == "not bearer":
        header = f"Basic {token}"
    elif forge == "garbage":
        header = "Bearer not.a.jwt"
    elif forge == "other key":
        token = fake.token(now, key=other_key())
    elif forge == "unknown kid":
        token = fake.token(now, kid="rotated-away")
    elif forge == "expired":  # by the injected clock: an hour old, beyond the 5-minute skew
        token = fake.token(now - timedelta(hours=1, minutes=6))
    elif forge == "wrong audience":
        token = fake.token(now, aud="11111111-2222-4333-8444-555555555555")
    elif forge == "wrong issuer":
        token = fake.token(now, iss="https://sts.windows.net/evil/")
    elif forge == "wrong serviceurl":
        token = fake.token(now, serviceurl="https://smba.trafficmanager.net/evil/")
    elif forge == "no serviceurl":
        token = fake.token(now, drop=("serviceurl",))
    elif forge == "wrong tenant":
        activity["channelData"]["tenant"]["id"] = "ffffffff-0000-4000-8000-000000000000"
    elif forge == "not endorsed":
        fake.endorsements = ["webchat"]
    elif forge == "foreign service host":  # a token for another host: never followed
        activity["serviceUrl"] = "http://127.0.0.2:9/"
        token = fake.token(now, serviceurl="http://127.0.0.2:9/")
    reply = await teams.send(activity, token=token, header=header)
    await teams.settle()
    assert reply.status == 401
    assert teams.stored() == (0, 0, 0)
    assert not fake.activities


async def test_a_token_within_the_clock_skew_is_accepted(teams: TeamsHarness) -> None:
    token = teams.fake.token(teams.clock() - timedelta(hours=1, minutes=4))  # 4 min past exp
    reply = await teams.send(teams.post_activity(TAKAHASHI, CLEAN), token=token)
    await teams.settle()
    assert reply.status == 200
    assert len(teams.drafts()) == 1


async def test_rotated_keys_are_fetched_again(teams: TeamsHarness) -> None:
    assert (await teams.post(TAKAHASHI, CLEAN))[1].status == 200
    fetched = len(teams.fake.requests_to("GET", "/keys"))
    for n in range(5):  # made-up key ids: refused, without asking Microsoft each time
        forged = teams.fake.token(teams.clock(), kid=f"made-up-{n}")
        assert (await teams.send(teams.post_activity(TAKAHASHI, CLEAN), token=forged)).status == 401
    assert len(teams.fake.requests_to("GET", "/keys")) == fetched
    teams.clock.now += timedelta(minutes=6)
    teams.fake.key, teams.fake.kid = other_key(), "rotated-2"  # Microsoft rotates its keys
    _, reply = await teams.post(TAKAHASHI, CLEAN)
    await teams.settle()
    assert reply.status == 200
    assert len(teams.fake.requests_to("GET", "/keys")) == fetched + 1
    assert len(teams.drafts()) == 2


async def test_secrets_never_reach_the_logs(
    teams: TeamsHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, reply = await teams.post(TAKAHASHI, CLEAN)
    await teams.settle()
    assert reply.status == 200
    assert teams.fake.activities  # the card went out, with the bot's token
    assert APP_SECRET not in caplog.text
    assert teams.fake.bot_token not in caplog.text
