"""[[feeds]] ignore patterns run on upstream lines, so they run in RE2:
linear time whatever the line, and a pattern RE2 cannot run is a config
error naming the key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.harness import cli_env


def _poll(folder: Path, ignore: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    (folder / "config.toml").write_text(
        '[service]\ndatabase = "sqlite:///feedsvc.db"\n'
        f'[[feeds]]\nname = "demo"\nsources = ["stories"]\nignore = [{ignore}]\n'
    )
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", "poll"],
        cwd=folder,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_pattern_re2_cannot_run_is_one_config_line_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "stories").mkdir()
    proc = _poll(tmp_path, r"'^(\w+) \1$'")  # a backreference: not linear
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("feedsvc: error: config.toml: feeds[0].ignore: ")
    assert "is not a valid regular expression (RE2 syntax" in lines[0]


def test_a_backtracking_pattern_on_a_hostile_line_does_not_stall_the_poll(
    tmp_path: Path,
) -> None:
    """`(a+)+$` takes 2**40 steps in Python's re on forty a's and a "!";
    RE2 answers at once. The poll reads the story and drops the ignored line."""
    stories = tmp_path / "stories"
    stories.mkdir()
    (stories / "storm.txt").write_text(
        "Storm closes the harbour bridge\n\n"
        "The harbour bridge was closed on Tuesday after the storm damaged its cables.\n\n"
        + "a" * 40
        + "!\n\n"
        + "aaaa\n"
    )
    proc = _poll(tmp_path, "'^(a+)+$'", timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "1 new articles" in proc.stdout
    history = subprocess.run(
        [sys.executable, "-m", "feedsvc", "export"],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    (version,) = [json.loads(line) for line in history.stdout.splitlines()]
    assert version["text"].split("\n\n") == [
        "The harbour bridge was closed on Tuesday after the storm damaged its cables.",
        "a" * 40 + "!",  # the pattern does not match it: kept
    ]  # "aaaa" matches: dropped
