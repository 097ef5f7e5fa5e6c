"""Validating content: judgements by code or label, typed errors with locations and suggestions,
COLLECT-style warnings, dates in every form a school types them, check_file's report, and the
``validate`` command."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.cli import main
from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.intake.validate import MAX_TEXT, check_file, closest, parse_date, personal_data
from sheet_tools.problems.codes import CODES, Severity
from sheet_tools.problems.render import render_errors_file, render_text, split_location
from sheet_tools.problems.report import FileReport, Issue

from .support import corpus, returns
from .support.helpers import codes, sha256

ENV = "2 Environment"


def cell_of(path: Path, sheet: str, item_id: str, column: int) -> str:
    """Where the test itself finds an item's cell, independently of the reader."""
    ws = load_workbook(path)[sheet]
    return f"{ws.cell(row=corpus.find_row(ws, item_id), column=column).coordinate}"


def by_code(report: FileReport, code: str) -> list:
    return [issue for issue in report.errors if issue.code == code]


@pytest.fixture
def make(spr: Framework, tmp_path: Path):
    """A filled return with some answers replaced: make(judgements=..., texts=..., cover=...)."""
    counter = iter(range(1000))

    def build(**overrides: dict[str, object]) -> Path:
        return returns.valid_return(spr, tmp_path / f"r{next(counter)}", **overrides)

    return build


def test_judgements_by_code_or_label_ignoring_case_and_spaces(
    spr: Framework, registry: Registry, make
) -> None:
    typed = {
        "LM01": "sec",
        "LM02": " Secure ",
        "LM03": "EMB",
        "LM04": "beginning",
        "LM05": "Dev\u00a0",
        "LM06": "developing",
    }
    report, valid = check_file(make(judgements=typed), registry)
    assert report.status == "accepted", report.errors
    assert valid is not None
    expected = {"LM01": "Sec", "LM02": "Sec", "LM03": "Emb", "LM04": "Beg", "LM05": "Dev"}
    expected["LM06"] = "Dev"
    assert {k: valid.judgements[k] for k in typed} == expected
    assert set(valid.judgements) == {st.id for _, st in spr.judged_statements()}


def test_a_whole_report_in_one_assertion(spr: Framework, registry: Registry, make) -> None:
    path = make(judgements={"EN04": "Embeded", "EN05": None}, cover={"review_date": "31/02/2026"})
    report, _ = check_file(path, registry)
    judgement = cell_layout.JUDGEMENT_COL
    assert report.flatten() == [
        [
            "invalid-date",
            cell_layout.COVER_SHEET,
            cell_of(path, cell_layout.COVER_SHEET, "review_date", 3),
        ],
        ["invalid-judgement", ENV, cell_of(path, ENV, "EN04", judgement)],
        ["blank-judgement", ENV, cell_of(path, ENV, "EN05", judgement)],
    ]
    assert report.flatten(["code", "statement", "value"])[1:] == [
        ["invalid-judgement", "EN04", "Embeded"],
        ["blank-judgement", "EN05", None],
    ]


def test_every_code_has_a_title_and_its_message_leaves_the_location_to_the_issue() -> None:
    for code, problem in CODES.items():
        assert problem.code == code and problem.title
    located = Issue.of(
        "invalid-judgement", sheet="1 Leadership", cell="C4", value="Embeded", choices="A or B"
    )
    assert located.message == "'Embeded' is not a judgement: the choices are A or B."
    assert (located.sheet, located.cell) == ("1 Leadership", "C4")
    assert Issue.of("empty-file").message == CODES["empty-file"].template
    with pytest.raises(TypeError):
        Issue.of("invalid-judgement", "typed message")  # type: ignore[misc]


