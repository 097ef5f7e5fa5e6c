"""The whole round trip in one run, against a pandas loop and the file-format floor (issue 6).

Makes its own seeded data (a synthetic roster; distinct filled returns from ``synthetic.py``;
synthetic stored returns for the summaries), runs the stage benchmarks the other scripts in this
folder define, prints one table and writes it, with the machine it ran on, to
``benchmarks/RESULTS.md``. Figures are measured, never asserted; the targets column says which
were met. Reading runs in bounded worker processes as in the service; the read and ingest stages
also measure it in this process, so the per-file cost of isolation is printed beside them.

    python3 benchmarks/run.py            # full sizes (about 15 minutes on 2 cores)
    python3 benchmarks/run.py --quick    # small sizes, a smoke run (about a minute)

The hand-written part of RESULTS.md (from its "## Notes" heading on: causes found, before and
after figures) is kept when the file is rewritten.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_generate
import bench_ingest
import bench_read
import bench_summarise
import bench_watch
import synthetic

from sheet_tools.base.clock import utc_now
from sheet_tools.base.workspace import Workspace
from sheet_tools.definitions.frameworks import Registry, load_registry
from sheet_tools.generate.workbook import generate_batch, workbook_filename
from sheet_tools.service.config import WatchSettings
from sheet_tools.store.facade import Store

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
NOTES_HEADING = "## Notes"
TEMPLATE = synthetic.TEMPLATE
GIB_MIB = 1024


@dataclass(frozen=True)
class Sizes:
    """How much of everything one run makes and measures."""

    roster: int = bench_generate.ENGLAND_SCHOOLS_WITH_SEN_UNIT_OR_RP
    read: int = 300
    read_repeat: int = 3
    ingest_small: int = 1_000
    ingest_large: int = 10_000
    ingest_isolated: int = 500  # whole-process ingest, bounded workers beside in-process
    trusts: int = 200  # of the synthetic returns' schools
    burst: int = 1_000
    singles: int = 8
    stable_seconds: float = WatchSettings().stable_seconds
    quiet_seconds: float = WatchSettings().summary_quiet_seconds
    summary_trusts: int = 200
    summary_schools: int = 20  # per trust: 2 or 3 returns each, 10,000 returns in all
    seed: int = 2026


FULL = Sizes()
QUICK = Sizes(
    roster=30,
    read=30,
    read_repeat=2,
    ingest_small=50,
    ingest_large=200,
    ingest_isolated=30,
    trusts=10,
    burst=40,
    singles=3,
    summary_trusts=4,
    summary_schools=5,
)


@dataclass
class Row:
    stage: str
    measure: str
    figure: str
    target: str = ""
    met: bool | None = None  # None: no target for this row
    load: float | None = None  # the machine's 1-minute load average as the stage began

    @property
    def verdict(self) -> str:
        return "" if self.met is None else ("met" if self.met else "**missed**")


@dataclass
class Results:
    sizes: Sizes
    quick: bool
    rows: list[Row] = field(default_factory=list)
    started: datetime = field(default_factory=utc_now)
    seconds: float = 0.0
    others_cpu: float | None = None  # share of the machine's CPU other programs used meanwhile
    notes: list[str] = field(default_factory=list)


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _machine_busy() -> tuple[int, int] | None:
    """(busy, total) CPU ticks of the whole machine since boot (Linux), else None."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def _own_cpu() -> float:
    """CPU seconds used by this process and its finished children."""
    own, children = os.times()[:2], os.times()[2:4]
    return sum(own) + sum(children)


def _per_s(count: int, seconds: float) -> str:
    return f"{count / seconds:,.1f}/s ({1000 * seconds / count:.2f} ms each)"


