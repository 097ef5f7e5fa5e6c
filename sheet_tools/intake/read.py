"""Returned workbook -> raw cell values keyed by id (fast reader, no validation of content).

Identity comes from the workbook's own cells (the About sheet's key/value rows and the ids in
column A of every sheet), never from the file name, sheet visibility or document properties.
Answers are matched to statements by id, never by row position, so sorted rows and inserted rows
still read. Cached values are read; formulas are never evaluated. The reader is python-calamine
(about 25 times faster than openpyxl, and it reads .ods and Excel 97-2003 .xls too), and it only
ever sees bytes that ``guard`` has checked: never an unguarded file.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time, timedelta
from io import BytesIO
from pathlib import Path
from xml.parsers import expat

from pydantic import BaseModel, ConfigDict, Field
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

from ..base.columns import get_column_letter
from ..definitions import cell_layout
from ..definitions.frameworks import Framework, Registry, Sheet
from ..problems.report import Issue, has_errors
from .guard import Guarded, guard_file

CellValue = str | int | float | bool | date | datetime | time | timedelta | None

Rows = list[list[object]]


class RawCell(BaseModel):
    """A value as found, with where it was found (for error messages)."""

    model_config = ConfigDict(frozen=True)

    sheet: str
    cell: str  # A1 reference, e.g. "C12"
    value: CellValue = None
    formula: bool = False  # the cell holds a formula; value is its cached result


class RawAction(BaseModel):
    """One action plan row: its id and the cells of each column (cell_layout.ACTION_COLS keys)."""

    id: str
    cells: dict[str, RawCell]


class RawReturn(BaseModel):
    """Everything read from a return, before any judgement about its content."""

    template_id: str
    template_version: str
    macro_enabled: bool = False
    # cover field id -> value
    cover: dict[str, RawCell] = Field(default_factory=dict)
    # statement id -> the judgement cell (judged sheets only)
    judgements: dict[str, RawCell] = Field(default_factory=dict)
    # "<statement id>.<column id>" for text columns beside statements, "<box id>" for boxes
    texts: dict[str, RawCell] = Field(default_factory=dict)
    # what the workbook was issued for (About sheet): issue id, round, school, urn, trust, role;
    # only the keys present and non-blank (a workbook from before rounds has none of them)
    issued: dict[str, str] = Field(default_factory=dict)
    # a carried-forward workbook's action plan: one row per id in column A (None: no plan)
    actions: list[RawAction] | None = None


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _version_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value).strip() if value not in (None, "") else ""


class _Book:
    """One open workbook; each sheet is converted to Python at most once."""

    def __init__(self, workbook: CalamineWorkbook) -> None:
        self.workbook = workbook
        # Worksheets only: a chart sheet a school added has no cells to read.
        self.names: list[str] = [
            meta.name for meta in workbook.sheets_metadata if meta.typ == SheetTypeEnum.WorkSheet
        ]
        self._rows: dict[str, Rows] = {}

    def rows(self, name: str) -> Rows:
        if name not in self._rows:
            sheet = self.workbook.get_sheet_by_name(name)
            self._rows[name] = sheet.to_python(skip_empty_area=False)
        return self._rows[name]

    def a1(self, name: str) -> str:
        rows = self.rows(name)
        return _text(rows[0][0]) if rows and rows[0] else ""

    def column_a(self, name: str) -> dict[str, list[int]]:
        """id -> every 0-based row index holding it in column A."""
        found: dict[str, list[int]] = {}
        for index, row in enumerate(self.rows(name)):
            key = _text(row[0]) if row else ""
            if key:
                found.setdefault(key, []).append(index)
        return found


def _about(book: _Book) -> tuple[str, dict[str, object]] | None:
    """The sheet holding the identity rows (the About sheet, even if renamed) and its keys."""
    candidates = [cell_layout.ABOUT_SHEET] if cell_layout.ABOUT_SHEET in book.names else []
    candidates += [n for n in reversed(book.names) if n != cell_layout.ABOUT_SHEET]
    for name in candidates:
        rows = book.rows(name)
        keys = {_text(row[0]): row[1] if len(row) > 1 else None for row in rows if row}
        if cell_layout.MARKER in keys and cell_layout.KEY_TEMPLATE in keys:
            return name, keys
    return None


_Identity = tuple[Framework | None, str | None, dict[str, object], list[Issue]]


def _identify(book: _Book, registry: Registry) -> _Identity:
    """The form and version a workbook was made from, from its About sheet's key/value rows."""
    found = _about(book)
    if found is None:
        return (
            None,
            None,
            {},
            [Issue.of("unknown-template")],
        )
    about_sheet, keys = found
    template_id = _text(keys.get(cell_layout.KEY_TEMPLATE))
    version = _version_text(keys.get(cell_layout.KEY_VERSION))
    versions = registry.versions(template_id)
    if not versions:
        return (
            None,
            about_sheet,
            keys,
            [
                Issue.of(
                    "unknown-template",
                    variant="unknown-form",
                    sheet=about_sheet,
                    cell="B2",
                    value=template_id,
                )
            ],
        )
    framework = registry.get(template_id, version)
    if framework is None:
        latest = registry.latest(template_id)
        return (
            None,
            about_sheet,
            keys,
            [
                Issue.of(
                    "unknown-version",
                    sheet=about_sheet,
                    cell="B3",
                    value=version,
                    form=latest.short_title,
                    known=", ".join(versions),
                )
            ],
        )
    return framework, about_sheet, keys, []


