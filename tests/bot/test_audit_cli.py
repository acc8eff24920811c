"""`postgate db upgrade`, `audit verify` and `audit export` as an operator runs them."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from storage import audit
from storage.engine import Database

REPO = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTGATE_")}
    env["POSTGATE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'audit.db'}"
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def seed(tmp_path: Path, n: int = 5) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    with db.session() as session:
        for i in range(n):
            audit.append(
                session,
                actor="sato.keiko",
                action="draft.approved",
                subject=f"draft:{i}",
                details={"revision": 1, "理由": "確認済み"},
                at=datetime(2026, 11, 24, 1, i, tzinfo=UTC),
            )
    db.dispose()


def test_verify_intact_then_tampered(tmp_path: Path) -> None:
    seed(tmp_path)
    ok = run(tmp_path, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "（5件、" in ok.stdout
    db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    with db.session() as session:
        session.exec(  # type: ignore[call-overload]
            text("UPDATE audit_event SET actor = 'someone.else' WHERE seq = 3")
        )
    db.dispose()
    broken = run(tmp_path, "audit", "verify")
    assert broken.returncode == 1
    assert "seq 3" in broken.stderr
    assert "改ざん" in broken.stderr


def test_export_csv_and_jsonl(tmp_path: Path) -> None:
    seed(tmp_path, 3)
    done = run(tmp_path, "audit", "export", "--since", "2026-11-24", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["subject"] for r in rows] == ["draft:0", "draft:1", "draft:2"]
    assert rows[0]["at"].startswith("2026-11-24T10:00:00")  # shown in Asia/Tokyo
    assert json.loads(rows[0]["details"])["理由"] == "確認済み"
    out = tmp_path / "events.jsonl"
    done = run(
        tmp_path, "audit", "export", "--since", "2026-11-25", "--format", "jsonl", "-o", str(out)
    )
    assert done.returncode == 0
    assert out.read_text(encoding="utf-8") == ""
    assert "0件を出力しました" in done.stderr
    bad = run(tmp_path, "audit", "export", "--since", "last week")
    assert bad.returncode == 2


def test_audit_on_an_unmigrated_database_says_what_to_run(tmp_path: Path) -> None:
    done = run(tmp_path, "audit", "verify")
    assert done.returncode == 2
    assert "postgate db upgrade" in done.stderr
    status = run(tmp_path, "db", "status")
    assert status.returncode == 1


def test_anchor_then_verify_against_the_anchors(tmp_path: Path) -> None:
    seed(tmp_path, 6)
    anchors = tmp_path / "anchors.jsonl"
    first = run(tmp_path, "audit", "anchor", "--file", str(anchors))
    assert first.returncode == 0, first.stderr
    assert "seq" in first.stdout
    assert str(anchors) in first.stdout
    line = json.loads(anchors.read_text(encoding="utf-8").splitlines()[0])
    assert line["seq"] == 6
    assert len(line["hash"]) == 64
    ok = run(tmp_path, "audit", "verify", "--anchors", str(anchors))
    assert ok.returncode == 0, ok.stderr
    assert "記録点 1件と一致" in ok.stdout
    db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    with db.session() as session:
        session.exec(text("DELETE FROM audit_event WHERE seq = 6"))  # type: ignore[call-overload]
    db.dispose()
    assert run(tmp_path, "audit", "verify").returncode == 0  # the links alone cannot tell
    broken = run(tmp_path, "audit", "verify", "--anchors", str(anchors))
    assert broken.returncode == 1
    assert "記録点 1（seq 6、" in broken.stderr
    assert "がチェーンにありません（現在の最後: seq 5）" in broken.stderr
    assert "記録点と一致しません" in broken.stderr


def test_anchor_uses_the_configured_file_or_says_what_to_set(tmp_path: Path) -> None:
    seed(tmp_path, 2)
    config = (REPO / "app.yaml").read_text(encoding="utf-8")
    (tmp_path / "app.yaml").write_text(config, encoding="utf-8")
    missing = run(tmp_path, "--config", str(tmp_path / "app.yaml"), "audit", "anchor")
    assert missing.returncode == 2
    assert "audit.anchor_file" in missing.stderr
    assert "記録点ファイル" in missing.stderr
    (tmp_path / "app.yaml").write_text(
        config + "\naudit:\n  anchor_file: anchors/audit.jsonl\n", encoding="utf-8"
    )
    done = run(tmp_path, "--config", str(tmp_path / "app.yaml"), "audit", "anchor")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "anchors" / "audit.jsonl").read_text(encoding="utf-8").count("\n") == 1


def test_verify_with_an_unreadable_anchor_file_is_a_usage_error(tmp_path: Path) -> None:
    seed(tmp_path, 1)
    bad = tmp_path / "anchors.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    done = run(tmp_path, "audit", "verify", "--anchors", str(bad))
    assert done.returncode == 2
    assert "anchors.jsonl:1" in done.stderr
    assert "Traceback" not in done.stderr
