"""The audit chain's status on the 監査ログ page, kept cheap however long the log grows.

The first view after start-up walks the whole chain (as ``postgate audit verify`` does) and
remembers the head it reached; each later view checks that the head event is unchanged and walks
only what was appended since (``storage.audit.walk_on``). The events the page shows are each
checked against their own hash too, so a tampered one in view shows as broken at once. A broken
chain stays shown as broken. 「全件を再検証」 walks the whole chain again, the only way to see an
older event, not shown, rewritten together with every link after it — so the page always says
when the whole chain was last walked. The newest anchor of ``audit.anchor_file``, if there is
one, is compared with its event on each view (one row).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from handlers.drafts import Clock
from storage import audit
from storage.audit import Anchor, AnchorBroken, AnchorFileError, BrokenLink, ChainHead
from storage.engine import Database
from storage.tables import AuditEvent


@dataclass(frozen=True, slots=True)
class AnchorStatus:
    anchor: Anchor | None  # None: no anchor written yet
    broken: AnchorBroken | None = None
    unreadable: str | None = None  # why the anchor file could not be read


@dataclass(frozen=True, slots=True)
class ChainStatus:
    broken: BrokenLink | None
    head: ChainHead  # the last event verified
    walked_at: datetime  # when the whole chain was last walked
    walked_count: int  # how many events that walk verified
    anchor: AnchorStatus | None = None  # None: no anchor file configured

    @property
    def since_walk(self) -> int:
        """Events verified one by one as they were appended after the whole walk."""
        return self.head.count - self.walked_count


class ChainWatch:
    """Remembers the last verified head of the chain (per process; the lock keeps two page
    views from walking at once)."""

    def __init__(
        self, db: Database, *, key: bytes | None, anchor_file: Path | None, clock: Clock
    ) -> None:
        self.db = db
        self.key = key
        self.anchor_file = anchor_file
        self.clock = clock
        self._lock = threading.Lock()
        self._last: ChainStatus | None = None

    def status(self, shown: Sequence[AuditEvent] = ()) -> ChainStatus:
        """The chain as of now: only what is new is verified (all of it the first time), and
        the ``shown`` events (the page's rows) each against its own hash."""
        with self._lock:
            last = self._last
            if last is None:
                last = self._walk_all()
            elif last.broken is None:
                with self.db.session(read_only=True) as session:
                    broken, head = audit.walk_on(session, last.head, self.key)
                last = replace(last, broken=broken, head=head, anchor=self._anchor())
            else:
                last = replace(last, anchor=self._anchor())
            if last.broken is None:
                last = replace(last, broken=audit.first_altered(shown, self.key))
            self._last = last
            return last

    def verify_all(self) -> ChainStatus:
        """Walk the whole chain again (the page's 「全件を再検証」)."""
        with self._lock:
            return self._walk_all()

    def _walk_all(self) -> ChainStatus:
        with self.db.session(read_only=True) as session:
            broken, head = audit.walk(session, self.key)
        status = ChainStatus(broken, head, self.clock(), head.count, self._anchor())
        self._last = status
        return status

    def _anchor(self) -> AnchorStatus | None:
        if self.anchor_file is None:
            return None
        try:
            anchor = audit.last_anchor(self.anchor_file)
        except AnchorFileError as error:
            return AnchorStatus(None, unreadable=str(error))
        if anchor is None:
            return AnchorStatus(None)
        with self.db.session(read_only=True) as session:
            return AnchorStatus(anchor, audit.check_anchors(session, [anchor]))
