"""What several test modules need: a file's fingerprint, the codes of a list of issues, the
cells a range covers, and a workspace made as an administrator makes one."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange

from sheet_tools.problems.report import Issue
from sheet_tools.service.setup import init_workspace


def sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, computed here rather than by the code under test."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def codes(issues: Iterable[Issue]) -> list[str]:
    """The issues' codes, in order."""
    return [issue.code for issue in issues]


def cells_of(sqref: object) -> set[str]:
    """Every cell coordinate a data-validation or formatting range (e.g. "C4:C15 E2") covers."""
    return {
        f"{get_column_letter(column)}{row}"
        for cell_range in MultiCellRange(str(sqref)).ranges
        for row, column in cell_range.cells
    }


def workspace(root: Path) -> Path:
    """``root`` made a workspace (``sheet-tools init``'s folders and settings), as the commands
    that work in one require."""
    init_workspace(root)
    return root


def refuse_replacing(monkeypatch: pytest.MonkeyPatch, path: Path) -> Callable[[], None]:
    """``os.replace`` refuses ``path`` as Windows refuses a file open in Excel; returns what
    lets it be replaced again."""
    real = os.replace

    def refusing(src: str | Path, dst: str | Path) -> None:
        if Path(dst) == path:
            raise PermissionError(13, "The process cannot access the file", str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", refusing)
    return lambda: monkeypatch.setattr(os, "replace", real)
