"""A carried-forward workbook's Action plan read back as a person sees it: the action rows (by
their ids in column A) and the locked block of areas for development noted for context under
them. Shared by the carry-forward tests and the whole Diagnostic Review test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from sheet_tools.definitions import cell_layout

NOTED_HEADING = "Areas for development noted in"


@dataclass(frozen=True)
class Plan:
    # (id, action, area) of every carried row ("A01"...), in order
    actions: list[tuple[str, str, str]]
    # (text, area, noted by) of every area for development shown for context
    noted: list[tuple[str, str, str]]
    heading: str | None  # the context block's heading, None without one

    def action_texts(self) -> list[str]:
        return [action for _, action, _ in self.actions]


def plan_of(path: Path) -> Plan:
    """The Action plan of a generated workbook (which must have one)."""
    ws = load_workbook(path)[cell_layout.ACTION_SHEET]
    rows = list(ws.iter_rows(min_row=cell_layout.FIRST_ROW, max_col=4, values_only=True))
    actions = [
        (str(row[0]), str(row[1]), str(row[2] or ""))
        for row in rows
        if row[0] and str(row[0]).startswith("A")
    ]
    heading = next(
        (i for i, row in enumerate(rows) if str(row[1] or "").startswith(NOTED_HEADING)), None
    )
    if heading is None:
        return Plan(actions, [], None)
    noted = [(str(row[1]), str(row[2]), str(row[3])) for row in rows[heading + 2 :] if row[1]]
    return Plan(actions, noted, str(rows[heading][1]))
