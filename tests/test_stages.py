"""The Diagnostic Review's one trust workbook and its Stages sheet: what is next for a school part
way through, the administrator's preparation column kept across rebuilds, and the per-form trust
workbooks of earlier versions removed as stale."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from sheet_tools.base.keys import school_key
from sheet_tools.definitions.roster import read_roster
from sheet_tools.store.facade import Rejection
from sheet_tools.summarise import rebuild, stages, summarise_affected, summarise_all, writing
from sheet_tools.summarise.cells import TABLE_TOP
from sheet_tools.summarise.outbox import MANIFEST

from .support.helpers import refuse_replacing
from .support.trust import AUTUMN, SPR, Trust, run, table_records, table_rows

MAINSTREAM, SPECIALIST = "send-review-mainstream", "send-review-specialist"
HEADER = ["school", "urn", "trust", "TypeOfEstablishment (name)"]
ROSTER = [
    ("Oakfield Primary", "140101", "Oak Trust", "Community school"),
    ("Birch House School", "140102", "Oak Trust", "Community special school"),
]
BOOK = "Oak Trust - send-diagnostic-review - trust summary.xlsx"
CALL = "Pre-visit call with SENCO 28/09"


def _stages(trust: Trust) -> dict[str, dict[str, object]]:
    rows = table_rows(trust.outbox / "Oak Trust" / BOOK, "Stages")
    header = [str(c) for c in rows[0]]
    return {str(row[0]): dict(zip(header, row, strict=False)) for row in rows[1:] if row[0]}


def _self_evaluation(trust: Trust) -> None:
    """Both forms generated for the whole roster; only Oakfield's self-evaluation is back."""
    books = trust.issue_roster(MAINSTREAM, HEADER, ROSTER)
    trust.issue_roster(SPECIALIST, HEADER, ROSTER)
    # the special school issued the mainstream form too, by hand, by mistake
    birch = ROSTER[1]
    run(
        "generate", MAINSTREAM, "--school", birch[0], "--urn", birch[1], "--trust", birch[2],
        "--round", AUTUMN, "--workspace", str(trust.root), "--out", str(trust.root / "by-hand"),
    )  # fmt: skip
    filled = trust.fill(
        books["Oakfield Primary"], MAINSTREAM, cover={"review_date": date(2026, 9, 20)}
    )
    [report] = trust.ingest(filled)
    assert report["status"] == "accepted", report
    trust.summarise()


def test_a_school_with_only_its_self_evaluation_waits_for_the_reviewers_visit(
    trust: Trust,
) -> None:
    _self_evaluation(trust)
    stages = _stages(trust)
    oak, birch = stages["Oakfield Primary"], stages["Birch House School"]
    assert oak["Self-evaluation"].date() == date(2026, 9, 20)
    assert oak["School visit"] is None and oak["Report"] is None
    assert oak["Next"] == "Reviewer's visit"
    assert birch["Self-evaluation"] is None and birch["Next"] == "Self-evaluation"
    assert birch["Review form"] == trust.registry.latest(SPECIALIST).short_title
    assert oak["Round"] == birch["Round"] == AUTUMN
    assert oak["Identification"] is not None and birch["Identification"] is not None
    # a workbook issued for a form a school does not take never makes it outstanding for it
    log = table_rows(trust.outbox / "Oak Trust" / BOOK, "Returns log")
    shown = {(row[0], row[2]): row[3] for row in log[1:] if row[0] and row[2]}
    oak_form, birch_form = (trust.registry.latest(t).short_title for t in (MAINSTREAM, SPECIALIST))
    assert shown == {("Oakfield Primary", oak_form): "Returned"} | {
        ("Birch House School", birch_form): "Outstanding"
    }


def _type(path: Path, typed: dict[str, object]) -> None:
    """Type into the Preparation column of the Stages sheet, by school, as in Excel."""
    book = load_workbook(path)
    sheet = book["Stages"]
    header = [c.value for c in sheet[TABLE_TOP]]
    column = header.index("Preparation") + 1
    rows = {sheet.cell(r, 1).value: r for r in range(TABLE_TOP + 1, sheet.max_row + 1)}
    for school, value in typed.items():
        sheet.cell(rows[school], column).value = value
    book.save(path)


