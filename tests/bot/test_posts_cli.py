"""`postgate posts list|cancel|reschedule|confirm`, `pause` and `resume` as an operator runs them,
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest

from bot.cli import main
from bot.config import AppConfig
from handlers.drafts import DraftUseCases
from storage.engine import Database
from tests.handlers.conftest import NOW, REPO, FixedClock, clock, config, usecases  # noqa: F401 - fixtures
from tests.handlers.publishing_support import (
    RecordingNotifier,
    actions,
    approve,
    make_outbox,
    publications,
)
from tests.storage.conftest import db  # noqa: F401 - fixture


@pytest.fixture
def cli_env(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    url = db.engine.url.render_as_string(hide_password=False)
    if db.is_postgres:
        with db.engine.connect() as connection:
            schema = str(connection.exec_driver_sql("SHOW search_path").scalar())
        url += "?options=" + quote(f"-csearch_path={schema}")
    monkeypatch.setenv("POSTGATE_DATABASE_URL", url)
    monkeypatch.setenv("POSTGATE_CONFIG", str(REPO / "app.yaml"))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.usefixtures("cli_env")
async def test_list_shows_publications_in_tokyo_time(
    usecases: DraftUseCases,  # noqa: F811
    config: AppConfig,  # noqa: F811
    db: Database,  # noqa: F811
    clock: FixedClock,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    approve(usecases, config, targets=("midori-x", "midori-facebook"))
    approve(usecases, config, targets=("kankyo-x",), publish_at=NOW + timedelta(days=1))
    await make_outbox(db, config, clock, RecordingNotifier()).run_once()
    code, out, _ = run(capsys, "posts", "list")
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split() == [
        "番号",
        "投稿案",
        "アカウント",
        "状態",
        "予定日時",
        "試行",
        "投稿ID",
        "URL",
        "エラー・理由",
    ]
    assert len(lines) == 3
    assert "midori-x" in lines[0]
    assert "投稿済み" in lines[0]
    assert "2026-11-24 10:00" in lines[0]
    assert "dryrun://midori-x/" in lines[0]
    assert "投稿待ち" in lines[2]
    assert "2026-11-25 10:00" in lines[2]
    code, out, _ = run(capsys, "posts", "list", "--json", "--state", "published")
    records = json.loads(out)
    assert [r["account"] for r in records] == ["midori-x", "midori-facebook"]
    first = records[0]
    assert first["due_at"] == "2026-11-24T10:00:00+09:00"
    assert first["state"] == "published"
    assert first["attempts"] == 1
    assert first["permalink"] == f"dryrun://midori-x/{first['platform_post_id']}"
    code, out, err = run(capsys, "posts", "list", "--state", "nonsense")
    assert code == 2
    assert "nonsense" in err
    code, out, _ = run(capsys, "posts", "list", "--state", "failed", "--lang", "en")
    assert out.strip() == "No publications."


@pytest.mark.usefixtures("cli_env")
def test_cancel_reschedule_and_refusals(
    usecases: DraftUseCases,  # noqa: F811
    config: AppConfig,  # noqa: F811
    db: Database,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    draft_id = approve(usecases, config, publish_at=NOW + timedelta(days=2))
    [row] = publications(db, draft_id)
    pid = str(row.id)
    code, out, _ = run(
        capsys, "posts", "reschedule", pid, "--at", "2026-12-01T09:00", "--as", "takahashi.yui"
    )
    assert code == 0, out
    assert "2026-12-01 09:00" in out
    [row] = publications(db, draft_id)
    assert row.due_at.isoformat() == "2026-12-01T00:00:00+00:00"
    code, out, _ = run(
        capsys, "posts", "reschedule", pid, "--at", "2026-12-01T20:00+09:00", "--as", "sato.keiko"
    )
    assert "業務時間外" in out
    code, _, err = run(capsys, "posts", "cancel", pid, "--reason", "中止", "--as", "yamada.hanako")
    assert code == 1
    assert "作成者（高橋 結衣）か承認者" in err
    code, _, err = run(capsys, "posts", "cancel", pid, "--reason", "x", "--as", "nobody")
    assert code == 1
    assert "登録されていない" in err
    code, _, err = run(capsys, "posts", "confirm", pid, "--as", "sato.keiko", "--lang", "en")
    assert code == 1
    assert "not held" in err
    code, _, err = run(capsys, "posts", "reschedule", pid, "--at", "tomorrow", "--as", "sato.keiko")
    assert code == 2
    code, out, _ = run(
        capsys, "posts", "cancel", pid, "--reason", "イベント中止", "--as", "sato.keiko"
    )
    assert code == 0
    assert out.strip() == f"投稿 #{pid}（midori-x）を取り消しました。"
    code, _, err = run(capsys, "posts", "cancel", "999", "--reason", "x", "--as", "sato.keiko")
    assert code == 1
    assert "#999 が見つかりません" in err
    assert actions(db, f"publication:{pid}") == [
        "publication.rescheduled",
        "publication.rescheduled",
        "publication.refused",  # not the author or an approver
        "publication.refused",  # not a member
        "publication.refused",  # not held
        "publication.cancelled",
    ]


@pytest.mark.usefixtures("cli_env")
def test_pause_and_resume(
    usecases: DraftUseCases,  # noqa: F811
    config: AppConfig,  # noqa: F811
    db: Database,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    approve(usecases, config, publish_at=NOW + timedelta(days=2))
    code, out, _ = run(
        capsys, "pause", "--account", "midori-x", "--reason", "乗っ取りの疑い", "--as", "sato.keiko"
    )
    assert code == 0
    assert "アカウント「midori-x」の投稿を緊急停止しました" in out
    assert "保留にした投稿: 1件" in out
    code, out, _ = run(capsys, "posts", "list")
    assert "緊急停止中のため保留しています" in out
    code, _, err = run(capsys, "resume", "--as", "yamamoto.jun")
    assert code == 1
    assert "すべてのアカウント" in err
    code, _, err = run(capsys, "resume", "--as", "sato.keiko")
    assert code == 1
    assert "すべてのアカウントは緊急停止していません" in err
    code, out, _ = run(capsys, "resume", "--account", "midori-x", "--as", "sato.keiko")
    assert code == 0
    assert "保留を解除した投稿: 1件" in out
    assert publications(db)[0].state == "pending"
