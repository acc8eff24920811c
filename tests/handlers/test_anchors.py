"""The serve timer's audit anchors: written to the file and told to chat when the head moved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from handlers.anchors import AuditAnchors
from storage import audit
from storage.engine import Database
from tests.handlers.conftest import FixedClock


class RecordingAnnouncer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.mentioned: list[tuple[str, ...]] = []

    async def announce(self, text: str, member_ids: Sequence[str] = ()) -> None:
        self.lines.append(text)
        self.mentioned.append(tuple(member_ids))


def _event(db: Database, clock: FixedClock) -> None:
    with db.session() as session:
        audit.append(session, actor="x", action="test", subject="s", at=clock())


async def test_tick_anchors_only_when_the_head_moved(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "anchors.jsonl"
    announcer = RecordingAnnouncer()
    anchors = AuditAnchors(db, path, announcer, clock)
    _event(db, clock)
    first = await anchors.tick()
    assert first is not None
    assert first.seq == 1
    clock.now += timedelta(hours=1)
    assert await anchors.tick() is None  # nothing new: no line, no message
    _event(db, clock)
    second = await anchors.tick()
    assert second is not None
    assert second.seq == 2
    assert second.at == clock.now
    assert [(a.seq, a.hash) for a in audit.read_anchors(path)] == [
        (1, first.hash),
        (2, second.hash),
    ]
    assert len(announcer.lines) == 2
    assert "監査ログの記録点: seq 2" in announcer.lines[1]
    assert second.hash in announcer.lines[1]


async def test_without_a_file_the_anchor_still_goes_to_chat(
    db: Database, clock: FixedClock
) -> None:
    announcer = RecordingAnnouncer()
    anchors = AuditAnchors(db, None, announcer, clock)
    _event(db, clock)
    assert await anchors.tick() is not None
    assert await anchors.tick() is None
    assert len(announcer.lines) == 1


async def test_an_unwritable_file_is_logged_not_raised(
    db: Database, clock: FixedClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    anchors = AuditAnchors(db, blocker / "anchors.jsonl", None, clock)
    assert await anchors.tick() is None
    assert "audit anchor not written" in caplog.text
