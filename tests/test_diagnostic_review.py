"""The SEND Diagnostic Review as the process it is, through the CLI on real files: a mainstream
primary (template 1) and a special school (template 2) of one trust, each through its
self-evaluation, the reviewer's workbook issued into the same folder, the report and three
follow-up visits, two of which come in one re-used workbook."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.cli import main
from sheet_tools.definitions.frameworks import Registry
from sheet_tools.definitions.roster import read_roster

from .support.carry import plan_of
from .support.trust import AUTUMN, Trust, run, sheet_rows, table_records, table_rows

MAINSTREAM, SPECIALIST = "send-review-mainstream", "send-review-specialist"
REPORT, VISIT = "send-review-report", "send-review-follow-up"
OAK = ("Oakfield Primary", "140101", "Oak Trust")
BIRCH = ("Birch House School", "140102", "Oak Trust")


def _generate(template: str, school: tuple[str, str, str], out: Path, *extra: str) -> Path:
    """Generate into ``out`` (``<workspace>/issued/<name>``), recorded as issued there."""
    name, urn, trust = school
    before = set(out.glob("*.xlsx")) if out.exists() else set()
    output = run(
        "generate", template, "--school", name, "--urn", urn, "--trust", trust,
        "--round", AUTUMN, "--out", str(out), "--workspace", str(out.parents[1]), *extra,
    )  # fmt: skip
    assert "Wrote" in output, output
    [path] = set(out.glob("*.xlsx")) - before
    return path


def _texts(path: Path, sheet: str) -> list[str]:
    return [str(c) for row in sheet_rows(path, sheet) for c in row if c is not None]


def _review_one_school(
    trust: Trust, school: tuple[str, str, str], template: str, out: Path
) -> dict[str, object]:
    """Self-evaluation, the reviewer's workbook (same folder), the report and three visits."""
    form = trust.registry.latest(template)
    boxes = {b.id: b for sheet in form.sheets for b in sheet.boxes}
    own_words = {box: f"{school[0]} own words: {box}" for box in boxes}
    review_words = {box: f"Reviewer on {school[0]}: {box}" for box in boxes}
    own_path = _generate(template, school, out, "--judge", "self-evaluation")
    review_path = _generate(template, school, out, "--judge", "external-reviewer")
    assert own_path.name.endswith(f"{template} - self-evaluation.xlsx")
    assert review_path.name.endswith(f"{template} - external reviewer.xlsx")
    own = trust.fill(own_path, template, texts=own_words, cover={"review_date": date(2026, 9, 20)})
    review = trust.fill(
        review_path,
        template,
        seed=2,
        texts=review_words,
        cover={"review_date": date(2026, 10, 3), "judge": "External reviewer"},
    )
    report_form = trust.registry.latest(REPORT)
    advice = {
        st.text: f"{school[0]}: act on {st.id}" for sh, st in report_form.statements() if sh.columns
    }
    focus = {st.text: st.id for _, st in report_form.statements()}
    report = trust.fill(
        _generate(REPORT, school, out),
        REPORT,
        texts={f"{focus[area]}.recommendations": text for area, text in advice.items()},
        cover={"review_date": date(2026, 10, 20)},
    )
    # the first visit's workbook, issued with its date, is re-used for the second visit
    first_book = _generate(VISIT, school, out, "--visit-date", "03/12/2026")
    assert first_book.name.endswith(f"{VISIT} - external reviewer - visit 3 December 2026.xlsx")
    assert load_workbook(first_book)["Cover"]["C" + str(_date_row(first_book))].value.date() == (
        date(2026, 12, 3)
    )
    third_book = _generate(VISIT, school, out, "--visit-date", "10/12/2026")
    visits = [
        trust.fill(first_book, VISIT, texts={"V.actions_school": f"{school[0]} visit {n}"},
                   cover={"review_date": day})
        for n, (day) in enumerate((date(2026, 12, 3), date(2026, 12, 5)), start=1)
    ]  # fmt: skip
    visits.append(
        trust.fill(
            third_book,
            VISIT,
            texts={"V.actions_school": f"1. {school[0]} visit 3\n2. {school[0]} visit 3, again"},
            cover={"review_date": date(2026, 12, 10)},
        )
    )
    reports = trust.ingest(own, review, report, *visits)
    assert [r["status"] for r in reports] == ["accepted"] * 6, reports
    # each return filed under the role it was issued to, and saying so
    assert not any(e["code"] == "judge-mismatch" for r in reports for e in r["errors"]), reports
    return {"own": own_words, "review": review_words, "advice": advice}


