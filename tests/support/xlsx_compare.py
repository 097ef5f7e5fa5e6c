"""Compare two .xlsx files part by part, as XlsxWriter's own test suite does.

A workbook is a zip of XML parts. Comparing the bytes fails on every run (timestamps); comparing
cell values misses styles, validations and print setup. So both files are unzipped, the list of
parts compared, and each XML part parsed, stripped of what always differs between two runs of
the same code, and printed one element a line, so that a difference reads as a unified diff
naming the part (and the sheet).

What is blanked, and why:

* ``docProps/core.xml`` created / modified: the time of writing.
* ``docProps/app.xml`` AppVersion and the library version in Application: the writing library.
* ``sheet-tools <version>`` anywhere (``sheet_tools.__version__``): it changes with every release.
* A cell whose whole text is a UTC timestamp (``2026-10-05T09:00:00Z``): the ``generated_at`` row
  the generator writes on the About sheet from the clock (no way to pass a time in).
* Media (``xl/media/*``, e.g. the radar PNG): compared by presence and pixel size, not bytes,
  since matplotlib and Pillow versions change the encoding.

What is made order-free, because it is deterministic but not what anyone receives: the order of
parts in the zip, of ``[Content_Types].xml`` entries and of relationships, of attributes, of the
shared-strings table (each string cell shows its text in place of its index) and of the style
tables (each style index is replaced by a digest of the style it means).

Run ``python -m tests.support.xlsx_compare A.xlsx B.xlsx`` to see the differences between two
files, or ``python -m tests.support.xlsx_compare --regenerate`` to rewrite ``tests/reference/`` on
purpose.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import functools
import hashlib
import io
import re
import struct
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

Source = Path | str | bytes

BLANK = "{blanked}"
VERSION = "{sheet-tools version}"
MAX_DIFF_LINES = 60

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_CORE_TIMES = {"{http://purl.org/dc/terms/}created", "{http://purl.org/dc/terms/}modified"}
_EXTENDED = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
_LIBRARY_VERSION = re.compile(r"\d+(\.\d+)+")
# "sheet-tools 0.1.0" as generate.py writes it (from sheet_tools.__version__), or "sheet_tools/1.2".
_GENERATOR_VERSION = re.compile(r"(sheet[-_ ]tools[ /]v?)\d+(\.\d+)+([.+-]?[A-Za-z0-9]+)*")
_MEDIA = re.compile(r"^xl/media/|\.(png|jpe?g|gif|bmp|tiff?|emf|wmf)$", re.IGNORECASE)


@dataclass(frozen=True)
class Difference:
    """One part that differs: its name, what kind of difference, and a unified diff."""

    part: str
    summary: str
    diff: list[str] = field(default_factory=list)

    def render(self, max_lines: int = MAX_DIFF_LINES) -> str:
        lines = [f"{self.part}: {self.summary}"]
        shown = self.diff[:max_lines]
        lines += shown
        if len(self.diff) > len(shown):
            lines.append(f"... ({len(self.diff) - len(shown)} more diff lines)")
        return "\n".join(lines)


# --- reading ------------------------------------------------------------------------------------
def read_parts(source: Source) -> dict[str, bytes]:
    """Every part of a workbook by name."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


def _prefixes(data: bytes) -> dict[str, str]:
    """Namespace URI -> the prefix the part itself uses ("" for the default namespace)."""
    found: dict[str, str] = {}
    for _, (prefix, uri) in ET.iterparse(io.BytesIO(data), events=("start-ns",)):
        found.setdefault(uri, prefix)
    found.setdefault(_XML_NS, "xml")
    return found


def _short(name: str, prefixes: dict[str, str]) -> str:
    if not name.startswith("{"):
        return name
    uri, local = name[1:].split("}", 1)
    prefix = prefixes.get(uri)
    if prefix is None:
        return name
    return f"{prefix}:{local}" if prefix else local


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def _render(element: ET.Element, prefixes: dict[str, str], depth: int, out: list[str]) -> None:
    """One element a line, attributes sorted: a diff then points at the element that changed."""
    tag = _short(element.tag, prefixes)
    attributes = "".join(
        f' {_short(key, prefixes)}="{_escape(value)}"' for key, value in sorted(element.items())
    )
    indent = "  " * depth
    text = element.text or ""
    children = list(element)
    if not children:
        if text:
            out.append(f"{indent}<{tag}{attributes}>{_escape(text)}</{tag}>")
        else:
            out.append(f"{indent}<{tag}{attributes}/>")
        return
    if len(children) == 1 and not text.strip() and not (children[0].tail or "").strip():
        inner: list[str] = []
        _render(children[0], prefixes, 0, inner)
        if len(inner) == 1:  # <c r="A1" t="s"><si><t>text</t></si></c> reads best on one line
            out.append(f"{indent}<{tag}{attributes}>{inner[0]}</{tag}>")
            return
    out.append(f"{indent}<{tag}{attributes}>")
    if text.strip():
        out.append(f"{indent}  {_escape(text)}")
    for child in children:
        _render(child, prefixes, depth + 1, out)
        if child.tail and child.tail.strip():
            out.append(f"{indent}  {_escape(child.tail)}")
    out.append(f"{indent}</{tag}>")


