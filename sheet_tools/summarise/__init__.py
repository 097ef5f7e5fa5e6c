"""Stored returns -> the summary workbooks schools and trusts receive.

One part of the output per module, as XlsxWriter lays itself out:

- ``scores``: what judgements add up to, and which returns count (histories, rounds, trusts);
- ``cells``: the writing primitives and styles every sheet uses;
- ``sheets``: what both workbooks share (Responses, Provenance);
- ``school``: one school's workbook;
- ``trust``: a trust's consolidated workbook;
- ``overview``: the trust workbook's first sheet, the round at a glance;
- ``outbox``: where files go, and keeping the outbox to what the store and roster call for;
- ``rebuild``: what each rebuild writes, from which returns; the entry points below;
- ``writing``: the jobs that write the files, and those to be tried again.
"""

from .outbox import school_chart_path, school_summary_path, trust_summary_path
from .rebuild import (
    summarise_affected,
    summarise_all,
    summarise_returns,
    summarise_workspace,
)
from .school import DATA_HEADERS, build_school_workbook
from .scores import NO_TRUST, area_scores, trust_area_means
from .trust import build_trust_workbook

__all__ = [
    "DATA_HEADERS",
    "NO_TRUST",
    "area_scores",
    "build_school_workbook",
    "build_trust_workbook",
    "school_chart_path",
    "school_summary_path",
    "summarise_affected",
    "summarise_all",
    "summarise_returns",
    "summarise_workspace",
    "trust_area_means",
    "trust_summary_path",
]
