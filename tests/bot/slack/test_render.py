from __future__ import annotations

from pathlib import Path

from bot.config import load_config
from bot.slack.render import account_label

REPO = Path(__file__).resolve().parents[3]


def test_account_labels_show_one_at_sign_whatever_the_platform() -> None:
    config = load_config(REPO / "app.yaml")
    line = config.account("midori-line")
    x = config.account("midori-x")
    assert line is not None
    assert x is not None
    assert account_label(line) == "みどり市（@midori-city・LINE）"
    assert account_label(x) == "みどり市（@midori_city・X）"
