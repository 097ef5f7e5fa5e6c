"""Summary workbooks, built from a real store in tmp_path and read back with openpyxl.

Every expected number is worked out here from the judgements the test itself wrote (SCORE below,
not the program's scale lookup), never copied from the program's output.
"""

from __future__ import annotations

import hashlib
import random
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools import summarise
from sheet_tools.base.keys import school_key
from sheet_tools.cli import main
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.definitions.roster import School
from sheet_tools.intake.returns import ValidReturn
from sheet_tools.store.facade import Rejection, Store
from sheet_tools.summarise import (
    DATA_HEADERS,
    area_scores,
    charts,
    school_summary_path,
    summarise_affected,
    summarise_all,
    trust_area_means,
    trust_summary_path,
    writing,
)
from sheet_tools.summarise.cells import TABLE_TOP
from tests.support.helpers import workspace

SPR = "specialist-provision-review"
SCORE = {"Beg": 1, "Dev": 2, "Sec": 3, "Emb": 4}
LABEL = {"Beg": "Beginning", "Dev": "Developing", "Sec": "Secure", "Emb": "Embedded"}
JUDGE_COVER = {
    "self-evaluation": "Self-evaluation",
    "external-review": "External reviewer",
    "peer-review": "Peer reviewer",
}
TRUST = "Northern Lights Learning Trust"
OTHER_TRUST = "Harbour Schools Trust"
TOLERANCE = 1e-9


# --- making returns ----------------------------------------------------------------------------
def judgements_for(framework: Framework, seed: int, blank_share: float = 0.15) -> dict:
    rng = random.Random(seed)
    return {
        statement.id: (None if rng.random() < blank_share else rng.choice(list(SCORE)))
        for _, statement in framework.judged_statements()
    }


def texts_for(framework: Framework, school: str, seed: int) -> dict[str, str]:
    texts = {}
    for sheet in framework.sheets:
        for box in sheet.boxes:
            texts[box.id] = f"{school}: {box.role} for {sheet.title} (seed {seed})"
        for statement in sheet.statements:
            for column in sheet.columns:
                if (seed + len(statement.id)) % 3 == 0:
                    texts[f"{statement.id}.{column.id}"] = f"{column.label} for {statement.id}"
    return texts


def make_valid(
    framework: Framework,
    school: str,
    urn: str | None,
    trust: str | None,
    *,
    seed: int = 1,
    judge: str = "self-evaluation",
    review_date: date = date(2026, 10, 3),
    judgements: dict | None = None,
    texts: dict | None = None,
) -> ValidReturn:
    return ValidReturn(
        template_id=framework.id,
        template_version=framework.version,
        school=school,
        urn=urn,
        trust=trust,
        review_date=review_date,
        judge=judge,
        cover={
            "school": school,
            "urn": urn or "",
            "trust": trust or "",
            "personnel": "SENCO; deputy head",
            "reviewer": "A. Reviewer",
            "review_date": review_date.isoformat(),
            "judge": JUDGE_COVER[judge],
        },
        judgements=judgements if judgements is not None else judgements_for(framework, seed),
        texts=texts if texts is not None else texts_for(framework, school, seed),
    )


class Workspace:
    """A real store in tmp_path and the returns added to it, in order of arrival."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = Store(root / "sheet-tools.db")
        self.outbox = root / "outbox"
        self.clock = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
        self.files: dict[str, tuple[str, datetime]] = {}  # file name -> (sha256, arrived)

    def add(self, valid: ValidReturn, file_name: str | None = None) -> str:
        self.clock += timedelta(minutes=7)
        name = file_name or f"{valid.school} {valid.judge} {valid.review_date}.xlsx"
        sha = hashlib.sha256(f"{name} {self.clock}".encode()).hexdigest()
        status, _ = self.store.add_return(valid, sha256=sha, file_name=name, arrived_at=self.clock)
        assert status == "accepted"
        self.files[name] = (sha, self.clock)
        return name


@pytest.fixture
def ws(tmp_path: Path):
    space = Workspace(tmp_path)
    yield space
    space.store.close()


# --- reading outputs ---------------------------------------------------------------------------
def expected_area(framework: Framework, judgements: dict, sheet_id: str) -> float | None:
    sheet = next(s for s in framework.sheets if s.id == sheet_id)
    scores = [SCORE[judgements[s.id]] for s in sheet.statements if judgements.get(s.id)]
    return sum(scores) / len(scores) if scores else None


def judged_sheets(framework: Framework):
    return [sheet for sheet in framework.sheets if sheet.judged]


def assert_close(actual, expected, what: str) -> None:
    if expected is None:
        assert actual is None, f"{what}: expected blank, found {actual!r}"
    else:
        assert actual is not None and abs(actual - expected) < TOLERANCE, (
            f"{what}: expected {expected}, found {actual!r}"
        )


def find_row(sheet, column: int, value: object, start: int = 1) -> int:
    for row in range(start, sheet.max_row + 1):
        if sheet.cell(row=row, column=column).value == value:
            return row
    raise AssertionError(f"{value!r} not found in column {column} of {sheet.title}")


def heat_map_cell(sheet, school: str, statement_id: str):
    """The heat map's cell of ``school`` and ``statement_id``: in the block of the statement's
    area, whose header row starts "School" and holds the area's statement ids."""
    for row in range(1, sheet.max_row + 1):
        if sheet.cell(row=row, column=1).value != "School":
            continue
        ids = [sheet.cell(row=row, column=c).value for c in range(2, sheet.max_column + 1)]
        if statement_id in ids:
            return sheet.cell(
                row=find_row(sheet, 1, school, row), column=2 + ids.index(statement_id)
            )
    raise AssertionError(f"{statement_id} has no column on {sheet.title}")


