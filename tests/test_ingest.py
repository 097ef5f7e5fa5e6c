"""Ingest on real returns, a real SQLite database and real folders: stored, filed, never lost."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.base.clock import utc_now
from sheet_tools.base.files import sha256_file
from sheet_tools.base.workspace import Workspace
from sheet_tools.cli import main
from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.definitions.roster import School
from sheet_tools.generate.annotate import ERROR_FILL
from sheet_tools.problems.codes import CODES
from sheet_tools.service.ingest import ingest_file, record_file, settle_events
from sheet_tools.store.facade import Store
from sheet_tools.store.ledger import LEDGER_NAME
from tests.conftest import REPO
from tests.support.returns import make_return, random_answers

from .support.helpers import cells_of, codes, sha256, workspace

OAKFIELD = School(name="Oakfield Primary", urn="123456", trust="North Star Trust")


def find_row(ws, item_id: str) -> int:
    """The row holding ``item_id`` in the id column."""
    for row in range(1, ws.max_row + 1):
        if ws.cell(row=row, column=cell_layout.ID_COL).value == item_id:
            return row
    raise KeyError(item_id)


def originals(folder: Path) -> list[Path]:
    """Filed originals: not our report files, not hidden temporaries."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and not p.name.endswith((".errors.txt", ".annotated.xlsx", ".queries.txt"))
    )


def level_codes(spr: Framework, labels: dict[str, object]) -> dict[str, str]:
    by_label = {level.label: level.code for level in spr.scale}
    return {statement: by_label[str(label)] for statement, label in labels.items()}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.at(tmp_path / "workspace")


@pytest.fixture
def store(ws: Workspace):
    ws.root.mkdir(parents=True)
    with Store(ws.database) as opened:
        yield opened


def a_return(spr: Framework, folder: Path, school: School = OAKFIELD, **kwargs) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return make_return(spr, folder, school, **kwargs)