def _sheet_names(
    book: _Book, framework: Framework, about: dict[str, object], taken: set[str]
) -> tuple[dict[str, str], list[Issue]]:
    """Framework sheet id -> the workbook sheet holding it: the About sheet's sheet:<id> row,
    else the sheet whose A1 holds the id (a renamed sheet), else the name in the form."""
    found: dict[str, str] = {}
    issues: list[Issue] = []
    for sheet in framework.sheets:
        named = _text(about.get(cell_layout.SHEET_KEY_PREFIX + sheet.id))
        name = named if named in book.names and named not in taken else None
        if name is None:
            name = next(
                (n for n in book.names if n not in taken and book.a1(n) == sheet.id),
                None,
            )
        if name is None and sheet.sheet_name in book.names and sheet.sheet_name not in taken:
            name = sheet.sheet_name
        if name is None:
            issues.append(Issue.of("missing-sheet", sheet=sheet.sheet_name, title=sheet.title))
            continue
        found[sheet.id] = name
        taken.add(name)
    return found, issues


def _cover_sheet(book: _Book, framework: Framework, taken: set[str]) -> str | None:
    if cell_layout.COVER_SHEET in book.names and cell_layout.COVER_SHEET not in taken:
        return cell_layout.COVER_SHEET
    school = framework.cover_field("school")
    wanted = school.id if school else framework.cover[0].id
    return next((n for n in book.names if n not in taken and wanted in book.column_a(n)), None)


