"""The README's first command: the sample trust's round trip, through the CLI."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.cli import main
from sheet_tools.demo import DEMO_RETURNS, SAMPLE_SCHOOLS, SAMPLE_TRUST
from sheet_tools.store import Store


def test_demo_generates_ingests_and_summarises(tmp_path: Path) -> None:
    # The workspace is laid out like the repository: an inbox holding only its README.
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "README.md").write_text("Drop returned workbooks here.\n")
    result = CliRunner().invoke(main, ["demo", "--workspace", str(tmp_path)])
    assert result.exit_code == 0, result.output

    accepted = sorted(p.name for p in (tmp_path / "archive").rglob("*.xlsx"))
    rejected = sorted(
        p.name for p in (tmp_path / "rejected").glob("*.xlsx") if ".annotated" not in p.name
    )
    typos = [item for item in DEMO_RETURNS if item.typo]
    assert len(accepted) == len(DEMO_RETURNS) - len(typos)
    assert len(rejected) == len(typos)
    assert (tmp_path / "rejected" / f"{rejected[0]}.errors.txt").read_text().count("Embeded") == 1
    assert [p.name for p in (tmp_path / "inbox").iterdir()] == ["README.md"]

    trust_dir = tmp_path / "outbox" / SAMPLE_TRUST
    returned = {item.school.name for item in DEMO_RETURNS if not item.typo}
    for school in SAMPLE_SCHOOLS:
        summary = trust_dir / f"{school.name} ({school.urn}) - specialist-provision-review.xlsx"
        assert summary.exists() == (school.name in returned), school.name
    trust_book = load_workbook(
        trust_dir / f"{SAMPLE_TRUST} - specialist-provision-review - trust summary.xlsx"
    )
    log = [[c for c in row if c is not None] for row in trust_book["Returns log"].values]
    status_by_school = {row[0]: " ".join(map(str, row[1:])) for row in log if row}
    outstanding = {s.name for s in SAMPLE_SCHOOLS} - {i.school.name for i in DEMO_RETURNS}
    assert all("outstanding" in status_by_school[name].lower() for name in outstanding)
    for item in typos:
        assert "rejected" in status_by_school[item.school.name].lower()
    assert "Wrote" in result.output and "rejected" in result.output

    # A second run makes new files for the same schools, dates and judges: they supersede the
    # first run's returns for summaries, and the history is kept.
    again = CliRunner().invoke(main, ["demo", "--workspace", str(tmp_path)])
    assert again.exit_code == 0, again.output
    with Store(tmp_path / "sheet-tools.db") as store:
        current = store.returns("specialist-provision-review")
        everything = store.returns("specialist-provision-review", include_superseded=True)
    assert len(current) == len(DEMO_RETURNS) - len(typos)
    assert len(everything) == 2 * len(current)
