"""Mirror app.yaml's sections, members and accounts into the database, auditing every change.

Run at start-up (and after app.yaml is edited). A section, member or account missing from app.yaml
is marked inactive, never deleted: drafts, reviews and the audit log still refer to it, and a
click by someone who has left can be recognised and refused. Running it again with the same
app.yaml changes nothing and appends nothing.

Audit actions: ``config.<kind>.added`` (details: the new values), ``config.<kind>.changed``
(details: ``changes`` as ``{field: {"before", "after"}}``), ``config.<kind>.deactivated`` and
``config.<kind>.reactivated`` (with any other ``changes``), for kind section, member, account.
Subjects are ``section:<name>``, ``member:<id>``, ``account:<id>``.

Replicas starting at the same moment each run it: on PostgreSQL a transaction-scoped advisory lock
makes them take turns (the second then finds the first's rows and changes nothing); on SQLite
every write transaction is ``BEGIN IMMEDIATE`` already.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from storage import audit
from storage.tables import Account, AuditEvent, Member, Section
from workflows import org


class Organisation(Protocol):
    """What is mirrored: app.yaml's sections, members and accounts (``bot.config.AppConfig``)."""

    @property
    def sections(self) -> tuple[org.Section, ...]: ...
    @property
    def members(self) -> tuple[org.Member, ...]: ...
    @property
    def accounts(self) -> tuple[org.Account, ...]: ...


# Account fields with a column of their own; everything else goes into ``settings``.
_ACCOUNT_COLUMNS: Final = frozenset(
    {
        "id",
        "platform",
        "handle",
        "display_name",
        "owner_section",
        "approving_section",
        "official",
        "peer_checks",
    }
)
# A chat identity belongs to one member at a time: a member who left gives it up when an active
# member is given it.
_MEMBER_IDENTITIES: Final = ("slack_user_id", "teams_aad_id")


@dataclass(frozen=True, slots=True)
class _Kind:
    name: str
    model: type[Section] | type[Member] | type[Account]
    key: str
    unique: tuple[str, ...] = ()


# pg_advisory_xact_lock key for sync_config: "pgsync" in ASCII.
SYNC_LOCK_KEY: Final = int.from_bytes(b"pgsync", "big", signed=True)

_SECTION: Final = _Kind("section", Section, "name")
_MEMBER: Final = _Kind("member", Member, "id", _MEMBER_IDENTITIES)
_ACCOUNT: Final = _Kind("account", Account, "id")


def sync_config(
    session: Session, config: Organisation, *, at: datetime, actor: str = "config"
) -> tuple[AuditEvent, ...]:
    """Bring the section, member and account rows in line with ``config``; return the events."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(select(func.pg_advisory_xact_lock(SYNC_LOCK_KEY))).one()
    sections = {
        s.name: {
            "chief": s.chief,
            "deputies": list(s.deputies),
            "city_promotion": s.city_promotion,
            "digital_promotion": s.digital_promotion,
        }
        for s in config.sections
    }
    members = {
        m.id: {
            "name": m.name,
            "section": m.section,
            "slack_user_id": m.slack_user_id,
            "teams_aad_id": m.teams_aad_id,
        }
        for m in config.members
    }
    accounts: dict[str, dict[str, Any]] = {}
    for a in config.accounts:
        dumped = a.model_dump(mode="json")
        accounts[a.id] = {key: dumped[key] for key in sorted(_ACCOUNT_COLUMNS - {"id"})}
        accounts[a.id]["settings"] = {
            key: value for key, value in dumped.items() if key not in _ACCOUNT_COLUMNS
        }

    events: list[AuditEvent] = []
    for kind, desired in ((_SECTION, sections), (_MEMBER, members), (_ACCOUNT, accounts)):
        for action, subject, details in _sync_kind(session, kind, desired):
            events.append(
                audit.append(
                    session, actor=actor, action=action, subject=subject, details=details, at=at
                )
            )
    return tuple(events)


def _sync_kind(
    session: Session, kind: _Kind, desired: Mapping[str, dict[str, Any]]
) -> list[tuple[str, str, dict[str, Any]]]:
    """Plan and apply one kind's changes; return (action, subject, details) per changed row."""
    rows: dict[str, SQLModel] = {
        getattr(row, kind.key): row for row in session.exec(select(kind.model)).all()
    }
    fields = _fields_of(kind)
    before = {key: _snapshot(row, fields) for key, row in rows.items()}

    after: dict[str, dict[str, Any]] = {}
    for key, values in desired.items():
        after[key] = {**values, "active": True}
    for key in sorted(rows.keys() - desired.keys()):
        after[key] = {**before[key], "active": False}
    _release_identities(kind.unique, desired, after)

    # Two passes so that chat identities can move between members (even swap) without tripping
    # the unique constraints halfway: first free every identity that changes hands, then set.
    moving = [
        key
        for key in after
        if key in rows and any(before[key][u] != after[key][u] for u in kind.unique)
    ]
    if moving:
        for key in moving:
            for u in kind.unique:
                if before[key][u] != after[key][u]:
                    setattr(rows[key], u, None)
        session.flush()

    results: list[tuple[str, str, dict[str, Any]]] = []
    for key, values in after.items():
        subject = f"{kind.name}:{key}"
        row = rows.get(key)
        if row is None:
            session.add(kind.model(**{kind.key: key, **values}))
            details = {f: v for f, v in values.items() if f != "active"}
            results.append((f"config.{kind.name}.added", subject, details))
            continue
        old = before[key]
        for field, value in values.items():
            if old[field] != value:
                setattr(row, field, value)
        changes = _changes(old, values)
        if not old["active"] and values["active"]:
            results.append((f"config.{kind.name}.reactivated", subject, {"changes": changes}))
        elif old["active"] and not values["active"]:
            results.append((f"config.{kind.name}.deactivated", subject, {"changes": changes}))
        elif changes:
            results.append((f"config.{kind.name}.changed", subject, {"changes": changes}))
    session.flush()
    return results


def _release_identities(
    unique: Sequence[str], desired: Mapping[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> None:
    """Take a chat identity away from a removed row when an app.yaml row now holds it."""
    for field in unique:
        claimed = {values[field] for values in desired.values() if values.get(field) is not None}
        for key, values in after.items():
            if key not in desired and values[field] in claimed:
                values[field] = None


def _fields_of(kind: _Kind) -> list[str]:
    return [name for name in kind.model.model_fields if name not in {kind.key, "active"}]


def _snapshot(row: SQLModel, fields: Sequence[str]) -> dict[str, Any]:
    return {field: getattr(row, field) for field in [*fields, "active"]}


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """``{field: {"before", "after"}}``; a settings mapping is compared key by key."""
    changes: dict[str, Any] = {}
    for field, new in after.items():
        old = before.get(field)
        if field == "active" or old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            for sub in sorted(old.keys() | new.keys()):
                if old.get(sub) != new.get(sub):
                    changes[f"{field}.{sub}"] = {"before": old.get(sub), "after": new.get(sub)}
        else:
            changes[field] = {"before": old, "after": new}
    return changes
