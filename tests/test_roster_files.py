"""Rosters as administrators really have them: CSV as Excel saves it (Windows-1252, CRLF), UTF-8
with a BOM, "Unicode text" (UTF-16, tabs), the DfE register's own extract; and roster checks that
name every bad row before anything is generated. The files are in tests/data/rosters (see its
MANIFEST.md)."""

from __future__ import annotations

import csv
import logging
import os
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheet_tools.cli import main
from sheet_tools.definitions.roster import RosterSource, load_roster, read_roster
from sheet_tools.exceptions import RosterError

ROSTERS = Path(__file__).resolve().parent / "data" / "rosters"
# What the four plain rosters hold, as their manifest lists it.
FOUR = [
    ("St Mary’s C of E Primary School", "149902", "Bristol, City of"),
    ("Brontë Primary School", "149901", "Bristol, City of"),
    ("Dales Academy", "149903", "Dales & Moors Education Trust"),
    ("St. Cuthbert's Catholic High School", "149905", "St. Cuthbert's Catholic Academy Trust"),
]


@pytest.mark.parametrize(
    "name",
    [
        "excel-csv-windows-1252.csv",
        "excel-csv-utf8-bom.csv",
        "excel-unicode-text.txt",
        "utf8-lf-reordered.csv",
    ],
)
def test_every_way_excel_saves_a_roster_reads_alike(name: str) -> None:
    schools = read_roster(ROSTERS / name)
    assert [(s.name, s.urn, s.trust) for s in schools] == FOUR


