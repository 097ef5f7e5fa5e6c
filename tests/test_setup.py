"""``sheet-tools init``, the workspace every service command requires, and the names a new round
may take; through the CLI, on real folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.cli import main
from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework
from sheet_tools.definitions.roster import School, read_roster
from sheet_tools.service.config import load_watch_settings
from sheet_tools.store.facade import Store
from tests.support.helpers import workspace
from tests.support.returns import OAKFIELD, make_return

SPR = "specialist-provision-review"


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env or {})


def refused(result, *words: str) -> str:
    """The one ``Error:`` line of a command that could not run (exit status 2)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = result.output.splitlines()
    assert line.startswith("Error: "), line
    for word in words:
        assert word in line, (word, line)
    return line


def about(workbook: Path) -> dict[object, object]:
    sheet = load_workbook(workbook)[cell_layout.ABOUT_SHEET]
    return {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}


# --- init ---------------------------------------------------------------------------------------
def test_init_makes_a_workspace_the_commands_accept(spr: Framework, tmp_path: Path) -> None:
    root = tmp_path / "send-reviews"
    result = invoke("init", str(root))
    assert result.exit_code == 0, result.output
    for folder in ("inbox", "outbox", "archive", "rejected"):
        assert (root / folder).is_dir()
    settings = (root / "sheet-tools.toml").read_text(encoding="utf-8")
    assert "[watch]" in settings and "# names = [" in settings  # commented, so nothing is set
    assert load_watch_settings({"workspace": root}, environ={}).roster is None
    example = read_roster(root / "roster.example.csv")
    assert [s.trust for s in example] == ["Example Learning Trust"] * 2 + ["Bristol, City of"]
    assert not (root / "roster.csv").exists()  # the example is never taken for the real roster

    # the commands work there, without a database made beforehand
    make_return(spr, root / "inbox", OAKFIELD)
    watched = invoke("watch", "--workspace", str(root), "--once", "--json", env={
        "SHEET_TOOLS_STABLE_SECONDS": "0.1"})  # fmt: skip
    assert watched.exit_code == 0, watched.output
    [report] = [json.loads(x) for x in watched.stdout.splitlines() if x.startswith("{")]
    assert report["status"] == "accepted"
    other = make_return(spr, tmp_path / "elsewhere", School(name="Ash School", urn="140002"))
    assert invoke("ingest", str(other), "--workspace", str(root)).exit_code == 0
    assert invoke("summarise", "--workspace", str(root)).exit_code == 0
    assert "2 return(s)" in invoke("returns", "list", "--workspace", str(root)).output

    # again: nothing replaced
    (root / "sheet-tools.toml").write_text("[watch]\npoll = 5\n", encoding="utf-8")
    again = invoke("init", str(root))
    assert again.exit_code == 0 and "nothing to make" in again.output
    assert (root / "sheet-tools.toml").read_text(encoding="utf-8") == "[watch]\npoll = 5\n"


def test_a_workspace_made_before_init_keeps_working(spr: Framework, tmp_path: Path) -> None:
    root = tmp_path / "old"
    root.mkdir()
    Store(root / "sheet-tools.db").close()  # all an older workspace was sure to have
    path = make_return(spr, tmp_path / "in", OAKFIELD)
    result = invoke("ingest", str(path), "--workspace", str(root), "--json")
    assert result.exit_code == 0, result.output
    assert (root / "archive" / path.name).is_file()


