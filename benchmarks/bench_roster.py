"""Reading a whole register extract as a roster: seconds and peak memory for a file shaped like
the DfE register's "all establishment data" download (about 50,000 rows, every column filled),
beside a plain csv.reader pass over the same file that keeps nothing (the floor), in one run.

    python3 benchmarks/bench_roster.py [--rows 50000] [--filler 12]

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sheet_tools.definitions.roster import load_roster

HEADER = Path(__file__).resolve().parent.parent / "tests" / "data" / "rosters"


def make_extract(path: Path, rows: int, filler: int) -> Path:
    """``rows`` establishments in the register's columns, a third of them Closed; every column
    a roster does not use holds ``filler`` characters, as the register's do."""
    header = (HEADER / "edubasealldata-sample.csv").read_bytes().split(b"\r\n", 1)[0]
    width = header.count(b",") + 1
    with path.open("wb") as out:
        out.write(header + b"\r\n")
        for n in range(rows):
            cells = [b"x" * filler] * width
            cells[0], cells[2], cells[4] = (
                b"%d" % (100000 + n),
                b"Bristol, City of",
                b"School %d" % n,
            )
            cells[10] = b"Closed" if n % 3 == 0 else b"Open"
            cells[46] = b"Trust %d" % (n // 10) if n % 2 else b""
            out.write(b",".join(b'"' + c + b'"' for c in cells) + b"\r\n")
    return path


def measure(label: str, work: Callable[[], str]) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{label:<34} {seconds:6.2f} s   peak {peak / 2**20:6.1f} MiB   {result}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--filler", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = make_extract(Path(folder) / "edubasealldata.csv", args.rows, args.filler)
        size = path.stat().st_size / 2**20
        print(f"register-shaped extract: {args.rows:,} rows, {size:.1f} MiB (Windows-1252 text)")

        def floor() -> str:
            with path.open(newline="", encoding="cp1252") as handle:
                return f"{sum(1 for _ in csv.reader(handle)):,} rows"

        def roster() -> str:
            read = load_roster(path)
            return f"{len(read.schools):,} schools, {read.closed:,} closed skipped"

        measure("csv.reader, keeping nothing", floor)
        measure("load_roster (decode, check, keep)", roster)


if __name__ == "__main__":
    main()
