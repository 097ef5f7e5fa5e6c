"""Issuing workbooks (``sheet-tools generate``), and recording what a workspace issues: each
workbook generated into it (issue id, school, trust, framework, round, role, when) goes in the
store, so the chase list is "issued and not returned" and a round is known before its first
return arrives. Without a workspace, generating writes the workbooks and nothing else. This is
the one service module that uses the generator: the watcher and ingest never do."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from ..base.clock import utc_now
from ..base.workspace import Workspace, is_workspace, require_workspace
from ..definitions.frameworks import Framework, Registry
from ..definitions.roster import School
from ..definitions.rounds import Judge
from ..exceptions import GenerateError
from ..generate.workbook import generate_batch, issue_for
from ..store import ledger
from ..store.facade import IssuedWorkbook, Store
from ..store.ledger import Issued, ledger_path
from .carry import carried_in_workspace
from .setup import round_to_issue


class IssueLike(Protocol):
    """What a workbook was issued for (``generate.issue.Issued``)."""

    issue_id: str
    round: str
    judge: str | None


Note = Callable[[School, IssueLike], None]


def issuing_workspace(root: Path, *, given: bool, roster: bool) -> Workspace | None:
    """Where issued workbooks are recorded: the ``--workspace`` given, or for a roster the
    current folder when it is a workspace; None records nothing."""
    if given or (roster and is_workspace(root)):
        return Workspace.at(root)
    return None


@contextmanager
def recording_issues(workspace: Workspace | None, framework: Framework) -> Iterator[Note | None]:
    """A note to pass the generator (``on_issue``) that records each workbook it writes in the
    workspace's store, even when a later one fails; None without a workspace. The store is
    opened first, so a database that cannot be used stops generating before any workbook."""
    if workspace is None:
        yield None
        return
    with Store(workspace.database) as store:
        issued: list[IssuedWorkbook] = []

        def note(school: School, issue: IssueLike) -> None:
            issued.append(
                IssuedWorkbook(
                    issue_id=issue.issue_id,
                    template_id=framework.id,
                    template_version=framework.version,
                    school=school.name,
                    urn=school.urn,
                    trust=school.trust,
                    round=issue.round,
                    judge=issue.judge,
                    issued_at=utc_now(),
                )
            )

        try:
            yield note
        finally:
            if issued:
                store.record_issued(issued)
                ledger.append(
                    ledger_path(workspace.archive), *(Issued(workbook=item) for item in issued)
                )


@dataclass(frozen=True)
class Issue:
    """What ``issue_workbooks`` wrote: the workbooks, how many schools started from an earlier
    round (None: not asked), why each other school did not (by name), whether an action plan
    was carried (False: a form without actions carried its cover only), the database the
    workbooks were recorded in (None: none), and how many roster schools take other forms."""

    written: list[Path]
    carried: int | None
    recorded: Path | None
    not_carried: dict[str, str] = field(default_factory=dict)
    plan: bool = True
    left_out: int = 0  # roster schools that take other forms, so were issued nothing


def issue_workbooks(
    framework: Framework,
    registry: Registry,
    schools: Sequence[School],
    out_dir: Path,
    *,
    workspace: Path,
    workspace_given: bool,
    from_roster: bool,
    round_name: str | None = None,
    judge: Judge | None = None,
    visit_date: date | None = None,
    carry_forward: bool = False,
    from_round: str | None = None,
    force: bool = False,
    progress: Callable[[Path], None] | None = None,
) -> Issue:
    """``generate``: the round checked, what is carried forward read from the workspace, the
    workbooks written, and each recorded as issued where there is a workspace to record it."""
    if carry_forward or workspace_given:
        require_workspace(workspace)
    listed = len(schools)
    if from_roster:
        schools = schools_taking(framework, schools)
        if listed and not schools:
            raise GenerateError(
                f"no school on the roster takes {framework.id} (the roster's frameworks column, "
                "or the register's type of establishment, gives each school its forms)"
            )
    round_name = round_to_issue(round_name, workspace)
    carry = None
    if carry_forward:
        round_issued = issue_for(framework, round_name, judge).round
        carry = carried_in_workspace(
            Workspace.at(workspace), registry, framework, schools, round_issued,
            from_round=from_round, judge=judge,
        )  # fmt: skip
    carried = carry.carried if carry is not None else None
    recorded = issuing_workspace(workspace, given=workspace_given, roster=from_roster)
    with recording_issues(recorded, framework) as note:
        written = generate_batch(
            framework, schools, out_dir, force=force, progress=progress, round_name=round_name,
            judge=judge, visit_date=visit_date, carried=carried, on_issue=note,
        )  # fmt: skip
    return Issue(
        written=written,
        carried=None if carry is None else len(carry.carried),
        recorded=recorded.database if recorded is not None else None,
        not_carried=carry.not_carried if carry is not None else {},
        plan=carry.plan if carry is not None else True,
        left_out=listed - len(schools),
    )


def schools_taking(framework: Framework, schools: Sequence[School]) -> list[School]:
    """The roster's schools a framework applies to (``School.takes``): a special school is not
    issued the mainstream self-evaluation, nor a mainstream school the specialist one."""
    return [school for school in schools if school.takes(framework.id)]
