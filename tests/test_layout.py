"""The code's layout: data flows one way through the stages, helpers use nothing of the
pipeline, and no module grows into several rooms."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sheet_tools"

# Each module's place in the pipeline: a module may import only modules of a lower rank.
RANK = {
    "__init__": 0,
    "exceptions": 0,
    "layout": 0,
    "codes": 0,
    "columns": 0,
    "files": 10,
    "netfs": 10,
    "rounds": 10,
    "frameworks": 20,
    "roster": 30,
    "carryover": 30,
    "workspace": 30,
    "report": 40,
    "records": 45,
    "identity": 50,
    "generate": 50,
    "charts": 50,
    "scan": 55,
    "guard": 60,
    "read": 70,
    "validate": 80,
    "annotate": 90,
    "schema": 95,
    "store": 100,
    "pool": 100,
    "worker": 105,
    "config": 108,
    "ingest": 110,
    "summarise": 120,
    "claims": 120,
    "observer": 120,
    "corrections": 130,
    "carry": 130,
    "watch": 130,
    "demo": 140,
    "cli": 150,
}
HELPERS = {
    "exceptions",
    "files",
    "roster",
    "workspace",
    "layout",
    "rounds",
    "netfs",
    "codes",
    "columns",
}
MAX_LINES = 700


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def stage_of(path: Path) -> str:
    """The stage a file belongs to: its module, or its package for the summarise package."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else path.stem


def imported_stages(path: Path) -> set[str]:
    """The sheet_tools stages a module imports, resolving relative imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = len(path.relative_to(PACKAGE).parts) - 1  # 1 inside the summarise package
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] == "sheet_tools" and len(parts) > 1:
                    found.add(parts[1])
                continue
            if node.level > inside + 1:
                continue
            within = node.level <= inside  # relative to the subpackage itself
            if within:
                continue
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                # "from . import layout" names a module; "from . import __version__" a name
                found.update(a.name if a.name in RANK else "__init__" for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "sheet_tools" and len(parts) > 1:
                    found.add(parts[1])
    found.discard(stage_of(path))
    return found


def test_every_module_has_a_place_in_the_pipeline() -> None:
    assert {stage_of(path) for path in modules()} == set(RANK)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_later_stage(path: Path) -> None:
    stage = stage_of(path)
    later = {name for name in imported_stages(path) if RANK[name] >= RANK[stage]}
    assert not later or stage == "__init__", f"{stage} imports {sorted(later)}"


def test_helpers_use_nothing_of_the_pipeline() -> None:
    for path in modules():
        if stage_of(path) in HELPERS:
            assert imported_stages(path) <= HELPERS, path.name


@pytest.mark.parametrize("stage", ["ingest", "summarise", "watch"])
def test_only_generating_imports_the_generator(stage: str) -> None:
    files = [path for path in modules() if stage_of(path) == stage]
    assert files
    for path in files:
        assert "generate" not in imported_stages(path), path


def test_the_checker_sees_imports() -> None:
    """The rules above would pass vacuously if imports went unseen."""
    assert imported_stages(PACKAGE / "watch.py") >= {"ingest", "summarise", "store"}
    assert imported_stages(PACKAGE / "summarise" / "rebuild.py") >= {"store", "roster"}
    assert "scores" not in imported_stages(PACKAGE / "summarise" / "rebuild.py")


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_several_rooms(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines"
