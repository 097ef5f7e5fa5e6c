"""Every problem code sheet-tools can emit, registered once: its severity, a title, the message
template (and named variants where one code covers several situations) and the advice a school is
given. All that wording is in ``messages.toml`` beside this module, the one file to read or edit.

As in frictionless-py's ``errors``, callers pass only values (``Issue.of(code, variant=...,
**params)``): the sentence is always made here, so wording is consistent and lives in one file.
Templates never name the issue's location (sheet, cell, statement): the renderer shows it once.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from string import Formatter


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class MessageError(ValueError):
    """A message asked for with an unknown variant or without a parameter its template names: a
    programming error, caught by the tests."""


@dataclass(frozen=True)
class ProblemCode:
    """What one code means, wherever it is raised or shown.

    ``template`` and each of ``variants`` is a ``str.format`` template whose named fields are the
    values a caller passes (``value``, ``statement`` and code-specific parameters). ``advice``
    tells the school what to do; ``variant_advice`` replaces it for a variant that needs other
    advice. ``about_file`` marks checks on the file itself: a file failing one is not opened again
    to write an annotated copy.
    """

    code: str
    severity: Severity
    title: str
    template: str
    advice: str | None = None
    about_file: bool = False
    variants: Mapping[str, str] = field(default_factory=dict)
    variant_advice: Mapping[str, str] = field(default_factory=dict)

    def template_for(self, variant: str | None = None) -> str:
        if variant is None:
            return self.template
        try:
            return self.variants[variant]
        except KeyError:
            raise MessageError(f"{self.code}: no variant {variant!r}") from None

    def advice_for(self, variant: str | None = None) -> str:
        if variant is not None and variant in self.variant_advice:
            return self.variant_advice[variant]
        return self.advice or DEFAULT_ADVICE

    def fields(self, variant: str | None = None) -> set[str]:
        """The names a template asks for (``{rows:,}`` asks for ``rows``)."""
        parsed = Formatter().parse(self.template_for(variant))
        return {name.split(".")[0].split("[")[0] for _, name, _, _ in parsed if name}

    def message(self, variant: str | None = None, **values: object) -> str:
        template = self.template_for(variant)
        try:
            return template.format(**values)
        except (KeyError, IndexError) as exc:
            which = variant or "default"
            raise MessageError(f"{self.code} ({which}): no value for {exc}") from None


# The one table of messages.toml that is not a code: the phrases a report's renderings say.
PHRASES_TABLE = "phrases"


def _load(text: str) -> dict[str, ProblemCode]:
    found: dict[str, ProblemCode] = {}
    for code, entry in tomllib.loads(text).items():
        if code == PHRASES_TABLE:
            continue
        found[code] = ProblemCode(
            code=code,
            severity=Severity(entry["severity"]),
            title=entry["title"],
            template=entry["template"],
            advice=entry.get("advice"),
            about_file=entry.get("about_file", False),
            variants=entry.get("variants", {}),
            variant_advice=entry.get("variant_advice", {}),
        )
    return found


DEFAULT_ADVICE = "Please correct this and send the workbook again."
_TEXT = resources.files(__package__).joinpath("messages.toml").read_text(encoding="utf-8")
# Every code sheet-tools can emit, with its wording: messages.toml, beside this module.
CODES: dict[str, ProblemCode] = _load(_TEXT)
# The phrases (``str.format`` templates) a report's renderings say beside its status.
PHRASES: dict[str, str] = tomllib.loads(_TEXT)[PHRASES_TABLE]
