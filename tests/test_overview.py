"""The trust workbook's Overview, end to end: two rounds of returns generated, filled, ingested and
summarised through the CLI against a roster, and every number on the Overview (received of
expected, this round's and the previous round's area means, the stacked bar's counts read through
the chart's own cell references, the five weakest statements) computed here from the judgements
the test typed. The charts must be native Excel charts and the sheet one landscape page."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from sheet_tools.definitions.frameworks import Framework
from sheet_tools.summarise import charts
from sheet_tools.summarise.cells import TABLE_TOP
from sheet_tools.summarise.scores import histories
from sheet_tools.summarise.trust import TrustData, build_trust_workbook

from .support.trust import LABEL_SCORE, SPR, Trust, kind, typed_of

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SPRING, AUTUMN = "Spring 2026", "Autumn 2026"
SCHOOLS = {"Oakfield Primary": "140101", "Ash Grove": "140102", "Birch Lane": "140103"}


def send(trust: Trust, spr: Framework, school: str, round_name: str, seed: int, **judgements):
    """One school's return of one round; returns what the test typed for its judgements."""
    day = date(2026, 3, 10) if round_name == SPRING else date(2026, 10, 3)
    issued = trust.issue(SPR, school, SCHOOLS[school], "Oak Trust", round_name=round_name)
    filled = trust.fill(issued, SPR, seed=seed, judgements=judgements, cover={"review_date": day})
    [report] = trust.ingest(filled)
    assert report["status"] == "accepted", report
    return typed_of(spr, seed, judgements)


def area_means(spr: Framework, returns: list[dict[str, object]]) -> list[float | None]:
    """Per area, the mean over schools of each school's mean level (computed here)."""
    means = []
    for sheet in (s for s in spr.sheets if s.judged):
        school_means = []
        for typed in returns:
            scores = [k for st in sheet.statements if isinstance(k := kind(typed[st.id]), int)]
            if scores:
                school_means.append(sum(scores) / len(scores))
        means.append(sum(school_means) / len(school_means) if school_means else None)
    return means


def chart_parts(path: Path) -> list[bytes]:
    with zipfile.ZipFile(path) as archive:
        return [
            archive.read(name)
            for name in archive.namelist()
            if re.fullmatch(r"xl/charts/chart\d+\.xml", name)
        ]


def overview_charts(path: Path) -> list[ElementTree.Element]:
    return [ElementTree.fromstring(xml) for xml in chart_parts(path) if b"Overview!" in xml]


def cells_at(ws, reference: str) -> list[object]:
    """The values a chart's reference ("Overview!$B$11:$B$15") points at."""
    block = reference.split("!", 1)[1].replace("$", "")
    found = ws[block]
    if not isinstance(found, tuple):
        return [found.value]
    return [row[0].value if isinstance(row, tuple) else row.value for row in found]


def series_of(chart: ElementTree.Element, ws) -> list[tuple[object, list[object]]]:
    """(name, values) of every series of a chart, read through its own cell references."""
    found = []
    for ser in chart.iter(f"{C}ser"):
        name = ser.find(f"{C}tx/{C}strRef/{C}f").text
        values = ser.find(f"{C}val/{C}numRef/{C}f").text
        found.append((cells_at(ws, name)[0], cells_at(ws, values)))
    return found


def find_row(ws, value: object, column: int = 1) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, column).value == value)


