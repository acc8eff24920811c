"""The audit log: an append-only, hash-chained record of everything postgate did and why.

Each event's ``hash`` is ``sha256(prev_hash + canonical_event)``, where the canonical event is the
JSON of ``{seq, at, actor, action, subject, details}`` with sorted keys, no whitespace and
``ensure_ascii=False``, encoded as UTF-8, and ``at`` is UTC ISO-8601 with microseconds. The first
event's ``prev_hash`` is 64 zeros. Changing, inserting or deleting a row breaks the chain at that
point, and ``verify`` names it. Deleting the newest events, or rewriting the chain from some
event on, can only be caught against a copy of a later hash kept elsewhere: the anchors
(``Anchor``: the chain's head, seq and hash, appended to a file outside the database and posted to
chat), which ``check_anchors`` compares with the chain.

With a key (``$POSTGATE_AUDIT_KEY``, kept outside the database) each link is
``HMAC-SHA256(key, prev_hash + canonical_event)`` instead, so someone who can write the database
but not read the key cannot recompute the chain. A chain started before the key was set keeps its
plain links: verifying with the key accepts plain links only before the first keyed one.

Appends are serialised so two transactions cannot both extend the same link: on PostgreSQL with a
transaction-scoped advisory lock, on SQLite by the ``BEGIN IMMEDIATE`` every transaction starts
with. The lock is held until the transaction ends, so append near the end of a transaction.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.engine import advisory_key, is_read_only
from storage.tables import AuditEvent
from workflows.catalogue import Lang, message

GENESIS_HASH: Final = AuditEvent.GENESIS_HASH
# pg_advisory_xact_lock key for audit appends: "postgate" in ASCII, as a signed 64-bit integer.
AUDIT_LOCK_KEY: Final = int.from_bytes(b"postgate", "big", signed=True)
EXPORT_ZONE: Final = ZoneInfo("Asia/Tokyo")
EXPORT_COLUMNS: Final = ("seq", "at", "actor", "action", "subject", "details", "prev_hash", "hash")
_BATCH: Final = 500
KEY_ENV: Final = "POSTGATE_AUDIT_KEY"


def audit_key(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The HMAC key of the chain's links ($POSTGATE_AUDIT_KEY), or None for plain SHA-256."""
    value = (os.environ if environ is None else environ).get(KEY_ENV, "")
    return value.encode("utf-8") if value else None


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, non-ASCII kept as is; NaN and infinity refused."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def utc_iso(at: datetime) -> str:
    """``at`` in UTC as ISO-8601 with microseconds, e.g. ``2026-11-20T01:00:00.000000+00:00``."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: audit times must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_event(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any],
) -> bytes:
    """The bytes an event's hash covers (after its ``prev_hash``)."""
    event = {
        "seq": seq,
        "at": utc_iso(at),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
    }
    return canonical_json(event).encode("utf-8")


def chain_hash(prev_hash: str, event: bytes, key: bytes | None = None) -> str:
    """SHA-256 of ``prev_hash + event``; with a key, HMAC-SHA256 of the same bytes."""
    data = prev_hash.encode("ascii") + event
    if key:
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """An event to append (``append_many``): what happened, before it has a place in the chain."""

    actor: str
    action: str
    subject: str
    at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
    at: datetime,
) -> AuditEvent:
    """Add one event at the end of the chain, in the session's transaction.

    ``details`` must be JSON-serialisable; it is stored in its JSON form (so what is read back
    hashes the same: tuples become lists, keys become strings).
    """
    [event] = append_many(session, [Entry(actor, action, subject, at, details or {})])
    return event


