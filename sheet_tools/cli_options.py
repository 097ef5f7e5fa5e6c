"""The options several commands share (``--workspace``, ``--json``, ``--templates``): defined
once, so each reads and is explained the same way everywhere (``cli`` and ``cli_mail``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def workspace_option(command: F) -> F:
    """``--workspace``, the same for every command that has one."""
    return click.option(
        "--workspace",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        help="The workspace folder: its sheet-tools.db, inbox/, archive/, rejected/ and outbox/ "
        "(default: the current directory).",
    )(command)


def json_option(command: F) -> F:
    """``--json``, the same for every command that has one."""
    return click.option(
        "--json",
        "json_output",
        is_flag=True,
        help="Print one JSON object per line (a file's report, or a return) instead of text.",
    )(command)


def templates_option(command: F) -> F:
    """``--templates``, the same for every command that reads framework definitions."""
    return click.option(
        "--templates",
        "templates_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        envvar="SHEET_TOOLS_TEMPLATES",
        help="Folder of framework definitions (default: the bundled workbook_templates/).",
    )(command)
