"""What tests import (conftest.py only holds fixtures): the hand-moved
clock, settings written as a real config.toml, a PostgreSQL schema of a
test's own, and the environment for `python -m feedsvc` subprocesses."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree

from feedsvc import config

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
ATOM = "{http://www.w3.org/2005/Atom}"
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


def pg_schema_url(base: str) -> tuple[str, str]:
    """A fresh schema name, and `base` with that schema as its search path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options=-csearch_path%3D{schema}"


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def feeds_toml(feeds: list[dict[str, Any]]) -> str:
    out = []
    for feed in feeds:
        out.append("[[feeds]]")
        for key, value in feed.items():
            out.append(f"{key} = {toml_value(value)}")
        out.append("")
    return "\n".join(out)


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for running `python -m feedsvc` in a subprocess: this
    checkout first on the path, whether or not it is pip-installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop(config.ENV_CONFIG, None)
    env.update(extra)
    return env


def rfc4287() -> etree.RelaxNG:
    """The Atom schema (RFC 4287's RELAX NG), to validate documents against."""
    return etree.RelaxNG(etree.parse(str(DATA / "atom.rng")))


def links(doc: etree._Element, rel: str) -> list[str]:
    """The hrefs of an Atom document's links with this rel."""
    return [
        link.get("href")
        for link in doc.findall(f"{ATOM}link")
        if link.get("rel", "alternate") == rel
    ]