def column_values(sheet, column: int, first: int = 1) -> list:
    return [sheet.cell(row=r, column=column).value for r in range(first, sheet.max_row + 1)]


def school_book(outbox: Path, school: str, urn: str | None, trust: str | None, tid: str = SPR):
    path = school_summary_path(outbox, trust, school, urn, tid)
    assert path.is_file(), f"no summary at {path}"
    return load_workbook(path)


def trust_book(outbox: Path, trust: str | None, tid: str = SPR):
    path = trust_summary_path(outbox, trust, tid)
    assert path.is_file(), f"no trust summary at {path}"
    return load_workbook(path)


# --- scores, from plain data -------------------------------------------------------------------
def test_area_score_is_the_mean_of_judged_statements_with_counts(spr: Framework) -> None:
    sheet = spr.sheets[0]
    codes = ["Beg", "Dev", "Dev", "Sec", "Emb", "Emb", "Emb", None, None, "Sec", "Beg", None]
    judgements = {st.id: code for st, code in zip(sheet.statements, codes, strict=True)}
    first = area_scores(spr, judgements)[0]
    judged = [SCORE[c] for c in codes if c]
    assert first.score == pytest.approx(sum(judged) / len(judged))  # blanks left out, not zero
    assert first.judged == 9 and first.not_judged == 3
    assert first.counts == {"Beg": 2, "Dev": 2, "Sec": 2, "Emb": 3}
    assert first.secure_share == pytest.approx(5 / 9)


def test_an_area_nobody_judged_has_no_score(spr: Framework) -> None:
    scores = area_scores(spr, {st.id: None for _, st in spr.judged_statements()})
    assert all(item.score is None and item.secure_share is None for item in scores)
    assert all(item.judged == 0 for item in scores)


def test_trust_area_score_weighs_each_school_the_same(spr: Framework) -> None:
    area = spr.sheets[0]
    busy = {st.id: "Emb" for st in area.statements}  # 12 statements at 4
    sparse = {st.id: None for st in area.statements}
    sparse[area.statements[0].id] = "Beg"  # one statement at 1
    means = trust_area_means(spr, [area_scores(spr, busy), area_scores(spr, sparse)])
    assert means[0] == pytest.approx((4 + 1) / 2)  # not the pooled (48 + 1) / 13
    assert means[1] is None  # no school judged area 2


