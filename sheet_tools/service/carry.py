"""The store -> what each school's next workbook starts from (``generate --carry-forward``).

The generator never reads the store, so this later stage builds a plain ``Carried`` per school
from the earlier round's accepted returns: each statement's level (the reviewer's where a reviewer
judged it, else the school's own) and whose it is, the personnel named on the cover, and the
action plan. For a framework on its own the plan is the round's next steps per area; for the SEND
Diagnostic Review it is the report's recommendations one row each and the latest follow-up
visit's action points one per numbered or bulleted line, while the areas for development (of
the reviewer and the school) are problems, not actions, and are carried as context. Then any
earlier action not yet Done or Dropped. A form without actions (a report, a visit) carries its
cover's personnel only. A school not carried gets a reason the command prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from ..base.clock import today, uk_date
from ..base.keys import school_key
from ..base.workspace import Workspace
from ..definitions.carried import CLOSED_STATUSES, Action, Carried, Noted
from ..definitions.frameworks import Framework, Registry
from ..definitions.roster import School
from ..definitions.rounds import (
    REVIEWERS,
    SELF,
    Judge,
    clean_round,
    likely_round,
    round_start,
)
from ..exceptions import GenerateError
from ..store.facade import Store, StoredReturn
from ..summarise.review import companions_of, recommendations
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


def _by(judge: str) -> str:
    """Whose a level or a text is, as the workbook says it."""
    return "School" if judge == SELF else "Reviewer"


def _levels(
    framework: Framework, history: SchoolHistory, name: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Per statement: the reviewer's level where one judged it, else the school's own; and
    whose each is."""
    returns = [
        (judge, found[-1])
        for judge in (*REVIEWERS, SELF)
        if (found := history.in_round(name, judge))
    ]
    levels: dict[str, str] = {}
    level_by: dict[str, str] = {}
    for _, statement in framework.judged_statements():
        for judge, stored in returns:
            code = stored.judgements.get(statement.id)
            if code:
                levels[statement.id] = code
                level_by[statement.id] = _by(judge)
                break
    return levels, level_by


def _own(history: SchoolHistory, name: str, judge: Judge) -> StoredReturn:
    """The round's return by the role the new workbook is for, else its primary one."""
    found = history.in_round(name, judge)
    return found[-1] if found else history.primary(name)


# A line that starts an item of a list: "1." "1)" "(1)" "a)", a sub-number before a capital as
# school plans number them ("1.2 Train staff"), or a bullet "-" "•" "*" "–" and a space. A number
# running on ("3.5 hours", "10.30 on Tuesday") continues the line before it.
_MARKER = re.compile(
    r"^\s*(?:\(\d{1,3}\)|\d{1,2}\.\d{1,2}\.?(?=\s+[A-Z])|\d{1,3}[.)](?!\d)|[A-Za-z]\)"
    r"|[-•*–](?=\s))\s*"
)


def split_points(text: str) -> list[str]:
    """A box of action points as its items: each numbered or bulleted line starts an item (its
    marker dropped), a line without one continues the item before it. Text with no marker at
    all is one item."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not any(_MARKER.match(line) for line in lines):
        return [text.strip()] if text.strip() else []
    items: list[str] = []
    for line in lines:
        marker = _MARKER.match(line)
        body = line[marker.end() :].strip() if marker else line
        if marker or not items:
            items.append(body)
        elif body:
            items[-1] = f"{items[-1]} {body}"
    return [item for item in items if item]


def carries_plan(framework: Framework) -> bool:
    """Whether a framework's workbook has actions to carry: not a form without them (a report,
    a visit), and judgements or next steps to start from."""
    return not framework.reviewer_form and (
        framework.judged or bool(boxes_with_role(framework, "next_steps"))
    )


def _noted(framework: Framework, history: SchoolHistory, name: str) -> list[Noted]:
    """The Diagnostic Review's areas for development, the reviewer's then the school's."""
    noted: list[Noted] = []
    for judge in (*REVIEWERS, SELF):
        found = history.in_round(name, judge)
        if not found:
            continue
        for sheet, boxes in boxes_with_role(framework, "next_steps"):
            text = box_text(found[-1], boxes)
            if text:
                noted.append(Noted(area=sheet.title, text=text, by=_by(judge)))
    return noted


