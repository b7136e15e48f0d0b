"""A watched folder publishes only the regular files inside it: a symlink to
a file elsewhere (or to /proc/self/environ) is refused and named on /healthz,
a link that stays inside is read, and no file is read past max_bytes however
small it claims to be (/proc files say 0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feedsvc.update import Updater
from feedsvc.web import create_app

STORY = "Harbour bridge closed\n\nEngineers closed the Harbour Bridge after cracks were found.\n"
SECRET = "Payroll export\n\nDATABASE_PASSWORD=correct-horse-battery-staple\n"


def test_links_out_of_the_folder_are_never_read(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "bridge.txt").write_text(STORY, encoding="utf-8")
    (folder / "same-story.txt").symlink_to(folder / "bridge.txt")  # inside: fine
    (tmp_path / "payroll.txt").write_text(SECRET, encoding="utf-8")
    (folder / "payroll.txt").symlink_to(tmp_path / "payroll.txt")
    (folder / "relative.txt").symlink_to(Path("..") / "payroll.txt")
    (folder / "environ.txt").symlink_to("/proc/self/environ")
    settings = make_settings([{"name": "local", "sources": ["stories"]}])
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    [outcome] = updater.poll("test", due_only=False)
    updater.close()

    assert outcome.error is None
    assert outcome.new_articles == 2  # bridge.txt and the link beside it
    exported = list(store.export_versions())
    texts = " ".join(item.version.title + item.version.text for item in exported)
    assert "Engineers closed the Harbour Bridge" in texts
    assert "DATABASE_PASSWORD" not in texts and "PATH=" not in texts
    health = create_app(settings, store).test_client().get("/healthz").get_json()
    [warning] = health["warnings"]
    for name in ("payroll.txt", "relative.txt", "environ.txt"):
        assert f"{name}: a link to outside the folder; not read" in warning["warning"]


def test_a_file_is_read_only_up_to_max_bytes_whatever_its_size_says(
    make_settings: Any, store_for: Any, clock: Any
) -> None:
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0 and len(status.read_bytes()) > 200
    settings = make_settings([{"name": "proc", "sources": [str(status)]}], fetch={"max_bytes": 200})
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    [outcome] = updater.poll("test", due_only=False)
    updater.close()
    assert outcome.new_articles == 0
    assert outcome.warning == f"{status.resolve()}: over the 200-byte limit"
