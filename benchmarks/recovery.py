"""Recovery times through real `postgate serve` processes and the loopback fake X (issue 12).

- restart: N emergency posts on their way (X stored them, its answer never came) when the process
  is killed with SIGKILL; the time from the restart to every post settled (reconciled: found on
  the timeline, never sent again). Target: within 60 s.
- replicas (PostgreSQL): two replicas; the one holding the N posts is killed; the time until the
  survivor has settled them all. Target: within 60 s.
- outage (PostgreSQL): the database is cut off (a TCP proxy drops every connection) for 20 s while
  N posts come due; the time from its return to every post published. Target: within 30 s.
- in-flight (PostgreSQL): the same outage begins while N posts are on their way to X (their
  outcomes cannot be recorded): the time from the database's return until each is settled
  (reconciled, found on X, never sent again).

    uv run python benchmarks/recovery.py [--posts 7] [--outage-seconds 20]

SQLite always (restart); PostgreSQL scenarios when POSTGATE_TEST_DATABASE_URL is set (a temporary
schema, dropped afterwards). Prints one line per scenario: seconds until settled, and how many
POSTs X received (it must equal the number of posts: nothing doubled).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from storage.engine import Database
from storage.migrate import upgrade
from tests.bot.serve_support import Serve, seed, serve_env, states, wait_for
from tests.fakes.x import FakeX

POSTS = "/2/tweets"
DEADLINE = 300.0


def all_published(db: Database, count: int) -> bool:
    found = states(db)
    return len(found) == count and set(found.values()) == {"published"}


async def restart(db: Database, url: str, posts: int, log: Path) -> str:
    async with FakeX() as x:
        x.hang_next(count=posts, method="POST", path=POSTS)
        env = serve_env(url, x)
        seed(db, emergency=posts)
        first = await Serve.start(env, log)
        await wait_for(lambda: len(x.posted) == posts, deadline=DEADLINE, what="posts sent")
        first.kill()
        await first.process.wait()
        started = time.monotonic()
        second = await Serve.start(env, log)
        try:
            await wait_for(lambda: all_published(db, posts), deadline=DEADLINE, what="settled")
            took = time.monotonic() - started
        finally:
            await second.stop()
        sent = len(x.requests_to("POST", POSTS))
        return f"settled {took:5.1f} s after the restart; X received {sent} POSTs for {posts} posts"


async def _one_dies(db: Database, url: str, posts: int, log: Path) -> str:
    async with FakeX() as x:
        x.hang_next(count=posts, method="POST", path=POSTS)
        env = serve_env(url, x)
        holder = await Serve.start(env, log)
        before = len(states(db))
        seed(db, emergency=posts)
        total = before + posts
        await wait_for(lambda: len(x.posted) == posts, deadline=DEADLINE, what="posts sent")
        marks = log.read_text(encoding="utf-8").count("postgate serving")
        survivor = await Serve.start(env, log)
        try:
            await wait_for(
                lambda: log.read_text(encoding="utf-8").count("postgate serving") > marks,
                deadline=DEADLINE,
                what="the survivor up",
            )
            holder.kill()
            await holder.process.wait()
            killed = time.monotonic()
            await wait_for(lambda: all_published(db, total), deadline=DEADLINE, what="taken over")
            took = time.monotonic() - killed
        finally:
            await survivor.stop()
        sent = len(x.requests_to("POST", POSTS))
        return f"settled {took:5.1f} s after the kill; X received {sent} POSTs for {posts} posts"


class Proxy:
    """A TCP proxy to the database that can be cut: every connection dropped, new ones refused."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.cut = False
        self.pairs: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.pairs |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.pairs -= {writer, up_writer}

    def drop(self) -> None:
        self.cut = True
        for writer in list(self.pairs):
            writer.close()

    def restore(self) -> None:
        self.cut = False

    async def close(self) -> None:
        self.drop()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def outage(
    db: Database, url: str, posts: int, seconds: float, log: Path, *, in_flight: bool = False
) -> str:
    parts = urlsplit(url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    port = await proxy.start()
    netloc = parts.netloc.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{port}")
    proxied = urlunsplit(parts._replace(netloc=netloc))
    try:
        async with FakeX() as x:
            env = serve_env(proxied, x)
            serve = await Serve.start(env, log)
            try:
                before = len(states(db))
                await wait_for(
                    lambda: (
                        "postgate serving" in log.read_text(encoding="utf-8").split("outage")[-1]
                    ),
                    deadline=DEADLINE,
                    what="serve up",
                )
                if in_flight:
                    # X takes 3 s to answer: the database goes away while the posts are out.
                    x.delay_next(3.0, count=posts, method="POST", path=POSTS)
                    seed(db, emergency=posts)
                    await wait_for(
                        lambda: len(x.requests_to("POST", POSTS)) == posts,
                        deadline=DEADLINE,
                        what="the posts on their way",
                    )
                    proxy.drop()
                else:
                    proxy.drop()
                    seed(db, emergency=posts)  # due during the outage (written directly)
                await asyncio.sleep(seconds)  # the outage itself, not a wait for a result
                proxy.restore()
                back = time.monotonic()
                await wait_for(
                    lambda: all_published(db, before + posts), deadline=DEADLINE, what="resumed"
                )
                took = time.monotonic() - back
            finally:
                await serve.stop()
            logged = log.read_text(encoding="utf-8")
            return (
                f"sending resumed, all published {took:5.1f} s after the database came back; "
                f"X received {len(x.requests_to('POST', POSTS))} POSTs for {posts} posts; "
                f"{logged.count('Traceback')} tracebacks logged"
            )
    finally:
        await proxy.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=7)
    parser.add_argument("--outage-seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "serve.log"
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db = Database(url)
        upgrade(db)
        try:
            print("SQLite     restart :", await restart(db, url, args.posts, log), flush=True)
        finally:
            db.dispose()
        base = os.environ.get("POSTGATE_TEST_DATABASE_URL")
        if not base:
            print("PostgreSQL: set POSTGATE_TEST_DATABASE_URL for the replica and outage runs")
            return
        for name in ("replicas", "outage", "in-flight"):
            schema = f"postgate_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(base, poolclass=NullPool)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            db = Database(base, connect_args={"options": f"-csearch_path={schema}"})
            sep = "&" if "?" in base else "?"
            url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
            try:
                upgrade(db)
                if name == "replicas":
                    line = await _one_dies(db, url, args.posts, log)
                else:
                    with log.open("a", encoding="utf-8") as out:
                        out.write("--- outage\n")
                    line = await outage(
                        db,
                        url,
                        args.posts,
                        args.outage_seconds,
                        log,
                        in_flight=name == "in-flight",
                    )
                print(f"PostgreSQL {name:8}:", line, flush=True)
            finally:
                db.dispose()
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