def test_invalid_judgement_names_sheet_cell_statement_value_and_suggestion(
    registry: Registry, make
) -> None:
    path = make(judgements={"EN04": "Embeded", "EN05": "Maybe", "EN06": 3})
    report, valid = check_file(path, registry)
    assert report.status == "rejected" and valid is None
    found = {issue.statement: issue for issue in by_code(report, "invalid-judgement")}
    assert set(found) == {"EN04", "EN05", "EN06"}
    cell = cell_of(path, ENV, "EN04", cell_layout.JUDGEMENT_COL)
    embeded = found["EN04"]
    assert (embeded.sheet, embeded.cell, embeded.value) == (ENV, cell, "Embeded")
    assert embeded.message == (
        "'Embeded' is not a judgement: the choices are Beginning, Developing, Secure, Embedded "
        "or Not applicable. Did you mean Embedded?"
    )
    assert split_location(embeded) == (
        f"Sheet '{ENV}', cell {cell} (statement EN04)",
        embeded.message,
    )
    assert "Did you mean" not in found["EN05"].message
    assert found["EN06"].message.endswith("Did you mean Secure?")  # 3 is Secure's score


NOT_APPLICABLE_TYPED = {
    "EN01": "Not applicable",
    "EN02": "not APPLICABLE ",
    "EN03": "N/A",
    "EN04": "n/a",
    "EN05": "NA",
    "EN06": "n.a.",
}


def test_not_applicable_in_any_spelling_is_stored_apart_from_a_blank(
    registry: Registry, make
) -> None:
    path = make(judgements={**NOT_APPLICABLE_TYPED, "EN07": None})
    report, valid = check_file(path, registry)
    assert report.status == "accepted", report.errors
    assert valid is not None
    stored = {sid: valid.judgements[sid] for sid in NOT_APPLICABLE_TYPED}
    assert set(stored.values()) == {"N/A"}  # one distinct value, never None or a level's code
    assert valid.judgements["EN07"] is None
    # only the real blank is "not judged"; Not applicable is an answer, never a blank's warning
    assert {i.statement for i in by_code(report, "blank-judgement")} == {"EN07"}
    assert not by_code(report, "invalid-judgement")


def test_all_not_applicable_is_not_a_return_without_judgements(
    spr: Framework, registry: Registry, make
) -> None:
    report, valid = check_file(
        make(judgements={s.id: "N/A" for _, s in spr.judged_statements()}), registry
    )
    assert report.status == "accepted" and valid is not None
    assert "no-judgements" not in codes(report.errors)


def test_a_near_miss_of_not_applicable_asks_did_you_mean(registry: Registry, make) -> None:
    report, _ = check_file(make(judgements={"EN01": "Not aplicable"}), registry)
    [issue] = by_code(report, "invalid-judgement")
    assert issue.statement == "EN01" and issue.message.endswith("Did you mean Not applicable?")


@pytest.mark.parametrize("typed", ["Not applicable", "N/A", "na"])
def test_a_framework_without_not_applicable_rejects_it(
    registry: Registry, tmp_path: Path, typed: str
) -> None:
    mainstream = registry.latest("send-review-mainstream")
    assert not mainstream.not_applicable
    statement = next(st for _, st in mainstream.judged_statements())
    path = returns.valid_return(mainstream, tmp_path, judgements={statement.id: typed})
    report, valid = check_file(path, registry)
    assert report.status == "rejected" and valid is None
    [issue] = by_code(report, "invalid-judgement")
    assert (issue.statement, issue.value) == (statement.id, typed)
    assert "the choices are Beginning, Developing, Secure or Embedded." in issue.message
    assert "Not applicable from" not in issue.message


def test_blank_judgements_are_warnings_and_count_as_not_judged(registry: Registry, make) -> None:
    report, valid = check_file(make(judgements={"EN01": None, "EN02": "   "}), registry)
    assert report.status == "accepted"
    assert valid is not None
    assert valid.judgements["EN01"] is None and valid.judgements["EN02"] is None
    blanks = by_code(report, "blank-judgement")
    assert {i.statement for i in blanks} == {"EN01", "EN02"}
    assert all(i.severity is Severity.WARNING for i in blanks)
    assert {w.code for w in valid.warnings} >= {"blank-judgement"}


def test_no_judgement_at_all_is_rejected_once(spr: Framework, registry: Registry, make) -> None:
    nothing = {st.id: None for _, st in spr.judged_statements()}
    report, valid = check_file(make(judgements=nothing), registry)
    assert valid is None and report.status == "rejected"
    assert [i.code for i in report.errors if i.code != "missing-next-steps"] == ["no-judgements"]


