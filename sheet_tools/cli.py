"""The ``sheet-tools`` command: parses arguments, calls one library function, prints."""

from __future__ import annotations

import json
from pathlib import Path

import click

from . import __version__
from .base.workspace import Workspace
from .definitions.carried import Carried
from .definitions.frameworks import Framework, Registry, load_framework, load_registry
from .definitions.roster import School, make_school, read_roster, workspace_roster
from .definitions.rounds import ROLE_NAMES, Judge
from .exceptions import FrameworkError, SheetToolsError
from .generate.workbook import generate_batch, issue_for
from .problems.report import FileReport

TEMPLATES_OPTION = click.option(
    "--templates",
    "templates_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="SHEET_TOOLS_TEMPLATES",
    help="Folder of framework definitions (default: the bundled workbook_templates/).",
)


@click.group()
@click.version_option(__version__, prog_name="sheet-tools")
def main() -> None:
    """Generate, ingest and summarise SEND provision review workbooks."""


@main.group()
def templates() -> None:
    """List and check framework definitions."""


@templates.command("list")
@TEMPLATES_OPTION
def templates_list(templates_dir: Path | None) -> None:
    """List the frameworks workbooks can be generated from."""
    try:
        registry = load_registry(templates_dir)
    except FrameworkError as exc:
        raise click.ClickException(str(exc)) from None
    for framework_id in registry.ids():
        framework = registry.latest(framework_id)
        statements = sum(len(sheet.statements) for sheet in framework.sheets)
        versions = ", ".join(registry.versions(framework_id))
        click.echo(
            f"{framework.id}  v{framework.version}  {len(framework.sheets)} sheets, "
            f"{statements} statements  (versions: {versions})  {framework.title}"
        )


@templates.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def templates_check(files: tuple[Path, ...]) -> None:
    """Validate framework definition files (a trust's own, for example)."""
    failed = False
    for path in files:
        try:
            framework = load_framework(path)
        except FrameworkError as exc:
            failed = True
            click.echo(str(exc), err=True)
            continue
        statements = sum(len(sheet.statements) for sheet in framework.sheets)
        click.echo(
            f"{path}: ok ({framework.key}, {len(framework.sheets)} sheets, {statements} statements)"
        )
    if failed:
        raise SystemExit(1)


@main.command()
@click.argument("template_id")
@click.option("--school", help="The school's name (for one workbook).")
@click.option("--urn", help="The school's URN.")
@click.option("--trust", help="The school's trust or local authority.")
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="CSV or XLSX with columns school, urn, trust: one workbook per row.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to write the workbooks to.",
)
@click.option(
    "--round",
    "round_name",
    metavar="NAME",
    help='The review round, e.g. "Autumn 2026" (default: the school term containing today).',
)
@click.option(
    "--judge",
    type=click.Choice(list(ROLE_NAMES)),
    default=None,
    help="Who the workbook is for (default: the cover asks; a report or follow-up visit is "
    "always a reviewer's).",
)
@click.option(
    "--carry-forward",
    is_flag=True,
    help="Start each school's workbook from its earlier round: a locked Last round column, the "
    "personnel on the cover, and an Action plan sheet.",
)
@click.option(
    "--from-round",
    metavar="NAME",
    help="The round to carry forward from (default: each school's latest earlier round with an "
    "accepted return).",
)
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="The workspace whose sheet-tools.db holds the earlier returns (default: current "
    "directory).",
)
@click.option("--force", is_flag=True, help="Replace workbooks that already exist.")
@TEMPLATES_OPTION
def generate(
    template_id: str,
    school: str | None,
    urn: str | None,
    trust: str | None,
    roster: Path | None,
    out_dir: Path,
    round_name: str | None,
    judge: str | None,
    carry_forward: bool,
    from_round: str | None,
    workspace: Path,
    force: bool,
    templates_dir: Path | None,
) -> None:
    """Generate workbooks for one school (--school) or a roster (--roster)."""
    if bool(school) == bool(roster):
        raise click.UsageError("give either --school NAME or --roster FILE")
    if from_round is not None and not carry_forward:
        raise click.UsageError("--from-round needs --carry-forward")
    role = ROLE_NAMES[judge] if judge else None
    try:
        registry = load_registry(templates_dir)
        framework = registry.get(template_id)
        if framework is None:
            known = ", ".join(registry.ids())
            raise click.ClickException(f"no template {template_id!r}; known templates: {known}")
        schools = read_roster(roster) if roster is not None else [make_school(school, urn, trust)]
        carried = None
        if carry_forward:
            carried = _carried(
                workspace, registry, framework, schools, round_name, from_round, role
            )
            click.echo(
                f"Carrying forward {len(carried)} of {len(schools)} school"
                f"{'s' if len(schools) != 1 else ''} from an earlier round"
            )
        if roster is not None:
            with click.progressbar(length=len(schools), label="Generating") as bar:
                written = generate_batch(
                    framework,
                    schools,
                    out_dir,
                    force=force,
                    progress=lambda _: bar.update(1),
                    round_name=round_name,
                    judge=role,
                    carried=carried,
                )
            click.echo(f"Wrote {len(written)} workbooks to {out_dir}")
        else:
            [path] = generate_batch(
                framework, schools, out_dir, force=force, round_name=round_name, judge=role,
                carried=carried,
            )  # fmt: skip
            click.echo(f"Wrote {path}")
    except SheetToolsError as exc:
        raise click.ClickException(str(exc)) from None


