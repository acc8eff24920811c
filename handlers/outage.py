"""A database outage, told once: one warning when it starts, a count every minute while it lasts,
one line when it is back — instead of a traceback every second from every timer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Final, TypeVar

from handlers.drafts import Clock, utc_now
from storage.engine import UNAVAILABLE

log = logging.getLogger("postgate.database")
COUNT_EVERY: Final = timedelta(minutes=1)
T = TypeVar("T")


def first_line(error: BaseException) -> str:
    """The error's first line, without SQLAlchemy's SQL and background link."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class DatabaseOutage:
    """Shared by every timer job of a process: ``guard(job)`` runs a job, and a database error
    is counted instead of raised (the job runs again at its next tick: the database is the
    truth, nothing is lost)."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.clock = clock
        self.down_since: datetime | None = None
        self.failures = 0
        self._counted_at: datetime | None = None

    async def guard(self, job: Callable[[], Awaitable[T]], name: str) -> T | None:
        try:
            result = await job()
        except UNAVAILABLE as error:
            self.failed(error, name)
            return None
        self.succeeded()
        return result

    def failed(self, error: BaseException, name: str) -> None:
        now = self.clock()
        self.failures += 1
        if self.down_since is None:
            self.down_since = self._counted_at = now
            log.warning(
                "database unavailable (%s, from %s): %s — retrying; one line when it is back",
                name,
                type(error).__name__,
                first_line(error),
            )
        elif self._counted_at is not None and now - self._counted_at >= COUNT_EVERY:
            self._counted_at = now
            log.warning(
                "database still unavailable: %d failed attempts since %s",
                self.failures,
                self.down_since.isoformat(timespec="seconds"),
            )

    def succeeded(self) -> None:
        if self.down_since is None:
            return
        seconds = (self.clock() - self.down_since).total_seconds()
        log.warning(
            "database available again after %.0f s (%d failed attempts)", seconds, self.failures
        )
        self.down_since = self._counted_at = None
        self.failures = 0
