"""An administrator's corrections: list the stored returns, withdraw one, restore it.

A withdrawn return counts for nothing (the return it superseded counts again) but stays in the
database; who withdrew or restored it, when and why shows in the school's Provenance sheet.
Withdrawing or restoring rebuilds the summaries it touches, so the outbox matches at once.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from ..base.keys import name_key, trust_key
from ..base.workspace import Workspace
from ..definitions.frameworks import Registry
from ..definitions.roster import School, workspace_roster
from ..definitions.rounds import clean_round, judge_label
from ..exceptions import StoreError
from ..store import ledger
from ..store.facade import Store, StoredReturn
from ..store.ledger import Corrected, ledger_path
from ..summarise import summarise_affected
from .config import load_rounds


class ReturnRow(BaseModel):
    """One stored return as ``sheet-tools returns list`` shows it."""

    id: int
    status: str  # current, superseded or withdrawn
    round: str
    school: str
    urn: str | None
    trust: str | None
    template: str
    judge: str
    review_date: str
    file_name: str
    arrived_at: str

    def line(self) -> str:
        who = self.school + (f" ({self.urn})" if self.urn else "")
        return (
            f"{self.id:>5}  {self.status:<10}  {self.round:<12}  {who}  [{self.trust or '-'}]  "
            f"{self.template}  {judge_label(self.judge)}  {self.review_date}  {self.file_name}"
        )


def _status(stored: StoredReturn) -> str:
    if stored.withdrawn:
        return "withdrawn"
    return "superseded" if stored.superseded else "current"


def list_returns(
    store: Store,
    *,
    school: str | None = None,
    trust: str | None = None,
    round_name: str | None = None,
) -> list[ReturnRow]:
    """Every stored return, oldest first; ``school`` matches a URN or part of a name."""
    found = store.returns(
        trust=trust,
        round=clean_round(round_name) if round_name else None,
        include_superseded=True,
        include_withdrawn=True,
        contents=False,
    )
    if school:
        wanted = name_key(school)
        found = [r for r in found if r.urn == school.strip() or wanted in name_key(r.school)]
    return [
        ReturnRow(
            id=r.id,
            status=_status(r),
            round=r.round,
            school=r.school,
            urn=r.urn,
            trust=r.trust,
            template=r.template_id,
            judge=r.judge,
            review_date=r.review_date.isoformat(),
            file_name=r.file_name,
            arrived_at=r.arrived_at.isoformat(),
        )
        for r in found
    ]


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        return "unknown"


def correct_return(
    store: Store,
    registry: Registry,
    outbox: Path,
    return_id: int,
    *,
    withdraw: bool,
    reason: str,
    roster: Sequence[School] | None = None,
    by_whom: str | None = None,
    current_round: str | None = None,
    ledger_file: Path | None = None,
) -> tuple[StoredReturn, list[Path]]:
    """Withdraw (or restore) one return and rebuild what it touches; returns the return and the
    summary files written. ``ledger_file``: the workspace's ledger, told of the correction."""
    before = store.get_return(return_id)
    if before is None:
        raise StoreError(f"there is no return {return_id}; see sheet-tools returns list")
    action = store.withdraw if withdraw else store.restore
    after = action(return_id, reason, by_whom or _who())
    if ledger_file is not None:
        done = store.corrections([return_id])[-1]
        said = {"reason": done.reason, "by_whom": done.by_whom, "at": done.at}
        ledger.append(ledger_file, Corrected(kind=done.action, sha256=after.sha256, **said))
    affected = {(after.template_id, after.school_key, after.trust)}
    for listed in roster or ():
        if trust_key(listed.trust) and listed.urn == after.urn:
            affected.add((after.template_id, after.school_key, listed.trust))
    written = summarise_affected(
        store, registry, outbox, affected, roster=roster, current_round=current_round
    )
    return after, written


def _store_of(workspace: Workspace) -> Store:
    """The workspace's store, which must exist: asking about returns never creates one."""
    if not workspace.database.is_file():
        raise StoreError(f"no returns database at {workspace.database}")
    return Store(workspace.database)


def list_returns_in(
    workspace: Workspace,
    *,
    school: str | None = None,
    trust: str | None = None,
    round_name: str | None = None,
) -> list[ReturnRow]:
    """``sheet-tools returns list``: ``list_returns`` of the workspace's store."""
    with _store_of(workspace) as store:
        return list_returns(store, school=school, trust=trust, round_name=round_name)


def correct_return_in(
    workspace: Workspace, registry: Registry, return_id: int, *, withdraw: bool, reason: str
) -> tuple[StoredReturn, list[Path]]:
    """``sheet-tools returns withdraw|restore``: ``correct_return`` in the workspace's store,
    rebuilding its outbox with the workspace's roster."""
    roster = workspace_roster(workspace.root)
    with _store_of(workspace) as store:
        return correct_return(
            store,
            registry,
            workspace.outbox,
            return_id,
            withdraw=withdraw,
            reason=reason,
            roster=roster,
            current_round=load_rounds(workspace.root).current,
            ledger_file=ledger_path(workspace.archive),
        )
