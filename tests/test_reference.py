"""Reference workbooks: what schools and trusts receive, compared part by part with committed files.

A failure here means a workbook changed. If the change is intended, regenerate the references
(``python -m tests.support.xlsx_compare --regenerate``, see tests/reference/README.md), review the
diff and commit it with the change; if not, the diff shows where the output went wrong.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.reference_cases import CASES, REFERENCE_DIR, build_all, regenerate, versions_hint
from tests.support.xlsx_compare import (
    BLANK,
    Difference,
    assert_xlsx_equal,
    compare_xlsx,
    main,
    normalise_part,
    read_parts,
)

REPO = Path(__file__).resolve().parent.parent
TINY = "workbook-reference-review.xlsx"
FOLLOW_UP = "workbook-send-review-follow-up.xlsx"
SCHOOL = "school-summary.xlsx"
TRUST = "trust-summary.xlsx"
REGENERATE = "python -m tests.support.xlsx_compare --regenerate"


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    return build_all()


def reference(name: str) -> bytes:
    return (REFERENCE_DIR / name).read_bytes()


def with_part(data: bytes, part: str, edit: Callable[[bytes], bytes] | None) -> bytes:
    """A copy of a workbook with one part edited (or, with None, left out)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == part:
                if edit is None:
                    continue
                content = edit(content)
            target.writestr(info, content)
    return out.getvalue()


def replace(old: str, new: str, count: int = 1) -> Callable[[bytes], bytes]:
    def edit(content: bytes) -> bytes:
        text = content.decode("utf-8")
        assert old in text, f"{old!r} is not in the part: the test needs updating"
        return text.replace(old, new, count).encode("utf-8")

    return edit


def only(differences: list[Difference]) -> Difference:
    assert len(differences) == 1, [d.part for d in differences]
    return differences[0]


def diff_text(difference: Difference) -> str:
    return "\n".join(difference.diff)


# --- the references ------------------------------------------------------------------------------
def test_every_reference_is_committed_and_built() -> None:
    assert sorted(CASES) == sorted(p.name for p in REFERENCE_DIR.glob("*.xlsx"))


@pytest.mark.parametrize("name", CASES)
def test_output_matches_its_reference(built: dict[str, bytes], name: str) -> None:
    hint = f"If this change is intended, run `{REGENERATE}` and review the diff. "
    assert_xlsx_equal(built[name], REFERENCE_DIR / name, hint=hint + versions_hint())


def test_references_hold_what_they_are_for() -> None:
    """Each reference shows the things it exists to pin down, so none is a trivial file."""
    tiny = read_parts(reference(TINY))
    assert "docProps/custom.xml" in tiny
    part = "xl/worksheets/sheet2.xml"
    leadership = "\n".join(normalise_part(part, tiny[part], tiny))
    assert "<dataValidation" in leadership and "Beginning,Developing,Secure,Embedded" in leadership
    assert "conditionalFormatting" in leadership
    school = read_parts(reference(SCHOOL))
    assert not any(name.startswith("xl/media/") for name in school)  # the picture is beside it
    assert any(name.startswith("xl/charts/") for name in school)  # the one native radar chart
    trust_parts = read_parts(reference(TRUST))
    strings = b"".join(trust_parts[n] for n in trust_parts if n.startswith("xl/sharedStrings"))
    for status in (b"Returned", b"Outstanding", b"Rejected"):
        assert status in strings


def _part(data: bytes, sheet: str) -> str:
    """The normalised XML of the worksheet called ``sheet``."""
    parts = read_parts(data)
    book = parts["xl/workbook.xml"].decode()
    names = re.findall(r'<sheet [^>]*name="([^"]+)"', book)
    name = f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"
    return "\n".join(normalise_part(name, parts[name], parts))


