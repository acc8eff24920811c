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
