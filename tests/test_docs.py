"""README documents every command, as sqlite-utils' own docs test checks its CLI."""

from __future__ import annotations

import click
import pytest

from sheet_tools.cli import main
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "sheet-tools") -> list[str]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found.extend(commands(command, f"{prefix} {name}"))
        else:
            found.append(f"{prefix} {name}")
    return found


def test_the_cli_has_the_commands_this_test_expects() -> None:
    assert {"sheet-tools returns withdraw", "sheet-tools templates list"} <= set(commands(main))


@pytest.mark.parametrize("command", commands(main))
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"{command} " in README or f"{command}\n" in README, command


@pytest.mark.parametrize("command", commands(main))
def test_every_option_of_every_command_is_in_the_readme(command: str) -> None:
    group: click.Command = main
    for part in command.split()[1:]:
        assert isinstance(group, click.Group)
        group = group.commands[part]
    for parameter in group.params:
        if isinstance(parameter, click.Option) and parameter.name not in ("help",):
            flag = max(parameter.opts, key=len)
            assert flag in README, f"{command} {flag}"
