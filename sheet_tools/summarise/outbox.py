"""Where each summary goes, and keeping the outbox exactly what the store and roster call for.

Outbox layout (every name passes through ``files.safe_filename``)::

    outbox/
      <trust>/                                         one folder per trust or local authority;
                                                       "No trust recorded" when a return names none
        <school> (<urn>) - <template id>.xlsx           one school's summary of one framework
        <school> (<urn>) - <template id> - radar.png    its radar chart, for e-mails and slides
        <trust> - <template id> - trust summary.xlsx    the trust's consolidated workbook
        <trust> - <family> - trust summary.xlsx         one for a family's forms together (the
                                                       Diagnostic Review's four), in their place
      .sheet-tools-manifest.json                       every file sheet-tools wrote here

A school's trust is the one the current roster gives it, else the one its latest return names,
and its name is the roster's, else its latest return's: a school renamed or moved on the roster
moves at the next rebuild. After each rebuild, a file the manifest lists that the store and roster
no longer call for (a renamed, moved or withdrawn school's) is removed; a file sheet-tools did not
write is never touched.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..base.files import safe_filename, write_bytes_atomically
from ..base.keys import school_key, trust_key
from ..definitions.frameworks import Framework, Registry
from ..definitions.roster import School
from ..store.facade import IssuedWorkbook, StoredReturn
from .scores import NO_TRUST, SchoolHistory, histories

MANIFEST = ".sheet-tools-manifest.json"

logger = logging.getLogger("sheet_tools.summarise")


def roster_by_key(roster: Iterable[School]) -> dict[str, School]:
    """The roster's schools (``roster.csv``) by the store's school key (URN, else name)."""
    return {school_key(s.name, s.urn): s for s in roster}


def effective_trust(history: SchoolHistory, roster: dict[str, School]) -> str | None:
    """The roster's trust for the school, else the one its latest return names."""
    on_roster = roster.get(history.school_key)
    if on_roster is not None and on_roster.trust:
        return on_roster.trust
    return history.newest.trust


def trust_folder(outbox: Path, trust: str | None) -> Path:
    return Path(outbox) / safe_filename(trust or NO_TRUST, suffix="", max_length=80)


def _school_stem(school: str, urn: str | None, template_id: str) -> str:
    # The school part is shortened on its own so a long name never loses the template id.
    name = safe_filename(school + (f" ({urn})" if urn else ""), suffix="", max_length=90)
    return f"{name} - {safe_filename(template_id, suffix='', max_length=60)}"


def school_summary_path(
    outbox: Path, trust: str | None, school: str, urn: str | None, template_id: str
) -> Path:
    return trust_folder(outbox, trust) / f"{_school_stem(school, urn, template_id)}.xlsx"


def school_chart_path(
    outbox: Path, trust: str | None, school: str, urn: str | None, template_id: str
) -> Path:
    return trust_folder(outbox, trust) / f"{_school_stem(school, urn, template_id)} - radar.png"


def trust_summary_path(outbox: Path, trust: str | None, template_id: str) -> Path:
    name = safe_filename(trust or NO_TRUST, suffix="", max_length=80)
    template = safe_filename(template_id, suffix="", max_length=60)
    return trust_folder(outbox, trust) / f"{name} - {template} - trust summary.xlsx"


def family_forms(registry: Registry, family: str) -> list[Framework]:
    """The newest version of each form of a family, in the registry's order."""
    found = (registry.latest(template_id) for template_id in registry.ids())
    return [framework for framework in found if framework.family == family]


def trust_book_of(registry: Registry, template_id: str) -> str:
    """What a form's trust workbook is named after: its family when it has one (one workbook
    for the family's forms together), else the form itself."""
    framework = registry.get(template_id)
    return framework.family if framework is not None and framework.family else template_id


def school_name(history: SchoolHistory, roster: dict[str, School]) -> str:
    """The roster's name for the school, else the one its latest return gives."""
    on_roster = roster.get(history.school_key)
    return on_roster.name if on_roster is not None else history.school


@dataclass
class Planned:
    """What the store and roster call for: each summary's files, by what it summarises."""

    schools: dict[tuple[str, str], list[Path]] = field(default_factory=dict)
    trusts: dict[tuple[str, str], Path] = field(default_factory=dict)
    # trusts on the roster with no accepted return of a framework: their chase list
    empty_trusts: dict[tuple[str, str], str] = field(default_factory=dict)
    trust_names: dict[str, str | None] = field(default_factory=dict)

    def paths(self) -> set[Path]:
        found = {p for paths in self.schools.values() for p in paths}
        return found | set(self.trusts.values())


def trust_names(
    found: Iterable[SchoolHistory], on_roster: dict[str, School]
) -> dict[str, str | None]:
    """One spelling per trust, used for its folder and its workbook: the roster's, else the one
    its most recent return used."""
    names: dict[str, str | None] = {trust_key(s.trust): s.trust for s in on_roster.values()}
    latest: dict[str, tuple[object, str | None]] = {}
    for history in found:
        trust = effective_trust(history, on_roster)
        key = trust_key(trust)
        stamp = history.newest.id
        if key not in latest or stamp > latest[key][0]:  # type: ignore[operator]
            latest[key] = (stamp, trust)
    for key, (_, trust) in latest.items():
        names.setdefault(key, trust)
    names.pop("", None)
    return names