def test_references_pin_the_print_setup() -> None:
    """The print settings are parts of the references, compared as every other part is: each
    sheet meant to be read is A4, one page wide, with the book's footer; Data and About print
    one page of what they are for; the heat map keeps every cell at a readable size."""
    school, trust, tiny = reference(SCHOOL), reference(TRUST), reference(TINY)
    for data, sheet, footer in (
        (school, "Responses", "Oakfield Primary School, Autumn 2026 round"),
        (school, "Overview", "Oakfield Primary School, Autumn 2026 round"),
        (trust, "Statement heat map", "Northern Lights Learning Trust, Autumn 2026 round"),
        (trust, "Radar charts", "Northern Lights Learning Trust, Autumn 2026 round"),
    ):
        xml = _part(data, sheet)
        assert 'paperSize="9"' in xml and 'fitToPage="1"' in xml, sheet
        assert 'fitToWidth="' not in xml, sheet  # the default: one page wide
        assert footer in xml and "Page &amp;P of &amp;N" in xml, sheet
    # one page tall: fitToHeight left at its default, 1; a reading sheet runs on ("0")
    assert 'fitToHeight="' not in _part(school, "Overview")
    assert 'fitToHeight="0"' in _part(school, "Responses")
    # two schools: the table and their row of charts share the first page, no break before it
    assert "<brk " not in _part(trust, "Radar charts")
    heat = _part(trust, "Statement heat map")
    assert "hover" not in heat and "rotation" not in heat
    books = {
        name: read_parts(data)["xl/workbook.xml"].decode()
        for name, data in (("school", school), ("tiny", tiny), ("trust", trust))
    }
    assert re.search(r"_xlnm.Print_Area[^>]*>'?Data'?!\$A\$1:\$M\$1<", books["school"])
    assert re.search(r"_xlnm.Print_Area[^>]*>'?About'?!\$A\$1:\$B\$1<", books["tiny"])
    assert "_xlnm.Print_Titles" in books["trust"]  # header rows repeated on every page
    assert 'fitToHeight="' not in _part(school, "Data")


# --- what is blanked, and only that -------------------------------------------------------------
def test_clock_and_version_readings_are_blanked() -> None:
    data = reference(TINY)
    moved = with_part(
        data,
        "docProps/core.xml",
        lambda c: re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2031-01-02T03:04:05Z", c),
    )
    about = "xl/worksheets/sheet5.xml"
    text = read_parts(data)[about].decode()
    stamp = re.search(r"<t>(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)</t>", text)
    assert stamp, "the About sheet no longer holds a generated_at timestamp"
    moved = with_part(moved, about, replace(stamp.group(1), "2031-01-02T03:04:05Z"))
    generator = re.search(r">(sheet-tools \d[^<]*)<", text)
    assert generator, "the About sheet no longer names the generator's version"
    moved = with_part(moved, about, replace(generator.group(1), "sheet-tools 7.3.1.dev2"))
    moved = with_part(
        moved, "docProps/app.xml", lambda c: re.sub(rb"\d+\.\d+(\.\d+)?", b"9.9.9", c)
    )
    assert compare_xlsx(moved, data) == []
    lines = normalise_part(about, read_parts(moved)[about], read_parts(moved))
    assert f"<t>{BLANK}</t>" in "\n".join(lines)


def test_a_changed_key_beside_a_blanked_value_still_fails() -> None:
    data = reference(TINY)
    changed = with_part(data, "xl/worksheets/sheet5.xml", replace(">generator<", ">made by<"))
    difference = only(compare_xlsx(changed, data))
    assert difference.part == "xl/worksheets/sheet5.xml (sheet 'About')"
    assert "-  " in diff_text(difference) and "made by" in diff_text(difference)


def _with_picture() -> bytes:
    """A workbook holding a PNG, as the outbox's pictures are (no reference holds one now)."""
    from PIL import Image
    from xlsxwriter import Workbook

    picture, buffer = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (56, 44), "white").save(picture, format="png")
    book = Workbook(buffer, {"in_memory": True})
    book.add_worksheet("Overview").insert_image(0, 0, "radar.png", {"image_data": picture})
    book.close()
    return buffer.getvalue()


