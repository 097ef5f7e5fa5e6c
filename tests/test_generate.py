"""Generated workbooks, re-opened with openpyxl: drop-downs, protection, identity, print setup."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.base.files import safe_filename, write_bytes_atomically
from sheet_tools.cli import main
from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework, Level, Registry
from sheet_tools.definitions.roster import School, read_roster
from sheet_tools.exceptions import GenerateError, RosterError
from sheet_tools.generate.workbook import generate_batch, generate_workbook

from .support.helpers import cells_of

OAKFIELD = School(name="Oakfield Primary", urn="123456", trust="North Star Trust")


@pytest.fixture
def spr_book(spr: Framework, tmp_path: Path):
    return load_workbook(generate_workbook(spr, OAKFIELD, tmp_path))


def test_one_sheet_per_area_plus_cover_and_about(spr: Framework, spr_book) -> None:
    assert spr_book.sheetnames == ["Cover", *[s.sheet_name for s in spr.sheets], "About"]
    assert all(ws.sheet_state == "visible" for ws in spr_book.worksheets)
    assert spr_book.security.lockStructure


def test_list_validation_on_exactly_the_judgement_cells(spr: Framework, spr_book) -> None:
    for sheet in spr.sheets:
        ws = spr_book[sheet.sheet_name]
        expected = {
            f"C{row}"
            for row in range(cell_layout.FIRST_ROW, cell_layout.FIRST_ROW + len(sheet.statements))
        }
        # every statement row's judgement cell holds its statement's id in column A
        assert {ws[f"A{cell[1:]}"].value for cell in expected} == {s.id for s in sheet.statements}
        lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
        assert len(lists) == 1
        dv = lists[0]
        assert cells_of(dv.sqref) == expected
        # the framework says some statements may be less relevant to internal provisions
        assert dv.formula1 == '"Beginning,Developing,Secure,Embedded,Not applicable"'
        assert len(dv.formula1) - 2 <= 255  # Excel's limit on an inline list
        assert "INDIRECT" not in dv.formula1.upper()
        assert dv.showErrorMessage and dv.errorStyle in (None, "stop")
        assert dv.showInputMessage and "Beginning" in dv.prompt and "Not applicable" in dv.prompt
        assert dv.showDropDown in (None, False)  # False means the in-cell arrow is shown


def test_only_input_cells_are_unlocked(spr: Framework, spr_book) -> None:
    for sheet in spr.sheets:
        ws = spr_book[sheet.sheet_name]
        assert ws.protection.sheet
        assert ws.protection.password is None
        unlocked = {
            cell.coordinate
            for row in ws.iter_rows()
            for cell in row
            if cell.value is not None or cell.has_style
            if not cell.protection.locked and type(cell).__name__ != "MergedCell"
        }
        judgement_and_evidence = {
            f"{col}{row}"
            for row in range(cell_layout.FIRST_ROW, cell_layout.FIRST_ROW + len(sheet.statements))
            for col in "CD"
        }
        box_cells = {
            f"B{row}"
            for row in range(1, ws.max_row + 1)
            if ws[f"A{row}"].value in {box.id for box in sheet.boxes}
        }
        assert len(box_cells) == 2
        assert unlocked == judgement_and_evidence | box_cells
        assert ws["B4"].protection.locked and ws["A4"].protection.locked


def test_cover_is_prefilled_and_only_answers_are_editable(spr: Framework, spr_book) -> None:
    ws = spr_book["Cover"]
    answers = {
        ws.cell(row=r, column=1).value: ws.cell(row=r, column=cell_layout.COVER_VALUE_COL)
        for r in range(cell_layout.FIRST_ROW, cell_layout.FIRST_ROW + len(spr.cover))
    }
    assert list(answers) == [field.id for field in spr.cover]
    assert answers["school"].value == "Oakfield Primary"
    assert answers["urn"].value == 123456
    assert answers["trust"].value == "North Star Trust"
    assert answers["review_date"].value is None
    assert all(not cell.protection.locked for cell in answers.values())
    assert ws["B4"].protection.locked and ws.protection.sheet
    types = {dv.type: cells_of(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert types["date"] == {answers["review_date"].coordinate}
    assert types["list"] == {answers["judge"].coordinate}
    assert types["whole"] == {answers["urn"].coordinate}


def test_identity_is_in_cells(spr: Framework, spr_book) -> None:
    about = {row[0]: row[1] for row in spr_book["About"].iter_rows(values_only=True)}
    assert about[cell_layout.KEY_TEMPLATE] == "specialist-provision-review"
    assert about[cell_layout.KEY_VERSION] == "1.0"
    assert cell_layout.MARKER in about
    for sheet in spr.sheets:
        assert about[cell_layout.SHEET_KEY_PREFIX + sheet.id] == sheet.sheet_name
        ws = spr_book[sheet.sheet_name]
        assert ws["A1"].value == sheet.id
        ids = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
        assert [i for i in ids if i and i != sheet.id and i != "ID"] == [
            *(s.id for s in sheet.statements),
            *(b.id for b in sheet.boxes),
        ]
    props = {p.name: p.value for p in spr_book.custom_doc_props.props}
    assert props[cell_layout.KEY_TEMPLATE] == "specialist-provision-review"


def test_levels_are_coloured_by_conditional_formatting(spr: Framework, spr_book) -> None:
    ws = spr_book[spr.sheets[0].sheet_name]
    rules = [rule for cf in ws.conditional_formatting for rule in cf.rules]
    fills = {rule.formula[0]: rule.dxf.fill.fgColor.rgb[-6:] for rule in rules}
    assert len(fills) == 5
    for level in spr.scale:
        formula = next(f for f in fills if f'"{level.label}"' in f and f'"{level.code}"' in f)
        assert fills[formula].upper() == level.colour.upper()
    assert len({level.colour for level in spr.scale}) == 4
    # Not applicable (typed as its label or "N/A") in a neutral grey, unlike every level
    formula = next(f for f in fills if '"Not applicable"' in f and '"N/A"' in f)
    grey = fills[formula].upper()
    assert grey[0:2] == grey[2:4] == grey[4:6]  # equal red, green and blue: a grey
    assert grey not in {level.colour.upper() for level in spr.scale}


@pytest.mark.parametrize("template", ["send-review-mainstream", "send-review-specialist"])
def test_not_applicable_is_only_offered_where_the_framework_allows_it(
    registry: Registry, template: str, tmp_path: Path
) -> None:
    framework = registry.latest(template)
    assert framework.judged and not framework.not_applicable
    out = tmp_path / template
    result = CliRunner().invoke(main, ["generate", template, "--school", "Oak", "--out", str(out)])
    assert result.exit_code == 0, result.output
    [path] = out.glob("*.xlsx")
    book = load_workbook(path)
    for sheet in (s for s in framework.sheets if s.judged):
        ws = book[sheet.sheet_name]
        [dv] = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
        assert dv.formula1 == '"' + ",".join(level.label for level in framework.scale) + '"'
        assert "applicable" not in (dv.prompt + dv.error).casefold()
        rules = [rule.formula[0] for cf in ws.conditional_formatting for rule in cf.rules]
        assert rules and not any("N/A" in rule for rule in rules)


def test_the_spr_drop_down_through_the_cli_offers_not_applicable(tmp_path: Path) -> None:
    out = tmp_path / "spr"
    args = ["generate", "specialist-provision-review", "--school", "Oak", "--out", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    [path] = out.glob("*.xlsx")
    book = load_workbook(path)
    sheets = [ws for ws in book.worksheets if ws.title not in ("Cover", "About")]
    for ws in sheets:
        [dv] = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
        assert dv.formula1.strip('"').split(",")[-1] == "Not applicable"
    legend = [c.value for c in book["Cover"]["B"] if isinstance(c.value, str)]
    assert any(text.startswith("Not applicable (N/A)") for text in legend)


def test_readable_and_printable(spr: Framework, spr_book) -> None:
    ws = spr_book[spr.sheets[0].sheet_name]
    assert ws.freeze_panes == "A4"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$3:$3"
    assert ws.column_dimensions["B"].width >= 60
    assert ws["B4"].alignment.wrap_text
    assert ws.row_dimensions[4].height >= 30


def test_long_scales_use_a_lists_sheet_not_an_inline_list(spr: Framework, tmp_path: Path) -> None:
    long_scale = tuple(
        Level(
            code=f"L{i}",
            label=f"Level {i}: " + "very long description " * 2,
            score=i,
            colour="D1E5F0",
        )
        for i in range(1, 8)
    )
    framework = spr.model_copy(update={"scale": long_scale})
    assert framework.not_applicable
    book = load_workbook(generate_workbook(framework, OAKFIELD, tmp_path))
    assert cell_layout.LISTS_SHEET in book.sheetnames
    lists = [c.value for c in book[cell_layout.LISTS_SHEET]["A"]][1:]
    assert lists == [level.label for level in long_scale] + ["Not applicable"]
    dv = next(
        d
        for d in book[spr.sheets[0].sheet_name].data_validations.dataValidation
        if d.type == "list"
    )
    assert dv.formula1 == "'Lists'!$A$2:$A$9"  # the seven levels and Not applicable
    # printed, it is its header and the eight choices on one page, never blank pages after them
    ws = book[cell_layout.LISTS_SHEET]
    assert ws.print_area == "'Lists'!$A$1:$A$9"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage


def test_every_shipped_framework_generates(registry: Registry, tmp_path: Path) -> None:
    for framework in registry:
        book = load_workbook(generate_workbook(framework, OAKFIELD, tmp_path))
        for sheet in framework.sheets:
            ws = book[sheet.sheet_name]
            ids = {ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)}
            assert {s.id for s in sheet.statements} | {b.id for b in sheet.boxes} <= ids
            has_list = any(dv.type == "list" for dv in ws.data_validations.dataValidation)
            assert has_list == sheet.judged, (framework.id, sheet.id)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "etc passwd.xlsx"),
        ("St Mary's C of E / Primary", "St Mary's C of E Primary.xlsx"),
        ("CON", "workbook CON.xlsx"),
        ("..", "workbook.xlsx"),
        ("a\\b:c*d?e", "a b c d e.xlsx"),
    ],
)
def test_file_names_from_school_names_are_safe(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_existing_files_are_not_clobbered_without_force(spr: Framework, tmp_path: Path) -> None:
    path = generate_workbook(spr, OAKFIELD, tmp_path)
    path.write_bytes(b"the school's own edits")
    with pytest.raises(GenerateError, match="already exists"):
        generate_workbook(spr, OAKFIELD, tmp_path)
    assert path.read_bytes() == b"the school's own edits"
    generate_workbook(spr, OAKFIELD, tmp_path, force=True)
    assert path.read_bytes()[:2] == b"PK"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp files left behind
    assert path.stat().st_mode & 0o044 == 0o044  # readable by others on a shared drive


def test_roster_from_csv_and_xlsx(spr: Framework, tmp_path: Path) -> None:
    csv_path = tmp_path / "roster.csv"
    csv_path.write_text(
        "School,URN,Trust\nOakfield Primary,123456,North Star\nBrook Academy,,\n,,\n",
        encoding="utf-8",
    )
    schools = read_roster(csv_path)
    assert [(s.name, s.urn, s.trust) for s in schools] == [
        ("Oakfield Primary", "123456", "North Star"),
        ("Brook Academy", None, None),
    ]
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["trust", "school", "urn"])
    wb.active.append(["North Star", "Oakfield Primary", 123456])
    wb.save(tmp_path / "roster.xlsx")
    assert read_roster(tmp_path / "roster.xlsx")[0].urn == "123456"
    bad = tmp_path / "bad.csv"
    bad.write_text("school,urn\nOakfield,12ab\n", encoding="utf-8")
    with pytest.raises(
        RosterError, match=r"bad\.csv: 1 problem, .*\n  row 2: the URN '12ab' is not six"
    ):
        read_roster(bad)


def test_batch_refuses_two_schools_that_would_share_a_file(spr: Framework, tmp_path: Path) -> None:
    schools = [School(name="Oakfield"), School(name="Oakfield")]
    with pytest.raises(GenerateError, match="both be written"):
        generate_batch(spr, schools, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_cli_templates_list_and_check(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["templates", "list"])
    assert listed.exit_code == 0
    assert "specialist-provision-review  v1.0  5 sheets, 52 statements" in listed.output
    assert listed.output.count("\n") == 5
    good = Path(__file__).resolve().parent.parent / "workbook_templates" / "send-review-report.toml"
    assert runner.invoke(main, ["templates", "check", str(good)]).exit_code == 0
    bad = tmp_path / "trust.toml"
    bad.write_text(good.read_text(encoding="utf-8").replace('version = "1.0"', 'version = "one"'))
    result = runner.invoke(main, ["templates", "check", str(bad)])
    assert result.exit_code == 1
    assert "trust.toml" in result.output and "version" in result.output
    assert "Traceback" not in result.output


def test_cli_generate_one_and_a_roster(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "generate",
            "specialist-provision-review",
            "--school",
            "Oakfield Primary",
            "--urn",
            "123456",
            "--trust",
            "North Star",
            "--out",
            str(tmp_path / "one"),
        ],
    )
    assert result.exit_code == 0, result.output
    [written] = (tmp_path / "one").iterdir()
    assert written.name == "Oakfield Primary (123456) - specialist-provision-review.xlsx"
    assert load_workbook(written)["Cover"]["C6"].value == "North Star"

    roster = tmp_path / "roster.csv"
    roster.write_text(
        "school,urn,trust\n"
        + "".join(f"School {i},{100000 + i},Trust {i % 3}\n" for i in range(12)),
        encoding="utf-8",
    )
    result = runner.invoke(
        main,
        [
            "generate",
            "send-review-mainstream",
            "--roster",
            str(roster),
            "--out",
            str(tmp_path / "many"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "many").glob("*.xlsx"))) == 12
    again = runner.invoke(
        main,
        [
            "generate",
            "send-review-mainstream",
            "--roster",
            str(roster),
            "--out",
            str(tmp_path / "many"),
        ],
    )
    assert again.exit_code == 2 and "already exists" in again.output
    assert "give another --out folder to keep it, or --force to replace it" in again.output

    unknown = runner.invoke(main, ["generate", "nope", "--school", "X"])
    assert unknown.exit_code == 2 and "known templates" in unknown.output
    bad_urn = runner.invoke(
        main,
        [
            "generate",
            "send-review-mainstream",
            "--school",
            "X",
            "--urn",
            "abc",
            "--out",
            str(tmp_path),
        ],
    )
    assert bad_urn.exit_code == 2 and "URN" in bad_urn.output and "Traceback" not in bad_urn.output


def test_files_are_written_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "radar.png"
    target.write_bytes(b"old")
    inode = target.stat().st_ino
    write_bytes_atomically(b"new picture", target)
    assert target.read_bytes() == b"new picture"
    assert target.stat().st_ino != inode  # renamed into place, not rewritten
    assert target.stat().st_mode & 0o044 == 0o044  # readable by others on a shared drive
    blocked = tmp_path / "a folder"
    blocked.mkdir()
    with pytest.raises(OSError):
        write_bytes_atomically(b"x", blocked)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a folder", "radar.png"]
