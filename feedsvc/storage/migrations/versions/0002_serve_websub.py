"""WebSub: which change of each feed the hub was last told about

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_state") as batch:
        batch.add_column(
            sa.Column("pinged_serial", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("ping_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("ping_after", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ping_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feed_state") as batch:
        batch.drop_column("ping_error")
        batch.drop_column("ping_after")
        batch.drop_column("ping_failures")
        batch.drop_column("pinged_serial")
