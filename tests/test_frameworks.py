"""Framework definitions: transcribed word for word, validated with errors that name the field."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from sheet_tools.definitions.cell_layout import LISTS_SHEET
from sheet_tools.definitions.frameworks import (
    FrameworkError,
    Registry,
    load_framework,
    load_registry,
)

from .conftest import REPO, seed_path

TEMPLATES = REPO / "workbook_templates"


def norm(text: str) -> str:
    return " ".join(text.split())


def seed(name: str) -> str:
    return seed_path(name).read_text(encoding="utf-8")


def spr_seed_cells() -> list[str]:
    """Every table cell of the Specialist Provision Review Framework, in document order."""
    text = seed("000_1ad3fec901adccd9.txt")
    return [norm(line) for line in text.splitlines() if norm(line)]


def dr_seed_themes(start: str, end: str) -> list[str]:
    """A Diagnostic Review template's suggested themes, rejoining those split by a page break."""
    text = seed("003_c94c6b23e1648e06.txt")
    chunk = text[text.index(start) : text.index(end)]
    themes: list[str] = []
    for item in re.findall(r"<li>(.*?)</li>", chunk):
        item = norm(html.unescape(item).lstrip("-"))
        if not item:
            continue
        if themes and item[0].islower():
            themes[-1] += " " + item
        else:
            themes.append(item)
    return themes


def test_specialist_provision_review_has_all_52_statements_verbatim(registry: Registry) -> None:
    framework = registry.latest("specialist-provision-review")
    cells = spr_seed_cells()
    statements = [s.text for _, s in framework.statements()]
    assert len(statements) == 52
    assert [len(sheet.statements) for sheet in framework.sheets] == [12, 10, 12, 11, 7]
    positions = [cells.index(text) for text in statements]  # ValueError if any is not a seed cell
    assert positions == sorted(positions), "statements are not in the document's order"
    for sheet in framework.sheets:
        labels = [box.label for box in sheet.boxes]
        assert [label.split(" for ")[0] for label in labels] == ["Areas of strength", "Next steps"]
        for label in labels:
            assert any(cell.rstrip(":").strip() == label for cell in cells), label


def test_specialist_provision_review_cover_and_scale(registry: Registry) -> None:
    framework = registry.latest("specialist-provision-review")
    assert [(lv.code, lv.label, lv.score) for lv in framework.scale] == [
        ("Beg", "Beginning", 1),
        ("Dev", "Developing", 2),
        ("Sec", "Secure", 3),
        ("Emb", "Embedded", 4),
    ]
    labels = {field.role: field.label for field in framework.cover}
    assert labels["personnel"] == "Personnel involved"
    assert {"school", "trust", "urn", "review_date", "judge"} <= set(labels)
    assert all(len(sheet.sheet_name) <= 31 for sheet in framework.sheets)


@pytest.mark.parametrize(
    ("framework_id", "start", "end", "areas"),
    [
        ("send-review-mainstream", "### Template 1", "### Template 2", 6),
        ("send-review-specialist", "### Template 2", "# Template 3", 8),
    ],
)
def test_diagnostic_review_themes_verbatim(
    registry: Registry, framework_id: str, start: str, end: str, areas: int
) -> None:
    framework = registry.latest(framework_id)
    judged = [sheet for sheet in framework.sheets if sheet.judged]
    assert len(judged) == areas
    assert [s.text for _, s in framework.judged_statements()] == dr_seed_themes(start, end)
    for sheet in judged:
        assert [box.label for box in sheet.boxes] == ["Strengths", "Areas for development"]


def test_diagnostic_review_special_template_has_context_box(registry: Registry) -> None:
    framework = registry.latest("send-review-specialist")
    context = framework.sheets[0]
    assert not context.judged
    assert context.boxes[0].label.startswith("Context of the school/setting")
    assert norm(context.boxes[0].label) in norm(seed("003_c94c6b23e1648e06.txt"))


