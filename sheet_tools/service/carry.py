"""The store -> what each school's next workbook starts from (``generate --carry-forward``).

The generator never reads the store, so this later stage builds a plain ``Carried`` per school
from the earlier round's accepted returns: each statement's level (the reviewer's where a reviewer
judged it, else the school's own), the personnel named on the cover, and the action plan: the
round's next steps per area, for the SEND Diagnostic Review the report's recommendations and the
latest follow-up visit's action points, and any earlier action not yet Done or Dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from ..base.clock import uk_date
from ..base.keys import school_key
from ..base.workspace import Workspace
from ..definitions.carried import CLOSED_STATUSES, Action, Carried
from ..definitions.frameworks import Framework, Registry
from ..definitions.roster import School
from ..definitions.rounds import REVIEWERS, SELF, Judge, clean_round, round_start
from ..exceptions import GenerateError
from ..store.facade import Store, StoredReturn
from ..summarise.review import action_points, companions_of, recommendations
from ..summarise.scores import SchoolHistory, histories
from ..summarise.sheets import box_text, boxes_with_role


def earlier_round(history: SchoolHistory, round_name: str, from_round: str | None) -> str | None:
    """The round to carry from: ``from_round`` if the school has a return in it, else the
    latest round before ``round_name`` (any other round, when ``round_name`` is not a term)."""
    if from_round is not None:
        wanted = clean_round(from_round)
        return wanted if wanted in history.rounds else None
    names = [name for name in history.round_names() if name != round_name]
    start = round_start(round_name)
    if start is not None:
        names = [n for n in names if (round_start(n) or min_date(history, n)) < start]
    return names[-1] if names else None


def min_date(history: SchoolHistory, name: str) -> date:
    """A round's earliest review date: where a round not named after a term falls."""
    return min(r.review_date for r in history.rounds[name].values())


def _levels(framework: Framework, history: SchoolHistory, name: str) -> dict[str, str]:
    """Per statement: the reviewer's level where one judged it, else the school's own."""
    order = [*REVIEWERS, SELF]
    returns = [found[-1] for judge in order if (found := history.in_round(name, judge))]
    levels: dict[str, str] = {}
    for _, statement in framework.judged_statements():
        for stored in returns:
            code = stored.judgements.get(statement.id)
            if code:
                levels[statement.id] = code
                break
    return levels


def _own(history: SchoolHistory, name: str, judge: Judge) -> StoredReturn:
    """The round's return by the role the new workbook is for, else its primary one."""
    found = history.in_round(name, judge)
    return found[-1] if found else history.primary(name)


def _actions(
    framework: Framework,
    history: SchoolHistory,
    name: str,
    judge: Judge,
    family: list[tuple[Framework, SchoolHistory]],
) -> list[Action]:
    items: list[tuple[str, str]] = []  # (action, area)
    primary = history.primary(name)
    for sheet, boxes in boxes_with_role(framework, "next_steps"):
        text = box_text(primary, boxes)
        if text:
            items.append((text, sheet.title))
    found = companions_of(name, family)
    if found.report is not None:
        items += [(text, area) for area, text in recommendations(*found.report)]
    if found.visits:
        visit_form, visit = found.visits[-1]
        text = action_points(visit_form, visit)
        if text:
            items.append((text, f"Follow-up visit, {uk_date(visit.review_date)}"))
    actions = [
        Action(id=f"A{n:02d}", action=text, area=area) for n, (text, area) in enumerate(items, 1)
    ]
    earlier = _own(history, name, judge).actions or []
    for item in earlier:
        if item.status not in CLOSED_STATUSES:
            number = len(actions) + 1
            actions.append(item.model_copy(update={"id": f"A{number:02d}"}))
    return actions


# Up to this many schools their returns are asked for one school at a time; a roster reads all.
_ONE_BY_ONE = 20


def _returns(store: Store, template_id: str, keys: list[str]) -> list[StoredReturn]:
    if len(keys) > _ONE_BY_ONE:
        return store.returns(template_id)
    return [r for key in keys for r in store.returns(template_id, school_key=key)]


def carried_for(
    store: Store,
    registry: Registry,
    framework: Framework,
    schools: Iterable[School],
    round_name: str,
    *,
    from_round: str | None = None,
    judge: Judge | None = None,
) -> dict[str, Carried]:
    """By ``keys.school_key``, what each school's workbook for ``round_name`` starts from; a school
    with no accepted return in an earlier round (or in ``from_round``) has no entry."""
    round_name = clean_round(round_name)
    role: Judge = judge or SELF
    schools = list(schools)
    keys = [school_key(school.name, school.urn) for school in schools]
    grouped = histories(_returns(store, framework.id, keys))
    family_forms = [
        registry.latest(other)
        for other in registry.ids()
        if framework.family
        and not framework.reviewer_form
        and registry.latest(other).family == framework.family
        and registry.latest(other).reviewer_form
    ]
    family_returns = {form.id: histories(store.returns(form.id)) for form in family_forms}
    carried: dict[str, Carried] = {}
    for school in schools:
        key = school_key(school.name, school.urn)
        history = grouped.get((framework.id, key))
        if history is None:
            continue
        name = earlier_round(history, round_name, from_round)
        if name is None:
            continue
        family = [
            (form, found)
            for form in family_forms
            if (found := family_returns[form.id].get((form.id, key))) is not None
        ]
        own = _own(history, name, role)
        cover = {
            field.id: own.cover[field.id]
            for field in framework.cover
            if field.role == "personnel" and own.cover.get(field.id)
        }
        carried[key] = Carried(
            round=name,
            levels=_levels(framework, history, name),
            cover=cover,
            actions=_actions(framework, history, name, role, family),
        )
    return carried


def carried_in_workspace(
    workspace: Workspace,
    registry: Registry,
    framework: Framework,
    schools: Iterable[School],
    round_name: str,
    *,
    from_round: str | None = None,
    judge: Judge | None = None,
) -> dict[str, Carried]:
    """``generate --carry-forward``: ``carried_for`` read from the workspace's store, which must
    exist (asking never creates one)."""
    database = workspace.database
    if not database.exists():
        raise GenerateError(
            f"there is no {database.name} in {workspace.root}: --carry-forward reads the earlier "
            "returns from the workspace (give --workspace DIR)"
        )
    with Store(database) as store:
        return carried_for(
            store, registry, framework, schools, round_name, from_round=from_round, judge=judge
        )
