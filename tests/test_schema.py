"""The Alembic migrations build exactly the schema tables.py declares, on
each backend, so code and database never drift apart."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from feedsvc.storage import Store
from feedsvc.storage.tables import metadata


def test_migrations_create_exactly_the_declared_schema(db_url: str) -> None:
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            differences = compare_metadata(context, metadata)
    finally:
        store.close()
    assert differences == []
