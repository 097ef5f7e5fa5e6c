"""Fill generated workbooks as a school would, with openpyxl: the test corpus's valid returns."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from openpyxl import load_workbook

from sheet_tools import layout
from sheet_tools.frameworks import Framework
from sheet_tools.generate import School, generate_workbook


def find_row(ws, item_id: str) -> int:
    for row in range(1, ws.max_row + 1):
        if ws.cell(row=row, column=layout.ID_COL).value == item_id:
            return row
    raise KeyError(item_id)


def fill_workbook(
    path: Path,
    framework: Framework,
    *,
    judgements: dict[str, object] | None = None,
    texts: dict[str, str] | None = None,
    cover: dict[str, object] | None = None,
    out: Path | None = None,
) -> Path:
    """Write answers into a generated workbook by id and save it (in place unless ``out``).

    ``judgements``: statement id -> value typed in the judgement cell ("Secure", "sec", ...).
    ``texts``: box id, or "<statement id>.<column id>" -> text. ``cover``: field id -> value.
    """
    book = load_workbook(path)
    sheets = {s.id: book[s.sheet_name] for s in framework.sheets}
    owner = {st.id: sh for sh, st in framework.statements()}
    box_owner = {b.id: sh for sh in framework.sheets for b in sh.boxes}
    ws_cover = book[layout.COVER_SHEET]
    for field_id, value in (cover or {}).items():
        ws_cover.cell(row=find_row(ws_cover, field_id), column=layout.COVER_VALUE_COL, value=value)
    for statement_id, value in (judgements or {}).items():
        ws = sheets[owner[statement_id].id]
        ws.cell(row=find_row(ws, statement_id), column=layout.JUDGEMENT_COL, value=value)
    for key, value in (texts or {}).items():
        if key in box_owner:
            ws = sheets[box_owner[key].id]
            ws.cell(row=find_row(ws, key), column=layout.BOX_VALUE_COL, value=value)
            continue
        statement_id, column_id = key.rsplit(".", 1)
        sheet = owner[statement_id]
        offset = [c.id for c in sheet.columns].index(column_id)
        ws = sheets[sheet.id]
        ws.cell(
            row=find_row(ws, statement_id),
            column=layout.first_text_column(sheet.judged) + offset,
            value=value,
        )
    target = out or path
    book.save(target)
    return target


def random_answers(framework: Framework, seed: int) -> dict[str, dict[str, object]]:
    """A plausible, complete set of answers: every statement judged, every box written."""
    rng = random.Random(seed)
    labels = [level.label for level in framework.scale]
    judgements = {st.id: rng.choice(labels) for _, st in framework.judged_statements()}
    texts = {
        box.id: f"{box.label}: point {rng.randint(1, 99)} agreed by leaders."
        for sheet in framework.sheets
        for box in sheet.boxes
    }
    return {
        "judgements": judgements,
        "texts": texts,
        "cover": {
            "review_date": date(2026, 10, 3),
            "judge": "Self-evaluation",
            "personnel": "SENCO; deputy head",
        },
    }


def make_return(
    framework: Framework,
    folder: Path,
    school: School,
    *,
    seed: int = 1,
    **overrides: dict[str, object],
) -> Path:
    """Generate a workbook for ``school`` and fill it completely; ``overrides`` replace parts
    of the random answers (judgements=..., texts=..., cover=...)."""
    path = generate_workbook(framework, school, folder, force=True)
    answers = random_answers(framework, seed)
    for part, values in overrides.items():
        answers[part] = {**answers[part], **values}
    cover_ids = {f.id for f in framework.cover}
    answers["cover"] = {k: v for k, v in answers["cover"].items() if k in cover_ids}
    return fill_workbook(path, framework, **answers)  # type: ignore[arg-type]
