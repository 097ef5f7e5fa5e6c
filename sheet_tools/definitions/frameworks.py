"""Framework definitions: the data a workbook is generated from and a return is read against.

A framework lives in one TOML file under ``workbook_templates/`` so that a trust can edit it by
hand. Older versions stay loadable (kept under ``workbook_templates/versions/``) because a school
may send back a workbook generated months ago. The bundled definitions are installed inside the
package, as ``sheet_tools.workbook_templates`` (see pyproject.toml), and found through
``importlib.resources``: a wheel, pipx or ``pip install .`` carries them, not only a checkout.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from functools import cached_property
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..base.keys import bare, squash
from ..exceptions import FrameworkError

# The bundled definitions: the repository's workbook_templates/, installed as this package.
TEMPLATES_PACKAGE = "sheet_tools.workbook_templates"

ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]*$"
# Characters Excel refuses in a sheet name, and its length limit.
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31

CoverRole = Literal["school", "urn", "trust", "review_date", "judge", "personnel", "other"]
FieldKind = Literal["text", "date", "choice", "urn"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(Strict):
    """One point on the judgement scale."""

    code: str = Field(min_length=1, max_length=12)
    label: str = Field(min_length=1, max_length=80)
    score: int
    colour: str = Field(pattern=r"^[0-9A-Fa-f]{6}$", description="Fill colour, RRGGBB")


DEFAULT_SCALE: tuple[Level, ...] = (
    # RdBu from ColorBrewer, light tints: distinguishable with the common colour-vision
    # deficiencies and dark text stays readable on every one of them.
    Level(code="Beg", label="Beginning", score=1, colour="F4A582"),
    Level(code="Dev", label="Developing", score=2, colour="FDDBC7"),
    Level(code="Sec", label="Secure", score=3, colour="D1E5F0"),
    Level(code="Emb", label="Embedded", score=4, colour="92C5DE"),
)


# "Not applicable": where a framework allows it (``not_applicable = true``), a judgement that a
# statement does not apply to this provision. It is not a level: it has no score, is left out of
# every score and average, and is counted apart from a blank ("not yet discussed").
NOT_APPLICABLE_CODE = "N/A"  # what the store keeps
NOT_APPLICABLE_LABEL = "Not applicable"  # what the drop-down offers and summaries show
NOT_APPLICABLE_COLOUR = "D9D9D9"  # a neutral grey, apart from every level's colour
# What a person may type for it, once case, spaces and punctuation are dropped ("N/A", "n.a.").
_NOT_APPLICABLE_WORDS = frozenset({"na", "notapplicable"})


class CoverField(Strict):
    id: str = Field(pattern=ID_PATTERN)
    label: str = Field(min_length=1)
    role: CoverRole = "other"
    kind: FieldKind = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""

    @model_validator(mode="after")
    def _choices_match_kind(self) -> CoverField:
        if self.kind == "choice" and not self.choices:
            raise ValueError("a 'choice' field needs a list of choices")
        if self.kind != "choice" and self.choices:
            raise ValueError("choices are only allowed on a field of kind 'choice'")
        return self


class Statement(Strict):
    id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1)


class TextColumn(Strict):
    """A free-text column beside every statement row (evidence, strengths, recommendations)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    width: int = Field(default=40, ge=8, le=120)


class TextBox(Strict):
    """A free-text box below a sheet's statements ("Areas of strength", "Next steps")."""

    id: str = Field(pattern=ID_PATTERN)
    label: str = Field(min_length=1)
    role: Literal["strengths", "next_steps", "context", "other"] = "other"
    lines: int = Field(default=6, ge=1, le=40)


class Sheet(Strict):
    """One worksheet: an area of a framework or a section of a form."""

    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    sheet_name: str = Field(min_length=1, max_length=SHEET_NAME_MAX)
    intro: str = ""
    judged: bool = True
    statement_heading: str = "Statement"
    statements: tuple[Statement, ...] = ()
    columns: tuple[TextColumn, ...] = ()
    boxes: tuple[TextBox, ...] = ()

    @field_validator("sheet_name")
    @classmethod
    def _valid_sheet_name(cls, name: str) -> str:
        if SHEET_NAME_FORBIDDEN.search(name) or name.startswith("'") or name.endswith("'"):
            raise ValueError(f"{name!r} is not a valid Excel sheet name")
        return name

    @model_validator(mode="after")
    def _has_content(self) -> Sheet:
        if not self.statements and not self.boxes:
            raise ValueError("a sheet needs statements or boxes")
        if self.judged and not self.statements:
            raise ValueError("a judged sheet needs statements")
        return self