# --- accepted, duplicate, superseded, new round -------------------------------------------------
def test_accepted_return_is_stored_and_archived_byte_for_byte(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    path = a_return(spr, tmp_path / "in", seed=7)
    before = sha256(path)
    report = ingest_file(path, ws, registry, store)

    assert report.status == "accepted", report.errors
    assert (report.school, report.urn, report.review_date) == (
        "Oakfield Primary",
        "123456",
        "2026-10-03",
    )
    assert (report.template, report.template_version) == (spr.id, spr.version)
    assert report.sha256 == before
    # the original stays, unchanged; a byte-for-byte copy is in the archive
    assert sha256(path) == before
    [archived] = originals(ws.archive)
    assert archived.name == path.name
    assert sha256(archived) == before
    assert originals(ws.rejected) == []

    answers = random_answers(spr, 7)
    [stored] = store.returns(spr.id)
    assert stored.sha256 == before
    assert stored.file_name == path.name
    assert stored.school_key == "123456"
    assert stored.trust == "North Star Trust"
    assert stored.review_date == date(2026, 10, 3)
    assert stored.judge == "self-evaluation"
    assert stored.judgements == level_codes(spr, answers["judgements"])
    assert len(stored.judgements) == sum(1 for _ in spr.judged_statements())
    for box_id, text in answers["texts"].items():
        assert stored.texts[box_id] == text
    assert stored.cover["personnel"] == answers["cover"]["personnel"]
    [event] = store.events()
    assert (event.status, event.done, event.destination) == (
        "accepted",
        True,
        f"archive/{path.name}",
    )


def test_same_bytes_again_are_a_duplicate_stored_once(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    path = a_return(spr, tmp_path / "in")
    copy = tmp_path / "in" / "sent again.xlsx"
    shutil.copyfile(path, copy)

    first = ingest_file(path, ws, registry, store)
    again = ingest_file(path, ws, registry, store)
    renamed = ingest_file(copy, ws, registry, store)

    assert first.status == "accepted"
    assert [again.status, renamed.status] == ["duplicate", "duplicate"]
    assert again.errors[0].code == "duplicate" and path.name in again.errors[0].message
    assert again.school == "Oakfield Primary"
    assert len(store.returns(include_superseded=True)) == 1
    # every copy that arrived is filed (none overwritten), all identical
    filed = originals(ws.archive)
    assert len(filed) == 3
    assert {sha256(p) for p in filed} == {sha256(path)}
    assert [e.status for e in store.events()] == ["accepted", "duplicate", "duplicate"]


def test_later_return_supersedes_and_a_new_round_is_a_new_round(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    first = a_return(spr, tmp_path / "1", seed=1)
    corrected = a_return(spr, tmp_path / "2", seed=2)
    follow_up = a_return(spr, tmp_path / "3", seed=3, cover={"review_date": date(2027, 3, 1)})
    for path in (first, corrected, follow_up):
        assert ingest_file(path, ws, registry, store).status == "accepted"

    current = store.returns(spr.id, school_key="123456")
    assert [(r.review_date, r.sha256) for r in current] == [
        (date(2026, 10, 3), sha256(corrected)),
        (date(2027, 3, 1), sha256(follow_up)),
    ]
    assert [r.round for r in current] == ["Autumn 2026", "Spring 2027"]
    assert current[0].judgements == level_codes(spr, random_answers(spr, 2)["judgements"])
    history = store.returns(spr.id, include_superseded=True)
    assert [(r.sha256, r.superseded) for r in history] == [
        (sha256(first), True),
        (sha256(corrected), False),
        (sha256(follow_up), False),
    ]


def test_an_external_reviewers_return_does_not_supersede_the_self_evaluation(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    own = a_return(spr, tmp_path / "1", seed=1)
    reviewer = a_return(spr, tmp_path / "2", seed=2, cover={"judge": "External reviewer"})
    for path in (own, reviewer):
        assert ingest_file(path, ws, registry, store).status == "accepted"
    assert sorted(r.judge for r in store.returns(spr.id)) == ["external-review", "self-evaluation"]


# --- rejected ---------------------------------------------------------------------------------
def to_x14(path: Path, out: Path) -> Path:
    """Rewrite every sheet's list validations as Excel's x14 extension, as Excel itself saves
    them when a list refers to another sheet; openpyxl drops these when it loads a file."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = data.decode("utf-8")
                block = re.search(r"<dataValidations.*?</dataValidations>", text)
                if block and 'type="list"' in block.group(0):
                    sqref = re.search(r'sqref="([^"]+)"', block.group(0)).group(1)  # type: ignore[union-attr]
                    ext = (
                        '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
                        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
                        '<x14:dataValidations count="1" '
                        'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
                        '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" '
                        'showErrorMessage="1"><x14:formula1><xm:f>Lists!$A$2:$A$5</xm:f>'
                        f"</x14:formula1><xm:sqref>{sqref}</xm:sqref></x14:dataValidation>"
                        "</x14:dataValidations></ext></extLst>"
                    )
                    text = text.replace(block.group(0), "").replace(
                        "</worksheet>", ext + "</worksheet>"
                    )
                    data = text.encode("utf-8")
            dest.writestr(item, data)
    return out


def list_cells(ws) -> set[str]:
    return set().union(
        *(cells_of(dv.sqref) for dv in ws.data_validations.dataValidation if dv.type == "list")
    )


@pytest.mark.filterwarnings("ignore:Data Validation extension:UserWarning")
def test_rejected_return_gets_errors_txt_and_an_annotated_copy(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    made = a_return(spr, tmp_path / "made", judgements={"LM02": "Embeded"})
    path = to_x14(made, tmp_path / "Oakfield return.xlsx")
    first_sheet = spr.sheets[0]
    bad_cell = f"C{find_row(load_workbook(path)[first_sheet.sheet_name], 'LM02')}"
    # precondition: openpyxl really does lose the drop-downs of this file
    assert list_cells(load_workbook(path)[first_sheet.sheet_name]) == set()
    before = sha256(path)

    report = ingest_file(path, ws, registry, store)

    assert report.status == "rejected"
    [invalid] = [i for i in report.errors if i.code == "invalid-judgement"]
    assert (invalid.sheet, invalid.cell) == (first_sheet.sheet_name, bad_cell)
    assert sha256(path) == before
    [filed] = originals(ws.rejected)
    assert filed.name == path.name and sha256(filed) == before
    assert originals(ws.archive) == []
    assert store.returns(include_superseded=True) == []
    [rejection] = store.rejections("North Star Trust")
    assert rejection.school == "Oakfield Primary" and "Embeded" in rejection.reason

    text = (ws.rejected / f"{path.name}.errors.txt").read_text(encoding="utf-8")
    assert f"sheet '{first_sheet.sheet_name}', cell {bad_cell}".casefold() in text.casefold()
    assert "Embeded" in text
    assert CODES["invalid-judgement"].advice in text
    assert "Oakfield return.annotated.xlsx" in text

    annotated = load_workbook(ws.rejected / "Oakfield return.annotated.xlsx")
    cell = annotated[first_sheet.sheet_name][bad_cell]
    assert cell.value == "Embeded"
    assert cell.comment is not None and "Embeded" in cell.comment.text
    assert cell.fill.fgColor.rgb.endswith(ERROR_FILL)
    good = annotated[first_sheet.sheet_name][
        f"C{find_row(annotated[first_sheet.sheet_name], 'LM01')}"
    ]
    assert good.comment is None
    assert not str(good.fill.fgColor.rgb).endswith(ERROR_FILL)
    for sheet in spr.sheets:
        if not sheet.judged:
            continue
        area = annotated[sheet.sheet_name]
        expected = {f"C{find_row(area, statement.id)}" for statement in sheet.statements}
        assert list_cells(area) == expected, sheet.sheet_name
        # rebuilt with the framework's choices, Not applicable included
        [rebuilt] = [dv for dv in area.data_validations.dataValidation if dv.type == "list"]
        assert rebuilt.formula1 == '"Beginning,Developing,Secure,Embedded,Not applicable"'


def test_several_errors_are_each_listed_with_their_place(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    path = a_return(
        spr,
        tmp_path / "in",
        judgements={"LM01": "Very good", "LM03": "Secure"},
        cover={"review_date": None},
    )
    report = ingest_file(path, ws, registry, store)
    assert report.status == "rejected"
    found = {(i.code, i.sheet) for i in report.errors if i.severity == "error"}
    assert ("invalid-judgement", spr.sheets[0].sheet_name) in found
    assert ("missing-field", cell_layout.COVER_SHEET) in found
    text = (ws.rejected / f"{path.name}.errors.txt").read_text(encoding="utf-8")
    errors = [i for i in report.errors if i.severity == "error"]
    assert f"{len(errors)} problem" in text
    for issue in errors:
        assert issue.message.split(": ", 1)[-1] in text  # the message, its location apart
        if issue.cell:
            assert f"cell {issue.cell}" in text
    annotated = load_workbook(ws.rejected / f"{path.stem}.annotated.xlsx")
    cover = annotated[cell_layout.COVER_SHEET]
    date_cell = cover[f"C{find_row(cover, 'review_date')}"]
    assert date_cell.comment is not None


def test_a_file_that_is_not_a_workbook_is_rejected_without_an_annotated_copy(
    registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "return.xlsx"
    path.write_text("school,urn\nOakfield,123456\n", encoding="utf-8")
    report = ingest_file(path, ws, registry, store)
    assert report.status == "rejected"
    assert report.errors[0].code == "not-a-workbook"
    assert [p.name for p in originals(ws.rejected)] == ["return.xlsx"]
    assert not (ws.rejected / "return.annotated.xlsx").exists()
    text = (ws.rejected / "return.xlsx.errors.txt").read_text(encoding="utf-8")
    assert CODES["not-a-workbook"].advice in text
    assert path.read_text(encoding="utf-8") == "school,urn\nOakfield,123456\n"


def test_every_error_code_has_advice_for_the_school() -> None:
    errors = {code for code, problem in CODES.items() if problem.severity == "error"}
    assert errors <= {code for code, problem in CODES.items() if problem.advice}


# --- filing: move, names, never overwrite -----------------------------------------------------
def test_move_renames_a_claimed_file_into_the_archive(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    ws.processing.mkdir(parents=True)
    claimed = ws.processing / "claimed.xlsx"
    shutil.copyfile(a_return(spr, tmp_path / "in"), claimed)
    before = sha256(claimed)
    inode = claimed.stat().st_ino
    report = ingest_file(claimed, ws, registry, store, move=True)
    assert report.status == "accepted"
    assert not claimed.exists()
    archived = ws.archive / "claimed.xlsx"
    assert sha256(archived) == before
    assert archived.stat().st_ino == inode  # renamed, not copied


def test_move_from_another_disk_copies_then_removes_the_claim(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    # the watcher keeps claims beside the inbox when the inbox is on another file system
    other_disk = Path("/dev/shm")
    if not other_disk.is_dir() or other_disk.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs a second file system (/dev/shm) to move across")
    claims = Path(tempfile.mkdtemp(dir=other_disk))
    try:
        claimed = claims / "remote.xlsx"
        shutil.copyfile(a_return(spr, tmp_path / "in"), claimed)
        before = sha256(claimed)
        assert ingest_file(claimed, ws, registry, store, move=True).status == "accepted"
        assert not claimed.exists()
        assert sha256(ws.archive / "remote.xlsx") == before
        assert sorted(p.name for p in ws.archive.iterdir()) == sorted(
            ["remote.xlsx", LEDGER_NAME]
        )  # no temporaries left
        assert store.pending_events() == []
    finally:
        shutil.rmtree(claims)


def test_a_name_already_in_the_archive_is_never_overwritten(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    ws.archive.mkdir(parents=True)
    path = a_return(spr, tmp_path / "in")
    occupant = ws.archive / path.name
    occupant.write_bytes(b"an earlier, different file")
    report = ingest_file(path, ws, registry, store)
    assert report.status == "accepted"
    assert occupant.read_bytes() == b"an earlier, different file"
    filed = [p for p in originals(ws.archive) if p != occupant]
    assert len(filed) == 1 and sha256(filed[0]) == sha256(path)
    assert filed[0].name == f"{path.stem} ({sha256(path)[:8]}).xlsx"
    assert store.events()[0].destination == f"archive/{filed[0].name}"


def test_names_crafted_to_escape_the_folder_stay_inside_it(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    source = a_return(spr, tmp_path / "in")
    hostile = tmp_path / "in" / "..\\..\\..\\evil.xlsx"
    reserved = tmp_path / "in" / "CON.xlsx"
    shutil.copyfile(source, hostile)
    shutil.copyfile(source, reserved)
    ingest_file(hostile, ws, registry, store)
    ingest_file(reserved, ws, registry, store)
    names = [p.name for p in originals(ws.archive)]
    assert len(names) == 2
    assert all("\\" not in name and "/" not in name and ".." not in name for name in names)
    assert not any(name.upper().startswith("CON.") for name in names)
    stray = [
        p
        for p in tmp_path.rglob("*")
        if p.is_file() and ws.root not in p.parents and tmp_path / "in" not in p.parents
    ]
    assert stray == []


# --- failures and crashes ---------------------------------------------------------------------
def test_a_database_failure_part_way_becomes_an_internal_error_and_the_file_is_kept(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    import sqlite3

    with sqlite3.connect(ws.database) as other:
        other.execute(
            "CREATE TRIGGER fail_texts BEFORE INSERT ON texts "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
        )
    path = a_return(spr, tmp_path / "in")
    report = ingest_file(path, ws, registry, store)
    assert report.status == "rejected"
    assert codes(report.errors) == ["internal-error"]
    assert "disk I/O error" in report.errors[0].message
    # nothing half-written: no return, no judgements
    with sqlite3.connect(ws.database) as other:
        assert other.execute("SELECT count(*) FROM returns").fetchone()[0] == 0
        assert other.execute("SELECT count(*) FROM judgements").fetchone()[0] == 0
    [filed] = originals(ws.rejected)
    assert sha256(filed) == sha256(path)
    text = (ws.rejected / f"{path.name}.errors.txt").read_text(encoding="utf-8")
    assert "whoever supports sheet-tools" in text
    assert len(store.rejections()) == 1


def test_with_the_database_unusable_the_file_is_left_where_it_is_never_rejected(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    """The database refusing even a rejection is the service's fault, not the school's: the
    file is neither filed nor rejected, and the fault is named (issue 19)."""
    import sqlite3

    from sheet_tools.exceptions import ServiceFault

    with sqlite3.connect(ws.database) as other:
        other.execute(
            "CREATE TRIGGER fail_events BEFORE INSERT ON events "
            "BEGIN SELECT RAISE(ABORT, 'database disk image is malformed'); END"
        )
    ws.processing.mkdir(parents=True)
    claimed = ws.processing / "oak.xlsx"
    shutil.copyfile(a_return(spr, tmp_path / "in"), claimed)
    with pytest.raises(ServiceFault, match="the database could not be used"):
        ingest_file(claimed, ws, registry, store, move=True)
    assert claimed.exists()
    assert originals(ws.rejected) == [] and originals(ws.archive) == []
    assert store.returns(include_superseded=True) == [] and store.rejections() == []


def test_a_file_recorded_before_a_crash_is_finished_not_counted_again(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    ws.processing.mkdir(parents=True)
    claimed = ws.processing / "oak.xlsx"
    shutil.copyfile(a_return(spr, tmp_path / "in"), claimed)
    # the state a kill -9 leaves between the database commit and the move
    event = record_file(
        claimed, sha256_file(claimed), claimed.name, ws, registry, store, arrived_at=utc_now()
    )
    assert event.status == "accepted" and not event.done
    assert claimed.exists()

    report = ingest_file(claimed, ws, registry, store, move=True)
    assert report.status == "accepted"  # the recorded outcome, not "duplicate"
    assert not claimed.exists()
    assert [p.name for p in originals(ws.archive)] == ["oak.xlsx"]
    assert len(store.returns(include_superseded=True)) == 1
    assert store.pending_events() == []
    assert len(store.events()) == 1


def test_settle_finishes_events_whose_file_was_already_moved(
    spr: Framework, registry: Registry, ws: Workspace, store: Store, tmp_path: Path
) -> None:
    ws.processing.mkdir(parents=True)
    claimed = ws.processing / "bad.xlsx"
    shutil.copyfile(a_return(spr, tmp_path / "in", judgements={"LM01": "Superb"}), claimed)
    event = record_file(
        claimed, sha256_file(claimed), claimed.name, ws, registry, store, arrived_at=utc_now()
    )
    assert event.status == "rejected"
    # the state a kill -9 leaves after the move, before the report files and the mark
    os.rename(claimed, ws.root / event.destination)

    assert settle_events(ws, registry, store) == 1
    assert store.pending_events() == []
    assert (ws.rejected / "bad.xlsx.errors.txt").exists()
    assert (ws.rejected / "bad.annotated.xlsx").exists()
    assert len(store.rejections()) == 1
    assert settle_events(ws, registry, store) == 0


CRASH_SCRIPT = """
import sys
from pathlib import Path
from sheet_tools.definitions.frameworks import load_registry
from sheet_tools.service.ingest import ingest_file, settle_events
from sheet_tools.base.workspace import Workspace
from sheet_tools.store.facade import Store

workspace = Workspace.at(sys.argv[1])
registry = load_registry()
with Store(workspace.database) as store:
    settle_events(workspace, registry, store)
    print("ready", flush=True)
    for path in sorted(workspace.processing.iterdir()):
        ingest_file(path, workspace, registry, store, move=True)
        print("filed", path.name, flush=True)
"""


@pytest.mark.posix_limits
@pytest.mark.slow
def test_killed_at_random_moments_nothing_is_lost_or_counted_twice(
    spr: Framework, ws: Workspace, tmp_path: Path
) -> None:
    ws.processing.mkdir(parents=True)
    sources: dict[str, str] = {}
    accepted: set[str] = set()
    # Enough files that at least ten kills land before the batch is done, however fast one
    # file is filed: each child files at most two, then is killed within about the next one.
    good = 36
    for number in range(good):
        school = School(name=f"School {number}", urn=str(400000 + number), trust="Crash Trust")
        path = a_return(spr, tmp_path / f"src{number}", school, seed=number)
        name = f"{number:02d}.xlsx"
        shutil.copyfile(path, ws.processing / name)
        accepted.add(sha256(path))
    for number in range(4):
        school = School(name=f"Bad {number}", urn=str(410000 + number))
        path = a_return(spr, tmp_path / f"bad{number}", school, judgements={"LM01": "??"})
        shutil.copyfile(path, ws.processing / f"bad{number}.xlsx")
    shutil.copyfile(ws.processing / "03.xlsx", ws.processing / "03 again.xlsx")
    (ws.processing / "notes.xlsx").write_text("not a workbook", encoding="utf-8")
    sources = {p.name: sha256(p) for p in ws.processing.iterdir()}

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(20261003)
    kills = 0
    for _ in range(200):
        child = subprocess.Popen(
            [sys.executable, "-c", CRASH_SCRIPT, str(ws.root)],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        # let it start (recovering what the last kill left) and file 0-2 files, then kill it at
        # a random moment inside the next one
        target = rng.randint(0, 1)
        lines = 0
        while lines <= target and child.stdout.readline():
            lines += 1
        time.sleep(rng.uniform(0, 0.01))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.communicate()
        if child.returncode == 0:
            break
        assert child.returncode == -signal.SIGKILL
    else:
        pytest.fail("the batch never finished")
    assert kills >= 10, f"too few kills ({kills}) to prove anything"

    assert list(ws.processing.iterdir()) == []
    filed = originals(ws.archive) + originals(ws.rejected)
    assert Counter(sha256(p) for p in filed) == Counter(sources.values())
    with Store(ws.database) as store:
        assert store.pending_events() == []
        stored = store.returns(include_superseded=True)
        assert sorted(r.sha256 for r in stored) == sorted(accepted)
        assert all(len(r.judgements) == 52 for r in stored)
        events = store.events()
        assert Counter(e.file_name for e in events) == Counter(sources.keys())  # one outcome each
        assert len(store.rejections()) == 5  # four bad workbooks and the text file, once each
        statuses = Counter(e.status for e in events)
        assert statuses == {"accepted": good, "duplicate": 1, "rejected": 5}
    for bad in ("bad0", "bad1", "bad2", "bad3", "notes"):
        assert (ws.rejected / f"{bad}.xlsx.errors.txt").exists()


# --- the command ------------------------------------------------------------------------------
def test_ingest_command_prints_a_line_per_file_and_exits_1_on_a_rejection(
    spr: Framework, tmp_path: Path
) -> None:
    good = a_return(spr, tmp_path / "good", seed=1)
    bad = a_return(
        spr,
        tmp_path / "bad",
        School(name="Beech School", urn="654321"),
        judgements={"LM01": "Embeded"},
    )
    space = workspace(tmp_path / "ws")
    result = CliRunner().invoke(main, ["ingest", str(good), str(bad), "--workspace", str(space)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("accepted") and "Oakfield Primary" in lines[0]
    assert lines[1].startswith("rejected") and "Embedded" in lines[1]
    assert (space / "archive" / good.name).exists()
    assert (space / "rejected" / f"{bad.name}.errors.txt").exists()

    again = CliRunner().invoke(main, ["ingest", str(good), "--workspace", str(space), "--json"])
    assert again.exit_code == 0, again.output
    [line] = again.output.strip().splitlines()
    payload = json.loads(line)
    assert payload["status"] == "duplicate"
    assert {"file", "status", "template", "template_version", "school", "urn", "review_date"} <= (
        set(payload)
    )
    assert payload["errors"][0]["code"] == "duplicate"
    assert set(payload["errors"][0]) >= {"code", "severity", "sheet", "cell", "message"}


def test_ingest_command_defaults_to_the_current_directory(
    spr: Framework, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = a_return(spr, tmp_path / "in")
    here = workspace(tmp_path / "workspace")
    monkeypatch.chdir(here)
    result = CliRunner().invoke(main, ["ingest", str(good), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "accepted"
    assert (here / "sheet-tools.db").exists()
    assert (here / "archive" / good.name).exists()