# --- normalising ---------------------------------------------------------------------------------
def _blank_version(text: str) -> str:
    """Any version after the generator's name, not only this one: a reference made by 0.1.0
    still matches the same workbook made by 0.2.0."""
    return _GENERATOR_VERSION.sub(rf"\g<1>{VERSION}", text)


def _blank_text(root: ET.Element) -> None:
    """Blank the version and clock readings in every text node of a part."""
    for element in root.iter():
        if element.text:
            element.text = _blank_version(element.text)
            if _TIMESTAMP.fullmatch(element.text.strip()):
                element.text = BLANK
        for key, value in element.items():
            element.set(key, _blank_version(value))


def _blank_core(root: ET.Element) -> None:
    for element in root.iter():
        if element.tag in _CORE_TIMES:
            element.text = BLANK


def _blank_app(root: ET.Element) -> None:
    for element in root.iter():
        if element.tag == f"{{{_EXTENDED}}}AppVersion":
            element.text = BLANK
        elif element.tag == f"{{{_EXTENDED}}}Application" and element.text:
            element.text = _LIBRARY_VERSION.sub(BLANK, element.text)


def _sort_children(root: ET.Element) -> None:
    """Content types and relationships are looked up by name or id: their order means nothing."""
    root[:] = sorted(root, key=lambda child: sorted(child.items()))


def _shared_strings(parts: dict[str, bytes]) -> list[ET.Element]:
    data = parts.get("xl/sharedStrings.xml")
    if data is None:
        return []
    return list(ET.fromstring(data).iter(f"{{{_MAIN}}}si"))


def _inline_shared_strings(root: ET.Element, strings: list[ET.Element]) -> None:
    """Each shared-string cell shows its string instead of an index into a table whose order is
    only the order of writing: a changed text then shows up in the sheet, at its cell."""
    for cell in root.iter(f"{{{_MAIN}}}c"):
        if cell.get("t") != "s":
            continue
        value = cell.find(f"{{{_MAIN}}}v")
        if value is None or not (value.text or "").strip().isdigit():
            continue
        index = int(value.text or "")
        cell.remove(value)
        if index < len(strings):
            cell.append(strings[index])
        else:
            ET.SubElement(cell, f"{{{_MAIN}}}v").text = f"missing shared string {index}"


_ID_ATTRIBUTES = ("numFmtId", "fontId", "fillId", "borderId", "xfId")
_BUILTIN_FORMATS = 164  # numFmtId below this is one of Excel's own formats, by number


def _m(tag: str) -> str:
    return f"{{{_MAIN}}}{tag}"


def _key(prefix: str, element: ET.Element) -> str:
    lines: list[str] = []
    _render(element, {_MAIN: ""}, 0, lines)
    return f"{prefix}-{hashlib.sha1(chr(10).join(lines).encode()).hexdigest()[:8]}"


@dataclass
class _Styles:
    """Each style index resolved to what it means. Both libraries number styles in order of first
    use, so writing the same cells in another order renumbers them; a style named by a digest
    of its font, fill, border, number format, alignment and protection does not move."""

    cell: list[str] = field(default_factory=list)  # cellXfs index -> key
    named: list[str] = field(default_factory=list)  # cellStyleXfs index -> key
    differential: list[str] = field(default_factory=list)  # dxfs index -> key
    resolved: dict[str, ET.Element] = field(default_factory=dict)  # key -> resolved element