def _date_row(path: Path) -> int:
    cover = load_workbook(path)["Cover"]
    return next(row[0].row for row in cover.iter_rows() if row[0].value == "review_date")


def test_two_schools_through_the_whole_diagnostic_review(trust: Trust, registry: Registry) -> None:
    (trust.root / "roster.csv").write_text(
        "school,urn,trust,TypeOfEstablishment (name)\n"
        f"{','.join(OAK)},Community school\n"
        f"{','.join(BIRCH)},Community special school\n",
        encoding="utf-8",
    )
    out = trust.root / "issued" / "review"
    words = {
        OAK[0]: _review_one_school(trust, OAK, MAINSTREAM, out),
        BIRCH[0]: _review_one_school(trust, BIRCH, SPECIALIST, out),
    }
    trust.summarise()
    folder = trust.outbox / "Oak Trust"
    for (name, urn, _), template in ((OAK, MAINSTREAM), (BIRCH, SPECIALIST)):
        path = folder / f"{name} ({urn}) - {template}.xlsx"
        # both voices, text by text, each under its author
        rows = sheet_rows(path, "Both voices")
        header = next(row for row in rows if row[0] in ("", None) and row[1])
        assert header[1] == "The school's self-evaluation, 20 September 2026"
        assert header[2] == "External reviewer, 3 October 2026"
        by_box = {row[0]: row for row in rows if row[0]}
        form = registry.latest(template)
        for sheet in form.sheets:
            for box in sheet.boxes:
                assert box.label in by_box
        texts = {(row[1], row[2]) for row in rows}
        for box, own_text in words[name]["own"].items():
            assert (own_text, words[name]["review"][box]) in texts, box
        strengths = _texts(path, "Strengths")
        own_at = strengths.index(
            "Strengths recorded by the school for each area (20 September 2026)"
        )
        theirs_at = strengths.index(
            "Strengths recorded by the external reviewer for each area (3 October 2026)"
        )
        own_strengths = [t for b, t in words[name]["own"].items() if b.endswith(".strengths")]
        their_strengths = [t for b, t in words[name]["review"].items() if b.endswith(".strengths")]
        assert all(own_at < strengths.index(t) < theirs_at for t in own_strengths)
        assert all(strengths.index(t) > theirs_at for t in their_strengths)
        # the Data sheet holds both roles
        data = sheet_rows(path, "Data")
        assert {row[-1] for row in data[1:]} == {"self-evaluation", "external-review"}
        # every visit, in date order, the re-used workbook's two visits both kept
        visits = _texts(path, "Follow-up visits")
        at = [
            visits.index(f"Visit {n}: {day} December 2026") for n, day in ((1, 3), (2, 5), (3, 10))
        ]
        assert at == sorted(at)
        for n in (1, 2):
            assert f"{name} visit {n}" in visits
        assert f"1. {name} visit 3\n2. {name} visit 3, again" in visits
        # the comparison is headed by its round
        comparison = _texts(path, "Self-evaluation vs review")
        assert any(text.startswith(f"{AUTUMN} round:") for text in comparison)
    # one trust workbook for the whole review, in place of one per form
    assert sorted(p.name for p in folder.glob("*trust summary.xlsx")) == [FAMILY_BOOK]
    book = folder / FAMILY_BOOK
    assert load_workbook(book, read_only=True).sheetnames[0] == "Stages"
    with trust.store() as store:
        issued = {i.school: min(j.issued_at.date() for j in store.issued() if j.school == i.school)
                  for i in store.issued()}  # fmt: skip
    stages = _by_school(table_rows(book, "Stages"))
    for (name, urn, _), template in ((OAK, MAINSTREAM), (BIRCH, SPECIALIST)):
        row = stages[name]
        assert row["URN"] == urn and row["Round"] == AUTUMN
        assert row["Review form"] == registry.latest(template).short_title
        assert _day(row["Identification"]) == issued[name]
        assert _day(row["Self-evaluation"]) == date(2026, 9, 20)
        assert row["Preparation"] is None
        assert _day(row["School visit"]) == date(2026, 10, 3)
        assert _day(row["Report"]) == date(2026, 10, 20)
        days = (date(2026, 12, 3), date(2026, 12, 5), date(2026, 12, 10))
        assert row["Follow-up visits"] == "3: " + ", ".join(d.strftime("%d/%m/%Y") for d in days)
        assert row["Next"] == "Further follow-up visit, if planned"
    assert set(stages) == {OAK[0], BIRCH[0]}  # a row each, none for the other's form
    # neither school is outstanding for the other's form
    log = table_rows(book, "Returns log")
    forms = {(row[0], row[2]): row[3] for row in log[1:] if row[0] and row[2]}
    oak_form, birch_form = (registry.latest(t).short_title for t in (MAINSTREAM, SPECIALIST))
    assert (OAK[0], birch_form) not in forms and (BIRCH[0], oak_form) not in forms
    assert set(forms.values()) == {"Returned"}, forms
    assert len(forms) == 6  # each school: its review form, the report and the follow-up form
    # the judgements side by side, the report's recommendations, every visit's action points
    # each row says the school's URN too, so two schools of one name can be told apart
    judged = table_records(book, "Judgements")
    for (name, urn, _), template in ((OAK, MAINSTREAM), (BIRCH, SPECIALIST)):
        areas = [s.title for s in registry.latest(template).sheets if s.judged]
        ours = [row for row in judged if row["School"] == name]
        assert [row["Focus area"] for row in ours] == areas
        assert all(row["URN"] == urn for row in ours)
        assert all(None not in (row["School's own"], row["Reviewer's"]) for row in ours)
    recommendations = table_records(book, "Recommendations")
    for name, urn, _ in (OAK, BIRCH):
        ours = [row for row in recommendations if row["School"] == name]
        assert {row["Focus area"]: row["Recommendation"] for row in ours} == words[name]["advice"]
        assert {row["URN"] for row in ours} == {urn}
    points = table_records(book, "Follow-up actions")
    for name, urn, _ in (OAK, BIRCH):
        said = [
            f"{name} visit 1",
            f"{name} visit 2",
            f"1. {name} visit 3\n2. {name} visit 3, again",
        ]
        assert [
            (row["URN"], row["Visit"], _day(row["Visit date"]), row["Action points"])
            for row in points
            if row["School"] == name
        ] == [
            (urn, n, day, text)
            for n, (day, text) in enumerate(zip(days, said, strict=True), start=1)
        ]
    # the next round starts from this one: the report's recommendations one row each, then the
    # latest visit's action points one per numbered line; areas for development only as context
    report_areas = [st.text for sh, st in registry.latest(REPORT).statements() if sh.columns]
    for (name, urn, trust_name), template in ((OAK, MAINSTREAM), (BIRCH, SPECIALIST)):
        spring = trust.root / "spring" / urn
        output = run(
            "generate", template, "--school", name, "--urn", urn, "--trust", trust_name,
            "--round", "Spring 2027", "--carry-forward", "--workspace", str(trust.root),
            "--out", str(spring),
        )  # fmt: skip
        assert "Carrying forward 1 of 1 school" in output, output
        [carried] = spring.glob("*.xlsx")
        plan = plan_of(carried)
        last_visit = "Follow-up visit, 10/12/2026"
        assert [(action, area) for _, action, area in plan.actions] == [
            *((words[name]["advice"][area], area) for area in report_areas),
            (f"{name} visit 3", last_visit),
            (f"{name} visit 3, again", last_visit),
        ]
        development = [
            box.id for sheet in registry.latest(template).sheets for box in sheet.boxes
            if box.role == "next_steps"
        ]  # fmt: skip
        assert development
        assert {(text, by) for text, _, by in plan.noted} == {
            *((words[name]["own"][box], "School") for box in development),
            *((words[name]["review"][box], "Reviewer") for box in development),
        }