# --- the school summary ------------------------------------------------------------------------
def test_overview_shows_every_area_score_and_count(ws: Workspace, registry: Registry, spr) -> None:
    valid = make_valid(spr, "Oakfield Primary School", "140101", TRUST, seed=3)
    ws.add(valid)
    written = summarise_all(ws.store, registry, ws.outbox)
    book = school_book(ws.outbox, valid.school, valid.urn, TRUST)
    overview = book["Overview"]
    header = find_row(overview, 1, "Area")
    labels = [overview.cell(row=header, column=c).value for c in range(1, 10)]
    assert labels == [
        "Area",
        "Score",
        "Beginning",
        "Developing",
        "Secure",
        "Embedded",
        "Not applicable",  # the Specialist Provision Review allows it
        "Not judged",
        "Secure or better",
    ]
    assert overview.cell(row=header, column=10).value is None
    for offset, sheet in enumerate([*judged_sheets(spr), None], start=1):
        row = header + offset
        statements = (
            [st for _, st in spr.judged_statements()] if sheet is None else sheet.statements
        )
        codes = [valid.judgements[st.id] for st in statements]
        judged = [SCORE[c] for c in codes if c]
        title = "All statements" if sheet is None else sheet.title
        assert overview.cell(row=row, column=1).value == title
        assert_close(overview.cell(row=row, column=2).value, sum(judged) / len(judged), title)
        for column, code in enumerate(SCORE, start=3):
            assert overview.cell(row=row, column=column).value == codes.count(code), (title, code)
        assert overview.cell(row=row, column=7).value == 0
        assert overview.cell(row=row, column=8).value == codes.count(None)
        secure = sum(1 for s in judged if s >= 3) / len(judged)
        assert_close(overview.cell(row=row, column=9).value, secure, f"{title} secure share")
    # the cover fields, as the school wrote them
    assert overview.cell(row=find_row(overview, 1, "URN"), column=2).value == "140101"
    review_date = overview.cell(row=find_row(overview, 1, "Review date"), column=2).value
    assert review_date.date() == valid.review_date
    assert overview.cell(row=find_row(overview, 1, "Personnel involved"), column=2).value == (
        "SENCO; deputy head"
    )
    # a native radar chart and an embedded picture, and the PNG beside the workbook
    names = zipfile.ZipFile(school_summary_path(ws.outbox, TRUST, valid.school, "140101", SPR))
    charts = [n for n in names.namelist() if re.match(r"xl/charts/chart\d+\.xml", n)]
    assert any(b"radarChart" in names.read(n) for n in charts)
    assert not any(n.startswith("xl/media/") for n in names.namelist())
    png = summarise.school_chart_path(ws.outbox, TRUST, valid.school, "140101", SPR)
    assert png in written and png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_data_sheet_is_one_plain_row_per_statement(ws: Workspace, registry, spr) -> None:
    valid = make_valid(spr, "Riverside Academy", "140102", TRUST, seed=8)
    ws.add(valid)
    summarise_all(ws.store, registry, ws.outbox)
    data = school_book(ws.outbox, valid.school, valid.urn, TRUST)["Data"]
    assert [c.value for c in data[1]] == list(DATA_HEADERS)
    statements = list(spr.judged_statements())
    assert data.max_row == 1 + len(statements)
    for row, (sheet, statement) in enumerate(statements, start=2):
        code = valid.judgements[statement.id]
        got = [c.value for c in data[row]]
        assert got[:5] == ["Riverside Academy", "140102", TRUST, SPR, spr.version]
        assert got[5].date() == valid.review_date
        assert got[6:9] == [sheet.title, statement.id, statement.text]
        assert got[9] == (LABEL[code] if code else None)
        assert got[10] == (SCORE[code] if code else None)
    assert not data.merged_cells.ranges  # pivot tables need it plain


def test_next_steps_and_strengths_in_their_places(ws: Workspace, registry, spr) -> None:
    judgements = {st.id: "Sec" for _, st in spr.judged_statements()}
    lm, en = spr.sheets[0], spr.sheets[1]
    judgements[lm.statements[4].id] = "Dev"
    judgements[en.statements[2].id] = "Beg"
    judgements[lm.statements[0].id] = "Beg"
    judgements[en.statements[5].id] = "Emb"
    judgements[lm.statements[7].id] = "Emb"
    texts = {
        "LM.next_steps": "Agree the provision's development plan with governors.",
        "EN.next_steps": "Quiet room for regulation by spring.",
        "LM.strengths": "Leaders know the provision well.",
        f"{en.statements[2].id}.evidence": "No sensory audit yet.",
    }
    valid = make_valid(spr, "Moorland High", "140104", TRUST, judgements=judgements, texts=texts)
    ws.add(valid)
    summarise_all(ws.store, registry, ws.outbox)
    book = school_book(ws.outbox, valid.school, valid.urn, TRUST)

    steps = book["Next steps"]
    assert steps.cell(row=find_row(steps, 1, lm.title), column=2).value == texts["LM.next_steps"]
    assert steps.cell(row=find_row(steps, 1, en.title), column=2).value == texts["EN.next_steps"]
    priority_header = find_row(steps, 2, "Statement")
    listed = [
        (steps.cell(row=r, column=4).value, steps.cell(row=r, column=3).value)
        for r in range(priority_header + 1, steps.max_row + 1)
    ]
    # Beginning first (in framework order), then Developing; nothing Secure or above
    assert listed == [
        (lm.statements[0].id, "Beginning"),
        (en.statements[2].id, "Beginning"),
        (lm.statements[4].id, "Developing"),
    ]
    evidence_row = priority_header + 2
    assert steps.cell(row=evidence_row, column=2).value == en.statements[2].text
    assert steps.cell(row=evidence_row, column=1).value == en.title
    assert steps.cell(row=evidence_row, column=5).value == "No sensory audit yet."

    strengths = book["Strengths"]
    assert strengths.cell(row=find_row(strengths, 1, lm.title), column=2).value == (
        "Leaders know the provision well."
    )
    embedded_header = find_row(strengths, 2, "Statement")
    embedded = [
        strengths.cell(row=r, column=4).value
        for r in range(embedded_header + 1, strengths.max_row + 1)
    ]
    assert embedded == [lm.statements[7].id, en.statements[5].id]

    collated = trust_book(ws.outbox, TRUST)["Next steps"]
    rows = [[c.value for c in row] for row in collated.iter_rows(min_row=2)]
    assert [lm.title, "Moorland High", texts["LM.next_steps"]] in rows
    assert [en.title, "Moorland High", texts["EN.next_steps"]] in rows