def _carried(
    workspace: Path,
    registry: Registry,
    framework: Framework,
    schools: list[School],
    round_name: str | None,
    from_round: str | None,
    role: Judge | None,
) -> dict[str, Carried]:
    """What each school's workbook starts from, read from the workspace's store."""
    from .service.carry import carried_for
    from .store.facade import Store

    database = Workspace.at(workspace).database
    if not database.exists():
        raise click.ClickException(
            f"there is no {database.name} in {workspace}: --carry-forward reads the earlier "
            "returns from the workspace (give --workspace DIR)"
        )
    issued = issue_for(framework, round_name, role)
    with Store(database) as store:
        return carried_for(
            store, registry, framework, schools, issued.round, from_round=from_round, judge=role
        )


@main.command()
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding the database, archive/ and rejected/ (default: current directory).",
)
@click.option("--inbox", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--once", is_flag=True, default=None, help="Process the backlog, then exit.")
@click.option(
    "--poll",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Poll the inbox every SECONDS (network shares) instead of waiting for OS events.",
)
@click.option("--json", "json_output", is_flag=True, default=None, help="One JSON line per file.")
@TEMPLATES_OPTION
def watch(
    workspace: Path | None,
    inbox: Path | None,
    outbox: Path | None,
    once: bool | None,
    poll: float | None,
    json_output: bool | None,
    templates_dir: Path | None,
) -> None:
    """Process every return dropped into the inbox, exactly once, and keep summaries current.

    Options may also be set in the workspace's sheet-tools.toml ([watch] table) or as
    SHEET_TOOLS_* environment variables. Stops cleanly on Ctrl+C or SIGTERM."""
    from .service.config import load_watch_settings
    from .service.watch import run_watch, service_logging, workspace_for

    given = {
        "workspace": workspace,
        "inbox": inbox,
        "outbox": outbox,
        "once": once,
        "poll": poll,
        "json": json_output,
        "templates": templates_dir,
    }
    try:
        settings = load_watch_settings(given)
        registry = load_registry(settings.templates)
        workspace_for(settings).ensure()
    except (SheetToolsError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    on_report = _echo_json if settings.json_output else None
    with service_logging(workspace_for(settings).log_file):
        try:
            run_watch(settings, registry, on_report=on_report)
        except SheetToolsError as exc:
            raise click.ClickException(str(exc)) from None


def _echo_json(report: FileReport) -> None:
    click.echo(json.dumps(report.to_json()))


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Folder holding the database, archive/ and rejected/ (default: current directory).",
)
@click.option("--json", "json_output", is_flag=True, help="One JSON object per file.")
@TEMPLATES_OPTION
def ingest(
    files: tuple[Path, ...], workspace: Path, json_output: bool, templates_dir: Path | None
) -> None:
    """Validate and store returned workbooks, copying each original into the archive (or, when
    rejected, into rejected/ with an errors report). Exit 1 when any file is rejected."""
    from .base.netfs import require_local_database
    from .intake import worker
    from .problems.render import render_line
    from .service.config import load_limits
    from .service.ingest import ATTEMPTS, ingest_file
    from .store.facade import Store

    space = Workspace.at(workspace)
    try:
        registry = load_registry(templates_dir)
        roster = workspace_roster(space.root)
        limits = load_limits(space.root)
        space.root.mkdir(parents=True, exist_ok=True)
        require_local_database(space.database)
        store = Store(space.database)
    except (SheetToolsError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    rejected = False
    with (
        worker.using(limits=limits.worker(), guard_limits=limits.guard()),
        worker.read_ahead(registry, space.temp / ATTEMPTS, files) as ordered,
        store,
    ):
        for path in ordered:  # each file is read while the one before is stored and filed
            report = ingest_file(path, space, registry, store, roster=roster)
            rejected = rejected or report.status == "rejected" or report.error_count > 0
            click.echo(json.dumps(report.to_json()) if json_output else render_line(report))
    if rejected:
        raise SystemExit(1)


@main.command()
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Folder holding the database and outbox/ (default: current directory).",
)
@click.option(
    "--outbox",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the summaries to (default: the workspace's outbox/).",
)
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="CSV or XLSX with columns school, urn, trust, for the returns log "
    "(default: the workspace's roster.csv, if any).",
)
@TEMPLATES_OPTION
def summarise(
    workspace: Path, outbox: Path | None, roster: Path | None, templates_dir: Path | None
) -> None:
    """Rebuild every school and trust summary workbook from the stored returns."""
    from .summarise import summarise_workspace

    try:
        registry = load_registry(templates_dir)
        written = summarise_workspace(workspace, registry, outbox=outbox, roster=roster)
    except (SheetToolsError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    workbooks = [path for path in written if path.suffix == ".xlsx"]
    charts = len(written) - len(workbooks)
    target = outbox if outbox is not None else workspace / "outbox"
    click.echo(f"Wrote {len(workbooks)} summary workbooks and {charts} charts to {target}")


WORKSPACE_OPTION = click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="The workspace (default: current directory).",
)


@main.group()
def returns() -> None:
    """List stored returns; withdraw one sent in error, or restore it."""


@returns.command("list")
@WORKSPACE_OPTION
@click.option("--school", help="A URN, or part of a school's name.")
@click.option("--trust", help="A trust (however its name is typed).")
@click.option("--round", "round_name", metavar="NAME", help='A review round, e.g. "Autumn 2026".')
@click.option("--json", "json_output", is_flag=True, help="One JSON object per return.")
def returns_list(
    workspace: Path,
    school: str | None,
    trust: str | None,
    round_name: str | None,
    json_output: bool,
) -> None:
    """Every stored return, oldest first: current, superseded (by a later one) or withdrawn."""
    from .service.corrections import list_returns
    from .store.facade import Store

    space = Workspace.at(workspace)
    if not space.database.is_file():
        raise click.ClickException(f"no returns database at {space.database}")
    try:
        with Store(space.database) as store:
            rows = list_returns(store, school=school, trust=trust, round_name=round_name)
    except SheetToolsError as exc:
        raise click.ClickException(str(exc)) from None
    for row in rows:
        click.echo(row.model_dump_json() if json_output else row.line())
    if not json_output:
        click.echo(f"{len(rows)} return(s)")


def _correct(
    workspace: Path, return_id: int, reason: str, templates_dir: Path | None, withdraw: bool
) -> None:
    from .service.corrections import correct_return
    from .store.facade import Store

    space = Workspace.at(workspace)
    if not space.database.is_file():
        raise click.ClickException(f"no returns database at {space.database}")
    try:
        registry = load_registry(templates_dir)
        roster = workspace_roster(space.root)
        with Store(space.database) as store:
            stored, written = correct_return(
                store,
                registry,
                space.outbox,
                return_id,
                withdraw=withdraw,
                reason=reason,
                roster=roster,
            )
    except (SheetToolsError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    done = "Withdrew" if withdraw else "Restored"
    click.echo(
        f"{done} return {stored.id} ({stored.school}, {stored.template_id}, {stored.round}, "
        f"{stored.file_name}); rebuilt {len(written)} summary file(s) in {space.outbox}"
    )


@returns.command("withdraw")
@click.argument("return_id", type=int)
@click.option("--reason", required=True, help="Why: kept in the school's history.")
@WORKSPACE_OPTION
@TEMPLATES_OPTION
def returns_withdraw(
    return_id: int, reason: str, workspace: Path, templates_dir: Path | None
) -> None:
    """Take a return out of every summary (the one it superseded counts again)."""
    _correct(workspace, return_id, reason, templates_dir, withdraw=True)


@returns.command("restore")
@click.argument("return_id", type=int)
@click.option("--reason", default="restored", show_default=True, help="Why: kept in the history.")
@WORKSPACE_OPTION
@TEMPLATES_OPTION
def returns_restore(
    return_id: int, reason: str, workspace: Path, templates_dir: Path | None
) -> None:
    """Put a withdrawn return back."""
    _correct(workspace, return_id, reason, templates_dir, withdraw=False)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "json_output", is_flag=True, help="One JSON object per file.")
@TEMPLATES_OPTION
def validate(files: tuple[Path, ...], json_output: bool, templates_dir: Path | None) -> None:
    """Check returned workbooks and print what is wrong with them; changes nothing.
    Exit 0 when every file is valid, 1 when any is not."""
    from .intake import worker
    from .problems.render import render_text

    try:
        registry = load_registry(templates_dir)
    except FrameworkError as exc:
        raise click.ClickException(str(exc)) from None
    rejected = False
    with worker.using():  # a file that makes the reader abort costs its worker, not the command
        for path in files:
            report, _ = worker.check_bounded(path, registry)
            rejected = rejected or report.status != "accepted"
            click.echo(json.dumps(report.to_json()) if json_output else render_text(report))
    if rejected:
        raise SystemExit(1)


@main.command()
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Folder to run the demonstration in (default: current directory).",
)
@TEMPLATES_OPTION
def demo(workspace: Path, templates_dir: Path | None) -> None:
    """Run the round trip for a sample trust: generate, fill, ingest, summarise."""
    from .demo import run_demo

    try:
        result = run_demo(workspace, load_registry(templates_dir))
    except (SheetToolsError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if result.roster.parent != workspace:
        click.echo(
            "This workspace already has a roster the demo did not write: left as it is; "
            f"the sample trust's roster is {result.roster}."
        )
    if result.already_processed:
        click.echo(
            f"{len(result.already_processed)} sample returns were already processed here by an "
            "earlier sheet-tools demo: not dropped again (an empty folder starts afresh)."
        )
    click.echo(f"Dropped {len(result.dropped)} filled returns into {workspace / 'inbox'}:")
    for report in result.reports:
        click.echo(f"  {report.status:9} {report.file}")
    click.echo(f"Wrote {len(result.summaries)} summary files to {workspace / 'outbox'}:")
    for path in result.summaries:
        click.echo(f"  {path.relative_to(workspace)}")
    if any(report.status == "rejected" for report in result.reports):
        click.echo(f"Rejected returns and their reports are in {workspace / 'rejected'}.")


if __name__ == "__main__":
    main()