class _Reader:
    """Collects cells and structural issues for one identified workbook."""

    def __init__(self, book: _Book, guarded: Guarded) -> None:
        self.book = book
        self.formulas = {name: set(cells) for name, cells in guarded.formulas.items()}
        self.issues: list[Issue] = []

    def cell(self, sheet: str, row: int, column: int) -> RawCell:
        rows = self.book.rows(sheet)
        values = rows[row] if row < len(rows) else []
        value = values[column - 1] if column - 1 < len(values) else None
        ref = f"{get_column_letter(column)}{row + 1}"
        return RawCell(
            sheet=sheet,
            cell=ref,
            value=None if value == "" else value,  # type: ignore[arg-type]
            formula=ref in self.formulas.get(sheet, ()),
        )

    def locate(
        self, sheet_name: str, wanted: dict[str, tuple[str | None, str | None]], ignore: set[str]
    ) -> dict[str, int]:
        """Row index of every wanted id (id -> the missing-statement variant for its kind of
        row, and what it is); reports missing, duplicated and unknown ids."""
        column = self.book.column_a(sheet_name)
        rows: dict[str, int] = {}
        for item_id, (kind, what) in wanted.items():
            places = column.get(item_id, [])
            if not places:
                self.issues.append(
                    Issue.of(
                        "missing-statement",
                        variant=kind,
                        sheet=sheet_name,
                        statement=item_id,
                        label=what,
                    )
                )
            elif len(places) > 1:
                self.issues.append(
                    Issue.of(
                        "duplicate-statement",
                        sheet=sheet_name,
                        cell=f"A{places[1] + 1}",
                        statement=item_id,
                        label=what,
                        cells=" and ".join(f"A{index + 1}" for index in places),
                    )
                )
                rows[item_id] = places[0]
            else:
                rows[item_id] = places[0]
        for key, places in column.items():
            if key in wanted or key in ignore:
                continue
            for index in places:
                if index < cell_layout.FIRST_ROW - 1:
                    continue
                self.issues.append(
                    Issue.of(
                        "unknown-statement",
                        sheet=sheet_name,
                        cell=f"A{index + 1}",
                        value=key,
                    )
                )
        return rows


def _read_sheet(
    reader: _Reader, raw: RawReturn, sheet: Sheet, name: str, last_round: bool = False
) -> None:
    wanted: dict[str, tuple[str | None, str | None]] = {
        st.id: (None, None) for st in sheet.statements
    }
    wanted |= {box.id: ("box", box.label) for box in sheet.boxes}
    rows = reader.locate(name, wanted, {sheet.id, cell_layout.ID_HEADER})
    first_text = cell_layout.text_column(sheet.judged, last_round)
    for statement in sheet.statements:
        row = rows.get(statement.id)
        if row is None:
            continue
        if sheet.judged:
            raw.judgements[statement.id] = reader.cell(name, row, cell_layout.JUDGEMENT_COL)
        for offset, column in enumerate(sheet.columns):
            key = f"{statement.id}.{column.id}"
            raw.texts[key] = reader.cell(name, row, first_text + offset)
    for box in sheet.boxes:
        row = rows.get(box.id)
        if row is not None:
            raw.texts[box.id] = reader.cell(name, row, cell_layout.BOX_VALUE_COL)


def read_guarded(guarded: Guarded, registry: Registry) -> tuple[RawReturn | None, list[Issue]]:
    """Read the bytes ``guard`` has passed: structural problems come back as issues
    (unknown-template, unknown-version, missing-sheet, missing-statement, duplicate-statement...).
    The RawReturn is None only when the workbook cannot be matched to a known form; otherwise it
    holds whatever could be read, so that every problem is reported at once."""
    if guarded.data is None or has_errors(guarded.issues):
        return None, []
    try:
        book = _Book(CalamineWorkbook.from_filelike(BytesIO(guarded.data)))
        return _read_book(book, guarded, registry)
    except CalamineError as exc:
        if guarded.format == "xls":
            return None, [Issue.of("legacy-xls", detail=str(exc))]
        part = _ill_formed_part(guarded.data)
        if part is not None:
            return None, [Issue.of("truncated-file", variant="ill-formed-part", part=part)]
        # Every part is whole and well-formed: what the reader could not do is a limit of the
        # reader, not damage to the file.
        return None, [Issue.of("reader-error", detail=str(exc))]