def test_reporting_and_follow_up_templates_are_free_text_forms(registry: Registry) -> None:
    text = norm(seed("003_c94c6b23e1648e06.txt"))
    report = registry.latest("send-review-report")
    assert not report.judged
    focus = next(sheet for sheet in report.sheets if sheet.statements)
    assert [s.text for s in focus.statements] == [
        "Outcomes",
        "Leadership",
        "The quality of teaching and learning for pupils with SEND",
        "Working with pupils and parents",
        "Assessment and identification",
        "Monitoring, tracking and evaluation",
        "Efficient use of resources",
        "The quality of SEND provision",
    ]
    assert [c.label for c in focus.columns] == [
        "Strengths",
        "Areas for development",
        "Recommendations",
    ]
    assert any(
        box.label.startswith("What is the vision") and box.label in text for box in focus.boxes
    )

    follow_up = registry.latest("send-review-follow-up")
    assert not follow_up.judged
    boxes = [box.label for sheet in follow_up.sheets for box in sheet.boxes]
    assert boxes[:3] == [
        "Summary of visit",
        "Action points for the school",
        "Action points for the reviewer",
    ]
    assert boxes[-1] == "Date of next visit"
    cover = {field.label for field in follow_up.cover}
    assert {"Reviewer", "Support school", "Date"} <= cover


def test_statement_ids_are_unique_and_stable(registry: Registry) -> None:
    for framework in registry:
        ids = [s.id for _, s in framework.statements()]
        assert len(ids) == len(set(ids)), framework.id
    spr = registry.latest("specialist-provision-review")
    assert [s.id for s in spr.sheets[0].statements][:3] == ["LM01", "LM02", "LM03"]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_not_applicable_is_on_for_the_specialist_provision_review_only(registry: Registry) -> None:
    allowing = {f.id for f in registry if f.not_applicable}
    assert allowing == {"specialist-provision-review"}
    spr = registry.latest("specialist-provision-review")
    mainstream = registry.latest("send-review-mainstream")
    for typed in ("Not applicable", "NOT APPLICABLE", " n/a ", "N/A", "NA", "na", "n.a."):
        assert spr.is_not_applicable(typed), typed
        assert spr.level(typed) is None, typed  # not a level: no score
        assert not mainstream.is_not_applicable(typed), typed
    for other in (None, "", "Secure", "Sec", "Nab", 0):
        assert not spr.is_not_applicable(other), other
    assert spr.choices[-1] == "Not applicable"
    assert mainstream.choices == tuple(level.label for level in mainstream.scale)


def test_not_applicable_cannot_share_a_name_with_a_level(tmp_path: Path) -> None:
    source = (TEMPLATES / "specialist-provision-review.toml").read_text(encoding="utf-8")
    scale = '\n[[scale]]\ncode = "{code}"\nlabel = "{label}"\nscore = {score}\ncolour = "D9D9D9"\n'
    levels = "".join(
        scale.format(code=code, label=label, score=score)
        for code, label, score in (("Lo", "Low", 1), ("N/A", "Not assessed", 2))
    )
    head, rest = source.split("[[cover]]", 1)
    clash = write(tmp_path / "clash.toml", head + levels + "\n[[cover]]" + rest)
    with pytest.raises(FrameworkError, match="no scale level may be called Not applicable"):
        load_framework(clash)
    fine = write(tmp_path / "fine.toml", clash.read_text().replace("not_applicable = true", ""))
    assert not load_framework(fine).not_applicable


def test_a_definition_with_a_mistake_names_file_and_field(tmp_path: Path) -> None:
    source = (TEMPLATES / "specialist-provision-review.toml").read_text(encoding="utf-8")
    broken = write(
        tmp_path / "trust-own.toml",
        source.replace('sheet_name = "2 Environment"', 'sheet_name = "2 Environment: the site"'),
    )
    with pytest.raises(FrameworkError) as caught:
        load_framework(broken)
    message = str(caught.value)
    assert "trust-own.toml" in message
    assert "sheets.1.sheet_name" in message
    assert "not a valid Excel sheet name" in message