def _actions(
    framework: Framework,
    history: SchoolHistory,
    name: str,
    judge: Judge,
    family: list[tuple[Framework, SchoolHistory]],
) -> list[Action]:
    items: list[tuple[str, str]] = []  # (action, area)
    if not framework.family:  # a framework on its own: its next steps are the actions
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
        area = f"Follow-up visit, {uk_date(visit.review_date)}"
        for _, boxes in boxes_with_role(visit_form, "next_steps"):
            items += [(point, area) for point in split_points(box_text(visit, boxes))]
    actions = [
        Action(id=f"A{n:02d}", action=text, area=area) for n, (text, area) in enumerate(items, 1)
    ]
    earlier = _own(history, name, judge).actions or []
    for item in earlier:
        if item.status not in CLOSED_STATUSES:
            number = len(actions) + 1
            actions.append(item.model_copy(update={"id": f"A{number:02d}"}))
    return actions


def why_not_carried(
    school: School, history: SchoolHistory | None, round_name: str, from_round: str | None
) -> str:
    """Why a school's workbook starts from nothing, as the command prints it."""
    if history is None:
        if not (school.urn or "").strip():
            return (
                f"{school.name}: no URN given (earlier returns are matched by the school's URN: "
                "give --urn, or add it to the roster)"
            )
        return f"{school.name}: no accepted return from this school in any round"
    if from_round is not None:
        wanted = clean_round(from_round)
        why = f"{school.name}: no accepted return in {wanted}"
        guess = likely_round(wanted, history.rounds, today=today())
        if guess in history.rounds:
            why += f" (did you mean {guess}?)"
        return why
    return f"{school.name}: no accepted return in a round before {round_name}"


@dataclass(frozen=True)
class CarryForward:
    """What ``--carry-forward`` found: by ``keys.school_key`` what each school's workbook starts
    from, why each other school's does not (by the same key), and whether the framework has an
    action plan to carry (False: a form without actions, which carries its cover only)."""

    carried: dict[str, Carried] = field(default_factory=dict)
    not_carried: dict[str, str] = field(default_factory=dict)
    plan: bool = True


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
) -> CarryForward:
    """What each school's workbook for ``round_name`` starts from; a school with no accepted
    return in an earlier round (or in ``from_round``) is not carried, with the reason."""
    round_name = clean_round(round_name)
    role: Judge = judge or SELF
    schools = list(schools)
    keys = [school_key(school.name, school.urn) for school in schools]
    grouped = histories(_returns(store, framework.id, keys))
    plan = carries_plan(framework)
    family_forms = [
        registry.latest(other)
        for other in registry.ids()
        if framework.family
        and plan
        and registry.latest(other).family == framework.family
        and registry.latest(other).reviewer_form
    ]
    family_returns = {form.id: histories(store.returns(form.id)) for form in family_forms}
    found = CarryForward(plan=plan)
    for school in schools:
        key = school_key(school.name, school.urn)
        history = grouped.get((framework.id, key))
        name = None if history is None else earlier_round(history, round_name, from_round)
        if history is None or name is None:
            found.not_carried[key] = why_not_carried(school, history, round_name, from_round)
            continue
        own = _own(history, name, role)
        cover = {
            field.id: own.cover[field.id]
            for field in framework.cover
            if field.role == "personnel" and own.cover.get(field.id)
        }
        if not plan:
            found.carried[key] = Carried(round=name, cover=cover, action_plan=False)
            continue
        family = [
            (form, held)
            for form in family_forms
            if (held := family_returns[form.id].get((form.id, key))) is not None
        ]
        levels, level_by = _levels(framework, history, name)
        found.carried[key] = Carried(
            round=name,
            levels=levels,
            level_by=level_by,
            cover=cover,
            actions=_actions(framework, history, name, role, family),
            noted=_noted(framework, history, name) if framework.family else [],
        )
    return found


def carried_in_workspace(
    workspace: Workspace,
    registry: Registry,
    framework: Framework,
    schools: Iterable[School],
    round_name: str,
    *,
    from_round: str | None = None,
    judge: Judge | None = None,
) -> CarryForward:
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
