"""The README's first command: the sample trust's round trip, through the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.cli import main
from sheet_tools.demo import DEMO_RETURNS, SAMPLE_SCHOOLS, SAMPLE_TRUST
from sheet_tools.store.facade import Store


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
    trust_summary = trust_dir / f"{SAMPLE_TRUST} - specialist-provision-review - trust summary.xlsx"
    trust_book = load_workbook(trust_summary)
    log = [[c for c in row if c is not None] for row in trust_book["Returns log"].values]
    status_by_school = {row[0]: " ".join(map(str, row[1:])) for row in log if row}
    outstanding = {s.name for s in SAMPLE_SCHOOLS} - {i.school.name for i in DEMO_RETURNS}
    assert all("outstanding" in status_by_school[name].lower() for name in outstanding)
    for item in typos:
        assert "rejected" in status_by_school[item.school.name].lower()
    assert "Wrote" in result.output and "rejected" in result.output
    assert (tmp_path / "roster.csv").read_text(encoding="utf-8").count("\n") == 1 + len(
        SAMPLE_SCHOOLS
    )

    # A second run in the same folder finds the sample returns already processed: nothing is
    # stored, archived or rejected again, and the summaries are still there.
    filed = sorted(p.relative_to(tmp_path) for p in tmp_path.glob("[ar]*/**/*") if p.is_file())
    again = CliRunner().invoke(main, ["demo", "--workspace", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert f"{len(DEMO_RETURNS)} sample returns were already processed here" in again.output
    assert "Dropped 0 filled returns" in again.output
    assert "rejected " not in again.output
    with Store(tmp_path / "sheet-tools.db") as store:
        current = store.returns("specialist-provision-review")
        everything = store.returns("specialist-provision-review", include_superseded=True)
        rejections = store.rejections()
        events = store.events()
    assert len(current) == len(everything) == len(DEMO_RETURNS) - len(typos)
    assert len(rejections) == len(typos)
    assert len(events) == len(DEMO_RETURNS)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.glob("[ar]*/**/*") if p.is_file()) == (
        filed
    )
    assert trust_summary.is_file()
    assert "already has a roster" not in again.output  # the roster.csv is the demo's own


def test_demo_leaves_a_roster_it_did_not_write_alone(tmp_path: Path) -> None:
    mine = "school,urn,trust\nOur Own School,999999,Our Own Trust\n"
    (tmp_path / "roster.csv").write_text(mine, encoding="utf-8")
    result = CliRunner().invoke(main, ["demo", "--workspace", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "roster.csv").read_text(encoding="utf-8") == mine
    assert "already has a roster the demo did not write" in result.output
    # The demo's summaries still use the sample trust's roster (kept in generated/): the school
    # that has not returned is listed as outstanding, and the user's school is not.
    with (tmp_path / "generated" / "roster.csv").open(encoding="utf-8") as handle:
        assert [row["urn"] for row in csv.DictReader(handle)] == [s.urn for s in SAMPLE_SCHOOLS]
    trust_book = load_workbook(
        tmp_path
        / "outbox"
        / SAMPLE_TRUST
        / f"{SAMPLE_TRUST} - specialist-provision-review - trust summary.xlsx"
    )
    schools = {row[0] for row in trust_book["Returns log"].values if row and row[0]}
    assert "Hollins Park Academy" in schools
    assert "Our Own School" not in schools


def test_demo_does_not_shadow_an_xlsx_roster(tmp_path: Path) -> None:
    # roster.csv is read before roster.xlsx: writing one would quietly replace the trust's list.
    (tmp_path / "roster.xlsx").write_bytes(b"not really a workbook")
    result = CliRunner().invoke(main, ["demo", "--workspace", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "roster.csv").exists()
    assert (tmp_path / "roster.xlsx").read_bytes() == b"not really a workbook"


def test_demo_writes_its_mail_as_eml_files_and_never_uses_smtp(tmp_path: Path) -> None:
    from email import message_from_bytes, policy

    from .support.smtp import Mailbox, free_port, start_server

    box, port = Mailbox(), free_port()
    controller = start_server(box, port)
    (tmp_path / "sheet-tools.toml").write_text(
        f'[mail]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n',
        encoding="utf-8",
    )
    try:
        result = CliRunner().invoke(main, ["demo", "--workspace", str(tmp_path)])
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert box.received == []  # configured, and still never used by the demo
    written = sorted((tmp_path / "mail").glob("*.eml"))
    # a receipt for each accepted file, a rejection for the typo (the external review is a
    # second file from one school's workbook: it gets its receipt too)
    assert len(written) == len(DEMO_RETURNS)
    assert f"Wrote {len(written)} e-mail messages" in result.output
    for path in written:
        assert str(path.relative_to(tmp_path)) in result.output
    emails = {s.email: s for s in SAMPLE_SCHOOLS}
    kinds = []
    for path in written:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        [to] = message["To"].addresses
        assert to.addr_spec in emails and to.addr_spec.endswith(".example.org")
        kinds.append(message["Subject"].split(":")[0])
    assert kinds.count("Not accepted") == sum(1 for item in DEMO_RETURNS if item.typo)