def test_progress_against_the_earlier_round(ws: Workspace, registry, spr) -> None:
    before = judgements_for(spr, 21)
    after = dict(judgements_for(spr, 22))
    ws.add(
        make_valid(
            spr, "Oakfield", "140101", TRUST, judgements=before, review_date=date(2025, 10, 1)
        )
    )
    ws.add(make_valid(spr, "Oakfield", "140101", TRUST, judgements=after))
    summarise_all(ws.store, registry, ws.outbox)
    progress = school_book(ws.outbox, "Oakfield", "140101", TRUST)["Progress"]
    header = find_row(progress, 1, "Area")
    for offset, sheet in enumerate(judged_sheets(spr), start=1):
        row = header + offset
        old, new = expected_area(spr, before, sheet.id), expected_area(spr, after, sheet.id)
        assert progress.cell(row=row, column=1).value == sheet.title
        assert_close(progress.cell(row=row, column=2).value, old, f"{sheet.title} earlier")
        assert_close(progress.cell(row=row, column=3).value, new, f"{sheet.title} latest")
        assert_close(progress.cell(row=row, column=4).value, new - old, f"{sheet.title} change")
    changed_header = find_row(progress, 5, "ID")
    listed = {
        progress.cell(row=r, column=5).value: progress.cell(row=r, column=4).value
        for r in range(changed_header + 1, progress.max_row + 1)
        if progress.cell(row=r, column=5).value  # the changed statements, not the labels below
    }
    expected = {
        sid: (SCORE[after[sid]] - SCORE[before[sid]] if after[sid] and before[sid] else None)
        for sid in before
        if before[sid] != after[sid]
    }
    assert listed == expected
    path = school_summary_path(ws.outbox, TRUST, "Oakfield", "140101", SPR)
    assert b"radarChart" in _chart_xml(path)
    # the radar reads its axis labels from the areas broken into lines, at the sheet's foot and
    # outside its print area; the table keeps them whole
    category = rb"<c:cat><c:strRef><c:f>Progress!\$A\$(\d+):\$A\$(\d+)</c:f>"
    refs = re.findall(category, _chart_xml(path))
    assert refs
    titles = [sheet.title for sheet in judged_sheets(spr)]
    for first, last in refs:
        labels = [progress.cell(row=r, column=1).value for r in range(int(first), int(last) + 1)]
        assert labels == [charts.label_lines(title) for title in titles]
        assert all(len(line) <= 18 for label in labels for line in label.split("\n"))
        assert int(first) > changed_header
    assert all("\n" not in progress.cell(row=header + i, column=1).value for i in range(1, 4))


def _chart_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return b"".join(
            archive.read(n) for n in archive.namelist() if n.startswith("xl/charts/chart")
        )


def test_self_evaluation_beside_the_review_flags_differences(ws: Workspace, registry, spr) -> None:
    own = judgements_for(spr, 31, blank_share=0.1)
    review = judgements_for(spr, 32, blank_share=0.1)
    ws.add(make_valid(spr, "Riverside", "140102", TRUST, judgements=own))
    ws.add(make_valid(spr, "Riverside", "140102", TRUST, judgements=review, judge="peer-review"))
    summarise_all(ws.store, registry, ws.outbox)
    book = school_book(ws.outbox, "Riverside", "140102", TRUST)
    side = book["Self-evaluation vs review"]
    header = find_row(side, 6, "ID")
    flagged, differences = set(), {}
    for row in range(header + 1, side.max_row + 1):
        sid = side.cell(row=row, column=6).value
        differences[sid] = side.cell(row=row, column=4).value
        if side.cell(row=row, column=5).value:
            flagged.add(sid)
        statement = next(st for _, st in spr.judged_statements() if st.id == sid)
        assert side.cell(row=row, column=7).value == statement.text
    expected = {
        sid: (SCORE[review[sid]] - SCORE[own[sid]] if own[sid] and review[sid] else None)
        for sid in own
    }
    assert differences == expected
    assert flagged == {sid for sid, d in expected.items() if d is not None and abs(d) >= 1}
    assert flagged  # the seeds do disagree somewhere
    # the overview and the trust roll-up use the reviewer's judgements
    overview = book["Overview"]
    row = find_row(overview, 1, spr.sheets[0].title)
    assert_close(overview.cell(row=row, column=2).value, expected_area(spr, review, "lm"), "lm")