def stage_generate(sizes: Sizes, work: Path, results: Results) -> None:
    framework = load_registry().latest(TEMPLATE)
    roster = bench_generate.synthetic_roster(sizes.roster, sizes.seed)
    load = _load()
    seconds, kib = bench_generate.measure(
        lambda out: generate_batch(framework, roster, out), work, "generated"
    )
    results.rows.append(
        Row(
            "generate",
            f"workbooks per second, {len(roster):,}-school roster (generate_batch, one core)",
            f"{_per_s(len(roster), seconds)}, {kib:.0f} KiB each",
            load=load,
        )
    )
    shutil.rmtree(work / "generated", ignore_errors=True)


def stage_returns(sizes: Sizes, work: Path, results: Results) -> list[synthetic.Expected]:
    """The filled returns every later stage reads: distinct schools, seeded answers."""
    count = max(sizes.ingest_large, sizes.ingest_small, sizes.read, sizes.burst)
    started = time.perf_counter()
    made = synthetic.make_returns(
        work / "returns", count, trusts=sizes.trusts, seed=sizes.seed, template=TEMPLATE
    )
    results.notes.append(
        f"{len(made):,} distinct filled returns ({len(made):,} schools in {sizes.trusts} trusts) "
        f"made by `benchmarks/synthetic.py` in {time.perf_counter() - started:.0f} s; every one "
        "was accepted by the ingest stage below."
    )
    return made


def stage_read(sizes: Sizes, made: list[synthetic.Expected], results: Results) -> dict[str, float]:
    registry = load_registry()
    sample = made[: sizes.read]
    problems = synthetic.verify(sample, registry)
    if problems:
        raise SystemExit("synthetic returns not read back as written:\n" + "\n".join(problems))
    load = _load()
    rates = bench_read.compare([e.path for e in sample], registry, sizes.read_repeat, show=False)
    ours, floor, pandas = (
        rates[bench_read.SHEET_TOOLS],
        rates[bench_read.FLOOR],
        rates[bench_read.PANDAS],
    )
    what = f"returns per CPU second, {len(sample)} returns, best of {sizes.read_repeat}"
    results.rows += [
        Row("read + validate", f"sheet-tools check_file: {what}", _per_s(1, 1 / ours), load=load),
        Row("read + validate", f"pandas.read_excel loop: {what}", _per_s(1, 1 / pandas)),
        Row(
            "read + validate",
            f"calamine floor (judgement cells only): {what}",
            _per_s(1, 1 / floor),
        ),
        Row(
            "read + validate",
            "sheet-tools ÷ pandas loop",
            f"{ours / pandas:.1f}×",
            "≥ 5×",
            ours / pandas >= 5,
        ),
        Row(
            "read + validate",
            "calamine floor ÷ sheet-tools",
            f"{floor / ours:.1f}×",
            "≤ 3×",
            floor / ours <= 3,
        ),
    ]
    in_process, bounded = bench_read.isolation(
        [e.path for e in sample], registry, sizes.read_repeat
    )
    results.rows += [
        Row(
            "read + validate",
            f"wall ms per return, in this process: {len(sample)} returns, best of "
            f"{sizes.read_repeat}",
            f"{1000 * in_process:.2f} ms",
        ),
        Row(
            "read + validate",
            "wall ms per return, in a bounded worker (check_bounded, worker running)",
            f"{1000 * bounded:.2f} ms",
        ),
        Row(
            "read + validate",
            "isolation cost per file (bounded − in-process)",
            f"{1000 * (bounded - in_process):+.2f} ms ({bounded / in_process:.2f}×)",
        ),
    ]
    return rates


