"""Fill generated workbooks as a school would: the test corpus's valid returns.

The filling itself is the library's (``sheet_tools.demo``), shared with the demo and benchmarks.
"""

from __future__ import annotations

from sheet_tools.definitions.frameworks import Framework
from sheet_tools.demo import fill_workbook, make_return, sample_answers

__all__ = ["fill_workbook", "make_return", "random_answers"]


def random_answers(framework: Framework, seed: int) -> dict[str, dict[str, object]]:
    """A complete set of answers: every statement judged, every box written."""
    answers = sample_answers(framework, seed)
    return {"judgements": answers.judgements, "texts": answers.texts, "cover": answers.cover}