def test_trust_area_scores_every_number(ws: Workspace, registry, spr) -> None:
    schools = {
        ("Oakfield Primary School", "140101"): judgements_for(spr, 41),
        ("Riverside Academy", "140102"): judgements_for(spr, 42, blank_share=0.5),
        ("St Hilda's C of E Primary", "140103"): judgements_for(spr, 43),
    }
    for (name, urn), judgements in schools.items():
        ws.add(make_valid(spr, name, urn, TRUST, judgements=judgements))
    # Riverside's reviewer judged it too: the roll-up takes the review
    review = judgements_for(spr, 44)
    ws.add(
        make_valid(
            spr, "Riverside Academy", "140102", TRUST, judgements=review, judge="external-review"
        )
    )
    schools[("Riverside Academy", "140102")] = review
    # St Hilda's sent its self-evaluation again, corrected: the later one counts
    corrected = judgements_for(spr, 45)
    ws.add(make_valid(spr, "St Hilda's C of E Primary", "140103", TRUST, judgements=corrected))
    schools[("St Hilda's C of E Primary", "140103")] = corrected
    # a school in another trust stays out of this trust's numbers
    ws.add(make_valid(spr, "Harbour Primary", "150001", OTHER_TRUST, seed=46))
    summarise_all(ws.store, registry, ws.outbox)

    sheet = trust_book(ws.outbox, TRUST)["Area scores"]
    areas = judged_sheets(spr)
    assert sheet.cell(row=1, column=1).value.startswith("Area scores: ")  # the title in A1
    assert [sheet.cell(row=TABLE_TOP, column=c).value for c in range(1, 2 + len(areas))] == [
        "School",
        *(a.title for a in areas),
    ]
    names = sorted(schools, key=lambda k: k[0].casefold())
    for row, key in enumerate(names, start=TABLE_TOP + 1):
        assert sheet.cell(row=row, column=1).value == key[0]
        for column, area in enumerate(areas, start=2):
            expected = expected_area(spr, schools[key], area.id)
            assert_close(sheet.cell(row=row, column=column).value, expected, f"{key[0]} {area.id}")
    average_row = TABLE_TOP + 1 + len(names)
    assert sheet.cell(row=average_row, column=1).value == "Trust average"
    for column, area in enumerate(areas, start=2):
        values = [expected_area(spr, schools[k], area.id) for k in names]
        values = [v for v in values if v is not None]
        assert_close(
            sheet.cell(row=average_row, column=column).value,
            sum(values) / len(values),
            f"trust average {area.id}",
        )
    assert sheet.conditional_formatting  # the colour scale
    # Radar charts: the trust average, then each school, and a chart for each school
    radar = trust_book(ws.outbox, TRUST)["Radar charts"]
    assert radar.cell(row=TABLE_TOP + 1, column=1).value == "Trust average"
    for column in range(2, 2 + len(areas)):
        assert (
            radar.cell(row=TABLE_TOP + 1, column=column).value
            == sheet.cell(row=average_row, column=column).value
        )
        for row, _ in enumerate(names, start=TABLE_TOP + 1):
            assert (
                radar.cell(row=row + 1, column=column).value
                == sheet.cell(row=row, column=column).value
            )
    # three schools: the table shares its page with the first two charts; one break, before
    # the third chart's row (22 rows below the first, which starts under the table)
    first_charts = TABLE_TOP + 1 + len(names) + 2
    assert [b.id for b in radar.row_breaks.brk] == [first_charts + 22 - 1]
    xml = _chart_xml(trust_summary_path(ws.outbox, TRUST, SPR))
    # one per school, and the Overview's (any XML prefix)
    assert len(re.findall(rb"<(?:c:)?radarChart>", xml)) == len(names) + 1
    average = f"'Radar charts'!$B${TABLE_TOP + 1}:$F${TABLE_TOP + 1}".encode()
    assert xml.count(average) == len(names)  # every chart shows the average
    # the axis labels are the header's cells, broken into lines for the chart
    assert xml.count(f"'Radar charts'!$B${TABLE_TOP}:$F${TABLE_TOP}".encode()) == 2 * len(names)


