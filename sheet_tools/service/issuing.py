"""Generating workbooks into a workspace: each workbook issued is recorded in the store (issue
id, school, trust, framework, round, role, when), so the chase list is "issued and not
returned" and a round is known before its first return arrives. Without a workspace, generating
writes the workbooks and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from ..base.clock import utc_now
from ..base.workspace import Workspace
from ..definitions.carried import Carried
from ..definitions.frameworks import Framework
from ..definitions.roster import School
from ..definitions.rounds import Judge
from ..generate.issue import Issued
from ..generate.workbook import generate_batch
from ..store.facade import IssuedWorkbook, Store

# A folder is a workspace when it holds either of these (one made by hand, before `init`, has
# only its database).
WORKSPACE_MARKS = ("sheet-tools.db", "sheet-tools.toml")


def is_workspace(root: Path) -> bool:
    return any((root / mark).is_file() for mark in WORKSPACE_MARKS)


def issuing_workspace(root: Path, *, given: bool, roster: bool) -> Workspace | None:
    """Where issued workbooks are recorded: the ``--workspace`` given, or for a roster the
    current folder when it is a workspace; None records nothing."""
    if given or (roster and is_workspace(root)):
        return Workspace.at(root)
    return None


def generate_issued(
    framework: Framework,
    schools: Iterable[School],
    out_dir: Path,
    *,
    workspace: Workspace | None,
    force: bool = False,
    round_name: str | None = None,
    judge: Judge | None = None,
    carried: Mapping[str, Carried] | None = None,
    progress: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write a workbook per school (``generate_batch``) and, in a workspace, record each one
    written, even when a later one fails. The store is opened first, so a workspace whose
    database cannot be used stops before any workbook is written."""
    if workspace is None:
        return generate_batch(
            framework, schools, out_dir, force=force, progress=progress,
            round_name=round_name, judge=judge, carried=carried,
        )  # fmt: skip
    with Store(workspace.database) as store:
        issued: list[IssuedWorkbook] = []

        def note(school: School, issue: Issued) -> None:
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
            return generate_batch(
                framework, schools, out_dir, force=force, progress=progress,
                round_name=round_name, judge=judge, carried=carried, on_issue=note,
            )  # fmt: skip
        finally:
            if issued:
                store.record_issued(issued)
