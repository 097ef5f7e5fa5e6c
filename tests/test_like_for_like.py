"""Rounds compared like for like, end to end through the CLI: a carried-forward round that one
school of three has returned, and six schools in three groups whose names are awkward (an
apostrophe and full stop, an ampersand, a local authority with a comma). Every number is worked
out here from what the test typed."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.cli import main
from sheet_tools.definitions.frameworks import Framework
from sheet_tools.summarise.outbox import trust_summary_path

from .support.trust import SPR, Trust, area_scores_of, kind, run, table_rows, typed_of

AUTUMN, SPRING = "Autumn 2026", "Spring 2027"
OAK_TRUST = "Oak Trust"
SCHOOLS = {"Oakfield Primary": "140101", "Ash Grove": "140102", "Birch Lane": "140103"}


def area_means(spr: Framework, typed: dict[str, object]) -> list[float]:
    """One school's area scores: per judged area, the mean of its statements' levels."""
    means = []
    for sheet in (s for s in spr.sheets if s.judged):
        scores = [k for st in sheet.statements if isinstance(k := kind(typed[st.id]), int)]
        means.append(sum(scores) / len(scores))
    return means


def write_roster(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["school", "urn", "trust"])
        writer.writerows(rows)
    return path


def generate(trust: Trust, round_name: str, out: str, *extra: str) -> dict[str, Path]:
    """Workbooks for the workspace's roster, recorded as issued; by school name."""
    roster = str(trust.root / "roster.csv")
    folder = trust.root / out
    run("generate", SPR, "--roster", roster, "--round", round_name, "--workspace",
        str(trust.root), "--out", str(folder), *extra)  # fmt: skip
    return {path.name.split(" (")[0]: path for path in folder.glob("*.xlsx")}


def log_of(path: Path) -> dict[str, dict[str, object]]:
    rows = table_rows(path, "Returns log")
    headers = rows[0]
    return {row[0]: dict(zip(headers, row, strict=True)) for row in rows[1:] if row[0] and row[2]}


def overview_values(path: Path) -> dict[object, list[object]]:
    """Each row of the Overview by its first cell; the first such row (the area table comes
    before the weakest statements, whose rows also start with an area)."""
    ws = load_workbook(path)["Overview"]
    values: dict[object, list[object]] = {}
    for r in range(1, ws.max_row + 1):
        row = [ws.cell(r, c).value for c in range(2, ws.max_column + 1)]
        values.setdefault(ws.cell(r, 1).value, row)
    return values


def test_a_round_one_school_returned_is_compared_with_that_schools_own_last_round(
    trust: Trust, spr: Framework
) -> None:
    trust.roster([(name, urn, OAK_TRUST) for name, urn in SCHOOLS.items()])
    autumn_books = generate(trust, AUTUMN, "autumn")
    autumn_day = {"review_date": date(2026, 10, 5)}
    typed_autumn = {}
    for seed, school in enumerate(SCHOOLS, start=1):
        filled = trust.fill(autumn_books[school], SPR, seed=seed, cover=autumn_day)
        typed_autumn[school] = typed_of(spr, seed, {})
        if school == "Ash Grove":  # rejected first (no judge named), then put right
            bad = trust.fill(autumn_books[school], SPR, seed=seed, cover={"judge": None})
            [rejected] = trust.ingest(bad)
            assert rejected["status"] == "rejected"
        [report] = trust.ingest(filled)
        assert report["status"] == "accepted", report

    spring_books = generate(trust, SPRING, "spring", "--carry-forward")
    spring_day = {"review_date": date(2027, 2, 10)}
    oak = trust.fill(spring_books["Oakfield Primary"], SPR, seed=7, cover=spring_day)
    [report] = trust.ingest(oak)
    assert report["status"] == "accepted", report
    oak_spring = typed_of(spr, 7, {})
    trust.summarise()
    path = trust_summary_path(trust.outbox, OAK_TRUST, SPR)

    # the Overview: Spring beside Oakfield's own Autumn, and the counts said
    values = overview_values(path)
    assert values[f"Returns received ({SPRING})"][0] == 1
    assert values["Returns expected"][:2] == [
        3,
        "1 school returned in both rounds; 1 of 3 this round.",
    ]
    header = values["Area"]
    assert header[:2] == [SPRING, AUTUMN]
    areas = [sheet.title for sheet in spr.sheets if sheet.judged]
    now, before = area_means(spr, oak_spring), area_means(spr, typed_autumn["Oakfield Primary"])
    for index, title in enumerate(areas):
        row = next(v for k, v in values.items() if isinstance(k, str) and k.startswith(title))
        assert row[0] == pytest.approx(now[index]), title
        assert row[1] == pytest.approx(before[index]), title
    everyone = [area_means(spr, typed) for typed in typed_autumn.values()]
    trust_autumn = [sum(s[i] for s in everyone) / len(everyone) for i in range(len(areas))]
    assert before != pytest.approx(trust_autumn)  # the like-for-like figure is not the trust's

    # the Returns log: Spring's chase list; Ash Grove's Autumn rejection was put right
    log = log_of(path)
    assert {school: entry["Status"] for school, entry in log.items()} == {
        "Oakfield Primary": "Returned",
        "Ash Grove": "Outstanding",
        "Birch Lane": "Outstanding",
    }
    assert {entry["Round"] for entry in log.values()} == {SPRING}
    assert "rejected" not in str(log["Ash Grove"]["Detail"]).casefold()
    assert [row[0] for row in table_rows(path, "Returns log") if row[0] and not row[1]] == [
        "1 returned, 2 outstanding, 0 rejected."
    ]

    # the workspace may name the round to chase: Autumn, which every school returned
    (trust.root / "sheet-tools.toml").write_text('[rounds]\ncurrent = "autumn  2026"\n')
    trust.summarise()
    log = log_of(path)
    assert {entry["Status"] for entry in log.values()} == {"Returned"}
    assert {entry["Round"] for entry in log.values()} == {AUTUMN}
    assert overview_values(path)[f"Returns received ({AUTUMN})"][0] == 3


