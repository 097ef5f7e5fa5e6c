"""``sheet-tools returns``: list the stored returns; withdraw one sent in error, or restore it.
Parses and prints only; ``service.corrections`` does the work."""

from __future__ import annotations

from pathlib import Path

import click

from .cli_options import json_option, templates_option, workspace_option


@click.group()
def returns() -> None:
    """List stored returns; withdraw one sent in error, or restore it."""


@returns.command("list")
@workspace_option
@click.option("--school", help="A URN, or part of a school's name.")
@click.option("--trust", help="A trust (however its name is typed).")
@click.option("--round", "round_name", metavar="NAME", help='A review round, e.g. "Autumn 2026".')
@json_option
def returns_list(
    workspace: Path,
    school: str | None,
    trust: str | None,
    round_name: str | None,
    json_output: bool,
) -> None:
    """Every stored return, oldest first: current, superseded (by a later one) or withdrawn."""
    from .base.workspace import require_workspace
    from .service.corrections import list_returns_in

    rows = list_returns_in(
        require_workspace(workspace), school=school, trust=trust, round_name=round_name
    )
    for row in rows:
        click.echo(row.model_dump_json() if json_output else row.line())
    if not json_output:
        click.echo(f"{len(rows)} return(s)")


def _correct(
    workspace: Path, return_id: int, reason: str, templates_dir: Path | None, withdraw: bool
) -> None:
    from .base.workspace import require_workspace
    from .definitions.frameworks import load_registry
    from .service.corrections import correct_return_in

    space = require_workspace(workspace)
    stored, written = correct_return_in(
        space, load_registry(templates_dir), return_id, withdraw=withdraw, reason=reason
    )
    done = "Withdrew" if withdraw else "Restored"
    click.echo(
        f"{done} return {stored.id} ({stored.school}, {stored.template_id}, {stored.round}, "
        f"{stored.file_name}); rebuilt {len(written)} summary file(s) in {space.outbox}"
    )


@returns.command("withdraw")
@click.argument("return_id", type=int)
@click.option("--reason", required=True, help="Why: kept in the school's history.")
@workspace_option
@templates_option
def returns_withdraw(
    return_id: int, reason: str, workspace: Path, templates_dir: Path | None
) -> None:
    """Take a return out of every summary (the one it superseded counts again)."""
    _correct(workspace, return_id, reason, templates_dir, withdraw=True)


@returns.command("restore")
@click.argument("return_id", type=int)
@click.option("--reason", default="restored", show_default=True, help="Why: kept in the history.")
@workspace_option
@templates_option
def returns_restore(
    return_id: int, reason: str, workspace: Path, templates_dir: Path | None
) -> None:
    """Put a withdrawn return back."""
    _correct(workspace, return_id, reason, templates_dir, withdraw=False)