def test_media_compare_by_pixel_size_not_bytes() -> None:
    data = _with_picture()
    png = next(name for name in read_parts(data) if name.startswith("xl/media/"))

    def recode(content: bytes) -> bytes:  # other compressed bytes, same header
        middle = len(content) // 2
        return content[:middle] + bytes([content[middle] ^ 0xFF]) + content[middle + 1 :]

    recoded = with_part(data, png, recode)
    assert read_parts(recoded)[png] != read_parts(data)[png]
    assert compare_xlsx(recoded, data) == []
    resized = with_part(data, png, lambda c: c[:16] + (1234).to_bytes(4, "big") + c[20:])
    difference = only(compare_xlsx(resized, data))
    assert difference.part == png and "+ PNG image, 1234 x" in diff_text(difference)


def test_shared_string_order_does_not_matter() -> None:
    """The same cells written in another order reorder the table, not what anyone sees."""
    data = reference(TRUST)
    parts = read_parts(data)
    table = parts["xl/sharedStrings.xml"].decode()
    items = re.findall(r"<si>.*?</si>", table, flags=re.DOTALL)
    order = list(reversed(range(len(items))))  # new position of each old index
    head = table[: table.index("<si>")]
    tail = table[table.rindex("</si>") + len("</si>") :]
    shuffled = head + "".join(items[order.index(i)] for i in range(len(items))) + tail

    def renumber(content: bytes) -> bytes:
        return re.sub(
            rb'(t="s"[^>]*><v>)(\d+)(</v>)',
            lambda m: m[1] + str(order[int(m[2])]).encode() + m[3],
            content,
        )

    moved = with_part(data, "xl/sharedStrings.xml", lambda _: shuffled.encode())
    for name in parts:
        if name.startswith("xl/worksheets/sheet"):
            moved = with_part(moved, name, renumber)
    assert read_parts(moved)["xl/sharedStrings.xml"] != parts["xl/sharedStrings.xml"]
    assert compare_xlsx(moved, data) == []


# --- the comparer fails when what people receive changes -----------------------------------------
def test_a_changed_statement_text_is_reported_in_its_sheet() -> None:
    data = reference(TINY)
    part = "xl/worksheets/sheet2.xml"
    changed = with_part(data, part, replace("Leaders know the needs", "Leaders know the names"))
    difference = only(compare_xlsx(changed, data))
    assert difference.part == f"{part} (sheet '1 Leadership')"
    assert difference.summary == "XML differs"
    text = diff_text(difference)
    assert text.startswith(f"--- reference/{part}\n+++ generated/{part}")
    assert "-" in text and "Leaders know the needs" in text and "Leaders know the names" in text


def test_a_changed_summary_text_is_reported_in_its_sheet_and_the_table() -> None:
    data = reference(SCHOOL)
    changed = with_part(data, "xl/sharedStrings.xml", replace(">Next steps<", ">Next stops<"))
    differences = compare_xlsx(changed, data)
    parts = [d.part for d in differences]
    assert "xl/sharedStrings.xml" in parts
    assert any("(sheet " in part for part in parts)
    assert all("Next stops" in diff_text(d) for d in differences)


def test_a_changed_style_is_reported_in_the_styles_and_its_cells() -> None:
    data = reference(TINY)
    changed = with_part(data, "xl/styles.xml", replace('rgb="001F4E79"', 'rgb="00FF0000"'))
    differences = {d.part: d for d in compare_xlsx(changed, data)}
    assert "xl/styles.xml" in differences
    assert '+        <color rgb="00FF0000"/>' in diff_text(differences["xl/styles.xml"])
    leadership = diff_text(differences["xl/worksheets/sheet2.xml (sheet '1 Leadership')"])
    assert re.search(r'^\+ .*<c r="B1" s="xf-\w+" .*1\. Leadership', leadership, re.MULTILINE)


