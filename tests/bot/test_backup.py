"""`postgate backup FILE` / `postgate restore FILE`: SQLite's online backup, verified copies."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from storage import audit
from storage.engine import Database
from storage.migrate import upgrade

REPO = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # recorded times only: nothing is compared to now


def run(database: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTGATE_")}
    env["POSTGATE_DATABASE_URL"] = (
        database if isinstance(database, str) else f"sqlite:///{database}"
    )
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def add_events(path: Path, n: int) -> None:
    db = Database(f"sqlite:///{path}")
    with db.session() as session:
        for i in range(n):
            audit.append(
                session,
                actor="sato.keiko",
                action="draft.approved",
                subject=f"draft:{i}",
                details={"revision": 1},
                at=AT + timedelta(minutes=i),
            )
    db.dispose()


def events(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        count: int = db.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    return count


def seeded(tmp_path: Path, n: int = 4) -> Path:
    path = tmp_path / "postgate.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    add_events(path, n)
    return path


def test_a_backup_taken_while_the_database_is_open_is_verified(tmp_path: Path) -> None:
    database = seeded(tmp_path)
    with closing(sqlite3.connect(database)) as reader:  # someone reading meanwhile
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM audit_event").fetchone()
        done = run(database, "backup", str(tmp_path / "copy.db"))
        reader.execute("COMMIT")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{tmp_path / 'copy.db'} にバックアップしました")
    assert "複製の監査ログは正常です（4件、" in done.stdout
    assert not (tmp_path / "copy.db.partial").exists()
    # The copy is a database `audit verify` accepts, with the same chain.
    verified = run(tmp_path / "copy.db", "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "（4件、" in verified.stdout
    again = run(database, "backup", str(tmp_path / "copy.db"))
    assert again.returncode == 2
    assert "既にあります。上書きするには --force" in again.stderr


def test_a_tampered_database_is_not_backed_up(tmp_path: Path) -> None:
    database = seeded(tmp_path)
    db = Database(f"sqlite:///{database}")
    with db.session() as session:
        session.exec(text("UPDATE audit_event SET actor = 'x' WHERE seq = 2"))  # type: ignore[call-overload]
    db.dispose()
    done = run(database, "backup", str(tmp_path / "copy.db"))
    assert done.returncode == 2
    assert "の監査ログが壊れています" in done.stderr
    assert "このファイルは使わないでください" in done.stderr
    assert not (tmp_path / "copy.db").exists()
    assert not (tmp_path / "copy.db.partial").exists()


def test_restore_brings_back_the_backup_only_when_forced(tmp_path: Path) -> None:
    database = seeded(tmp_path, 3)
    assert run(database, "backup", str(tmp_path / "copy.db")).returncode == 0
    add_events(database, 2)  # work done after the backup, then lost
    assert events(database) == 5
    refused = run(database, "restore", str(tmp_path / "copy.db"))
    assert refused.returncode == 2
    assert "postgate を止めたうえで --force を付けて" in refused.stderr
    assert events(database) == 5
    done = run(database, "restore", str(tmp_path / "copy.db"), "--force")
    assert done.returncode == 0, done.stderr
    assert "監査ログは正常です（3件、" in done.stdout
    assert events(database) == 3
    assert run(database, "audit", "verify").returncode == 0
    missing = run(database, "restore", str(tmp_path / "nothing.db"), "--force")
    assert missing.returncode == 2
    assert "バックアップファイル" in missing.stderr
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("これはデータベースではありません" * 100, encoding="utf-8")
    wrong = run(database, "restore", str(not_sqlite), "--force")
    assert wrong.returncode == 2
    assert "SQLite のデータベースではありません" in wrong.stderr
    assert events(database) == 3


def test_postgresql_is_pointed_at_pg_dump(tmp_path: Path) -> None:
    done = run("postgresql+psycopg://postgate@db.example/postgate", "backup", "x.dump")
    assert done.returncode == 2
    assert "pg_dump" in done.stderr
    english = run(
        "postgresql+psycopg://postgate@db.example/postgate", "backup", "x", "--lang", "en"
    )
    assert "use pg_dump to back up" in english.stderr
