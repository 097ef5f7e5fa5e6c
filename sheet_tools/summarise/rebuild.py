"""Rebuilding the outbox: the entry points, and what each rebuild writes: which schools' and
trusts' summaries, from which returns. Where each file goes, and how the outbox is kept to exactly
what the store and roster call for, is ``outbox``'s; writing the files, and trying again those
that could not be replaced, is ``writing``'s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path

from ..base import clock
from ..base.keys import school_key, trust_key
from ..base.workspace import Workspace
from ..definitions.frameworks import Framework, Registry
from ..definitions.roster import School, read_roster, workspace_roster
from ..exceptions import RosterError, StoreError, SummariseError
from ..store.facade import Correction, IssuedWorkbook, Rejection, Store, StoredReturn
from .actions import overdue_count
from .family_trust import FamilyTrustData
from .outbox import (
    effective_trust,
    family_books,
    family_forms,
    plan,
    roster_by_key,
    tidy,
    trust_names,
)
from .overview import current_round_name
from .preparation import keep_preparation
from .scores import SchoolHistory, histories
from .stages import Kept, unique_names
from .trust import TrustData, returns_log
from .writing import Job, family_summary_path, note_waiting, run_jobs


def framework_for(registry: Registry, stored: StoredReturn) -> Framework | None:
    """The framework version the return was made against, else the newest version."""
    return registry.get(stored.template_id, stored.template_version) or registry.get(
        stored.template_id
    )


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
    unique = unique_names(roster_list)
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
            unique_names=unique,
        )
        if (target := family_summary_path(outbox, family_data)) in locked:
            note_waiting(target, (outbox, family_data))
        else:
            trust_jobs.append(("family", (outbox, family_data, preparation or {})))
    return run_jobs([*trust_jobs, *school_jobs], workers)


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
    notes, locked = keep_preparation(
        store, family_books(outbox, planned, registry, None), unique_names(roster_list)
    )
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
    tidy(outbox, planned, written, keep=locked)
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
    locked: set[Path] = set()
    if schools or trusts:
        notes, locked = keep_preparation(
            store, family_books(outbox, planned, registry, trusts), unique_names(roster_list)
        )
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
    tidy(outbox, planned, written, keep=locked)
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