def test_heat_map_and_priorities(ws: Workspace, registry, spr) -> None:
    first = {st.id: "Sec" for _, st in spr.judged_statements()}
    second = dict(first)
    weakest, second_weakest = spr.sheets[2].statements[3].id, spr.sheets[0].statements[1].id
    first[weakest], second[weakest] = "Beg", "Beg"
    first[second_weakest], second[second_weakest] = "Beg", "Dev"
    ws.add(make_valid(spr, "Alpha School", "140201", TRUST, judgements=first))
    ws.add(make_valid(spr, "Beta School", "140202", TRUST, judgements=second))
    summarise_all(ws.store, registry, ws.outbox)
    book = trust_book(ws.outbox, TRUST)
    heat = book["Statement heat map"]
    assert heat["A1"].value == "Statement heat map"
    # one block per area: its statement ids across, the schools down, its statements under it
    for sheet in spr.sheets:
        if not sheet.judged:
            continue
        header = find_row(heat, 1, sheet.title) + 1
        ids = [st.id for st in sheet.statements]
        got = [heat.cell(row=header, column=c).value for c in range(2, 2 + len(ids))]
        assert got == ids, sheet.title
        assert heat.cell(row=header, column=2 + len(ids)).value is None
        listed = header + 3  # under the two schools
        for offset, statement in enumerate(sheet.statements):
            text = heat.cell(row=listed + offset, column=1).value
            assert text == f"{statement.id}: {statement.text}"
    cell = heat_map_cell(heat, "Beta School", second_weakest)
    assert cell.value == "Dev"
    assert cell.fill.fgColor.rgb.endswith(spr.scale[1].colour)
    assert heat_map_cell(heat, "Alpha School", weakest).value == "Beg"
    texts = [c.value for r in heat.iter_rows() for c in r if isinstance(c.value, str)]
    assert not any("hover" in t for t in texts)
    assert all((c.font.sz or 11) >= 8 for r in heat.iter_rows() for c in r if c.value)
    priorities = book["Priorities"]
    first = TABLE_TOP + 1
    assert priorities.cell(row=first, column=4).value == weakest
    assert_close(priorities.cell(row=first, column=5).value, 1.0, "weakest mean")
    assert priorities.cell(row=first + 1, column=4).value == second_weakest
    assert_close(priorities.cell(row=first + 1, column=5).value, 1.5, "second weakest mean")


def test_provenance_names_every_return_used(ws: Workspace, registry, spr) -> None:
    earlier = ws.add(
        make_valid(spr, "Oakfield", "140101", TRUST, seed=1, review_date=date(2025, 9, 1))
    )
    own = ws.add(make_valid(spr, "Oakfield", "140101", TRUST, seed=2))
    review = ws.add(make_valid(spr, "Oakfield", "140101", TRUST, seed=3, judge="external-review"))
    summarise_all(ws.store, registry, ws.outbox)
    provenance = school_book(ws.outbox, "Oakfield", "140101", TRUST)["Provenance"]
    headers = [c.value for c in provenance[TABLE_TOP]]
    rows = {
        r[headers.index("File name")]: r
        for r in provenance.iter_rows(min_row=TABLE_TOP + 1, values_only=True)
    }
    assert set(rows) == {earlier, own, review}
    for name, (sha, arrived) in ws.files.items():
        row = rows[name]
        assert row[headers.index("SHA-256")] == sha
        assert row[headers.index("Framework version")] == spr.version
        assert row[headers.index("Arrived at (UTC)")] == arrived.replace(tzinfo=None)
    trust_rows = list(
        trust_book(ws.outbox, TRUST)["Provenance"].iter_rows(
            min_row=TABLE_TOP + 1, values_only=True
        )
    )
    assert [r[headers.index("File name")] for r in trust_rows] == [review]


def test_returns_log_for_the_administrator(ws: Workspace, registry, spr) -> None:
    ws.add(make_valid(spr, "Oakfield", "140101", TRUST, seed=5))
    ws.add(make_valid(spr, "Walk-in School", "140109", TRUST, seed=6))  # not on the roster
    ws.store.add_rejection(
        Rejection(
            file_name="Brookside.xlsx",
            sha256="b" * 64,
            arrived_at=datetime(2026, 10, 4, 8, 30, tzinfo=UTC),
            template_id=SPR,
            school="Brookside Junior",
            urn="140105",
            trust=TRUST,
            reason="'Embeded' is not one of the allowed levels (sheet '1 Leadership', cell C4)",
        )
    )
    roster = [
        School(name="Oakfield", urn="140101", trust=TRUST),
        School(name="Brookside Junior", urn="140105", trust=TRUST),
        School(name="Hollins Park", urn="140106", trust=TRUST),
        School(name="Harbour Primary", urn="150001", trust=OTHER_TRUST),
    ]
    summarise_all(ws.store, registry, ws.outbox, roster)
    log = trust_book(ws.outbox, TRUST)["Returns log"]
    headers = [c.value for c in log[TABLE_TOP]]
    entries = {
        r[0]: r
        for r in log.iter_rows(min_row=TABLE_TOP + 1, max_row=TABLE_TOP + 4, values_only=True)
        if r[0]
    }
    assert set(entries) == {"Oakfield", "Walk-in School", "Brookside Junior", "Hollins Park"}
    status, detail, when = headers.index("Status"), headers.index("Detail"), headers.index("Date")
    assert entries["Oakfield"][status] == "Returned"
    assert entries["Oakfield"][when] == ws.files[next(iter(ws.files))][1].replace(tzinfo=None)
    assert entries["Walk-in School"][status] == "Returned"
    assert entries["Brookside Junior"][status] == "Rejected"
    assert "'Embeded' is not one of the allowed levels" in entries["Brookside Junior"][detail]
    assert entries["Hollins Park"][status] == "Outstanding"
    # Harbour belongs to the other trust
    assert log.cell(row=TABLE_TOP + 5, column=1).value is None


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://evil.example","click")', "+1+2", "-2+3", "@SUM(A1:A9)", "#N/A"],
)
def test_school_text_is_stored_as_text_never_a_formula(ws: Workspace, registry, spr, text) -> None:
    texts = {"LM.next_steps": text, "LM.strengths": text, "LM01.evidence": text}
    judgements = {st.id: "Beg" for _, st in spr.judged_statements()}
    ws.add(make_valid(spr, "Oakfield", "140101", TRUST, judgements=judgements, texts=texts))
    summarise_all(ws.store, registry, ws.outbox)
    school = school_summary_path(ws.outbox, TRUST, "Oakfield", "140101", SPR)
    trust = trust_summary_path(ws.outbox, TRUST, SPR)
    found = 0
    for path in (school, trust):
        book = load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.value == text:
                        assert cell.data_type == "s", (path.name, sheet.title, cell.coordinate)
                        found += 1
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    # next steps and strengths (school), the evidence beside a priority, collated next steps
    assert found >= 4


