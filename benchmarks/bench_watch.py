"""Benchmark: a burst of 1,000 returns dropped into a running watcher, then single returns.

Real generated-and-filled returns (``demo.make_return`` for each school; further returns of a
school are the same workbook saved again, i.e. different bytes), a real database, real
summaries, a real watchdog observer, with the service's default intervals unless given.

1. Burst: every file is copied into the inbox at once. Prints the time from the last file
   landing to the last summary written, processing throughput, the number of summary rebuilds,
   and checks each file was processed exactly once (reports, database, archive).
2. Latency: single returns dropped one at a time after the burst; the median time from a file
   landing to its school's summary being rebuilt, with the native observer and with polling
   side by side. Most of it is the stability interval and the summary debounce, by design.

    python3 benchmarks/bench_watch.py [--files 1000] [--schools 100] [--singles 8]
        [--stable 2.0] [--quiet 1.0] [--poll 1.0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sheet_tools.base.workspace import Workspace
from sheet_tools.definitions.frameworks import load_registry
from sheet_tools.definitions.roster import School
from sheet_tools.demo import make_return
from sheet_tools.problems.report import FileReport
from sheet_tools.service.config import WatchSettings
from sheet_tools.service.watch import Affected, Pipeline, Watcher, default_pipeline
from sheet_tools.store.facade import Store

TEMPLATE = "specialist-provision-review"


def bench_school(i: int) -> School:
    return School(name=f"Bench School {i:04d}", urn=str(700000 + i), trust=f"Bench Trust {i % 10}")


def saved_again(source: Path, k: int, target: Path) -> Path:
    """The same workbook written again: identical answers, different bytes (entry times moved on
    by ``k`` steps of two seconds, so never the original's bytes)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            when = datetime(*info.date_time) + timedelta(seconds=2 * k)
            moved = zipfile.ZipInfo(info.filename, when.timetuple()[:6])
            moved.compress_type = info.compress_type
            zout.writestr(moved, zin.read(info))
    return target


def make_corpus(folder: Path, files: int, schools: int, extra: int) -> list[Path]:
    framework = load_registry().latest(TEMPLATE)
    originals = []
    for i in range(schools):
        sub = folder / f"s{i}"
        sub.mkdir(parents=True)
        originals.append(make_return(framework, sub, bench_school(i), seed=i))
    corpus = []
    for n in range(files + extra):
        i, k = n % schools, n // schools + 1
        corpus.append(saved_again(originals[i], k, folder / f"{originals[i].stem} r{k}.xlsx"))
    return corpus


class Recorder:
    """Times of reports and summary rebuilds, taken by the real pipeline's own calls."""

    def __init__(self, store: Store, workspace: Workspace) -> None:
        self.real = default_pipeline(workspace, load_registry(), store)
        self.reports: list[tuple[float, FileReport]] = []
        self.rebuilds: list[tuple[float, float, set[Affected]]] = []
        self.lock = threading.Lock()

    def summarise(self, affected: set[Affected]) -> None:
        start = time.monotonic()
        self.real.summarise(affected)
        with self.lock:
            self.rebuilds.append((start, time.monotonic(), set(affected)))

    def on_report(self, report: FileReport) -> None:
        with self.lock:
            self.reports.append((time.monotonic(), report))

    def pipeline(self) -> Pipeline:
        return Pipeline(self.real.process, self.summarise, self.real.owed_since, self.real.settle)


def wait(condition: Callable[[], object], timeout: float = 3600.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise SystemExit("timed out")
        time.sleep(0.005)


def start(
    settings: WatchSettings, workspace: Workspace, recorder: Recorder
) -> tuple[Watcher, threading.Thread]:
    watcher = Watcher(settings, workspace, recorder.pipeline(), on_report=recorder.on_report)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    wait(watcher.started.is_set)
    return watcher, thread


def singles(
    settings: WatchSettings,
    ws: Workspace,
    store: Store,
    files: list[Path],
    label: str,
    show: bool = True,
) -> list[float]:
    recorder = Recorder(store, ws)
    watcher, thread = start(settings, ws, recorder)
    latencies = []
    for path in files:
        key = path.name.split(" - ")[0]
        urn = key[key.rindex("(") + 1 : -1]
        shutil.copyfile(path, ws.inbox / path.name)
        landed = time.monotonic()

        def rebuilt(urn: str = urn, landed: float = landed) -> list[float]:
            with recorder.lock:
                return [
                    end
                    for _, end, affected in recorder.rebuilds
                    if end > landed and any(key == urn for _, key, _ in affected)
                ]

        wait(rebuilt)
        latencies.append(min(rebuilt()) - landed)
    watcher.stop()
    thread.join()
    if show:
        print(
            f"  {label:<28} median {statistics.median(latencies):6.2f} s   "
            f"min {min(latencies):5.2f} s   max {max(latencies):5.2f} s   ({len(latencies)} files)"
        )
    return latencies


def run_burst(
    settings: WatchSettings, ws: Workspace, store: Store, burst: list[Path], show: bool = True
) -> dict[str, object]:
    """Copy every file into the inbox of a running watcher at once; wait for the last summary.
    Times are from the last file landing; ``exactly_once`` checks reports, database, archive."""
    recorder = Recorder(store, ws)
    watcher, thread = start(settings, ws, recorder)
    first = time.monotonic()
    for path in burst:
        shutil.copyfile(path, ws.inbox / path.name)
    landed = time.monotonic()

    def settled() -> bool:
        with recorder.lock:
            if len(recorder.reports) < len(burst) or not recorder.rebuilds:
                return False
            return recorder.rebuilds[-1][0] > recorder.reports[-1][0]

    wait(settled)
    watcher.stop()
    thread.join()
    last_report = recorder.reports[-1][0]
    first_report = recorder.reports[0][0]
    last_summary = recorder.rebuilds[-1][1]
    names = Counter(report.file for _, report in recorder.reports)
    stored = len(store.returns(include_superseded=True))
    # the originals, not the queries reports filed beside some of them
    archived = sum(1 for p in ws.archive.iterdir() if p.is_file() and p.suffix == ".xlsx")
    once = (
        set(names.values()) == {1}
        and len(names) == len(burst)
        and stored == archived == len(burst)
        and {r.status for _, r in recorder.reports} == {"accepted"}
    )
    rebuild_sizes = [len(a) for _, _, a in recorder.rebuilds]
    result: dict[str, object] = {
        "files": len(burst),
        "copy_seconds": landed - first,
        "to_last_summary": last_summary - landed,
        "to_last_processed": last_report - landed,
        "files_per_second": len(burst) / max(last_report - first_report, 1e-9),
        "rebuilds": len(recorder.rebuilds),
        "rebuild_sizes": rebuild_sizes,
        "rebuild_seconds": sum(e - s for s, e, _ in recorder.rebuilds),
        "exactly_once": once,
    }
    if show:
        print(f"\nburst of {len(burst)} files (copied in {landed - first:.2f} s)")
        print(f"  last file landed -> last summary written   {last_summary - landed:7.2f} s")
        print(f"  last file landed -> last file processed    {last_report - landed:7.2f} s")
        rate = result["files_per_second"]
        print(f"  processing throughput                      {rate:7.0f} files/s")
        print(
            f"  summary rebuilds                           {len(recorder.rebuilds):7d}"
            f"   (schools per rebuild: {rebuild_sizes})"
        )
        print(f"  time in summary rebuilds                   {result['rebuild_seconds']:7.2f} s")
        print(
            f"  exactly once: {once} ({len(names)} reports, {stored} stored, {archived} archived)"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--singles", type=int, default=8)
    parser.add_argument("--stable", type=float, default=WatchSettings().stable_seconds)
    parser.add_argument("--quiet", type=float, default=WatchSettings().summary_quiet_seconds)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, help="Keep the workspace here.")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    try:
        began = time.monotonic()
        corpus = make_corpus(base / "corpus", args.files, args.schools, 2 * args.singles)
        burst, rest = corpus[: args.files], corpus[args.files :]
        print(
            f"{len(corpus)} returns from {args.schools} schools made in "
            f"{time.monotonic() - began:.1f} s"
        )
        root = args.keep or base / "ws"
        ws = Workspace.at(root)
        ws.ensure()
        settings = WatchSettings(
            workspace=root, stable_seconds=args.stable, summary_quiet_seconds=args.quiet
        )
        print(
            f"settings: stable {settings.stable_seconds:g} s, summary debounce "
            f"{settings.summary_quiet_seconds:g} s (at most {settings.summary_max_delay_seconds:g}"
            f" s), rescan {settings.rescan_seconds:g} s"
        )
        with Store(ws.database) as store:
            run_burst(settings, ws, store, burst)

            print("\nsingle files dropped one at a time: landing -> school summary rebuilt")
            half = len(rest) // 2
            singles(settings, ws, store, rest[:half], "native events")
            polling = settings.model_copy(update={"poll": args.poll})
            singles(polling, ws, store, rest[half:], f"polling every {args.poll:g} s")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
