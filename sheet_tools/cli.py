"""The ``sheet-tools`` command: parses arguments, calls one library function, prints.

Errors are turned into words in one place, ``SheetToolsGroup.invoke``: the library's own
(``SheetToolsError``) and the operating system's (``OSError``, a full disk, a missing folder)
end as one ``Error: ...`` line and exit status 2, never a traceback. Exit statuses:
0 done; 1 done, but a return was rejected or a file is invalid; 2 the command could not run or
could not finish. Everything heavy (openpyxl, numpy, matplotlib, the readers) is imported
inside the command that needs it, so ``--version``, ``--help`` and ``templates list`` start fast.
"""

from __future__ import annotations

import errno
import functools
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from . import __version__
from .base import platform
from .cli_mail import mail
from .cli_options import json_option, templates_option, workspace_option
from .cli_returns import returns
from .cli_store import store
from .definitions.rounds import ROLE_NAMES
from .exceptions import SheetToolsError

if TYPE_CHECKING:
    from .definitions.frameworks import Registry
    from .problems.report import FileReport

DONE, REJECTED, FAILED = 0, 1, 2
NOT_REPLACED = (
    "was not replaced: it is open in another program or read-only; close it and run summarise again"
)

F = TypeVar("F", bound=Callable[..., Any])

# What an OSError means, in the words of someone who never reads a traceback.
_OS_WORDS: dict[int, str] = {
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.EEXIST: "already exists",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "no space left on the disk",
    errno.EROFS: "the disk is read-only",
    errno.ENOTEMPTY: "the folder is not empty",
    errno.EBUSY: "in use by another program",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "the disk could not be read or written",
    errno.ENOMEM: "not enough memory",
    errno.EMFILE: "too many files are open",
}
if hasattr(errno, "EDQUOT"):  # not on Windows
    _OS_WORDS[errno.EDQUOT] = "the disk quota is used up"


class Failed(click.ClickException):
    """The command could not run or could not finish: ``Error: <message>``, exit status 2."""

    exit_code = FAILED


def describe_os_error(exc: OSError) -> str:
    """``<path>: <what went wrong>``, naming the part of the path that is wrong where it can:
    the file in the way of a folder, or the first folder that does not exist."""
    words = _OS_WORDS.get(exc.errno or 0) or (exc.strerror or str(exc) or "failed").lower()
    if exc.filename is None:
        return words
    path = Path(exc.filename)
    if exc.errno == errno.ENOTDIR:
        along = (*reversed(path.parents), path)
        blocking = next((p for p in along if p.exists() and not p.is_dir()), None)
        if blocking is not None:
            return f"{path}: {blocking} is a file, not a folder"
    if exc.errno == errno.ENOENT:
        missing = next((p for p in reversed(path.parents) if not p.exists()), None)
        if missing is not None:
            return f"{missing}: no such folder"
    named = f"{path} -> {exc.filename2}" if exc.filename2 is not None else str(path)
    return f"{named}: {words}"


class SheetToolsGroup(click.Group):
    """The one place an error becomes words: every command runs inside ``invoke``."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SheetToolsError as exc:
            raise Failed(str(exc)) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # output piped into `head`: click ends quietly
                raise
            raise Failed(describe_os_error(exc)) from None
        except sqlite3.DatabaseError as exc:  # a full disk or a damaged file met mid-transaction
            raise Failed(f"the database could not be used: {exc}") from None


def outbox_option(command: F) -> F:
    """``--outbox``, the same for every command that writes summaries."""
    return click.option(
        "--outbox",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder to write the summaries to (default: the workspace's outbox/).",
    )(command)


def _registry(templates_dir: Path | None) -> Registry:
    from .definitions.frameworks import load_registry

    return load_registry(templates_dir)


def _given(ctx: click.Context, name: str, value: Any) -> Any:
    """``value`` if typed on the command line (or its variable), else None: for settings a
    workspace's sheet-tools.toml may hold."""
    source = ctx.get_parameter_source(name)
    return None if source in (None, ParameterSource.DEFAULT) else value


def _finish(rejected: bool) -> None:
    if rejected:
        click.get_current_context().exit(REJECTED)


@click.group(cls=SheetToolsGroup)
@click.version_option(__version__, prog_name="sheet-tools")
def main() -> None:
    """Generate, ingest and summarise SEND provision review workbooks.

    Exit status: 0 done; 1 done, but a return was rejected or a file is invalid; 2 the command
    could not run or could not finish."""
    platform.utf8_output()  # a scheduled task's cp1252 log must not stop at a school's name


