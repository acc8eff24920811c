"""A read-only or unwritable database: one clear line (what, where, what to do) and exit 2, never a
SQLAlchemy traceback; nothing already saved is lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from storage.engine import Database
from storage.migrate import upgrade
from tests.bot.serve_support import REPO, seed, states


def _run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGATE_", "SLACK_"))}
    env |= {"POSTGATE_DATABASE_URL": url, "POSTGATE_CONFIG": str(REPO / "app.yaml")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_and_posts_cancel_on_a_read_only_database_say_so_in_one_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ro.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    seed(db)
    before = states(db)
    db.dispose()
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    [publication] = before
    for args in (
        ("serve", "--port", "0"),
        ("posts", "cancel", str(publication), "--reason", "誤り", "--as", "takahashi.yui"),
    ):
        done = _run(read_only, *args)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert "Traceback" not in done.stderr
        [line] = [x for x in lines if "データベースを使えません" in x]
        assert "readonly" in line or "read-only" in line
        assert str(path) in line
        assert "mode=ro" in line
    db = Database(f"sqlite:///{path}")
    assert states(db) == before  # nothing changed, nothing lost
    db.dispose()