def test_the_preparation_column_is_kept_when_the_workbook_is_rebuilt(trust: Trust) -> None:
    _self_evaluation(trust)
    path = trust.outbox / "Oak Trust" / BOOK
    _type(path, {"Oakfield Primary": CALL, "Birch House School": date(2026, 9, 30)})
    for _ in range(2):  # rebuilt from the store, and again from the workbook it wrote
        trust.summarise()
        stages = _stages(trust)
        assert stages["Oakfield Primary"]["Preparation"] == CALL
        assert stages["Birch House School"]["Preparation"].date() == date(2026, 9, 30)
    _type(path, {"Oakfield Primary": None})  # emptied by the administrator: the note goes
    trust.summarise()
    stages = _stages(trust)
    assert stages["Oakfield Primary"]["Preparation"] is None
    assert stages["Birch House School"]["Preparation"].date() == date(2026, 9, 30)


def _damaged(path: Path) -> bytes:
    """The workbook as a valid zip whose workbook part is cut off mid-tag (malformed XML)."""
    source = io.BytesIO(path.read_bytes())
    out = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "xl/workbook.xml":
                data = data[: len(data) // 2]
            new.writestr(item, data)
    return out.getvalue()


def test_a_damaged_workbook_is_kept_aside_and_the_rebuild_completes(trust: Trust) -> None:
    _self_evaluation(trust)
    folder = trust.outbox / "Oak Trust"
    path = folder / BOOK
    _type(path, {"Oakfield Primary": CALL})
    trust.summarise()
    damaged = _damaged(path)
    with pytest.raises(ElementTree.ParseError):  # what once escaped and stopped the rebuild
        load_workbook(io.BytesIO(damaged), read_only=True)
    path.write_bytes(damaged)
    [school_book] = folder.glob(f"Oakfield Primary (140101) - {MAINSTREAM}.xlsx")
    school_book.unlink()
    output = run("summarise", "--workspace", str(trust.root))
    assert "Traceback" not in output
    assert school_book.is_file()  # the other summaries are written
    [aside] = folder.glob("* (unreadable, *).xlsx")
    assert aside.name.startswith(path.stem) and aside.read_bytes() == damaged
    assert _stages(trust)["Oakfield Primary"]["Preparation"] == CALL  # from the store
    trust.summarise()  # tidying the outbox leaves the file kept aside alone
    assert aside.read_bytes() == damaged


def test_preparation_follows_a_school_that_moves_trust(trust: Trust) -> None:
    _self_evaluation(trust)
    _type(trust.outbox / "Oak Trust" / BOOK, {"Birch House School": CALL})
    trust.write_roster(HEADER, [ROSTER[0], (*ROSTER[1][:2], "Elm Trust", ROSTER[1][3])])
    trust.summarise()
    elm = trust.outbox / "Elm Trust" / "Elm Trust - send-diagnostic-review - trust summary.xlsx"
    rows = table_rows(elm, "Stages")
    assert [(r[0], r[6]) for r in rows[1:] if r[0]] == [("Birch House School", CALL)]
    assert "Birch House School" not in _stages(trust)


def test_preparation_is_kept_when_the_trust_is_renamed(trust: Trust) -> None:
    _self_evaluation(trust)
    old = trust.outbox / "Oak Trust" / BOOK
    _type(old, {"Oakfield Primary": CALL, "Birch House School": "Visit booked"})
    trust.write_roster(HEADER, [(*row[:2], "Oak Academy Trust", row[3]) for row in ROSTER])
    trust.summarise()
    assert not old.exists()  # the old name's workbook is tidied away
    new = trust.outbox / "Oak Academy Trust"
    rows = table_rows(
        new / "Oak Academy Trust - send-diagnostic-review - trust summary.xlsx", "Stages"
    )
    typed = {r[0]: r[6] for r in rows[1:] if r[0]}
    assert typed == {"Oakfield Primary": CALL, "Birch House School": "Visit booked"}


def test_preparation_is_kept_when_the_roster_adds_a_urn(trust: Trust) -> None:
    without = [ROSTER[0], (ROSTER[1][0], "", *ROSTER[1][2:])]
    books = trust.issue_roster(MAINSTREAM, HEADER, without)
    filled = trust.fill(
        books["Oakfield Primary"], MAINSTREAM, cover={"review_date": date(2026, 9, 20)}
    )
    assert trust.ingest(filled)[0]["status"] == "accepted"
    trust.summarise()
    assert _stages(trust)["Birch House School"]["URN"] is None
    _type(trust.outbox / "Oak Trust" / BOOK, {"Birch House School": CALL})
    trust.write_roster(HEADER, ROSTER)  # the roster now gives Birch its URN
    for _ in range(2):  # kept under its name, then under its URN
        trust.summarise()
        birch = _stages(trust)["Birch House School"]
        assert (birch["URN"], birch["Preparation"]) == ("140102", CALL)
    _type(trust.outbox / "Oak Trust" / BOOK, {"Birch House School": None})
    trust.summarise()  # emptied under its URN: the note typed under its name does not come back
    assert _stages(trust)["Birch House School"]["Preparation"] is None


def test_the_per_form_trust_workbooks_of_before_are_removed(trust: Trust) -> None:
    _self_evaluation(trust)
    folder = trust.outbox / "Oak Trust"
    old = [f"Oak Trust - {t} - trust summary.xlsx" for t in (MAINSTREAM, SPECIALIST)]
    for name in old:  # as an earlier version wrote them, and listed them as its own
        (folder / name).write_bytes((folder / BOOK).read_bytes())
    manifest = trust.outbox / MANIFEST
    listed = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps([*listed, *(f"Oak Trust/{n}" for n in old)]), encoding="utf-8")
    trust.summarise()
    assert sorted(p.name for p in folder.glob("*trust summary.xlsx")) == [BOOK]
    assert f"Oak Trust/{BOOK}" in json.loads(manifest.read_text(encoding="utf-8"))


