"""Search over every version (SQLite FTS5 / PostgreSQL tsvector + GIN) and
stealth edits (versions.stealth, versions.page_date)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from feedsvc.storage.search import PG_INDEXED_CHARS

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.add_column(
            sa.Column("stealth", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("page_date", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # External content: the text stays in versions; rowid = versions.id.
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(title, text, content='versions', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
        )
        op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    else:
        op.execute(
            "CREATE TABLE search_fts (version_id INTEGER PRIMARY KEY "
            "REFERENCES versions(id) ON DELETE CASCADE, document TSVECTOR NOT NULL)"
        )
        op.execute(
            "INSERT INTO search_fts (version_id, document) SELECT id, to_tsvector('simple', "
            f"left(title || E'\\n\\n' || text, {PG_INDEXED_CHARS})) FROM versions"
        )
        op.execute("CREATE INDEX ix_search_fts_document ON search_fts USING GIN (document)")
    _backfill_stealth(bind)


def _backfill_stealth(bind: Any) -> None:
    """Mark the stealth edits among the versions stored before this
    migration, pair by pair (no page dates were kept then)."""
    from feedsvc.changes import STEALTH_WORDS, find_changes, is_stealth
    from feedsvc.textdiff import diff_texts

    versions = sa.table(
        "versions",
        sa.column("id", sa.Integer),
        sa.column("article_id", sa.String),
        sa.column("number", sa.Integer),
        sa.column("title", sa.Text),
        sa.column("text", sa.Text),
        sa.column("change_class", sa.String),
        sa.column("suspect", sa.Boolean),
        sa.column("stealth", sa.Boolean),
    )
    rows = bind.execute(
        sa.select(
            versions.c.id,
            versions.c.article_id,
            versions.c.title,
            versions.c.text,
            versions.c.change_class,
        )
        .where(versions.c.suspect.is_(False))
        .order_by(versions.c.article_id, versions.c.number)
    )
    previous: Any = None
    stealthy: list[int] = []
    for row in rows:
        if previous is not None and previous.article_id == row.article_id:
            d = diff_texts(previous.title, previous.text, row.title, row.text)
            changes = find_changes(previous.title, previous.text, row.title, row.text, d)
            if is_stealth(
                row.change_class, previous.text, row.text, d, changes, min_words=STEALTH_WORDS
            ):
                stealthy.append(row.id)
        previous = row
    for start in range(0, len(stealthy), 500):
        ids = stealthy[start : start + 500]
        bind.execute(sa.update(versions).where(versions.c.id.in_(ids)).values(stealth=True))


def downgrade() -> None:
    op.execute("DROP TABLE search_fts")
    # Plain DROP COLUMN (SQLite 3.35+), as 0005 does: a batch copy of
    # versions would trip the foreign keys that point at it.
    op.drop_column("versions", "page_date")
    op.drop_column("versions", "stealth")
