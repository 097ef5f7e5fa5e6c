"""School text as cell content: what a spreadsheet would take for a formula, and what a cell can
hold. School text is data, never instructions, in every workbook sheet-tools writes; each writer
(openpyxl for issued workbooks, XlsxWriter for summaries) stores such text as a string with
Excel's quote prefix, so it shows as typed and is never evaluated.
"""

from __future__ import annotations

import re

# What Excel and LibreOffice read as the start of a formula when a person types it.
FORMULA_STARTS = ("=", "+", "-", "@")
# The characters XML 1.0 cannot hold (what openpyxl refuses and Excel cannot open).
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
# Excel's limit on the text of one cell.
EXCEL_TEXT_LIMIT = 32_767


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would read this text, typed into a cell, as a formula."""
    return text.startswith(FORMULA_STARTS)


def clean_text(value: str) -> str:
    """Text a cell can hold: no XML-illegal control characters, within Excel's length limit."""
    return ILLEGAL_CHARACTERS.sub("", value)[:EXCEL_TEXT_LIMIT]
