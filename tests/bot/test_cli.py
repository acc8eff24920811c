"""`postgate check` and `postgate config check` as other tools call them (DESIGN.md §4)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOLIDAY = "2026-11-23T10:00:00+09:00"
WEEKDAY = "2026-11-24T10:00:00+09:00"


def postgate(
    *args: str, stdin: bytes = b"", cwd: Path = REPO, lang: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("POSTGATE_CONFIG", "POSTGATE_LANG")}
    if lang is not None:
        env["POSTGATE_LANG"] = lang
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode()
    )


def test_single_json_contract() -> None:
    done = postgate("check", "--json", "--at", HOLIDAY, "-", stdin="講座を開きます。".encode())
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"id", "ok", "findings"}
    assert result["ok"] is True
    [finding] = result["findings"]
    assert set(finding) == {"rule", "severity", "message", "start", "end", "suggestion"}
    assert finding["rule"] == "hours.closed-day"
    assert finding["severity"] == "warning"


def test_error_level_finding_exits_1(tmp_path: Path) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text("講座を開きます。", encoding="utf-8")
    history = tmp_path / "history.jsonl"
    history.write_text(
        json.dumps({"text": "講座を開きます。", "at": "2026-11-23T10:00+09:00"}) + "\n",
        encoding="utf-8",
    )
    done = postgate("check", "--json", "--at", WEEKDAY, "--history", str(history), str(draft))
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["id"] == str(draft)
    assert result["ok"] is False
    assert [f["rule"] for f in result["findings"]] == ["duplicate.identical"]


def test_human_output_is_japanese_with_a_summary() -> None:
    done = postgate("check", "--at", HOLIDAY, stdin="講座を開きます。".encode())
    assert "警告" in done.stdout
    assert "勤労感謝の日" in done.stdout
    assert done.stdout.rstrip().endswith("エラー 0件、警告 1件、情報 0件")
    english = postgate("check", "--lang", "en", "--at", HOLIDAY, stdin="講座を開きます。".encode())
    assert english.stdout.rstrip().endswith("0 error(s), 1 warning(s), 0 info")


def test_batch_processes_every_line_and_reports_bad_ones() -> None:
    lines = [
        json.dumps({"id": "a", "text": "講座を開きます。", "platforms": ["x"], "at": WEEKDAY}),
        "{not json",
        json.dumps({"id": "c", "text": "講座", "platforms": ["myspace"], "at": WEEKDAY}),
        json.dumps({"id": "d", "text": "講座を開きます。", "at": "tomorrow"}),
        json.dumps({"id": "e", "text": "", "at": WEEKDAY}),
        json.dumps({"id": "f", "text": "講座を開きます。", "at": HOLIDAY, "emergency": True}),
    ]
    done = postgate("check", "--batch", "-", stdin=("\n".join(lines) + "\n").encode())
    assert done.returncode == 2
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", None, "c", "d", "e", "f"]
    assert out[0] == {"id": "a", "ok": True, "findings": []}
    assert "JSON" in out[1]["error"]
    assert "myspace" in out[2]["error"]
    assert "tomorrow" in out[3]["error"]
    assert "空" in out[4]["error"]
    assert out[5]["findings"] == []  # emergency: no hours rule on a holiday


def test_batch_exit_code_follows_findings() -> None:
    line = json.dumps({"id": 1, "text": "講座を開きます。", "at": WEEKDAY})
    assert postgate("check", "--batch", "-", stdin=line.encode()).returncode == 0


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (("check", "--at", "yesterday"), b"text", "--at"),
        (("check",), b"   \n", "空"),
        (("check",), bytes(range(256)) * 8, "UTF-8"),
        (("check",), b"a\x00b\x01c\x02d\x03", "テキストではない"),
        (("check",), "あ".encode() * 400_000, "大きすぎ"),
        (("check", "/no/such/file"), b"", "/no/such/file"),
        (("check", "--account", "nobody"), b"text", "nobody"),
        (("check", "--platform", "myspace"), b"text", "「myspace」は指定できません"),
    ],
)
def test_bad_input_is_explained_without_a_traceback(
    args: tuple[str, ...], stdin: bytes, expected: str
) -> None:
    done = postgate(*args, stdin=stdin)
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_account_sets_platform_and_hours() -> None:
    saturday = "2026-11-21T10:00:00+09:00"
    museum = postgate(
        "check",
        "--json",
        "--account",
        "museum-facebook",
        "--at",
        saturday,
        stdin="企画展を開催中です。".encode(),
    )
    assert json.loads(museum.stdout)["findings"] == []
    city = postgate(
        "check",
        "--json",
        "--account",
        "midori-x",
        "--at",
        saturday,
        stdin="企画展を開催中です。".encode(),
    )
    assert [f["rule"] for f in json.loads(city.stdout)["findings"]] == ["hours.closed-day"]


def test_config_check_lists_problems_and_exits_2(tmp_path: Path) -> None:
    ok = postgate("config", "check", str(REPO / "app.yaml"))
    assert ok.returncode == 0
    assert "問題ありません" in ok.stdout
    broken = tmp_path / "app.yaml"
    broken.write_text(
        (REPO / "app.yaml")
        .read_text(encoding="utf-8")
        .replace("approving_section: 博物館", "approving_section: 広報課"),
        encoding="utf-8",
    )
    done = postgate("--config", str(broken), "config", "check")
    assert done.returncode == 2
    assert done.stderr.startswith(f"{broken}: 設定の誤り 1件\n")
    assert "accounts[6].approving_section: 「広報課」という所属は sections にありません。" in (
        done.stderr
    )
    english = postgate("--config", str(broken), "config", "check", "--lang", "en")
    assert "accounts[6].approving_section: unknown section '広報課'" in english.stderr


def test_check_with_a_broken_explicit_config_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "app.yaml"
    broken.write_text("organisation: [\n", encoding="utf-8")
    done = postgate("--config", str(broken), "check", stdin=b"text")
    assert done.returncode == 2
    assert "YAML として読めません" in done.stderr


def test_help_is_japanese_by_default_and_english_on_request() -> None:
    ja = postgate("--help")
    assert ja.returncode == 0
    assert ja.stdout.startswith("使い方: postgate")
    assert "ボットを起動します" in ja.stdout
    assert "このヘルプを表示して終了します" in ja.stdout
    sub = postgate("posts", "cancel", "--help")
    assert "投稿待ち・保留中の投稿を取り消します" in sub.stdout
    assert "操作する職員の ID" in sub.stdout
    for english in (postgate("--lang", "en", "--help"), postgate("--help", lang="en")):
        assert english.stdout.startswith("usage: postgate")
        assert "run the bot (HTTP server, timer, monitors)" in english.stdout


def test_usage_errors_are_japanese_by_default() -> None:
    missing = postgate("posts", "cancel", "3")
    assert missing.returncode == 2
    assert "postgate posts cancel: エラー: 次の指定が必要です: --reason, --as" in missing.stderr
    unknown = postgate("serve", "--bogus")
    assert "知らない引数です: --bogus" in unknown.stderr
    english = postgate("posts", "cancel", "3", "--lang", "en")
    assert "error: the following arguments are required: --reason, --as" in english.stderr


def test_every_option_of_every_command_has_help_in_both_languages() -> None:
    from bot.cli import _parser
    from bot.cli_lang import help_key, localise
    from workflows.catalogue import Lang, keys

    parser = _parser()
    localise(parser, Lang.JA)
    missing: list[str] = []

    def walk(command: argparse.ArgumentParser, path: str) -> None:
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    child = name if path == "postgate" else f"{path}.{name}"
                    if f"help.cmd.{child}" not in keys():
                        missing.append(f"help.cmd.{child}")
                    walk(sub, child)
            elif help_key(path, action.dest) is None:
                missing.append(f"help.opt.{path}.{action.dest}")

    walk(parser, "postgate")
    assert missing == []


def test_a_database_that_cannot_be_opened_is_explained(tmp_path: Path) -> None:
    env_url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'p.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "status"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "POSTGATE_DATABASE_URL": env_url, "POSTGATE_LANG": "ja"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "に接続できません" in done.stderr
    assert "Traceback" not in done.stderr


def _serve_on_a_migrated_database(
    tmp_path: Path, **settings: str
) -> subprocess.CompletedProcess[str]:
    """`postgate serve` on a fresh, migrated SQLite database with these POSTGATE_ variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTGATE_")}
    env["POSTGATE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'p.db'}"
    cli = [sys.executable, "-m", "bot.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, cwd=REPO, check=True, capture_output=True)
    return subprocess.run(
        [*cli, "serve", "--port", "0"],
        env={**env, **settings},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_malformed_setting_stops_serve_with_a_sentence(tmp_path: Path) -> None:
    done = _serve_on_a_migrated_database(tmp_path, POSTGATE_SNS_TIMEOUT="abc")
    assert done.returncode == 2
    assert "postgate serve: 環境変数の設定が正しくありません: POSTGATE_SNS_TIMEOUT" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unusable_teams_certificate_stops_serve_with_what_is_wrong(tmp_path: Path) -> None:
    certificate = tmp_path / "postgate-teams.pem"
    certificate.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    done = _serve_on_a_migrated_database(
        tmp_path,
        POSTGATE_TEAMS_APP_ID="00000000-0000-4000-8000-00000000a11d",
        POSTGATE_TEAMS_TENANT_ID="0f0e0d0c-0b0a-4909-8807-060504030201",
        POSTGATE_TEAMS_CERT_FILE=str(certificate),
    )
    assert done.returncode == 2
    assert "POSTGATE_TEAMS_CERT_FILE: 証明書ファイル" in done.stderr
    assert "秘密鍵（BEGIN PRIVATE KEY）と証明書（BEGIN CERTIFICATE）の両方" in done.stderr
    assert "Traceback" not in done.stderr


ADMIN_MESSAGES = ("help.", "argparse.", "config.", "doctor.", "init.", "backup.", "serve.", "db.")


def test_every_message_has_the_same_placeholders_in_both_languages() -> None:
    import string

    from workflows.catalogue import Lang, keys, message

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    differing = [
        key
        for key in sorted(keys())
        if key.startswith(
            ("help.", "argparse.", "config.", "doctor.", "init.", "backup.", "serve.")
        )
        and fields(_raw(key, Lang.JA)) != fields(_raw(key, Lang.EN))
    ]
    assert differing == []
    assert message("help.usage", Lang.EN) == "usage: "


def _raw(key: str, lang: object) -> str:
    from workflows import catalogue

    return catalogue._catalogue()[key][str(lang)]
