"""Benchmark: validate and store 1,000 returns with sheet-tools, beside a plain pandas loop.

Makes 1,000 distinct filled returns (seeded answers, 1,000 schools in 200 trusts) once and caches
them under the system temp folder (making them takes a minute or two), then in one run times:

- sheet-tools ``check_file`` + ``Store.add_return`` (validate and store) on one core;
- sheet-tools ``ingest_file`` (the same, plus the byte-for-byte copy into the archive), with
  every file read in a bounded worker as the service does (``time_ingest(bounded=False)`` reads
  in this process, for comparison);
- ``pandas.read_excel(path, sheet_name=None)`` over the same files (reading only);

and prints returns per second and the ratios. Target: >= 200 returns/s, >= 5x the pandas loop.
It then grows the database to 10,000 returns across 200 trusts and times ``Store.returns``, the
query the summaries make.

    python3 benchmarks/bench_ingest.py [--count 1000] [--cache DIR] [--skip-pandas]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sheet_tools.base.clock import utc_now
from sheet_tools.base.files import sha256_file
from sheet_tools.base.workspace import Workspace
from sheet_tools.definitions.frameworks import Registry, load_registry
from sheet_tools.definitions.roster import School
from sheet_tools.demo import make_return
from sheet_tools.generate.workbook import workbook_filename
from sheet_tools.intake import worker
from sheet_tools.intake.pool import InProcessPool
from sheet_tools.intake.validate import check_file
from sheet_tools.service.ingest import ATTEMPTS, ingest_file
from sheet_tools.store.facade import Store

TEMPLATE = "specialist-provision-review"
TRUSTS = 200


def school(number: int) -> School:
    return School(
        name=f"Bench School {number:05d}",
        urn=str(500000 + number),
        trust=f"Bench Trust {number % TRUSTS:03d}",
    )


def _make(args: tuple[int, str]) -> str:
    number, folder = args
    framework = load_registry().latest(TEMPLATE)
    return str(make_return(framework, Path(folder), school(number), seed=number))


def corpus(count: int, cache: Path) -> list[Path]:
    """The cached returns, making any that are missing (on every core)."""
    framework = load_registry().latest(TEMPLATE)
    folder = cache / f"{TEMPLATE}-{framework.version}-seeded-v1"
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / f".complete-{count}"
    if not done.exists():
        have = {p.name for p in folder.glob("*.xlsx")}
        todo = [n for n in range(count) if workbook_filename(framework, school(n)) not in have]
        if todo:
            print(f"making {len(todo)} returns in {folder} (cached for next time)...", flush=True)
            started = time.perf_counter()
            with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                for made, _ in enumerate(
                    pool.map(_make, [(n, str(folder)) for n in todo], chunksize=8)
                ):
                    if made and made % 200 == 0:
                        print(f"  {made} made", flush=True)
            print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
        done.touch()
    paths = sorted(folder.glob("*.xlsx"))[:count]
    if len(paths) < count:
        raise SystemExit(f"only {len(paths)} returns in {folder}; delete it and run again")
    return paths


def time_ingest(
    paths: list[Path],
    root: Path,
    registry: Registry,
    every: int = 1000,
    *,
    bounded: bool = True,
) -> tuple[float, list[tuple[float, float]], Workspace]:
    """Ingest every file (``ingest_file``: validate, store, copy into the archive) into a fresh
    workspace at ``root``: total seconds, and (wall, CPU) seconds of each slice of ``every``
    files, so a cost growing with the size of the store shows even on a busy machine. Every file
    must be accepted.

    ``bounded``: as the service does, with a fresh pool of bounded workers (its start is in the
    time, and the workers' CPU in the CPU); else every file is read in this process."""
    workspace = Workspace.at(root)
    workspace.ensure()
    slices: list[tuple[float, float]] = []
    started = time.perf_counter()
    with (
        worker.using(None if bounded else InProcessPool()) as pool,
        worker.read_ahead(registry, workspace.temp / ATTEMPTS, paths if bounded else []) as ahead,
        Store(workspace.database) as store,
    ):
        mark = started
        cpu_mark = time.process_time()
        # bounded, as the ingest command does it: each file read while the last is filed
        for number, path in enumerate(ahead if bounded else paths, start=1):
            report = ingest_file(path, workspace, registry, store)
            if report.status != "accepted":
                raise SystemExit(f"{path.name} was rejected: {report.errors[:2]}")
            if number % every == 0 or number == len(paths):
                now, cpu = time.perf_counter(), time.process_time() + pool.cpu_seconds()
                slices.append((now - mark, cpu - cpu_mark))
                mark, cpu_mark = time.perf_counter(), cpu
        seconds = time.perf_counter() - started
    return seconds, slices, workspace


def rate(count: int, seconds: float) -> str:
    each = seconds * 1000 / count
    return f"{count / seconds:8.1f} returns/s  ({each:6.2f} ms each, {seconds:6.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "sheet-tools-bench"
    )
    parser.add_argument("--skip-pandas", action="store_true")
    options = parser.parse_args()

    paths = corpus(options.count, options.cache)
    registry = load_registry()
    count = len(paths)
    print(
        f"\n{count} returns of {TEMPLATE}, "
        f"{sum(p.stat().st_size for p in paths) / count / 1024:.0f} KB each\n"
    )

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)

        # 1. validate + store, one core
        valid_returns = []
        with Store(root / "check.db") as store:
            started, cpu_started = time.perf_counter(), time.process_time()
            for path in paths:
                report, valid = check_file(path, registry)
                if valid is None:
                    raise SystemExit(f"{path.name} was rejected: {report.errors[:2]}")
                store.add_return(
                    valid,
                    sha256=report.sha256 or sha256_file(path),
                    file_name=path.name,
                    arrived_at=utc_now(),
                )
                valid_returns.append(valid)
            check_store = time.perf_counter() - started
            check_store_cpu = time.process_time() - cpu_started

        # 2. the whole ingest: validate, store, copy into the archive
        ingest, slices, workspace = time_ingest(paths, root / "workspace", registry)
        ingest_cpu = sum(cpu for _, cpu in slices)
        assert len(list(workspace.archive.iterdir())) == count

        # 3. pandas, reading only
        pandas_s = pandas_cpu = None
        if not options.skip_pandas:
            import pandas

            started, cpu_started = time.perf_counter(), time.process_time()
            for path in paths:
                pandas.read_excel(path, sheet_name=None, engine="openpyxl")
            pandas_s = time.perf_counter() - started
            pandas_cpu = time.process_time() - cpu_started

        # CPU time of this process is what one core does, however busy the machine is.
        print("                                      wall clock" + " " * 37 + "CPU")
        print(
            f"sheet-tools check_file + add_return : {rate(count, check_store)}"
            f"  {count / check_store_cpu:7.1f}/s"
        )
        print(
            f"sheet-tools ingest_file (+ archive) : {rate(count, ingest)}"
            f"  {count / ingest_cpu:7.1f}/s"
        )
        if pandas_s is not None and pandas_cpu is not None:
            print(
                f"pandas.read_excel(sheet_name=None)  : {rate(count, pandas_s)}"
                f"  {count / pandas_cpu:7.1f}/s"
            )
            print(
                f"\nratio (wall): validate+store {pandas_s / check_store:.1f}x the pandas loop, "
                f"full ingest {pandas_s / ingest:.1f}x (target >= 5x)"
            )
            print(
                f"ratio (CPU):  validate+store {pandas_cpu / check_store_cpu:.1f}x, "
                f"full ingest {pandas_cpu / ingest_cpu:.1f}x"
            )
        print(
            f"target >= 200 returns/s on one core (CPU): validate+store "
            f"{count / check_store_cpu:.0f}/s, ingest {count / ingest_cpu:.0f}/s"
        )

        # 4. the summaries' query over 10,000 returns in 200 trusts
        big = 10_000
        with Store(root / "big.db") as store:
            started = time.perf_counter()
            for number in range(big):
                template = valid_returns[number % count]
                other = school(number)
                valid = template.model_copy(
                    update={"school": other.name, "urn": other.urn, "trust": other.trust}
                )
                store.add_return(
                    valid, sha256=f"{number:064x}", file_name=f"{number}.xlsx", arrived_at=utc_now()
                )
            filled = time.perf_counter() - started
            started = time.perf_counter()
            everything = store.returns(TEMPLATE)
            read_all = time.perf_counter() - started
            started = time.perf_counter()
            per_trust = sum(
                len(store.returns(TEMPLATE, trust=f"Bench Trust {t:03d}")) for t in range(TRUSTS)
            )
            read_trusts = time.perf_counter() - started
            assert len(everything) == per_trust == big
        print(f"\nstore {big} returns (add_return)     : {rate(big, filled)}")
        print(f"Store.returns(): all {big}          : {read_all * 1000:8.0f} ms")
        print(f"Store.returns(trust=...) x {TRUSTS}      : {read_trusts * 1000:8.0f} ms in all")


if __name__ == "__main__":
    main()
