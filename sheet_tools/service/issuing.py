"""Recording what a workspace issues: each workbook generated into it (issue id, school, trust,
framework, round, role, when) goes in the store, so the chase list is "issued and not returned"
and a round is known before its first return arrives. Without a workspace, generating writes
the workbooks and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from ..base.clock import utc_now
from ..base.workspace import Workspace
from ..definitions.frameworks import Framework
from ..definitions.roster import School
from ..store.facade import IssuedWorkbook, Store

# A folder is a workspace when it holds either of these (one made by hand, before `init`, has
# only its database).
WORKSPACE_MARKS = ("sheet-tools.db", "sheet-tools.toml")


class IssueLike(Protocol):
    """What a workbook was issued for (``generate.issue.Issued``)."""

    issue_id: str
    round: str
    judge: str | None


Note = Callable[[School, IssueLike], None]


def is_workspace(root: Path) -> bool:
    return any((root / mark).is_file() for mark in WORKSPACE_MARKS)


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
