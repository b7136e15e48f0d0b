"""[[notify]] in the config (validated at start, secrets never printed), and
`feedsvc notify test NAME` / `feedsvc notify status`."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import main
from feedsvc.config import load
from tests.harness import REPO, FakeClock, cli_env
from tests.notifying import FERRIES, LEAD, MONTH, SECRET, Desk, Receiver, toml_config


def feedsvc(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )


def config_in(tmp_path: Path, targets: list[dict[str, object]], **delivery: object) -> Path:
    """config.toml in `tmp_path`: a SQLite database and one feed, the folder
    tmp_path/articles, notifying `targets`."""
    folder = tmp_path / "articles"
    folder.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
        toml_config(f"sqlite:///{tmp_path}/db.sqlite", folder, targets, delivery=delivery)
    )
    return config


def desk_target(receiver: Receiver) -> dict[str, object]:
    return {"name": "desk", "webhook": receiver.url + "/hook", "secret": SECRET}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


BAD = [
    (
        {"name": "a", "webhook": "https://hooks.example.org/x", "secret": "hunter2-hunter2"},
        "notify[0].secret: must start with whsec_",
    ),
    (
        {"name": "a", "webhook": "https://hooks.example.org/x", "secret": "whsec_c2hvcnQ="},
        "notify[0].secret: must hold 24 to 64 bytes after whsec_, not 5",
    ),
    ({"name": "a", "webhook": "https://hooks.example.org/x"}, "notify[0].secret: required"),
    (
        {"name": "a", "urls": ["nosuchscheme://user:hunter2@example.org"]},
        "notify[0].urls[0]: Apprise does not understand this nosuchscheme:// URL",
    ),
    ({"name": "a"}, "notify[0]: give either urls"),
    (
        {"name": "a", "urls": ["json://127.0.0.1/x"], "classes": ["typo"]},
        "notify[0].classes: 'typo' is not a change class",
    ),
    (
        {"name": "a", "urls": ["json://127.0.0.1/x"], "feeds": ["sport"]},
        "notify[0].feeds: no feed named 'sport'",
    ),
    (
        {"name": "a", "urls": ["json://127.0.0.1/x"], "text_template": "nowhere.j2"},
        "notify[0].text_template: cannot read 'nowhere.j2'",
    ),
    (
        {"name": "a", "urls": ["json://127.0.0.1/x"], "title_template": "{% if %}"},
        "notify[0].title_template: not a valid Jinja template",
    ),
]


@pytest.mark.parametrize(("target", "message"), BAD, ids=[m.split(":")[1] for _, m in BAD])
def test_a_bad_target_is_one_line_exit_2_and_no_secret(
    tmp_path: Path, target: dict[str, object], message: str
) -> None:
    config = config_in(tmp_path, [target])

    result = CliRunner().invoke(main, ["notify", "status", "--config", str(config)])

    assert result.exit_code == 2
    assert result.stderr.startswith(f"feedsvc: error: {config}: {message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "hunter2" not in result.output and "c2hvcnQ" not in result.output


def test_settings_never_show_a_secret(tmp_path: Path, clock: FakeClock) -> None:
    desk = Desk(
        tmp_path,
        f"sqlite:///{tmp_path}/db.sqlite",
        clock,
        [
            {
                "name": "hook",
                "webhook": "https://hooks.example.org/x?token=t0ps3cret",
                "secret": SECRET,
            },
            {"name": "mail", "urls": ["mailto://user:p4ssw0rd@example.org"]},
        ],
    )
    shown = repr(desk.settings)
    desk.close()
    assert SECRET not in shown and "t0ps3cret" not in shown and "p4ssw0rd" not in shown


def test_notify_test_sends_a_sample_and_says_so(tmp_path: Path, receiver: Receiver) -> None:
    config = config_in(tmp_path, [desk_target(receiver)])
    result = feedsvc(config, "notify", "test", "desk")
    assert (result.returncode, result.stdout) == (0, "desk: delivered (HTTP 200)\n"), result.stderr
    [got] = receiver.received
    assert got.json()["data"]["diff"]["title"]["new"] == "Dock Road warehouse fire under control"

    receiver.script = [(500, {})]
    result = feedsvc(config, "notify", "test", "desk")
    assert (result.returncode, result.stdout) == (
        1,
        "desk: failed: HTTP 500 INTERNAL SERVER ERROR\n",
    )

    result = feedsvc(config, "notify", "test", "nobody")
    assert result.returncode == 2
    assert result.stderr == "feedsvc: error: no [[notify]] target named 'nobody' (targets: desk)\n"


def test_notify_status_lists_pending_and_failed(
    tmp_path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.script = [(500, {})]
    desk = Desk(
        tmp_path,
        f"sqlite:///{tmp_path}/db.sqlite",
        clock,
        [desk_target(receiver)],
    )
    desk.write("bridge", "Harbour bridge closed", LEAD, FERRIES)
    desk.poll()
    desk.write("bridge", "Harbour bridge closed", LEAD, MONTH, FERRIES)
    desk.poll()
    desk.deliverer.deliver_due()
    aid = desk.rows()[0].article_id
    desk.close()

    result = feedsvc(desk.path, "notify", "status")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["target", "delivered", "pending", "retrying", "failed"]
    assert lines[1].split() == ["desk", "0", "1", "1", "0"]
    assert lines[4].split()[:5] == ["pending", "desk[0]", aid, "2", "1"]
    assert lines[4].endswith("; HTTP 500 INTERNAL SERVER ERROR")


def test_the_readme_examples_are_valid_targets(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Notifications\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```toml\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    folder = tmp_path / "demo"
    folder.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(f'[[feeds]]\nname = "demo"\nsources = ["{folder}"]\n\n' + "\n".join(blocks))
    settings = load(config)
    hook, mail = settings.notify
    assert (hook.name, hook.feeds, hook.min_words_changed) == ("newsroom-bot", ("demo",), 5)
    assert (mail.name, len(mail.urls), "append" in mail.classes) == ("editors", 1, False)


def edited_story_desk(tmp_path: Path, receiver: Receiver, **delivery: object) -> Path:
    """A config whose one target is `receiver`, a story polled once, then
    edited on disk: the next `feedsvc poll` makes version 2 and its message."""
    config = config_in(tmp_path, [desk_target(receiver)], **delivery)
    story = tmp_path / "articles" / "bridge.txt"
    story.write_text(f"Harbour bridge closed\n\n{LEAD}\n\n{FERRIES}\n", encoding="utf-8")
    first = feedsvc(config, "poll")
    assert first.returncode == 0, first.stderr
    assert "notified" not in first.stdout  # a first version is not told by default
    story.write_text(f"Harbour bridge closed\n\n{LEAD}\n\n{MONTH}\n\n{FERRIES}\n", encoding="utf-8")
    return config


def test_feedsvc_poll_sends_the_notifications_its_versions_caused(
    tmp_path: Path, receiver: Receiver
) -> None:
    config = edited_story_desk(tmp_path, receiver)

    second = feedsvc(config, "poll")

    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[-1] == "notified 1 of 1 messages"
    [got] = receiver.received
    assert got.json()["data"]["version"]["number"] == 2
    assert "temporary support" in got.body.decode()


def test_a_failing_target_is_retried_by_the_next_poll_and_fails_no_poll(
    tmp_path: Path, receiver: Receiver
) -> None:
    config = edited_story_desk(tmp_path, receiver, first_retry="1s")
    receiver.script = [(500, {})]

    failing = feedsvc(config, "poll")
    time.sleep(1.5)  # past first_retry (1 s, +-20%)
    again = feedsvc(config, "poll")

    assert failing.returncode == 0, failing.stderr
    assert failing.stdout.splitlines()[-1] == (
        "notified 0 of 1 messages; 1 failed (see feedsvc notify status)"
    )
    assert again.stdout.splitlines()[-1] == "notified 1 of 1 messages"
    first, second = receiver.received
    assert first.headers["Webhook-Id"] == second.headers["Webhook-Id"]
