"""Shared fixtures: settings written as a real config.toml, a store on each
backend (SQLite always; PostgreSQL when FEEDSVC_TEST_DATABASE_URL is set), a
clock the test moves by hand, and the Flask app and client."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feedsvc import config
from feedsvc.config import Settings
from feedsvc.storage import Store

PG_ENV = "FEEDSVC_TEST_DATABASE_URL"
PG_SKIP = f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def _pg_schema_url(base: str) -> tuple[str, str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options=-csearch_path%3D{schema}"


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

    schema, url = _pg_schema_url(base)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield url
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def feeds_toml(feeds: list[dict[str, Any]]) -> str:
    out = []
    for feed in feeds:
        out.append("[[feeds]]")
        for key, value in feed.items():
            out.append(f"{key} = {_toml(value)}")
        out.append("")
    return "\n".join(out)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


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
            text.extend(f"{k} = {_toml(v)}" for k, v in values.items())
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


REPO = Path(__file__).resolve().parent.parent


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for running `python -m feedsvc` in a subprocess: this
    checkout first on the path, whether or not it is pip-installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop(config.ENV_CONFIG, None)
    env.update(extra)
    return env


def pytest_report_header(config: pytest.Config) -> str:
    if os.environ.get(PG_ENV):
        return f"PostgreSQL: {os.environ[PG_ENV]}"
    return f"PostgreSQL: tests skipped; {PG_SKIP}"
