"""Drive real spreadsheet applications from tests: LibreOffice (headless, through UNO) and Gnumeric.

Schools open our workbooks in Excel, LibreOffice, Google Sheets or Numbers and send back whatever
that application saved. These helpers let a test do the same with the applications a Linux machine
can run: fill cells in LibreOffice and save as .xlsx, re-save with LibreOffice or Gnumeric, export a
PDF. Each LibreOffice run gets its own throwaway profile (so it never hands the job to another
running instance or leaves a lock behind) and every call has a timeout after which the whole process
group is killed, so a hung application fails one test instead of hanging the suite.

UNO is only importable by the Python that LibreOffice was built against (Debian's ``python3-uno``
serves ``/usr/bin/python3``, not the project's interpreter), so the filling script runs under that
Python as a subprocess and reports back in JSON.

Tests call ``require_libreoffice()`` / ``require_gnumeric()`` first: they skip, with the reason,
only when the application is missing. CI installs both, so there these tests always run: with
``CI`` set in the environment a missing application fails the test instead of skipping it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NoReturn

from pydantic import BaseModel

from ..conftest import soffice_path, ssconvert_path, unavailable

XLSX_FILTER = "Calc MS Excel 2007 XML"
DEFAULT_TIMEOUT = 180.0


class RealAppError(RuntimeError):
    """The application failed, refused the document or timed out; the message says which."""


class CellReport(BaseModel):
    """What LibreOffice saw at one cell it was asked to fill, and what the cell held afterwards."""

    sheet: str
    cell: str
    sheet_protected: bool
    locked: bool
    validation: str  # LibreOffice's ValidationType name: "LIST", "ANY", "DATE", ...
    show_list: bool  # the in-cell drop-down arrow is offered (meaningful for "LIST")
    formula: str = ""  # the validation's first formula: a list's entries, as LibreOffice read them
    text: str  # the cell's displayed text after the edit


# --- finding the applications -------------------------------------------------------------------
def _clean_env() -> dict[str, str]:
    """The environment without the project interpreter's Python settings (pyenv, venvs)."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYENV_VERSION")
    return {k: v for k, v in os.environ.items() if k not in drop}


