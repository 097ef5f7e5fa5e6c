"""``sheet-tools store``: back the database up, or rebuild a lost one from the ledger in
archive/. Parses and prints only; ``service.store_admin`` does the work."""

from __future__ import annotations

from pathlib import Path

import click

from .cli_options import templates_option, workspace_option


@click.group()
def store() -> None:
    """The returns database: a consistent backup, or a rebuild from archive/."""


@store.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@workspace_option
def store_backup(file: Path, workspace: Path) -> None:
    """Copy the database, consistently, to FILE (replaced if there), even while the service
    runs: schedule it nightly and copy FILE off the server."""
    from .base.workspace import require_workspace
    from .service.store_admin import backup_store

    held = backup_store(require_workspace(workspace), file)
    click.echo(f"Backed up the database ({held} return(s)) to {file}")


@store.command("rebuild")
@workspace_option
@templates_option
def store_rebuild(workspace: Path, templates_dir: Path | None) -> None:
    """Make a lost database again from the ledger and the originals in archive/ and rejected/
    (with the service stopped). Queues no mail. Exit 1 when any file could not be stored as
    before."""
    from .base.workspace import require_workspace
    from .definitions.frameworks import load_registry
    from .service.store_admin import rebuild_store

    space = require_workspace(workspace)
    result = rebuild_store(space, load_registry(templates_dir))
    for place in result.missing:
        click.echo(f"  missing or changed, not stored: {place}")
    for place in result.differed:
        click.echo(f"  accepted before but not when checked again: {place}")
    outcomes = ", ".join(f"{n} {status}" for status, n in sorted(result.filed.items())) or "none"
    click.echo(
        f"Rebuilt {space.database}: files {outcomes}; {result.corrections} withdrawal(s) and "
        f"restoration(s); {result.issued} workbook(s) issued"
    )
    if result.unreadable_lines:
        click.echo(f"  {result.unreadable_lines} line(s) of the ledger could not be read")
    if result.missing or result.differed:
        click.get_current_context().exit(1)
