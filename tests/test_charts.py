"""Radar charts: the matplotlib picture and the native Excel chart, on real files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import xlsxwriter
from openpyxl import load_workbook
from PIL import Image

from sheet_tools.definitions.frameworks import DEFAULT_SCALE
from sheet_tools.summarise import charts

LABELS = ["Leadership", "Environment", "Knowledge of pupils", "Curriculum", "Partnerships"]
SCHOOL_BLUE = tuple(int(charts.SERIES_COLOURS[0][i : i + 2], 16) for i in (0, 2, 4))


def _image(png: bytes) -> Image.Image:
    return Image.open(BytesIO(png)).convert("RGB")


def _blue_near_centre(png: bytes, radius: int) -> int:
    """Pixels of the first series' colour within ``radius`` of the chart's centre."""
    base = charts._radar_base(tuple(LABELS), DEFAULT_SCALE)
    box = base.axes.get_position()
    image = _image(png)
    cx = round((box.x0 + box.x1) / 2 * image.width)
    cy = round((1 - (box.y0 + box.y1) / 2) * image.height)
    count = 0
    for x in range(cx - radius, cx + radius + 1):
        for y in range(cy - radius, cy + radius + 1):
            pixel = image.getpixel((x, y))
            if all(abs(a - b) < 40 for a, b in zip(pixel, SCHOOL_BLUE, strict=True)):
                count += 1
    return count


def test_radar_png_is_a_picture_of_the_expected_size() -> None:
    png = charts.radar_png(LABELS, [("School", [1, 2, 3, 4, 2.5])], DEFAULT_SCALE, title="T")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = _image(png).size
    assert (width, height) == (
        round(charts.PNG_SIZE[0] * charts.PNG_DPI),
        round(charts.PNG_SIZE[1] * charts.PNG_DPI),
    )
    assert len(_image(png).getcolors(maxcolors=1 << 20)) > 3  # something is drawn


def test_an_area_without_a_score_is_a_gap_not_zero() -> None:
    gap = charts.radar_png(LABELS, [("School", [4, 4, 4, 4, None])], DEFAULT_SCALE)
    zero = charts.radar_png(LABELS, [("School", [4, 4, 4, 4, 0])], DEFAULT_SCALE)
    assert _blue_near_centre(zero, 6) > 0  # a real zero reaches the centre...
    assert _blue_near_centre(gap, 6) == 0  # ...a missing score does not


def test_each_chart_starts_from_a_clean_drawing() -> None:
    first = charts.radar_png(LABELS, [("A", [1, 1, 1, 1, 1])], DEFAULT_SCALE, title="A")
    charts.radar_png(
        LABELS, [("B", [4, 3, 2, 4, 3]), ("Trust", [2, 2, 2, 2, 2])], DEFAULT_SCALE, title="B"
    )
    assert charts.radar_png(LABELS, [("A", [1, 1, 1, 1, 1])], DEFAULT_SCALE, title="A") == first


def test_charts_need_no_display(tmp_path: Path) -> None:
    """Drawn on the Agg canvas without pyplot: works with no display and a GUI backend set."""
    script = (
        "import sys\n"
        "from sheet_tools.summarise.charts import radar_png\n"
        "from sheet_tools.definitions.frameworks import DEFAULT_SCALE\n"
        "png = radar_png(['a', 'b', 'c'], [('s', [1, 2, 3])], DEFAULT_SCALE)\n"
        "assert png.startswith(b'\\x89PNG')\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["MPLBACKEND"] = "TkAgg"
    env["MPLCONFIGDIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_native_radar_points_at_the_cells(tmp_path: Path) -> None:
    path = tmp_path / "chart.xlsx"
    book = xlsxwriter.Workbook(path)
    ws = book.add_worksheet("Area scores")  # a space: references must quote the sheet name
    ws.write_row(0, 0, ["Area", "School", "Trust average"])
    for row, values in enumerate(
        zip(LABELS, [1, 2, None, 4, 3], [2, 2, 3, 3, 2], strict=True), start=1
    ):
        ws.write_row(row, 0, values)
    charts.native_radar(
        book,
        ws,
        categories=charts.cells("Area scores", 2, 1, 6, 1),
        series=[charts.column_series("Area scores", column, 1, 6) for column in (2, 3)],
        scale=DEFAULT_SCALE,
        anchor=(2, 5),
        title="Radar",
    )
    book.close()
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/charts/chart1.xml").decode()
    assert re.search(r"<(c:)?radarChart>", xml)
    assert "'Area scores'!$B$2:$B$6" in xml and "'Area scores'!$C$2:$C$6" in xml
    assert "'Area scores'!$A$2:$A$6" in xml  # categories
    assert "'Area scores'!$B$1" in xml and "'Area scores'!$C$1" in xml  # named by the headers
    # Blank cells are gaps: XlsxWriter leaves out <c:dispBlanksAs> for "gap", which is what Excel
    # assumes, and LibreOffice for a file whose app.xml says Excel 2007 (XlsxWriter's does).
    assert not re.search(r'dispBlanksAs val="(zero|span)"', xml)
    with zipfile.ZipFile(path) as archive:
        assert b"<AppVersion>12.0000</AppVersion>" in archive.read("docProps/app.xml")
    assert re.search(r'<(c:)?max val="4"', xml)
    # and openpyxl, as a trust's own tooling would, finds one radar chart anchored at E2 (row 2,
    # column 5 counted from 1; openpyxl's anchor counts from 0) reading both series' cells
    [chart] = load_workbook(path)["Area scores"]._charts
    assert type(chart).__name__ == "RadarChart"
    assert (chart.anchor._from.row + 1, chart.anchor._from.col + 1) == (2, 5)
    assert [s.val.numRef.f for s in chart.series] == [
        "'Area scores'!$B$2:$B$6",
        "'Area scores'!$C$2:$C$6",
    ]


def test_area_labels_stay_clear_of_the_outer_ring_and_inside_the_picture() -> None:
    """Wrapped labels grow away from the rings (a label centred on its spoke reached back over
    the outer ring), and none runs off the picture."""
    labels = (
        "1. Leadership and management of SEND",
        "2. Assessment, planning, review and outcomes",
        "3. Teaching and learning for all",
        "4. Working with parents and carers",
        "5. Environment",
    )
    base = charts._radar_base(labels, DEFAULT_SCALE)
    renderer = base.figure.canvas.get_renderer()
    ring = base.axes.get_window_extent(renderer)
    cx, cy, radius = (ring.x0 + ring.x1) / 2, (ring.y0 + ring.y1) / 2, ring.width / 2
    picture = base.figure.bbox
    texts = base.axes.get_xticklabels()
    assert [t.get_text().replace("\n", " ") for t in texts] == list(labels)
    for text in texts:
        box = text.get_window_extent(renderer)
        nearest_x, nearest_y = min(max(cx, box.x0), box.x1), min(max(cy, box.y0), box.y1)
        gap = ((nearest_x - cx) ** 2 + (nearest_y - cy) ** 2) ** 0.5 - radius
        assert gap > 3, (text.get_text(), gap)
        assert picture.x0 <= box.x0 and box.x1 <= picture.x1, text.get_text()
        assert picture.y0 <= box.y0 and box.y1 <= picture.y1, text.get_text()