@functools.cache
def uno_python() -> str | None:
    """A Python interpreter that can ``import uno``, or None.

    Tried in order: $SHEET_TOOLS_UNO_PYTHON, /usr/bin/python3 (Debian/Ubuntu python3-uno), the
    Python bundled in LibreOffice's program folder (LibreOffice's own packages).
    """
    candidates = [os.environ.get("SHEET_TOOLS_UNO_PYTHON"), "/usr/bin/python3"]
    soffice = soffice_path()
    if soffice:
        candidates.append(str(Path(soffice).resolve().parent / "python"))
    for candidate in candidates:
        if not candidate or not Path(candidate).is_file():
            continue
        try:
            probe = subprocess.run(
                [candidate, "-c", "import uno"],
                env=_clean_env(),
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return candidate
    return None


def _missing(reason: str) -> NoReturn:
    """Skip on a developer's machine; fail in CI, which is meant to have everything installed."""
    unavailable(reason, "CI must install it (see .ci/run)")


def require_libreoffice(*, uno: bool = False) -> str:
    """The soffice executable; skips the test only if LibreOffice (or, with ``uno``, UNO) is
    missing."""
    soffice = soffice_path()
    if soffice is None:
        _missing("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    if uno and uno_python() is None:
        _missing("no Python can import uno (apt-get install python3-uno)")
    return soffice


def require_gnumeric() -> str:
    """The ssconvert executable; skips the test only if Gnumeric is missing."""
    ssconvert = ssconvert_path()
    if ssconvert is None:
        _missing("Gnumeric's ssconvert is not installed (apt-get install gnumeric)")
    return ssconvert


# --- running them safely -----------------------------------------------------------------------
def _run(command: Sequence[str], timeout: float, what: str) -> str:
    """Run ``command`` in its own process group; kill the whole group on timeout and afterwards.

    soffice forks (oosplash -> soffice.bin), so killing only the direct child could leave a
    LibreOffice behind; the group holds everything this call started and nothing else.
    """
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_clean_env(),
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        process.communicate()
        raise RealAppError(f"{what} timed out after {timeout:.0f} s and was killed") from None
    finally:
        _kill_group(process.pid)
    if process.returncode != 0:
        raise RealAppError(f"{what} failed (exit {process.returncode}): {stderr.strip()[-2000:]}")
    return stdout


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _profile_args(profile: Path) -> list[str]:
    return [
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--invisible",
        "--nologo",
        "--nodefault",
        "--norestore",
        "--nolockcheck",
    ]


def _convert(path: Path, target: Path, convert_to: str, timeout: float) -> Path:
    """``soffice --convert-to`` into a private folder, then move the result to ``target``."""
    soffice = soffice_path()
    if soffice is None:
        raise RealAppError("LibreOffice is not installed")
    with tempfile.TemporaryDirectory(prefix="sheet-tools-lo-") as work:
        profile, outdir = Path(work, "profile"), Path(work, "out")
        outdir.mkdir()
        output = _run(
            [
                soffice,
                *_profile_args(profile),
                "--convert-to",
                convert_to,
                "--outdir",
                str(outdir),
                str(path),
            ],
            timeout,
            f"LibreOffice converting {path.name} to {convert_to}",
        )
        produced = list(outdir.iterdir())
        if len(produced) != 1:
            # soffice exits 0 even when it could not load the file; it only says so on stdout.
            raise RealAppError(f"LibreOffice produced no {convert_to} for {path.name}: {output}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(produced[0], target)
    return target


# --- the public helpers ------------------------------------------------------------------------
def libreoffice_fill(
    path: Path | str,
    edits: Iterable[tuple[str, str, object]],
    out: Path | str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[CellReport]:
    """Open ``path`` in LibreOffice, type each edit in, save as .xlsx to ``out``.

    ``edits`` are ``(sheet name, cell address, value)``: a str is set as text (as if typed and
    chosen from a drop-down; no formula parsing), an int/float as a number. For each edit the
    result reports what LibreOffice saw at that cell before writing (sheet protection, whether the
    cell is locked, its validation) and the text it showed afterwards.

    UNO's cell API writes regardless of sheet protection (protection guards the user interface),
    so a test checks ``locked``/``sheet_protected`` in the report to prove it only wrote where a
    person could.
    """
    python = uno_python()
    soffice = soffice_path()
    if python is None or soffice is None:
        raise RealAppError("LibreOffice with UNO (python3-uno) is needed")
    source, target = Path(path).resolve(), Path(out).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sheet-tools-uno-") as work:
        job = {
            "soffice": soffice,
            "args": _profile_args(Path(work, "profile")),
            "pipe": f"sheet_tools_{uuid.uuid4().hex}",
            "source": source.as_uri(),
            "target": target.as_uri(),
            "filter": XLSX_FILTER,
            "edits": [_edit(sheet, cell, value) for sheet, cell, value in edits],
            "timeout": max(timeout - 15, 10),
        }
        job_file, script_file = Path(work, "job.json"), Path(work, "fill.py")
        job_file.write_text(json.dumps(job), encoding="utf-8")
        script_file.write_text(_UNO_FILL_SCRIPT, encoding="utf-8")
        stdout = _run(
            [python, str(script_file), str(job_file)], timeout, f"LibreOffice filling {source.name}"
        )
    if not target.exists():
        raise RealAppError(f"LibreOffice did not write {target}")
    return [CellReport.model_validate(item) for item in json.loads(stdout.strip().splitlines()[-1])]


def _edit(sheet: str, cell: str, value: object) -> list[object]:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"edit values must be str, int or float, not {type(value).__name__}")
    return [sheet, cell, value]


def libreoffice_resave(path: Path | str, out: Path | str, *, timeout: float = 120) -> Path:
    """Open and re-save as .xlsx with headless ``soffice --convert-to`` (no edits)."""
    return _convert(Path(path).resolve(), Path(out), f"xlsx:{XLSX_FILTER}", timeout)


def libreoffice_to_pdf(path: Path | str, outdir: Path | str, *, timeout: float = 120) -> Path:
    """Export a workbook to PDF with headless LibreOffice, honouring its print setup."""
    source = Path(path).resolve()
    return _convert(source, Path(outdir) / f"{source.stem}.pdf", "pdf", timeout)


def gnumeric_resave(path: Path | str, out: Path | str, *, timeout: float = 120) -> Path:
    """Open and re-save as .xlsx with Gnumeric's ``ssconvert`` (Office Open XML exporter)."""
    ssconvert = ssconvert_path()
    if ssconvert is None:
        raise RealAppError("Gnumeric's ssconvert is not installed")
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [ssconvert, "--export-type=Gnumeric_Excel:xlsx2", str(path), str(target)],
        timeout,
        f"Gnumeric re-saving {Path(path).name}",
    )
    if not target.exists():
        raise RealAppError(f"ssconvert did not write {target}")
    return target


class PdfSummary(BaseModel):
    pages: int
    width: float  # of the first page, in points
    height: float


def pdf_summary(path: Path | str) -> PdfSummary:
    """Page count and first page size: ``pdfinfo`` (poppler-utils) when present, else read from
    the file (LibreOffice writes plain page objects, so counting them is reliable)."""
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo:
        info = _run([pdfinfo, str(path)], 60, f"pdfinfo {Path(path).name}")
        pages = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
        size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+)", info, re.MULTILINE)
        if pages and size:
            return PdfSummary(
                pages=int(pages.group(1)), width=float(size.group(1)), height=float(size.group(2))
            )
    data = Path(path).read_bytes()
    box = re.search(rb"/MediaBox\s*\[\s*[\d.]+\s+[\d.]+\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    return PdfSummary(
        pages=len(re.findall(rb"/Type\s*/Page(?![s\w])", data)),
        width=float(box.group(1)) if box else 0.0,
        height=float(box.group(2)) if box else 0.0,
    )


def require_pdftotext() -> str:
    """The pdftotext executable; skips the test only if poppler-utils is missing."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        _missing("pdftotext is not installed (apt-get install poppler-utils)")
    return pdftotext


def pdf_page_texts(path: Path | str) -> list[str]:
    """The text of each page, whitespace collapsed (``pdftotext``, pages split at form feeds)."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        raise RealAppError("pdftotext is not installed (apt-get install poppler-utils)")
    text = _run([pdftotext, "-enc", "UTF-8", str(path), "-"], 60, f"pdftotext {Path(path).name}")
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return [" ".join(page.split()) for page in pages]


# Runs under the UNO Python. Reads a job file, prints one JSON line of CellReports on success.
_UNO_FILL_SCRIPT = r"""
import json
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    item = PropertyValue()
    item.Name = name
    item.Value = value
    return item


def connect(job, process, deadline):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    url = "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % job["pipe"]
    while True:
        try:
            return resolver.resolve(url)
        except Exception as exc:
            if process.poll() is not None:
                sys.exit("soffice exited (%s) before accepting a connection" % process.returncode)
            if time.monotonic() > deadline:
                sys.exit("soffice did not accept a connection in time: %s" % exc)
            time.sleep(0.25)


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        job = json.load(handle)
    deadline = time.monotonic() + job["timeout"]
    accept = "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % job["pipe"]
    process = subprocess.Popen(
        [job["soffice"], *job["args"], accept],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    desktop = None
    try:
        context = connect(job, process, deadline)
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context
        )
        document = desktop.loadComponentFromURL(
            job["source"], "_blank", 0, (prop("Hidden", True), prop("ReadOnly", False))
        )
        if document is None or not hasattr(document, "Sheets"):
            sys.exit("LibreOffice could not open %s as a spreadsheet" % job["source"])
        reports = []
        for sheet_name, address, value in job["edits"]:
            if not document.Sheets.hasByName(sheet_name):
                sys.exit("no sheet named %r in the document" % sheet_name)
            sheet = document.Sheets.getByName(sheet_name)
            cell = sheet.getCellRangeByName(address)
            validation = cell.Validation
            report = {
                "sheet": sheet_name,
                "cell": address,
                "sheet_protected": bool(sheet.isProtected()),
                "locked": bool(cell.CellProtection.IsLocked),
                "validation": validation.Type.value,
                "show_list": bool(validation.ShowList),
                "formula": validation.getFormula1(),
            }
            if isinstance(value, str):
                cell.setString(value)
            else:
                cell.setValue(value)
            report["text"] = cell.getString()
            reports.append(report)
        document.storeToURL(job["target"], (prop("FilterName", job["filter"]),))
        document.close(True)
        print(json.dumps(reports))
    finally:
        if desktop is not None:
            try:
                desktop.terminate()
            except Exception:
                pass  # the bridge drops as soffice exits
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


main()
"""
