"""The SEND Diagnostic Review as the process it is, through the CLI on real files: a mainstream
primary (template 1) and a special school (template 2) of one trust, each through its
self-evaluation, the reviewer's workbook issued into the same folder, the report and three
follow-up visits, two of which come in one re-used workbook."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import load_workbook

from sheet_tools.definitions.frameworks import Registry
from sheet_tools.definitions.roster import read_roster

from .support.trust import AUTUMN, Trust, run, sheet_rows, table_rows

MAINSTREAM, SPECIALIST = "send-review-mainstream", "send-review-specialist"
REPORT, VISIT = "send-review-report", "send-review-follow-up"
OAK = ("Oakfield Primary", "140101", "Oak Trust")
BIRCH = ("Birch House School", "140102", "Oak Trust")


def _generate(template: str, school: tuple[str, str, str], out: Path, *extra: str) -> Path:
    name, urn, trust = school
    before = set(out.glob("*.xlsx")) if out.exists() else set()
    output = run(
        "generate", template, "--school", name, "--urn", urn, "--trust", trust,
        "--round", AUTUMN, "--out", str(out), *extra,
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
        review_path, template, seed=2, texts=review_words, cover={"review_date": date(2026, 10, 3)}
    )
    report = trust.fill(
        _generate(REPORT, school, out), REPORT, cover={"review_date": date(2026, 10, 20)}
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
            texts={"V.actions_school": f"{school[0]} visit 3"},
            cover={"review_date": date(2026, 12, 10)},
        )
    )
    reports = trust.ingest(own, review, report, *visits)
    assert [r["status"] for r in reports] == ["accepted"] * 6, reports
    return {"own": own_words, "review": review_words}


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
        for n in (1, 2, 3):
            assert f"{name} visit {n}" in visits
        # the comparison is headed by its round
        comparison = _texts(path, "Self-evaluation vs review")
        assert any(text.startswith(f"{AUTUMN} round:") for text in comparison)
    # neither school is outstanding for the other's framework
    for template, school in ((MAINSTREAM, OAK), (SPECIALIST, BIRCH)):
        log = table_rows(folder / f"Oak Trust - {template} - trust summary.xlsx", "Returns log")
        listed = {row[0] for row in log[1:] if row[0] and row[1]}
        assert listed == {school[0]}, (template, log)


def test_the_roster_frameworks_column_outranks_the_register_type(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "school,urn,trust,frameworks,TypeOfEstablishment (name)\n"
        "Oakfield,140101,Oak,send-review-specialist; send-review-report,Community school\n"
        "Birch,140102,Oak,,Pupil referral unit\n"
        "Cedar,140103,Oak,,\n",
        encoding="utf-8",
    )
    oak, birch, cedar = read_roster(roster)
    assert oak.takes(SPECIALIST) and oak.takes(REPORT) and not oak.takes(MAINSTREAM)
    assert birch.takes(SPECIALIST) and not birch.takes(MAINSTREAM) and birch.takes(VISIT)
    assert cedar.takes(SPECIALIST) and cedar.takes(MAINSTREAM)
