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


def _all_commands(
    group: click.Group, prefix: str = "sheet-tools"
) -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = [(prefix, group)]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found.extend(_all_commands(command, f"{prefix} {name}"))
        else:
            found.append((f"{prefix} {name}", command))
    return found


def test_commands_have_help() -> None:
    """``--help`` explains every command, group and option: none is left to guesswork."""
    everything = _all_commands(main)
    assert len(everything) > 10
    for name, command in everything:
        assert (command.help or "").strip(), f"{name} has no help"
        for parameter in command.params:
            if isinstance(parameter, click.Option):
                assert (parameter.help or "").strip(), f"{name} {max(parameter.opts, key=len)}"


def test_shared_options_have_one_help_text() -> None:
    """--workspace, --json and --templates mean the same everywhere, so say it the same way."""
    for flag in ("--workspace", "--json", "--templates"):
        texts = {
            parameter.help
            for _, command in _all_commands(main)
            for parameter in command.params
            if isinstance(parameter, click.Option) and flag in parameter.opts
        }
        assert len(texts) == 1, (flag, texts)


def test_the_exit_statuses_are_in_the_readme() -> None:
    from sheet_tools.cli import DONE, FAILED, REJECTED

    assert (DONE, REJECTED, FAILED) == (0, 1, 2)
    for status in (DONE, REJECTED, FAILED):
        assert f"| {status} |" in README, status
