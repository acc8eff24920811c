"""Helpers for the incident and monitor tests: the use cases on the test database, an Alerts that
records what people would be told, and readers of the audit log and the incident table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from bot.config import AppConfig
from handlers.drafts import DraftUseCases
from handlers.incidents import AlertChannel, IncidentUseCases, IncidentView
from storage.engine import Database
from storage.tables import AuditEvent, Incident
from tests.handlers.conftest import FixedClock


def incident_uc(
    db: Database, config: AppConfig, drafts: DraftUseCases, clock: FixedClock
) -> IncidentUseCases:
    alerts = config.channels.alerts
    return IncidentUseCases(
        db=db,
        directory=config.directory,
        organisation=config.organisation,
        drafts=drafts,
        allowlist=config.allowlist,
        alert_channel=AlertChannel(slack=alerts.slack, teams=alerts.teams) if alerts else None,
        clock=clock,
    )


@dataclass
class RecordingAlerts:
    """Keeps every alert, as the chat would receive it."""

    opened: list[IncidentView] = field(default_factory=list)
    updated: list[IncidentView] = field(default_factory=list)

    async def incident_opened(self, view: IncidentView) -> None:
        self.opened.append(view)

    async def incident_updated(self, view: IncidentView) -> None:
        self.updated.append(view)


def incidents(db: Database) -> list[Incident]:
    with db.session(read_only=True) as session:
        return list(session.exec(select(Incident).order_by(col(Incident.id))).all())


def audit_events(db: Database, subject_prefix: str = "incident:") -> list[tuple[str, str, str]]:
    """(actor, action, subject) of the audit events about incidents, in order."""
    with db.session(read_only=True) as session:
        rows = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.subject).startswith(subject_prefix))
            .order_by(col(AuditEvent.seq))
        ).all()
        return [(r.actor, r.action, r.subject) for r in rows]


def audit_details(db: Database, action: str) -> list[dict[str, Any]]:
    with db.session(read_only=True) as session:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.seq))
        ).all()
        return [dict(r.details) for r in rows]


def row_value(view: IncidentView, label: str) -> str:
    """The value of the card row labelled ``label``."""
    for name, value in view.rows:
        if name == label:
            return value
    raise AssertionError(f"no row {label!r} in {[n for n, _ in view.rows]}")