def test_the_trust_overview_shows_the_round_at_a_glance(trust: Trust, spr: Framework) -> None:
    trust.roster([(name, urn, "Oak Trust") for name, urn in SCHOOLS.items()])
    lm, env = spr.sheets[0].statements, spr.sheets[1].statements
    spring = [
        send(trust, spr, "Oakfield Primary", SPRING, 1),
        send(trust, spr, "Ash Grove", SPRING, 2),
    ]
    autumn = [  # Ash Grove has not returned this round
        send(trust, spr, "Oakfield Primary", AUTUMN, 3, **{lm[0].id: "N/A", env[0].id: None}),
        send(trust, spr, "Birch Lane", AUTUMN, 4, **{lm[0].id: "Not applicable"}),
    ]
    trust.summarise()
    [path] = (trust.outbox / "Oak Trust").glob("*trust summary.xlsx")
    book = load_workbook(path)
    assert book.sheetnames[0] == "Overview"
    ws = book["Overview"]

    # returns: received this round of those on the roster
    assert ws.cell(find_row(ws, f"Returns received ({AUTUMN})"), 2).value == 2
    assert ws.cell(find_row(ws, "Returns expected"), 2).value == 3
    assert "Overdue actions" not in {ws.cell(r, 1).value for r in range(1, ws.max_row + 1)}

    # the radar: this round's trust means, then both rounds over the one school (Oakfield)
    # that returned in both, through its references
    [radar] = [c for c in overview_charts(path) if c.find(f".//{C}radarChart") is not None]
    drawn = dict(series_of(radar, ws))
    both_now, both_before = f"{AUTUMN} (both rounds)", f"{SPRING} (both rounds)"
    assert list(drawn) == [AUTUMN, both_now, both_before]
    for name, returned in (
        (AUTUMN, autumn),
        (both_now, [autumn[0]]),
        (both_before, [spring[0]]),
    ):
        for got, want in zip(drawn[name], area_means(spr, returned), strict=True):
            assert got == pytest.approx(want), name
    said = ws.cell(find_row(ws, "Returns expected"), 3).value
    assert said == f"1 school returned in both rounds; {len(autumn)} of {len(SCHOOLS)} this round."

    # both charts read their axis labels from a block of the area names broken into lines
    # (a chart wraps none itself), the table's own area cells unbroken
    schools = sorted(trust.outbox.rglob("Oakfield Primary*.xlsx"))
    assert len(schools) == 1, sorted(trust.outbox.rglob("*.xlsx"))
    for path_ in (path, *schools):
        sheet = load_workbook(path_)["Overview"]
        table = [s.title for s in spr.sheets if s.judged]
        header = find_row(sheet, "Area")
        assert [sheet.cell(header + 1 + i, 1).value for i in range(len(table))] == table
        drawn_charts = overview_charts(path_)
        assert drawn_charts
        for chart in drawn_charts:
            for ser in chart.iter(f"{C}ser"):
                labels = cells_at(sheet, ser.find(f"{C}cat/{C}strRef/{C}f").text)
                assert labels == [charts.label_lines(title) for title in table]
                assert any("\n" in label for label in labels)
                assert all(len(line) <= 18 for label in labels for line in label.split("\n"))
    # the 100% stacked bar: one series per level, counts of this round's statements per area
    [bar] = [c for c in overview_charts(path) if c.find(f".//{C}barChart") is not None]
    assert bar.find(f".//{C}barChart/{C}grouping").get("val") == "percentStacked"
    levels = series_of(bar, ws)
    assert [name for name, _ in levels] == list(LABEL_SCORE)  # Not applicable, Not judged left out
    areas = [sheet for sheet in spr.sheets if sheet.judged]
    for name, counts in levels:
        want = [
            sum(
                1
                for typed in autumn
                for st in sheet.statements
                if kind(typed[st.id]) == LABEL_SCORE[name]
            )
            for sheet in areas
        ]
        assert counts == want, name
    # ...and Not applicable and Not judged counted beside them in the table
    header = find_row(ws, "Area")
    columns = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    for offset, sheet in enumerate(areas, start=1):
        kinds = [kind(typed[st.id]) for typed in autumn for st in sheet.statements]
        assert ws.cell(header + offset, columns["Not applicable"]).value == kinds.count("na")
        assert ws.cell(header + offset, columns["Not judged"]).value == kinds.count("blank")

    # the five weakest statements: lowest mean this round, ties in the framework's order
    expected = []
    for order, (_, statement) in enumerate(spr.judged_statements()):
        scores = [k for t in autumn if isinstance(k := kind(t[statement.id]), int)]
        if scores:
            expected.append((sum(scores) / len(scores), order, statement.id, len(scores)))
    expected.sort()
    top = find_row(ws, "The five weakest statements across the trust") + 3
    shown = [
        (ws.cell(r, 2).value, ws.cell(r, 4).value, ws.cell(r, 3).value) for r in range(top, top + 5)
    ]
    assert [(pytest.approx(m), sid, n) for m, _, sid, n in expected[:5]] == shown
    assert ws.cell(top + 5, 1).value is None

    # native charts, one landscape page
    with zipfile.ZipFile(path) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    setup = ElementTree.fromstring(sheet_xml).find(f"{MAIN}pageSetup").attrib
    fit = ElementTree.fromstring(sheet_xml).find(f"{MAIN}sheetPr/{MAIN}pageSetUpPr").attrib
    assert setup["orientation"] == "landscape" and fit["fitToPage"] == "1"
    # fitToWidth and fitToHeight default to 1 in the file format; 0 would mean "as many"
    assert setup.get("fitToWidth", "1") == "1" and setup.get("fitToHeight", "1") == "1"


def test_overdue_actions_and_text_from_schools(trust: Trust, spr: Framework) -> None:
    send(trust, spr, "Oakfield Primary", AUTUMN, 1)
    with trust.store() as store:
        members = list(histories(store.returns(SPR)).values())
    name = '=HYPERLINK("http://example.com")'  # a trust name is text a school typed
    for overdue in (None, 0, 7):
        data = TrustData(framework=spr, name=name, members=members, log=[], overdue_actions=overdue)
        path = trust.root / f"trust-{overdue}.xlsx"
        path.write_bytes(build_trust_workbook(data))
        ws = load_workbook(path)["Overview"]
        labels = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
        if overdue is None:
            assert "Overdue actions" not in labels
        else:
            assert ws.cell(labels["Overdue actions"], 2).value == overdue
        assert ws.cell(labels["Returns expected"], 2).value == 1  # no roster: its members
        assert ws["A1"].data_type == "s" and ws["A1"].value.startswith(name)
        with zipfile.ZipFile(path) as archive:
            assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_a_form_of_a_family_is_summarised_in_the_familys_trust_workbook(trust: Trust) -> None:
    """A Diagnostic Review form has no Overview of its own: the trust's one workbook of the
    review opens on its Stages, where the visit is counted and dated."""
    form = "send-review-follow-up"
    issued = trust.issue(form, "Oakfield Primary", "140101", "Oak Trust")
    [report] = trust.ingest(trust.fill(issued, form, seed=1, cover={"review_date": VISIT_DAY}))
    assert report["status"] == "accepted", report
    trust.summarise()
    [path] = (trust.outbox / "Oak Trust").glob("*trust summary.xlsx")
    assert path.name == "Oak Trust - send-diagnostic-review - trust summary.xlsx"
    book = load_workbook(path)
    assert book.sheetnames[0] == "Stages" and "Overview" not in book.sheetnames
    ws = book["Stages"]
    header = [c.value for c in ws[TABLE_TOP]]
    row = [c.value for c in ws[TABLE_TOP + 1]]
    assert row[0] == "Oakfield Primary" and row[header.index("Round")] == AUTUMN
    assert row[header.index("Follow-up visits")] == "1: 03/12/2026"
    assert not overview_charts(path)


VISIT_DAY = date(2026, 12, 3)
