"""Initial schema: organisation, drafts, reviews, outbox, incidents, chat references, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    # storage.tables.UTCDateTime stores through this type on both databases.
    return sa.DateTime(timezone=True)


def _hash() -> sa.String:
    return sa.String(64)


def upgrade() -> None:
    op.create_table(
        "section",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("chief", sa.String(), nullable=False),
        sa.Column("deputies", sa.JSON(), nullable=False),
        sa.Column("city_promotion", sa.Boolean(), nullable=False),
        sa.Column("digital_promotion", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_section")),
    )
    op.create_table(
        "member",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("section", sa.String(), nullable=False),
        sa.Column("slack_user_id", sa.String(), nullable=True),
        sa.Column("teams_aad_id", sa.String(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("slack_user_id", name=op.f("uq_member_slack_user_id")),
        sa.UniqueConstraint("teams_aad_id", name=op.f("uq_member_teams_aad_id")),
    )
    op.create_table(
        "account",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("handle", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("owner_section", sa.String(), nullable=False),
        sa.Column("approving_section", sa.String(), nullable=False),
        sa.Column("official", sa.Boolean(), nullable=False),
        sa.Column("peer_checks", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
    )

    op.create_table(
        "draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("publish_at", _utc(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("correction_of", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["correction_of"], ["draft.id"], name=op.f("fk_draft_correction_of_draft")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft")),
    )
    op.create_index(op.f("ix_draft_author_id"), "draft", ["author_id"])
    op.create_index(op.f("ix_draft_state"), "draft", ["state"])

    op.create_table(
        "draft_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("content_hash", _hash(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["draft.id"], name=op.f("fk_draft_revision_draft_id_draft")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_revision")),
        sa.UniqueConstraint(
            "draft_id", "revision", name=op.f("uq_draft_revision_draft_id_revision")
        ),
    )

    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("section", sa.String(), nullable=True),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("comment", sa.String(), nullable=True),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("acknowledged_warnings", sa.JSON(), nullable=False),
        sa.Column("content_hash", _hash(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.CheckConstraint("kind IN ('peer', 'approval')", name=op.f("ck_review_kind")),
        sa.CheckConstraint(
            "decision IN ('checked', 'approved', 'changes_requested', 'rejected')",
            name=op.f("ck_review_decision"),
        ),
        sa.CheckConstraint(
            "kind <> 'approval' OR section IS NOT NULL",
            name=op.f("ck_review_approval_has_section"),
        ),
        sa.ForeignKeyConstraint(["draft_id"], ["draft.id"], name=op.f("fk_review_draft_id_draft")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
    )
    op.create_index("ix_review_draft_id_revision", "review", ["draft_id", "revision"])
    # At most one approval decision per (draft, revision, approving section), and one peer check
    # per person: two clicks at once cannot both win.
    op.create_index(
        "uq_review_approval_per_section",
        "review",
        ["draft_id", "revision", "section"],
        unique=True,
        sqlite_where=sa.text("kind = 'approval'"),
        postgresql_where=sa.text("kind = 'approval'"),
    )
    op.create_index(
        "uq_review_peer_per_reviewer",
        "review",
        ["draft_id", "revision", "reviewer_id"],
        unique=True,
        sqlite_where=sa.text("kind = 'peer'"),
        postgresql_where=sa.text("kind = 'peer'"),
    )

    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("content_hash", _hash(), nullable=False),
        sa.Column("due_at", _utc(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", _utc(), nullable=True),
        sa.Column("leased_by", sa.String(), nullable=True),
        sa.Column("idempotency_key", sa.String(), nullable=True),
        sa.Column("platform_post_id", sa.String(), nullable=True),
        sa.Column("permalink", sa.String(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["draft.id"], name=op.f("fk_publication_draft_id_draft")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication")),
        sa.UniqueConstraint(
            "draft_id",
            "revision",
            "account_id",
            name=op.f("uq_publication_draft_id_revision_account_id"),
        ),
    )
    op.create_index("ix_publication_state_due_at", "publication", ["state", "due_at"])

    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("dedupe_key", sa.String(), nullable=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("resolution", sa.String(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_incident_dedupe_key")),
    )

    op.create_table(
        "chat_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("ts", sa.String(), nullable=True),
        sa.Column("thread_ts", sa.String(), nullable=True),
        sa.Column("conversation_reference", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_message")),
    )
    op.create_index("ix_chat_message_subject", "chat_message", ["subject_kind", "subject_id"])

    op.create_table(
        "processed_request",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_processed_request")),
    )

    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", _hash(), nullable=False),
        sa.Column("hash", _hash(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_event_hash")),
    )
    op.create_index(op.f("ix_audit_event_at"), "audit_event", ["at"])


def downgrade() -> None:
    for table in (
        "audit_event",
        "processed_request",
        "chat_message",
        "incident",
        "publication",
        "review",
        "draft_revision",
        "draft",
        "account",
        "member",
        "section",
    ):
        op.drop_table(table)