def test_a_rebuild_of_what_one_return_changes_still_draws_on_every_form(trust: Trust) -> None:
    """The watcher redraws only what a return touches: a reviewer's return of template 1 must
    redraw the trust's review workbook from the report and the other schools' forms too."""
    _self_evaluation(trust)
    oak = ("Oakfield Primary", "140101", "Oak Trust")
    report = trust.fill(
        trust.issue("send-review-report", *oak),
        "send-review-report",
        cover={"review_date": date(2026, 10, 20)},
    )
    birch = trust.fill(
        trust.issue(SPECIALIST, "Birch House School", "140102", "Oak Trust"),
        SPECIALIST,
        cover={"review_date": date(2026, 9, 25)},
    )
    assert [r["status"] for r in trust.ingest(report, birch)] == ["accepted"] * 2
    trust.summarise()
    review = trust.fill(
        trust.issue(MAINSTREAM, *oak, judge="external-reviewer"),
        MAINSTREAM,
        seed=2,
        cover={"review_date": date(2026, 10, 3)},
    )
    assert trust.ingest(review)[0]["status"] == "accepted"
    with trust.store() as store:
        written = summarise_affected(
            store,
            trust.registry,
            trust.outbox,
            [(MAINSTREAM, "140101", "Oak Trust")],
            read_roster(trust.root / "roster.csv"),
        )
    assert trust.outbox / "Oak Trust" / BOOK in written
    stages = _stages(trust)
    assert stages["Oakfield Primary"]["School visit"].date() == date(2026, 10, 3)
    assert stages["Oakfield Primary"]["Report"].date() == date(2026, 10, 20)
    assert stages["Oakfield Primary"]["Next"] == "Follow-up visit"
    assert stages["Birch House School"]["Self-evaluation"].date() == date(2026, 9, 25)
    assert stages["Birch House School"]["Next"] == "Reviewer's visit"


def _summarise_all(trust: Trust) -> list[Path]:
    with trust.store() as store:
        return summarise_all(
            store, trust.registry, trust.outbox, read_roster(trust.root / "roster.csv")
        )


