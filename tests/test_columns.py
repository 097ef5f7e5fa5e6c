"""Column letters agree with openpyxl's own, for every column openpyxl accepts."""

from __future__ import annotations

import pytest
from openpyxl.utils import cell as openpyxl_cell

from sheet_tools.base.columns import MAX_COLUMN, column_index_from_string, get_column_letter


def test_every_column_agrees_with_openpyxl() -> None:
    for index in range(1, MAX_COLUMN + 1):
        letters = openpyxl_cell.get_column_letter(index)
        assert get_column_letter(index) == letters
        assert column_index_from_string(letters) == index
        assert column_index_from_string(letters.lower()) == index


@pytest.mark.parametrize("bad", ["", "AAAA", "A1", "É", "-"])
def test_bad_column_names_are_refused_like_openpyxl(bad: str) -> None:
    with pytest.raises(ValueError):
        openpyxl_cell.column_index_from_string(bad)
    with pytest.raises(ValueError):
        column_index_from_string(bad)


@pytest.mark.parametrize("bad", [0, -1, MAX_COLUMN + 1])
def test_bad_column_numbers_are_refused_like_openpyxl(bad: int) -> None:
    with pytest.raises(ValueError):
        openpyxl_cell.get_column_letter(bad)
    with pytest.raises(ValueError):
        get_column_letter(bad)