def test_style_numbering_does_not_matter() -> None:
    """The same styles used in another order are numbered otherwise; nobody sees a difference."""
    data = reference(TINY)
    parts = read_parts(data)
    styles = parts["xl/styles.xml"].decode()
    start, end = styles.index("<cellXfs"), styles.index("</cellXfs>")
    section = styles[start:end]
    items = re.findall(r"<xf\b[^>]*/>|<xf\b[^>]*[^/]>.*?</xf>", section, flags=re.DOTALL)
    assert len(items) > 3
    new_index = [0, *reversed(range(1, len(items)))]  # 0 stays the default style
    shuffled = [items[new_index.index(i)] for i in range(len(items))]
    body = section[: section.index(items[0])] + "".join(shuffled)
    moved = with_part(
        data, "xl/styles.xml", lambda _: (styles[:start] + body + styles[end:]).encode()
    )

    def renumber(content: bytes) -> bytes:
        return re.sub(rb' s="(\d+)"', lambda m: b' s="%d"' % new_index[int(m[1])], content)

    for name in parts:
        if name.startswith("xl/worksheets/sheet"):
            moved = with_part(moved, name, renumber)
    assert read_parts(moved)["xl/worksheets/sheet2.xml"] != parts["xl/worksheets/sheet2.xml"]
    assert compare_xlsx(moved, data) == []


def test_a_changed_data_validation_is_reported() -> None:
    data = reference(TINY)
    part = "xl/worksheets/sheet3.xml"
    changed = with_part(data, part, replace("Beginning,Developing,Secure,Embedded", "Yes,No"))
    difference = only(compare_xlsx(changed, data))
    assert difference.part == f"{part} (sheet '2 Teaching')"
    assert "<formula1>&quot;Yes,No&quot;</formula1>" in diff_text(difference)


def test_a_missing_part_is_reported() -> None:
    data = reference(TINY)
    difference = only(compare_xlsx(with_part(data, "docProps/custom.xml", None), data))
    assert difference.part == "(list of parts)"
    assert difference.diff == ["- docProps/custom.xml"]


def test_the_assertion_names_the_part_and_trims_the_diff() -> None:
    data = reference(FOLLOW_UP)
    part = "xl/theme/theme1.xml"
    changed = with_part(data, part, lambda c: c.replace(b"<a:", b"<a:x").replace(b"</a:", b"</a:x"))
    with pytest.raises(AssertionError) as caught:
        assert_xlsx_equal(changed, data, hint="regenerate hint", max_lines=20)
    message = str(caught.value)
    assert message.startswith(f"1 part(s) differ from the reference: {part}")
    assert re.search(r"\.\.\. \(\d+ more diff lines\)", message)
    assert message.endswith("regenerate hint")
    assert len(message.splitlines()) < 30


def test_command_line_compares_two_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(REFERENCE_DIR / TINY), str(REFERENCE_DIR / TINY)]) == 0
    assert main([str(REFERENCE_DIR / TINY), str(REFERENCE_DIR / FOLLOW_UP)]) == 1
    assert "(list of parts)" in capsys.readouterr().out


# --- determinism and regeneration ----------------------------------------------------------------
@pytest.mark.slow
def test_another_process_builds_the_same_workbooks(built: dict[str, bytes], tmp_path: Path) -> None:
    """Another process, with another hash seed and time zone, builds what this one built."""
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "Pacific/Auckland"}
    subprocess.run(
        [sys.executable, "-m", "tests.support.reference_cases", "--write", str(tmp_path)],
        cwd=REPO,
        env=env,
        check=True,
        timeout=300,
    )
    for name in CASES:
        assert_xlsx_equal(tmp_path / name, built[name])


@pytest.mark.slow
def test_regenerate_rewrites_only_what_changed(tmp_path: Path) -> None:
    for name in CASES:
        shutil.copy(REFERENCE_DIR / name, tmp_path / name)
    stale = tmp_path / TINY
    stale.write_bytes(
        with_part(stale.read_bytes(), "xl/worksheets/sheet2.xml", replace("L1", "X1"))
    )
    untouched = (tmp_path / SCHOOL).read_bytes()
    printed: list[str] = []
    outcomes = regenerate(tmp_path, out=printed.append)
    assert outcomes == {name: "changed" if name == TINY else "unchanged" for name in CASES}
    assert any("X1" in line and "(sheet '1 Leadership')" in line for line in printed)
    assert compare_xlsx(stale, REFERENCE_DIR / TINY) == []
    assert (tmp_path / SCHOOL).read_bytes() == untouched  # equal under the comparer: not rewritten
    assert (tmp_path / "versions.json").is_file()
