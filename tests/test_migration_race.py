"""Several processes starting at once on a fresh SQLite file: exactly one
creates the schema, the others wait for it (a file lock), none fails."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.harness import cli_env

OPEN_AT = """
import sys, time
start = float(sys.argv[1])
from feedsvc.storage import Store
while time.time() < start:
    pass
Store(sys.argv[2]).close()
"""


@pytest.mark.slow
def test_processes_starting_together_on_a_fresh_sqlite_file_all_start(tmp_path: Path) -> None:
    for round_ in range(2):
        db = tmp_path / f"fresh-{round_}.db"
        start = time.time() + 3  # all imports done, then all at once
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AT, str(start), f"sqlite:///{db}"],
                env=cli_env(),
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * 6, "\n".join(e for e in errors if e)
        with sqlite3.connect(db) as conn:
            (count,) = conn.execute("SELECT count(*) FROM alembic_version").fetchone()
        assert count == 1
