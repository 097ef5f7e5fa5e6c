"""``sheet-tools mail send|status|retry|prune|remind``: the library functions behind the commands,
each opening the workspace's store and ``[mail]`` settings."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

from ..base.clock import utc_now
from ..base.workspace import Workspace
from ..definitions.frameworks import Registry
from ..definitions.roster import workspace_roster
from ..exceptions import SheetToolsError
from ..mail.reminders import ReminderPlan, plan_reminders, queue_reminders
from ..mail.sender import MAIL_FOLDER, SendResult, send_due
from ..store.facade import QueuedMail, Store
from .config import load_mail_settings


class MailError(SheetToolsError):
    """A mail command that cannot do what was asked (an unknown message id)."""


def send_queued(workspace: Workspace, registry: Registry | None = None) -> SendResult:
    """Send what is queued and due, then return (``sheet-tools mail send``)."""
    settings = load_mail_settings(workspace.root)
    with Store(workspace.database) as store:
        return send_due(store, workspace.root, settings, registry)


def mail_status(workspace: Workspace) -> list[QueuedMail]:
    """Every message queued, sent, failed or not told, oldest first, with its reason."""
    with Store(workspace.database) as store:
        return store.mail.select()


def retry_mail(workspace: Workspace, mail_id: int) -> QueuedMail:
    """Queue a failed message again, with the Message-ID it was given."""
    with Store(workspace.database) as store:
        if not store.mail.requeue(mail_id):
            found = store.mail.get(mail_id)
            if found is None:
                raise MailError(f"there is no message {mail_id} (see sheet-tools mail status)")
            raise MailError(f"message {mail_id} is {found.status}, not failed: nothing to retry")
        found = store.mail.get(mail_id)
        assert found is not None
        return found


def prune_mail(workspace: Workspace, days: int) -> tuple[int, int]:
    """Forget messages handled more than ``days`` ago and delete ``.eml`` files that old (they
    hold school data); (rows forgotten, files deleted)."""
    before = utc_now() - timedelta(days=days)
    interval = timedelta(days=load_mail_settings(workspace.root).remind_every_days)
    with Store(workspace.database) as store:
        gone = store.mail.prune(before, reminders_before=min(before, utc_now() - interval))
    deleted = 0
    folder = workspace.root / MAIL_FOLDER
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else ():
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < before.timestamp():
                path.unlink()
                deleted += 1
    return len(gone), deleted


def mail_folder(root: Path) -> Path:
    return root / MAIL_FOLDER


def remind(
    workspace: Workspace,
    registry: Registry,
    round_name: str,
    *,
    template: str | None = None,
    dry_run: bool = False,
) -> tuple[ReminderPlan, SendResult | None]:
    """Queue the reminders and digests due for a round and send what is due (``sheet-tools mail
    remind``); with ``dry_run`` only the plan: nothing is queued or sent."""
    settings = load_mail_settings(workspace.root)
    if template is not None:
        registry.require(template)
    with Store(workspace.database) as store:
        plan = plan_reminders(
            store, registry, workspace_roster(workspace.root), round_name, settings,
            template=template,
        )  # fmt: skip
        if dry_run:
            return plan, None
        queue_reminders(store, plan)
        return plan, send_due(store, workspace.root, settings, registry)