def _birch_self_evaluation(trust: Trust) -> None:
    birch = trust.fill(
        trust.issue(SPECIALIST, "Birch House School", "140102", "Oak Trust"),
        SPECIALIST,
        cover={"review_date": date(2026, 9, 25)},
    )
    assert trust.ingest(birch)[0]["status"] == "accepted"


@pytest.fixture
def waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The summaries waiting to be tried again are the process's: each test starts with none."""
    monkeypatch.setattr(writing, "_UNWRITTEN", {})
    monkeypatch.setattr(writing, "_WAITING", {})
    monkeypatch.setattr(writing, "_REPORTED", set())


@pytest.mark.usefixtures("waiting")
def test_a_workbook_that_cannot_be_read_back_is_left_as_it_is(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Open and locked so it cannot even be read: replacing it would lose what was typed, so it
    is left as it is until it can be read back, then rebuilt afresh by the retry."""
    _self_evaluation(trust)
    path = trust.outbox / "Oak Trust" / BOOK
    _type(path, {"Oakfield Primary": CALL})
    before = path.read_bytes()
    _birch_self_evaluation(trust)
    real = stages.load_workbook

    def locked(*_: object, **__: object) -> None:
        raise PermissionError(13, "The process cannot access the file", str(path))

    monkeypatch.setattr(stages, "load_workbook", locked)
    written = _summarise_all(trust)
    assert path not in written and path.read_bytes() == before
    assert any(p.name.endswith("send-review-mainstream.xlsx") for p in written)
    assert writing.unwritten() == [path]
    with trust.store() as store:
        assert writing.retry_unwritten(store) == [path]  # still locked: still waiting
        assert path.read_bytes() == before
        monkeypatch.setattr(stages, "load_workbook", real)
        assert writing.retry_unwritten(store) == []
    stages_now = _stages(trust)
    assert stages_now["Oakfield Primary"]["Preparation"] == CALL
    assert stages_now["Birch House School"]["Self-evaluation"].date() == date(2026, 9, 25)


@pytest.mark.usefixtures("waiting")
def test_a_locked_workbook_is_rebuilt_by_the_retry_keeping_what_was_typed(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Open in Excel on Windows: it can be read but not replaced. The retry does not write the
    bytes made before (they would lose what was typed meanwhile): it reads back again and
    rebuilds, keeping what was typed before the lock and while it was held."""
    _self_evaluation(trust)
    path = trust.outbox / "Oak Trust" / BOOK
    _type(path, {"Oakfield Primary": CALL})
    _birch_self_evaluation(trust)
    release = refuse_replacing(monkeypatch, path)
    assert path not in _summarise_all(trust)
    assert writing.unwritten() == [path]
    assert _stages(trust)["Birch House School"]["Self-evaluation"] is None  # not replaced
    _type(path, {"Birch House School": "Visit booked"})  # saved from Excel meanwhile
    with trust.store() as store:
        assert writing.retry_unwritten(store) == [path]
        release()
        assert writing.retry_unwritten(store) == []
    stages_now = _stages(trust)
    assert stages_now["Oakfield Primary"]["Preparation"] == CALL
    assert stages_now["Birch House School"]["Preparation"] == "Visit booked"
    assert stages_now["Birch House School"]["Self-evaluation"].date() == date(2026, 9, 25)


def test_the_first_partial_rebuild_groups_the_roster_by_trust_once(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an upgrade every family workbook is missing, so a partial rebuild redraws every
    trust for each of the family's forms: matching each against the whole roster would key the
    roster's trust once per trust and form (quadratic; minutes for a large roster)."""
    rows = [
        (f"School {t:02d}-{n}", f"15{t:02d}{n:02d}", f"Trust {t:02d}", "Community school")
        for t in range(12)
        for n in range(3)
    ]
    trust.write_roster(HEADER, rows)
    first = trust.fill(trust.issue(MAINSTREAM, *rows[0][:3]), MAINSTREAM)
    assert trust.ingest(first)[0]["status"] == "accepted"
    shutil.rmtree(trust.outbox)  # as before an upgrade: no family workbook yet
    calls = 0
    keyed = rebuild.trust_key

    def counting(name: str | None) -> str:
        nonlocal calls
        calls += 1
        return keyed(name)

    monkeypatch.setattr(rebuild, "trust_key", counting)
    with trust.store() as store:
        written = summarise_affected(
            store, trust.registry, trust.outbox, [], read_roster(trust.root / "roster.csv")
        )
    # every roster trust's Diagnostic Review workbook is drawn (the quadratic case) ...
    books = {
        p.name for p in written if p.name.endswith(" - send-diagnostic-review - trust summary.xlsx")
    }
    assert len(books) == 12
    # ... keying each roster school's trust a few times, not once per trust and form
    assert calls <= 4 * len(rows), calls


def test_rounds_not_named_after_a_term_are_in_the_order_they_were_reviewed(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trust's own round names, nothing issued through the workspace: each round's place
    comes from its review dates, not its name (alphabetically "Alpha" comes before "Zeta")."""
    trust.write_roster(HEADER, ROSTER[:1])
    settings = '[rounds]\nnames = ["Zeta review", "Alpha review"]\n'
    (trust.root / "sheet-tools.toml").write_text(settings, encoding="utf-8")
    monkeypatch.chdir(trust.root)  # generate reads the current folder's settings
    oak = ("Oakfield Primary", "140101", "Oak Trust")
    for round_name, day in (
        ("Zeta review", date(2026, 9, 20)),
        ("Alpha review", date(2027, 1, 15)),
    ):
        book = trust.issue(MAINSTREAM, *oak, round_name=round_name)
        filled = trust.fill(book, MAINSTREAM, cover={"review_date": day})
        assert trust.ingest(filled)[0]["status"] == "accepted"
    trust.summarise()
    with trust.store() as store:
        assert store.issued() == []
    rows = table_rows(trust.outbox / "Oak Trust" / BOOK, "Stages")
    header = [str(c) for c in rows[0]]
    shown = [dict(zip(header, row, strict=False)) for row in rows[1:] if row[0]]
    assert [(r["Round"], r["Self-evaluation"].date()) for r in shown] == [
        ("Zeta review", date(2026, 9, 20)),
        ("Alpha review", date(2027, 1, 15)),
    ]


def test_a_file_whose_form_could_not_be_told_is_listed_once_in_each_workbook(
    trust: Trust,
) -> None:
    """A rejected file that could be any form is listed in the trust workbook of each form it
    could be, once; in the Diagnostic Review's one workbook once, under the review form the
    school takes (not once per form, nor left out when that form is not otherwise in play)."""
    trust.write_roster(HEADER, ROSTER)
    oak, birch = ROSTER[0][:3], ROSTER[1][:3]
    report = trust.fill(trust.issue("send-review-report", *oak), "send-review-report")
    oak_spr = trust.fill(trust.issue(SPR, *oak), SPR)
    assert [r["status"] for r in trust.ingest(report, oak_spr)] == ["accepted"] * 2
    with trust.store() as store:
        store.add_rejection(
            Rejection(
                file_name="Birch scan.xlsx",
                sha256="b" * 64,
                arrived_at=datetime(2026, 10, 5, 9, 0, tzinfo=UTC),
                template_id=None,
                school=birch[0],
                urn=birch[1],
                trust=birch[2],
                reason="The workbook is not one sheet-tools issued",
            )
        )
    trust.summarise()
    family = table_records(trust.outbox / "Oak Trust" / BOOK, "Returns log")
    listed = [
        (r["School"], r["Form"], r["Status"]) for r in family if "Birch scan" in str(r["Detail"])
    ]
    assert listed == [(birch[0], trust.registry.latest(SPECIALIST).short_title, "Rejected")]
    single = trust.outbox / "Oak Trust" / f"Oak Trust - {SPR} - trust summary.xlsx"
    rows = table_records(single, "Returns log")
    assert [(r["School"], r["Status"]) for r in rows if "Birch scan" in str(r["Detail"])] == [
        (birch[0], "Rejected")
    ]


def test_a_workbook_issued_before_the_roster_had_the_urn_is_the_same_school(trust: Trust) -> None:
    early = trust.root / "early"
    run(
        "generate", MAINSTREAM, "--school", ROSTER[0][0], "--trust", ROSTER[0][2],
        "--round", AUTUMN, "--workspace", str(trust.root), "--out", str(early),
    )  # fmt: skip
    trust.write_roster(HEADER, ROSTER)  # the roster gives Oakfield its URN only now
    trust.summarise()
    rows = table_rows(trust.outbox / "Oak Trust" / BOOK, "Stages")
    header = [str(c) for c in rows[0]]
    oak = [dict(zip(header, row, strict=False)) for row in rows[1:] if row[0] == ROSTER[0][0]]
    assert len(oak) == 1, oak
    assert oak[0]["URN"] == ROSTER[0][1]
    with trust.store() as store:
        [issued] = store.issued()
    assert oak[0]["Identification"].date() == issued.issued_at.date()


def _stages_of(trust: Trust, name: str) -> dict[str, dict[str, object]]:
    rows = table_rows(
        trust.outbox / name / f"{name} - send-diagnostic-review - trust summary.xlsx", "Stages"
    )
    header = [str(c) for c in rows[0]]
    return {str(row[0]): dict(zip(header, row, strict=False)) for row in rows[1:] if row[0]}


def _type_in(trust: Trust, name: str, typed: dict[str, object]) -> None:
    _type(trust.outbox / name / f"{name} - send-diagnostic-review - trust summary.xlsx", typed)


def test_a_note_stays_with_its_school_when_another_trust_has_a_school_of_that_name(
    trust: Trust,
) -> None:
    """Notes are kept for every trust at once: a note typed for a school with no URN is kept
    under its name, which another trust's school may share. That school neither shows the note
    nor, when its own row is edited, takes it over."""
    mary = "St Mary's Primary"
    rows = [
        (mary, "", "Oak Trust", "Community school"),
        (mary, "123456", "Elm Trust", "Community school"),
    ]
    trust.issue_roster(MAINSTREAM, HEADER, rows)
    trust.summarise()
    _type_in(trust, "Oak Trust", {mary: CALL})
    for _ in range(2):  # read back, then drawn from the store
        trust.summarise()
        assert _stages_of(trust, "Oak Trust")[mary]["Preparation"] == CALL
        elm = _stages_of(trust, "Elm Trust")[mary]
        assert (elm["URN"], elm["Preparation"]) == ("123456", None)
    _type_in(trust, "Elm Trust", {mary: "Visit booked"})
    for _ in range(2):
        trust.summarise()
        assert _stages_of(trust, "Oak Trust")[mary]["Preparation"] == CALL
        assert _stages_of(trust, "Elm Trust")[mary]["Preparation"] == "Visit booked"


def test_a_stale_row_of_a_school_that_moved_trust_never_overwrites_a_newer_note(
    trust: Trust,
) -> None:
    """The watcher redraws only the trusts a change touches: after Birch moves from Oak Trust to
    Elm Trust, Oak's workbook still holds Birch's row as it was written. Read back later, that
    row is not an edit and leaves the note typed since in Elm's workbook alone; a cell typed
    into it is an edit, and (as any edit) the one read back last wins."""
    _self_evaluation(trust)
    _type_in(trust, "Oak Trust", {"Birch House School": CALL})
    trust.summarise()
    trust.write_roster(HEADER, [ROSTER[0], (*ROSTER[1][:2], "Elm Trust", ROSTER[1][3])])
    roster = read_roster(trust.root / "roster.csv")
    birch = school_key(*ROSTER[1][:2])

    def affected(*changes: tuple[str, str, str]) -> None:
        with trust.store() as store:
            summarise_affected(store, trust.registry, trust.outbox, list(changes), roster)

    affected((SPECIALIST, birch, "Elm Trust"))
    assert _stages_of(trust, "Elm Trust")["Birch House School"]["Preparation"] == CALL
    oak = trust.outbox / "Oak Trust" / BOOK
    assert "Birch House School" in _stages(trust)  # not redrawn: the row is stale
    stale = oak.read_bytes()
    _type_in(trust, "Elm Trust", {"Birch House School": "Visit booked"})
    affected((SPECIALIST, birch, "Elm Trust"))
    affected((MAINSTREAM, "140101", "Oak Trust"))  # Oak's stale row is read back last
    assert "Birch House School" not in _stages(trust)
    with trust.store() as store:
        assert store.preparation()[(birch, AUTUMN)] == "Visit booked"
    trust.summarise()
    assert _stages_of(trust, "Elm Trust")["Birch House School"]["Preparation"] == "Visit booked"
    # Oak's workbook as the watcher left it, typed into after the move: that is an edit
    oak.write_bytes(stale)
    _type(oak, {"Birch House School": "Moved in October"})
    trust.summarise()
    assert _stages_of(trust, "Elm Trust")["Birch House School"]["Preparation"] == "Moved in October"


def test_a_date_typed_as_written_is_not_an_edit_and_one_typed_anew_is(trust: Trust) -> None:
    """What a cell holds is compared with what was written as the store keeps it: a date read
    back (a datetime) is the date written; a different date or a number in its place is not."""
    _self_evaluation(trust)
    path = trust.outbox / "Oak Trust" / BOOK
    _type(path, {"Oakfield Primary": date(2026, 9, 30), "Birch House School": 3})
    trust.summarise()
    found = stages.read_preparation(path)
    assert found.rows == {}  # both as written
    sheet = load_workbook(path)["Stages"]  # what was written is kept hidden, and not printed
    assert sheet.cell(TABLE_TOP, 12).value == "Preparation as written"
    assert sheet.column_dimensions["L"].hidden
    assert sheet.print_area.split(":")[-1].startswith("$K$"), sheet.print_area
    _type(path, {"Oakfield Primary": datetime(2026, 10, 1), "Birch House School": 3.5})
    found = stages.read_preparation(path)
    assert {value for _, value in found.rows.values()} == {datetime(2026, 10, 1), 3.5}


def test_a_workbook_written_before_the_as_written_column_counts_every_cell(trust: Trust) -> None:
    """A workbook an earlier version wrote has no record of what was written: every cell it
    holds is read back, as before (an empty one as emptied)."""
    _self_evaluation(trust)
    path = trust.outbox / "Oak Trust" / BOOK
    _type(path, {"Oakfield Primary": CALL})
    trust.summarise()
    book = load_workbook(path)
    book["Stages"].delete_cols(12)
    book.save(path)
    found = stages.read_preparation(path)
    assert {key: value for key, (_, value) in found.rows.items()} == {
        ("140101", AUTUMN): CALL,
        ("140102", AUTUMN): None,
    }


@pytest.mark.usefixtures("waiting")
def test_a_stale_workbook_that_cannot_be_read_back_is_not_removed_yet(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trust renamed while its old workbook is open and locked: removing it would lose what
    was typed in it, so it stays until it can be read back."""
    _self_evaluation(trust)
    old = trust.outbox / "Oak Trust" / BOOK
    _type(old, {"Oakfield Primary": CALL})
    trust.write_roster(HEADER, [(*row[:2], "Oak Academy Trust", row[3]) for row in ROSTER])
    real = stages.load_workbook

    def refusing(path: object, *args: object, **kwargs: object) -> object:
        if Path(str(path)) == old:
            raise PermissionError(13, "The process cannot access the file", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(stages, "load_workbook", refusing)
    _summarise_all(trust)
    assert old.exists()
    monkeypatch.setattr(stages, "load_workbook", real)
    _summarise_all(trust)
    assert not old.exists()
    new = (
        trust.outbox
        / "Oak Academy Trust"
        / "Oak Academy Trust - send-diagnostic-review - trust summary.xlsx"
    )
    rows = table_rows(new, "Stages")
    header = [str(c) for c in rows[0]]
    typed = {r[0]: r[header.index("Preparation")] for r in rows[1:] if r[0]}
    assert typed["Oakfield Primary"] == CALL
