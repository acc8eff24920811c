"""Deletions: requests to delete published posts, and the per-post deletions the outbox runs.

- ``deletion_request``: one request per draft at a time (a partial unique index on ``draft_id``
  while it is requested or approved), with its reason, the approvals per approving section, the
  decision and the correction draft opened from it.
- ``deletion``: one row per published post to delete, claimed by the outbox like a publication
  (state, attempts, lease, next attempt, last error, version).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "state IN ('requested', 'approved')"


def _utc() -> sa.DateTime:
    # storage.tables.UTCDateTime stores through this type on both databases.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deletion_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("approvals", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decision_reason", sa.String(), nullable=True),
        sa.Column("decided_at", _utc(), nullable=True),
        sa.Column("correction_draft_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["correction_draft_id"],
            ["draft.id"],
            name=op.f("fk_deletion_request_correction_draft_id_draft"),
        ),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["draft.id"], name=op.f("fk_deletion_request_draft_id_draft")
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publication.id"],
            name=op.f("fk_deletion_request_publication_id_publication"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_request")),
    )
    op.create_index(op.f("ix_deletion_request_draft_id"), "deletion_request", ["draft_id"])
    op.create_index(
        "uq_deletion_request_open_per_draft",
        "deletion_request",
        ["draft_id"],
        unique=True,
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )

    op.create_table(
        "deletion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("post_id", sa.String(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _utc(), nullable=True),
        sa.Column("lease_until", _utc(), nullable=True),
        sa.Column("leased_by", sa.String(), nullable=True),
        sa.Column("claimed_at", _utc(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["draft.id"], name=op.f("fk_deletion_draft_id_draft")
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publication.id"],
            name=op.f("fk_deletion_publication_id_publication"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["deletion_request.id"],
            name=op.f("fk_deletion_request_id_deletion_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion")),
        sa.UniqueConstraint(
            "request_id", "publication_id", name=op.f("uq_deletion_request_id_publication_id")
        ),
    )
    op.create_index("ix_deletion_state_next_attempt_at", "deletion", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_deletion_state_next_attempt_at", table_name="deletion")
    op.drop_table("deletion")
    op.drop_index(
        "uq_deletion_request_open_per_draft",
        table_name="deletion_request",
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )
    op.drop_index(op.f("ix_deletion_request_draft_id"), table_name="deletion_request")
    op.drop_table("deletion_request")
