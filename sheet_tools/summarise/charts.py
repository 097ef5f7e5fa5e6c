"""Radar charts of area scores: a native Excel chart and a matplotlib picture of the same data;
and a native 100% stacked bar chart of the levels per area.

The native chart (an XlsxWriter radar chart) points at cells in the workbook, so a trust can restyle
it or reuse it in its own reports. The picture looks the same in every spreadsheet application,
PDF and e-mail preview, including those that draw native charts badly or not at all. matplotlib
is driven through its Agg canvas directly (no pyplot, no global state, no display needed).

An area nobody judged has no score: it is drawn as a gap, never as zero.
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO

from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.projections.polar import PolarAxes
from matplotlib.text import Text
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from xlsxwriter.chart import Chart
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..definitions.frameworks import Level
from .cells import SUBTITLE, WRAP, SummarySheet, put, write_section

# Dark blue and orange (ColorBrewer Dark2/Paired): told apart with the common colour-vision
# deficiencies, and the second series is also dashed so it reads in black and white.
SERIES_COLOURS = ("1F4E79", "D95F02", "1B9E77", "7570B3")
SERIES_DASHES = ("solid", "dash", "round_dot", "long_dash")  # XlsxWriter's names
_MPL_DASHES = ("-", "--", ":", "-.")

# Picture size: 5.6 x 4.4 inches at 100 dpi is legible on screen and in an A4 print.
PNG_SIZE = (5.6, 4.4)
PNG_DPI = 100
_TITLE_POINTS = 10


def _wrap(label: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


LABEL_WIDTH = 18  # characters on a line of a native chart's axis label


def label_lines(label: str) -> str:
    """An axis label broken into lines at word boundaries: a native chart draws the line breaks
    of the cells it reads its labels from, and wraps nothing itself."""
    return "\n".join(
        line for part in label.split("\n") for line in textwrap.wrap(part, LABEL_WIDTH) or [""]
    )


@dataclass(frozen=True)
class _RadarBase:
    figure: Figure
    axes: PolarAxes
    background: object  # the rendered rings, spokes and labels, restored before each chart
    # the n-th series' (fill, outline), made on first use and given new data for each chart
    outlines: dict[int, tuple[Polygon, Line2D]] = field(default_factory=dict)


@functools.lru_cache(maxsize=4)
def _radar_base(labels: tuple[str, ...], scale: tuple[Level, ...]) -> _RadarBase:
    """Rings, spokes and labels drawn once and kept as pixels: laying out and rendering the
    text costs far more than the data, and a trust rebuild draws thousands of charts."""
    ordered = sorted(scale, key=lambda level: level.score)
    low, high = ordered[0].score, ordered[-1].score
    figure = Figure(figsize=PNG_SIZE, dpi=PNG_DPI)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot(projection="polar")
    figure.subplots_adjust(left=0.2, right=0.8, bottom=0.1, top=0.76)
    angles = _angles(len(labels))
    axes.set_theta_offset(math.pi / 2)
    axes.set_theta_direction(-1)
    axes.set_ylim(low - 1 if low > 0 else low, high)
    axes.set_yticks([level.score for level in ordered])
    axes.set_yticklabels([level.label for level in ordered], fontsize=7, color="#555555")
    axes.set_rlabel_position(180 / max(len(labels), 1))
    axes.set_xticks(angles)
    axes.set_xticklabels([_wrap(label) for label in labels], fontsize=8)
    axes.tick_params(axis="x", pad=6)
    for text, angle in zip(axes.get_xticklabels(), angles, strict=True):
        _point_away(text, angle)
    axes.grid(color="#BBBBBB", linewidth=0.6)
    canvas.draw()
    return _RadarBase(figure, axes, canvas.copy_from_bbox(figure.bbox))


def _point_away(text: Text, angle: float) -> None:
    """Align an area's label so it grows away from the rings: a label is anchored at its centre
    by default, so a wrapped one reaches back over the outer ring."""
    across, up = math.sin(angle), math.cos(angle)  # clockwise from the top
    text.set_horizontalalignment(
        "center" if abs(across) < 0.2 else "left" if across > 0 else "right"
    )
    text.set_verticalalignment("center" if abs(up) < 0.2 else "bottom" if up > 0 else "top")


def _outline(base: _RadarBase, index: int, count: int) -> tuple[Polygon, Line2D]:
    """The fill and outline artists of series ``index``: made once per chart background, since
    making artists costs more than drawing them. They stay on the axes but are only ever drawn
    one by one onto the restored background, never by a full redraw."""
    held = base.outlines.get(index)
    if held is None:
        colour = "#" + SERIES_COLOURS[index % len(SERIES_COLOURS)]
        zeros = [0.0] * count
        angles = _angles(count)
        (fill,) = base.axes.fill(angles, zeros, color=colour, alpha=0.12)
        (line,) = base.axes.plot(
            [*angles, angles[0]],
            [*zeros, 0.0],
            _MPL_DASHES[index % len(_MPL_DASHES)],
            color=colour,
            linewidth=2,
            marker="o",
            markersize=4,
        )
        held = base.outlines[index] = (fill, line)
    return held


def _angles(count: int) -> list[float]:
    return [2 * math.pi * i / count for i in range(count)]


def radar_png(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    scale: Sequence[Level],
    *,
    title: str | None = None,
) -> bytes:
    """PNG bytes of a radar chart: one axis per label, one outline per series (name, values).

    Rings mark the levels of ``scale`` and are labelled with them; ``None`` values leave a gap.
    """
    base = _radar_base(tuple(labels), tuple(scale))
    figure = base.figure
    canvas = figure.canvas
    angles = _angles(len(labels))
    drawn: list[Artist] = []
    lines: list[Line2D] = []
    for index, (_, values) in enumerate(series):
        points = [math.nan if value is None else float(value) for value in values]
        fill, line = _outline(base, index, len(labels))
        if all(math.isfinite(p) for p in points):
            fill.set_xy(list(zip(angles, points, strict=True)))
            drawn.append(fill)
        line.set_data([*angles, angles[0]], [*points, points[0]])
        drawn.append(line)
        lines.append(line)
    legend = None
    if len(series) > 1:
        legend = figure.legend(
            lines, [name for name, _ in series], loc="lower left", fontsize=8, frameon=False
        )
        drawn.append(legend)
    try:
        canvas.restore_region(base.background)
        renderer = canvas.get_renderer()
        for artist in drawn:
            artist.draw(renderer)
        width, height = canvas.get_width_height()
        pixels = PILImage.frombuffer("RGBA", (width, height), bytes(canvas.buffer_rgba()))
    finally:
        if legend is not None:
            legend.remove()
    picture = pixels.convert("RGB")
    if title:
        _draw_title(picture, title)
    # A palette of 128 colours keeps every line and label sharp, and the file a third of the
    # size; encoding it is also faster than encoding full colour.
    buffer = BytesIO()
    picture.quantize(128, method=PILImage.Quantize.FASTOCTREE).save(
        buffer, format="png", compress_level=3
    )
    return buffer.getvalue()


@functools.cache
def _title_font() -> ImageFont.FreeTypeFont:
    """matplotlib's own font at 10 pt, for titles drawn by Pillow: a chart's title is the one
    text that differs from chart to chart, and Pillow draws it in a tenth of Agg's time."""
    path = font_manager.findfont(font_manager.FontProperties())
    return ImageFont.truetype(path, _TITLE_POINTS * PNG_DPI / 72)


