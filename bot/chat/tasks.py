"""The work a chat adapter does after answering the platform: tracked, reported, drained.

A platform wants its answer within seconds (Slack 3 s, Teams about 5 s), so an adapter answers
first and does the rest in a task. Each task's exceptions go to the adapter's one error boundary
(``report``); ``settle`` waits for every task (tests, shutdown); ``drain`` gives them a grace
period at shutdown and cancels the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

Report = Callable[[BaseException, Any], Awaitable[None]]


class Tasks:
    def __init__(self, report: Report, platform: str) -> None:
        self.report = report
        self.platform = platform
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], context: Any) -> None:
        """Run ``work`` now in the background, reporting what it raises with ``context``."""
        task = asyncio.create_task(self._guarded(work, context))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, work: Coroutine[Any, Any, None], context: Any) -> None:
        try:
            await work
        except Exception as error:  # the error boundary of the work after the answer
            await self.report(error, context)

    async def settle(self) -> None:
        """Wait until every task started so far (and any they started) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def drain(self, grace: float) -> None:
        """Give the running tasks ``grace`` seconds (their decisions are committed already:
        only messages about them can be lost), then cancel the rest."""
        try:
            async with asyncio.timeout(grace):
                await self.settle()
        except TimeoutError:
            for task in list(self._tasks):
                task.cancel()
            log.warning(
                "%d %s task(s) still running at shutdown were cancelled",
                len(self._tasks),
                self.platform,
            )
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