FAMILY_BOOK = "Oak Trust - send-diagnostic-review - trust summary.xlsx"


def _day(value: object) -> date | None:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def _by_school(rows: list[list[object]]) -> dict[str, dict[str, object]]:
    """A table's rows by their first cell, each as {header: value}."""
    header = [str(c) for c in rows[0]]
    return {str(row[0]): dict(zip(header, row, strict=False)) for row in rows[1:] if row[0]}


def test_the_roster_frameworks_column_outranks_the_register_type(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "school,urn,trust,frameworks,TypeOfEstablishment (name)\n"
        "Oakfield,140101,Oak,send-review-specialist; send-review-report,Community school\n"
        "Birch,140102,Oak,,Pupil referral unit\n"
        "Cedar,140103,Oak,,\n"
        "Dale,140104,Oak,send-review-mainstream,\n"
        "Elm,140105,Oak,specialist-provision-review,Community special school\n",
        encoding="utf-8",
    )
    oak, birch, cedar, dale, elm = read_roster(roster)
    assert oak.takes(SPECIALIST) and oak.takes(REPORT) and not oak.takes(MAINSTREAM)
    assert birch.takes(SPECIALIST) and not birch.takes(MAINSTREAM) and birch.takes(VISIT)
    assert cedar.takes(SPECIALIST) and cedar.takes(MAINSTREAM)
    # a school listing only its self-evaluation still has the reviewer's report and visits
    assert dale.takes(MAINSTREAM) and dale.takes(REPORT) and dale.takes(VISIT)
    assert not dale.takes(SPECIALIST) and not dale.takes("specialist-provision-review")
    # a school listing no Diagnostic Review form takes none of them
    assert elm.takes("specialist-provision-review")
    assert not any(elm.takes(t) for t in (MAINSTREAM, SPECIALIST, REPORT, VISIT))