def append_many(session: Session, entries: Sequence[Entry]) -> list[AuditEvent]:
    """Add events at the end of the chain in this order, in the session's transaction: the lock
    is taken and the chain's end read once, and the rows go in one multi-row insert (the outbox
    records a batch of publications with one call)."""
    if not entries:
        return []
    if is_read_only(session):
        # On SQLite a read-only session holds no write lock, so the append would not be serialised.
        raise RuntimeError("audit.append needs a read-write session (Database.session())")
    prepared = [
        (
            e,
            datetime.fromisoformat(utc_iso(e.at)),  # refuses a naive datetime
            json.loads(canonical_json(dict(e.details))),
        )
        for e in entries
    ]
    key = audit_key()
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.exec(select(func.pg_advisory_xact_lock(advisory_key(AUDIT_LOCK_KEY)))).one()
    session.flush()  # events added to this session before are part of the chain's end
    last = session.exec(
        select(AuditEvent.seq, AuditEvent.hash).order_by(col(AuditEvent.seq).desc()).limit(1)
    ).first()
    seq, prev_hash = (last[0], last[1]) if last else (0, GENESIS_HASH)
    rows: list[dict[str, Any]] = []
    for entry, at_utc, stored_details in prepared:
        seq += 1
        digest = chain_hash(
            prev_hash,
            canonical_event(
                seq=seq,
                at=at_utc,
                actor=entry.actor,
                action=entry.action,
                subject=entry.subject,
                details=stored_details,
            ),
            key,
        )
        rows.append(
            {
                "seq": seq,
                "at": at_utc,
                "actor": entry.actor,
                "action": entry.action,
                "subject": entry.subject,
                "details": stored_details,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    session.execute(insert(AuditEvent), rows)
    return [AuditEvent(**row) for row in rows]


class Problem(StrEnum):
    HASH_MISMATCH = "hash mismatch"
    PREV_HASH_MISMATCH = "prev_hash does not match the previous event"
    SEQ_GAP = "gap in seq"
    PLAIN_AFTER_KEYED = "a plain SHA-256 link after keyed (HMAC) ones"
    CHANGED_SINCE_VERIFIED = "the event verified last has changed or is gone"


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first place the chain is broken.

    ``seq`` is the event that fails to verify, or for a gap the first missing number.
    """

    seq: int
    problem: Problem
    detail: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.problem.value} ({self.detail})"

    def said_in(self, lang: Lang = Lang.JA) -> str:
        """For people: the problem in ``lang``, the technical detail (hashes) as it is."""
        problem = message(f"audit.problem.{self.problem.name.lower()}", lang)
        return message("audit.link_broken", lang, seq=self.seq, problem=problem, detail=self.detail)


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last verified event: keep ``hash`` somewhere else to detect later truncation.

    ``plain`` counts the events whose link is plain SHA-256 when verified with a key (written
    before the key was set); without a key every link is plain and it is 0."""

    count: int
    seq: int | None
    hash: str
    plain: int = 0
    keyed: bool = False  # a keyed (HMAC) link was seen: plain ones after it are refused


class _Row(NamedTuple):
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def _rows(
    session: Session, since: datetime | None = None, after_seq: int | None = None
) -> Generator[_Row]:
    """Events in seq order, streamed in batches (a server-side cursor on PostgreSQL).

    Plain rows rather than ORM objects: nothing accumulates in the session however long the log.
    """
    session.flush()
    statement = sa_select(
        col(AuditEvent.seq),
        col(AuditEvent.at),
        col(AuditEvent.actor),
        col(AuditEvent.action),
        col(AuditEvent.subject),
        col(AuditEvent.details),
        col(AuditEvent.prev_hash),
        col(AuditEvent.hash),
    ).order_by(col(AuditEvent.seq))
    if since is not None:
        statement = statement.where(col(AuditEvent.at) >= since)
    if after_seq is not None:
        statement = statement.where(col(AuditEvent.seq) > after_seq)
    result = session.connection().execute(statement.execution_options(yield_per=_BATCH))
    try:
        for row in result:
            yield _Row(*row)
    finally:
        result.close()  # a walk that stops at a broken link must release the server cursor


def walk(session: Session, key: bytes | None = None) -> tuple[BrokenLink | None, ChainHead]:
    """Verify the whole chain; return the first broken link (or None) and the last good event.

    With ``key``, links are HMACs; plain links are accepted only before the first keyed one."""
    with closing(_rows(session)) as rows:
        return _walk(rows, key)


def walk_on(
    session: Session, since: ChainHead, key: bytes | None = None
) -> tuple[BrokenLink | None, ChainHead]:
    """Verify only what was appended after ``since`` (the head an earlier walk returned), once
    the event at its head is found unchanged: cheap however long the log.

    It cannot see an earlier event changed (``walk`` does); a changed or missing head event, or
    any bad link after it, it does see."""
    if since.seq is None:
        return walk(session, key)
    session.flush()
    stored = session.exec(select(AuditEvent).where(AuditEvent.seq == since.seq)).first()
    if stored is None or stored.hash != since.hash:
        now = stored.hash if stored else "no event"
        broken = BrokenLink(
            seq=since.seq,
            problem=Problem.CHANGED_SINCE_VERIFIED,
            detail=f"hash {since.hash} when verified, now {now}",
        )
        return broken, since
    altered = first_altered([stored], key)
    if altered is not None:
        detail = f"its content no longer gives its hash ({altered.detail})"
        return BrokenLink(since.seq, Problem.CHANGED_SINCE_VERIFIED, detail), since
    with closing(_rows(session, after_seq=since.seq)) as rows:
        return _walk(rows, key, since)


def _walk(
    rows: Iterator[_Row], key: bytes | None, start: ChainHead | None = None
) -> tuple[BrokenLink | None, ChainHead]:
    prev_hash = GENESIS_HASH if start is None else start.hash
    last_seq = None if start is None else start.seq
    expected_seq = (last_seq or 0) + 1
    count = 0 if start is None else start.count
    plain = 0 if start is None else start.plain
    keyed = False if start is None else start.keyed
    for event in rows:
        if event.seq != expected_seq:
            broken = BrokenLink(
                seq=expected_seq,
                problem=Problem.SEQ_GAP,
                detail=f"expected seq {expected_seq}, found {event.seq}",
            )
            return broken, ChainHead(count, last_seq, prev_hash, plain, keyed)
        if event.prev_hash != prev_hash:
            broken = BrokenLink(
                seq=event.seq,
                problem=Problem.PREV_HASH_MISMATCH,
                detail=f"prev_hash {event.prev_hash}, previous event's hash {prev_hash}",
            )
            return broken, ChainHead(count, last_seq, prev_hash, plain, keyed)
        canonical = canonical_event(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            details=event.details,
        )
        digest = chain_hash(prev_hash, canonical, key)
        if digest == event.hash and key:
            keyed = True
        elif digest != event.hash:
            unkeyed = chain_hash(prev_hash, canonical) if key else digest
            if unkeyed == event.hash and keyed:
                broken = BrokenLink(
                    seq=event.seq,
                    problem=Problem.PLAIN_AFTER_KEYED,
                    detail="recomputed without the key after keyed events",
                )
                return broken, ChainHead(count, last_seq, prev_hash, plain, keyed)
            if unkeyed != event.hash:
                hint = "" if key else f"; a keyed chain needs ${KEY_ENV}"
                broken = BrokenLink(
                    seq=event.seq,
                    problem=Problem.HASH_MISMATCH,
                    detail=f"stored {event.hash}, computed {digest}{hint}",
                )
                return broken, ChainHead(count, last_seq, prev_hash, plain, keyed)
            plain += 1
        prev_hash = event.hash
        last_seq = event.seq
        expected_seq += 1
        count += 1
    return None, ChainHead(count, last_seq, prev_hash, plain, keyed)


def first_altered(events: Sequence[AuditEvent], key: bytes | None = None) -> BrokenLink | None:
    """The first of ``events`` (any order, e.g. a page of search results) whose stored hash is
    not that of its own content and ``prev_hash`` (with the key, or plain), or whose
    ``prev_hash`` is not the hash of the event before it when that one is among ``events`` too.
    A check of what is shown, not of the chain (``walk`` checks every link)."""
    by_seq = {e.seq: e for e in events}
    for event in sorted(events, key=lambda e: e.seq):
        before = by_seq.get(event.seq - 1)
        if before is not None and event.prev_hash != before.hash:
            return BrokenLink(
                seq=event.seq,
                problem=Problem.PREV_HASH_MISMATCH,
                detail=f"prev_hash {event.prev_hash}, previous event's hash {before.hash}",
            )
        canonical = canonical_event(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            details=event.details,
        )
        digests = {chain_hash(event.prev_hash, canonical)}
        if key:
            digests.add(chain_hash(event.prev_hash, canonical, key))
        if event.hash not in digests:
            return BrokenLink(
                seq=event.seq,
                problem=Problem.HASH_MISMATCH,
                detail=f"stored {event.hash}, computed from its content {min(digests)}",
            )
    return None


def verify(session: Session, key: bytes | None = None) -> BrokenLink | None:
    """The first broken link of the chain, or None when every event verifies."""
    broken, _head = walk(session, key)
    return broken


# ---------------------------------------------------------------- anchors


class AnchorFileError(ValueError):
    """An anchor file that cannot be read (missing, or a line that is not an anchor)."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """The chain's head at a moment, kept outside the database: one JSON line of an anchor file.

    ``seq`` 0 (with the genesis hash) anchors an empty chain."""

    seq: int
    hash: str
    at: datetime

    def line(self) -> str:
        return canonical_json({"seq": self.seq, "hash": self.hash, "at": utc_iso(self.at)})

    def short(self) -> str:
        """``seq 42 3f5a9c0e1b2d…`` for chat and logs."""
        return f"seq {self.seq} {self.hash[:16]}"


def head_anchor(session: Session, at: datetime) -> Anchor:
    """The newest event's seq and hash (not verified: ``walk`` does that), as of ``at``."""
    session.flush()
    last = session.exec(
        select(AuditEvent.seq, AuditEvent.hash).order_by(col(AuditEvent.seq).desc()).limit(1)
    ).first()
    if last is None:
        return Anchor(0, GENESIS_HASH, at)
    return Anchor(last[0], last[1], at)


def write_anchor(path: Path, anchor: Anchor) -> None:
    """Append the anchor to the file (created with its folder), flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(anchor.line() + "\n")
        out.flush()
        os.fsync(out.fileno())


def read_anchors(path: Path) -> list[Anchor]:
    """Every anchor of the file, in order; blank lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AnchorFileError(f"{path}: {exc.strerror or exc}") from None
    anchors: list[Anchor] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
            anchor = Anchor(int(data["seq"]), str(data["hash"]), datetime.fromisoformat(data["at"]))
            utc_iso(anchor.at)  # refuses a naive time
        except (ValueError, KeyError, TypeError):
            raise AnchorFileError(f"{path}:{number}: not an anchor line: {raw[:80]!r}") from None
        anchors.append(anchor)
    return anchors


def last_anchor(path: Path) -> Anchor | None:
    """The newest anchor of the file, or None when there is no file or no anchor yet."""
    if not path.is_file():
        return None
    anchors = read_anchors(path)
    return anchors[-1] if anchors else None


@dataclass(frozen=True, slots=True)
class AnchorBroken:
    """The first anchor the chain no longer contains (``found`` None) or no longer matches."""

    number: int  # 1-based, among the file's anchors
    anchor: Anchor
    found: str | None
    last_seq: int | None

    def __str__(self) -> str:
        where = f"anchor {self.number} (seq {self.anchor.seq}, {utc_iso(self.anchor.at)})"
        if self.found is None:
            end = f"seq {self.last_seq}" if self.last_seq else "no events"
            return f"{where}: the chain no longer contains it (it now ends at {end})"
        return f"{where}: hash {self.anchor.hash}, the chain now has {self.found}"

    def said_in(self, lang: Lang = Lang.JA) -> str:
        """For people, in ``lang``: which anchor, and whether it is gone or rewritten."""
        where = {"number": self.number, "seq": self.anchor.seq, "at": utc_iso(self.anchor.at)}
        if self.found is None:
            end = message("audit.anchor_end", lang, seq=self.last_seq) if self.last_seq else "-"
            return message("audit.anchor_gone", lang, end=end, **where)
        return message(
            "audit.anchor_changed", lang, hash=self.anchor.hash, found=self.found, **where
        )


def check_anchors(session: Session, anchors: Sequence[Anchor]) -> AnchorBroken | None:
    """Compare each anchor with the stored event of its seq: the first one missing (the chain
    was shortened) or different (rewritten) is returned. ``walk`` checks the links between."""
    session.flush()
    wanted = sorted({a.seq for a in anchors if a.seq > 0})
    stored: dict[int, str] = {}
    for start in range(0, len(wanted), _BATCH):
        chunk = wanted[start : start + _BATCH]
        statement = select(AuditEvent.seq, AuditEvent.hash).where(col(AuditEvent.seq).in_(chunk))
        stored.update(dict(session.exec(statement).all()))
    last_seq = session.exec(select(func.max(AuditEvent.seq))).one()
    for number, anchor in enumerate(anchors, start=1):
        if anchor.seq == 0:
            if anchor.hash != GENESIS_HASH:
                return AnchorBroken(number, anchor, GENESIS_HASH, last_seq)
            continue
        found = stored.get(anchor.seq)
        if found != anchor.hash:
            return AnchorBroken(number, anchor, found, last_seq)
    return None


ExportFormat = Literal["csv", "jsonl"]


def export(
    session: Session,
    since: date | datetime,
    fmt: ExportFormat,
    out: TextIO,
) -> int:
    """Write the events at or after ``since`` for a public-records request; return how many.

    A date means its start in Asia/Tokyo. Columns: seq, at (Asia/Tokyo, ISO-8601 with
    microseconds), actor, action, subject, details (canonical JSON), prev_hash, hash — enough for
    the recipient to recompute every hash.
    """
    start = _start_of(since)
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
    elif fmt != "jsonl":
        raise ValueError(f"unknown export format {fmt!r}: csv or jsonl")
    count = 0
    with closing(_rows(session, since=start)) as rows:
        for event in rows:
            record = _export_record(event)
            if fmt == "csv":
                writer.writerow([record[column] for column in EXPORT_COLUMNS])
            else:
                line = dict(record, details=event.details)
                out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count


def _export_record(event: _Row) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.astimezone(EXPORT_ZONE).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "details": canonical_json(event.details),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _start_of(since: date | datetime) -> datetime:
    if isinstance(since, datetime):
        if since.tzinfo is None or since.utcoffset() is None:
            raise ValueError(f"naive datetime {since!r}: pass an aware datetime or a date")
        return since
    return datetime.combine(since, time.min, tzinfo=EXPORT_ZONE)
