"""`postgate check` and `postgate config check` as other tools call them (DESIGN.md §4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOLIDAY = "2026-11-23T10:00:00+09:00"
WEEKDAY = "2026-11-24T10:00:00+09:00"


def postgate(*args: str, stdin: bytes = b"", cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "POSTGATE_CONFIG"}
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
        (("check", "--platform", "myspace"), b"text", "invalid choice"),
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
    assert "accounts[6].approving_section: unknown section '広報課'" in done.stderr


def test_check_with_a_broken_explicit_config_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "app.yaml"
    broken.write_text("organisation: [\n", encoding="utf-8")
    done = postgate("--config", str(broken), "check", stdin=b"text")
    assert done.returncode == 2
    assert "not valid YAML" in done.stderr