def test_a_roster_issues_and_reminds_each_school_only_the_forms_it_takes(trust: Trust) -> None:
    roster = trust.root / "roster.csv"
    roster.write_text(
        "school,urn,trust,email,TypeOfEstablishment (name)\n"
        f"{','.join(OAK)},office@oak.example.org,Academy converter\n"
        f"{','.join(BIRCH)},office@birch.example.org,Academy special converter\n",
        encoding="utf-8",
    )
    wanted = {MAINSTREAM: [OAK[0]], SPECIALIST: [BIRCH[0]], REPORT: [OAK[0], BIRCH[0]]}
    for template, schools in wanted.items():
        out = trust.root / "issued" / template
        output = run(
            "generate", template, "--roster", str(roster), "--round", AUTUMN,
            "--workspace", str(trust.root), "--out", str(out),
        )  # fmt: skip
        made = sorted(path.name.split(" (")[0] for path in out.glob("*.xlsx"))
        assert made == sorted(schools), (template, output)
        left_out = 2 - len(schools)
        assert (f"Left out {left_out} school(s)" in output) == bool(left_out), output
    # a roster where no school takes the form is refused in one line, nothing written
    only_mainstream = trust.root / "mainstream.csv"
    only_mainstream.write_text(
        f"school,urn,trust,frameworks\n{','.join(OAK)},{MAINSTREAM}\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        main, ["generate", SPECIALIST, "--roster", str(only_mainstream), "--round", AUTUMN,
               "--out", str(trust.root / "none")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"no school on the roster takes {SPECIALIST}" in result.output
    assert not (trust.root / "none").exists() or not any((trust.root / "none").iterdir())
    # nobody has returned anything: each school owes only its own self-evaluation, and the
    # reviewer's report is owed by no school
    dry = run("mail", "remind", "--round", AUTUMN, "--dry-run", "--workspace", str(trust.root))
    assert "2 school return(s) outstanding" in dry, dry
    assert REPORT not in dry and "report" not in dry.casefold(), dry
    # with nothing issued for a round, the roster says who owes what
    for template, owing in ((SPECIALIST, [BIRCH[0]]), (MAINSTREAM, [OAK[0]]), (REPORT, [])):
        dry = run(
            "mail", "remind", "--round", "Spring 2027", "--template", template, "--dry-run",
            "--workspace", str(trust.root),
        )  # fmt: skip
        reminded = re.findall(r"^  reminder  (.+?): ", dry, flags=re.MULTILINE)
        assert reminded == owing, (template, dry)
