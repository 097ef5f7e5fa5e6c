"""Rebuilding the outbox: the entry points, and the jobs that write each summary (in worker
processes when there are many). Where each file goes, and how the outbox is kept to exactly what
the store and roster call for, is ``outbox``'s. Every file is written to a temporary file in the
same folder and renamed into place, so nobody opening the outbox sees half a file.

Each file is replaced on its own: one that cannot be (open in Excel on Windows, read-only) is
skipped, named once in the log, and kept with its new contents to be tried again on its own
(``retry_unwritten``; a family's trust workbook is rebuilt afresh, its typed Preparation column
read back first), while the rest of the rebuild completes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

from ..base import clock
from ..base.files import write_bytes_atomically
from ..base.keys import school_key, trust_key
from ..base.workspace import Workspace
from ..definitions.frameworks import Framework, Registry
from ..definitions.roster import School, read_roster, workspace_roster
from ..exceptions import RosterError, StoreError, SummariseError
from ..store.facade import Correction, IssuedWorkbook, Rejection, Store, StoredReturn
from .actions import overdue_count
from .family_trust import FamilyTrustData, build_family_trust_workbook
from .outbox import (
    effective_trust,
    family_books,
    family_forms,
    plan,
    roster_by_key,
    school_chart_path,
    school_summary_path,
    tidy,
    trust_names,
    trust_summary_path,
)
from .overview import current_round_name
from .preparation import keep_preparation
from .school import build_school_workbook
from .scores import SchoolHistory, histories
from .stages import Kept
from .trust import TrustData, build_trust_workbook, returns_log


def framework_for(registry: Registry, stored: StoredReturn) -> Framework | None:
    """The framework version the return was made against, else the newest version."""
    return registry.get(stored.template_id, stored.template_version) or registry.get(
        stored.template_id
    )


logger = logging.getLogger("sheet_tools.summarise")

# Summaries that could not replace the file in place, by path, with the bytes wanted there; and
# those already named in the log (once per file until it is written).
_UNWRITTEN: dict[Path, bytes] = {}
_REPORTED: set[Path] = set()
# A family's trust workbook that could not be read back or replaced: never retried with its old
# bytes (they would lose what is typed into it meanwhile) but rebuilt afresh from its data.
_WAITING: dict[Path, tuple[Path, FamilyTrustData]] = {}
Unwritten = dict[Path, bytes]


def _replace(data: bytes, target: Path, unwritten: Unwritten | None) -> Path | None:
    """``write_bytes_atomically``; with ``unwritten``, a file that cannot be replaced (locked or
    read-only: PermissionError) is noted there instead of failing the rebuild."""
    if unwritten is None:
        return write_bytes_atomically(data, target)
    try:
        return write_bytes_atomically(data, target)
    except PermissionError:
        unwritten[target] = data
        return None


def _note_unwritten(unwritten: Unwritten) -> None:
    for path, data in unwritten.items():
        _UNWRITTEN[path] = data
        if path not in _REPORTED:
            _REPORTED.add(path)
            logger.warning(
                "cannot replace %s: it is open in another program or read-only; the other "
                "summaries are written and this one will be tried again on its own",
                path,
            )


def _note_waiting(path: Path, job: tuple[Path, FamilyTrustData]) -> None:
    _WAITING[path] = job
    if path not in _REPORTED:
        _REPORTED.add(path)
        logger.warning(
            "cannot replace %s: it is open in another program or read-only; the other "
            "summaries are written and this one is rebuilt, keeping its Preparation column, "
            "when it can be",
            path,
        )


def _note_written(paths: Iterable[Path]) -> None:
    for path in paths:
        _UNWRITTEN.pop(path, None)
        _WAITING.pop(path, None)
        _REPORTED.discard(path)


def unwritten() -> list[Path]:
    """Summaries still waiting to replace a locked or read-only file."""
    return sorted({*_UNWRITTEN, *_WAITING})


def retry_unwritten(store: Store | None = None) -> list[Path]:
    """Try again each summary that could not replace its file; returns those still waiting. A
    family's trust workbook is rebuilt afresh (read back, recorded, drawn from the store's notes),
    which needs the ``store``."""
    for path, data in list(_UNWRITTEN.items()):
        if not path.parent.is_dir():  # its folder went (the school moved): nothing to replace
            _note_written([path])
            continue
        if _replace(data, path, {}) is not None:
            logger.info("%s is written now", path)
            _note_written([path])
    for path, (outbox, family) in list(_WAITING.items()) if store is not None else ():
        if not path.parent.is_dir():
            _note_written([path])
            continue
        notes, locked = keep_preparation(store, [path])
        if not locked and write_family_summary(outbox, family, notes) is not None:
            logger.info("%s is written now", path)
            _note_written([path])
    return unwritten()


def write_school_summary(
    outbox: Path,
    framework: Framework,
    history: SchoolHistory,
    trust: str | None,
    corrections: Sequence[Correction] = (),
    family: Sequence[tuple[Framework, SchoolHistory]] = (),
    today: date | None = None,
    unwritten: Unwritten | None = None,
) -> list[Path]:
    """Write (atomically) one school's workbook and radar PNG; returns the paths written (a
    file that cannot be replaced goes into ``unwritten`` when given)."""
    current = history.current
    target = school_summary_path(outbox, trust, current.school, history.urn, framework.id)
    target.parent.mkdir(parents=True, exist_ok=True)
    book, png = build_school_workbook(framework, history, trust, corrections, family, today)
    written = []
    if png is not None:
        chart = school_chart_path(outbox, trust, current.school, history.urn, framework.id)
        written.append(_replace(png, chart, unwritten))
    written.insert(0, _replace(book, target, unwritten))
    return [path for path in written if path is not None]


def write_trust_summary(
    outbox: Path, data: TrustData, unwritten: Unwritten | None = None
) -> Path | None:
    target = trust_summary_path(outbox, data.name, data.framework.id)
    target.parent.mkdir(parents=True, exist_ok=True)
    return _replace(build_trust_workbook(data), target, unwritten)


def family_summary_path(outbox: Path, data: FamilyTrustData) -> Path:
    return trust_summary_path(outbox, data.name, data.family)


def write_family_summary(outbox: Path, data: FamilyTrustData, notes: Kept) -> Path | None:
    """A trust's one workbook of a family of forms, its Preparation column from ``notes`` (the
    store's, recorded from the file it replaces); None when the file cannot be replaced."""
    target = family_summary_path(outbox, data)
    target.parent.mkdir(parents=True, exist_ok=True)
    return _replace(build_family_trust_workbook(data, notes), target, {})


