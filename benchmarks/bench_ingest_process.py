"""Whole-process ingest against a pandas loop, as an administrator runs it: ``sheet-tools ingest``
of N distinct returns into a new workspace, with one worker and with the default worker count,
beside a process that only loads every sheet of the same files with ``pandas.read_excel`` (and
checks nothing), as interleaved triples in one run so the machine's load weighs on all alike.
Then the guard's own cost per file, in this process.

    python3 benchmarks/bench_ingest_process.py [--count 500] [--pairs 3] [--cache DIR]

The returns are ``bench_ingest``'s (made once and cached). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import corpus

from sheet_tools.intake.guard import guard_file
from sheet_tools.service.config import LimitSettings

PANDAS_LOOP = (
    "import sys, warnings, pandas\n"
    "warnings.simplefilter('ignore')\n"
    "for path in sys.argv[1:]:\n"
    "    pandas.read_excel(path, sheet_name=None)\n"
)


def timed_run(argv: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    """Seconds a command takes as a whole process; a failure ends the benchmark, saying why."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(f"{argv[:4]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds


def ingest_seconds(paths: list[Path], workers: int | None) -> float:
    """``sheet-tools ingest`` of every path into a new workspace, the whole process timed."""
    env = dict(os.environ)
    env.pop("SHEET_TOOLS_LIMIT_WORKERS", None)
    if workers is not None:
        env["SHEET_TOOLS_LIMIT_WORKERS"] = str(workers)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        cli = [sys.executable, "-m", "sheet_tools"]
        subprocess.run([*cli, "init", folder], check=True, capture_output=True, env=env)
        return timed_run([*cli, "ingest", "--workspace", folder, *map(str, paths)], env)


def pandas_seconds(paths: list[Path]) -> float:
    return timed_run([sys.executable, "-c", PANDAS_LOOP, *map(str, paths)], dict(os.environ))


def guard_ms_per_file(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        guard_file(path)
    return (time.perf_counter() - start) * 1000 / len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sheet-tools")
    args = parser.parse_args()
    paths = corpus(args.count, args.cache)
    default = LimitSettings().worker().workers
    runs: dict[str, list[float]] = {"pandas": [], "ingest, 1 worker": [], "ingest, default": []}
    for _ in range(args.pairs):
        runs["pandas"].append(pandas_seconds(paths))
        runs["ingest, 1 worker"].append(ingest_seconds(paths, 1))
        runs["ingest, default"].append(ingest_seconds(paths, None))
    base = statistics.median(runs["pandas"])
    print(f"{len(paths)} returns, {args.pairs} interleaved runs each; default workers here: "
          f"{default} (usable cores {os.cpu_count()})")  # fmt: skip
    print("| process | median s | min s | returns/s | x the pandas loop |")
    print("|---|---:|---:|---:|---:|")
    for label, seconds in runs.items():
        median = statistics.median(seconds)
        print(
            f"| {label} | {median:.1f} | {min(seconds):.1f} | {len(paths) / median:.0f} | "
            f"{base / median:.2f} |"
        )
    print(f"guard alone: {guard_ms_per_file(paths):.2f} ms per file (in this process)")


if __name__ == "__main__":
    main()