GROUPS = {
    "St. Cuthbert's Catholic Academy Trust": [("St Bede's RC Primary", "141001"),
                                              ("Our Lady of Lourdes", "141002")],
    "Dales & Moors Education Trust": [("Hawes Primary", "141003"), ("Moorside Academy", "141004")],
    "Bristol, City of": [("Ashton Vale Primary", "109001"), ("Brislington Nursery", "109002")],
}  # fmt: skip


def test_six_schools_in_three_groups_each_get_their_own_trust_workbook(
    trust: Trust, spr: Framework
) -> None:
    rows = [(school, urn, group) for group, items in GROUPS.items() for school, urn in items]
    write_roster(trust.root / "roster.csv", rows)
    books = generate(trust, AUTUMN, "autumn")
    assert len(books) == 6
    typed = {}
    for seed, (school, _, _) in enumerate(rows, start=11):
        [report] = trust.ingest(trust.fill(books[school], SPR, seed=seed))
        assert report["status"] == "accepted", report
        typed[school] = typed_of(spr, seed, {})
    trust.summarise()
    written = sorted(p.name for p in trust.outbox.rglob("*trust summary.xlsx"))
    assert len(written) == 3
    for group, items in GROUPS.items():
        path = trust_summary_path(trust.outbox, group, SPR)
        scores = area_scores_of(path)
        assert set(scores) == {school for school, _ in items}, group
        areas = sum(1 for sheet in spr.sheets if sheet.judged)
        for school, urn in items:
            want = area_means(spr, typed[school])
            assert scores[school][:areas] == pytest.approx(want), school
            assert str(scores[school][areas + 2]) == urn
        rows_ = table_rows(path, "Area scores")
        average = next(row for row in rows_ if row[0] == "Trust average")[1 : areas + 1]
        means = [area_means(spr, typed[school]) for school, _ in items]
        assert average == pytest.approx([sum(m[i] for m in means) / 2 for i in range(areas)])
        log = log_of(path)
        assert {school: e["Status"] for school, e in log.items()} == {
            school: "Returned" for school, _ in items
        }
        assert str(load_workbook(path)["Overview"]["A1"].value).startswith(f"{group}: ")


def test_a_round_setting_that_is_not_a_name_is_one_plain_line(trust: Trust) -> None:
    trust.roster([(name, urn, OAK_TRUST) for name, urn in SCHOOLS.items()])
    generate(trust, AUTUMN, "autumn")
    (trust.root / "sheet-tools.toml").write_text("[rounds]\ncurrent = 2026\nterm = 1\n")
    result = CliRunner().invoke(main, ["summarise", "--workspace", str(trust.root)])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert "[rounds]" in line and "current" in line and "term" in line
    assert "Traceback" not in result.output
