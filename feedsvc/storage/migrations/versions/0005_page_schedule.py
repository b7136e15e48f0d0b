"""Every article page on its own schedule: remember each entry's fingerprint
(title, link, summary, dates as its feed gave them) so a feed poll checks at
once only the pages of entries that are new or changed; and put the pages
that had no schedule of their own on one, starting now.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("entry_sha256", sa.String(64), nullable=True))
    # Articles still in their feed had no checks of their own before: due
    # now (first_seen_at is a past time in the column's own format), after
    # which the schedule puts each on its ladder or, past it, at rest.
    articles = sa.table(
        "articles",
        sa.column("status", sa.String),
        sa.column("url", sa.Text),
        sa.column("next_check_at", sa.DateTime),
        sa.column("first_seen_at", sa.DateTime),
    )
    op.execute(
        articles.update()
        .where(
            sa.and_(
                articles.c.status == "active",
                articles.c.url.is_not(None),
                articles.c.next_check_at.is_(None),
            )
        )
        .values(next_check_at=articles.c.first_seen_at)
    )


def downgrade() -> None:
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of
    # the table would trip the foreign keys that point at it.
    op.drop_column("articles", "entry_sha256")