def test_text_only_forms_get_a_summary_without_charts(ws: Workspace, registry) -> None:
    report = registry.latest("send-review-report")
    follow_up = registry.latest("send-review-follow-up")
    ws.add(
        make_valid(
            report,
            "Oakfield",
            "140101",
            TRUST,
            texts={
                "CTX.context": "12% of pupils have SEND.",
                "R.TL.recommendations": "=Use visual timetables",
            },
        )
    )
    ws.add(
        make_valid(
            follow_up,
            "Oakfield",
            "140101",
            TRUST,
            texts={
                "V.actions_school": "Train TAs in attention autism.",
            },
        )
    )
    summarise_all(ws.store, registry, ws.outbox)
    path = school_summary_path(ws.outbox, TRUST, "Oakfield", "140101", report.id)
    book = load_workbook(path)
    assert "Data" not in book.sheetnames
    responses = book["Responses"].iter_rows(min_row=TABLE_TOP + 1, values_only=True)
    answers = {r[1]: r[4] for r in responses}
    assert answers == {"CTX.context": "12% of pupils have SEND.", "R.TL": "=Use visual timetables"}
    with zipfile.ZipFile(path) as archive:
        assert not [n for n in archive.namelist() if n.startswith(("xl/charts", "xl/media"))]
    assert not summarise.school_chart_path(
        ws.outbox, TRUST, "Oakfield", "140101", report.id
    ).exists()
    follow = school_book(ws.outbox, "Oakfield", "140101", TRUST, follow_up.id)
    steps = follow["Next steps"]
    assert steps.cell(row=find_row(steps, 1, "Follow-up visit"), column=2).value == (
        "Train TAs in attention autism."
    )
    # the trust's one Diagnostic Review workbook logs both forms; none is written per form
    assert follow_up.family == report.family
    book = trust_book(ws.outbox, TRUST, follow_up.family)
    assert not trust_summary_path(ws.outbox, TRUST, follow_up.id).exists()
    log = book["Returns log"]
    forms = [log.cell(row=TABLE_TOP + n, column=3).value for n in (1, 2)]
    assert log.cell(row=TABLE_TOP + 1, column=1).value == "Oakfield"
    assert sorted(forms) == sorted([report.short_title, follow_up.short_title])


def test_outbox_names_are_safe(ws: Workspace, registry, spr) -> None:
    ws.add(make_valid(spr, "../../Evil: <School>", None, "Trust/../../x", seed=2))
    ws.add(make_valid(spr, "No Trust School", None, None, seed=3))
    written = summarise_all(ws.store, registry, ws.outbox)
    outbox = ws.outbox.resolve()
    for path in written:
        assert path.resolve().is_relative_to(outbox)
        assert path.parent.parent.resolve() == outbox  # outbox/<trust>/<file>
    assert (ws.outbox / summarise.NO_TRUST).is_dir()


def _snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def test_files_are_replaced_by_rename_never_rewritten(ws: Workspace, registry, spr) -> None:
    ws.add(make_valid(spr, "Oakfield", "140101", TRUST, seed=1))
    summarise_all(ws.store, registry, ws.outbox)
    target = school_summary_path(ws.outbox, TRUST, "Oakfield", "140101", SPR)
    with target.open("rb") as reader:  # someone has the old summary open
        before = target.read_bytes()
        ws.add(make_valid(spr, "Oakfield", "140101", TRUST, seed=2))
        summarise_all(ws.store, registry, ws.outbox)
        assert reader.read() == before  # the open file was never truncated or half-written
    assert target.read_bytes() != before
    assert not [p for p in ws.outbox.rglob("*") if p.name.startswith(".~")]  # no temp files left