@pytest.mark.parametrize("field", ["school", "review_date"])
def test_required_cover_fields(field: str, registry: Registry, make, tmp_path: Path) -> None:
    filled = make()
    ref = cell_of(filled, cell_layout.COVER_SHEET, field, cell_layout.COVER_VALUE_COL)
    path = corpus.set_cells_copy(filled, tmp_path, {(cell_layout.COVER_SHEET, ref): None})
    report, valid = check_file(path, registry)
    assert valid is None and report.status == "rejected"
    (issue,) = by_code(report, "missing-field")
    assert issue.sheet == cell_layout.COVER_SHEET
    assert issue.cell == cell_of(path, cell_layout.COVER_SHEET, field, cell_layout.COVER_VALUE_COL)
    assert "required" in issue.message


SERIAL_3_OCT_2026 = (date(2026, 10, 3) - date(1899, 12, 30)).days


@pytest.mark.parametrize(
    "typed",
    [
        date(2026, 10, 3),
        datetime(2026, 10, 3, 9, 30),
        float(SERIAL_3_OCT_2026),
        "03/10/2026",
        "3/10/26",
        "3 Oct 2026",
        "3rd October 2026",
        "2026-10-03",
        " 03.10.2026 ",
    ],
)
def test_review_date_in_every_form(typed: object, registry: Registry, make) -> None:
    report, valid = check_file(make(cover={"review_date": typed}), registry)
    assert report.status == "accepted", report.errors
    assert valid is not None and valid.review_date == date(2026, 10, 3)
    assert report.review_date == "2026-10-03"
    assert valid.cover["review_date"] == "2026-10-03"


@pytest.mark.parametrize("typed", ["next week", "31/02/2026", "03/10/1926"])
def test_review_date_that_is_not_a_date(typed: str, registry: Registry, make) -> None:
    report, valid = check_file(make(cover={"review_date": typed}), registry)
    assert valid is None
    (issue,) = by_code(report, "invalid-date")
    assert issue.value == typed and "03/10/2026" in issue.advice


def test_parse_date_is_day_first() -> None:
    assert parse_date("04/05/2026") == date(2026, 5, 4)
    assert parse_date(True) is None and parse_date(-5) is None


@pytest.mark.parametrize(
    ("typed", "judge"),
    [
        ("External reviewer", "external-review"),
        (" peer reviewer ", "peer-review"),
        ("Self-evaluation", "self-evaluation"),
    ],
)
def test_judge_cover_field(typed: object, judge: str, registry: Registry, make) -> None:
    report, valid = check_file(make(cover={"judge": typed}), registry)
    assert report.status == "accepted", report.errors
    assert valid is not None and valid.judge == judge


def test_a_blank_judge_is_an_error_not_a_self_evaluation(
    registry: Registry, make, tmp_path: Path
) -> None:
    path = make(cover={"judge": None})
    report, valid = check_file(path, registry)
    assert valid is None and report.status == "rejected"
    cell = cell_of(path, cell_layout.COVER_SHEET, "judge", cell_layout.COVER_VALUE_COL)
    assert report.flatten() == [["missing-judge", cell_layout.COVER_SHEET, cell]]
    assert "Self-evaluation" in report.errors[0].advice


def test_judge_not_among_the_choices(registry: Registry, make) -> None:
    report, _ = check_file(make(cover={"judge": "External reveiwer"}), registry)
    (issue,) = by_code(report, "invalid-choice")
    assert issue.message.endswith("Did you mean External reviewer?")


@pytest.mark.parametrize(
    ("typed", "urn"), [(123456, "123456"), (123456.0, "123456"), (" 123 456 ", "123456")]
)
def test_urn_normalised_to_digits(typed: object, urn: str, registry: Registry, make) -> None:
    report, valid = check_file(make(cover={"urn": typed}), registry)
    assert valid is not None and valid.urn == urn and report.urn == urn