def _draw_title(picture: PILImage.Image, title: str) -> None:
    """The title centred at the top, wrapped at 70 characters, in black."""
    draw = ImageDraw.Draw(picture)
    draw.multiline_text(
        (picture.width / 2, round(picture.height * 0.025)),
        _wrap(title, 70),
        fill=(0, 0, 0),
        font=_title_font(),
        anchor="ma",
        align="center",
    )


def embed_png(ws: Worksheet, png: bytes, row: int, column: int) -> None:
    """Place a PNG with its top left corner in cell (row, column), numbered from 1, at its
    natural size (100 dpi pixels shown as screen pixels)."""
    ws.insert_image(row - 1, column - 1, "radar.png", {"image_data": BytesIO(png)})


def cells(
    sheet: str,
    first_row: int,
    first_column: int,
    last_row: int | None = None,
    last_column: int | None = None,
) -> list:
    """A cell, or a block of cells, on ``sheet`` for a chart to point at (numbered from 1)."""
    if last_row is None and last_column is None:
        return [sheet, first_row - 1, first_column - 1]
    return [
        sheet,
        first_row - 1,
        first_column - 1,
        (last_row if last_row is not None else first_row) - 1,
        (last_column if last_column is not None else first_column) - 1,
    ]


def axis_labels(ws: SummarySheet, row: int, labels: Sequence[str]) -> tuple[list, int]:
    """A titled block of a chart's axis labels, from ``row`` down column A, each broken into lines
    (``label_lines``): a native chart shows the line breaks of the cells it reads its labels
    from, so it points here and the table people read keeps its texts whole. Returns the
    chart's categories and the first row after the block."""
    row = write_section(ws, row, "Chart axis labels")
    put(
        ws,
        row,
        1,
        "The area names as the charts above show them, broken into lines (not printed).",
        font=SUBTITLE,
    )
    first = row + 1
    for offset, label in enumerate(labels):
        put(ws, first + offset, 1, label_lines(label), border=True, alignment=WRAP)
    last = first + len(labels) - 1
    return cells(ws.title, first, 1, last, 1), last + 1


