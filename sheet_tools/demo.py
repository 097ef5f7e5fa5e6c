"""The bundled demonstration: a sample trust's round trip, from blank workbooks to summaries.

It fills workbooks the way schools do (typing into the input cells of the generated workbook, by
id), so it is also what the tests and benchmarks use to make realistic returns.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from .definitions import cell_layout
from .definitions.frameworks import Framework, FrameworkError, Registry
from .definitions.roster import ROSTER_NAMES, School, write_roster
from .definitions.rounds import Judge, term_of
from .generate.issue import Issued
from .generate.style import put
from .generate.workbook import generate_workbook
from .mail.sender import MAIL_FOLDER, send_due
from .mail.settings import MailSettings
from .problems.report import FileReport
from .service.config import WatchSettings
from .service.issuing import recording_issues
from .service.watch import run_watch, workspace_for
from .store.facade import Store

DEMO_TEMPLATE = "specialist-provision-review"

SAMPLE_TRUST = "Northern Lights Learning Trust"
DEMO_REVIEW_DATE = date(2026, 10, 3)
# example.org addresses (reserved for examples: nobody receives them) so the demo's mail is real
SAMPLE_TRUST_EMAIL = "send-lead@northern-lights.example.org"
SAMPLE_SCHOOLS: tuple[School, ...] = tuple(
    School(
        name=name,
        urn=urn,
        trust=SAMPLE_TRUST,
        email=f"send@{slug}.example.org",
        trust_email=SAMPLE_TRUST_EMAIL,
    )
    for name, urn, slug in (
        ("Oakfield Primary School", "140101", "oakfield"),
        ("Riverside Academy", "140102", "riverside"),
        ("St Hilda's C of E Primary", "140103", "st-hildas"),
        ("Moorland High School", "140104", "moorland"),
        ("Brookside Junior School", "140105", "brookside"),
        ("Hollins Park Academy", "140106", "hollins-park"),
    )
)


def _row_of(ws: Worksheet, item_id: str) -> int:
    for row in range(1, ws.max_row + 1):
        if ws.cell(row=row, column=cell_layout.ID_COL).value == item_id:
            return row
    raise KeyError(f"{item_id} not found on sheet {ws.title!r}")


def fill_workbook(
    path: Path,
    framework: Framework,
    *,
    judgements: dict[str, object] | None = None,
    texts: dict[str, object] | None = None,
    cover: dict[str, object] | None = None,
    actions: dict[str, dict[str, object]] | None = None,
    out: Path | None = None,
) -> Path:
    """Type answers into a generated workbook by id and save it (in place unless ``out``). Text
    is typed as text, as Excel keeps what a person types after an apostrophe, whatever it starts
    with.

    ``judgements``: statement id -> what is typed in its judgement cell ("Secure", "sec", ...);
    ``texts``: box id, or "<statement id>.<column id>" -> text; ``cover``: field id -> value;
    ``actions`` (a carried-forward workbook's plan): row id -> {column key: value}, the keys of
    ``cell_layout.ACTION_COLS`` (owner, due, status, note; action and area on the
    school's own rows).
    """
    book = load_workbook(path)
    about = {row[0]: row[1] for row in book[cell_layout.ABOUT_SHEET].iter_rows(values_only=True)}
    last_round = bool(about.get(cell_layout.KEY_LAST_ROUND_COLUMN))
    sheet_of = {sheet.id: book[sheet.sheet_name] for sheet in framework.sheets}
    statement_sheet = {st.id: sh for sh, st in framework.statements()}
    box_sheet = {box.id: sh for sh in framework.sheets for box in sh.boxes}
    cover_ws = book[cell_layout.COVER_SHEET]
    for field_id, value in (cover or {}).items():
        put(cover_ws, _row_of(cover_ws, field_id), cell_layout.COVER_VALUE_COL, value)
    for statement_id, value in (judgements or {}).items():
        ws = sheet_of[statement_sheet[statement_id].id]
        put(ws, _row_of(ws, statement_id), cell_layout.JUDGEMENT_COL, value)
    for key, value in (texts or {}).items():
        if key in box_sheet:
            ws = sheet_of[box_sheet[key].id]
            put(ws, _row_of(ws, key), cell_layout.BOX_VALUE_COL, value)
            continue
        statement_id, column_id = key.rsplit(".", 1)
        sheet = statement_sheet[statement_id]
        first = cell_layout.text_column(sheet.judged, last_round)
        column = first + [c.id for c in sheet.columns].index(column_id)
        ws = sheet_of[sheet.id]
        put(ws, _row_of(ws, statement_id), column, value)
    if actions:
        plan = book[str(about[cell_layout.KEY_ACTION_PLAN])]
        for action_id, values in actions.items():
            row = _row_of(plan, action_id)
            for key, value in values.items():
                put(plan, row, cell_layout.ACTION_COLS[key], value)
    target = out or path
    book.save(target)
    return target


@dataclass(frozen=True)
class Answers:
    judgements: dict[str, object]
    texts: dict[str, object]
    cover: dict[str, object]


_STRENGTHS = (
    "Leaders know the provision well and act on what they find.",
    "Staff use visuals and consistent language across the school.",
    "Parents say communication is regular and helpful.",
    "Pupils' plans are reviewed termly with families.",
)
_NEXT_STEPS = (
    "Agree a development plan for the provision with governors this term.",
    "Train mainstream staff on adapting lessons for pupils from the provision.",
    "Introduce termly moderation of progress evidence with a partner school.",
    "Review timetables so every pupil has planned inclusion opportunities.",
)


def sample_answers(
    framework: Framework,
    seed: int,
    *,
    review_date: date = DEMO_REVIEW_DATE,
    judge: str = "Self-evaluation",
) -> Answers:
    """Plausible answers for one school: a seeded mix of levels around a school-wide tendency."""
    rng = random.Random(seed)
    levels = [level.label for level in framework.scale]
    tendency = rng.uniform(0.8, len(levels) - 0.8)
    judgements: dict[str, object] = {}
    for _, statement in framework.judged_statements():
        index = round(rng.gauss(tendency, 0.9))
        judgements[statement.id] = levels[min(max(index, 0), len(levels) - 1)]
    texts: dict[str, object] = {}
    for sheet in framework.sheets:
        for box in sheet.boxes:
            pool = _NEXT_STEPS if box.role == "next_steps" else _STRENGTHS
            texts[box.id] = " ".join(rng.sample(pool, 2))
    cover_ids = {field.id for field in framework.cover}
    cover = {
        key: value
        for key, value in {
            "review_date": review_date,
            "judge": judge,
            "personnel": "SENCO; deputy headteacher; SEND governor",
            "reviewer": "A. Reviewer",
        }.items()
        if key in cover_ids
    }
    return Answers(judgements=judgements, texts=texts, cover=cover)


def make_return(
    framework: Framework,
    folder: Path,
    school: School,
    *,
    seed: int = 1,
    judgements: dict[str, object] | None = None,
    texts: dict[str, object] | None = None,
    cover: dict[str, object] | None = None,
    round_name: str | None = None,
    judge: Judge | None = None,
) -> Path:
    """Generate ``school``'s workbook in ``folder`` and fill it in completely; the keyword
    arguments replace parts of the sample answers. The workbook is issued for ``round_name``,
    by default the term of the review date written in it (not of today)."""
    answers = sample_answers(framework, seed)
    cover_ids = {field.id for field in framework.cover}
    merged_cover = {k: v for k, v in {**answers.cover, **(cover or {})}.items() if k in cover_ids}
    if round_name is None:
        written = merged_cover.get("review_date")
        round_name = term_of(written if isinstance(written, date) else DEMO_REVIEW_DATE)
    path = generate_workbook(
        framework, school, folder, force=True, round_name=round_name, judge=judge
    )
    return fill_workbook(
        path,
        framework,
        judgements={**answers.judgements, **(judgements or {})},
        texts={**answers.texts, **(texts or {})},
        cover=merged_cover,
    )


@dataclass(frozen=True)
class DemoReturn:
    school: School
    seed: int
    judge: str = "Self-evaluation"
    review_date: date = date(2026, 10, 3)
    typo: bool = False


# Five schools return a self-evaluation (one with a typing slip that gets the return rejected),
# one school has an earlier round to show progress, the external review of another sits beside
# its self-evaluation, and one school has not returned yet.
DEMO_RETURNS: tuple[DemoReturn, ...] = (
    DemoReturn(SAMPLE_SCHOOLS[0], seed=11),
    DemoReturn(SAMPLE_SCHOOLS[0], seed=12, judge="External reviewer"),
    DemoReturn(SAMPLE_SCHOOLS[1], seed=21, review_date=date(2025, 10, 6)),
    DemoReturn(SAMPLE_SCHOOLS[1], seed=22),
    DemoReturn(SAMPLE_SCHOOLS[2], seed=31),
    DemoReturn(SAMPLE_SCHOOLS[3], seed=41),
    DemoReturn(SAMPLE_SCHOOLS[4], seed=51, typo=True),
)


def demo_returns() -> list[tuple[str, DemoReturn]]:
    """Each sample return with the file name it is dropped into the inbox as."""
    named = []
    for number, item in enumerate(DEMO_RETURNS, start=1):
        name = f"{number:02d} {item.school.name} {item.judge} {item.review_date:%Y-%m}.xlsx"
        named.append((name.replace("'", ""), item))
    return named


def write_demo_returns(
    framework: Framework,
    generated: Path,
    inbox: Path,
    *,
    skip: Container[str] = (),
    on_issue: Callable[[School, Issued], None] | None = None,
) -> list[Path]:
    """Generate the sample trust's workbooks, fill them as its schools would and drop them in
    the inbox, copying the way an administrator would (write elsewhere, then move in). Returns
    whose file names are in ``skip`` are not made; ``on_issue`` hears of each workbook issued
    (to record it in the workspace, so mail can be addressed)."""
    wanted = [(name, item) for name, item in demo_returns() if name not in skip]
    if not wanted:
        return []
    inbox.mkdir(parents=True, exist_ok=True)
    filled_dir = generated / "filled"
    filled_dir.mkdir(parents=True, exist_ok=True)
    blanks: dict[tuple[str | None, str], Path] = {}
    for _, item in wanted:
        round_name = term_of(item.review_date)
        key = (item.school.urn, round_name)
        if key not in blanks:  # one workbook per school and round, as a trust issues them
            blanks[key] = generate_workbook(
                framework,
                item.school,
                generated / round_name,
                force=True,
                round_name=round_name,
                on_issue=on_issue,
            )
    dropped = []
    for name, item in wanted:
        answers = sample_answers(
            framework, item.seed, review_date=item.review_date, judge=item.judge
        )
        judgements = dict(answers.judgements)
        if item.typo:
            judgements[next(iter(judgements))] = "Embeded"
        filled = fill_workbook(
            blanks[(item.school.urn, term_of(item.review_date))],
            framework,
            judgements=judgements,
            texts=answers.texts,
            cover=answers.cover,
            out=filled_dir / name,
        )
        dropped.append(filled.replace(inbox / filled.name))
    return dropped


@dataclass(frozen=True)
class DemoResult:
    dropped: list[Path]
    reports: list[FileReport]
    summaries: list[Path]
    # The roster the summaries used: the workspace's roster.csv, or generated/roster.csv when
    # the workspace already had a roster the demo did not write (that one is left alone).
    roster: Path
    # Sample returns not dropped because the workspace had already processed them.
    already_processed: list[str]
    # The e-mail the demo wrote as .eml files under mail/ (never sent by SMTP).
    messages: list[Path] = field(default_factory=list)


def _demo_roster(workspace_root: Path, generated: Path) -> Path:
    """The sample trust's roster, put where summaries find it: the workspace's roster.csv when
    there is no roster yet (or it is the demo's own), never replacing one the demo did not write,
    because a roster is the trust's list of its schools."""
    own = write_roster(generated / ROSTER_NAMES[0], SAMPLE_SCHOOLS)
    target = workspace_root / ROSTER_NAMES[0]
    if target.is_file() and target.read_bytes() == own.read_bytes():
        return target  # written by an earlier demo
    if any((workspace_root / name).exists() for name in ROSTER_NAMES):
        return own
    try:
        with target.open("xb") as handle:  # "x": a roster created meanwhile is not replaced
            handle.write(own.read_bytes())
    except FileExistsError:
        return own
    return target


def _processed_names(database: Path) -> set[str]:
    """File names the workspace's store has already handled (accepted, duplicate or rejected)."""
    if not database.exists():
        return set()
    with Store(database) as store:
        return {event.file_name for event in store.events()}


def run_demo(workspace_root: Path, registry: Registry) -> DemoResult:
    """The whole round trip for the sample trust: generate, fill, drop into the inbox, process
    the inbox once as the watcher does, and write the summaries to the outbox.

    Running it again in the same workspace drops only the sample returns not yet processed there
    (none, after a complete run): the same returns are not stored, or rejected, a second time."""
    framework = registry.get(DEMO_TEMPLATE)
    if framework is None:
        raise FrameworkError(
            f"the demo needs the {DEMO_TEMPLATE!r} framework, which is not among the loaded "
            f"definitions ({', '.join(registry.ids())})"
        )
    generated = workspace_root / "generated"
    roster = _demo_roster(workspace_root, generated)
    settings = WatchSettings(workspace=workspace_root, roster=roster, once=True, stable_seconds=0.2)
    workspace = workspace_for(settings)
    processed = _processed_names(workspace.database)
    with recording_issues(workspace, framework) as note:
        dropped = write_demo_returns(
            framework, generated, workspace.inbox, skip=processed, on_issue=note
        )
    reports: list[FileReport] = []
    # the demo never uses SMTP, whatever the workspace configures: its mail is .eml files
    mail = MailSettings()
    folder = workspace.root / MAIL_FOLDER
    before = set(folder.glob("*.eml")) if folder.is_dir() else set()
    run_watch(settings, registry, on_report=reports.append, mail=mail)
    with Store(workspace.database) as store:  # what the watcher's sender had not reached yet
        send_due(store, workspace.root, mail, registry)
    messages = sorted(set(folder.glob("*.eml")) - before) if folder.is_dir() else []
    summaries = sorted(p for p in workspace.outbox.rglob("*") if p.suffix in (".xlsx", ".png"))
    already = [name for name, _ in demo_returns() if name in processed]
    return DemoResult(
        dropped=dropped,
        reports=reports,
        summaries=summaries,
        roster=roster,
        already_processed=already,
        messages=messages,
    )
