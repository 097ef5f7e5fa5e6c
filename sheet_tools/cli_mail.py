"""``sheet-tools mail``: send what is queued, list it, retry a failed message, prune old ones.
Parses and prints only; ``service.mailing`` does the work. A group of its own beside ``cli``
(which adds it), so the one command module does not outgrow its room."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli_options import json_option, templates_option, workspace_option


@click.group()
def mail() -> None:
    """E-mail to schools: receipts, rejections with the annotated copy, duplicates, reminders."""


@mail.command("send")
@workspace_option
@templates_option
def mail_send(workspace: Path, templates_dir: Path | None) -> None:
    """Send every queued message that is due, then exit."""
    from .base.workspace import require_workspace
    from .definitions.frameworks import load_registry
    from .service.mailing import send_queued

    result = send_queued(require_workspace(workspace), load_registry(templates_dir))
    for path in result.written:
        click.echo(f"  wrote {path}")
    click.echo(f"{result.sent} sent, {result.postponed} to try again later, {result.failed} failed")


@mail.command("status")
@workspace_option
@json_option
def mail_status(workspace: Path, json_output: bool) -> None:
    """Every message: queued, sent, failed or not told, with the reason."""
    from .base.clock import uk_time
    from .base.workspace import require_workspace
    from .service.mailing import mail_status as status_of

    rows = status_of(require_workspace(workspace))
    for row in rows:
        if json_output:
            click.echo(json.dumps(row.model_dump(mode="json")))
            continue
        to = row.recipient or "nobody"
        why = f": {row.reason}" if row.reason else ""
        click.echo(
            f"{row.id:>5}  {row.status:8}  {row.kind:9}  {uk_time(row.queued_at)}  "
            f"{row.school or 'school not known'} -> {to}{why}"
        )
    if not json_output:
        click.echo(f"{len(rows)} message(s)")


@mail.command("retry")
@click.argument("mail_id", metavar="ID", type=int)
@workspace_option
def mail_retry(mail_id: int, workspace: Path) -> None:
    """Queue a failed message again (it keeps its Message-ID)."""
    from .base.workspace import require_workspace
    from .service.mailing import retry_mail

    row = retry_mail(require_workspace(workspace), mail_id)
    click.echo(f"Queued message {row.id} to {row.recipient} again.")


@mail.command("prune")
@click.option("--days", type=click.IntRange(min=0), required=True, help="Keep the last N days.")
@workspace_option
def mail_prune(days: int, workspace: Path) -> None:
    """Forget messages handled more than N days ago and delete .eml files that old."""
    from .base.workspace import require_workspace
    from .service.mailing import prune_mail

    rows, files = prune_mail(require_workspace(workspace), days)
    click.echo(f"Forgot {rows} message(s); deleted {files} .eml file(s).")


@mail.command("remind")
@click.option(
    "--round",
    "round_name",
    metavar="NAME",
    required=True,
    help='The review round to chase, e.g. "Autumn 2026".',
)
@click.option(
    "--template",
    "template",
    metavar="ID",
    default=None,
    help="Only this framework (needed when nothing was issued for the round).",
)
@click.option("--dry-run", is_flag=True, help="Print who would get what; queue and send nothing.")
@workspace_option
@templates_option
def mail_remind(
    round_name: str,
    template: str | None,
    dry_run: bool,
    workspace: Path,
    templates_dir: Path | None,
) -> None:
    """Remind each school with no accepted return for a round, and tell each trust contact."""
    from .base.clock import uk_date
    from .base.workspace import require_workspace
    from .definitions.frameworks import load_registry
    from .service.mailing import remind

    plan, result = remind(
        require_workspace(workspace),
        load_registry(templates_dir),
        round_name,
        template=template,
        dry_run=dry_run,
    )
    click.echo(f"{len(plan.outstanding)} school return(s) outstanding for {plan.round}.")
    for item in plan.reminders:
        to = item.recipient or f"nobody ({item.reason})"
        click.echo(f"  reminder  {item.school}: {item.payload['framework']} -> {to}")
    for school, when in plan.waiting:
        click.echo(f"  waiting   {school.school}: reminded on {uk_date(when)}")
    for item in plan.digests:
        click.echo(
            f"  digest    {item.payload['trust']}: {item.payload['count']} school(s) "
            f"-> {item.recipient}"
        )
    if result is None:
        click.echo("Dry run: nothing was queued or sent.")
        return
    for path in result.written:
        click.echo(f"  wrote {path}")
    click.echo(f"{result.sent} sent, {result.postponed} to try again later, {result.failed} failed")
