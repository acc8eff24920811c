"""Outbox: dry-run posts, pauses, and the publication's hold, retry and idempotency columns.

- ``dry_run_post``: what the dry-run client "published" (unique idempotency key).
- ``pause``: emergency pauses of one account or all (active while ``released_at`` is NULL).
- ``publication``: ``emergency`` (copied from the draft), ``material`` (checkpointed idempotency
  material), ``hold_reason``, ``next_attempt_at`` (retries wait for it; ``due_at`` keeps the
  approved time), ``claimed_at`` (start of the latest claim), ``confirmed_by`` (who released a
  held row).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    # storage.tables.UTCDateTime stores through this type on both databases.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dry_run_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("post_id", sa.String(), nullable=False),
        sa.Column("permalink", sa.String(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dry_run_post")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_dry_run_post_idempotency_key")),
        sa.UniqueConstraint("post_id", name=op.f("uq_dry_run_post_post_id")),
    )
    op.create_index(op.f("ix_dry_run_post_account_id"), "dry_run_post", ["account_id"])

    op.create_table(
        "pause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("released_at", _utc(), nullable=True),
        sa.Column("released_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pause")),
    )

    # Server defaults fill the rows that already exist (SQLite copies the table in batch mode).
    with op.batch_alter_table("publication") as batch:
        batch.add_column(
            sa.Column("emergency", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("material", sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )
        batch.add_column(sa.Column("hold_reason", sa.String(), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", _utc(), nullable=True))
        batch.add_column(sa.Column("claimed_at", _utc(), nullable=True))
        batch.add_column(sa.Column("confirmed_by", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        for column in (
            "confirmed_by",
            "claimed_at",
            "next_attempt_at",
            "hold_reason",
            "material",
            "emergency",
        ):
            batch.drop_column(column)
    op.drop_table("pause")
    op.drop_index(op.f("ix_dry_run_post_account_id"), table_name="dry_run_post")
    op.drop_table("dry_run_post")