@functools.lru_cache(maxsize=16)
def _styles(data: bytes | None) -> _Styles:
    styles = _Styles()
    try:
        root = ET.fromstring(data or b"")
    except ET.ParseError:  # no style sheet, or a broken one: its own part shows the difference
        return styles
    formats = {f.get("numFmtId"): f.get("formatCode", "") for f in root.iter(_m("numFmt"))}

    def listed(section: str) -> list[ET.Element]:
        found = root.find(_m(section))
        return list(found) if found is not None else []

    parts = {"fontId": listed("fonts"), "fillId": listed("fills"), "borderId": listed("borders")}

    def number_format(number: str) -> ET.Element:
        if int(number) < _BUILTIN_FORMATS:
            return ET.Element(_m("numFmt"), {"builtinId": number})
        return ET.Element(_m("numFmt"), {"formatCode": formats.get(number, f"missing {number}")})

    def resolve(xf: ET.Element, prefix: str, parents: list[str]) -> str:
        out = ET.Element(xf.tag, {k: v for k, v in xf.items() if k not in _ID_ATTRIBUTES})
        if xf.get("numFmtId") is not None:
            out.append(number_format(xf.get("numFmtId", "0")))
        for attribute, items in parts.items():
            index = int(xf.get(attribute, "-1"))
            if 0 <= index < len(items):
                out.append(copy.deepcopy(items[index]))
        parent = int(xf.get("xfId", "-1"))
        if 0 <= parent < len(parents):
            out.set("parent", parents[parent])
        out.extend(copy.deepcopy(child) for child in xf)
        key = _key(prefix, out)
        out.set("id", key)
        styles.resolved[key] = out
        return key

    styles.named = [resolve(xf, "named", []) for xf in listed("cellStyleXfs")]
    styles.cell = [resolve(xf, "xf", styles.named) for xf in listed("cellXfs")]
    for dxf in listed("dxfs"):
        out = copy.deepcopy(dxf)
        for fmt in out.iter(_m("numFmt")):
            fmt.attrib.pop("numFmtId", None)
        key = _key("dxf", out)
        out.set("id", key)
        styles.resolved[key] = out
        styles.differential.append(key)
    return styles


def _name_styles(root: ET.Element, styles: _Styles) -> None:
    """Style indexes in a worksheet replaced by the styles' keys."""

    def named(index: str | None, keys: list[str]) -> str | None:
        if index is None or not index.isdigit():
            return index
        number = int(index)
        return keys[number] if number < len(keys) else f"missing style {number}"

    for element in root.iter():
        if element.tag in (_m("c"), _m("row")) and "s" in element.attrib:
            element.set("s", named(element.get("s"), styles.cell) or "")
        elif element.tag == _m("col") and "style" in element.attrib:
            element.set("style", named(element.get("style"), styles.cell) or "")
        elif element.tag == _m("cfRule") and "dxfId" in element.attrib:
            element.set("dxfId", named(element.get("dxfId"), styles.differential) or "")


def _normalise_styles(root: ET.Element, styles: _Styles) -> None:
    """The style sheet as the set of styles in use, each resolved, in the order of their keys;
    the font, fill, border and number-format tables they index are shown inside each style."""
    sections = {"cellStyleXfs": styles.named, "cellXfs": styles.cell, "dxfs": styles.differential}
    for child in list(root):
        local = child.tag.split("}")[-1]
        if local in ("numFmts", "fonts", "fills", "borders"):
            root.remove(child)
        elif local in sections:
            child.attrib.pop("count", None)
            child[:] = [styles.resolved[key] for key in sorted(set(sections[local]))]
        elif local == "cellStyles":
            for style in child:
                parent = style.get("xfId")
                if parent is not None and parent.isdigit() and int(parent) < len(styles.named):
                    style.set("xfId", styles.named[int(parent)])


def normalise_part(name: str, data: bytes, parts: dict[str, bytes]) -> list[str]:
    """A part as readable, comparable lines, with what always differs blanked."""
    try:
        root = ET.fromstring(data)
        prefixes = _prefixes(data)
    except ET.ParseError:
        try:
            return data.decode("utf-8").splitlines()
        except UnicodeDecodeError:  # a binary part that is not media (vbaProject.bin, say)
            return [f"binary part, sha256 {hashlib.sha256(data).hexdigest()}"]
    if name == "docProps/core.xml":
        _blank_core(root)
    elif name == "docProps/app.xml":
        _blank_app(root)
    elif name == "[Content_Types].xml" or name.endswith(".rels"):
        _sort_children(root)
    elif name == "xl/sharedStrings.xml":
        root[:] = sorted(root, key=lambda si: ET.tostring(si))
    elif name == "xl/styles.xml":
        _normalise_styles(root, _styles(data))
    elif name.startswith("xl/worksheets/") and name.endswith(".xml"):
        _inline_shared_strings(root, _shared_strings(parts))
        _name_styles(root, _styles(parts.get("xl/styles.xml")))
    _blank_text(root)
    out: list[str] = []
    _render(root, prefixes, 0, out)
    return out


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _describe_media(data: bytes) -> str:
    size = _png_size(data)
    if size is not None:
        return f"PNG image, {size[0]} x {size[1]} pixels"
    return f"binary part ({'empty' if not data else 'not empty'})"


