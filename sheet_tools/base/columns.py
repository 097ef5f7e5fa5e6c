"""A1 column letters <-> numbers, as openpyxl's ``openpyxl.utils.cell`` has them.

Why not import openpyxl's: importing ``openpyxl.utils`` loads all of openpyxl (and numpy), half
the start-up of a bounded worker that only guards and reads with python-calamine.
"""

from __future__ import annotations

from functools import cache
from string import ascii_uppercase

_LETTER_VALUE = {letter: index for index, letter in enumerate(ascii_uppercase, start=1)}
MAX_COLUMN = 18278  # ZZZ, the largest three-letter column (what openpyxl accepts)


@cache
def column_index_from_string(column: str) -> int:
    """'A' -> 1, 'AB' -> 28, 'ZZZ' -> 18278; ValueError for anything else."""
    if not 0 < len(column) <= 3:
        raise ValueError(f"'{column}' is not a valid column name. Column names are from A to ZZZ")
    index = 0
    for letter in column.upper():
        value = _LETTER_VALUE.get(letter)
        if value is None:
            raise ValueError(
                f"'{column}' is not a valid column name. Column names are from A to ZZZ"
            )
        index = index * 26 + value
    return index


@cache
def get_column_letter(index: int) -> str:
    """1 -> 'A', 28 -> 'AB', 18278 -> 'ZZZ'; ValueError outside 1..18278."""
    if not 1 <= index <= MAX_COLUMN:
        raise ValueError(f"Invalid column index {index}")
    letters = []
    while index:
        index, remainder = divmod(index - 1, 26)
        letters.append(ascii_uppercase[remainder])
    return "".join(reversed(letters))