def plan(
    returns: Iterable[StoredReturn],
    registry: Registry,
    outbox: Path,
    roster: Iterable[School],
    issued: Iterable[IssuedWorkbook] = (),
) -> Planned:
    """The summaries the returns (contents not needed), the roster and the workbooks issued call
    for: a trust with a workbook issued and nothing returned gets its chase list."""
    roster_list = list(roster)
    on_roster = roster_by_key(roster_list)
    planned = Planned()
    templates: set[str] = set()
    grouped = histories(returns)
    planned.trust_names = trust_names(grouped.values(), on_roster)
    for (template_id, key), history in grouped.items():
        framework = registry.get(history.current.template_id, history.current.template_version)
        framework = framework or registry.get(template_id)
        if framework is None:
            continue
        templates.add(template_id)
        trust = planned.trust_names.get(trust_key(effective_trust(history, on_roster)))
        name = school_name(history, on_roster)
        paths = [school_summary_path(outbox, trust, name, history.urn, template_id)]
        if framework.judged:
            paths.append(school_chart_path(outbox, trust, name, history.urn, template_id))
        planned.schools[(template_id, key)] = paths
        planned.trusts[(template_id, trust_key(trust))] = trust_summary_path(
            outbox, trust, trust_book_of(registry, template_id)
        )
    sent = [
        (item.template_id, on_roster.get(school_key(item.school, item.urn)), item.trust)
        for item in issued
        if registry.get(item.template_id) is not None
    ]
    templates.update(template_id for template_id, _, _ in sent)
    wanted = [(t, s.trust) for t in templates for s in roster_list if s.takes(t)]
    wanted += [(t, listed.trust if listed and listed.trust else trust) for t, listed, trust in sent]
    for template_id, name in wanted:
        tkey = trust_key(name)
        if tkey and (template_id, tkey) not in planned.trusts:
            book = trust_book_of(registry, template_id)
            planned.trusts[(template_id, tkey)] = trust_summary_path(outbox, name, book)
            planned.empty_trusts[(template_id, tkey)] = name or ""
    return planned


def _read_manifest(outbox: Path) -> set[Path]:
    try:
        names = json.loads((outbox / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {outbox / name for name in names if isinstance(name, str)}


def family_books(
    outbox: Path, planned: Planned, registry: Registry, trusts: Collection[tuple[str, str]] | None
) -> list[Path]:
    """The trust workbooks of a family of forms a rebuild replaces or removes, whose typed
    Preparation column is read back first: those the manifest lists that the plan no longer
    calls for (a trust renamed, the last school moved away), then those of ``trusts`` (None: all)
    the plan calls for, so what a current workbook holds is read last."""
    ends = tuple(
        f" - {safe_filename(f.family, suffix='', max_length=60)} - trust summary.xlsx"
        for f in registry
        if f.family
    )
    current = [
        path
        for (template_id, tkey), path in sorted(planned.trusts.items())
        if (trusts is None or (template_id, tkey) in trusts) and path.name.endswith(ends)
    ]
    stale = sorted(p for p in _read_manifest(outbox) - planned.paths() if p.name.endswith(ends))
    return list(dict.fromkeys([*stale, *current]))


def tidy(
    outbox: Path, planned: Planned, written: Iterable[Path], keep: Collection[Path] = ()
) -> list[Path]:
    """Remove what sheet-tools wrote that is no longer called for, and record what it wrote
    that is; returns the files removed. Never more than the plan accounts for: a plan calling for
    nothing (an empty or replaced database) removes nothing, and a file that cannot be removed
    (open in another program) stays listed, to go at a later rebuild. ``keep``: files not to
    remove yet (a trust workbook whose typed Preparation column could not be read back)."""
    wanted = planned.paths()
    listed = _read_manifest(outbox)
    if not wanted and listed:
        logger.warning(
            "the database calls for no summaries but the outbox holds %d: none is removed "
            "(was the database replaced or emptied?)",
            len(listed),
        )
        return []
    removed = []
    stuck: set[Path] = set()
    for path in sorted(listed - wanted):
        if path in keep:
            stuck.add(path)
            continue
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            pass
        except PermissionError:
            stuck.add(path)
            logger.warning("cannot remove the stale summary %s yet: it is in use", path)
            continue
        with contextlib.suppress(OSError):  # a trust folder left empty goes too
            path.parent.rmdir()
    kept = {p for p in (listed | set(written)) & wanted if p.exists()} | stuck
    if kept != listed:
        names = sorted(p.relative_to(outbox).as_posix() for p in kept)
        outbox.mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(json.dumps(names, indent=1).encode("utf-8"), outbox / MANIFEST)
    return removed
