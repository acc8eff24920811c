"""`postgate check` never shows a traceback, and `--batch` answers every line in order.

The fuzz tests drive the command's own reading, parsing and checking in-process (any bytes, any
JSON value); the fixed examples are the crashes reported in issue 11, run as a real process.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.check_command import (
    MAX_DRAFT_CHARS,
    BadInput,
    Defaults,
    run_batch,
    run_single,
    split_lines,
)
from tests.bot.test_cli import postgate
from workflows.catalogue import Lang
from workflows.checks import Checker, Platform

AT = "2030-11-19T10:00:00+09:00"
DEFAULTS = Defaults(
    platforms=(Platform.X,),
    at=datetime.fromisoformat(AT),
    emergency=False,
    media=(),
    history=(),
)
CHECKER = Checker(lang=Lang.JA)


def batch(data: bytes) -> tuple[int, list[Any]]:
    out = io.StringIO()
    code = run_batch(CHECKER, split_lines(io.BytesIO(data)), DEFAULTS, out)
    text = out.getvalue()
    text.encode("utf-8")  # what is written can be written as UTF-8
    return code, [json.loads(line) for line in text.splitlines()]


def answered_lines(data: bytes) -> int:
    """How many results a batch owes: one per line that is not blank (BOM and CR aside)."""
    lines = data.split(b"\n")
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):
        lines[0] = lines[0][3:]
    return sum(1 for line in lines if line.strip())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
@example(b"\xef\xbb\xbf" + json.dumps({"id": 1, "text": "講座"}).encode())
@example(b'{"id": 1, "text": "\xff\xfe"}\n{"id": 2, "text": "ok"}')
@example(b'{"id": 1, "text": "a\rb"}\n')
@example(b"[" * 2000)
@example(b"{" * 1000 + b"}" * 1000)
@example(b'{"id": ' + b"9" * 5000 + b', "text": "a"}')
@example(b'{"id": NaN, "text": "a"}\n{"id": Infinity, "text": "a"}\n{"id": -Infinity}')
@example(b'{"id": "\\ud800", "text": "a", "at": "\\ud800", "platforms": ["\\udc00"]}')
@example(b'{"id": 1, "text": "\\ud800"}')
@example(b'{"id": 1, "text": "a", "at": "0001-01-01T00:00"}')
@example(b'{"id": 1, "text": "a", "at": "9999-12-31T23:59:59"}')
@example(b'{"id": 1, "text": "a", "at": ""}')
def test_any_bytes_get_one_answer_per_line_in_order(data: bytes) -> None:
    code, results = batch(data)
    assert code in (0, 1, 2)
    assert len(results) == answered_lines(data)
    for result in results:
        assert set(result) >= {"id", "ok", "findings"}
        if "error" in result:
            assert result["ok"] is False
            assert result["error"]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
LINE = st.fixed_dictionaries(
    {},
    optional={
        "id": JSON,
        "text": st.text(max_size=200) | JSON,
        "platforms": st.lists(st.sampled_from(["x", "line", "facebook", "myspace"])) | JSON,
        "at": st.sampled_from([AT, "", "0001-01-01T00:00", "9999-12-31T23:59:59", "x"]) | JSON,
        "emergency": st.booleans() | JSON,
        "media": st.lists(st.text(max_size=20), max_size=2) | JSON,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE | JSON, min_size=1, max_size=5))
def test_any_json_lines_get_their_ids_back_in_order(values: list[Any]) -> None:
    data = "\n".join(json.dumps(v, ensure_ascii=False) for v in values).encode("utf-8", "replace")
    code, results = batch(data)
    assert len(results) == len(values)
    for value, result in zip(values, results, strict=True):
        if isinstance(value, dict) and isinstance(value.get("id"), str | int | bool | None):
            assert result["id"] == value.get("id")
        if not (isinstance(value, dict) and isinstance(value.get("text"), str)):
            assert result["ok"] is False
    assert code in (0, 1, 2)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
@example("あ".encode() * MAX_DRAFT_CHARS)
@example("😀".encode() * MAX_DRAFT_CHARS)
def test_any_bytes_as_one_draft_get_a_result_or_a_message(data: bytes) -> None:
    out = io.StringIO()
    refusal = ""
    try:
        code = run_single(
            CHECKER, source=None, stdin=io.BytesIO(data), defaults=DEFAULTS, as_json=True, out=out
        )
    except BadInput as exc:  # what check_main writes as the message, with exit code 2
        code, refusal = 2, str(exc)
    if code == 2:
        assert refusal
        assert out.getvalue() == ""
    else:
        assert json.loads(out.getvalue())["ok"] is (code == 0)


def test_a_draft_of_the_full_length_in_characters_is_checked_not_refused() -> None:
    out = io.StringIO()
    emoji = "😀" * MAX_DRAFT_CHARS  # 280,000 bytes: the limit is in characters
    code = run_single(
        CHECKER,
        source=None,
        stdin=io.BytesIO(emoji.encode()),
        defaults=DEFAULTS,
        as_json=True,
        out=out,
    )
    assert code in (0, 1)
    assert json.loads(out.getvalue())["id"] is None


# ── the crashes of issue 11, as a real process ─────────────────────────────────────────────


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--at", "0001-01-01T00:00"), "範囲外"),
        (("--at", "9999-12-31T23:59:59"), "範囲外"),
        (("--at", ""), "--at"),
    ],
)
def test_extreme_or_empty_at_is_refused_with_a_message(
    args: tuple[str, ...], expected: str
) -> None:
    done = postgate("check", *args, stdin="講座を開きます。".encode())
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


def test_a_history_of_brackets_is_refused_with_a_message(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text("[" * 2000, encoding="utf-8")
    done = postgate("check", "--at", AT, "--history", str(history), stdin="講座".encode())
    assert done.returncode == 2
    assert "投稿履歴ファイル" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_batch_with_every_kind_of_bad_line_answers_each_in_order(tmp_path: Path) -> None:
    good = json.dumps({"id": "good", "text": "講座を開きます。", "at": AT}, ensure_ascii=False)
    lines = [
        b"\xef\xbb\xbf" + good.encode(),
        json.dumps({"id": "old", "text": "a", "at": "0001-01-01T00:00"}).encode(),
        b'{"id": "\\ud800", "text": "a"}',
        b'{"id": "s", "text": "a\\ud800b"}',
        b"[" * 1000 + b"]" * 1000,
        b'{"id": ' + b"1" * 5000 + b"}",
        b'{"id": "bad-utf8", "text": "\xff"}',
        b'{"id": NaN, "text": "a"}',
        b'{"id": "cr", "text": "a\rb", "at": "' + AT.encode() + b'"}',
        good.encode(),
    ]
    path = tmp_path / "batch.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    done = postgate("check", "--batch", str(path))
    assert "Traceback" not in done.stderr
    assert done.stderr == ""  # no progress on a pipe
    assert done.returncode == 2
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["id"] for r in results] == [
        "good",
        "old",
        "\ufffd",
        "s",
        None,
        None,
        None,
        None,
        "cr",
        "good",
    ]
    assert [r["ok"] for r in results] == [True, False, True, *[False] * 5, True, True]
    errors = [r.get("error", "") for r in results]
    assert "範囲外" in errors[1]
    assert "サロゲート" in errors[3]
    assert "入れ子" in errors[4]
    assert "UTF-8" in errors[6]


def test_progress_shows_a_count_and_rate_and_is_cleared_at_the_end() -> None:
    lines = [json.dumps({"id": i, "text": "講座を開きます。"}).encode() for i in range(3)]
    seconds = iter(float(s) for s in range(100))
    progress, out = io.StringIO(), io.StringIO()
    run_batch(CHECKER, lines, DEFAULTS, out, progress, clock=lambda: next(seconds))
    shown = progress.getvalue()
    assert "3件チェック済み" in shown
    assert "件/秒" in shown
    assert shown.endswith("\r\033[K")
    assert len(out.getvalue().splitlines()) == 3


# ── app.yaml between runs: the checker's part is kept, and read again when anything changes ──

REPO = Path(__file__).resolve().parents[2]
LINKED = "詳しくは https://www.example.org/koza/ をご覧ください。".encode()


def external_links(done: Any) -> list[str]:
    assert done.returncode in (0, 1), done.stderr
    return [f["rule"] for f in json.loads(done.stdout)["findings"] if f["rule"] == "url.external"]


def test_check_reads_app_yaml_again_whenever_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGATE_CACHE_DIR", str(tmp_path / "cache"))
    config = tmp_path / "app.yaml"
    original = (REPO / "app.yaml").read_text(encoding="utf-8")
    config.write_text(original, encoding="utf-8")
    args = ("--config", str(config), "check", "--json", "--at", AT)
    assert external_links(postgate(*args, stdin=LINKED)) == ["url.external"]
    assert external_links(postgate(*args, stdin=LINKED)) == ["url.external"]  # from the cache

    ours = original.replace(
        "official_domains: [city.midori.lg.jp]",
        "official_domains: [city.midori.lg.jp, example.org]",
    )
    assert ours != original
    config.write_text(ours, encoding="utf-8")
    assert external_links(postgate(*args, stdin=LINKED)) == []

    config.write_text(ours + "\nchecks_typo: 1\n", encoding="utf-8")
    broken = postgate(*args, stdin=LINKED)
    assert broken.returncode == 2
    assert "checks_typo" in broken.stderr
    assert "Traceback" not in broken.stderr

    config.write_text(original, encoding="utf-8")
    assert external_links(postgate(*args, stdin=LINKED)) == ["url.external"]


def test_check_reports_a_terminology_dictionary_broken_after_an_earlier_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGATE_CACHE_DIR", str(tmp_path / "cache"))
    terms = tmp_path / "terms.yaml"
    terms.write_text(
        "version: 1\nrules:\n  - expected: みどりの森公園\n    patterns: [緑の森公園]\n",
        encoding="utf-8",
    )
    config = tmp_path / "app.yaml"
    original = (REPO / "app.yaml").read_text(encoding="utf-8")
    config.write_text(
        original.replace("  # terminology: terminology.local.yaml", "  terminology: terms.yaml"),
        encoding="utf-8",
    )
    args = ("--config", str(config), "check", "--json", "--at", AT)
    done = postgate(*args, stdin="緑の森公園で植樹祭を開きます。".encode())
    assert done.returncode == 0, done.stderr
    assert [f["suggestion"] for f in json.loads(done.stdout)["findings"]] == ["みどりの森公園"]

    terms.write_text("version: 1\nrules:\n  - patterns: [緑の森公園]\n", encoding="utf-8")
    broken = postgate(*args, stdin="緑の森公園で植樹祭を開きます。".encode())
    assert broken.returncode == 2
    assert "用語辞書に誤りがあります" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_a_one_draft_check_leaves_pydantic_yaml_and_the_server_unloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `postgate check` imports once app.yaml and the rule data are in the cache."""
    monkeypatch.setenv("POSTGATE_CACHE_DIR", str(tmp_path / "cache"))
    script = (
        "import sys\n"
        "from bot.cli import main\n"
        "code = main(['--config', 'app.yaml', 'check', '--json', '--at', sys.argv[1]])\n"
        "heavy = ('pydantic', 'yaml', 'sqlalchemy', 'sqlmodel', 'aiohttp', 'slack_bolt')\n"
        "print(sorted(m for m in heavy if m in sys.modules), code, file=sys.stderr)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, AT],
            input="講座を開きます。".encode(),
            capture_output=True,
            cwd=REPO,
            timeout=60,
            check=False,
        )
        for _ in range(2)
    ]
    first, second = (run.stderr.decode().strip().splitlines()[-1] for run in runs)
    assert first.endswith(" 0"), runs[0].stderr.decode()
    assert second == "[] 0", runs[1].stderr.decode()
