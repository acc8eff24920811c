"""`postgate monitor run` as an operator runs it, against the loopback fake X."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from storage.engine import Database
from storage.migrate import upgrade
from tests.bot.serve_support import REPO, serve_env
from tests.fakes.x import FakeX


async def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_monitor_run_polls_now_and_prints_what_it_found(
    tmp_path: Path, fake_x: FakeX
) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    env = serve_env(url, fake_x)
    code, out, err = await _run(env, "monitor", "run", "--account", "midori-x")
    assert code == 0, err
    assert "midori-x: 初回の確認でした" in out
    fake_x.add_tweet("【当選】みどり市から10万円 → https://evil.example/gift")
    code, out, err = await _run(env, "monitor", "run")
    assert code == 0, err
    assert "midori-x: 確認しました。新しいインシデント 1件" in out
    assert "postgate を通していない投稿" in out
    code, _, err = await _run(env, "monitor", "run", "--account", "kankyo-x")
    assert code == 2
    assert "kankyo-x は監視していません" in err
    assert "midori-x" in err
    assert "Traceback" not in err
