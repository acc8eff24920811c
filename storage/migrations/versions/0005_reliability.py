"""Reliability: how long a publication has been failing, and monitors that cannot see.

- ``publication.failing_since``: when the first retryable error of the current run of failures
  happened (None once it is published, or before any failure). Retries go on until
  ``publishing.give_up_after_minutes`` after it; people are told when it is first set and when
  the publication then succeeds.
- ``monitor_state.failed_polls``: polls in a row whose reads failed; ``blind_since``: when the
  "monitoring is not working" notice went out (None while the watch works).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        batch.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("monitor_state") as batch:
        batch.add_column(
            sa.Column("failed_polls", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("blind_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitor_state") as batch:
        batch.drop_column("blind_since")
        batch.drop_column("failed_polls")
    with op.batch_alter_table("publication") as batch:
        batch.drop_column("failing_since")