def test_the_files_are_what_the_manifest_says() -> None:
    """The corpus must stay in the encodings it stands for, or the tests above prove nothing."""
    ansi = (ROSTERS / "excel-csv-windows-1252.csv").read_bytes()
    assert b"\x92" in ansi and b"\xeb" in ansi and b"\r\n" in ansi
    with pytest.raises(UnicodeDecodeError):
        ansi.decode("utf-8")
    assert (ROSTERS / "excel-csv-utf8-bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    unicode_text = (ROSTERS / "excel-unicode-text.txt").read_bytes()
    assert unicode_text.startswith(b"\xff\xfe") and "\t".encode("utf-16-le") in unicode_text
    register = (ROSTERS / "edubasealldata-sample.csv").read_bytes()
    assert register.startswith(b'"URN","LA (code)","LA (name)"')


def test_the_register_extract_is_a_roster() -> None:
    """Academies take their trust; a maintained school's group is its local authority, named as
    the register names it; Closed rows are skipped and counted; the statuses that are schools
    are kept."""
    roster = load_roster(ROSTERS / "edubasealldata-sample.csv")
    assert [(s.name, s.urn, s.trust) for s in roster.schools] == [
        ("Brontë Primary School", "149901", "Bristol, City of"),
        ("St Mary’s C of E Primary School", "149902", "Bristol, City of"),
        ("Dales Academy", "149903", "Dales & Moors Education Trust"),
        ("Moorside Academy", "149904", "Dales & Moors Education Trust"),
        ("St. Cuthbert's Catholic High School", "149905", "St. Cuthbert's Catholic Academy Trust"),
        ("Ss Peter and Paul's Catholic Primary", "149906", "St. Cuthbert's Catholic Academy Trust"),
    ]
    assert roster.closed == 1
    assert roster.warnings == []


def test_generate_from_a_roster_excel_saved(tmp_path: Path) -> None:
    """Through the CLI, with the roster as Excel on Windows saves it: no traceback, a workbook
    per school named as the roster names it."""
    out = tmp_path / "issued"
    result = CliRunner().invoke(
        main,
        [
            "generate",
            "specialist-provision-review",
            "--roster",
            str(ROSTERS / "excel-csv-windows-1252.csv"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name.split(" (")[0] for p in out.glob("*.xlsx"))
    # a file name keeps the apostrophe, straightened: "St Mary’s" is "St Mary's", not "St Mary s"
    assert names == sorted(name.replace("’", "'") for name, _, _ in FOUR)


def _write(path: Path, rows: list[tuple[str, ...]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    return path


def test_roster_checks_name_every_bad_row(tmp_path: Path) -> None:
    roster = _write(
        tmp_path / "roster.csv",
        [
            ("school", "urn", "trust", "trust_email"),
            ("Oakfield", "100001", "Oak Trust", "office@oak.example"),
            ("Riverside", "10002", "Oak Trust", ""),  # five digits
            ("Brookside", "100001", "Oak Trust", ""),  # Oakfield's URN again
            ("Hollins", "100004", "Oak Trust", "admin@oak.example"),  # a second trust email
            ("Moorland", "", "Moor Trust", ""),  # too new for the register: a warning only
            ("Moorland", "", "Oak Trust", ""),  # one school in two trusts
        ],
    )
    with pytest.raises(RosterError) as raised:
        read_roster(roster)
    lines = str(raised.value).splitlines()
    assert lines[0] == "roster.csv: 4 problems, so nothing was done:"
    assert lines[1:] == [
        "  row 3: the URN '10002' is not six digits",
        "  row 4: the URN 100001 is listed twice (first on row 2)",
        "  row 5: Oak Trust has the trust email admin@oak.example, but row 2 gives "
        "office@oak.example",
        "  row 7: the school 'Moorland' is listed in two trusts (Moor Trust on row 6, Oak Trust "
        "here)",
    ]


def test_a_blank_urn_is_a_warning_and_many_problems_are_counted(tmp_path: Path) -> None:
    fine = _write(tmp_path / "fine.csv", [("school", "urn"), ("New Free School", "")])
    roster = load_roster(fine)
    assert [(s.name, s.urn) for s in roster.schools] == [("New Free School", None)]
    assert roster.warnings == [
        "row 2: New Free School has no URN (a school too new for the register?)"
    ]
    many = _write(
        tmp_path / "many.csv",
        [("school", "urn"), *((f"School {n}", f"{n:05d}") for n in range(1, 26))],
    )
    with pytest.raises(RosterError) as raised:
        read_roster(many)
    lines = str(raised.value).splitlines()
    assert lines[0] == "many.csv: 25 problems, so nothing was done:"
    assert len(lines) == 1 + 20 + 1 and lines[-1] == "  ... and 5 more"


def test_a_roster_without_urns_names_the_columns_it_found(tmp_path: Path) -> None:
    roster = _write(tmp_path / "roster.csv", [("School", "Trust", "Head"), ("Oakfield", "Oak", "")])
    with pytest.raises(RosterError, match=r"no urn column \(the first row names: 'School', "):
        read_roster(roster)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (bytes(range(256)) * 4, "not text in a known encoding"),
        (b"PK\x03\x04" + b"\x00" * 100, "is a spreadsheet workbook, not CSV text"),
    ],
    ids=["binary", "workbook-named-csv"],
)
def test_a_roster_that_is_not_text_is_one_plain_line(
    tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(content)
    with pytest.raises(RosterError, match=says) as raised:
        read_roster(path)
    assert "\n" not in str(raised.value)


def test_a_running_service_says_once_that_its_roster_broke(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(tmp_path / "roster.csv", [("school", "urn"), ("Oakfield", "100001")])
    source = RosterSource(path)
    path.write_bytes(b"school,urn\nOakfield,1\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with caplog.at_level(logging.WARNING):
        kept = [source.current() for _ in range(3)]
    assert [[s.name for s in schools or []] for schools in kept] == [["Oakfield"]] * 3
    warnings = [r for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(warnings) == 1


def _register(path: Path, rows: int, filler: bytes = b"") -> Path:
    """A register-shaped extract of ``rows`` schools; ``filler`` fills the columns a roster
    does not use, as the register's hundred-odd other columns do."""
    header = (ROSTERS / "edubasealldata-sample.csv").read_bytes().split(b"\r\n", 1)[0]
    columns = header.count(b",") + 1
    with path.open("wb") as out:
        out.write(header + b"\r\n")
        for n in range(rows):
            cells = [filler] * columns
            cells[0], cells[2], cells[4] = b"%d" % (200000 + n), b"Leeds", b"School %d" % n
            cells[10], cells[46] = (b"Closed" if n % 3 == 0 else b"Open"), b""
            out.write(b",".join(b'"' + c + b'"' for c in cells) + b"\r\n")
    return path


def _peak(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        roster = load_roster(path)
        return len(roster.schools), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_whole_register_extract_reads_without_holding_the_file(tmp_path: Path) -> None:
    """Rows are streamed: the same schools with every other column filled (a file ten times
    the size) take about the same memory, since only the roster's columns are kept."""
    narrow = _register(tmp_path / "narrow.csv", 12_000)
    wide = _register(tmp_path / "wide.csv", 12_000, filler=b"x" * 40)
    extra = wide.stat().st_size - narrow.stat().st_size
    assert extra > 9 * narrow.stat().st_size
    (kept, narrow_peak), (same, wide_peak) = _peak(narrow), _peak(wide)
    assert kept == same == 8_000
    assert wide_peak - narrow_peak < extra / 20, (narrow_peak, wide_peak, extra)


def _register_of_forty(path: Path) -> list[tuple[str, str, str, str]]:
    """A register-shaped extract of 40 establishments: (URN, name, status, group) per row, where
    group is the trust, or for a maintained school its local authority. Every fifth is Closed."""
    header = (ROSTERS / "edubasealldata-sample.csv").read_bytes().split(b"\r\n", 1)[0]
    columns = header.decode("cp1252").replace('"', "").split(",")
    at = {name: columns.index(name) for name in ("URN", "LA (name)", "EstablishmentName")}
    status_at, trust_at = (
        columns.index("EstablishmentStatus (name)"),
        columns.index("Trusts (name)"),
    )
    trusts = ["Dales & Moors Education Trust", "St. Cuthbert's Catholic Academy Trust"]
    rows = []
    lines = [header]
    for n in range(40):
        urn, name = f"{150000 + n}", f"School {n:02d} of Brontë Road"
        status = "Closed" if n % 5 == 4 else ("Open, but proposed to close" if n == 7 else "Open")
        trust = trusts[n % 2] if n % 3 else ""
        la = "Bristol, City of" if n % 2 else "North Yorkshire"
        cells = [""] * len(columns)
        cells[at["URN"]], cells[at["EstablishmentName"]], cells[at["LA (name)"]] = urn, name, la
        cells[status_at], cells[trust_at] = status, trust
        lines.append(",".join(f'"{c}"' for c in cells).encode("cp1252"))
        rows.append((urn, name, status, trust or la))
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    return rows


def test_generate_from_the_register_extract_issues_one_workbook_per_open_school(
    tmp_path: Path,
) -> None:
    """Through the CLI: each open school gets its workbook, its group the trust where it has one,
    else its local authority as the register names it; Closed rows get none."""
    from openpyxl import load_workbook

    from sheet_tools.definitions import cell_layout

    extract = tmp_path / "edubasealldata20261201.csv"
    rows = _register_of_forty(extract)
    out = tmp_path / "issued"
    result = CliRunner().invoke(
        main,
        ["generate", "specialist-provision-review", "--roster", str(extract), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    expected = {urn: group for urn, _, status, group in rows if status != "Closed"}
    assert len(expected) == 32
    written = sorted(out.glob("*.xlsx"))
    assert len(written) == len(expected)
    for path in written:
        urn = path.name.split("(")[1].split(")")[0]
        cover = load_workbook(path, read_only=True)[cell_layout.COVER_SHEET]
        values = {
            row[cell_layout.ID_COL - 1]: row[cell_layout.COVER_VALUE_COL - 1]
            for row in cover.iter_rows(values_only=True)
            if row and len(row) >= cell_layout.COVER_VALUE_COL
        }
        assert (str(values["urn"]), values["trust"]) == (urn, expected[urn])


def test_generate_from_an_excel_unicode_text_roster(tmp_path: Path) -> None:
    """Through the CLI, Excel's "Unicode Text" (UTF-16, tab-separated) as the roster."""
    out = tmp_path / "issued"
    result = CliRunner().invoke(
        main,
        [
            "generate",
            "specialist-provision-review",
            "--roster",
            str(ROSTERS / "excel-unicode-text.txt"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("*.xlsx"))) == len(FOUR)
