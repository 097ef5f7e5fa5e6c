"""Raw values -> a validated return plus a report of typed issues (codes, locations, messages).

Like the DfE's COLLECT, errors (must be fixed; the return is rejected) are kept apart from
queries (warnings a school can explain; the return is accepted with them).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from .frameworks import Framework, Registry
from .read import RawReturn
from .report import FileReport, Issue

Judge = Literal["self-evaluation", "external-review", "peer-review"]


class ValidReturn(BaseModel):
    """A return whose content has been checked: what the store keeps."""

    template_id: str
    template_version: str
    school: str
    urn: str | None = None
    trust: str | None = None
    review_date: date
    judge: Judge = "self-evaluation"
    # every cover field id -> its value as text ("" when blank)
    cover: dict[str, str] = Field(default_factory=dict)
    # every judged statement id -> the level code ("Beg", "Sec", ...) or None when not judged
    judgements: dict[str, str | None] = Field(default_factory=dict)
    # every non-blank free-text answer: "<statement id>.<column id>" or "<box id>" -> text
    texts: dict[str, str] = Field(default_factory=dict)
    warnings: list[Issue] = Field(default_factory=list)


def check_file(path: Path, registry: Registry) -> tuple[FileReport, ValidReturn | None]:
    """guard -> read -> validate, changing nothing: what ``sheet-tools validate`` prints.

    The report's status is "accepted" or "rejected" and it carries the file's SHA-256."""
    raise NotImplementedError


def validate_return(raw: RawReturn, framework: Framework) -> tuple[ValidReturn | None, list[Issue]]:
    """Check the content of a read return; None when any issue is an error."""
    raise NotImplementedError
