"""Shared fixtures: real frameworks, real files in tmp_path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

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
