"""Index versions by content hash: a poll asks which new entries repeat a
stored article word for word (a feed that changes its ids on every poll)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_versions_sha256", "versions", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_versions_sha256", table_name="versions")
