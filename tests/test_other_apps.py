"""Real files from other applications' public test suites (tests/data/other-apps/MANIFEST.md):
every report is held to what the manifest says each file truly is."""

from __future__ import annotations

import re

import pytest

from sheet_tools.definitions.frameworks import Registry
from sheet_tools.intake.validate import check_file

from .conftest import REPO
from .support.helpers import codes, sha256

CORPUS = REPO / "tests" / "data" / "other-apps"
_ROW = re.compile(r"^\| `([^`]+)` \| (genuine|encrypted|unsupported) \| [^|]+ \| ([a-z-]+) \|$")
# What a genuine workbook must never be called.
UNTRUE_OF_A_WORKBOOK = {
    "truncated-file",
    "zip-bomb",
    "xml-attack",
    "duplicate-part",
    "row-zero",
    "xml-encoding",
    "empty-file",
    "encrypted-workbook",
    "not-a-workbook",
    "reader-error",
}


def _manifest() -> dict[str, tuple[str, str]]:
    """file -> (kind, expected code), from the manifest's table."""
    rows = {}
    for line in (CORPUS / "MANIFEST.md").read_text(encoding="utf-8").splitlines():
        found = _ROW.match(line)
        if found:
            rows[found.group(1)] = (found.group(2), found.group(3))
    return rows


MANIFEST = _manifest()


def test_the_manifest_lists_every_file_and_only_files_present() -> None:
    present = {
        path.relative_to(CORPUS).as_posix()
        for path in CORPUS.rglob("*")
        if path.is_file() and path.name not in ("MANIFEST.md", "LICENSE", "LICENSE-MIT.md")
    }
    assert len(MANIFEST) >= 20
    assert set(MANIFEST) == present
    kinds = {kind for kind, _ in MANIFEST.values()}
    assert kinds == {"genuine", "encrypted", "unsupported"}


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_each_file_is_told_the_truth(name: str, registry: Registry) -> None:
    kind, expected = MANIFEST[name]
    path = CORPUS / name
    before = sha256(path)
    report, valid = check_file(path, registry)
    found = codes(report.errors)
    assert found == [expected], [e.message for e in report.errors]
    assert valid is None  # none of them is a sheet-tools form
    if kind == "genuine":
        assert not set(found) & UNTRUE_OF_A_WORKBOOK
        assert "damaged" not in report.errors[0].message
    elif kind == "encrypted":
        assert "password" in report.errors[0].message
    else:
        assert ".xlsx" in report.errors[0].advice
    assert sha256(path) == before
