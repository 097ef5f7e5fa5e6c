"""Thousands of distinct, valid filled returns in seconds, for the benchmarks.

Filling a workbook through openpyxl (``demo.make_return``) takes about 100 ms, too slow for the
10,000 returns the benchmarks need. So a few real workbooks are generated and filled that way
(``generate_workbook`` + ``fill_workbook``), and every further return is derived from one of them
by rewriting only the answer cells in its sheet XML (cover identity and review date, every
judgement, the area boxes, some evidence notes, and the About sheet's school rows) and zipping
the parts again. Everything else (styles, drop-downs, protection, ids) is the generated
workbook's own, byte for byte. Where each answer sits is found by sheet-tools' own reader on the
filled base, never assumed, and ``verify`` checks variants with ``check_file``.

    python3 benchmarks/synthetic.py --count 200 --out DIR   # make returns, verify every one
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework, Registry, load_registry
from sheet_tools.definitions.roster import School
from sheet_tools.demo import fill_workbook, sample_answers
from sheet_tools.generate.workbook import generate_workbook, workbook_filename
from sheet_tools.intake.guard import guard_file
from sheet_tools.intake.read import read_guarded
from sheet_tools.intake.validate import check_file

TEMPLATE = "specialist-provision-review"
_EXCEL_EPOCH = date(1899, 12, 30)
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"

_STRENGTHS = (
    "Leaders know the provision well and act on what they find.",
    "Staff use visuals and consistent language across the school.",
    "Parents say communication is regular and helpful.",
    "Pupils' plans are reviewed termly with families.",
    "Transition into the provision is carefully planned with families.",
    "Teaching assistants are well trained and deployed with thought.",
    "The provision's environment is calm, ordered and well resourced.",
)
_NEXT_STEPS = (
    "Agree a development plan for the provision with governors this term.",
    "Train mainstream staff on adapting lessons for pupils from the provision.",
    "Introduce termly moderation of progress evidence with a partner school.",
    "Review timetables so every pupil has planned inclusion opportunities.",
    "Share the provision's vision with all stakeholders, including parents.",
    "Set up regular supervision for staff working in the provision.",
)
_EVIDENCE = (
    "Seen in the provision's development plan.",
    "Discussed with the SENCO and the provision lead.",
    "Lesson visits and work scrutiny in the autumn term.",
    "Parent survey and pupil voice.",
    "Governors' minutes and the SEN information report.",
    "Staff training records and performance reviews.",
    "Not yet in place; planned for next term.",
)


@dataclass(frozen=True)
class Expected:
    """What a synthetic return says, as check_file should find it (judgements as level codes)."""

    path: Path
    school: School
    review_date: date
    judge: str
    judgements: dict[str, str | None]
    texts: dict[str, str]


@dataclass
class _Part:
    """One sheet part as literal XML chunks around the answer cells (slot keys)."""

    # literal text, or (slot key, cell ref, style attribute, the base's own cell XML)
    chunks: list[str | tuple[str, str, str, str]]


@dataclass
class _Base:
    """A real generated-and-filled workbook, taken apart for fast rewriting."""

    members: list[tuple[zipfile.ZipInfo, bytes]]  # every zip member, in order
    parts: dict[str, _Part]  # member name -> its rewritable template
    slots: set[str] = field(default_factory=set)


_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*?)(?:/>|>.*?</c>)', re.DOTALL)
_STYLE = re.compile(r'\ss="\d+"')


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member holding it, from workbook.xml and its relationships."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_PKG}Relationship")}
    found = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets[sheet.get(f"{_REL}id")]
        found[sheet.get("name", "")] = (
            target.lstrip("/") if target.startswith("/") else ("xl/" + target)
        )
    return found


def _cell_value(value: object) -> tuple[str, str]:
    """The type attribute and inner XML of a cell holding ``value`` (None: an empty cell)."""
    if value is None or value == "":
        return "", ""
    if isinstance(value, date):
        return ' t="n"', f"<v>{(value - _EXCEL_EPOCH).days}</v>"
    if isinstance(value, int | float):
        return ' t="n"', f"<v>{value}</v>"
    text = escape(str(value))
    return ' t="inlineStr"', f'<is><t xml:space="preserve">{text}</t></is>'


class SyntheticReturns:
    """Makes distinct filled returns of one framework, each as a school would send it back."""

    def __init__(self, framework: Framework, work: Path, *, bases: int = 3, seed: int = 2026):
        self.framework = framework
        self.seed = seed
        self.levels = sorted(framework.scale, key=lambda level: level.score)
        self.roles = {f.role: f for f in framework.cover}
        work.mkdir(parents=True, exist_ok=True)
        self.bases = [self._base(work / f"base{n}", n) for n in range(bases)]

    def _base(self, folder: Path, number: int) -> _Base:
        folder.mkdir(parents=True, exist_ok=True)
        school = School(name=f"Base School {number}", urn=str(900000 + number), trust="Base Trust")
        answers = sample_answers(self.framework, self.seed + number)
        path = generate_workbook(self.framework, school, folder, force=True)
        fill_workbook(
            path,
            self.framework,
            judgements=answers.judgements,
            texts={**answers.texts, **self._notes_everywhere()},
            cover=answers.cover,
        )
        registry = Registry([self.framework])
        raw, issues = read_guarded(guard_file(path), registry)
        if raw is None:
            raise RuntimeError(f"the base workbook {path} cannot be read: {issues}")
        cells: dict[str, dict[str, str]] = {}  # sheet name -> cell ref -> slot key
        for field_id, cell in raw.cover.items():
            cells.setdefault(cell.sheet, {})[cell.cell] = f"cover:{field_id}"
        for statement_id, cell in raw.judgements.items():
            cells.setdefault(cell.sheet, {})[cell.cell] = f"judgement:{statement_id}"
        for key, cell in raw.texts.items():
            cells.setdefault(cell.sheet, {})[cell.cell] = f"text:{key}"
        with zipfile.ZipFile(path) as archive:
            members = [(info, archive.read(info)) for info in archive.infolist()]
            parts_by_sheet = _sheet_parts(archive)
        about = parts_by_sheet[cell_layout.ABOUT_SHEET]
        data = {info.filename: body for info, body in members}
        about_cells = self._about_identity(data[about].decode())
        cells.setdefault(cell_layout.ABOUT_SHEET, {}).update(about_cells)
        parts = {}
        slots: set[str] = set()
        for sheet, wanted in cells.items():
            member = parts_by_sheet[sheet]
            xml = data[member].decode()
            chunks: list[str | tuple[str, str, str, str]] = []
            at = 0
            for match in _CELL.finditer(xml):
                ref = match.group(1)
                if ref not in wanted:
                    continue
                style = _STYLE.search(match.group(2))
                chunks.append(xml[at : match.start()])
                chunks.append((wanted[ref], ref, style.group(0) if style else "", match.group(0)))
                slots.add(wanted[ref])
                at = match.end()
            chunks.append(xml[at:])
            missing = set(wanted) - {c[1] for c in chunks if isinstance(c, tuple)}
            if missing:
                raise RuntimeError(f"cells {sorted(missing)} of {sheet!r} not found in {member}")
            parts[member] = _Part(chunks)
        return _Base(members=members, parts=parts, slots=slots)

    def _notes_everywhere(self) -> dict[str, object]:
        """Text in every statement's text columns of the bases, so each such cell exists."""
        return {
            f"{statement.id}.{column.id}": _EVIDENCE[0]
            for sheet, statement in self.framework.statements()
            for column in sheet.columns
        }

    @staticmethod
    def _about_identity(xml: str) -> dict[str, str]:
        """The About sheet's school/urn/trust value cells (column B beside those keys)."""
        keys = {}
        for match in re.finditer(r'<c r="A(\d+)"[^>]*><is><t>(school|urn|trust)</t></is></c>', xml):
            keys[f"B{match.group(1)}"] = f"about:{match.group(2)}"
        return keys

    def answers(self, number: int) -> tuple[dict[str, str | None], dict[str, str], dict[str, str]]:
        """Seeded answers for return ``number``: judgement codes, what is typed in each judgement
        cell, and texts (boxes and some evidence notes)."""
        rng = random.Random(self.seed * 1_000_003 + number)
        tendency = rng.uniform(0.6, len(self.levels) - 0.6)
        codes: dict[str, str | None] = {}
        typed: dict[str, str] = {}
        for _, statement in self.framework.judged_statements():
            if rng.random() < 0.03:  # not discussed yet: left blank
                codes[statement.id] = None
                continue
            index = min(max(round(rng.gauss(tendency, 0.9)), 0), len(self.levels) - 1)
            level = self.levels[index]
            codes[statement.id] = level.code
            choice = rng.random()
            typed[statement.id] = (
                level.label
                if choice < 0.85
                else level.code
                if choice < 0.95
                else level.label.lower()
            )
        texts: dict[str, str] = {}
        for sheet in self.framework.sheets:
            for box in sheet.boxes:
                pool = _NEXT_STEPS if box.role == "next_steps" else _STRENGTHS
                texts[box.id] = " ".join(rng.sample(pool, rng.randint(1, 3)))
            for statement in sheet.statements:
                for column in sheet.columns:
                    if rng.random() < 0.4:
                        texts[f"{statement.id}.{column.id}"] = rng.choice(_EVIDENCE)
        return codes, typed, texts

    def write(
        self,
        school: School,
        folder: Path,
        number: int,
        *,
        review_date: date | None = None,
        judge: str | None = None,
        name: str | None = None,
    ) -> Expected:
        """Write return ``number`` (its answers follow from the seed and the number) for
        ``school`` into ``folder``, named as the generated workbook would be unless ``name``."""
        rng = random.Random(self.seed * 7_919 + number)
        review = review_date or date(2026, 9, 7) + timedelta(days=rng.randrange(0, 70))
        judge_field = self.roles.get("judge")
        choices = judge_field.choices if judge_field else ()
        who = judge or (
            choices[0] if choices and rng.random() < 0.8 else rng.choice(choices or ("",))
        )
        codes, typed, texts = self.answers(number)
        base = self.bases[number % len(self.bases)]
        values: dict[str, object] = {
            slot: None for slot in base.slots if slot.startswith(("judgement:", "text:"))
        }
        values |= {f"judgement:{k}": v for k, v in typed.items()}
        values |= {f"text:{k}": v for k, v in texts.items()}
        for role, value in (
            ("school", school.name),
            ("urn", int(school.urn) if school.urn else None),
            ("trust", school.trust),
            ("review_date", review),
            ("judge", who),
        ):
            spec = self.roles.get(role)
            if spec is not None:
                values[f"cover:{spec.id}"] = value
        values |= {
            "about:school": school.name,
            "about:urn": school.urn,
            "about:trust": school.trust,
        }
        target = folder / (name or workbook_filename(self.framework, school))
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for info, body in base.members:
                part = base.parts.get(info.filename)
                if part is not None:
                    body = self._render(part, values).encode()
                archive.writestr(info, body, zipfile.ZIP_DEFLATED)
        return Expected(
            path=target,
            school=school,
            review_date=review,
            judge=who,
            judgements=codes,
            texts=texts,
        )

    @staticmethod
    def _render(part: _Part, values: dict[str, object]) -> str:
        out = []
        for chunk in part.chunks:
            if isinstance(chunk, str):
                out.append(chunk)
                continue
            key, ref, style, original = chunk
            if key not in values:  # an answer this return keeps as the base has it
                out.append(original)
                continue
            kind, inner = _cell_value(values[key])
            out.append(
                f'<c r="{ref}"{style}{kind}>{inner}</c>' if inner else f'<c r="{ref}"{style}/>'
            )
        return "".join(out)


