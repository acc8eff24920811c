"""`postgate posts list|cancel|reschedule|confirm|review|delete-*|correction`, `pause` and
`resume` as an operator runs them, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import pytest

from bot.cli import main
from bot.config import AppConfig
from handlers.drafts import DraftUseCases
from sns.base import SnsClient
from sns.dryrun import DryRunClient
from storage import outbox
from storage.engine import Database
from tests.handlers.conftest import NOW, REPO, FixedClock, clock, config, usecases  # noqa: F401 - fixtures
from tests.handlers.publishing_support import (
    UNDECIDED,
    RecordingNotifier,
    ScriptedClient,
    actions,
    approve,
    make_outbox,
    publications,
    scripted,
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


@dataclass
class Cli:
    """The terminal an operator types into, and the clock the commands read."""

    capsys: pytest.CaptureFixture[str]
    clock: FixedClock


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], clock: FixedClock) -> Cli:  # noqa: F811
    return Cli(capsys, clock)


def run(cli: Cli, *args: str) -> tuple[int, str, str]:
    code = main(list(args), clock=cli.clock)
    captured = cli.capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.usefixtures("cli_env")
async def test_list_shows_publications_in_tokyo_time(
    usecases: DraftUseCases,  # noqa: F811
    config: AppConfig,  # noqa: F811
    db: Database,  # noqa: F811
    clock: FixedClock,  # noqa: F811
    cli: Cli,
) -> None:
    approve(usecases, config, targets=("midori-x", "midori-facebook"))
    approve(usecases, config, targets=("kankyo-x",), publish_at=NOW + timedelta(days=1))
    await make_outbox(db, config, clock, RecordingNotifier()).run_once()
    code, out, _ = run(cli, "posts", "list")
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
    code, out, _ = run(cli, "posts", "list", "--json", "--state", "published")
    records = json.loads(out)
    assert [r["account"] for r in records] == ["midori-x", "midori-facebook"]
    first = records[0]
    assert first["due_at"] == "2026-11-24T10:00:00+09:00"
    assert first["state"] == "published"
    assert first["attempts"] == 1
    assert first["permalink"] == f"dryrun://midori-x/{first['platform_post_id']}"
    code, out, err = run(cli, "posts", "list", "--state", "nonsense")
    assert code == 2
    assert "nonsense" in err
    code, out, _ = run(cli, "posts", "list", "--state", "failed", "--lang", "en")
    assert out.strip() == "No publications."


@pytest.mark.usefixtures("cli_env")
def test_cancel_reschedule_and_refusals(
    usecases: DraftUseCases,  # noqa: F811
    config: AppConfig,  # noqa: F811
    db: Database,  # noqa: F811
    cli: Cli,
) -> None:
    draft_id = approve(usecases, config, publish_at=NOW + timedelta(days=2))
    [row] = publications(db, draft_id)
    pid = str(row.id)
    code, out, _ = run(
        cli, "posts", "reschedule", pid, "--at", "2026-12-01T09:00", "--as", "takahashi.yui"
    )
    assert code == 0, out
    assert "2026-12-01 09:00" in out
    [row] = publications(db, draft_id)
    assert row.due_at.isoformat() == "2026-12-01T00:00:00+00:00"
    code, out, _ = run(
        cli, "posts", "reschedule", pid, "--at", "2026-12-01T20:00+09:00", "--as", "sato.keiko"
    )
    assert "業務時間外" in out
    code, _, err = run(cli, "posts", "cancel", pid, "--reason", "中止", "--as", "yamada.hanako")
    assert code == 1
    assert "作成者（高橋 結衣）か承認者" in err
    code, _, err = run(cli, "posts", "cancel", pid, "--reason", "x", "--as", "nobody")
    assert code == 1
    assert "登録されていない" in err
    code, _, err = run(cli, "posts", "confirm", pid, "--as", "sato.keiko", "--lang", "en")
    assert code == 1
    assert "not held" in err
    code, _, err = run(cli, "posts", "reschedule", pid, "--at", "tomorrow", "--as", "sato.keiko")
    assert code == 2
    code, out, _ = run(
        cli, "posts", "cancel", pid, "--reason", "イベント中止", "--as", "sato.keiko"
    )
    assert code == 0
    assert out.strip() == f"投稿 #{pid}（midori-x）を取り消しました。"
    code, _, err = run(cli, "posts", "cancel", "999", "--reason", "x", "--as", "sato.keiko")
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
    cli: Cli,
) -> None:
    approve(usecases, config, publish_at=NOW + timedelta(days=2))
    code, out, _ = run(
        cli, "pause", "--account", "midori-x", "--reason", "乗っ取りの疑い", "--as", "sato.keiko"
    )
    assert code == 0
    assert "アカウント「midori-x」の投稿を緊急停止しました" in out
    assert "保留にした投稿: 1件" in out
    code, out, _ = run(cli, "posts", "list")
    assert "緊急停止中のため保留しています" in out
    code, _, err = run(cli, "resume", "--as", "yamamoto.jun")
    assert code == 1
    assert "すべてのアカウント" in err
    code, _, err = run(cli, "resume", "--as", "sato.keiko")
    assert code == 1
    assert "すべてのアカウントは緊急停止していません" in err
    code, out, _ = run(cli, "resume", "--account", "midori-x", "--as", "sato.keiko")
    assert code == 0
    assert "保留を解除した投稿: 1件" in out
    assert publications(db)[0].state == "pending"


@pytest.mark.usefixtures("cli_env")
async def test_review_a_post_that_needs_it(
    usecases: DraftUseCases,  # noqa: F811
    config: AppConfig,  # noqa: F811
    db: Database,  # noqa: F811
    clock: FixedClock,  # noqa: F811
    cli: Cli,
) -> None:
    approve(usecases, config, targets=("midori-x", "midori-facebook"))
    with db.session() as session:  # a worker died after claiming both
        outbox.claim_due(session, now=NOW, worker_id="dead", lease=timedelta(minutes=5), limit=5)
    client, clients = scripted(db, config, clock, "midori-x")
    client.reconcile_answers.append(UNDECIDED)
    facebook, clients = _also_scripted(clients, "midori-facebook")
    facebook.reconcile_answers.append(UNDECIDED)
    clock.now = NOW + timedelta(minutes=5)
    await make_outbox(db, config, clock, RecordingNotifier(), clients=clients).run_once()
    x_row, fb_row = publications(db)
    assert (x_row.state, fb_row.state) == ("needs_review", "needs_review")
    code, out, _ = run(cli, "posts", "list", "--state", "needs_review")
    assert out.count("要確認") == 2
    link = "https://x.com/midori_city/status/1860000000000000777"
    code, out, _ = run(
        cli, "posts", "review", str(x_row.id), "--published", link, "--as", "takahashi.yui"
    )
    assert code == 0, out
    assert out.strip() == f"投稿 #{x_row.id}（midori-x）を投稿済みとして登録しました（{link}）。"
    code, out, _ = run(
        cli, "posts", "review", str(fb_row.id), "--not-published", "--as", "sato.keiko"
    )
    assert code == 0
    assert "投稿待ちに戻しました" in out
    code, _, err = run(
        cli, "posts", "review", str(fb_row.id), "--not-published", "--as", "sato.keiko"
    )
    assert code == 1
    assert "要確認ではありません" in err
    with pytest.raises(SystemExit) as usage:  # one of --published / --not-published
        run(cli, "posts", "review", str(fb_row.id), "--as", "sato.keiko")
    assert usage.value.code == 2
    assert "--published --not-published" in cli.capsys.readouterr().err
    x_row, fb_row = publications(db)
    assert (x_row.state, x_row.platform_post_id) == ("published", "1860000000000000777")
    assert (fb_row.state, fb_row.attempts) == ("pending", 0)
    assert actions(db, f"publication:{fb_row.id}")[-2:] == [
        "publication.reviewed",
        "publication.refused",
    ]


@pytest.mark.usefixtures("cli_env")
async def test_delete_request_approve_reject_and_correction(
    usecases: DraftUseCases,  # noqa: F811
    config: AppConfig,  # noqa: F811
    db: Database,  # noqa: F811
    clock: FixedClock,  # noqa: F811
    cli: Cli,
) -> None:
    approve(usecases, config, targets=("midori-x", "midori-facebook"))
    approve(usecases, config, targets=("kankyo-x",))
    box = make_outbox(db, config, clock, RecordingNotifier())
    await box.run_once()
    x_row, _, kankyo = publications(db)
    code, out, _ = run(
        cli,
        "posts",
        "delete-request",
        str(x_row.id),
        "--reason",
        "開催日の誤り",
        "--as",
        "ito.makoto",
    )
    assert code == 0, out
    requested, advice, hint = out.strip().splitlines()
    assert requested == (
        "削除依頼 #1 を受け付けました（投稿案 #1: midori-x, midori-facebook）。"
        "承認者（佐藤 恵子、鈴木 博）の承認を待っています。"
    )
    assert advice.startswith(
        "削除だけでは解決になりません。誤りの説明と訂正を見える形で行ってください"
    )
    assert hint == "訂正の投稿案を作るには: postgate posts correction 1 --as ito.makoto"
    code, _, err = run(cli, "posts", "delete-approve", "1", "--as", "ito.makoto")
    assert code == 1
    assert "依頼した本人は承認・却下できません" in err
    code, out, _ = run(cli, "posts", "correction", "1", "--as", "ito.makoto")
    assert code == 0
    assert out.strip().startswith("訂正の投稿案 #3 を作成しました（元の投稿案 #1 の訂正）")
    code, out, _ = run(cli, "posts", "delete-approve", "1", "--as", "suzuki.hiroshi")
    assert code == 0
    assert (
        "削除依頼 #1 を承認しました。投稿（midori-x, midori-facebook）をまもなく削除します" in out
    )
    await box.run_once()
    code, out, _ = run(cli, "posts", "list", "--state", "deleted")
    assert out.count("削除済み") == 2
    code, out, _ = run(
        cli,
        "posts",
        "delete-request",
        str(kankyo.id),
        "--reason",
        "誤り",
        "--as",
        "kato.shota",
        "--lang",
        "en",
    )
    assert code == 0
    assert "Deleting alone does not put it right" in out
    code, out, _ = run(
        cli, "posts", "delete-reject", "2", "--reason", "訂正の投稿で対応", "--as", "nakamura.ai"
    )
    assert code == 0
    assert out.strip() == "削除依頼 #2 を却下しました（理由: 訂正の投稿で対応）。"
    code, _, err = run(cli, "posts", "delete-approve", "2", "--as", "yamamoto.jun")
    assert code == 1
    assert "既に「却下」です" in err
    code, _, err = run(cli, "posts", "delete-approve", "9", "--as", "yamamoto.jun")
    assert code == 1
    assert "削除依頼 #9 が見つかりません" in err
    assert publications(db)[2].state == "published"
    assert actions(db, "deletion:1") == [
        "deletion.requested",
        "deletion.refused",
        "deletion.correction_opened",
        "deletion.approved",
        "deletion.executed",
    ]
    assert actions(db, "deletion:2") == [
        "deletion.requested",
        "deletion.rejected",
        "deletion.refused",
    ]


def _also_scripted(
    clients: dict[str, SnsClient], account_id: str
) -> tuple[ScriptedClient, dict[str, SnsClient]]:
    inner = clients[account_id]
    assert isinstance(inner, DryRunClient)
    wrapped = ScriptedClient(inner)
    return wrapped, {**clients, account_id: wrapped}


@pytest.mark.usefixtures("cli_env")
async def test_retry_a_failed_post(
    usecases: DraftUseCases,  # noqa: F811
    config: AppConfig,  # noqa: F811
    db: Database,  # noqa: F811
    clock: FixedClock,  # noqa: F811
    cli: Cli,
) -> None:
    from sns.base import ErrorKind

    approve(usecases, config)
    client, clients = scripted(db, config, clock, "midori-x")
    client.fail_next(ErrorKind.PERMANENT, status=403, message="Forbidden")
    box = make_outbox(db, config, clock, RecordingNotifier(), clients=clients)
    await box.run_once()
    [row] = publications(db)
    assert row.state == "failed"
    code, _, err = run(cli, "posts", "retry", str(row.id), "--as", "kato.shota")
    assert code == 1
    assert "承認者" in err or "作成者" in err
    code, out, err = run(cli, "posts", "retry", str(row.id), "--as", "takahashi.yui")
    assert code == 0, err
    assert "再送の待ち行列に戻しました" in out
    await box.run_once()
    [row] = publications(db)
    assert row.state == "published"
    assert client.publish_calls == 2
    assert "publication.retried" in actions(db, f"publication:{row.id}")
    code, _, err = run(cli, "posts", "retry", str(row.id), "--as", "takahashi.yui")
    assert code == 1
    assert "再送できません" in err
