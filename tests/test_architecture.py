"""The code's architecture: data flows one way through the stage packages, the helpers use
nothing of the pipeline, and no module or class grows into several rooms."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sheet_tools"

# Each package's place in the pipeline, in the order data flows: a module may import only from
# packages of a lower rank (and from its own package).
RANK = {
    "__init__": 0,
    "exceptions": 0,
    "base": 10,
    "definitions": 20,
    "problems": 30,
    "generate": 40,
    "intake": 50,
    "store": 60,
    "summarise": 70,
    "mail": 75,
    "service": 80,
    "demo": 90,
    "cli_options": 93,
    "cli_mail": 95,
    "cli_store": 95,
    "cli_returns": 95,
    "cli": 100,
    "__main__": 110,
}
# What every stage may use: the helpers import nothing of the pipeline.
HELPERS = {"__init__", "exceptions", "base"}
MAX_LINES = 600
MAX_CLASS_LINES = 250


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def stage_of(path: Path) -> str:
    """The stage a file belongs to: its top-level package, or its own name at the top."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else path.stem


def imported_modules(path: Path) -> set[str]:
    """The sheet_tools modules a module imports, as dotted paths below sheet_tools."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = list(path.relative_to(PACKAGE).parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] != "sheet_tools":
                    continue
                base = parts[1:]
            else:
                base = package[: len(package) - (node.level - 1)]
                base += node.module.split(".") if node.module else []
            if node.module:
                found.add(".".join(base) or "__init__")
            else:
                found.update(".".join([*base, alias.name]) for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "sheet_tools" and len(parts) > 1:
                    found.add(".".join(parts[1:]))
    return found


def imported_stages(path: Path) -> set[str]:
    """The stages a module imports, other than its own."""
    stages = {name.split(".")[0] for name in imported_modules(path)}
    stages = {stage if stage in RANK else "__init__" for stage in stages}
    stages.discard(stage_of(path))
    return stages


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
            assert imported_stages(path) <= HELPERS, path


# The one module of the service that issues workbooks (``generate`` runs it); the watcher and
# ingest never build a blank workbook.
ISSUING = PACKAGE / "service" / "issuing.py"


@pytest.mark.parametrize("stage", ["intake", "store", "summarise", "service"])
def test_only_annotating_uses_the_generator(stage: str) -> None:
    """Reading, storing, summarising and the watcher never build a blank workbook: of the
    generator they use only the annotated copy (which shares its cell validation)."""
    files = [path for path in modules() if stage_of(path) == stage and path != ISSUING]
    assert files
    for path in files:
        used = {name for name in imported_modules(path) if name.startswith("generate")}
        assert used <= {"generate.annotate"}, path
    # nothing the watcher or ingest imports reaches the issuing module
    if stage == "service":
        for path in files:
            assert "service.issuing" not in imported_modules(path), path


def test_the_checker_sees_imports() -> None:
    """The rules above would pass vacuously if imports went unseen."""
    watch = PACKAGE / "service" / "watch.py"
    assert imported_stages(watch) >= {"intake", "summarise", "store"}
    rebuild = PACKAGE / "summarise" / "rebuild.py"
    assert imported_stages(rebuild) >= {"store", "definitions"}
    assert "summarise.scores" in imported_modules(rebuild)
    assert "generate.annotate" in imported_modules(PACKAGE / "intake" / "worker.py")


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_several_rooms(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines"


def classes() -> list[tuple[str, int]]:
    found = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                name = f"{path.relative_to(PACKAGE)}:{node.name}"
                found.append((name, node.end_lineno - node.lineno + 1))
    return found


@pytest.mark.parametrize(("name", "lines"), classes(), ids=[name for name, _ in classes()])
def test_no_class_does_many_things(name: str, lines: int) -> None:
    assert lines <= MAX_CLASS_LINES, f"{name} has {lines} lines"


# Functions with "key" in their name outside base/keys.py, each with why it is not an identity key.
NOT_IDENTITY_KEYS = {
    "definitions/frameworks.py:key": "a framework's id and version",
    "definitions/frameworks.py:_version_key": "a sort key for version numbers",
    "store/schema.py:_trust_key_v3": "a shipped migration's frozen copy of the trust key it used",
    "store/schema.py:_rekey": "the migration that rewrites stored keys with base/keys",
    "summarise/outbox.py:roster_by_key": "a lookup keyed by base/keys.school_key",
    "summarise/stages.py:key_of": "the roster's base/keys.school_key for a school with no URN",
    "mail/reminders.py:reminder_key": "what a reminder is about: base/keys.school_key and the form",
}
KEYS = PACKAGE / "base" / "keys.py"


def _builds_a_name_key(node: ast.AST) -> bool:
    """``<text>.casefold().split()`` (or lower()): the shape of a hand-made name key."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "split"
        and isinstance(node.func.value, ast.Call)
        and isinstance(node.func.value.func, ast.Attribute)
        and node.func.value.func.attr in {"casefold", "lower"}
    )


def test_identity_keys_are_built_only_in_keys() -> None:
    """School, trust and name keys have one home: two definitions once disagreed about "&" and
    "St.", and filed whole trusts under "No trust recorded"."""
    named, hand_made = [], []
    for path in modules():
        if path == KEYS:
            continue
        where = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if (
                is_function
                and "key" in node.name
                and f"{where}:{node.name}" not in NOT_IDENTITY_KEYS
            ):
                named.append(f"{where}:{node.name}")
            if _builds_a_name_key(node):
                hand_made.append(f"{where}:{node.lineno}")
    assert named == []
    assert hand_made == ["store/schema.py:" + str(_frozen_line())]


def _frozen_line() -> int:
    """The one hand-made key allowed: the frozen copy in a shipped migration."""
    tree = ast.parse((PACKAGE / "store" / "schema.py").read_text(encoding="utf-8"))
    [frozen] = [n for n in ast.walk(tree) if getattr(n, "name", "") == "_trust_key_v3"]
    return next(n.lineno for n in ast.walk(frozen) if _builds_a_name_key(n))


def test_the_key_rule_sees_a_hand_made_key() -> None:
    tree = ast.parse('def school_id(name):\n    return " ".join(name.casefold().split())\n')
    assert any(_builds_a_name_key(node) for node in ast.walk(tree))
