"""Benchmark: consolidate 10,000 stored returns across 200 trusts into the outbox.

Fills a store in a temporary folder with synthetic validated returns (straight into
``Store.add_return``, no workbooks): 200 trusts of 20 schools; every school has a self-evaluation
for the 2025 and the 2026 rounds, and half the schools an external review of 2026 as well
(4,000 schools, 10,000 returns). A roster lists every school plus one per trust that has not
returned. Each measurement then runs in a fresh process, so its peak memory is its own:

- full rebuild: ``summarise_all`` (every school summary, radar PNG and trust workbook), on every
  core, and with ``--serial`` also on one core for comparison;
- trust workbooks only: the consolidation alone (200 trust workbooks from 10,000 returns);
- one new return: ``summarise_affected`` for it, listing what it redrew.

Prints seconds and peak resident memory (the process's and its worker processes' largest).
Targets, not asserted: full rebuild under 60 s and under 1 GiB for 10,000 returns.

    python3 benchmarks/bench_summarise.py [--trusts 200] [--schools 20] [--serial] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sheet_tools.base.clock import utc_now
from sheet_tools.base.keys import school_key
from sheet_tools.definitions.frameworks import Framework, load_registry
from sheet_tools.definitions.roster import School
from sheet_tools.intake.returns import ValidReturn
from sheet_tools.store.facade import Store
from sheet_tools.summarise import summarise_affected, summarise_all, summarise_returns

TEMPLATE = "specialist-provision-review"
CODES = ("Beg", "Dev", "Sec", "Emb")
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def bench_school(trust: int, number: int) -> School:
    return School(
        name=f"Bench School {trust:03d}-{number:02d}",
        urn=str(600000 + trust * 100 + number),
        trust=f"Bench Trust {trust:03d}",
    )


def synthetic(
    framework: Framework, school: School, rng: random.Random, judge: str, review: date
) -> ValidReturn:
    tendency = rng.uniform(0.5, 3.5)
    judgements = {
        st.id: None if rng.random() < 0.05 else CODES[min(3, max(0, round(rng.gauss(tendency, 1))))]
        for _, st in framework.judged_statements()
    }
    texts = {
        box.id: f"{box.label}: agreed actions {rng.randint(1, 99)} for the next term."
        for sheet in framework.sheets
        for box in sheet.boxes
    }
    return ValidReturn(
        template_id=framework.id,
        template_version=framework.version,
        school=school.name,
        urn=school.urn,
        trust=school.trust,
        review_date=review,
        judge=judge,
        cover={"school": school.name, "urn": school.urn or "", "trust": school.trust or ""},
        judgements=judgements,
        texts=texts,
    )


def populate(database: Path, trusts: int, schools: int) -> tuple[int, list[School]]:
    framework = load_registry().latest(TEMPLATE)
    rng = random.Random(2026)
    moment = START
    count = 0
    roster: list[School] = []
    with Store(database) as store:
        for trust in range(trusts):
            for number in range(schools):
                school = bench_school(trust, number)
                roster.append(school)
                plan = [
                    ("self-evaluation", date(2025, 10, 1)),
                    ("self-evaluation", date(2026, 10, 1)),
                ]
                if number % 2 == 0:
                    plan.append(("external-review", date(2026, 10, 1)))
                for judge, review in plan:
                    moment += timedelta(seconds=13)
                    valid = synthetic(framework, school, rng, judge, review)
                    store.add_return(
                        valid,
                        sha256=f"{count:064x}",
                        file_name=f"{school.name} {judge} {review}.xlsx",
                        arrived_at=moment,
                    )
                    count += 1
            roster.append(
                School(name=f"Bench Late School {trust:03d}", trust=f"Bench Trust {trust:03d}")
            )
    return count, roster


def _usage() -> tuple[float, float, float]:
    """Peak RSS (MiB) of this process and of its largest worker, and CPU seconds of both."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return own.ru_maxrss / 1024, children.ru_maxrss / 1024, cpu


