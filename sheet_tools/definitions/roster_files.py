"""Reading a roster file as administrators really have one: CSV saved by Excel on Windows
(Windows-1252, CRLF), "Unicode text" (UTF-16, tab-separated), UTF-8 with or without a BOM, an
XLSX, or the DfE register's own extract (Get Information About Schools, ``edubasealldata*.csv``)
with its quoted column names. Rows are streamed: a whole register extract (about 50,000 rows and
hundreds of columns) is read with flat memory, keeping only the columns a roster needs.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..base.keys import squash
from ..exceptions import RosterError

# What each roster column may be called, compared ignoring case and spacing: our own names, then
# the register's. A maintained school has no trust: its group is its local authority, named as
# the register names it ("Bristol, City of").
ALIASES: dict[str, tuple[str, ...]] = {
    "school": ("school", "school name", "name", "establishmentname", "establishment name"),
    "urn": ("urn", "unique reference number"),
    "trust": ("trust", "trust name", "trusts (name)", "multi-academy trust"),
    "la": ("la", "la (name)", "local authority", "local authority name"),
    "status": ("status", "establishmentstatus (name)", "establishment status"),
    "email": ("email", "school email", "contact email"),
    "trust_email": ("trust_email", "trust email"),
    "frameworks": ("frameworks", "framework", "templates"),
    "type": ("typeofestablishment (name)", "type of establishment", "establishment type"),
}
SNIFF_BYTES = 64 * 1024
_WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".ods", ".xls"}


def roster_rows(path: Path) -> tuple[dict[str, int], list[str], Iterator[list[object]]]:
    """The roster's columns (our name -> index), the header as found, and its data rows."""
    rows = _workbook_rows(path) if path.suffix.lower() in _WORKBOOK_SUFFIXES else _csv_rows(path)
    header = next(rows, None)
    if header is None:
        raise RosterError(f"{path.name}: the roster is empty")
    found = [" ".join(str(cell or "").split()) for cell in header]
    return match_columns(found), found, rows


def match_columns(header: list[str]) -> dict[str, int]:
    """Our column name -> its index, for each header cell that names one (first match wins)."""
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        typed = squash(name.lstrip("\ufeff"))
        for column, names in ALIASES.items():
            if typed in names and column not in index:
                index[column] = position
    return index


def _workbook_rows(path: Path) -> Iterator[list[object]]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except OSError:
        raise
    except (CalamineError, ValueError) as exc:
        raise RosterError(f"{path.name}: the roster cannot be read as a workbook ({exc})") from None
    return iter(rows)


def detect_encoding(path: Path) -> str:
    """The text encoding of a CSV roster: UTF-8 or UTF-16 by their byte-order mark, else UTF-8
    if every byte decodes as UTF-8, else Windows-1252 (what Excel on Windows saves "CSV" as) if
    every byte decodes as that. Anything else is refused rather than guessed."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
        if head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        elif head[:4] == b"PK\x03\x04" or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise RosterError(
                f"{path.name}: the roster is a spreadsheet workbook, not CSV text: "
                "save it with an .xlsx name (or as CSV) and try again"
            )
        else:
            encoding = "utf-8"
        if b"\x00" in head:
            raise RosterError(_not_text(path))
        handle.seek(0)
        if _decodes(handle, encoding):
            return encoding
        handle.seek(0)
        if _decodes(handle, "cp1252"):
            return "cp1252"
    raise RosterError(_not_text(path))


def _not_text(path: Path) -> str:
    return (
        f"{path.name}: the roster is not text in a known encoding (UTF-8, UTF-16 or "
        "Windows-1252): save it from Excel as CSV UTF-8 or as an Excel workbook"
    )


def _decodes(handle: BinaryIO, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for block in iter(lambda: handle.read(1 << 20), b""):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _csv_rows(path: Path) -> Iterator[list[object]]:
    encoding = detect_encoding(path)
    handle = path.open(newline="", encoding=encoding)
    try:
        first = handle.readline()
        handle.seek(0)
        # Excel's "Unicode text" is tab-separated, and some locales' CSV uses ";": the header
        # line's most frequent separator outside quotes decides
        unquoted = first.split('"')[::2]
        delimiter = max(",\t;", key=lambda d: sum(part.count(d) for part in unquoted))
        yield from csv.reader(handle, csv.excel, delimiter=delimiter)
    except csv.Error as exc:
        raise RosterError(f"{path.name}: the roster is not valid CSV ({exc})") from None
    finally:
        handle.close()
