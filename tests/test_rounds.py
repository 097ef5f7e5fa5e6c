"""Review rounds and school identity, end to end on real files: workbooks issued with ``generate``,
filled as schools fill them, ingested and summarised through the CLI, and the outbox read back.

Each test is one of the ways typed identity used to break the roll-up: a trust typed in another
case, a URN left blank, a school moved or renamed on the roster, a self-evaluation and a visit on
different dates, a mistyped date, a blank "Judgements made by", the Diagnostic Review's report and
follow-up visits, a roster trust with nothing returned.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.cli import main
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.definitions.rounds import term_of
from sheet_tools.demo import sample_answers
from sheet_tools.summarise import DATA_HEADERS, summarise_affected

from .support.trust import (
    AUTUMN,
    SPR,
    Trust,
    area_scores_of,
    expected_area_means,
    run,
    sheet_rows,
    table_records,
    table_rows,
)


# --- the trust typed in another case -----------------------------------------------------------
def test_a_trust_typed_in_another_case_is_one_trust_and_stays_whole(
    trust: Trust, registry: Registry, spr: Framework
) -> None:
    oak = trust.issue(SPR, "Oakfield Primary", "140101")
    ash = trust.issue(SPR, "Ash Grove", "140102")
    first = trust.fill(oak, SPR, seed=1, cover={"trust": "Oak Trust"})
    second = trust.fill(ash, SPR, seed=2, cover={"trust": "oak trust."})
    reports = trust.ingest(first, second)
    assert [r["trust"] for r in reports] == ["Oak Trust", "Oak Trust"]
    trust.summarise()
    assert {name.split("/")[0] for name in trust.outbox_files()} == {"Oak Trust"}

    # the watcher's incremental rebuild of "Oak Trust" after Oakfield re-sends keeps Ash Grove
    again = trust.fill(oak, SPR, seed=3, cover={"trust": "OAK TRUST"})
    trust.ingest(again)
    with trust.store() as store:
        summarise_affected(
            store, registry, trust.outbox, {(SPR, "140101", "OAK TRUST")}, roster=None
        )
    book = trust.outbox / "Oak Trust" / f"Oak Trust - {SPR} - trust summary.xlsx"
    assert set(area_scores_of(book)) == {"Oakfield Primary", "Ash Grove"}


def test_a_near_miss_of_a_known_trust_is_a_query_with_did_you_mean(trust: Trust) -> None:
    trust.ingest(
        trust.fill(trust.issue(SPR, "Oakfield", "140101"), SPR, cover={"trust": "Oak Trust"})
    )
    typo = trust.fill(trust.issue(SPR, "Ash Grove", "140102"), SPR, cover={"trust": "Oak Trst"})
    [report] = trust.ingest(typo)
    assert report["status"] == "accepted"
    [query] = [e for e in report["errors"] if e["code"] == "similar-trust"]
    assert query["severity"] == "warning" and "Did you mean Oak Trust?" in query["message"]
    assert query["sheet"] == "Cover" and query["value"] == "Oak Trst"


# --- the URN left blank --------------------------------------------------------------------------
def test_a_resend_with_the_urn_left_blank_is_the_same_school(trust: Trust, spr: Framework) -> None:
    issued = trust.issue(SPR, "Oakfield Primary", "140101", "Oak Trust")
    first = trust.fill(issued, SPR, seed=1)
    resent = trust.fill(issued, SPR, seed=2, cover={"urn": None})
    trust.ingest(first)
    [report] = trust.ingest(resent)
    assert report["status"] == "accepted" and report["urn"] == "140101"
    trust.summarise()
    with trust.store() as store:
        current = store.returns(SPR)
    assert [(r.school_key, r.urn) for r in current] == [("140101", "140101")]
    book = trust.outbox / "Oak Trust" / f"Oak Trust - {SPR} - trust summary.xlsx"
    scores = area_scores_of(book)
    assert list(scores) == ["Oakfield Primary"]
    labels = sample_answers(spr, 2).judgements
    areas = expected_area_means(spr, labels)
    assert scores["Oakfield Primary"][: len(areas)] == pytest.approx(areas)


def test_a_typed_urn_other_than_the_issued_one_is_a_query_naming_both(trust: Trust) -> None:
    issued = trust.issue(SPR, "Oakfield Primary", "140101", "Oak Trust")
    [report] = trust.ingest(trust.fill(issued, SPR, cover={"urn": 140199}))
    assert report["status"] == "accepted" and report["urn"] == "140101"
    [query] = [e for e in report["errors"] if e["code"] == "urn-mismatch"]
    assert "140199" in query["message"] and "140101" in query["message"]


# --- a school moved or renamed on the roster ---------------------------------------------------
def test_a_school_moved_or_renamed_on_the_roster_leaves_nothing_of_its_old_state(
    trust: Trust,
) -> None:
    trust.roster(
        [("Oakfield Primary", "140101", "Oak Trust"), ("Ash Grove", "140102", "Oak Trust")]
    )
    for name, urn, seed in (("Oakfield Primary", "140101", 1), ("Ash Grove", "140102", 2)):
        trust.ingest(trust.fill(trust.issue(SPR, name, urn, "Oak Trust"), SPR, seed=seed))
    trust.summarise()
    assert f"Oak Trust/Oakfield Primary (140101) - {SPR}.xlsx" in trust.outbox_files()
    stray = trust.outbox / "Oak Trust" / "notes for the trust board.docx"
    stray.write_text("not ours", encoding="utf-8")

    # Oakfield moves to Elm Trust and is renamed; the roster is the source of truth
    trust.roster(
        [
            ("Oakfield Community Primary", "140101", "Elm Trust"),
            ("Ash Grove", "140102", "Oak Trust"),
        ]
    )
    trust.summarise()
    files = trust.outbox_files()
    assert not [name for name in files if "Oakfield Primary" in name]
    assert f"Elm Trust/Oakfield Community Primary (140101) - {SPR}.xlsx" in files
    assert f"Elm Trust/Elm Trust - {SPR} - trust summary.xlsx" in files
    assert stray.read_text(encoding="utf-8") == "not ours"  # never touched: not ours to remove
    oak = area_scores_of(trust.outbox / "Oak Trust" / f"Oak Trust - {SPR} - trust summary.xlsx")
    elm = area_scores_of(trust.outbox / "Elm Trust" / f"Elm Trust - {SPR} - trust summary.xlsx")
    assert list(oak) == ["Ash Grove"] and list(elm) == ["Oakfield Community Primary"]


def test_every_roster_trust_gets_its_chase_list_even_with_nothing_returned(trust: Trust) -> None:
    trust.roster(
        [
            ("Oakfield Primary", "140101", "Oak Trust"),
            ("Birch Lane", "140201", "Birch Trust"),
            ("Cedar Road", "140202", "Birch Trust"),
        ]
    )
    trust.ingest(trust.fill(trust.issue(SPR, "Oakfield Primary", "140101", "Oak Trust"), SPR))
    trust.summarise()
    book = trust.outbox / "Birch Trust" / f"Birch Trust - {SPR} - trust summary.xlsx"
    log = table_rows(book, "Returns log")
    assert log[0][:3] == ("School", "URN", "Status") or log[0][:3] == ["School", "URN", "Status"]
    statuses = {row[0]: row[2] for row in log[1:] if row[0] and row[1]}
    assert statuses == {"Birch Lane": "Outstanding", "Cedar Road": "Outstanding"}


# --- a self-evaluation and a visit of one round, on different dates ----------------------------
def test_the_self_evaluation_and_the_reviewers_visit_of_a_round_sit_side_by_side(
    trust: Trust, spr: Framework
) -> None:
    own = trust.issue(SPR, "Oakfield Primary", "140101", "Oak Trust", judge="self-evaluation")
    visit = trust.issue(SPR, "Oakfield Primary", "140101", "Oak Trust", judge="external-reviewer")
    mine = {"LM01": "Embedded", "LM02": "Secure"}
    theirs = {"LM01": "Developing", "LM02": "Secure"}
    trust.ingest(
        trust.fill(own, SPR, seed=1, judgements=mine, cover={"review_date": date(2026, 9, 20)}),
        trust.fill(visit, SPR, seed=2, judgements=theirs, cover={"review_date": date(2026, 10, 3)}),
    )
    trust.summarise()
    summary = trust.outbox / "Oak Trust" / f"Oakfield Primary (140101) - {SPR}.xlsx"
    book = load_workbook(summary)
    assert "Self-evaluation vs review" in book.sheetnames
    rows = {row[5]: row for row in book["Self-evaluation vs review"].iter_rows(values_only=True)}
    assert rows["LM01"][1:5] == ("Embedded", "Developing", -2, "Differs by 2 levels")
    assert rows["LM02"][1:3] == ("Secure", "Secure")
    data = sheet_rows(summary, "Data")
    assert tuple(data[0]) == DATA_HEADERS and list(DATA_HEADERS[-2:]) == ["round", "judge"]
    # both voices kept: the school's rows and the reviewer's, the judge column saying whose
    judged = {row[7]: {} for row in data[1:]}
    for row in data[1:]:
        judged[row[7]][row[-1]] = row[9]
    assert {(row[-2], row[-1]) for row in data[1:]} == {
        (AUTUMN, "external-review"),
        (AUTUMN, "self-evaluation"),
    }
    assert judged["LM01"] == {"self-evaluation": "Embedded", "external-review": "Developing"}


# --- a mistyped date, corrected; a return withdrawn and restored -------------------------------
def test_a_mistyped_year_is_queried_and_its_correction_supersedes_it(trust: Trust) -> None:
    issued = trust.issue(SPR, "Oakfield Primary", "140101", "Oak Trust")
    [wrong] = trust.ingest(
        trust.fill(issued, SPR, seed=1, cover={"review_date": date(2027, 10, 3)})
    )
    assert wrong["status"] == "accepted" and wrong["round"] == AUTUMN
    [query] = [e for e in wrong["errors"] if e["code"] == "unlikely-review-date"]
    assert "03/10/2027" in query["message"] and "future" in query["message"]
    [right] = trust.ingest(
        trust.fill(issued, SPR, seed=2, cover={"review_date": date(2026, 10, 3)})
    )
    assert not [e for e in right["errors"] if e["code"] == "unlikely-review-date"]
    with trust.store() as store:
        current = store.returns(SPR)
        everything = store.returns(SPR, include_superseded=True)
    assert [(r.review_date, r.round) for r in current] == [(date(2026, 10, 3), AUTUMN)]
    assert [r.superseded for r in everything] == [True, False]


def test_a_return_withdrawn_leaves_the_outbox_and_restored_comes_back(trust: Trust) -> None:
    first = trust.fill(trust.issue(SPR, "Oakfield Primary", "140101", "Oak Trust"), SPR, seed=1)
    late = trust.fill(trust.issue(SPR, "Ash Grove", "140102", "Oak Trust"), SPR, seed=2)
    trust.ingest(first, late)
    trust.summarise()
    ash = f"Oak Trust/Ash Grove (140102) - {SPR}.xlsx"
    assert ash in trust.outbox_files()
    listing = run("returns", "list", "--workspace", str(trust.root), "--school", "ash", "--json")
    [row] = [json.loads(line) for line in listing.splitlines()]
    assert (row["school"], row["status"], row["round"]) == ("Ash Grove", "current", AUTUMN)

    output = run(
        "returns", "withdraw", str(row["id"]), "--reason", "sent to the wrong trust",
        "--workspace", str(trust.root),
    )  # fmt: skip
    assert f"Withdrew return {row['id']}" in output
    assert not [name for name in trust.outbox_files() if "Ash Grove" in name]
    book = trust.outbox / "Oak Trust" / f"Oak Trust - {SPR} - trust summary.xlsx"
    assert list(area_scores_of(book)) == ["Oakfield Primary"]
    [row] = [
        json.loads(line)
        for line in run("returns", "list", "--workspace", str(trust.root), "--json").splitlines()
        if json.loads(line)["school"] == "Ash Grove"
    ]
    assert row["status"] == "withdrawn"

    run("returns", "restore", str(row["id"]), "--reason", "it was ours after all",
        "--workspace", str(trust.root))  # fmt: skip
    assert ash in trust.outbox_files()
    provenance = table_rows(trust.outbox / ash, "Provenance")
    history = [r for r in provenance if r[0] in ("Withdrawn", "Restored")]
    assert [(r[0], r[1], r[3]) for r in history] == [
        ("Withdrawn", row["id"], "sent to the wrong trust"),
        ("Restored", row["id"], "it was ours after all"),
    ]


def test_a_withdrawn_correction_brings_back_the_return_it_superseded(trust: Trust) -> None:
    issued = trust.issue(SPR, "Oakfield Primary", "140101", "Oak Trust")
    first, second = trust.fill(issued, SPR, seed=1), trust.fill(issued, SPR, seed=2)
    trust.ingest(first, second)
    with trust.store() as store:
        older, newer = store.returns(SPR, include_superseded=True)
        store.withdraw(newer.id, "the wrong file", "admin")
        assert [r.id for r in store.returns(SPR)] == [older.id]
        with pytest.raises(Exception, match="already withdrawn"):
            store.withdraw(newer.id, "again", "admin")


# --- whose judgements --------------------------------------------------------------------------
def test_a_blank_judge_never_supersedes_the_real_self_evaluation(trust: Trust) -> None:
    issued = trust.issue(SPR, "Oakfield Primary", "140101", "Oak Trust")
    [good] = trust.ingest(trust.fill(issued, SPR, seed=1))
    [blank] = trust.ingest(trust.fill(issued, SPR, seed=2, cover={"judge": None}))
    assert good["status"] == "accepted" and blank["status"] == "rejected"
    assert [e["code"] for e in blank["errors"] if e["severity"] == "error"] == ["missing-judge"]
    with trust.store() as store:
        assert [r.sha256 for r in store.returns(SPR)] == [good["sha256"]]


def test_a_workbook_issued_to_a_role_needs_no_judge_typed(trust: Trust) -> None:
    issued = trust.issue(SPR, "Oakfield Primary", "140101", "Oak Trust", judge="peer-reviewer")
    cover = load_workbook(issued)["Cover"]
    assert "Peer reviewer" in [cell.value for cell in cover["C"]]
    [report] = trust.ingest(trust.fill(issued, SPR, cover={"judge": None}))
    assert report["status"] == "accepted"
    with trust.store() as store:
        assert [r.judge for r in store.returns(SPR)] == ["peer-review"]


def test_a_return_without_a_round_goes_in_the_term_of_its_review_date(
    trust: Trust, spr: Framework, tmp_path: Path
) -> None:
    """Workbooks made before rounds carry none: the review date places them."""
    from sheet_tools.base.files import save_workbook
    from sheet_tools.definitions.roster import School
    from sheet_tools.generate.workbook import build_workbook

    old = tmp_path / "old.xlsx"
    save_workbook(build_workbook(spr, School(name="Oakfield", urn="140101", trust="Oak")), old)
    [report] = trust.ingest(trust.fill(old, SPR, cover={"review_date": date(2026, 2, 11)}))
    assert report["round"] == term_of(date(2026, 2, 11)) == "Spring 2026"


# --- the SEND Diagnostic Review as one round ---------------------------------------------------
def test_a_whole_diagnostic_review_round(trust: Trust, registry: Registry) -> None:
    self_form = registry.latest("send-review-mainstream")
    report_form = registry.latest("send-review-report")
    visit_form = registry.latest("send-review-follow-up")
    school = ("Oakfield Primary", "140101", "Oak Trust")
    own_levels = {st.id: "Secure" for _, st in self_form.judged_statements()}
    review_levels = {st.id: "Developing" for _, st in self_form.judged_statements()}
    first_theme = next(iter(own_levels))
    own_levels[first_theme] = "Embedded"
    review_levels[first_theme] = "Beginning"

    own = trust.fill(
        trust.issue(self_form.id, *school, judge="self-evaluation"),
        self_form.id,
        judgements=own_levels,
        cover={"review_date": date(2026, 9, 20)},
    )
    review = trust.fill(
        trust.issue(self_form.id, *school, judge="external-reviewer"),
        self_form.id,
        judgements=review_levels,
        cover={"review_date": date(2026, 10, 3)},
    )
    focus = [st for _, st in report_form.statements() if _.columns]
    recommendation = {st.id: f"Recommendation {n}: act on {st.id}" for n, st in enumerate(focus)}
    report = trust.fill(
        trust.issue(report_form.id, *school),
        report_form.id,
        texts={f"{sid}.recommendations": text for sid, text in recommendation.items()},
        cover={"review_date": date(2026, 10, 20)},
    )
    visits = []
    for number, day in enumerate((date(2026, 11, 10), date(2026, 11, 24)), start=1):
        visits.append(
            trust.fill(
                trust.issue(visit_form.id, *school),
                visit_form.id,
                texts={"V.actions_school": f"Visit {number}: update the provision map"},
                cover={"review_date": day},
            )
        )
    reports = trust.ingest(own, review, report, *visits)
    assert [r["status"] for r in reports] == ["accepted"] * 5
    assert {r["round"] for r in reports} == {AUTUMN}
    with trust.store() as store:
        judges = {(r.template_id, r.review_date): r.judge for r in store.returns()}
    assert judges[(report_form.id, date(2026, 10, 20))] == "external-review"
    assert judges[(visit_form.id, date(2026, 11, 10))] == "external-review"
    assert judges[(visit_form.id, date(2026, 11, 24))] == "external-review"
    trust.summarise()

    path = trust.outbox / "Oak Trust" / f"Oakfield Primary (140101) - {self_form.id}.xlsx"
    book = load_workbook(path)
    assert {"Self-evaluation vs review", "Review report", "Follow-up visits"} <= set(
        book.sheetnames
    )
    # the reviewer's judgements lead, and every number on the Overview is theirs
    overview = sheet_rows(path, "Overview")
    assert any("judgements by: External reviewer" in str(row[0]) for row in overview[:3])
    area_rows = {
        row[0]: row for row in overview if row and row[0] in {s.title for s in self_form.sheets}
    }
    for sheet in self_form.sheets:
        if not sheet.judged:
            continue
        scores = [1 if st.id == first_theme else 2 for st in sheet.statements]
        assert area_rows[sheet.title][1] == pytest.approx(sum(scores) / len(scores)), sheet.title
    # self-evaluation beside the review, theme by theme
    comparison = {
        row[5]: row for row in book["Self-evaluation vs review"].iter_rows(values_only=True)
    }
    assert comparison[first_theme][1:4] == ("Embedded", "Beginning", -3)
    # the report's recommendations and the latest visit's action points lead the next steps
    steps = [str(c) for row in sheet_rows(path, "Next steps") for c in row if c]
    for text in recommendation.values():
        assert text in steps
    assert "Visit 2: update the provision map" in steps
    assert "Visit 1: update the provision map" not in steps
    # every visit, in date order
    visit_text = [str(c) for row in sheet_rows(path, "Follow-up visits") for c in row if c]
    first_at = visit_text.index("Visit 1: 10 November 2026")
    second_at = visit_text.index("Visit 2: 24 November 2026")
    assert first_at < second_at
    assert "Visit 1: update the provision map" in visit_text[first_at:second_at]
    report_text = [str(c) for row in sheet_rows(path, "Review report") for c in row if c]
    assert all(text in report_text for text in recommendation.values())
    # the trust's one workbook of the review: the school once per area, both voices' scores
    trust_book = (
        trust.outbox / "Oak Trust" / "Oak Trust - send-diagnostic-review - trust summary.xlsx"
    )
    rows = table_records(trust_book, "Judgements")
    judged = [s for s in self_form.sheets if s.judged]
    assert [(row["School"], row["Focus area"]) for row in rows] == [
        ("Oakfield Primary", s.title) for s in judged
    ]
    levels = {"Beginning": 1, "Developing": 2, "Secure": 3, "Embedded": 4}
    for row, sheet in zip(rows, judged, strict=True):
        own_mean = sum(levels[own_levels[st.id]] for st in sheet.statements) / len(sheet.statements)
        their_mean = sum(levels[review_levels[st.id]] for st in sheet.statements) / len(
            sheet.statements
        )
        assert row["School's own"] == pytest.approx(own_mean)
        assert row["Reviewer's"] == pytest.approx(their_mean)
        assert row["Reviewer"] == "External reviewer"


def test_generate_refuses_a_self_evaluation_of_a_reviewers_form(trust: Trust) -> None:
    result = CliRunner().invoke(
        main,
        ["generate", "send-review-report", "--school", "Oak", "--judge", "self-evaluation",
         "--out", str(trust.root)],
    )  # fmt: skip
    assert result.exit_code == 2 and "reviewer" in result.output


def test_generate_defaults_to_the_school_term_of_today(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", SPR, "--school", "Oak", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [path] = tmp_path.glob("*.xlsx")
    about = {row[0]: row[1] for row in load_workbook(path)["About"].iter_rows(values_only=True)}
    assert about["round"] == term_of(date.today())
    assert len(str(about["issue_id"])) == 32
    shutil.rmtree(tmp_path)
