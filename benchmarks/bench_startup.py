"""What starting the command costs: ``sheet-tools --version`` as a whole process beside
``python3 -c pass`` (the interpreter alone), in one run, the two alternated so that whatever else
the machine is doing weighs on both alike.

    python3 benchmarks/bench_startup.py [--repeat 15] [--source DIR]

The command runs as ``python3 -m sheet_tools --version`` with ``--source`` (default: this
checkout) first on the import path, so the code measured is the code beside this script, not
whatever is installed. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    """One command's wall times, a whole process each, in seconds."""

    label: str
    argv: list[str]
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def compare(repeat: int = 15, source: Path = REPO) -> list[Row]:
    """Both commands ``repeat`` times each, alternated, after one unmeasured run of each (so
    the files are in the page cache, as they are for anyone who runs the command twice)."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    rows = [
        Row("python3 -c pass", [sys.executable, "-c", "pass"]),
        Row("sheet-tools --version", [sys.executable, "-m", "sheet_tools", "--version"]),
    ]
    for row in rows:
        _time(row.argv, env)
    for _ in range(repeat):
        for row in rows:
            row.seconds.append(_time(row.argv, env))
    return rows


def render(rows: list[Row]) -> str:
    """A Markdown table: median and best of each, and each beyond the bare interpreter."""
    base = rows[0]
    lines = [
        "| command | runs | median | min | median beyond `python3 -c pass` |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        beyond = row.median - base.median
        lines.append(
            f"| `{row.label}` | {len(row.seconds)} | {row.median * 1000:.0f} ms | "
            f"{row.best * 1000:.0f} ms | {beyond * 1000:+.0f} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command")
    parser.add_argument(
        "--source", type=Path, default=REPO, help="checkout whose sheet_tools is measured"
    )
    args = parser.parse_args()
    print(render(compare(args.repeat, args.source.resolve())))


if __name__ == "__main__":
    main()
