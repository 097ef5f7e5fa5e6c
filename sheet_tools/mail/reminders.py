"""Reminders: who has not returned a round yet, and the messages that chase them.

A school is outstanding for a round and framework when it was issued a self-evaluation workbook
for it (the store's ``issued`` table; where nothing was recorded as issued for the round, every
roster school is) and has no accepted return for it now: a withdrawn return does not count, and
where a round has several roles only the school's own self-evaluation does. A school owes only
the forms the roster says it takes, and never a reviewer's (a report, a follow-up visit). Each
outstanding school gets one reminder per framework, and each trust contact (the roster's
``trust_email``) one digest listing exactly its outstanding schools, neither more often than
``remind_every_days``: the last time is the reminder's own row in the mail queue, kept by
``mail prune`` for as long."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ..base.clock import utc_now
from ..base.keys import school_key
from ..definitions.frameworks import Registry
from ..definitions.roster import School
from ..definitions.rounds import SELF, clean_round
from ..exceptions import SheetToolsError
from ..store.facade import Addressee, QueuedMail, Store
from .addressing import NO_ADDRESS, roster_school
from .settings import MailSettings


class ReminderError(SheetToolsError):
    """Reminders that cannot be worked out (no school is known to owe the round anything)."""


@dataclass(frozen=True)
class Outstanding:
    """A school owing a round a framework's return, with the roster's contacts."""

    school: str
    urn: str | None
    trust: str | None
    template_id: str
    framework: str
    email: str | None
    trust_email: str | None
    issue_id: str | None = None

    @property
    def school_and_form(self) -> tuple[str, str]:
        return (school_key(self.school, self.urn), self.template_id)


@dataclass
class ReminderPlan:
    """What ``mail remind`` would queue now; ``waiting`` were reminded within the interval."""

    round: str
    outstanding: list[Outstanding]
    # a message queued for the round since then is recent: not queued again (``queue_reminders``)
    since: datetime
    reminders: list[Addressee] = field(default_factory=list)
    digests: list[Addressee] = field(default_factory=list)
    waiting: list[tuple[Outstanding, datetime]] = field(default_factory=list)

    @property
    def messages(self) -> list[Addressee]:
        return [*self.reminders, *self.digests]


def outstanding(
    store: Store,
    registry: Registry,
    roster: Sequence[School] | None,
    round_name: str,
    template: str | None = None,
) -> list[Outstanding]:
    """The schools owing ``round_name`` a return, one row per school and framework."""
    round_name = clean_round(round_name)
    returned = store.returns(template, round=round_name, contents=False)
    done = set()
    for stored in returned:
        framework = registry.get(stored.template_id)
        if stored.judge == SELF or (framework is not None and framework.reviewer_form):
            done.add((stored.school_key, stored.template_id))
    issued = [
        item
        for item in store.issued(template)
        if item.round == round_name and item.judge in (None, SELF)
    ]
    wanted: dict[tuple[str, str], Outstanding] = {}
    if issued:
        for item in issued:
            listed = roster_school(roster or (), item.urn, item.school)
            if not owed_by_school(registry, item.template_id, listed):
                continue
            row = _row(item.school, item.urn, item.trust, item.template_id, listed, registry)
            wanted[row.school_and_form] = replace(row, issue_id=item.issue_id)
    else:
        templates = [template] if template else sorted({r.template_id for r in returned})
        if not roster or not templates:
            raise ReminderError(
                f"nothing was recorded as issued for {round_name}"
                + ("" if roster else " and there is no roster")
                + ("" if templates else "; say which form with --template")
            )
        for listed in roster:
            for template_id in templates:
                if not owed_by_school(registry, template_id, listed):
                    continue
                row = _row(listed.name, listed.urn, listed.trust, template_id, listed, registry)
                wanted.setdefault(row.school_and_form, row)
    found = [row for key, row in wanted.items() if key not in done]
    return sorted(found, key=lambda r: (r.school.casefold(), r.urn or "", r.template_id))


def owed_by_school(registry: Registry, template_id: str, listed: School | None) -> bool:
    """Whether a school owes a form's return: not a reviewer's form (the report, a follow-up
    visit), and one the roster says the school takes."""
    framework = registry.get(template_id)
    if framework is not None and framework.reviewer_form:
        return False
    return listed is None or listed.takes(template_id)


def _row(
    name: str,
    urn: str | None,
    trust: str | None,
    template_id: str,
    listed: School | None,
    registry: Registry,
) -> Outstanding:
    framework = registry.get(template_id)
    return Outstanding(
        school=listed.name if listed else name,
        urn=urn,
        trust=(listed.trust if listed and listed.trust else trust),
        template_id=template_id,
        framework=framework.title if framework is not None else template_id,
        email=listed.email if listed else None,
        trust_email=listed.trust_email if listed else None,
    )


def plan_reminders(
    store: Store,
    registry: Registry,
    roster: Sequence[School] | None,
    round_name: str,
    settings: MailSettings,
    *,
    template: str | None = None,
    now: datetime | None = None,
) -> ReminderPlan:
    """The reminders and digests due now for a round (nothing is queued here)."""
    round_name = clean_round(round_name)
    moment = now or utc_now()
    every = timedelta(days=settings.remind_every_days)
    owing = outstanding(store, registry, roster, round_name, template)
    last: dict[tuple[str, str], datetime] = {}
    for row in store.mail.reminders(round_name):
        key = reminder_key(row)
        last[key] = max(last.get(key, row.queued_at), row.queued_at)
    plan = ReminderPlan(round=round_name, outstanding=owing, since=moment - every)
    for school in owing:
        before = last.get(school.school_and_form)
        if before is not None and moment - before < every:
            plan.waiting.append((school, before))
            continue
        plan.reminders.append(
            Addressee(
                recipient=school.email or None,
                reason="" if school.email else NO_ADDRESS,
                school=school.school,
                urn=school.urn,
                issue_id=school.issue_id,
                round=round_name,
                kind="reminder",
                payload={"template": school.template_id, "framework": school.framework},
            )
        )
    by_contact: dict[str, list[Outstanding]] = defaultdict(list)
    for school in owing:
        if school.trust_email:
            by_contact[school.trust_email.strip()].append(school)
    for contact, schools in sorted(by_contact.items()):
        before = last.get(("digest", contact.casefold()))
        if before is not None and moment - before < every:
            continue
        trusts = sorted({s.trust for s in schools if s.trust}, key=str.casefold)
        plan.digests.append(
            Addressee(
                recipient=contact,
                school=", ".join(trusts) or None,
                round=round_name,
                kind="digest",
                payload={
                    "trust": ", ".join(trusts) or "your trust",
                    "count": str(len(schools)),
                    "schools": "\n".join(_listed(s) for s in schools),
                    "every": str(settings.remind_every_days),
                },
            )
        )
    return plan


def _listed(school: Outstanding) -> str:
    urn = f" (URN {school.urn})" if school.urn else ""
    note = "" if school.email else f"; not reminded: {NO_ADDRESS}"
    return f"- {school.school}{urn}: {school.framework}{note}"


def reminder_key(item: Addressee | QueuedMail) -> tuple[str, str]:
    """What a reminder is about, to send it once per interval: the school and form, or for a
    digest its trust contact."""
    if item.kind == "reminder":
        return (school_key(item.school, item.urn), str(item.payload.get("template", "")))
    return ("digest", (item.recipient or "").casefold())


def queue_reminders(store: Store, plan: ReminderPlan) -> int:
    """Queue a plan's messages in one transaction, less any queued since the plan was made
    (by another process planning at the same time); how many were queued."""
    return len(store.mail.add_reminders(plan.messages, plan.round, plan.since, reminder_key))