RESERVED_SHEET_NAMES = ("Cover", "About", "Lists")


class Framework(Strict):
    """A whole review framework, as loaded from one definition file."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: str = Field(pattern=r"^\d+(\.\d+)*$")
    title: str = Field(min_length=1)
    short_title: str = Field(min_length=1, max_length=40)
    source: str = ""
    instructions: str = Field(min_length=1)
    scale: tuple[Level, ...] = DEFAULT_SCALE
    # the judgement drop-down also offers "Not applicable" (left out of every score)
    not_applicable: bool = False
    # Forms of one review that belong together in a round (the SEND Diagnostic Review's
    # self-evaluation, report and follow-up visits share a family), and this form's part in it:
    # a "report" and "follow-up" visits are the reviewer's; a round may hold several follow-ups.
    family: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*$")
    part: Literal["review", "report", "follow-up"] = "review"
    cover: tuple[CoverField, ...]
    sheets: tuple[Sheet, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Framework:
        ids: list[str] = [f.id for f in self.cover]
        for sheet in self.sheets:
            ids.append(sheet.id)
            ids.extend(s.id for s in sheet.statements)
            ids.extend(b.id for b in sheet.boxes)
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"ids must be unique within a framework; repeated: {', '.join(dupes)}")
        names = [s.sheet_name.casefold() for s in self.sheets]
        names += [n.casefold() for n in RESERVED_SHEET_NAMES]
        if len(set(names)) != len(names):
            raise ValueError("sheet names must be unique and not Cover, About or Lists")
        if len(
            {lv.code.casefold() for lv in self.scale} | {lv.label.casefold() for lv in self.scale}
        ) != 2 * len(self.scale):
            raise ValueError("scale codes and labels must all be different")
        if len({lv.score for lv in self.scale}) != len(self.scale):
            raise ValueError("scale scores must all be different")
        if self.not_applicable and any(
            bare(word) in _NOT_APPLICABLE_WORDS for lv in self.scale for word in (lv.code, lv.label)
        ):
            raise ValueError("with not_applicable, no scale level may be called Not applicable")
        roles = [f.role for f in self.cover if f.role != "other"]
        if len(roles) != len(set(roles)):
            raise ValueError("each cover role (school, urn, trust, ...) may be used once")
        if "school" not in roles:
            raise ValueError("the cover needs a field with role 'school'")
        return self

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def reviewer_form(self) -> bool:
        """Completed by a reviewer, never the school (a report, a follow-up visit)."""
        return self.part != "review"

    @property
    def judged(self) -> bool:
        return any(s.judged for s in self.sheets)

    def cover_field(self, role: CoverRole) -> CoverField | None:
        return next((f for f in self.cover if f.role == role), None)

    def statements(self) -> Iterator[tuple[Sheet, Statement]]:
        for sheet in self.sheets:
            for statement in sheet.statements:
                yield sheet, statement

    def judged_statements(self) -> Iterator[tuple[Sheet, Statement]]:
        return ((sh, st) for sh, st in self.statements() if sh.judged)

    # --- the scale's meaning: every stage asks the framework, none works it out itself ---------
    @cached_property
    def levels(self) -> tuple[Level, ...]:
        """The scale's levels, lowest score first."""
        return tuple(sorted(self.scale, key=lambda level: level.score))

    @cached_property
    def _level_words(self) -> dict[str, Level]:
        words: dict[str, Level] = {}
        for level in self.levels:
            words[squash(level.code)] = level
            words[squash(level.label)] = level
        return words

    @cached_property
    def _levels_seen(self) -> dict[str, Level | None]:
        return {}

    def level(self, value: object) -> Level | None:
        """The level a typed or stored judgement names: its code or label, ignoring case and
        spacing. None for a blank, a number or anything else."""
        if not isinstance(value, str):
            return None
        seen = self._levels_seen
        if value in seen:  # a rebuild asks this hundreds of thousands of times
            return seen[value]
        found = self._level_words.get(squash(value))
        if len(seen) < 1000:  # judgements are a handful of codes; never grow without bound
            seen[value] = found
        return found

    def is_not_applicable(self, value: object) -> bool:
        """Whether a typed or stored judgement is "Not applicable" ("N/A", "na", any case), on a
        framework that allows it; on any other it is no judgement at all."""
        if not self.not_applicable or not isinstance(value, str):
            return False
        seen = self._not_applicable_seen
        found = seen.get(value)
        if found is None:  # a rebuild asks this for every statement of every return
            found = bare(value) in _NOT_APPLICABLE_WORDS
            if len(seen) < 1000:  # a handful of spellings; never grow without bound
                seen[value] = found
        return found

    @cached_property
    def _not_applicable_seen(self) -> dict[str, bool]:
        return {}

    @property
    def choices(self) -> tuple[str, ...]:
        """What the judgement drop-down offers, in order: the levels, then Not applicable (a
        plain property: ``model_copy`` would carry a cached one over stale)."""
        labels = tuple(level.label for level in self.scale)
        return (*labels, NOT_APPLICABLE_LABEL) if self.not_applicable else labels

    def level_words(self) -> list[str]:
        """Every code and label, squashed: what a near miss is compared with."""
        return list(self._level_words)

    def level_for_word(self, word: str) -> Level:
        return self._level_words[word]

    @cached_property
    def secure_score(self) -> int:
        """The lowest score counted as "Secure or better": the level called Secure, or on a
        scale without one, the upper half of the levels."""
        for level in self.levels:
            if level.label.casefold() == "secure" or level.code.casefold() == "sec":
                return level.score
        return self.levels[len(self.levels) // 2].score

    @cached_property
    def priority_levels(self) -> tuple[Level, ...]:
        """The levels below Secure (Beginning, Developing): a school's priorities, which call
        for next steps."""
        return tuple(level for level in self.levels if level.score < self.secure_score)

    @property
    def top_level(self) -> Level:
        return self.levels[-1]


def _describe(error: ValidationError, path: Path) -> str:
    lines = [f"{path}: {error.error_count()} problem(s) in the framework definition"]
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {location}: {item['msg']}")
    return "\n".join(lines)


def load_framework(path: Path | str) -> Framework:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise FrameworkError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FrameworkError(f"{path}: cannot be read: {exc}") from None
    try:
        return Framework.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(_describe(exc, path)) from None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class Registry:
    """Every loadable framework version, by id; the newest version is the one generated."""

    def __init__(self, frameworks: Iterable[Framework]) -> None:
        self._by_key: dict[str, Framework] = {}
        for framework in frameworks:
            if framework.key in self._by_key:
                raise FrameworkError(f"{framework.key} is defined twice")
            self._by_key[framework.key] = framework

    def ids(self) -> list[str]:
        return sorted({f.id for f in self._by_key.values()})

    def versions(self, framework_id: str) -> list[str]:
        found = [f.version for f in self._by_key.values() if f.id == framework_id]
        return sorted(found, key=_version_key)

    def latest(self, framework_id: str) -> Framework:
        versions = self.versions(framework_id)
        if not versions:
            raise KeyError(framework_id)
        return self._by_key[f"{framework_id}@{versions[-1]}"]

    def get(self, framework_id: str, version: str | None = None) -> Framework | None:
        if version is None:
            return self.latest(framework_id) if self.versions(framework_id) else None
        return self._by_key.get(f"{framework_id}@{version}")

    def require(self, framework_id: str) -> Framework:
        """The newest version of ``framework_id``; an unknown id is an error naming the known."""
        framework = self.get(framework_id)
        if framework is None:
            known = ", ".join(self.ids())
            raise FrameworkError(f"no template {framework_id!r}; known templates: {known}")
        return framework

    def __iter__(self) -> Iterator[Framework]:
        return iter(sorted(self._by_key.values(), key=lambda f: (f.id, _version_key(f.version))))

    def __len__(self) -> int:
        return len(self._by_key)


def bundled_templates() -> Traversable:
    """The framework definitions installed with the package (a folder in every pip install,
    editable or not), so nothing depends on where a checkout happens to be."""
    try:
        return files(TEMPLATES_PACKAGE)
    except ModuleNotFoundError:
        raise FrameworkError(
            f"the bundled framework definitions ({TEMPLATES_PACKAGE}) are not installed: "
            "install sheet-tools with pip, or give a folder of definitions with --templates DIR "
            "or SHEET_TOOLS_TEMPLATES"
        ) from None


def load_registry(directory: Path | str | None = None) -> Registry:
    """Load every ``*.toml`` below ``directory`` (current versions and ``versions/``), by default
    the bundled definitions. A missing or empty folder is an error, not an empty registry: every
    command would otherwise quietly find no frameworks."""
    if directory is not None:
        return _load_folder(Path(directory))
    with as_file(bundled_templates()) as root:
        return _load_folder(root)


def _load_folder(root: Path) -> Registry:
    if not root.is_dir():
        raise FrameworkError(f"{root}: no such folder of framework definitions")
    paths = sorted(root.rglob("*.toml"))
    if not paths:
        raise FrameworkError(f"{root}: no framework definitions (*.toml files) in this folder")
    return Registry(load_framework(p) for p in paths)