@main.command()
@click.argument("directory", default=Path("."), type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Make DIRECTORY (default: the current folder) a workspace: its folders, a commented
    sheet-tools.toml and an example roster. Nothing already there is replaced."""
    from .service.setup import EXAMPLE_ROSTER, init_workspace

    made = init_workspace(directory)
    for path in made:
        click.echo(f"Made {path}")
    if not made:
        click.echo(f"{directory} is already a workspace: nothing to make.")
    click.echo(
        f"Workspace ready: {directory}. Save your schools as roster.csv there "
        f"(see {EXAMPLE_ROSTER}), then generate, and watch the inbox."
    )


@main.group()
def templates() -> None:
    """List and check framework definitions."""


@templates.command("list")
@templates_option
def templates_list(templates_dir: Path | None) -> None:
    """List the frameworks workbooks can be generated from."""
    registry = _registry(templates_dir)
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
    """Validate framework definition files (a trust's own, for example).
    Exit 1 when any file has a problem."""
    from .definitions.frameworks import load_framework
    from .exceptions import FrameworkError

    failed = False
    for path in files:
        try:  # a bad file is this command's finding, not its failure
            framework = load_framework(path)
        except FrameworkError as exc:
            failed = True
            click.echo(str(exc), err=True)
            continue
        statements = sum(len(sheet.statements) for sheet in framework.sheets)
        click.echo(
            f"{path}: ok ({framework.key}, {len(framework.sheets)} sheets, {statements} statements)"
        )
    _finish(failed)


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
    "--visit-date",
    type=click.DateTime(formats=["%d/%m/%Y"]),
    default=None,
    metavar="DD/MM/YYYY",
    help="A follow-up visit's date, filled in on the cover and named in the file name (for "
    "one workbook per visit).",
)
@click.option(
    "--carry-forward",
    is_flag=True,
    help="Start each school's workbook from its earlier round (read from the workspace): a "
    "locked Last round column, the personnel on the cover, and an Action plan sheet (a report "
    "or follow-up visit: the personnel only).",
)
@click.option(
    "--from-round",
    metavar="NAME",
    help="The round to carry forward from (default: each school's latest earlier round with an "
    "accepted return).",
)
@workspace_option
@click.option("--force", is_flag=True, help="Replace workbooks that already exist.")
@templates_option
@click.pass_context
def generate(
    ctx: click.Context,
    template_id: str,
    school: str | None,
    urn: str | None,
    trust: str | None,
    roster: Path | None,
    out_dir: Path,
    round_name: str | None,
    judge: str | None,
    visit_date: datetime | None,
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
    from .definitions.roster import MAX_LISTED, make_school, read_roster
    from .service.issuing import issue_workbooks, schools_taking

    registry = _registry(templates_dir)
    framework = registry.require(template_id)
    schools = read_roster(roster) if roster is not None else [make_school(school, urn, trust)]
    issue = functools.partial(
        issue_workbooks,
        framework,
        registry,
        schools,
        out_dir,
        workspace=workspace,
        workspace_given=_given(ctx, "workspace", workspace) is not None,
        from_roster=roster is not None,
        round_name=round_name,
        judge=ROLE_NAMES[judge] if judge else None,
        visit_date=visit_date.date() if visit_date else None,
        carry_forward=carry_forward,
        from_round=from_round,
        force=force,
    )
    if roster is None:
        done = issue()
    else:
        taking = len(schools_taking(framework, schools))
        with click.progressbar(length=taking, label="Generating") as bar:
            done = issue(progress=lambda _: bar.update(1))
    if done.carried is not None:
        count = len(schools) - done.left_out
        many = "s" if count != 1 else ""
        click.echo(
            f"Carrying forward {done.carried} of {count} school{many} from an earlier round"
            + ("" if done.plan else " (the cover's personnel only: this form has no actions)")
        )
        reasons = list(done.not_carried.values())
        for why in reasons[:MAX_LISTED]:
            click.echo(f"  Not carried: {why}")
        if len(reasons) > MAX_LISTED:
            click.echo(f"  ... and {len(reasons) - MAX_LISTED} more schools not carried")
    if done.left_out:
        click.echo(
            f"Left out {done.left_out} school(s) that the roster says take other forms, "
            f"not {template_id}"
        )
    if roster is None:
        click.echo(f"Wrote {done.written[0]}")
    else:
        click.echo(f"Wrote {len(done.written)} workbooks to {out_dir}")
    if done.recorded is not None:
        click.echo(f"Recorded them as issued in {done.recorded}")


@main.command()
@workspace_option
@click.option(
    "--inbox",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder returns are dropped into (default: the workspace's inbox/).",
)
@outbox_option
@click.option(
    "--once",
    is_flag=True,
    default=None,
    help="Process the backlog, then exit (1 when any file was rejected, 2 when a file was left "
    "unfiled or the summaries could not be rebuilt).",
)
@click.option(
    "--poll",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Poll the inbox every SECONDS (network shares) instead of waiting for OS events.",
)
@json_option
@templates_option
@click.pass_context
def watch(
    ctx: click.Context,
    workspace: Path,
    inbox: Path | None,
    outbox: Path | None,
    once: bool | None,
    poll: float | None,
    json_output: bool,
    templates_dir: Path | None,
) -> None:
    """Process every return dropped into the inbox, exactly once, and keep summaries current.

    Options may also be set in the workspace's sheet-tools.toml ([watch] table) or as
    SHEET_TOOLS_* environment variables. Stops cleanly on Ctrl+C or SIGTERM."""
    from .base.workspace import require_workspace
    from .service.config import load_watch_settings
    from .service.watch import run_watch, service_logging, workspace_for

    settings = load_watch_settings(
        {
            "workspace": _given(ctx, "workspace", workspace),
            "inbox": inbox,
            "outbox": outbox,
            "once": once,
            "poll": poll,
            "json": _given(ctx, "json_output", json_output),
            "templates": templates_dir,
        }
    )
    require_workspace(settings.workspace, settings.inbox, settings.outbox)
    registry = _registry(settings.templates)
    workspace_for(settings).ensure()
    on_report = _echo_json if settings.json_output else None
    with service_logging(workspace_for(settings).log_file):
        stats = run_watch(settings, registry, on_report=on_report)
    if settings.once and stats.unfinished:
        left = (
            f"{stats.unfiled} file(s) were left in processing/ to be tried again"
            if stats.unfiled
            else ""
        )
        summaries = "the summaries could not be rebuilt" if stats.summaries_failed else ""
        raise Failed(
            f"could not finish: {'; '.join(w for w in (left, summaries) if w)} (see the log)"
        )
    _finish(settings.once and stats.rejected > 0)


def _echo_json(report: FileReport) -> None:
    click.echo(json.dumps(report.to_json()))


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@workspace_option
@json_option
@templates_option
def ingest(
    files: tuple[Path, ...], workspace: Path, json_output: bool, templates_dir: Path | None
) -> None:
    """Validate and store returned workbooks, copying each original into the archive (or, when
    rejected, into rejected/ with an errors report). Exit 1 when any file is rejected."""
    from .base.workspace import require_workspace
    from .problems.render import render_line
    from .service.ingest import ingest_paths

    def echo(report: FileReport) -> None:
        click.echo(json.dumps(report.to_json()) if json_output else render_line(report))

    registry = _registry(templates_dir)
    reports = ingest_paths(require_workspace(workspace), files, registry, on_report=echo)
    _finish(any(r.status == "rejected" or r.error_count > 0 for r in reports))


@main.command()
@workspace_option
@outbox_option
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="CSV or XLSX with columns school, urn, trust, for the returns log "
    "(default: the workspace's roster.csv, if any).",
)
@templates_option
def summarise(
    workspace: Path, outbox: Path | None, roster: Path | None, templates_dir: Path | None
) -> None:
    """Rebuild every school and trust summary workbook from the stored returns."""
    from .base.workspace import require_workspace
    from .service.config import load_rounds
    from .summarise.rebuild import summarise_workspace
    from .summarise.writing import unwritten

    require_workspace(workspace, outbox=outbox)
    registry = _registry(templates_dir)
    current = load_rounds(workspace).current
    written = summarise_workspace(
        workspace, registry, outbox=outbox, roster=roster, current_round=current
    )
    workbooks = [path for path in written if path.suffix == ".xlsx"]
    charts = len(written) - len(workbooks)
    target = outbox if outbox is not None else workspace / "outbox"
    click.echo(f"Wrote {len(workbooks)} summary workbooks and {charts} charts to {target}")
    left = unwritten()
    for path in left[:-1]:
        click.echo(f"Error: {path} {NOT_REPLACED}", err=True)
    if left:
        raise Failed(f"{left[-1]} {NOT_REPLACED}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
@templates_option
def validate(files: tuple[Path, ...], json_output: bool, templates_dir: Path | None) -> None:
    """Check returned workbooks and print what is wrong with them; changes nothing.
    Exit 0 when every file is valid, 1 when any is not."""
    from .intake import worker
    from .problems.render import render_text

    registry = _registry(templates_dir)
    rejected = False
    with worker.using():  # a file that makes the reader abort costs its worker, not the command
        for path in files:
            report, _ = worker.check_bounded(path, registry)
            rejected = rejected or report.status != "accepted"
            click.echo(json.dumps(report.to_json()) if json_output else render_text(report))
    _finish(rejected)


@main.command()
@workspace_option
@templates_option
def demo(workspace: Path, templates_dir: Path | None) -> None:
    """Run the round trip for a sample trust: generate, fill, ingest, summarise. Exit 0 when it
    ran: one sample return is made to be rejected."""
    from .demo import run_demo

    result = run_demo(workspace, _registry(templates_dir))
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
    if result.messages:
        click.echo(
            f"Wrote {len(result.messages)} e-mail messages to the schools as .eml files "
            "(not sent; open one in any mail program):"
        )
        for path in result.messages:
            click.echo(f"  {path.relative_to(workspace)}")


main.add_command(mail)
main.add_command(store)
main.add_command(returns)

if __name__ == "__main__":
    main()
