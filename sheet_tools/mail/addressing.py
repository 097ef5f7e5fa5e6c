"""Who is told what about a return. The school's contact is the roster's ``email`` of the school
the workbook was issued to, found by the URN recorded when it was issued; an address typed inside
a return is never used, so a return cannot send mail anywhere it chooses."""

from __future__ import annotations

from collections.abc import Sequence

from ..base.keys import school_key
from ..definitions.roster import School
from ..problems.report import FileReport
from ..store.facade import Addressee, Store

NOT_ISSUED = "not issued by sheet-tools"
NO_ADDRESS = "no e-mail address on the roster"


def addressees_for(
    report: FileReport, store: Store, roster: Sequence[School] | None
) -> list[Addressee]:
    """The school message a file's outcome calls for: one addressee, perhaps nobody."""
    issue_id = report.issue_id
    issued = store.issued_workbook(issue_id) if issue_id else None
    if issued is None:
        return [Addressee(reason=NOT_ISSUED, school=report.school, urn=report.urn)]
    school = roster_school(roster or (), issued.urn, issued.school)
    address = school.email if school is not None else None
    return [
        Addressee(
            recipient=address,
            reason="" if address else NO_ADDRESS,
            school=issued.school,
            urn=issued.urn,
            issue_id=issued.issue_id,
            round=issued.round,
        )
    ]


def roster_school(roster: Sequence[School], urn: str | None, name: str) -> School | None:
    """The roster's row for an issued workbook's school: by URN, or by name where it had none."""
    if urn:
        return next((school for school in roster if school.urn == urn), None)
    key = school_key(name, None)
    return next((s for s in roster if not s.urn and school_key(s.name, None) == key), None)