def test_duplicate_statement_ids_and_bad_toml_are_reported(tmp_path: Path) -> None:
    source = (TEMPLATES / "specialist-provision-review.toml").read_text(encoding="utf-8")
    dupe = write(tmp_path / "dupe.toml", source.replace('id = "LM02"', 'id = "LM01"'))
    with pytest.raises(FrameworkError, match=r"dupe\.toml.*\n.*repeated: LM01"):
        load_framework(dupe)
    bad = write(tmp_path / "bad.toml", 'id = "x"\nversion = \n')
    with pytest.raises(FrameworkError, match=r"bad\.toml: not valid TOML"):
        load_framework(bad)
    missing = write(
        tmp_path / "missing.toml", source.replace('title = "1. Leadership', 'titel = "1.')
    )
    with pytest.raises(FrameworkError) as caught:
        load_framework(missing)
    assert "sheets.0.title: Field required" in str(caught.value)
    assert "sheets.0.titel: Extra inputs are not permitted" in str(caught.value)


def test_sheet_names_longer_than_31_characters_are_refused(tmp_path: Path) -> None:
    source = (TEMPLATES / "specialist-provision-review.toml").read_text(encoding="utf-8")
    long_name = write(
        tmp_path / "long.toml",
        source.replace(
            'sheet_name = "2 Environment"', 'sheet_name = "2 Environment and the whole school site"'
        ),
    )
    with pytest.raises(FrameworkError, match=r"sheets\.1\.sheet_name: .*at most 31"):
        load_framework(long_name)
    reserved = write(
        tmp_path / "reserved.toml",
        source.replace('sheet_name = "2 Environment"', f'sheet_name = "{LISTS_SHEET}"'),
    )
    with pytest.raises(FrameworkError, match="not Cover, About or Lists"):
        load_framework(reserved)


def test_earlier_versions_stay_loadable_and_the_newest_is_generated(tmp_path: Path) -> None:
    shutil.copy(TEMPLATES / "specialist-provision-review.toml", tmp_path)
    (tmp_path / "versions").mkdir()
    older = (TEMPLATES / "specialist-provision-review.toml").read_text(encoding="utf-8")
    older = older.replace('version = "1.0"', 'version = "0.9"').replace(
        'id = "LM12"', 'id = "LM12-old"'
    )
    write(tmp_path / "versions" / "specialist-provision-review@0.9.toml", older)
    newer = older.replace('version = "0.9"', 'version = "1.10"')
    write(tmp_path / "versions" / "specialist-provision-review@1.10.toml", newer)
    registry = load_registry(tmp_path)
    assert registry.versions("specialist-provision-review") == ["0.9", "1.0", "1.10"]
    assert registry.latest("specialist-provision-review").version == "1.10"
    old = registry.get("specialist-provision-review", "0.9")
    assert old is not None and "LM12-old" in {s.id for _, s in old.statements()}
    assert registry.get("specialist-provision-review", "0.1") is None


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_missing_seed_documents_fail_in_ci_and_skip_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    """CI must not pass without comparing a statement with its source."""
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("SHEET_TOOLS_SEEDS", str(tmp_path / "no-seeds"))
    with pytest.raises(outcome, match=r"seed document 000_1ad3fec901adccd9\.txt not found"):
        seed_path("000_1ad3fec901adccd9.txt")
    (tmp_path / "no-seeds").mkdir()
    (tmp_path / "no-seeds" / "000_1ad3fec901adccd9.txt").write_text("LM01\n", encoding="utf-8")
    assert seed_path("000_1ad3fec901adccd9.txt").read_text(encoding="utf-8") == "LM01\n"
