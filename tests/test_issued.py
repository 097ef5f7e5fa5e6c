"""What was issued is recorded, through the CLI: ``generate --workspace`` (and ``--roster`` run
inside a workspace) records each workbook in the store with the issue id its About sheet holds,
so a school issued a workbook and not yet returned is chased before any return arrives; without
a workspace ``generate`` writes workbooks and no database."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheet_tools.definitions import cell_layout
from sheet_tools.store.facade import SCHEMA_VERSION, Store
from sheet_tools.summarise.outbox import trust_summary_path

from .support.trust import SPR, Trust, run, table_rows

AUTUMN, SPRING = "Autumn 2026", "Spring 2027"
TRUST = "Oak Trust"
ROWS = [
    ("Oakfield Primary", "140101", TRUST),
    ("Ash Grove", "140102", TRUST),
    ("Birch Lane", "140103", TRUST),
]


def write_roster(path: Path, rows: list[tuple[str, str, str]] = ROWS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["school", "urn", "trust"])
        writer.writerows(rows)
    return path


def about(path: Path) -> dict[object, object]:
    ws = load_workbook(path)[cell_layout.ABOUT_SHEET]
    return {row[0]: row[1] for row in ws.iter_rows(values_only=True)}


def statuses(path: Path) -> dict[str, tuple[object, object]]:
    rows = table_rows(path, "Returns log")
    return {row[0]: (row[2], row[7]) for row in rows[1:] if row[0] and row[2]}


def test_generate_into_a_workspace_records_every_workbook_issued(trust: Trust) -> None:
    roster = write_roster(trust.root / "roster.csv")
    out = trust.root / "autumn"
    output = run("generate", SPR, "--roster", str(roster), "--round", "autumn  2026",
                 "--workspace", str(trust.root), "--out", str(out))  # fmt: skip
    assert "Recorded them as issued" in output
    books = sorted(out.glob("*.xlsx"))
    assert len(books) == len(ROWS)
    with trust.store() as store:
        assert store.schema_version == SCHEMA_VERSION
        issued = store.issued(SPR)
        version = trust.registry.latest(SPR).version
    by_id = {item.issue_id: item for item in issued}
    assert len(by_id) == len(ROWS)
    seen = set()
    for book in books:
        held = about(book)
        item = by_id[held[cell_layout.KEY_ISSUE_ID]]  # the id the workbook carries
        seen.add((item.school, item.urn, item.trust))
        assert (item.template_id, item.template_version) == (SPR, version)
        assert item.round == AUTUMN == held[cell_layout.KEY_ROUND]
        assert item.judge is None
    assert seen == set(ROWS)

    # before any return: the round is known and every school issued is outstanding in it
    trust.summarise()
    path = trust_summary_path(trust.outbox, TRUST, SPR)
    assert statuses(path) == {name: ("Outstanding", AUTUMN) for name, _, _ in ROWS}
    ws = load_workbook(path)["Overview"]
    labels = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    assert labels[f"Returns received ({AUTUMN})"] == 0


def test_the_chase_list_is_issued_and_not_returned(trust: Trust, tmp_path: Path) -> None:
    """No roster in the workspace: the schools the trust expects are those it was issued."""
    roster = write_roster(tmp_path / "elsewhere.csv")
    out = trust.root / "autumn"
    run("generate", SPR, "--roster", str(roster), "--round", AUTUMN, "--workspace",
        str(trust.root), "--out", str(out))  # fmt: skip
    [oak] = out.glob("Oakfield*.xlsx")
    [report] = trust.ingest(trust.fill(oak, SPR, seed=3))
    assert report["status"] == "accepted", report
    trust.summarise()
    path = trust_summary_path(trust.outbox, TRUST, SPR)
    assert statuses(path) == {
        "Oakfield Primary": ("Returned", AUTUMN),
        "Ash Grove": ("Outstanding", AUTUMN),
        "Birch Lane": ("Outstanding", AUTUMN),
    }
    ws = load_workbook(path)["Overview"]
    labels = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    assert (labels[f"Returns received ({AUTUMN})"], labels["Returns expected"]) == (1, 3)

    # the next round issued: every school is outstanding in it, Oakfield too
    spring = trust.root / "spring"
    run("generate", SPR, "--roster", str(roster), "--round", SPRING, "--workspace",
        str(trust.root), "--out", str(spring))  # fmt: skip
    trust.summarise()
    assert statuses(path) == {name: ("Outstanding", SPRING) for name, _, _ in ROWS}


def test_generate_with_a_roster_inside_a_workspace_records_it(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    roster = write_roster(trust.root / "roster.csv")
    Store(trust.root / "sheet-tools.db").close()  # a workspace: it holds its database
    monkeypatch.chdir(trust.root)
    run("generate", SPR, "--roster", str(roster), "--round", AUTUMN, "--out", "out")
    with trust.store() as store:
        assert sorted(i.school for i in store.issued()) == sorted(r[0] for r in ROWS)


def test_generate_without_a_workspace_writes_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    monkeypatch.chdir(folder)
    roster = write_roster(folder / "schools.csv")
    run("generate", SPR, "--roster", str(roster), "--round", AUTUMN, "--out", "out")
    run("generate", SPR, "--school", "Oakfield Primary", "--urn", "140101", "--out", "one")
    assert len(list((folder / "out").glob("*.xlsx"))) == len(ROWS)
    assert len(list((folder / "one").glob("*.xlsx"))) == 1
    assert not list(tmp_path.rglob("sheet-tools.db*"))