def stage_ingest(
    sizes: Sizes, made: list[synthetic.Expected], work: Path, results: Results
) -> None:
    registry = load_registry()
    paths = [e.path for e in made]
    load = _load()
    small_s, small_slices, _ = bench_ingest.time_ingest(
        paths[: sizes.ingest_small], work / "ingest-small", registry, every=sizes.ingest_small
    )
    shutil.rmtree(work / "ingest-small", ignore_errors=True)
    large_load = _load()
    large_s, slices, _ = bench_ingest.time_ingest(
        paths[: sizes.ingest_large], work / "ingest-large", registry, every=sizes.ingest_small
    )
    shutil.rmtree(work / "ingest-large", ignore_errors=True)
    small_cpu = small_slices[0][1] / sizes.ingest_small
    first_cpu = slices[0][1] / sizes.ingest_small
    last_count = sizes.ingest_large - sizes.ingest_small * (len(slices) - 1)
    last_cpu = slices[-1][1] / last_count
    growth = last_cpu / first_cpu
    results.rows += [
        Row(
            "ingest",
            f"returns per second into the store, {sizes.ingest_small:,} returns "
            "(ingest_file: check, store, archive copy)",
            _per_s(sizes.ingest_small, small_s) + f"; CPU {1000 * small_cpu:.2f} ms each",
            load=load,
        ),
        Row(
            "ingest",
            f"returns per second into the store, {sizes.ingest_large:,} returns",
            _per_s(sizes.ingest_large, large_s),
            load=large_load,
        ),
        Row(
            "ingest",
            f"CPU ms per return: last {last_count:,} ÷ first {sizes.ingest_small:,} "
            f"of the {sizes.ingest_large:,}",
            f"{1000 * last_cpu:.2f} ÷ {1000 * first_cpu:.2f} ms = {growth:.2f}×",
            "flat (≤ 1.2×)",
            growth <= 1.2,
        ),
    ]
    results.rows += _isolated_ingest(sizes, paths[: sizes.ingest_isolated], work, registry)
    results.notes.append(
        "Ingest slices of the large run (wall s / CPU s per "
        f"{sizes.ingest_small:,}): " + ", ".join(f"{w:.1f}/{c:.1f}" for w, c in slices)
    )


def _isolated_ingest(sizes: Sizes, paths: list[Path], work: Path, registry: Registry) -> list[Row]:
    """Whole-process ingest of the same returns with bounded workers (a fresh pool: its start
    is in the figure) and in this process, and the pandas.read_excel loop over them, by wall
    clock, in one run."""
    count = len(paths)
    load = _load()
    bounded_s, _, _ = bench_ingest.time_ingest(paths, work / "ingest-bounded", registry, count)
    shutil.rmtree(work / "ingest-bounded", ignore_errors=True)
    inproc_s, _, _ = bench_ingest.time_ingest(
        paths, work / "ingest-inproc", registry, count, bounded=False
    )
    shutil.rmtree(work / "ingest-inproc", ignore_errors=True)
    started = time.perf_counter()
    for path in paths:
        bench_read.pandas_loop(path)
    pandas_s = time.perf_counter() - started
    ratio = pandas_s / bounded_s
    return [
        Row(
            "ingest",
            f"whole-process ingest of {count:,} returns, bounded workers (wall)",
            _per_s(count, bounded_s) + f"; {bounded_s:.1f} s",
            load=load,
        ),
        Row(
            "ingest",
            f"whole-process ingest of {count:,} returns, in this process (wall)",
            _per_s(count, inproc_s) + f"; {inproc_s:.1f} s",
        ),
        Row(
            "ingest",
            f"pandas.read_excel loop over the same {count:,} returns (wall)",
            _per_s(count, pandas_s) + f"; {pandas_s:.1f} s",
        ),
        Row(
            "ingest",
            "isolation cost per file in ingest (bounded − in-process, worker start included)",
            f"{1000 * (bounded_s - inproc_s) / count:+.2f} ms",
        ),
        Row("ingest", "bounded ingest ÷ pandas loop", f"{ratio:.1f}×", "≥ 5×", ratio >= 5),
    ]


