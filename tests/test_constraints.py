"""The pinned test toolchain (constraints.txt) covers what the install needs.

A fresh install resolves the newest releases inside pyproject's ranges; on
the day pytest 9.2.0 came out that broke tests/test_api_fuzz.py. These tests
keep constraints.txt complete and consistent with pyproject.toml, and keep the
README's and CI's install commands using it."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"constraints.txt: {line!r} is not an exact pin (name==version)"
        pins[canonicalize_name(name)] = Version(version)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r)
        for r in (*project["dependencies"], *project["optional-dependencies"]["test"])
    ]


def test_every_dependency_of_the_test_install_has_an_exact_pin_inside_its_range() -> None:
    pins = _pins()
    for req in _requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is in pyproject.toml but not pinned in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {req.name}=={pins[name]}, outside pyproject's {req}"
        )


def test_the_pins_are_closed_under_the_dependencies_the_packages_declare() -> None:
    """What the pinned packages themselves require is pinned too (read from
    the installed packages' metadata), so nothing floats."""
    pins = _pins()
    env = default_environment()
    seen: set[str] = set()
    todo = [(canonicalize_name(r.name), sorted(r.extras)) for r in _requirements()]
    while todo:
        name, extras = todo.pop()
        if (key := f"{name}{extras}") in seen:
            continue
        seen.add(key)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here; the first test still checks its pin
        for text in requires:
            req = Requirement(text)
            marker_envs = [{**env, "extra": e} for e in ("", *extras)]
            if req.marker is not None and not any(req.marker.evaluate(m) for m in marker_envs):
                continue
            dep = canonicalize_name(req.name)
            assert dep in pins, f"{dep} (needed by {name}) is not pinned in constraints.txt"
            todo.append((dep, sorted(req.extras)))


def test_readme_and_ci_install_with_the_constraints() -> None:
    command = "-e '.[test]' -c constraints.txt"
    assert command in (ROOT / "README.md").read_text()
    assert command in (ROOT / ".ci" / "run").read_text()
