"""The reference workbooks: how each is built, from fixed inputs, with the library's own functions.

Every input is fixed (names, URNs, dates, judgements, texts, arrival times, file hashes), so the
same code builds the same workbooks; the only readings of the clock left are the ones the
comparer blanks (see ``tests/support/xlsx_compare.py``).

``python -m tests.support.reference_cases --write DIR`` builds them all into DIR (the determinism
test runs it in another process); ``python -m tests.support.xlsx_compare --regenerate`` rewrites
the committed references after printing how they changed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path

from sheet_tools.base.files import save_workbook

# Every name taken from sheet_tools, in one place, so a move inside the package is one edit here.
from sheet_tools.definitions.frameworks import Framework, load_framework, load_registry
from sheet_tools.definitions.roster import make_school
from sheet_tools.generate.workbook import build_workbook, issue_for
from sheet_tools.intake.returns import ValidReturn
from sheet_tools.store.facade import Rejection, Store
from sheet_tools.summarise import summarise_workspace

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"
FRAMEWORKS_DIR = REFERENCE_DIR / "frameworks"
TINY_FRAMEWORK = FRAMEWORKS_DIR / "reference-review.toml"
VERSIONS_FILE = "versions.json"
# The libraries whose output the references hold; recorded at regeneration, shown on failure.
LIBRARIES = ("openpyxl", "XlsxWriter", "matplotlib", "pillow")

TRUST = "Northern Lights Learning Trust"
ROUND_1 = date(2026, 3, 10)
ROUND_2 = date(2026, 10, 3)
JUDGE_COVER = {"self-evaluation": "Self-evaluation", "external-review": "External reviewer"}


# --- workbooks schools receive -------------------------------------------------------------------
def _generated(framework: Framework, name: str, urn: str | None, trust: str | None) -> bytes:
    """As ``generate`` writes it, with a fixed issue id (a new workbook gets a random one)."""
    issued = issue_for(framework, "Autumn 2026", None).model_copy(update={"issue_id": "0" * 32})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "workbook.xlsx"
        save_workbook(build_workbook(framework, make_school(name, urn, trust), issued), path)
        return path.read_bytes()


def tiny_workbook() -> bytes:
    """The tiny framework's workbook, prefilled for one school."""
    framework = load_framework(TINY_FRAMEWORK)
    return _generated(framework, "Oakfield Primary School", "100001", TRUST)


def follow_up_workbook() -> bytes:
    """A bundled framework's workbook (the small free-text form); changes when its TOML does."""
    framework = load_registry().latest("send-review-follow-up")
    return _generated(framework, "Brook Lane Academy", None, None)


# --- summaries schools and trusts receive --------------------------------------------------------
def _return(
    framework: Framework,
    school: str,
    urn: str,
    review_date: date,
    judge: str,
    judgements: dict[str, str | None],
    texts: dict[str, str],
) -> ValidReturn:
    return ValidReturn(
        template_id=framework.id,
        template_version=framework.version,
        school=school,
        urn=urn,
        trust=TRUST,
        review_date=review_date,
        judge=judge,
        cover={
            "school": school,
            "urn": urn,
            "trust": TRUST,
            "review_date": review_date.isoformat(),
            "judge": JUDGE_COVER[judge],
            "personnel": "SENCO; deputy head",
        },
        judgements=judgements,
        texts=texts,
    )


def _returns(framework: Framework) -> list[ValidReturn]:
    """Two schools: one with two rounds and a reviewer's judgement, one with blanks."""
    oak, brook = ("Oakfield Primary School", "100001"), ("Brook Lane Academy", "100002")
    return [
        _return(
            framework,
            *oak,
            ROUND_1,
            "self-evaluation",
            {"L1": "Beg", "L2": "Dev", "L3": "Dev", "T1": "Beg", "T2": "Dev"},
            {"L.next_steps": "Train governors on SEND funding."},
        ),
        _return(
            framework,
            *oak,
            ROUND_2,
            "self-evaluation",
            {"L1": "Sec", "L2": "Dev", "L3": "Emb", "T1": "Sec", "T2": "Sec"},
            {
                "L1.evidence": "Provision map reviewed termly.\nPupil passports in every class.",
                "L.strengths": "A SENCO on the senior team.",
                "L.next_steps": "=Report to governors each term",  # text that looks like a formula
                "T.next_steps": "Coaching for teaching assistants.",
                "N.context": "Two new classes for pupils with autism.",
            },
        ),
        _return(
            framework,
            *oak,
            ROUND_2,
            "external-review",
            {"L1": "Sec", "L2": "Beg", "L3": "Sec", "T1": "Dev", "T2": "Sec"},
            {"L.next_steps": "Governors to visit SEND lessons.", "T.next_steps": "Adapt tasks."},
        ),
        _return(
            framework,
            *brook,
            ROUND_2,
            "self-evaluation",
            {"L1": "Emb", "L2": None, "L3": "Sec", "T1": None, "T2": "Dev"},
            {"T.next_steps": "Review deployment of support staff."},
        ),
    ]


