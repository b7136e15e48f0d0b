"""The package's shape: no module reaches into another's private names, and
the README's code map names every module there is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "feedsvc"


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def private_imports(source: str, own: str) -> list[str]:
    """The private names of other feedsvc modules that `source` (the text
    of module `own`) imports or reaches through a dotted name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("feedsvc"):
            if node.module != own:
                found += [
                    f"{node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
        elif isinstance(node, ast.Import):
            found += [
                a.name for a in node.names if any(p.startswith("_") for p in a.name.split("."))
            ]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            owner = ast.unparse(node.value)
            if owner.startswith("feedsvc.") and not node.attr.startswith("__"):
                found.append(f"{owner}.{node.attr}")
    return found


def test_no_module_imports_a_private_name_of_another() -> None:
    offenders = {
        module_name(p): names
        for p in modules()
        if (names := private_imports(p.read_text(encoding="utf-8"), module_name(p)))
    }
    assert offenders == {}


def test_the_check_sees_a_private_import_and_a_private_attribute() -> None:
    source = (
        "import feedsvc.web\n"
        "from feedsvc.storage.engine import _hidden, visible\n"
        "from feedsvc.render import _own\n"
        "feedsvc.web._state()\n"
    )
    assert private_imports(source, "feedsvc.render") == [
        "feedsvc.storage.engine._hidden",
        "feedsvc.web._state",
    ]


def code_map() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Code map")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else None]


def test_the_readme_code_map_names_every_module() -> None:
    """Each row's first cell names modules relative to feedsvc/ (a package
    by its folder, e.g. `storage/queue.py`); every module is in one row."""
    named = set(re.findall(r"`([a-z_/]+\.py)`", code_map()))
    top = {PACKAGE / "__init__.py", PACKAGE / "__main__.py"}
    wanted = {str(p.relative_to(PACKAGE)) for p in modules() if p not in top}
    assert sorted(wanted - named) == []
    assert sorted(named - wanted) == []
