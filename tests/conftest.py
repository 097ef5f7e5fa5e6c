"""Shared fixtures: real frameworks, real files in tmp_path."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from sheet_tools.definitions.frameworks import Framework, Registry, load_registry

from .support.smtp import Mailbox, free_port, start_server
from .support.trust import Trust

REPO = Path(__file__).resolve().parent.parent


def unavailable(reason: str, ci_remedy: str) -> NoReturn:
    """Skip on a developer's machine; fail in CI (``CI`` set), which is meant to have everything,
    so that CI cannot pass without running the test."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason}; {ci_remedy}", pytrace=False)
    pytest.skip(reason)


def seed_path(name: str) -> Path:
    """A seed document (the source the frameworks are transcribed from), in $SHEET_TOOLS_SEEDS
    or else ../shared/seeds beside the clone; skips the test where it is missing, fails in CI."""
    folder = Path(os.environ.get("SHEET_TOOLS_SEEDS") or REPO.parent / "shared" / "seeds")
    path = folder / name
    if not path.is_file():
        unavailable(
            f"seed document {name} not found in {folder} (set SHEET_TOOLS_SEEDS)",
            "CI must provide the seed documents (../shared/seeds or SHEET_TOOLS_SEEDS)",
        )
    return path


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


@pytest.fixture
def trust(tmp_path: Path, registry: Registry):
    """A trust's workspace, driven through the CLI (``tests.support.trust``)."""

    return Trust(tmp_path / "workspace", registry)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1 (``tests.support.smtp``) and its port."""
    box, port = Mailbox(), free_port()
    controller = start_server(box, port)
    yield box, port
    controller.stop()
