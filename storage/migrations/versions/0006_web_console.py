"""The web console: its sign-in links, browser sessions and calendar feed addresses.

- ``web_token``: one row per secret, stored only as its SHA-256 (``token_hash``), with its kind
  (``signin``, ``session``, ``feed``, ``oidc``), the member, when it expires, when a sign-in
  link was used and when a session or feed was revoked.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    # storage.tables.UTCDateTime stores through this type on both databases.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=True),
        sa.Column("used_at", _utc(), nullable=True),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_token_token_hash")),
    )
    op.create_index(op.f("ix_web_token_member_id"), "web_token", ["member_id"])


def downgrade() -> None:
    op.drop_table("web_token")
