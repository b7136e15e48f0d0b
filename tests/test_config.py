"""Config mistakes fail at start: one clear line naming the file and the
key, exit status 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc import config
from feedsvc.cli import main
from tests.harness import REPO, cli_env

GOOD_FEED = '[[feeds]]\nname = "demo"\nsources = ["stories"]\n'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "stories").mkdir()
    return tmp_path


def run_poll(folder: Path, text: str) -> tuple[int, list[str]]:
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["poll", "--config", str(path)])
    return result.exit_code, result.stderr.splitlines()


MISTAKES = {
    "unknown key": (
        '[service]\nbase_ur = "http://x.test"\n' + GOOD_FEED,
        "service.base_ur: unknown key",
    ),
    "unknown section": (
        '[servic]\nbase_url = "http://x.test"\n' + GOOD_FEED,
        "servic: unknown section or key",
    ),
    "bad interval": (
        '[scheduler]\ninterval = "5 minutes"\n' + GOOD_FEED,
        "scheduler.interval: '5 minutes' is not an interval",
    ),
    "zero interval": (
        "[scheduler]\ninterval = 0\n" + GOOD_FEED,
        "scheduler.interval: 0 must be more than zero",
    ),
    "duplicate feed": (GOOD_FEED + GOOD_FEED, "feeds[1].name: duplicate feed name 'demo'"),
    "missing path": (
        '[[feeds]]\nname = "demo"\nsources = ["no/such/folder"]\n',
        "feeds[0].sources: 'no/such/folder' is neither an http(s) URL nor an existing path",
    ),
    "non-http scheme": (
        '[[feeds]]\nname = "demo"\nsources = ["ftp://news.test/feed"]\n',
        "only http(s) URLs and local paths are sources",
    ),
    "own url": (
        '[service]\nbase_url = "http://feeds.test"\n[[feeds]]\nname = "demo"\n'
        'sources = ["http://feeds.test/feeds/demo.atom"]\n',
        "points at this service's own base_url",
    ),
    "bad database url": (
        '[service]\ndatabase = "mysql://db.test/news"\n' + GOOD_FEED,
        "service.database: 'mysql://db.test/news': only sqlite:/// and postgresql://",
    ),
    "garbage database url": (
        '[service]\ndatabase = "not a url"\n' + GOOD_FEED,
        "service.database: 'not a url' is not a database URL",
    ),
    "bad regex": (
        '[[feeds]]\nname = "demo"\nsources = ["stories"]\nignore = ["(unclosed"]\n',
        "feeds[0].ignore: '(unclosed' is not a valid regular expression",
    ),
    "wrong type": (
        '[[feeds]]\nname = "demo"\nsources = "stories"\n',
        "feeds[0].sources: expected a list of strings",
    ),
    "missing sources": ('[[feeds]]\nname = "demo"\n', "feeds[0].sources: required"),
    "bad feed name": (
        '[[feeds]]\nname = "my feed"\nsources = ["stories"]\n',
        "feeds[0].name: 'my feed' must be letters",
    ),
    "bad listen": (
        '[service]\nlisten = "localhost"\n' + GOOD_FEED,
        "service.listen: 'localhost' is not HOST:PORT",
    ),
    "not toml": ("[service\nbase_url = 1\n", "not valid TOML"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_config_mistake_is_one_line_and_exit_2(folder: Path, mistake: str) -> None:
    text, expected = MISTAKES[mistake]
    code, lines = run_poll(folder, text)
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"feedsvc: error: {folder / 'config.toml'}: ")
    assert expected in lines[0]


def test_missing_config_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["poll", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"feedsvc: error: {tmp_path / 'nope.toml'}: no such config file"


def test_a_real_process_prints_no_traceback(folder: Path) -> None:
    (folder / "config.toml").write_text('[scheduler]\ninterval = "soon"\n' + GOOD_FEED)
    proc = subprocess.run(
        [sys.executable, "-m", "feedsvc", "poll"],
        cwd=folder,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "feedsvc: error: config.toml: scheduler.interval: 'soon' is not an interval like "
        "'90s', '15m', '2h' or seconds"
    ]


def test_config_path_comes_from_the_environment(folder: Path) -> None:
    (folder / "elsewhere.toml").write_text('[scheduler]\ninterval = "x"\n' + GOOD_FEED)
    proc = subprocess.run(
        [sys.executable, "-m", "feedsvc", "poll"],
        cwd=folder,
        env=cli_env(FEEDSVC_CONFIG=str(folder / "elsewhere.toml")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "elsewhere.toml: scheduler.interval" in proc.stderr


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("2h", 7200),
        ("1d", 86400),
        (45, 45),
        ("1.5h", 5400),
    ],
)
def test_intervals(text: object, seconds: float) -> None:
    assert config.parse_interval(text) == seconds


def test_relative_paths_resolve_against_the_config_file(folder: Path) -> None:
    (folder / "config.toml").write_text(GOOD_FEED)
    settings = config.load(folder / "config.toml")
    assert settings.feeds[0].sources == (str((folder / "stories").resolve()),)
    assert settings.service.database == f"sqlite:///{folder.resolve() / 'feedsvc.db'}"


def test_postgresql_urls_use_psycopg_3(folder: Path) -> None:
    (folder / "config.toml").write_text(
        '[service]\ndatabase = "postgresql://news@db.test/feedsvc"\n' + GOOD_FEED
    )
    assert config.load(folder / "config.toml").service.database == (
        "postgresql+psycopg://news@db.test/feedsvc"
    )


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [f"{s.section}.{s.name}" for s in config.SETTINGS if f"`{s.name}`" not in readme]
    assert not missing, f"settings missing from README.md: {missing}"


def test_the_shipped_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = config.load(REPO / "config.toml")
    assert [f.name for f in settings.feeds] == ["demo"]
    assert settings.scheduler.interval == 10