def _ill_formed_part(data: bytes) -> str | None:
    """The first XML part of a package that is not well-formed, looked for only once the reader
    has failed (the guard does not parse sheets, to stay fast): that is damage, and anything
    else a limit of the reader. The guard has already bounded every part and refused DTDs."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            for info in archive.infolist():
                if not info.filename.endswith((".xml", ".rels")):
                    continue
                parser = expat.ParserCreate()
                with archive.open(info) as member:
                    try:
                        parser.ParseFile(member)
                    except expat.ExpatError:
                        return info.filename
    except (zipfile.BadZipFile, OSError):
        return None
    return None


_ISSUED_KEYS = (
    cell_layout.KEY_ISSUE_ID,
    cell_layout.KEY_ROUND,
    cell_layout.KEY_SCHOOL,
    cell_layout.KEY_URN,
    cell_layout.KEY_TRUST,
    cell_layout.KEY_ISSUED_TO,
)


def _issued(keys: dict[str, object]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key in _ISSUED_KEYS:
        value = keys.get(key)
        if isinstance(value, float) and value.is_integer():  # a URN re-saved as a number
            value = int(value)
        text = " ".join(str(value).split()) if value is not None else ""
        if text:
            found[key] = text
    return found


def _read_book(
    book: _Book, guarded: Guarded, registry: Registry
) -> tuple[RawReturn | None, list[Issue]]:
    framework, about_sheet, keys, issues = _identify(book, registry)
    if framework is None or about_sheet is None:
        return None, issues
    taken = {about_sheet}
    names, issues = _sheet_names(book, framework, keys, taken)
    reader = _Reader(book, guarded)
    reader.issues.extend(issues)
    raw = RawReturn(
        template_id=framework.id,
        template_version=framework.version,
        macro_enabled=guarded.macro_enabled,
        issued=_issued(keys),
    )
    cover = _cover_sheet(book, framework, taken)
    if cover is None:
        reader.issues.append(
            Issue.of("missing-sheet", variant="cover", sheet=cell_layout.COVER_SHEET)
        )
    else:
        wanted: dict[str, tuple[str | None, str | None]] = {
            f.id: ("cover", f.label) for f in framework.cover
        }
        rows = reader.locate(cover, wanted, {cell_layout.ID_HEADER})
        for field in framework.cover:
            if field.id in rows:
                raw.cover[field.id] = reader.cell(
                    cover, rows[field.id], cell_layout.COVER_VALUE_COL
                )
    last_round = bool(_text(keys.get(cell_layout.KEY_LAST_ROUND_COLUMN)))
    for sheet in framework.sheets:
        if sheet.id in names:
            _read_sheet(reader, raw, sheet, names[sheet.id], last_round)
    if _text(keys.get(cell_layout.KEY_ACTION_PLAN)):
        _read_actions(reader, raw, keys, taken)
    return raw, reader.issues


def _read_actions(
    reader: _Reader, raw: RawReturn, keys: dict[str, object], taken: set[str]
) -> None:
    """The action plan's rows, by the ids in column A (so sorted rows still read)."""
    book = reader.book
    named = _text(keys.get(cell_layout.KEY_ACTION_PLAN))
    name = named if named in book.names and named not in taken else None
    if name is None:
        name = next(
            (n for n in book.names if n not in taken and book.a1(n) == cell_layout.ACTION_SHEET_ID),
            None,
        )
    if name is None:
        reader.issues.append(
            Issue.of("missing-sheet", variant="action-plan", sheet=cell_layout.ACTION_SHEET)
        )
        return
    taken.add(name)
    raw.actions = []
    for action_id, places in book.column_a(name).items():
        if action_id in (cell_layout.ACTION_SHEET_ID, cell_layout.ID_HEADER):
            continue
        index = places[0]
        if index < cell_layout.FIRST_ROW - 1:
            continue
        cells = {key: reader.cell(name, index, col) for key, col in cell_layout.ACTION_COLS.items()}
        raw.actions.append(RawAction(id=action_id, cells=cells))


def read_return(path: Path, registry: Registry) -> tuple[RawReturn | None, list[Issue]]:
    """Guard and read one file. The issues include the guard's (a file the guard refuses is never
    opened by the reader); the RawReturn is None when nothing can be read."""
    guarded = guard_file(path)
    raw, issues = read_guarded(guarded, registry)
    return raw, [*guarded.issues, *issues]
