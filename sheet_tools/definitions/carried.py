"""What one round hands to the next: a plain model the generator takes and the store fills.

``generate`` may not read the store (data flows one way), so a later stage (``carry``) builds a
``Carried`` per school from the earlier round's accepted returns and passes it in. Actions are
also what an action plan sheet reads back to, so the model serves both directions.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

# The action plan's status drop-down, in the order work moves through it.
ACTION_STATUSES = ("Not started", "In progress", "Done", "Dropped")
CLOSED_STATUSES = ("Done", "Dropped")
# Extra blank rows at the foot of an action plan for the school's own actions.
EXTRA_ACTION_ROWS = 10


class Action(BaseModel):
    """One row of an action plan: carried from the earlier round or added by the school."""

    id: str  # the row's id in column A: "A01"... carried, "S01"... the school's own
    action: str
    area: str = ""
    owner: str = ""
    due: date | None = None
    status: str = ""  # one of ACTION_STATUSES, or "" when not set
    note: str = ""

    @property
    def carried(self) -> bool:
        return self.id.startswith("A")

    def overdue(self, today: date) -> bool:
        """Past its due date and neither Done nor Dropped."""
        return self.due is not None and self.due < today and self.status not in CLOSED_STATUSES


class Noted(BaseModel):
    """A text of the earlier round shown for context, never read back as an action: an area
    for development describes a problem, not what will be done about it."""

    area: str
    text: str
    by: str  # who wrote it: "Reviewer" or "School"


class Carried(BaseModel):
    """What a school's workbook for the next round starts from."""

    round: str  # the earlier round carried from
    # statement id -> the earlier round's level code (the reviewer's where there was one)
    levels: dict[str, str] = Field(default_factory=dict)
    # statement id -> whose that level is ("Reviewer" or "School"); empty: not said
    level_by: dict[str, str] = Field(default_factory=dict)
    # cover field id -> the earlier return's answer (personnel involved)
    cover: dict[str, str] = Field(default_factory=dict)
    actions: list[Action] = Field(default_factory=list)
    # False for a form without actions (a report, a visit): no Action plan sheet
    action_plan: bool = True
    # the earlier round's areas for development, shown under the Action plan for context
    noted: list[Noted] = Field(default_factory=list)

    def level_owner(self) -> str | None:
        """The one role every carried level is from, or None when they are mixed or unsaid."""
        owners = {self.level_by.get(sid, "") for sid in self.levels}
        return owners.pop() if len(owners) == 1 and "" not in owners else None
