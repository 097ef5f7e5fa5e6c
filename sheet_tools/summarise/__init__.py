"""Stored returns -> the summary workbooks schools and trusts receive.

One part of the output per module, as XlsxWriter lays itself out:

- ``scores``: what judgements add up to, and which returns count (histories, rounds, trusts);
- ``cells``: the writing primitives and styles every sheet uses;
- ``sheets``: what both workbooks share (Responses, Provenance);
- ``school``: one school's workbook;
- ``trust``: a trust's consolidated workbook;
- ``overview``: the trust workbook's first sheet, the round at a glance;
- ``rebuild``: where files go, and the jobs that write them; the entry points below.
"""

from .rebuild import (
    school_chart_path,
    school_summary_path,
    summarise_affected,
    summarise_all,
    summarise_returns,
    summarise_workspace,
    trust_summary_path,
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
