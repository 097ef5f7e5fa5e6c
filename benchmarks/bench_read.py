"""Returns checked per second: sheet-tools' check_file (guard + read + validate + SHA-256) beside a
plain pandas.read_excel loop and a calamine-only floor, over the same generated returns, one core.

    python3 benchmarks/bench_read.py [--returns 200] [--repeat 3]

The pandas loop only loads every sheet (sheet_name=None, its default openpyxl engine); it checks
nothing. The calamine floor opens each file and converts every sheet to Python lists: the least
any reader of these files can do. Figures are printed, never asserted.
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

from sheet_tools.demo import make_return
from sheet_tools.frameworks import load_registry
from sheet_tools.generate import School
from sheet_tools.validate import check_file


def make_returns(count: int, folder: Path) -> list[Path]:
    framework = load_registry().latest("specialist-provision-review")
    paths = []
    for number in range(count):
        school = School(name=f"School {number:04d}", urn=str(200000 + number), trust="Bench Trust")
        target = folder / f"{number:04d}"
        target.mkdir()
        paths.append(make_return(framework, target, school, seed=number))
    return paths


def rate(label: str, paths: list[Path], work: Callable[[Path], object], repeat: int) -> float:
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
    print(
        f"{label:<44} {per_second:>7,.0f} returns/s (CPU)  {best_cpu / len(paths) * 1000:6.2f} ms"
        f" each   [wall: {len(paths) / best_wall:,.0f}/s]"
    )
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--returns", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many passes")
    args = parser.parse_args()
    import pandas

    registry = load_registry()
    with tempfile.TemporaryDirectory(prefix="bench-read-") as folder:
        print(f"generating {args.returns} filled returns ...", flush=True)
        paths = make_returns(args.returns, Path(folder))
        accepted = sum(check_file(p, registry)[0].status == "accepted" for p in paths)
        assert accepted == len(paths), "every generated return should be accepted"

        def calamine_floor(path: Path) -> None:
            book = CalamineWorkbook.from_path(str(path))
            for name in book.sheet_names:
                book.get_sheet_by_name(name).to_python(skip_empty_area=False)

        def pandas_loop(path: Path) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about data validation
                pandas.read_excel(path, sheet_name=None, header=None)

        print(f"{len(paths)} returns, best of {args.repeat} passes, one process:")
        ours = rate(
            "sheet-tools check_file (guard+read+validate)",
            paths,
            lambda p: check_file(p, registry),
            args.repeat,
        )
        floor = rate(
            "calamine only (open + every sheet to lists)", paths, calamine_floor, args.repeat
        )
        pandas_rate = rate("pandas.read_excel(sheet_name=None)", paths, pandas_loop, args.repeat)
        print(
            f"check_file is {ours / pandas_rate:.1f}x the pandas loop; "
            f"the calamine floor is {floor / ours:.1f}x check_file"
        )


if __name__ == "__main__":
    main()