@pytest.mark.parametrize(
    "args",
    [
        ["watch", "--once"],
        ["ingest", "FILE"],
        ["summarise"],
        ["returns", "list"],
        ["returns", "withdraw", "1", "--reason", "sent in error"],
        ["returns", "restore", "1"],
        ["generate", SPR, "--school", "Oak", "--out", "OUT"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_folder_that_is_not_a_workspace_is_refused_naming_init(
    spr: Framework, tmp_path: Path, args: list[str]
) -> None:
    typo = tmp_path / "send-reveiws"  # the workspace is tmp_path / "send-reviews"
    path = make_return(spr, tmp_path / "in", OAKFIELD)
    out = tmp_path / "out"
    named = [str(path) if a == "FILE" else str(out) if a == "OUT" else a for a in args]
    refused(invoke(*named, "--workspace", str(typo)), f"sheet-tools init {typo}", str(typo))
    assert not typo.exists()  # no folders, no database at a mistyped path
    assert not out.exists()
    typo.mkdir()  # a folder that exists is still not a workspace
    refused(invoke(*named, "--workspace", str(typo)), "not a sheet-tools workspace")
    assert list(typo.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["watch", "--once", "--inbox", "MISSING"],
        ["watch", "--once", "--outbox", "MISSING"],
        ["summarise", "--outbox", "MISSING"],
    ],
    ids=lambda args: " ".join(args[::2]),
)
def test_an_inbox_or_outbox_that_does_not_exist_is_refused(tmp_path: Path, args: list[str]) -> None:
    root = workspace(tmp_path / "ws")
    missing = tmp_path / "mnt" / "shrae" / "inbox"
    named = [str(missing) if a == "MISSING" else a for a in args]
    refused(invoke(*named, "--workspace", str(root)), str(missing), "init")
    assert not missing.parent.exists()
    assert not (root / "sheet-tools.db").exists()


# --- round names --------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["Autum 2026", "autumn 26", "2026-10"])
def test_a_mistyped_round_is_refused_with_the_round_meant(tmp_path: Path, typed: str) -> None:
    out = tmp_path / "out"
    result = invoke("generate", SPR, "--school", "Oak", "--out", str(out), "--round", typed)
    line = refused(result, f"'{typed}' is not a review round")
    assert line.endswith("Did you mean Autumn 2026?")
    assert not out.exists()


def test_a_term_is_written_as_a_term_in_any_case_and_spacing(tmp_path: Path) -> None:
    result = invoke("generate", SPR, "--school", "Oak", "--out", str(tmp_path), "--round",
                    "  AUTUMN   2026 ")  # fmt: skip
    assert result.exit_code == 0, result.output
    [workbook] = tmp_path.glob("*.xlsx")
    assert about(workbook)[cell_layout.KEY_ROUND] == "Autumn 2026"


def test_a_round_declared_in_the_settings_is_accepted_as_declared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = workspace(tmp_path / "ws")
    (root / "sheet-tools.toml").write_text(
        '[rounds]\nnames = ["Cycle 3", "Cycle 4"]\n', encoding="utf-8"
    )
    out = tmp_path / "out"
    ok = invoke("generate", SPR, "--school", "Oak", "--out", str(out), "--workspace", str(root),
                "--round", "cycle  3")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    [workbook] = out.glob("*.xlsx")
    assert about(workbook)[cell_layout.KEY_ROUND] == "Cycle 3"
    line = refused(
        invoke(
            "generate",
            SPR,
            "--school",
            "Oak",
            "--out",
            str(out),
            "--workspace",
            str(root),
            "--round",
            "Cylce 3",
            "--force",
        ),
        "[rounds] names",
    )
    assert line.endswith("Did you mean Cycle 3?")
    # without --workspace, the current folder's settings
    monkeypatch.chdir(root)
    here = invoke("generate", SPR, "--school", "Oak", "--out", str(tmp_path / "here"),
                  "--round", "Cycle 4")  # fmt: skip
    assert here.exit_code == 0, here.output


def test_a_round_already_in_the_store_is_always_accepted(spr: Framework, tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws")
    # a workbook issued (before names were checked) for a round with its own name
    path = make_return(spr, tmp_path / "in", OAKFIELD, round_name="Pilot 2025-26")
    ingested = invoke("ingest", str(path), "--workspace", str(root), "--json")
    assert json.loads(ingested.output)["round"] == "Pilot 2025-26"
    out = tmp_path / "out"
    again = invoke("generate", SPR, "--school", "Oak", "--out", str(out), "--workspace", str(root),
                   "--round", "pilot 2025-26")  # fmt: skip
    assert again.exit_code == 0, again.output
    [workbook] = out.glob("*.xlsx")
    assert about(workbook)[cell_layout.KEY_ROUND] == "Pilot 2025-26"
    # elsewhere, the same name is a new round, and refused
    refused(invoke("generate", SPR, "--school", "Oak", "--out", str(tmp_path / "o2"),
                   "--round", "Pilot 2025-26"))  # fmt: skip


# --- the cover's required mark ------------------------------------------------------------------
def cover_labels(workbook: Path) -> dict[str, str]:
    ws = load_workbook(workbook)[cell_layout.COVER_SHEET]
    return {
        str(row[0]): str(row[cell_layout.COVER_LABEL_COL - 1])
        for row in ws.iter_rows(min_row=cell_layout.FIRST_ROW, values_only=True)
        if row[0]
    }


def test_the_cover_marks_judgements_made_by_required_where_a_blank_one_is_rejected(
    spr: Framework, tmp_path: Path
) -> None:
    open_to_any = make_return(spr, tmp_path / "any", OAKFIELD, cover={"judge": None})
    assert cover_labels(open_to_any)["judge"] == "Judgements made by (required)"
    result = CliRunner().invoke(main, ["validate", str(open_to_any), "--json"])
    assert "missing-judge" in {issue["code"] for issue in json.loads(result.output)["errors"]}

    issued = make_return(
        spr, tmp_path / "self", OAKFIELD, cover={"judge": None}, judge="self-evaluation"
    )
    assert cover_labels(issued)["judge"] == "Judgements made by"  # the role is issued
    assert json.loads(invoke("validate", str(issued), "--json").output)["status"] == "accepted"