def print_above(ws: SummarySheet, row: int, columns: int) -> None:
    """Print the sheet down to the row above ``row`` (numbered from 1), ``columns`` wide: what
    follows is there for the charts, not for the page."""
    ws.ws.print_area(0, 0, row - 2, columns - 1)


def _pixels(cm: float) -> int:
    return round(cm / 2.54 * 96)


def native_radar(
    book: Workbook,
    ws: Worksheet,
    *,
    categories: list,
    series: Sequence[tuple[list, list]],
    scale: Sequence[Level],
    anchor: tuple[int, int],
    title: str | None = None,
    width_cm: float = 15.0,
    height_cm: float = 11.5,
) -> Chart:
    """An editable Excel radar chart over cells already on ``ws``: one axis per cell of
    ``categories``, one outline per (name cell, values) in ``series`` (see ``cells``), the values
    a row or a column as long as the categories, its top left corner in cell ``anchor`` (row,
    column, from 1). Blank cells are gaps, never zeros."""
    ordered = sorted(level.score for level in scale)
    chart = book.add_chart({"type": "radar", "subtype": "with_markers"})
    chart.set_style(2)
    if title:
        chart.set_title({"name": title})
    chart.set_size({"width": _pixels(width_cm), "height": _pixels(height_cm)})
    chart.show_blanks_as("gap")
    chart.set_y_axis(
        {
            "min": ordered[0] - 1 if ordered[0] > 0 else ordered[0],
            "max": ordered[-1],
            "major_unit": 1,
            "num_format": "0",
        }
    )
    chart.set_legend({"position": "bottom"})
    for index, (name, values) in enumerate(series):
        colour = "#" + SERIES_COLOURS[index % len(SERIES_COLOURS)]
        chart.add_series(
            {
                "name": name,
                "categories": categories,
                "values": values,
                "line": {
                    "color": colour,
                    "width": 2.25,
                    "dash_type": SERIES_DASHES[index % len(SERIES_DASHES)],
                },
                "marker": {
                    "type": "circle",
                    "size": 5,
                    "fill": {"color": colour},
                    "border": {"color": colour},
                },
            }
        )
    ws.insert_chart(anchor[0] - 1, anchor[1] - 1, chart)
    return chart


def column_series(sheet: str, column: int, header_row: int, last_row: int) -> tuple[list, list]:
    """(name cell, values) of a series held in a column under its header (numbered from 1)."""
    return (
        cells(sheet, header_row, column),
        cells(sheet, header_row + 1, column, last_row, column),
    )


def native_level_bars(
    book: Workbook,
    ws: Worksheet,
    *,
    categories: list,
    series: Sequence[tuple[list, list, Level]],
    anchor: tuple[int, int],
    title: str | None = None,
    width_cm: float = 15.0,
    height_cm: float = 11.5,
) -> Chart:
    """An editable Excel 100% stacked bar chart: one bar per cell of ``categories`` (in their
    order, top to bottom), one segment per (name cell, values, level) of ``series``, coloured as
    the level is in the workbooks schools fill in."""
    chart = book.add_chart({"type": "bar", "subtype": "percent_stacked"})
    if title:
        chart.set_title({"name": title})
    chart.set_size({"width": _pixels(width_cm), "height": _pixels(height_cm)})
    chart.set_y_axis({"reverse": True})  # a bar chart's categories run upwards otherwise
    chart.set_legend({"position": "bottom"})
    for name, values, level in series:
        chart.add_series(
            {
                "name": name,
                "categories": categories,
                "values": values,
                "fill": {"color": f"#{level.colour}"},
                "border": {"color": "#7F7F7F", "width": 0.5},
                "gap": 60,
            }
        )
    ws.insert_chart(anchor[0] - 1, anchor[1] - 1, chart)
    return chart