def phase(name: str, work: Path, workers: int | None) -> dict[str, object]:
    """One measurement, in this (fresh) process."""
    registry = load_registry()
    roster = [School.model_validate(s) for s in json.loads((work / "roster.json").read_text())]
    outbox = work / f"outbox-{name}"
    with Store(work / "sheet-tools.db") as store:
        started = time.perf_counter()
        cpu_before = _usage()[2]
        if name in ("full", "serial"):
            written = summarise_all(store, registry, outbox, roster, workers=workers)
        elif name == "trusts":
            written = summarise_returns(
                store.returns(),
                registry,
                outbox,
                roster=roster,
                rejections=store.rejections(),
                schools=set(),
            )
        else:  # one new return, after a full rebuild into this outbox
            shutil.copytree(work / "outbox-full", outbox)
            framework = registry.latest(TEMPLATE)
            school = bench_school(7, 3)
            valid = synthetic(
                framework, school, random.Random(7), "external-review", date(2026, 10, 1)
            )
            store.add_return(
                valid, sha256="f" * 64, file_name="late review.xlsx", arrived_at=utc_now()
            )
            started = time.perf_counter()
            cpu_before = _usage()[2]
            written = summarise_affected(
                store,
                registry,
                outbox,
                {(TEMPLATE, school_key(school.name, school.urn), school.trust)},
                roster,
            )
        seconds = time.perf_counter() - started
    own, children, cpu = _usage()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu - cpu_before,
        "peak_mib": own,
        "workers_peak_mib": children,
        "workbooks": sum(1 for p in written if p.suffix == ".xlsx"),
        "pictures": sum(1 for p in written if p.suffix == ".png"),
        "names": [p.name for p in written] if name == "one" else [],
    }


def run_phase(name: str, work: Path, workers: int | None) -> dict[str, object]:
    command = [sys.executable, __file__, "--phase", name, "--work", str(work)]
    if workers is not None:
        command += ["--workers", str(workers)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trusts", type=int, default=200)
    parser.add_argument("--schools", type=int, default=20, help="schools per trust")
    parser.add_argument("--serial", action="store_true", help="also time a one-core rebuild")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: temporary)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.work, args.workers)))
        return

    work = args.keep or Path(tempfile.mkdtemp(prefix="sheet-tools-bench-summarise-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        count, roster = populate(work / "sheet-tools.db", args.trusts, args.schools)
        (work / "roster.json").write_text(json.dumps([s.model_dump() for s in roster]))
        schools = args.trusts * args.schools
        print(
            f"store: {count:,} returns, {args.trusts} trusts, {schools:,} schools "
            f"(+{args.trusts} outstanding on the roster), "
            f"filled in {time.perf_counter() - started:.1f} s"
        )
        rows = [("full rebuild, every core", run_phase("full", work, None))]
        if args.serial:
            rows.append(("full rebuild, one core", run_phase("serial", work, 1)))
        rows.append(("trust workbooks only", run_phase("trusts", work, None)))
        rows.append(("after one new return", run_phase("one", work, None)))
        print(
            f"{'':28}{'seconds':>10}{'CPU s':>9}{'peak MiB':>10}{'workers MiB':>13}"
            f"{'workbooks':>11}{'PNGs':>7}"
        )
        for label, row in rows:
            print(
                f"{label:28}{row['seconds']:>10.2f}{row['cpu_seconds']:>9.1f}"
                f"{row['peak_mib']:>10.0f}{row['workers_peak_mib']:>13.0f}"
                f"{row['workbooks']:>11,}{row['pictures']:>7,}"
            )
        print("redrawn after one new return: " + "; ".join(rows[-1][1]["names"]))
        full = rows[0][1]
        peak = max(full["peak_mib"], full["workers_peak_mib"])
        print(
            f"targets: full rebuild < 60 s ({'met' if full['seconds'] < 60 else 'missed'}), "
            f"< 1 GiB per process ({'met' if peak < 1024 else 'missed'}); "
            "wall time depends on the other load on the machine; CPU seconds much less"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
