"""Audit anchors: the chain's head recorded outside the database, so that shortening or
rewriting the audit log is caught (``postgate audit verify --anchors FILE``).

``AuditAnchors.anchor()`` reads the newest event's seq and hash and appends them, with the time,
to the anchor file; ``tick()`` (on the serve timer, every ``audit.anchor_every_minutes``) does the
same when the head has moved since the file's last anchor, and posts a short line to the alerts
channel(s) through an ``Announcer`` where chat is configured. The anchor is worth most where the
database's writers cannot reach: a chat channel, another machine's disk, a printed report.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from handlers.drafts import Clock, utc_now
from storage import audit
from storage.audit import Anchor
from storage.engine import Database
from workflows.catalogue import Lang, message

log = logging.getLogger(__name__)


class Announcer(Protocol):
    """Posts one short line to the alerts channel(s), where people (and a later auditor) see it,
    mentioning ``member_ids``. Must not raise."""

    async def announce(self, text: str, member_ids: Sequence[str] = ()) -> None: ...


class LoggingAnnouncer:
    async def announce(self, text: str, member_ids: Sequence[str] = ()) -> None:
        log.info("%s (for %s)", text, ", ".join(member_ids) or "-")


def anchor_text(anchor: Anchor, lang: Lang = Lang.JA) -> str:
    return message(
        "audit.anchor_line",
        lang,
        seq=anchor.seq,
        hash=anchor.hash,
        at=audit.utc_iso(anchor.at),
    )


@dataclass
class AuditAnchors:
    db: Database
    path: Path | None
    announcer: Announcer | None = None
    clock: Clock = utc_now
    _last: tuple[int, str] | None = field(default=None, init=False)

    def anchor(self, *, only_if_moved: bool = False) -> Anchor | None:
        """Record the head now (in the file, if there is one); with ``only_if_moved``, nothing
        when the file's last anchor already has this head (returns None)."""
        with self.db.session(read_only=True) as session:
            head = audit.head_anchor(session, self.clock())
        if only_if_moved:
            last = audit.last_anchor(self.path) if self.path is not None else None
            seen = (last.seq, last.hash) if last is not None else self._last
            if seen == (head.seq, head.hash):
                return None
        if self.path is not None:
            audit.write_anchor(self.path, head)
        self._last = (head.seq, head.hash)
        return head

    async def tick(self) -> Anchor | None:
        """The timer's anchor: file and chat, when the head moved; problems are logged."""
        try:
            head = await asyncio.to_thread(self.anchor, only_if_moved=True)
        except (OSError, audit.AnchorFileError) as error:
            log.error("audit anchor not written to %s: %s", self.path, error)
            return None
        if head is None:
            return None
        log.info("audit anchor: %s", head.line())
        if self.announcer is not None:
            await self.announcer.announce(anchor_text(head))
        return head
