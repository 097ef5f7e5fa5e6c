"""Shared fixtures: real frameworks, real files in tmp_path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange

from sheet_tools.frameworks import Framework, Registry, load_registry

REPO = Path(__file__).resolve().parent.parent
SEEDS = Path(os.environ.get("SHEET_TOOLS_SEEDS", REPO.parent / "shared" / "seeds"))


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="session")
def spr(registry: Registry) -> Framework:
    return registry.latest("specialist-provision-review")


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def ssconvert_path() -> str | None:
    return shutil.which("ssconvert")


def cells_of(sqref: object) -> set[str]:
    """Every cell coordinate a data-validation or formatting range (e.g. "C4:C15 E2") covers."""
    return {
        f"{get_column_letter(column)}{row}"
        for cell_range in MultiCellRange(str(sqref)).ranges
        for row, column in cell_range.cells
    }
