"""The one return builder of the tests: a workbook filled in as a school would, with the sample
answers (``sheet_tools.demo``, shared with the demo and benchmarks) and whatever a test changes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from sheet_tools.definitions.frameworks import Framework
from sheet_tools.definitions.roster import School
from sheet_tools.demo import fill_workbook, make_return, sample_answers

__all__ = [
    "OAKFIELD",
    "all_judgements",
    "answers",
    "fill",
    "fill_workbook",
    "make_return",
    "random_answers",
    "valid_return",
]

OAKFIELD = School(name="Oakfield Primary", urn="123456", trust="North Star Trust")


def random_answers(framework: Framework, seed: int) -> dict[str, dict[str, object]]:
    """A complete set of answers: every statement judged, every box written."""
    sample = sample_answers(framework, seed)
    return {"judgements": sample.judgements, "texts": sample.texts, "cover": sample.cover}


def answers(framework: Framework, seed: int, **changes: dict) -> dict[str, dict[str, object]]:
    """The sample answers for ``seed`` with a test's ``judgements=``, ``texts=``, ``cover=``."""
    complete = random_answers(framework, seed)
    return {part: {**values, **changes.get(part, {})} for part, values in complete.items()}


def fill(workbook: Path, framework: Framework, out: Path, seed: int = 1, **changes: dict) -> Path:
    """An issued ``workbook`` filled completely (with ``changes``) and saved as ``out``."""
    return fill_workbook(workbook, framework, out=out, **answers(framework, seed, **changes))


def all_judgements(framework: Framework, labels: Iterable[str] | None = None) -> dict[str, str]:
    """A judgement for every judged statement, cycling through ``labels`` (default: the scale's
    labels), so a test knows exactly what it wrote."""
    cycle = list(labels or [level.label for level in framework.scale])
    statements = [st.id for _, st in framework.judged_statements()]
    return {sid: cycle[i % len(cycle)] for i, sid in enumerate(statements)}


def valid_return(
    framework: Framework,
    folder: Path,
    school: School = OAKFIELD,
    *,
    seed: int = 1,
    **overrides: dict[str, object],
) -> Path:
    """A completely filled return (``sheet_tools.demo.make_return``) in its own sub-folder;
    ``overrides`` are its judgements=, texts=, cover=."""
    folder.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix=f"return-{seed}-", dir=folder))
    return make_return(framework, target, school, seed=seed, **overrides)
