"""What starting the command costs: ``sheet-tools --version`` as a whole process beside
``python3 -c pass`` (the interpreter alone), in one run, the two alternated so that whatever else
the machine is doing weighs on both alike.

    python3 benchmarks/bench_startup.py [--repeat 15] [--source DIR] [--before DIR]

The command runs as ``python3 -m sheet_tools.cli --version`` with ``--source`` (default: this
checkout) first on the import path, so the code measured is the code beside this script, not
whatever is installed; ``--before`` adds an earlier checkout's command to the same run (e.g. a
``git worktree`` of the previous release), alternated with the others. Figures are printed,
never asserted.
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
    env: dict[str, str]
    # ``-m`` puts the working folder first on the import path: each command runs in its own
    # checkout, so an earlier checkout is not shadowed by the folder the benchmark runs from
    cwd: Path = REPO
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)


def _time(row: Row) -> float:
    start = time.perf_counter()
    subprocess.run(row.argv, env=row.env, cwd=row.cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _command(label: str, source: Path) -> Row:
    env = {**os.environ, "PYTHONPATH": str(source)}
    return Row(label, [sys.executable, "-m", "sheet_tools.cli", "--version"], env=env, cwd=source)


def compare(repeat: int = 15, source: Path = REPO, before: Path | None = None) -> list[Row]:
    """Each command ``repeat`` times, alternated, after one unmeasured run of each (so the
    files are in the page cache, as they are for anyone who runs the command twice)."""
    rows = [Row("python3 -c pass", [sys.executable, "-c", "pass"], env=dict(os.environ))]
    rows.append(_command("sheet-tools --version", source))
    if before is not None:
        rows.append(_command(f"sheet-tools --version ({before.name})", before))
    for row in rows:
        _time(row)
    for _ in range(repeat):
        for row in rows:
            row.seconds.append(_time(row))
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
    parser.add_argument("--before", type=Path, help="an earlier checkout, measured beside it")
    args = parser.parse_args()
    before = args.before.resolve() if args.before else None
    print(render(compare(args.repeat, args.source.resolve(), before)))


if __name__ == "__main__":
    main()