def test_urn_that_is_not_one(registry: Registry, make) -> None:
    report, valid = check_file(make(cover={"urn": "12AB56"}), registry)
    assert valid is None and codes(report.errors) == ["invalid-urn"]


def test_low_judgements_without_next_steps_is_a_query(
    spr: Framework, registry: Registry, make
) -> None:
    env = [st.id for st in spr.sheets[1].statements]
    judgements = {sid: "Secure" for sid in env} | {env[0]: "Beginning", env[3]: "Developing"}
    path = make(judgements=judgements, texts={"EN.next_steps": None})
    report, valid = check_file(path, registry)
    assert valid is not None  # a query, not an error
    (issue,) = by_code(report, "missing-next-steps")
    assert issue.sheet == ENV
    assert issue.cell == cell_of(path, ENV, "EN.next_steps", cell_layout.BOX_VALUE_COL)
    assert f"({env[0]}, {env[3]})" in issue.message and "Beginning or Developing" in issue.message
    written = make(judgements=judgements, texts={"EN.next_steps": "Refit the quiet room."})
    report, _ = check_file(written, registry)
    assert by_code(report, "missing-next-steps") == []


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("Spoke to A123456789012's parents.", "UPN"),
        ("Contact jo.bloggs@example.org about transport.", "e-mail"),
        ("Mum on 07700 900123 agreed.", "phone"),
        ("Call +44 191 496 0123.", "phone"),
    ],
)
def test_personal_data_in_free_text_is_a_warning(
    text: str, what: str, registry: Registry, make
) -> None:
    report, valid = check_file(make(texts={"LM01.evidence": text}), registry)
    assert valid is not None
    (issue,) = by_code(report, "personal-data")
    assert what in issue.message and issue.statement is None
    assert text not in issue.message  # the report does not copy the data onwards


def test_ordinary_text_is_not_personal_data() -> None:
    for text in ("Reviewed on 03/10/2026 with 12 staff.", "Budget 2026-2027: £12,500.", "Year 6"):
        assert personal_data(text) == []


def test_text_answers_are_stripped_and_too_long_text_is_an_error(
    registry: Registry, make, tmp_path: Path
) -> None:
    filled = make(texts={"LM01.evidence": "  Minutes, May.  \n"})
    report, valid = check_file(filled, registry)
    assert valid is not None and valid.texts["LM01.evidence"] == "Minutes, May."
    sheet = "1 Leadership and management"
    ref = cell_of(filled, sheet, "LM01", cell_layout.JUDGEMENT_COL + 1)
    (tmp_path / "ok").mkdir()
    at_limit = corpus.inline_text_copy(filled, tmp_path / "ok", sheet, ref, "x" * MAX_TEXT)
    report, valid = check_file(at_limit, registry)
    assert valid is not None and len(valid.texts["LM01.evidence"]) == MAX_TEXT
    too_long = corpus.inline_text_copy(filled, tmp_path, sheet, ref, "x" * (MAX_TEXT + 1))
    report, valid = check_file(too_long, registry)
    assert valid is None and codes(report.errors) == ["text-too-long"]
    assert report.errors[0].cell == ref


def test_formula_in_a_judgement_cell_is_a_warning_using_its_saved_value(
    registry: Registry, make, tmp_path: Path
) -> None:
    base = make()
    cell = cell_of(base, ENV, "EN02", cell_layout.JUDGEMENT_COL)
    path = corpus.formula_cached_copy(base, tmp_path, ENV, cell, '"Sec"&"ure"', "Secure")
    report, valid = check_file(path, registry)
    assert valid is not None and valid.judgements["EN02"] == "Sec"
    (issue,) = by_code(report, "formula-value")
    assert (issue.sheet, issue.cell) == (ENV, cell) and "never recalculates" in issue.advice


