"""`postgate init`: app.yaml from the manual's account table and the staff list."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from bot.init_command import (
    ACCOUNT_COLUMNS,
    STAFF_COLUMNS,
    STAFF_OPTIONAL,
    InitError,
    Options,
    build,
    read_csv,
)
from workflows.catalogue import Lang

REPO = Path(__file__).resolve().parents[2]

ACCOUNTS = """\
所属,アカウント名,SNS種別,URL/ID,運用方針
シティ・プロモーション課,みどり市,X（旧Twitter）,https://x.com/midori_city,市政情報・イベント・防災情報の発信。個別の返信は行いません
シティ・プロモーション課,みどり市,Facebook,https://www.facebook.com/midori.city,市政情報の発信
シティ・プロモーション課,みどり市公式,Instagram,@midori_city_official,まちの魅力の発信
シティ・プロモーション課,みどり市,LINE,@midori-city,防災・子育て情報の配信
博物館,みどり市立博物館,Facebook,https://www.facebook.com/midori.museum/,展示とイベントの案内
"""

STAFF = """\
氏名,所属,役職,Slack ID,Teams ID
佐藤 恵子,シティ・プロモーション課,課長,U0SATOKEI,1f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a01
鈴木 博,シティ・プロモーション課,課長補佐,U0SUZUKIH,
高橋 結衣,シティ・プロモーション課,主事,U0TAKAYUI,
小林 剛,デジタル推進課,課長,U0KOBATAK,
山田 花子,博物館,館長,U0YAMAHAN,
佐々木 恵美,博物館,学芸員,,
"""


def write(tmp_path: Path, accounts: str = ACCOUNTS, staff: str = STAFF) -> tuple[Path, Path]:
    (tmp_path / "accounts.csv").write_text(accounts, encoding="utf-8-sig")  # as Excel saves it
    (tmp_path / "staff.csv").write_text(staff, encoding="cp932")
    return tmp_path / "accounts.csv", tmp_path / "staff.csv"


def postgate(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTGATE_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,  # not a terminal: no questions
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_lists_make_an_app_yaml_that_passes_config_check(tmp_path: Path) -> None:
    write(tmp_path)
    done = postgate(tmp_path, "init", "--accounts", "accounts.csv", "--staff", "staff.csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("app.yaml を作成しました（所属 3、職員 6、アカウント 5）。")
    config = load_config(tmp_path / "app.yaml")
    assert config.organisation.name == "みどり市"
    promotion = config.section("シティ・プロモーション課")
    assert promotion is not None
    assert (promotion.chief, promotion.deputies, promotion.city_promotion) == (
        "u0satokei",
        ("u0suzukih",),
        True,
    )
    digital = config.section("デジタル推進課")
    assert digital is not None
    assert digital.digital_promotion
    x = config.account("midori_city-x")
    assert x is not None
    assert (x.handle, x.official, x.approving_section) == (
        "midori_city",
        True,
        "シティ・プロモーション課",
    )
    assert x.purpose.startswith("市政情報・イベント")
    assert x.credentials["consumer_key"] == "MIDORI_CITY_X_CONSUMER_KEY"
    museum = config.account("midori-museum-facebook")
    assert museum is not None
    assert (museum.official, museum.approving_section) == (False, "博物館")  # manual §4 ③
    line = config.account("midori-city-line")
    assert line is not None
    assert line.handle == "@midori-city"
    assert config.member("member006") is not None  # no Slack id
    checked = postgate(tmp_path, "config", "check")
    assert checked.returncode == 0, checked.stderr
    # What to fill in next: the credentials' variables, the channels, the member without Slack.
    assert "次にすること:" in done.stdout
    assert "MIDORI_MUSEUM_FACEBOOK_PAGE_ACCESS_TOKEN" in done.stdout
    assert "Slack チャンネルの ID が未設定です（drafts, approvals, alerts）" in done.stdout
    assert "Slack ID のない職員がいます（Slack から操作できません）: 佐々木 恵美" in done.stdout


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path) -> None:
    write(tmp_path)
    (tmp_path / "app.yaml").write_text("keep me", encoding="utf-8")
    args = ("init", "--accounts", "accounts.csv", "--staff", "staff.csv")
    refused = postgate(tmp_path, *args)
    assert refused.returncode == 2
    assert "app.yaml は既にあります。上書きするには --force を付けてください。" in refused.stderr
    assert (tmp_path / "app.yaml").read_text(encoding="utf-8") == "keep me"
    forced = postgate(tmp_path, *args, "--force", "--drafts-channel", "C0DRAFTS")
    assert forced.returncode == 0, forced.stderr
    config = load_config(tmp_path / "app.yaml")
    assert [d.slack for d in config.channels.drafts] == ["C0DRAFTS"]


@pytest.mark.parametrize(
    ("accounts", "staff", "expected"),
    [
        (ACCOUNTS.replace("LINE,", "TikTok,"), STAFF, "5行目: SNS種別「TikTok」は扱えません"),
        (ACCOUNTS, STAFF.replace(",博物館,", ",総務課,"), "「博物館」の職員が職員名簿にいません"),
        (ACCOUNTS.replace("URL/ID", "URL"), STAFF, "列「URL/ID」がありません"),
        (ACCOUNTS, STAFF.replace("U0SUZUKIH", "suzuki"), "3行目: Slack ID「SUZUKI」"),
    ],
)
def test_what_cannot_be_decided_is_named_with_its_line(
    tmp_path: Path, accounts: str, staff: str, expected: str
) -> None:
    write(tmp_path, accounts, staff)
    done = postgate(tmp_path, "init", "--accounts", "accounts.csv", "--staff", "staff.csv")
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "app.yaml").exists()


def test_on_a_terminal_what_is_missing_is_asked(tmp_path: Path) -> None:
    accounts_csv, staff_csv = write(
        tmp_path,
        ACCOUNTS.replace("シティ・プロモーション課", "秘書広報課").replace("みどり市", "緑"),
        STAFF.replace("シティ・プロモーション課", "秘書広報課")
        .replace("館長", "学芸員")
        .replace("デジタル推進課", "情報課"),
    )
    answers = iter(["2", "2", "みどり市", "C0DRAFTS", "not-a-channel", "", "C0ALERTS"])
    questions: list[str] = []

    def ask(question: str) -> str:
        questions.append(question)
        return next(answers)

    accounts = read_csv(accounts_csv, ACCOUNT_COLUMNS)
    staff = read_csv(staff_csv, STAFF_COLUMNS, optional=STAFF_OPTIONAL)
    result = build(accounts, staff, Options(), ask=ask, lang=Lang.JA)
    (tmp_path / "app.yaml").write_text(result.text, encoding="utf-8")
    config = load_config(tmp_path / "app.yaml")
    assert config.organisation.name == "みどり市"
    museum = config.section("博物館")
    assert museum is not None
    assert museum.chief == "member006"  # the second of 博物館's staff, as answered
    assert [d.slack for d in config.channels.drafts] == ["C0DRAFTS"]
    assert config.channels.approvals is None
    assert config.channels.alerts is not None
    assert config.channels.alerts.slack == "C0ALERTS"
    digital = config.section("情報課")
    assert digital is not None
    assert digital.digital_promotion
    assert questions[0].startswith("乗っ取りなどのインシデントを連絡する所属")
    assert "  2. 情報課\n" in questions[0]
    assert "「博物館」の所属長（投稿を承認する人）を選んでください" in questions[1]
    assert questions[2] == "自治体名を入力してください（例: みどり市）: "
    assert questions[4] == questions[5]  # a malformed channel id is asked again


def test_without_a_terminal_a_missing_answer_is_an_error_naming_the_option() -> None:
    rows = [{"所属": "総務課", "アカウント名": "X", "SNS種別": "X", "URL/ID": "@a", "運用方針": ""}]
    staff = [{"氏名": "A", "所属": "総務課", "役職": "課長", "Slack ID": "", "Teams ID": ""}]
    with pytest.raises(InitError) as caught:
        build(rows, staff, Options(), ask=None)
    assert "--city-promotion で指定してください" in str(caught.value)
    with pytest.raises(InitError) as caught:
        build(rows, staff, Options(city_promotion="総務課"), ask=None)
    assert caught.value.message(Lang.EN).startswith("The municipality is unknown")
