"""Slack markup in, safe text out; splitting within limits; payload parsing."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.chat import forms
from bot.chat.forms import BadPayload, DraftRef
from bot.config import load_config
from bot.slack import parse
from bot.slack.parse import ModalMeta
from bot.slack.text import mrkdwn, neutralise, plain_from_slack, slack_length, split, when
from tests.handlers.conftest import NOW

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        (
            "詳しくは <https://www.city.midori.lg.jp/library/> へ",
            "詳しくは https://www.city.midori.lg.jp/library/ へ",
        ),
        ("<http://city.midori.lg.jp|city.midori.lg.jp>", "city.midori.lg.jp"),
        ("<https://x.example/a|こちら>", "こちら https://x.example/a"),
        ("<mailto:info@city.midori.lg.jp|info@city.midori.lg.jp>", "info@city.midori.lg.jp"),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
        ("<!subteam^S0123|@koho>", "@koho"),
        ("<@U0SATOKEI> さん", "@佐藤 恵子 さん"),
        ("<@U0UNKNOWN> さん", "@U0UNKNOWN さん"),
        ("<#C0DRAFTS01|drafts>", "#drafts"),
        ("A &amp; B &lt;必見&gt;", "A & B <必見>"),
    ],
)
def test_slack_markup_becomes_the_text_to_publish(slack: str, plain: str) -> None:
    directory = load_config(REPO / "app.yaml").directory
    assert plain_from_slack(slack, directory) == plain


def test_user_text_in_mrkdwn_cannot_mention_or_link() -> None:
    shown = mrkdwn("<!channel> @here <@U0SATOKEI> <https://evil.example|click> & @Everyone")
    assert "<" not in shown
    assert ">" not in shown.replace("&gt;", "")
    assert "@here" not in shown
    assert "@Everyone" not in shown
    assert neutralise("@channel") == "@\u200bchannel"


@given(st.text(alphabet=st.sampled_from("あ漢a&<>\n🎉 "), max_size=9000))
def test_split_keeps_every_character_within_the_limit(text: str) -> None:
    pieces = split(text, 3000, lambda s: s)
    assert all(slack_length(p) <= 3000 for p in pieces)
    assert "".join(pieces) == text or not text.strip()


def test_split_escaped_pieces_stay_within_the_limit() -> None:
    pieces = split("&" * 5000, 3000, mrkdwn)
    assert all(slack_length(p) <= 3000 for p in pieces)
    assert "".join(pieces) == "&amp;" * 5000


def test_times_are_shown_in_tokyo() -> None:
    assert when(NOW) == "2026年11月24日(火) 10:00"


def test_button_values_and_metadata_are_checked() -> None:
    assert DraftRef.parse("12:3") == DraftRef(12, 3)
    for bad in ("12", "x:1", "1:2:3", None, "1:-2"):
        with pytest.raises(BadPayload):
            DraftRef.parse(bad)
    meta = ModalMeta(5, 2, "D0SATOKEI", "1.2")
    assert ModalMeta.load(meta.dump()) == meta
    assert len(meta.dump()) < 3000
    with pytest.raises(BadPayload):
        ModalMeta.load('{"d": "5", "r": 1}')


def test_the_command_parser_falls_back_to_help() -> None:
    assert forms.command("") == forms.Command("help")
    assert forms.command("status 12") == forms.Command("status", ("12",))
    assert forms.command("承認待ち").name == "pending"
    assert forms.command("drop everything").name == "help"
    assert forms.command("削除 3 誤り") == forms.Command("delete", ("3", "誤り"))


def test_request_keys_tell_replays_apart() -> None:
    click = {
        "type": "block_actions",
        "user": {"id": "U1"},
        "container": {"message_ts": "1.1"},
        "actions": [{"action_ts": "9.9"}],
    }
    assert parse.request_key(click) == "slack:action:1.1:9.9:U1"
    assert parse.request_key({"event_id": "Ev1", "event": {}}) == "slack:event:Ev1"
    view = {"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "hash": "h"}}
    assert parse.request_key(view) == "slack:view:V1:h"


def test_the_slack_messages_have_the_same_placeholders_in_both_languages() -> None:
    data = yaml.safe_load((REPO / "workflows/messages/slack.yaml").read_text(encoding="utf-8"))
    formatter = string.Formatter()
    for key, texts in data.items():
        assert key.startswith("slack."), key
        names = [{n for _, n, _, _ in formatter.parse(texts[lang]) if n} for lang in ("ja", "en")]
        assert names[0] == names[1], key
