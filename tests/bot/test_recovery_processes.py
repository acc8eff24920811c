"""Through real processes: `postgate serve` killed with SIGKILL while a post is on its way, then
started again — the post is settled within seconds, and never doubled."""

from __future__ import annotations

from pathlib import Path

from storage.engine import Database
from storage.migrate import upgrade
from tests.bot.serve_support import Serve, seed, serve_env, states, wait_for
from tests.fakes.x import FakeX

POSTS = "/2/tweets"


async def test_kill_9_mid_post_then_restart_settles_it_once_within_a_minute(
    tmp_path: Path, fake_x: FakeX
) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    db = Database(url)
    try:
        upgrade(db)
        seed(db)
        fake_x.hang_next(method="POST", path=POSTS)  # X stores the post, the answer never comes
        env = serve_env(url, fake_x)
        first = await Serve.start(env, tmp_path / "serve.log")
        try:
            await wait_for(lambda: len(fake_x.posted) == 1, deadline=120, what="the first post")
        finally:
            first.kill()
            await first.process.wait()
        assert set(states(db).values()) == {"sending"}
        second = await Serve.start(env, tmp_path / "serve.log")
        try:
            await wait_for(
                lambda: set(states(db).values()) == {"published"},
                deadline=120,
                what="the post settled after the restart",
            )
        finally:
            await second.stop()
        assert len(fake_x.requests_to("POST", POSTS)) == 1  # reconciled, never sent again
        assert len(fake_x.posted) == 1
        log = (tmp_path / "serve.log").read_text(encoding="utf-8")
        assert "claims of dead worker" in log
        assert "Traceback" not in log
    finally:
        db.dispose()
