"""How fast are the workbooks for a whole roster generated, and what do their features cost?

Generates one workbook per school for a synthetic roster (1,560 schools by default: the number of
schools in England with an SEN unit or resourced provision) with ``generate_batch``, the function
behind ``sheet-tools generate --roster``, and, in the same run, a baseline: a plain openpyxl loop
writing the same sheets, ids and statement text with no drop-downs, formatting, protection or
print setup. The difference is the price of the features. A third run generates the next round's
carried-forward workbooks (``--carry-forward``: a Last round column and an Action plan) from a
store holding an earlier round's return for every school, timing the store read
(``carry.carried_for``) and the writing separately.

    python3 benchmarks/bench_generate.py               # the full 1,560-school roster
    python3 benchmarks/bench_generate.py --schools 100 # a quick run
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.carried import Carried
from sheet_tools.definitions.frameworks import Framework, load_registry
from sheet_tools.definitions.roster import School
from sheet_tools.generate.workbook import generate_batch, workbook_filename
from sheet_tools.intake.returns import ValidReturn
from sheet_tools.service.carry import carried_for
from sheet_tools.store.facade import Store

ENGLAND_SCHOOLS_WITH_SEN_UNIT_OR_RP = 1560

_PLACES = [
    "Oakfield",
    "Ashbourne",
    "Riverside",
    "Hillcrest",
    "Meadowbank",
    "Kingsway",
    "Westfield",
    "Brookside",
    "Elmwood",
    "Fairview",
    "Greenacre",
    "Highfield",
    "Larkrise",
    "Millbrook",
    "Northgate",
    "Parkside",
    "Queensway",
    "Redhill",
    "Southmere",
    "Thornbury",
    "Underwood",
    "Valley",
    "Whitecross",
    "Yewtree",
    "Beechwood",
    "Castleford",
    "Denby",
]
_KINDS = (
    "Primary School",
    "Academy",
    "High School",
    "Junior School",
    "Infant School",
    "Church of England Primary School",
    "Catholic Primary School",
    "Community College",
)
_TRUST_WORDS = ["Learning Partnership", "Academy Trust", "Education Trust", "Schools Trust"]


def synthetic_roster(count: int, seed: int = 2026) -> list[School]:
    """``count`` schools with plausible names, unique six-digit URNs and ~1 trust per 25."""
    rng = random.Random(seed)
    trusts = [
        f"{rng.choice(_PLACES)} {rng.choice(_TRUST_WORDS)}" for _ in range(max(1, count // 25))
    ]
    urns = rng.sample(range(100000, 150000), count)
    return [
        School(
            name=f"{rng.choice(_PLACES)} {rng.choice(_KINDS)}",
            urn=str(urn),
            trust=rng.choice(trusts),
        )
        for urn in urns
    ]


def plain_openpyxl(framework: Framework, schools: list[School], out: Path) -> None:
    """The baseline: the same sheets, ids and text, written with no features at all."""
    for school in schools:
        wb = Workbook()
        cover = wb.active
        cover.title = cell_layout.COVER_SHEET
        cover.append([None, framework.title])
        for field in framework.cover:
            value = {"school": school.name, "urn": school.urn, "trust": school.trust}.get(
                field.role
            )
            cover.append([field.id, field.label, value])
        for sheet in framework.sheets:
            ws = wb.create_sheet(sheet.sheet_name)
            ws.append([sheet.id, sheet.title])
            for statement in sheet.statements:
                ws.append([statement.id, statement.text])
            for box in sheet.boxes:
                ws.append([None, box.label])
                ws.append([box.id])
        about = wb.create_sheet(cell_layout.ABOUT_SHEET)
        about.append([cell_layout.KEY_TEMPLATE, framework.id])
        about.append([cell_layout.KEY_VERSION, framework.version])
        wb.save(out / workbook_filename(framework, school))


def earlier_round(framework: Framework, schools: list[School], database: Path, seed: int) -> None:
    """A store holding one Autumn return per school: seeded levels and next steps per area."""
    rng = random.Random(seed)
    codes = [level.code for level in framework.scale]
    with Store(database) as store:
        for number, school in enumerate(schools):
            texts = {
                box.id: f"Next step {rng.randint(1, 99)} for {sheet.title}"
                for sheet in framework.sheets
                for box in sheet.boxes
                if box.role == "next_steps"
            }
            valid = ValidReturn(
                template_id=framework.id,
                template_version=framework.version,
                school=school.name,
                urn=school.urn,
                trust=school.trust,
                review_date=date(2026, 10, 3),
                round="Autumn 2026",
                cover={"personnel": "SENCO; headteacher"},
                judgements={st.id: rng.choice(codes) for _, st in framework.judged_statements()},
                texts=texts,
            )
            store.add_return(
                valid,
                sha256=f"{number:064x}",
                file_name=f"{number}.xlsx",
                arrived_at=datetime(2026, 10, 4, tzinfo=UTC),
            )


def measure(run: Callable[[Path], None], root: Path, name: str) -> tuple[float, float]:
    """Seconds taken and mean file size (KiB) of one run writing into a fresh folder."""
    out = root / name
    out.mkdir()
    start = time.perf_counter()
    run(out)
    seconds = time.perf_counter() - start
    files = list(out.glob("*.xlsx"))
    return seconds, sum(f.stat().st_size for f in files) / max(len(files), 1) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=ENGLAND_SCHOOLS_WITH_SEN_UNIT_OR_RP)
    parser.add_argument("--framework", default="specialist-provision-review")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    framework = load_registry().latest(args.framework)
    schools = synthetic_roster(args.schools, args.seed)
    statements = sum(len(s.statements) for s in framework.sheets)
    print(
        f"{framework.key}: {len(framework.sheets)} area sheets, {statements} statements; "
        f"{len(schools)} schools, {len({s.trust for s in schools})} trusts"
    )
    carried: dict[str, Carried] = {}
    spring = "Spring 2027"
    runs: dict[str, Callable[[Path], None]] = {
        "sheet-tools generate_batch": lambda out: generate_batch(framework, schools, out),
        "plain openpyxl (no features)": lambda out: plain_openpyxl(framework, schools, out),
        "carried forward (writing)": lambda out: generate_batch(
            framework, schools, out, round_name=spring, carried=carried
        ),
    }
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as root:
        database = Path(root) / "sheet-tools.db"
        earlier_round(framework, schools, database, args.seed)
        start = time.perf_counter()
        with Store(database) as store:
            carried.update(carried_for(store, load_registry(), framework, schools, spring).carried)
        reading = time.perf_counter() - start
        assert len(carried) == len(schools)
        for index, (name, run) in enumerate(runs.items()):
            results[name] = measure(run, Path(root), f"run{index}")
    print(f"{'':30} {'workbooks':>9} {'seconds':>8} {'per second':>10} {'ms each':>8} {'KiB':>6}")
    for name, (seconds, kib) in results.items():
        print(
            f"{name:30} {len(schools):9d} {seconds:8.2f} {len(schools) / seconds:10.1f} "
            f"{1000 * seconds / len(schools):8.1f} {kib:6.1f}"
        )
    full = results["sheet-tools generate_batch"][0]
    plain = results["plain openpyxl (no features)"][0]
    print(f"features cost {full / plain:.2f}x the plain loop's time")
    writing = results["carried forward (writing)"][0]
    print(
        f"carry forward: reading the earlier round from the store {reading:.2f} s "
        f"({1000 * reading / len(schools):.2f} ms a school); with writing "
        f"{(reading + writing) / full:.2f}x plain generation's time"
    )


if __name__ == "__main__":
    main()
