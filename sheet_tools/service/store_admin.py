"""``sheet-tools store backup`` and ``store rebuild``: what an administrator does for the database.

A backup is SQLite's online backup of the running store into a new file that then replaces the
target, so a scheduled task can write the same name every night and a copy is never half-written.
A rebuild replays the ledger in ``archive/`` (``store.ledger``) against the originals in
``archive/`` and ``rejected/``: each accepted return is checked again from its original, stored
in the order first stored (so the same returns supersede the same ones), with its arrival time,
its withdrawals and restorations, and the workbooks issued. It queues no mail (the schools were
told the first time) and writes into a new file put in place only when complete.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..base.files import sha256_file
from ..base.workspace import Workspace
from ..definitions.frameworks import Registry
from ..definitions.roster import School, workspace_roster
from ..exceptions import StoreError
from ..intake.identity import Known
from ..intake.worker import check_bounded, using
from ..store import ledger
from ..store.facade import Store
from ..store.ledger import Corrected, Filed, Issued, ledger_path
from .config import load_limits
from .ingest import ATTEMPTS


def backup_store(workspace: Workspace, target: Path) -> int:
    """A consistent copy of the workspace's database at ``target``; returns the returns held."""
    if not workspace.database.is_file():
        raise StoreError(f"no returns database at {workspace.database}")
    target = Path(target)
    if target.resolve() == workspace.database.resolve():
        raise StoreError("the backup must be another file than the database itself")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    with Store(workspace.database) as store:
        store.backup(partial)
        held = len(store.returns(include_superseded=True, include_withdrawn=True, contents=False))
    os.replace(partial, target)
    return held


@dataclass
class Rebuilt:
    """What ``rebuild_store`` replayed, and what it could not."""

    filed: dict[str, int] = field(default_factory=dict)  # by outcome
    corrections: int = 0
    issued: int = 0
    missing: list[str] = field(default_factory=list)  # originals gone or changed
    differed: list[str] = field(default_factory=list)  # accepted then, not when checked again
    unreadable_lines: int = 0


def rebuild_store(workspace: Workspace, registry: Registry) -> Rebuilt:
    """Make the workspace's database again from the ledger and the originals."""
    database = workspace.database
    if database.exists():
        raise StoreError(
            f"a database is already at {database}: a rebuild only replaces a lost one (move "
            "that file aside first, with the service stopped)"
        )
    journal = ledger_path(workspace.archive)
    if not journal.is_file():
        raise StoreError(f"no ledger at {journal}: the store cannot be rebuilt without it")
    entries, torn = ledger.read(journal)
    for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)  # a lost database's log must not meet the new file
    building = database.with_name(f".{database.name}.rebuilding")
    for stale in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        stale.unlink(missing_ok=True)
    result = Rebuilt(unreadable_lines=torn)
    limits = load_limits(workspace.root)
    try:
        with (
            Store(building) as store,
            using(limits=limits.worker(), guard_limits=limits.guard()),
        ):
            _replay(entries, workspace, registry, store, result)
        os.replace(building, database)
    finally:
        for stale in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
            with contextlib.suppress(OSError):
                stale.unlink()
    return result


def _replay(
    entries: list[Filed | Corrected | Issued],
    workspace: Workspace,
    registry: Registry,
    store: Store,
    result: Rebuilt,
) -> None:
    roster = list(workspace_roster(workspace.root) or ())
    replayed: set[tuple[str, str]] = set()
    for entry in entries:
        if isinstance(entry, Issued):
            result.issued += store.record_issued([entry.workbook])
        elif isinstance(entry, Corrected):
            stored = store.find_return(entry.sha256)
            if stored is not None:
                action = store.withdraw if entry.kind == "withdraw" else store.restore
                action(stored.id, entry.reason, entry.by_whom, entry.at)
                result.corrections += 1
        elif (entry.sha256, entry.place) not in replayed:
            replayed.add((entry.sha256, entry.place))
            _refile(entry, workspace, registry, store, roster, result)


def _refile(
    entry: Filed,
    workspace: Workspace,
    registry: Registry,
    store: Store,
    roster: list[School],
    result: Rebuilt,
) -> None:
    original = workspace.root / entry.place
    try:
        same = sha256_file(original) == entry.sha256
    except OSError:
        same = False
    if not same:
        result.missing.append(entry.place)
        return
    report, valid = entry.report, None
    if entry.status == "accepted":
        known = Known(roster=roster, trusts=store.trusts(), today=entry.arrived_at.date())
        marker = workspace.temp / ATTEMPTS / entry.sha256
        report, valid = check_bounded(original, registry, marker, entry.sha256, known=known)
        report = report.model_copy(update={"file": entry.file_name, "sha256": entry.sha256})
        if report.status != "accepted" or valid is None:
            result.differed.append(entry.place)
    event = store.record(
        report,
        sha256=entry.sha256,
        file_name=entry.file_name,
        arrived_at=entry.arrived_at,
        destination=entry.place,
        valid=valid,
    )
    store.finish_event(event.id)
    result.filed[event.status] = result.filed.get(event.status, 0) + 1
