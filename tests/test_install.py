"""Installs as users install it: the framework definitions travel inside the package (a wheel
carries them, versions/ too), the CLI names its version, and a missing or empty folder of
definitions is an error rather than an empty list."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheet_tools import __version__
from sheet_tools.cli import main
from sheet_tools.definitions.frameworks import (
    TEMPLATES_PACKAGE,
    FrameworkError,
    bundled_templates,
    load_registry,
)

from .conftest import REPO

TEMPLATES = REPO / "workbook_templates"
BUNDLED = sorted(path.name for path in TEMPLATES.glob("*.toml"))


def test_version_names_the_installed_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"sheet-tools, version {__version__}"
    assert version("sheet-tools") == __version__  # pyproject.toml takes it from the package


def test_bundled_definitions_are_found_through_the_package() -> None:
    assert len(BUNDLED) == 5
    folder = bundled_templates()
    assert sorted(item.name for item in folder.iterdir() if item.name.endswith(".toml")) == BUNDLED
    for name in BUNDLED:
        assert (folder / name).read_bytes() == (TEMPLATES / name).read_bytes()
    assert len(load_registry()) == 5


def test_templates_list_prints_every_bundled_framework() -> None:
    result = CliRunner().invoke(main, ["templates", "list"])
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.output.splitlines()]
    assert listed == sorted(name.removesuffix(".toml") for name in BUNDLED)


@pytest.mark.parametrize("command", [["templates", "list"], ["demo"], ["validate", "x.xlsx"]])
@pytest.mark.parametrize("state", ["missing", "empty"])
def test_a_missing_or_empty_templates_folder_is_an_error(
    tmp_path: Path, command: list[str], state: str
) -> None:
    folder = tmp_path / "templates"
    if state == "empty":
        folder.mkdir()
        (folder / "README.md").write_text("Definitions go here.\n")
    for args, env in (
        ([*command, "--templates", str(folder)], {}),
        (command, {"SHEET_TOOLS_TEMPLATES": str(folder)}),
    ):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 2, result.output
        assert isinstance(result.exception, SystemExit), result.exception  # no traceback
        expected = "no such folder" if state == "missing" else "no framework definitions"
        assert f"Error: {folder}: {expected}" in result.output
    assert not (tmp_path / "inbox").exists()


def test_load_registry_refuses_a_folder_without_definitions(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError, match="no such folder"):
        load_registry(tmp_path / "nowhere")
    with pytest.raises(FrameworkError, match=r"no framework definitions \(\*\.toml"):
        load_registry(tmp_path)


def test_demo_without_its_framework_says_which_it_needs(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    shutil.copy(TEMPLATES / "send-review-report.toml", templates)
    result = CliRunner().invoke(
        main, ["demo", "--workspace", str(tmp_path / "space"), "--templates", str(templates)]
    )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "the demo needs the 'specialist-provision-review' framework" in result.output


@pytest.mark.slow
def test_the_wheel_carries_every_definition_and_loads_them_outside_the_checkout(
    tmp_path: Path,
) -> None:
    """Build a wheel from a copy of the repository (with an older version under versions/, as a
    trust would keep one), then import sheet-tools from the unpacked wheel alone."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "sheet_tools", source / "sheet_tools", ignore=_caches)
    shutil.copytree(TEMPLATES, source / "workbook_templates", ignore=_caches)
    current = (TEMPLATES / "send-review-report.toml").read_text(encoding="utf-8")
    assert 'version = "1.0"' in current
    (source / "workbook_templates" / "versions").mkdir()
    (source / "workbook_templates" / "versions" / "send-review-report@0.9.toml").write_text(
        current.replace('version = "1.0"', 'version = "0.9"', 1), encoding="utf-8"
    )
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = dist.glob("sheet_tools-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    prefix = TEMPLATES_PACKAGE.replace(".", "/")
    for name in BUNDLED:
        assert f"{prefix}/{name}" in names
    assert f"{prefix}/versions/send-review-report@0.9.toml" in names
    assert f"{prefix}/__init__.py" in names
    # every module of every stage package, found without a hand-kept list
    code = {p.relative_to(REPO).as_posix() for p in (REPO / "sheet_tools").rglob("*.py")}
    assert code - names == set()

    probe = (
        "import sheet_tools, sheet_tools.definitions.frameworks as f; r = f.load_registry(); "
        "print(sheet_tools.__file__); print(len(r.ids()), r.versions('send-review-report'))"
    )
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    env.pop("SHEET_TOOLS_TEMPLATES", None)
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=empty,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.splitlines()
    assert Path(out[0]).is_relative_to(tmp_path / "site")  # not the checkout's package
    assert out[1] == "5 ['0.9', '1.0']"


def _caches(_folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "__pycache__"]
