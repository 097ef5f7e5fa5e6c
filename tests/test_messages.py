"""The wording a school reads comes from one registry (problems/messages.toml): callers pass a code
and values, never sentences; every template fills with what its callers pass; a location is shown
once; a file that is plainly something else is called what it is; short dates read day first."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path
from string import Formatter

import pytest
from openpyxl import load_workbook

from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.intake.validate import check_file
from sheet_tools.problems.codes import CODES, MessageError
from sheet_tools.problems.render import render_errors_file, render_line, render_text
from sheet_tools.problems.report import FileReport, Issue
from sheet_tools.store.facade import duplicate_issue

from .conftest import REPO
from .support import corpus, returns

PACKAGE = REPO / "sheet_tools"
# Calls that make an issue: Issue.of and Issue themselves, and the helpers that pass their
# arguments on to Issue.of (the guard's refuse, the validator's checked.add).
MAKERS = {"of", "Issue", "refuse", "add"}
# Keywords that place an issue or choose its wording, rather than fill a template.
NOT_PARAMETERS = {"sheet", "cell", "label", "variant"}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _issue_calls() -> list[tuple[str, ast.Call]]:
    """(file, call) for every call making an issue in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node.func) not in MAKERS:
                continue
            if _name(node.func) == "of" and _name(getattr(node.func, "value", None)) != "Issue":
                continue
            if _name(node.func) == "add" and _name(getattr(node.func, "value", None)) != "checked":
                continue
            found.append((str(path.relative_to(REPO)), node))
    return found