def stage_watch(sizes: Sizes, made: list[synthetic.Expected], work: Path, results: Results) -> None:
    framework = load_registry().latest(TEMPLATE)
    maker = synthetic.SyntheticReturns(framework, work / "watch-bases", seed=sizes.seed + 1)
    burst = [e.path for e in made[: sizes.burst]]
    resent_dir = work / "resent"
    resent_dir.mkdir()
    resent = []
    for k in range(sizes.singles):  # schools of the burst sending a corrected return
        school = made[k * max(1, sizes.burst // max(sizes.singles, 1))].school
        stem = Path(workbook_filename(framework, school)).stem
        resent.append(maker.write(school, resent_dir, 50_000 + k, name=f"{stem} resent.xlsx").path)
    root = work / "watch"
    ws = Workspace.at(root)
    ws.ensure()
    settings = WatchSettings(
        workspace=root,
        stable_seconds=sizes.stable_seconds,
        summary_quiet_seconds=sizes.quiet_seconds,
    )
    load = _load()
    with Store(ws.database) as store:
        outcome = bench_watch.run_burst(settings, ws, store, burst, show=False)
        single_load = _load()
        latencies = bench_watch.singles(settings, ws, store, resent, "native events", show=False)
    median = statistics.median(latencies)
    beyond = median - settings.stable_seconds
    results.rows += [
        Row(
            "watch",
            f"burst of {len(burst):,} files: last file landed → last summary written "
            f"({outcome['rebuilds']} rebuilds, exactly once: {outcome['exactly_once']})",
            f"{outcome['to_last_summary']:.1f} s (last file processed after "
            f"{outcome['to_last_processed']:.1f} s)",
            "exactly once",
            bool(outcome["exactly_once"]),
            load=load,
        ),
        Row(
            "watch",
            f"one file landed → its school summary updated, median of {len(latencies)} "
            f"(stability interval {settings.stable_seconds:g} s, debounce "
            f"{settings.summary_quiet_seconds:g} s)",
            f"{median:.2f} s = {settings.stable_seconds:g} s + {beyond:.2f} s "
            f"(min {min(latencies):.2f}, max {max(latencies):.2f})",
            "< 2 s beyond the stability interval",
            beyond < 2.0,
            load=single_load,
        ),
    ]
    shutil.rmtree(root, ignore_errors=True)


def stage_summarise(sizes: Sizes, work: Path, results: Results) -> None:
    folder = work / "summarise"
    folder.mkdir()
    count, roster = bench_summarise.populate(
        folder / "sheet-tools.db", sizes.summary_trusts, sizes.summary_schools
    )
    (folder / "roster.json").write_text(json.dumps([s.model_dump() for s in roster]))
    load = _load()
    full = bench_summarise.run_phase("full", folder, None)
    cores = os.cpu_count() or 1
    main, worker = float(full["peak_mib"]), float(full["workers_peak_mib"])
    bound = main + cores * worker
    schools = sizes.summary_trusts * sizes.summary_schools
    results.rows += [
        Row(
            "summarise",
            f"full rebuild, {count:,} returns of {schools:,} schools in "
            f"{sizes.summary_trusts} trusts (summarise_all, every core): seconds",
            f"{full['seconds']:.1f} s ({full['workbooks']:,} workbooks, {full['pictures']:,} "
            f"PNGs; {full['cpu_seconds']:.0f} CPU s)",
            "< 60 s",
            float(full["seconds"]) < 60,
            load=load,
        ),
        Row(
            "summarise",
            "peak resident memory: main process + largest worker (× workers, an upper bound)",
            f"{main:.0f} MiB + {worker:.0f} MiB (≤ {bound:.0f} MiB in all)",
            "< 1 GiB",
            bound < GIB_MIB,
        ),
    ]
    shutil.rmtree(folder, ignore_errors=True)


STAGES: tuple[str, ...] = ("generate", "read", "ingest", "watch", "summarise")


def run_suite(
    sizes: Sizes,
    *,
    quick: bool = False,
    stages: tuple[str, ...] = STAGES,
    work: Path | None = None,
    progress: Callable[[str], None] = lambda line: print(line, flush=True),
) -> Results:
    """Every stage in turn, in this process (the summaries in a child, for their own memory)."""
    results = Results(sizes=sizes, quick=quick)
    began = time.perf_counter()
    busy0, cpu0 = _machine_busy(), _own_cpu()
    base = Path(tempfile.mkdtemp(prefix="sheet-tools-bench-run-", dir=work))
    try:
        if "generate" in stages:
            progress("generate ...")
            stage_generate(sizes, base, results)
        made: list[synthetic.Expected] = []
        if {"read", "ingest", "watch"} & set(stages):
            progress("making returns ...")
            made = stage_returns(sizes, base, results)
        if "read" in stages:
            progress("read and validate ...")
            stage_read(sizes, made, results)
        if "ingest" in stages:
            progress("ingest ...")
            stage_ingest(sizes, made, base, results)
        if "watch" in stages:
            progress("watch ...")
            stage_watch(sizes, made, base, results)
        if "summarise" in stages:
            progress("summarise ...")
            stage_summarise(sizes, base, results)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    results.seconds = time.perf_counter() - began
    busy1, cpu1 = _machine_busy(), _own_cpu()
    if busy0 and busy1 and busy1[1] > busy0[1]:
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        machine = (busy1[0] - busy0[0]) / ticks
        capacity = (busy1[1] - busy0[1]) / ticks
        results.others_cpu = max(0.0, machine - (cpu1 - cpu0)) / capacity
    return results


def table(results: Results) -> str:
    lines = [
        "| stage | measure | figure | target | verdict | load |",
        "|---|---|---|---|---|---|",
    ]
    for row in results.rows:
        load = "" if row.load is None else f"{row.load:.1f}"
        lines.append(
            f"| {row.stage} | {row.measure} | {row.figure} | {row.target} | {row.verdict} | "
            f"{load} |"
        )
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def markdown(results: Results, notes: str = "") -> str:
    """RESULTS.md: the machine, the table, what the run made; then the kept notes."""
    others = (
        "unknown"
        if results.others_cpu is None
        else f"{100 * results.others_cpu:.0f}% of the machine's CPU"
    )
    mode = "quick (smoke-run sizes)" if results.quick else "full"
    head = [
        "# Benchmark results",
        "",
        "Written by `python3 benchmarks/run.py"
        + (" --quick" if results.quick else "")
        + "`; figures are measured, never asserted in tests.",
        "",
        f"- date: {results.started:%Y-%m-%d %H:%M} UTC; run took {results.seconds / 60:.1f} min "
        f"({mode})",
        f"- machine: {os.cpu_count()} cores ({_cpu_model()}), {platform.system()} "
        f"{platform.release()}",
        f"- Python {platform.python_version()}",
        f"- other programs on the machine used {others} during the run; the load column is the "
        "1-minute load average as each stage began. Read-and-validate rates are in CPU time of "
        "the process (what one core does), so they suffer least from that load; wall-clock "
        "figures (generate, ingest, watch, summarise) suffer most.",
        "",
        table(results),
        "",
        "What the run made and measured:",
        "",
        *[f"- {note}" for note in results.notes],
        "",
    ]
    text = "\n".join(head)
    if notes:
        text += "\n" + notes.rstrip() + "\n"
    return text


def kept_notes(path: Path) -> str:
    """The hand-written part of an existing RESULTS.md, from its notes heading on."""
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    at = text.find("\n" + NOTES_HEADING)
    return text[at + 1 :] if at >= 0 else ""


def write_results(results: Results, path: Path) -> Path:
    path.write_text(markdown(results, kept_notes(path)), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--out",
        type=Path,
        help=f"where to write the results (default {RESULTS.name} for a full run; a quick run "
        "only prints unless given this)",
    )
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated subset")
    args = parser.parse_args()
    stages = tuple(s.strip() for s in args.stages.split(",") if s.strip())
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages {sorted(unknown)}; choose from {', '.join(STAGES)}")
    results = run_suite(QUICK if args.quick else FULL, quick=args.quick, stages=stages)
    print()
    print(table(results))
    out = args.out or (None if args.quick else RESULTS)
    if out is not None:
        write_results(results, out)
        print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
