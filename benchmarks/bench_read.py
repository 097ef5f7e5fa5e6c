"""Returns checked per second: sheet-tools' check_file (guard + read + validate + SHA-256) beside a
plain pandas.read_excel loop and a calamine-only floor, over the same generated returns, one core.

    python3 benchmarks/bench_read.py [--returns 200] [--repeat 3] [--parts]

The pandas loop only loads every sheet (sheet_name=None, its default openpyxl engine); it checks
nothing. The calamine floor opens each file and reads only the judgement cells (each area sheet to
Python lists, column C of every row with an id), checking nothing: the least any reader of these
files can do. ``--parts`` also times check_file's three stages alone (guard_file, read_guarded on
the guarded bytes, validate_return on the read values), to show where its time goes. Figures are
printed, never asserted. ``compare`` is what ``benchmarks/run.py`` calls.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from python_calamine import CalamineWorkbook

from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Registry, load_registry
from sheet_tools.definitions.roster import School
from sheet_tools.demo import make_return
from sheet_tools.intake import worker
from sheet_tools.intake.guard import guard_file
from sheet_tools.intake.pool import WorkerPool
from sheet_tools.intake.read import read_guarded
from sheet_tools.intake.validate import check_file, validate_return


def make_returns(count: int, folder: Path) -> list[Path]:
    framework = load_registry().latest("specialist-provision-review")
    paths = []
    for number in range(count):
        school = School(name=f"School {number:04d}", urn=str(200000 + number), trust="Bench Trust")
        target = folder / f"{number:04d}"
        target.mkdir()
        paths.append(make_return(framework, target, school, seed=number))
    return paths


def rate(
    label: str, paths: list[Path], work: Callable[[Path], object], repeat: int, show: bool = True
) -> float:
    """Best of ``repeat`` passes, in CPU time of this process (what one core does, even when other
    programs share the machine), with wall time beside it."""
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        for path in paths:
            work(path)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    per_second = len(paths) / best_cpu
    if not show:
        return per_second
    print(
        f"{label:<44} {per_second:>7,.0f} returns/s (CPU)  {best_cpu / len(paths) * 1000:6.2f} ms"
        f" each   [wall: {len(paths) / best_wall:,.0f}/s]"
    )
    return per_second


_NOT_AREAS = {cell_layout.COVER_SHEET, cell_layout.ABOUT_SHEET}


def calamine_floor(path: Path) -> list[object]:
    """Open the file and pick out the judgement cells, checking nothing."""
    book = CalamineWorkbook.from_path(str(path))
    found = []
    for name in book.sheet_names:
        if name in _NOT_AREAS:
            continue
        for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False):
            if row and row[0] and len(row) >= cell_layout.JUDGEMENT_COL:
                found.append(row[cell_layout.JUDGEMENT_COL - 1])
    return found


def pandas_loop(path: Path) -> None:
    import pandas

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about data validation
        pandas.read_excel(path, sheet_name=None, header=None)


SHEET_TOOLS = "sheet-tools check_file (guard+read+validate)"
FLOOR = "calamine only (judgement cells, no checks)"
PANDAS = "pandas.read_excel(sheet_name=None)"


def compare(
    paths: list[Path], registry: Registry, repeat: int = 3, show: bool = True
) -> dict[str, float]:
    """Returns per second of CPU time (best of ``repeat`` passes, one process), per reader."""
    return {
        SHEET_TOOLS: rate(SHEET_TOOLS, paths, lambda p: check_file(p, registry), repeat, show),
        FLOOR: rate(FLOOR, paths, calamine_floor, repeat, show),
        PANDAS: rate(PANDAS, paths, pandas_loop, repeat, show),
    }


def wall_per_file(paths: list[Path], work: Callable[[Path], object], repeat: int) -> float:
    """Best of ``repeat`` passes, wall seconds per file (the work is split between processes,
    so this process's CPU time does not tell it)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for path in paths:
            work(path)
        best = min(best, time.perf_counter() - started)
    return best / len(paths)


def isolation(paths: list[Path], registry: Registry, repeat: int = 3) -> tuple[float, float]:
    """(in-process, bounded worker) wall seconds per file of guard + read + validate: the
    difference is what isolating each file costs once the worker is running."""
    in_process = wall_per_file(paths, lambda p: check_file(p, registry), repeat)
    with worker.using(WorkerPool()) as pool:
        pool.warm()
        bounded = wall_per_file(paths, lambda p: worker.check_bounded(p, registry), repeat)
    return in_process, bounded


def parts(paths: list[Path], registry: Registry, repeat: int = 3) -> None:
    """CPU milliseconds per return of each stage of check_file, each timed alone."""
    guarded = {path: guard_file(path) for path in paths}
    raws = {path: read_guarded(guarded[path], registry)[0] for path in paths}
    frameworks = {
        path: registry.get(raw.template_id, raw.template_version)
        for path, raw in raws.items()
        if raw is not None
    }

    def validate(path: Path) -> None:
        validate_return(raws[path], frameworks[path])  # type: ignore[arg-type]

    print("check_file by stage (each alone):")
    rate("  guard_file (SHA-256, zip and XML checks)", paths, guard_file, repeat)
    rate(
        "  read_guarded (calamine, cells by id)",
        paths,
        lambda p: read_guarded(guarded[p], registry),
        repeat,
    )
    rate("  validate_return", paths, validate, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--returns", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many passes")
    parser.add_argument("--parts", action="store_true", help="also time each stage alone")
    args = parser.parse_args()
    registry = load_registry()
    with tempfile.TemporaryDirectory(prefix="bench-read-") as folder:
        print(f"generating {args.returns} filled returns ...", flush=True)
        paths = make_returns(args.returns, Path(folder))
        accepted = sum(check_file(p, registry)[0].status == "accepted" for p in paths)
        assert accepted == len(paths), "every generated return should be accepted"

        print(f"{len(paths)} returns, best of {args.repeat} passes, one process:")
        rates = compare(paths, registry, args.repeat)
        print(
            f"check_file is {rates[SHEET_TOOLS] / rates[PANDAS]:.1f}x the pandas loop; "
            f"the calamine floor is {rates[FLOOR] / rates[SHEET_TOOLS]:.1f}x check_file"
        )
        if args.parts:
            parts(paths, registry, args.repeat)


if __name__ == "__main__":
    main()
