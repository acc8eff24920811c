"""Monitoring: what the account monitors remember between polls, and incident reminders.

- ``monitor_state``: one row per watch (``account:{id}`` or ``lookup:{platform}``): when watching
  began, the last poll, the profile baseline, the start of a credential-refusal streak, the
  account's replies per time bucket, and the last error.
- ``incident.reminded_at``: the last reminder sent while an incident was unacknowledged.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    # storage.tables.UTCDateTime stores through this type on both databases.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "monitor_state",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=True),
        sa.Column("watching_since", _utc(), nullable=False),
        sa.Column("last_polled_at", _utc(), nullable=True),
        sa.Column("profile", sa.JSON(), nullable=True),
        sa.Column("auth_refused_since", _utc(), nullable=True),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_monitor_state")),
    )
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("reminded_at", _utc(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("reminded_at")
    op.drop_table("monitor_state")