def test_check_file_report_fields_and_json(registry: Registry, make) -> None:
    path = make(cover={"trust": "North Star Trust"})
    report, valid = check_file(path, registry)
    assert valid is not None
    assert report.status == "accepted"
    assert report.sha256 == sha256(path)
    assert (report.template, report.template_version) == ("specialist-provision-review", "1.0")
    assert (report.school, report.urn, report.trust) == (
        returns.OAKFIELD.name,
        returns.OAKFIELD.urn,
        "North Star Trust",
    )
    data = report.to_json()
    for key in ("file", "status", "template", "template_version", "school", "urn"):
        assert key in data
    assert data["review_date"] == "2026-10-03"
    bad, _ = check_file(make(judgements={"EN04": "Embeded"}), registry)
    (error,) = bad.to_json()["errors"]
    assert {"code", "severity", "sheet", "cell", "message"} <= set(error)
    assert (error["code"], error["severity"]) == ("invalid-judgement", "error")


def test_rejected_report_still_says_whose_return_it_is(registry: Registry, make) -> None:
    report, valid = check_file(make(judgements={"EN04": "Embeded"}), registry)
    assert valid is None and report.status == "rejected"
    assert (report.school, report.urn, report.review_date) == (
        returns.OAKFIELD.name,
        returns.OAKFIELD.urn,
        "2026-10-03",
    )


class _BrokenRegistry(Registry):
    """A registry whose lookups fail, standing in for any unexpected fault."""

    def versions(self, framework_id: str) -> list[str]:
        raise RuntimeError("disk went away")


def test_unexpected_exceptions_become_an_internal_error_issue(make) -> None:
    path = make()
    report, valid = check_file(path, _BrokenRegistry([]))
    assert valid is None and report.status == "rejected"
    assert codes(report.errors) == ["internal-error"]
    assert "disk went away" in report.errors[0].message
    assert report.sha256 == sha256(path)


def test_plain_text_report(registry: Registry, make) -> None:
    report, _ = check_file(make(judgements={"EN04": "Embeded", "EN01": None}), registry)
    text = render_text(report)
    assert "REJECTED (1 error, 1 warning)" in text
    assert "Did you mean Embedded?" in text and "has no judgement" in text
    assert text.index("Errors") < text.index("Warnings")
    errors_txt = render_errors_file(report, None, None)
    assert errors_txt.startswith("sheet-tools could not accept this return.")
    assert "What to do: " + CODES["invalid-judgement"].advice in errors_txt
    assert report.sha256 is not None and report.sha256 in errors_txt


# --- the command -------------------------------------------------------------------------------
def test_validate_command_prints_reports_and_changes_nothing(
    registry: Registry, make, tmp_path: Path
) -> None:
    good = make()
    bad = make(judgements={"EN04": "Embeded"})
    empty = corpus.empty_file(tmp_path)
    files = [good, bad, empty]
    before = {path: sha256(path) for path in files}
    listing = sorted(p for p in tmp_path.rglob("*"))
    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(good)])
    assert result.exit_code == 0, result.output
    assert "ACCEPTED" in result.output
    result = runner.invoke(main, ["validate", *map(str, files)])
    assert result.exit_code == 1
    assert "Did you mean Embedded?" in result.output and "The file is empty" in result.output
    result = runner.invoke(main, ["validate", "--json", *map(str, files)])
    assert result.exit_code == 1
    objects = [json.loads(line) for line in result.output.splitlines()]
    assert [o["status"] for o in objects] == ["accepted", "rejected", "rejected"]
    assert [o["file"] for o in objects] == [str(p) for p in files]
    assert objects[2]["errors"][0]["code"] == "empty-file"
    assert {path: sha256(path) for path in files} == before
    assert sorted(p for p in tmp_path.rglob("*")) == listing  # nothing written anywhere


def test_validate_command_on_a_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", "--json", str(tmp_path / "gone.xlsx")])
    assert result.exit_code == 1
    assert json.loads(result.output)["errors"][0]["code"] == "unreadable-file"


def test_suggestions_for_near_misses() -> None:
    options = ["beginning", "beg", "developing", "dev", "secure", "sec", "embedded", "emb"]
    assert closest("embeded", options) == "embedded"
    assert closest("secur", options) == "secure"
    assert closest("maybe", options) is None
    assert closest("peer", ["self-evaluation", "external reviewer", "peer reviewer"]) == (
        "peer reviewer"
    )