def rejection_trust(rejection: Rejection, roster: dict[str, School]) -> str:
    """The trust a rejected file belongs to: the roster's for its school, else the one it names."""
    if rejection.school:
        listed = roster.get(school_key(rejection.school, rejection.urn))
        if listed is not None and listed.trust:
            return trust_key(listed.trust)
    return trust_key(rejection.trust)


def roster_by_trust(roster: Iterable[School]) -> dict[str, list[School]]:
    """Each trust's roster schools by trust key, grouped once: a roster lists thousands of
    schools in hundreds of trusts, and matching each trust against the whole roster is
    quadratic."""
    grouped: dict[str, list[School]] = defaultdict(list)
    for school in roster:
        grouped[trust_key(school.trust)].append(school)
    return grouped


# Below this many workbooks a rebuild runs in-process; above it, on every core, since each
# workbook is independent and a full rebuild of a large workspace is thousands of them.
PARALLEL_MIN_JOBS = 24


# ("school", (outbox, framework, history, trust, corrections)), ("trust", (outbox, trust data))
# or ("family", (outbox, family trust data, preparation notes))
Job = tuple[str, tuple]


def _write_jobs(jobs: Sequence[Job]) -> tuple[list[Path], Unwritten, list[Path]]:
    """Each job's files, one at a time: (written, those that could not be replaced, the family
    workbooks that could not be, to be rebuilt afresh)."""
    written: list[Path] = []
    skipped: Unwritten = {}
    held: list[Path] = []
    for kind, args in jobs:
        if kind == "school":
            written.extend(write_school_summary(*args, unwritten=skipped))
        elif kind == "family":
            if (path := write_family_summary(*args)) is not None:
                written.append(path)
            else:
                held.append(family_summary_path(*args[:2]))
        elif (path := write_trust_summary(*args, unwritten=skipped)) is not None:
            written.append(path)
    return written, skipped, held


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _run_jobs(jobs: Sequence[Job], workers: int | None) -> list[Path]:
    """Write the workbooks, in worker processes when there are many. Workers are spawned, not
    forked: the watcher that calls this runs threads."""
    count = min(workers if workers is not None else _cpus(), 8)
    families = {family_summary_path(*a[:2]): a[:2] for kind, a in jobs if kind == "family"}
    if count <= 1 or len(jobs) < PARALLEL_MIN_JOBS:
        written, skipped, held = _write_jobs(jobs)
        _note_written(written)
        _note_unwritten(skipped)
        for path in held:
            _note_waiting(path, families[path])
        return written
    # small chunks, so no core idles at the end while another finishes a long one
    size = max(1, len(jobs) // (count * 32))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    context = multiprocessing.get_context("spawn")
    written: list[Path] = []
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        for paths, skipped, held in pool.map(_write_jobs, chunks):
            written.extend(paths)
            _note_written(paths)
            _note_unwritten(skipped)
            for path in held:
                _note_waiting(path, families[path])
    return written


def summarise_returns(
    returns: Iterable[StoredReturn],
    registry: Registry,
    outbox: Path | str,
    *,
    roster: Iterable[School] | None = None,
    rejections: Sequence[Rejection] = (),
    schools: Collection[tuple[str, str]] | None = None,
    trusts: Collection[tuple[str, str]] | None = None,
    empty_trusts: dict[tuple[str, str], str] | None = None,
    names: dict[str, str | None] | None = None,
    corrections: Sequence[Correction] = (),
    workers: int | None = None,
    today: date | None = None,
    issued: Sequence[IssuedWorkbook] = (),
    current_round: str | None = None,
    told: Mapping[str, tuple[str, str]] | None = None,
    preparation: Kept | None = None,
    locked: Collection[Path] = (),
) -> list[Path]:
    """Write summaries from plain data. ``schools`` ((template id, school key)) and ``trusts``
    ((template id, trust key)) limit what is written; None writes everything. ``returns`` must
    hold every return of each school and trust written; ``empty_trusts`` names roster trusts
    with none, whose workbooks are their chase lists; ``names`` spells each trust (by key), as
    ``outbox.plan`` does, so files land where the plan expects them. ``workers``: processes to
    write with (default: one per core, used only for large rebuilds); ``today``: the day actions
    are overdue against (default: today). ``issued``: the workbooks issued, and
    ``current_round`` the round summaries chase (default: each trust's newest round with a
    workbook issued or returned); ``told``: by file sha256, whether its school was told (the
    mail queue's status and reason); ``preparation``: the store's Preparation notes; ``locked``:
    family workbooks not read back (``keep_preparation``), left to be rebuilt when they can be.
    Returns the paths written: trust workbooks first, then each school's workbook and picture."""
    outbox = Path(outbox)
    roster_list = list(roster or ())
    on_roster = roster_by_key(roster_list)
    school_jobs: list[Job] = []
    corrected: dict[tuple[str, str], list[Correction]] = defaultdict(list)
    for item in corrections:
        corrected[(item.template_id, item.school_key)].append(item)
    members: dict[tuple[str, str], list[SchoolHistory]] = defaultdict(list)
    grouped = histories(_as_listed(returns, on_roster))
    spelling = names if names is not None else trust_names(grouped.values(), on_roster)
    forms = {k: f for k, h in grouped.items() if (f := framework_for(registry, h.current))}
    # each school's forms of a family (the Diagnostic Review's report and follow-up visits)
    family_of: dict[tuple[str, str], list[tuple[Framework, SchoolHistory]]] = defaultdict(list)
    for (template_id, key), framework in forms.items():
        if framework.family and framework.reviewer_form:
            family_of[(framework.family, key)].append((framework, grouped[(template_id, key)]))
    for (template_id, key), history in sorted(grouped.items()):
        framework = forms.get((template_id, key))
        if framework is None:
            continue
        tkey = trust_key(effective_trust(history, on_roster))
        trust = spelling.get(tkey)
        members[(template_id, tkey)].append(history)
        if schools is None or (template_id, key) in schools:
            history_of = corrected.get((template_id, key), [])
            family = (
                family_of.get((framework.family, key), []) if not framework.reviewer_form else []
            )
            school_jobs.append(
                ("school", (outbox, framework, history, trust, history_of, family, today))
            )
    roster_of = roster_by_trust(roster_list)
    rejection_trusts = [(r, rejection_trust(r, on_roster)) for r in rejections]
    issued_of: dict[tuple[str, str], list[IssuedWorkbook]] = defaultdict(list)
    for item in issued:
        listed = on_roster.get(school_key(item.school, item.urn))
        its_trust = listed.trust if listed is not None and listed.trust else item.trust
        issued_of[(item.template_id, trust_key(its_trust))].append(item)
    trust_jobs: list[Job] = []
    families: set[tuple[str, str]] = set()
    for tkey in sorted({*members, *(empty_trusts or {})}):
        template_id, key = tkey
        framework = registry.get(template_id)
        if framework is None or (trusts is not None and tkey not in trusts):
            continue
        if framework.family:  # one workbook for the family's forms together
            families.add((framework.family, key))
            continue
        in_trust = members.get(tkey, [])
        name = spelling.get(key) or (empty_trusts or {}).get(tkey) or None
        member_keys = {h.school_key for h in in_trust}
        trust_rejections = [
            r
            for r, its_trust in rejection_trusts
            if its_trust == key or (r.school and school_key(r.school, r.urn) in member_keys)
        ]
        # only the schools the framework applies to are counted and chased
        on_list = [s for s in roster_of.get(key, []) if s.takes(template_id)]
        sent = issued_of.get(tkey, [])
        round_name = current_round or current_round_name(
            in_trust, [(i.round, i.issued_at.date()) for i in sent]
        )
        log = returns_log(
            framework,
            in_trust,
            on_list,
            trust_rejections,
            round_name=round_name,
            issued=sent,
            told=told,
        )
        expected = {school_key(s.name, s.urn) for s in on_list} or {
            *(h.school_key for h in in_trust),
            *(school_key(i.school, i.urn) for i in sent if i.round == round_name),
        }
        data = TrustData(
            framework=framework,
            name=name,
            members=in_trust,
            log=log,
            roster=on_list,
            overdue_actions=overdue_count(in_trust, today or clock.today()),
            today=today,
            round=round_name,
            expected=len(expected),
        )
        trust_jobs.append(("trust", (outbox, data)))
    for family, key in sorted(families):
        forms = family_forms(registry, family)
        ids = {f.id for f in forms}
        in_family = {f.id: members.get((f.id, key), []) for f in forms}
        member_keys = {h.school_key for found in in_family.values() for h in found}
        empty = empty_trusts or {}
        listed = next((empty[(t, key)] for t in sorted(ids) if (t, key) in empty), None)
        family_data = FamilyTrustData(
            family=family,
            name=spelling.get(key) or listed or None,
            forms=forms,
            members=in_family,
            roster=roster_of.get(key, []),
            issued=[i for f in forms for i in issued_of.get((f.id, key), [])],
            rejections=[
                r
                for r, its_trust in rejection_trusts
                if r.template_id in (None, *ids)
                and (its_trust == key or (r.school and school_key(r.school, r.urn) in member_keys))
            ],
            round=current_round,
            told=told,
        )
        if (target := family_summary_path(outbox, family_data)) in locked:
            _note_waiting(target, (outbox, family_data))
        else:
            trust_jobs.append(("family", (outbox, family_data, preparation or {})))
    return _run_jobs([*trust_jobs, *school_jobs], workers)


def _as_listed(returns: Iterable[StoredReturn], on_roster: dict[str, School]) -> list[StoredReturn]:
    """Returns under the school's current name on the roster (a renamed school's old name is
    not shown)."""
    renamed = []
    for stored in returns:
        listed = on_roster.get(stored.school_key)
        if listed is not None and listed.name != stored.school:
            stored = stored.model_copy(update={"school": listed.name})
        renamed.append(stored)
    return renamed


def summarise_all(
    store: Store,
    registry: Registry,
    outbox: Path | str,
    roster: Iterable[School] | None = None,
    *,
    workers: int | None = None,
    today: date | None = None,
    current_round: str | None = None,
) -> list[Path]:
    """Rebuild every school and trust summary from the store (``sheet-tools summarise``), then
    remove what sheet-tools wrote that the store and roster no longer call for. ``current_round``:
    the round the Returns logs chase (default: each trust's newest issued or returned)."""
    outbox = Path(outbox)
    roster_list = list(roster or ())
    returns = store.returns()
    issued = store.issued()
    planned = plan(returns, registry, outbox, roster_list, issued)
    notes, locked = keep_preparation(store, family_books(outbox, planned, registry, None))
    written = summarise_returns(
        returns,
        registry,
        outbox,
        roster=roster_list,
        rejections=store.rejections(),
        empty_trusts=planned.empty_trusts,
        names=planned.trust_names,
        corrections=store.corrections(),
        workers=workers,
        today=today,
        issued=issued,
        current_round=current_round,
        told=store.mail.told(),
        preparation=notes,
        locked=locked,
    )
    tidy(outbox, planned, written)
    return written


def summarise_affected(
    store: Store,
    registry: Registry,
    outbox: Path | str,
    affected: Iterable[tuple[str, str, str | None]],
    roster: Iterable[School] | None = None,
    *,
    today: date | None = None,
    current_round: str | None = None,
) -> list[Path]:
    """Rebuild only what new returns change: each (template id, school key, trust) names a
    school whose summary is redrawn, and its trust whose consolidated workbook is redrawn. Any
    summary the store and roster call for that is missing (a school moved on the roster, a
    roster trust with nothing returned yet) is written too, and stale ones are removed."""
    outbox = Path(outbox)
    roster_list = list(roster or ())
    on_roster = roster_by_key(roster_list)
    issued = store.issued()
    planned = plan(store.returns(contents=False), registry, outbox, roster_list, issued)
    schools: set[tuple[str, str]] = set()
    trusts: set[tuple[str, str]] = set()
    trust_queries: set[tuple[str, str]] = set()
    for template_id, key, trust in affected:
        schools.add((template_id, key))
        listed = on_roster.get(key)
        effective = listed.trust if listed is not None and listed.trust else trust
        trusts.add((template_id, trust_key(effective)))
        for name in {trust, effective}:
            if name:
                trust_queries.add((template_id, name))
    for school, paths in planned.schools.items():
        if not all(path.exists() for path in paths):
            schools.add(school)
    # a report or visit changes the summary of the school's other forms of the same review
    for template_id, key in list(schools):
        framework = registry.get(template_id)
        if framework is not None and framework.family:
            schools.update((f.id, key) for f in registry if f.family == framework.family)
    for tkey, path in planned.trusts.items():
        if not path.exists():
            trusts.add(tkey)
    # a family's trust workbook is drawn from every form of the family
    for template_id, tkey in list(trusts):
        framework = registry.get(template_id)
        if framework is not None and framework.family:
            trusts.update((f.id, tkey) for f in family_forms(registry, framework.family))
    found: dict[int, StoredReturn] = {}

    def gather(items: Iterable[StoredReturn]) -> None:
        for stored in items:
            found[stored.id] = stored

    for template_id, key in schools:
        gather(store.returns(template_id, school_key=key))
    for template_id, name in trust_queries:
        gather(store.returns(template_id, trust=name))
    for template_id, tkey in trusts:
        if tkey:
            gather(store.returns(template_id, trust=tkey))
        else:  # returns naming no trust cannot be asked for by name
            gather(s for s in store.returns(template_id) if not trust_key(s.trust))
    roster_of = roster_by_trust(roster_list)
    for template_id, tkey in trusts:
        for school in roster_of.get(tkey, []):
            gather(store.returns(template_id, school_key=school_key(school.name, school.urn)))
    # The trust query finds the returns naming the trust; each member's other returns (an
    # earlier round that named the trust differently, say) complete its history.
    seen_keys = {(s.template_id, s.school_key) for s in found.values()}
    for template_id, key in seen_keys - schools:
        gather(store.returns(template_id, school_key=key))
    written: list[Path] = []
    if schools or trusts:
        notes, locked = keep_preparation(store, family_books(outbox, planned, registry, trusts))
        written = summarise_returns(
            found.values(),
            registry,
            outbox,
            roster=roster_list,
            rejections=store.rejections(),
            schools=schools,
            trusts=trusts,
            empty_trusts={k: v for k, v in planned.empty_trusts.items() if k in trusts},
            names=planned.trust_names,
            corrections=store.corrections(),
            today=today,
            issued=issued,
            current_round=current_round,
            told=store.mail.told(),
            preparation=notes,
            locked=locked,
        )
    tidy(outbox, planned, written)
    return written


def summarise_workspace(
    root: Path | str,
    registry: Registry,
    *,
    outbox: Path | str | None = None,
    roster: Path | str | None = None,
    workers: int | None = None,
    today: date | None = None,
    current_round: str | None = None,
) -> list[Path]:
    """``sheet-tools summarise``: rebuild every summary from the workspace's database into its
    outbox, listing outstanding schools from the roster (given, else the workspace's own) for
    ``current_round`` (default: each trust's newest round with a workbook issued or returned)."""
    space = Workspace.at(root, outbox=outbox)
    if not space.database.is_file():
        raise SummariseError(
            f"no returns database at {space.database}: ingest some returns first "
            "(sheet-tools ingest or sheet-tools watch)"
        )
    try:
        schools = read_roster(roster) if roster is not None else workspace_roster(space.root)
    except RosterError as exc:
        raise SummariseError(str(exc)) from None
    space.outbox.mkdir(parents=True, exist_ok=True)
    try:
        with Store(space.database) as store:
            return summarise_all(
                store,
                registry,
                space.outbox,
                schools,
                workers=workers,
                today=today,
                current_round=current_round,
            )
    except StoreError as exc:
        raise SummariseError(str(exc)) from None
