"""Keep the HTTP exchange behind each raw response (the request as sent and
the response headers as received), so evidence exports as WARC records

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("raws") as batch:
        batch.add_column(sa.Column("request_headers", sa.Text(), nullable=True))
        batch.add_column(sa.Column("response_headers", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("raws") as batch:
        batch.drop_column("response_headers")
        batch.drop_column("request_headers")