def sheet_names(parts: dict[str, bytes]) -> dict[str, str]:
    """Worksheet part -> sheet name, so a difference names the sheet a person sees."""
    try:
        workbook = ET.fromstring(parts["xl/workbook.xml"])
        rels = ET.fromstring(parts["xl/_rels/workbook.xml.rels"])
    except (KeyError, ET.ParseError):
        return {}
    targets = {}
    for rel in rels.iter(f"{{{_PKG_REL}}}Relationship"):
        target = rel.get("Target", "")
        target = target[1:] if target.startswith("/") else f"xl/{target}"
        targets[rel.get("Id")] = target
    names = {}
    for sheet in workbook.iter(f"{{{_MAIN}}}sheet"):
        part = targets.get(sheet.get(f"{{{_DOC_REL}}}id"))
        if part:
            names[part] = sheet.get("name", "")
    return names


# --- comparing -----------------------------------------------------------------------------------
def compare_xlsx(got: Source, expected: Source) -> list[Difference]:
    """Every difference between a generated workbook and its reference, part by part."""
    got_parts, expected_parts = read_parts(got), read_parts(expected)
    differences: list[Difference] = []
    missing = sorted(set(expected_parts) - set(got_parts))
    extra = sorted(set(got_parts) - set(expected_parts))
    if missing or extra:
        diff = [f"- {name}" for name in missing] + [f"+ {name}" for name in extra]
        differences.append(Difference("(list of parts)", "parts missing or added", diff))
    names = sheet_names(expected_parts)
    for name in sorted(set(got_parts) & set(expected_parts)):
        label = f"{name} (sheet {names[name]!r})" if name in names else name
        if _MEDIA.search(name):
            want, have = _describe_media(expected_parts[name]), _describe_media(got_parts[name])
            if want != have:
                differences.append(Difference(label, "media differ", [f"- {want}", f"+ {have}"]))
            continue
        want_lines = normalise_part(name, expected_parts[name], expected_parts)
        have_lines = normalise_part(name, got_parts[name], got_parts)
        if want_lines != have_lines:
            diff = list(
                difflib.unified_diff(
                    want_lines, have_lines, f"reference/{name}", f"generated/{name}", lineterm=""
                )
            )
            differences.append(Difference(label, "XML differs", diff))
    return differences


def format_differences(differences: list[Difference], max_lines: int = MAX_DIFF_LINES) -> str:
    return "\n\n".join(d.render(max_lines) for d in differences)


def assert_xlsx_equal(
    got: Source, expected: Source, *, hint: str = "", max_lines: int = MAX_DIFF_LINES
) -> None:
    """Fail with a readable diff naming each part that differs."""
    differences = compare_xlsx(got, expected)
    if differences:
        parts = ", ".join(d.part for d in differences)
        message = f"{len(differences)} part(s) differ from the reference: {parts}\n\n"
        message += format_differences(differences, max_lines)
        if hint:
            message += f"\n\n{hint}"
        raise AssertionError(message)


# --- command line --------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.xlsx_compare",
        description="Compare two .xlsx files part by part, or rewrite the reference workbooks.",
    )
    parser.add_argument("files", nargs="*", type=Path, help="GENERATED.xlsx REFERENCE.xlsx")
    parser.add_argument(
        "--regenerate",
        action="store_true",
        help="rebuild every reference under tests/reference/, printing what changed",
    )
    parser.add_argument("--max-lines", type=int, default=MAX_DIFF_LINES)
    args = parser.parse_args(argv)
    if args.regenerate:
        from tests.support.reference_cases import regenerate

        regenerate(max_lines=args.max_lines)
        print("Review the diff above (git diff --stat tests/reference/) before committing.")
        return 0
    if len(args.files) != 2:
        parser.error("give two files to compare, or --regenerate")
    differences = compare_xlsx(args.files[0], args.files[1])
    if differences:
        print(format_differences(differences, args.max_lines))
        return 1
    print("no differences")
    return 0


if __name__ == "__main__":
    sys.exit(main())