def _arrival(minutes: int) -> datetime:
    return datetime(2026, 10, 5, 9, 0, tzinfo=UTC).replace(minute=minutes)


def build_summaries() -> dict[str, bytes]:
    """A school summary and a trust summary, from returns in a real store in a workspace."""
    framework = load_framework(TINY_FRAMEWORK)
    registry = load_registry(FRAMEWORKS_DIR)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "roster.csv").write_text(
            "school,urn,trust\n"
            f"Oakfield Primary School,100001,{TRUST}\n"
            f"Brook Lane Academy,100002,{TRUST}\n"
            f"Hill Top School,100003,{TRUST}\n"
            f"Meadow View School,100004,{TRUST}\n",
            encoding="utf-8",
        )
        with Store(root / "sheet-tools.db") as store:
            for number, valid in enumerate(_returns(framework), start=1):
                status, _ = store.add_return(
                    valid,
                    sha256=f"{number:064x}",
                    file_name=f"{valid.school} {valid.judge} {valid.review_date}.xlsx",
                    arrived_at=_arrival(number * 7),
                )
                assert status == "accepted", status
            store.add_rejection(
                Rejection(
                    file_name="Hill Top School.xlsx",
                    sha256=f"{99:064x}",
                    arrived_at=_arrival(45),
                    template_id=framework.id,
                    school="Hill Top School",
                    urn="100003",
                    trust=TRUST,
                    reason="The review date is missing.",
                )
            )
        written = summarise_workspace(root, registry, workers=1)
        by_name = {path.name: path.read_bytes() for path in written}
    return {
        "school-summary.xlsx": by_name["Oakfield Primary School (100001) - reference-review.xlsx"],
        "trust-summary.xlsx": by_name[f"{TRUST} - reference-review - trust summary.xlsx"],
    }


def build_all() -> dict[str, bytes]:
    """Every reference workbook by file name under tests/reference/."""
    return {
        "workbook-reference-review.xlsx": tiny_workbook(),
        "workbook-send-review-follow-up.xlsx": follow_up_workbook(),
        **build_summaries(),
    }


CASES: tuple[str, ...] = (
    "workbook-reference-review.xlsx",
    "workbook-send-review-follow-up.xlsx",
    "school-summary.xlsx",
    "trust-summary.xlsx",
)


# --- regenerating ---------------------------------------------------------------------------------
def library_versions() -> dict[str, str]:
    found = {"python": ".".join(map(str, sys.version_info[:2]))}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def versions_hint(directory: Path = REFERENCE_DIR) -> str:
    """Which libraries changed since the references were made: the likely cause of a failure."""
    try:
        recorded = json.loads((directory / VERSIONS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    now = library_versions()
    changed = [f"{k} {recorded[k]} -> {now.get(k)}" for k in recorded if recorded[k] != now.get(k)]
    if not changed:
        return ""
    return "The references were made with other library versions: " + ", ".join(changed)


def regenerate(
    directory: Path = REFERENCE_DIR, *, max_lines: int = 60, out: Callable[[str], None] = print
) -> dict[str, str]:
    """Rewrite the references that changed, printing each diff: review it before committing.
    One that compares equal is left as it is, so git sees no change. Returns name -> outcome."""
    from tests.support.xlsx_compare import compare_xlsx, format_differences

    outcomes: dict[str, str] = {}
    for name, data in build_all().items():
        target = directory / name
        differences = compare_xlsx(data, target) if target.exists() else []
        outcome = "new" if not target.exists() else "changed" if differences else "unchanged"
        out(f"{name}: {outcome}")
        if differences:
            out(format_differences(differences, max_lines))
        if outcome != "unchanged":
            target.write_bytes(data)
        outcomes[name] = outcome
    (directory / VERSIONS_FILE).write_text(
        json.dumps(library_versions(), indent=2) + "\n", encoding="utf-8"
    )
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.reference_cases")
    parser.add_argument("--write", type=Path, required=True, help="folder to build them into")
    args = parser.parse_args(argv)
    args.write.mkdir(parents=True, exist_ok=True)
    for name, data in build_all().items():
        (args.write / name).write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