def _is_text(node: ast.expr) -> bool:
    """A sentence written at the call: a string literal, an f-string, or text joined to one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    return isinstance(node, ast.BinOp) and (_is_text(node.left) or _is_text(node.right))


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def test_the_scan_finds_the_issue_makers() -> None:
    """Guards the scan itself: were it to find nothing, the checks below would pass vacuously."""
    calls = _issue_calls()
    files = {file for file, _ in calls}
    assert len(calls) > 60
    for module in ("guard.py", "scan.py", "read.py", "identity.py", "validate.py", "worker.py"):
        assert f"sheet_tools/intake/{module}" in files
    assert {"sheet_tools/service/ingest.py", "sheet_tools/store/journal.py"} <= files


def test_no_caller_writes_a_sentence() -> None:
    """(a) Only values reach an issue: no string literal, f-string or message= besides the code."""
    offenders = []
    for file, call in _issue_calls():
        # the code may be a literal (checked against the registry below); nothing after it
        for arg in call.args[1:]:
            if _is_text(arg):
                offenders.append(f"{file}:{call.lineno}: positional text")
        if call.args and isinstance(call.args[0], ast.JoinedStr):
            offenders.append(f"{file}:{call.lineno}: the code is an f-string")
        for keyword in call.keywords:
            if keyword.arg == "message":
                offenders.append(f"{file}:{call.lineno}: message=")
            elif keyword.arg not in NOT_PARAMETERS and _is_text(keyword.value):
                offenders.append(f"{file}:{call.lineno}: {keyword.arg}= is text written here")
    assert offenders == []


def _sample(template: str) -> dict[str, object]:
    """A value for every field a template names: a number where it has a format spec."""
    values: dict[str, object] = {}
    for _, name, spec, _ in Formatter().parse(template):
        if name:
            values[name] = 1234.5 if spec else f"<{name}>"
    return values


def _passed(call: ast.Call) -> set[str] | None:
    """The template values a call passes, or None when it spreads a mapping it builds at run
    time (``**where`` holds only a location, so it is known)."""
    names: set[str] = set()
    for keyword in call.keywords:
        if keyword.arg is not None:
            names.add(keyword.arg)
            continue
        spread = keyword.value
        if isinstance(spread, ast.IfExp) and isinstance(spread.body, ast.Dict):
            names |= {_literal(k) or "" for k in spread.body.keys if k is not None}
        elif isinstance(spread, ast.Call | ast.Name) and _name(
            spread.func if isinstance(spread, ast.Call) else spread
        ) in ("at", "where"):
            names |= {"sheet", "cell"}
        else:
            return None
    return names - NOT_PARAMETERS


def test_every_call_site_fills_its_template() -> None:
    """(b) Each call with a literal code and variant passes every value its template names."""
    checked = 0
    for file, call in _issue_calls():
        code = _literal(call.args[0]) if call.args else None
        if code is None:
            continue
        assert code in CODES, f"{file}:{call.lineno}: unregistered code {code!r}"
        variant_node = next((k.value for k in call.keywords if k.arg == "variant"), None)
        if isinstance(variant_node, ast.IfExp):
            variants = [_literal(variant_node.body), _literal(variant_node.orelse)]
        elif variant_node is None or _literal(variant_node) is not None:
            variants = [_literal(variant_node)]
        else:
            continue  # chosen at run time: covered by rendering every variant below
        passed = _passed(call)
        if passed is None:
            continue
        for variant in variants:
            problem = CODES[code]
            wanted = problem.fields(variant)
            assert wanted <= passed, (
                f"{file}:{call.lineno}: {code}/{variant} lacks {wanted - passed}"
            )
            problem.message(variant, **_sample(problem.template_for(variant)))
            checked += 1
    assert checked > 50


def test_every_code_and_variant_renders_and_a_missing_value_is_caught() -> None:
    """(b) Every template of every code formats; a value it names but nobody passes raises."""
    for code, problem in CODES.items():
        for variant in [None, *problem.variants]:
            template = problem.template_for(variant)
            message = Issue.of(code, variant=variant, **_sample(template)).message
            assert "{" not in message and "}" not in message, (code, variant)
            assert message.endswith((".", "?", ")")), (code, variant, message)
            assert problem.advice_for(variant), (code, variant)
    with pytest.raises(MessageError, match="rows"):
        Issue.of("too-many-rows", sheet="1 Leadership")
    with pytest.raises(MessageError, match="no variant"):
        Issue.of("not-a-workbook", variant="spreadsheet-ish")
    with pytest.raises(TypeError):
        Issue.of("empty-file", "The file is empty.")  # type: ignore[misc]


def test_templates_never_name_a_location() -> None:
    """The renderer shows sheet and cell; a template repeating them would show them twice."""
    for code, problem in CODES.items():
        for variant in [None, *problem.variants]:
            fields = problem.fields(variant)
            assert not fields & {"sheet", "cell", "where"}, (code, variant)
            assert "Sheet '" not in problem.template_for(variant), (code, variant)


def test_an_empty_required_cover_field_is_said_once_with_its_place_once(
    spr: Framework, registry: Registry, tmp_path: Path
) -> None:
    """(c) errors.txt: what is wrong once, where once, what to do once."""
    filled = returns.valid_return(spr, tmp_path / "filled")
    sheet = load_workbook(filled)[cell_layout.COVER_SHEET]
    row = corpus.find_row(sheet, "review_date")
    cell = sheet.cell(row=row, column=cell_layout.COVER_VALUE_COL).coordinate
    path = corpus.set_cells_copy(filled, tmp_path, {(cell_layout.COVER_SHEET, cell): None})
    report, valid = check_file(path, registry)
    assert valid is None and [i.code for i in report.errors_only()] == ["missing-field"]
    issue = report.errors_only()[0]
    assert (issue.sheet, issue.cell, issue.label) == ("Cover", cell, "Review date")
    text = render_errors_file(report, None, None)
    block = text[text.index("1. ") : text.index("What to do next")]
    assert block.splitlines()[0] == f"1. Sheet 'Cover', cell {cell} (Review date)"
    assert block.count("Cover'") == 1 and block.count(cell) == 1
    assert block.count("empty") == 1 and "required" in block
    assert "fill it in" not in block.casefold()  # the advice says what to do, once
    assert block.count("What to do:") == 1 and block.count("day/month/year") == 1


PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n"
    b"0000000115 00000 n \ntrailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n188\n%%EOF\n"
)


@pytest.mark.parametrize(
    ("name", "content", "called"),
    [
        ("Oakfield SEND review.xlsx", PDF, "This is a PDF document, not an Excel workbook."),
        (
            "Oakfield SEND review.xlsx",
            b"School,URN,Judgement\r\nOakfield Primary,123456,Secure\r\n",
            "This is a text (CSV) file, not an Excel workbook.",
        ),
    ],
)
def test_a_file_that_is_plainly_another_kind_is_called_what_it_is(
    name: str, content: bytes, called: str, registry: Registry, tmp_path: Path
) -> None:
    """(d) Told by its leading bytes, never its name."""
    path = tmp_path / name
    path.write_bytes(content)
    report, valid = check_file(path, registry)
    assert valid is None and [i.code for i in report.errors] == ["not-a-workbook"]
    assert report.errors[0].message == called
    assert "its name" not in report.errors[0].message
    text = render_errors_file(report, None, None)
    assert f"1. The whole file\n   {called}\n   What to do: " in text


def _uk(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def test_short_dates_read_day_first_everywhere_a_person_reads_them() -> None:
    """(e) errors.txt, render_text, render_line and a message's date: dd/mm/yyyy; the report's
    data keeps the ISO date."""
    review = date(2026, 11, 5)
    received = datetime(2026, 12, 7, 9, 5, tzinfo=UTC)
    report = FileReport(
        file="Oakfield.xlsx",
        status="rejected",
        school="Oakfield Primary",
        urn="123456",
        review_date=review.isoformat(),
        errors=[Issue.of("no-judgements"), duplicate_issue("first.xlsx", received)],
    )
    iso = review.isoformat()
    errors_txt = render_errors_file(report, None, None, received=received)
    assert f"Review date:  {_uk(review)}\n" in errors_txt
    assert f"Received:     {_uk(received.date())} 09:05 UTC\n" in errors_txt
    assert f"received {_uk(received.date())} 09:05 UTC" in errors_txt  # the duplicate's message
    text = render_text(report)
    assert f"review date {_uk(review)}" in text
    line = render_line(report)
    assert f"review {_uk(review)}" in line
    for shown in (errors_txt, text, line):
        assert iso not in shown and "2026-12-07" not in shown
    assert report.to_json()["review_date"] == iso


def test_a_located_issue_shows_its_place_once_in_every_rendering() -> None:
    issue = Issue.of(
        "invalid-date", sheet="Cover", cell="C8", label="Review date", value="31/02/2026"
    )
    report = FileReport(file="a.xlsx", status="rejected", errors=[issue])
    place = "Sheet 'Cover', cell C8 (Review date)"
    expected = f"{place}: '31/02/2026' is not a date."
    assert f"    - {expected}" in render_text(report)
    assert render_line(report).endswith(f"- {expected}")
    errors_txt = render_errors_file(report, None, None)
    assert f"1. {place}\n   '31/02/2026' is not a date.\n   What to do: " in errors_txt
    assert errors_txt.count("C8") == 1


def test_every_registered_code_can_be_raised() -> None:
    """The registry holds what can happen, no more: each code is named somewhere outside the
    registry (a literal at a call site, or a value a check passes on). "unsafe-name" was
    registered and never raised, since a name from the inbox is made safe, never refused."""
    named: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if "problems" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                named.add(node.value)
    assert set(CODES) - named == set()
    assert "unsafe-name" not in CODES