def bench_school(number: int, trusts: int) -> School:
    """School ``number`` of a synthetic roster spread over ``trusts`` trusts."""
    return School(
        name=f"Synthetic School {number:05d}",
        urn=str(300000 + number),
        trust=f"Synthetic Trust {number % max(trusts, 1):03d}",
    )


def make_returns(
    folder: Path, count: int, *, trusts: int = 200, seed: int = 2026, template: str = TEMPLATE
) -> list[Expected]:
    """``count`` returns from ``count`` different schools in ``trusts`` trusts, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    maker = SyntheticReturns(load_registry().latest(template), folder / ".bases", seed=seed)
    return [maker.write(bench_school(n, trusts), folder, n) for n in range(count)]


def verify(expected: list[Expected], registry: Registry) -> list[str]:
    """Problems found by check_file: a rejection, or answers other than those written."""
    problems = []
    for item in expected:
        report, valid = check_file(item.path, registry)
        if valid is None:
            problems.append(f"{item.path.name}: rejected: {[i.code for i in report.errors]}")
            continue
        if valid.judgements != item.judgements:
            problems.append(f"{item.path.name}: judgements differ from those written")
        if valid.texts != item.texts:
            problems.append(f"{item.path.name}: texts differ from those written")
        if (valid.school, valid.urn, valid.trust) != (
            item.school.name,
            item.school.urn,
            item.school.trust,
        ):
            problems.append(f"{item.path.name}: identity differs from that written")
        if valid.review_date != item.review_date:
            problems.append(f"{item.path.name}: review date differs")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--trusts", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    made = make_returns(args.out, args.count, trusts=args.trusts)
    seconds = time.perf_counter() - started
    print(f"{len(made)} returns in {seconds:.1f} s ({len(made) / seconds:.0f}/s)")
    problems = verify(made, load_registry())
    print("every return accepted with the answers written" if not problems else "\n".join(problems))


if __name__ == "__main__":
    main()
