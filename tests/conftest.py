"""Shared fixtures: settings written as a real config.toml, a store on each
backend (SQLite always; PostgreSQL when FEEDSVC_TEST_DATABASE_URL is set), a
clock the test moves by hand, and the Flask app and client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedsvc import config
from feedsvc.config import Settings
from feedsvc.storage import Store
from tests.harness import (
    PG_ENV,
    PG_SKIP,
    FakeClock,
    feeds_toml,
    pg_schema_url,
    toml_value,
    write_config,
)

# Fixtures of the article-page news site: `site` and `world`.
pytest_plugins = ["tests.newssite"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL as a user writes it in config.toml, on each backend.
    PostgreSQL tests each get a schema of their own, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/feedsvc.db"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    import psycopg

    schema, url = pg_schema_url(base)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield url
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def make_settings(tmp_path: Path, db_url: str) -> Any:
    """make_settings(feeds=[{...}], service={...}, scheduler={...}) writes a
    config.toml in tmp_path and loads it the way the command line does."""

    def make(
        feeds: list[dict[str, Any]],
        service: dict[str, Any] | None = None,
        scheduler: dict[str, Any] | None = None,
        fetch: dict[str, Any] | None = None,
    ) -> Settings:
        sections = {
            "service": {"base_url": "http://feeds.test", "database": db_url, **(service or {})},
            "scheduler": {"interval": "15m", **(scheduler or {})},
            "fetch": {"timeout": 5, **(fetch or {})},
        }
        text = []
        for name, values in sections.items():
            text.append(f"[{name}]")
            text.extend(f"{k} = {toml_value(v)}" for k, v in values.items())
            text.append("")
        text.append(feeds_toml(feeds))
        return config.load(write_config(tmp_path / "config.toml", "\n".join(text)))

    return make


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store_for() -> Iterator[Any]:
    """store_for(settings) opens (and later closes) the settings' database."""
    opened: list[Store] = []

    def open_store(settings: Settings) -> Store:
        store = Store(settings.service.database)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


def pytest_report_header(config: pytest.Config) -> str:
    if os.environ.get(PG_ENV):
        return f"PostgreSQL: {os.environ[PG_ENV]}"
    return f"PostgreSQL: tests skipped; {PG_SKIP}"
