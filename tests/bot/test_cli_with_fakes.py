"""`postgate monitor run` and `postgate audit anchor` as an operator runs them, against the loopback
fakes (X, Slack): the CLI runs as a subprocess so the fakes keep answering in this loop."""

from __future__ import annotations

import asyncio
import os
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


async def test_audit_anchor_also_posts_its_line_to_the_alerts_channel(tmp_path: Path) -> None:
    from tests.fakes.slack import FakeSlack

    url = f"sqlite:///{tmp_path / 'anchor.db'}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    async with FakeSlack() as slack:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGATE_", "SLACK_"))}
        env |= {
            "POSTGATE_DATABASE_URL": url,
            "POSTGATE_CONFIG": str(REPO / "app.yaml"),
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_API_URL": slack.api_url,
        }
        anchors = tmp_path / "anchors.jsonl"
        code, out, err = await _run(env, "audit", "anchor", "--file", str(anchors))
        assert code == 0, err
        assert "C0ALERTS01" in out
        [posted] = slack.messages("C0ALERTS01")
        assert "監査ログの記録点: seq" in posted.text
        [call] = slack.calls_to("chat.postMessage")
        assert call.params.get("unfurl_links") in (False, "false", "0")