def test_one_new_return_redraws_only_its_school_and_trust(ws: Workspace, registry, spr) -> None:
    for index, (name, trust) in enumerate(
        [("Oakfield", TRUST), ("Riverside", TRUST), ("Harbour", OTHER_TRUST), ("Quay", OTHER_TRUST)]
    ):
        ws.add(make_valid(spr, name, f"14030{index}", trust, seed=index))
    summarise_all(ws.store, registry, ws.outbox)
    before = _snapshot(ws.outbox)
    new = make_valid(spr, "Riverside", "140301", TRUST, seed=99, judge="external-review")
    ws.add(new)
    written = summarise_affected(
        ws.store, registry, ws.outbox, {(SPR, school_key("Riverside", "140301"), TRUST)}
    )
    changed = {
        school_summary_path(ws.outbox, TRUST, "Riverside", "140301", SPR),
        summarise.school_chart_path(ws.outbox, TRUST, "Riverside", "140301", SPR),
        trust_summary_path(ws.outbox, TRUST, SPR),
    }
    assert set(written) == changed
    after = _snapshot(ws.outbox)
    assert set(after) == set(before)
    for path, stamp in before.items():
        assert (after[path] != stamp) == (path in changed), path.name
    # and the redrawn trust summary carries the new (reviewer's) judgements
    sheet = trust_book(ws.outbox, TRUST)["Area scores"]
    row = find_row(sheet, 1, "Riverside")
    assert_close(
        sheet.cell(row=row, column=2).value, expected_area(spr, new.judgements, "lm"), "lm"
    )


def test_redrawing_a_school_keeps_its_trust_whole(ws: Workspace, registry, spr) -> None:
    """The trust workbook redrawn for one school still lists every school of the trust, however
    they spelt the trust and when none was named."""
    ws.add(make_valid(spr, "Oakfield", "140101", TRUST, seed=1))
    ws.add(make_valid(spr, "Riverside", "140102", TRUST.upper(), seed=2))  # on the roster
    ws.add(make_valid(spr, "Lone School", "140103", None, seed=3))
    ws.add(make_valid(spr, "Other Lone School", "140104", None, seed=4))
    roster = [School(name="Riverside", urn="140102", trust=TRUST)]
    summarise_all(ws.store, registry, ws.outbox, roster)
    ws.add(make_valid(spr, "Oakfield", "140101", TRUST, seed=5, judge="peer-review"))
    ws.add(make_valid(spr, "Lone School", "140103", None, seed=6, judge="peer-review"))
    affected = {(SPR, "140101", TRUST), (SPR, "140103", None)}
    summarise_affected(ws.store, registry, ws.outbox, affected, roster)
    trust = trust_book(ws.outbox, TRUST)["Area scores"]
    assert column_values(trust, 1, TABLE_TOP + 1)[:3] == ["Oakfield", "Riverside", "Trust average"]
    lone = trust_book(ws.outbox, None)["Area scores"]
    assert column_values(lone, 1, TABLE_TOP + 1)[:3] == [
        "Lone School",
        "Other Lone School",
        "Trust average",
    ]


def test_cli_summarise_rebuilds_the_outbox(ws: Workspace, spr) -> None:
    ws.add(make_valid(spr, "Oakfield", "140101", TRUST, seed=1))
    (ws.root / "roster.csv").write_text(
        f"school,urn,trust\nOakfield,140101,{TRUST}\nHollins Park,140106,{TRUST}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["summarise", "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 summary workbooks and 1 charts" in result.output
    log = trust_book(ws.outbox, TRUST)["Returns log"]
    rows = log.iter_rows(min_row=TABLE_TOP + 1, max_row=TABLE_TOP + 2, values_only=True)
    statuses = {r[0]: r[2] for r in rows}
    assert statuses == {"Oakfield": "Returned", "Hollins Park": "Outstanding"}


def test_cli_summarise_without_a_database_says_so(tmp_path: Path) -> None:
    workspace(tmp_path)
    result = CliRunner().invoke(main, ["summarise", "--workspace", str(tmp_path)])
    assert result.exit_code == 2
    assert "no returns database" in result.output
    assert not (tmp_path / "sheet-tools.db").exists()  # nothing created by asking


@pytest.mark.slow
def test_parallel_rebuild_writes_the_same_summaries(
    ws: Workspace, registry, spr, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(5):
        ws.add(make_valid(spr, f"School {index}", f"14040{index}", TRUST, seed=index))
    monkeypatch.setattr(writing, "PARALLEL_MIN_JOBS", 2)
    parallel = summarise_all(ws.store, registry, ws.outbox, workers=2)
    serial = summarise_all(ws.store, registry, ws.root / "serial", workers=1)
    assert [p.relative_to(ws.outbox) for p in parallel] == [
        p.relative_to(ws.root / "serial") for p in serial
    ]
    for path in parallel:
        if path.suffix == ".xlsx" and "trust summary" not in path.name:
            data = load_workbook(path)["Data"]
            other = load_workbook(ws.root / "serial" / path.relative_to(ws.outbox))["Data"]
            assert list(data.values) == list(other.values)
