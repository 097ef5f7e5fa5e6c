"""A trust's workspace driven as an administrator drives it, through the CLI: generate, fill,
ingest, summarise; and what the tests compute independently of the summaries they read."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.cli import main
from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.definitions.roster import read_roster
from sheet_tools.demo import sample_answers
from sheet_tools.store.facade import Store
from sheet_tools.summarise.cells import TABLE_TOP
from sheet_tools.summarise.outbox import MANIFEST

from .returns import fill

SPR = "specialist-provision-review"
AUTUMN = "Autumn 2026"
SCORE = {"Beg": 1, "Dev": 2, "Sec": 3, "Emb": 4}
LABEL_CODE = {"Beginning": "Beg", "Developing": "Dev", "Secure": "Sec", "Embedded": "Emb"}


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.output


class Trust:
    """A workspace driven as an administrator drives it: generate, fill, ingest, summarise."""

    def __init__(self, root: Path, registry: Registry) -> None:
        self.root = root
        self.registry = registry
        self.issued = root / "issued"
        self.filled = root / "filled"
        self.filled.mkdir(parents=True)
        self.count = 0
        run("init", str(root))  # a workspace, as an administrator starts one

    def issue(
        self,
        template: str,
        school: str,
        urn: str | None = None,
        trust: str | None = None,
        round_name: str = AUTUMN,
        judge: str | None = None,
    ) -> Path:
        folder = self.issued / f"{self.count}"
        self.count += 1
        args = ["generate", template, "--school", school, "--out", str(folder)]
        args += ["--round", round_name]
        if urn:
            args += ["--urn", urn]
        if trust:
            args += ["--trust", trust]
        if judge:
            args += ["--judge", judge]
        output = run(*args)
        assert "Wrote" in output, output
        [path] = folder.glob("*.xlsx")
        return path

    def fill(self, workbook: Path, template: str, seed: int = 1, **answers: dict) -> Path:
        self.count += 1
        out = self.filled / f"{self.count:03d} {workbook.name}"
        return fill(workbook, self.registry.latest(template), out, seed, **answers)

    def ingest(self, *paths: Path) -> list[dict]:
        output = run("ingest", *map(str, paths), "--workspace", str(self.root), "--json")
        return [json.loads(line) for line in output.splitlines() if line.startswith("{")]

    def summarise(self) -> None:
        run("summarise", "--workspace", str(self.root))

    def roster(self, rows: list[tuple[str, str, str]]) -> None:
        self.write_roster(["school", "urn", "trust"], rows)

    def write_roster(self, header: list[str], rows: list[tuple[str, ...]]) -> Path:
        """The workspace's roster.csv, written as CSV quotes it."""
        path = self.root / "roster.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    def issue_roster(
        self,
        template: str,
        header: list[str],
        rows: list[tuple[str, ...]],
        round_name: str = AUTUMN,
    ) -> dict[str, Path]:
        """Write ``rows`` as the workspace's roster and generate the workbook of every school the
        form applies to into the workspace (so each is recorded as issued), by school name."""
        path = self.write_roster(header, rows)
        out = self.root / "issued-now"
        run("generate", template, "--roster", str(path), "--round", round_name,
            "--workspace", str(self.root), "--out", str(out))  # fmt: skip
        books = {}
        for book in out.glob(f"* - {template}*.xlsx"):
            about = load_workbook(book)[cell_layout.ABOUT_SHEET]
            held = {row[0]: row[1] for row in about.iter_rows(values_only=True)}
            books[str(held[cell_layout.KEY_SCHOOL])] = book
        # a form is issued only to the schools it applies to (the roster's frameworks or type)
        assert set(books) == {s.name for s in read_roster(path) if s.takes(template)}
        return books

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    def outbox_files(self) -> set[str]:
        return {
            p.relative_to(self.outbox).as_posix()
            for p in self.outbox.rglob("*")
            if p.is_file() and p.name != MANIFEST
        }

    def store(self) -> Store:
        return Store(self.root / "sheet-tools.db")


def sheet_rows(path: Path, sheet: str) -> list[list[object]]:
    return [list(row) for row in load_workbook(path)[sheet].iter_rows(values_only=True)]


def table_rows(path: Path, sheet: str) -> list[list[object]]:
    """The rows of a summary sheet's table, from its header row: a sheet meant to be read
    starts with its title in A1 and a line on what it holds (``TABLE_TOP``)."""
    rows = sheet_rows(path, sheet)
    assert rows[0][0] and rows[TABLE_TOP - 1][0], f"{sheet}: no title in A1 or no table header"
    return rows[TABLE_TOP - 1 :]


def area_scores_of(path: Path) -> dict[str, list[object]]:
    """School -> its row on a trust workbook's Area scores sheet."""
    rows = table_rows(path, "Area scores")
    schools = {}
    for row in rows[1:]:
        if row[0] == "Trust average":
            break
        schools[row[0]] = row[1:]
    return schools


def expected_area_means(framework: Framework, labels: dict[str, str]) -> list[float]:
    """Each judged area's mean score, computed here from the labels the test typed."""
    means = []
    for sheet in framework.sheets:
        if not sheet.judged:
            continue
        scores = [SCORE[LABEL_CODE[labels[s.id]]] for s in sheet.statements if labels.get(s.id)]
        means.append(sum(scores) / len(scores))
    return means


LABEL_SCORE = {"Beginning": 1, "Developing": 2, "Secure": 3, "Embedded": 4}
NA_SPELLINGS = {"not applicable", "n/a", "na"}  # what the test types, case folded and trimmed
SECURE = 3


def kind(typed: object) -> str | int:
    """What a typed judgement is, worked out here: "blank", "na" or the level's score."""
    if typed is None or not str(typed).strip():
        return "blank"
    if str(typed).strip().casefold() in NA_SPELLINGS:
        return "na"
    return LABEL_SCORE[str(typed)]


def typed_of(spr: Framework, seed: int, overrides: dict[str, object]) -> dict[str, object]:
    return {**sample_answers(spr, seed).judgements, **overrides}
