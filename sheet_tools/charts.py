"""Radar charts of area scores: a native Excel chart and a matplotlib picture of the same data.

The native chart (openpyxl ``RadarChart``) points at cells in the workbook, so a trust can restyle
it or reuse it in its own reports. The picture looks the same in every spreadsheet application,
PDF and e-mail preview, including those that draw native charts badly or not at all. matplotlib
is driven through its Agg canvas directly (no pyplot, no global state, no display needed).

An area nobody judged has no score: it is drawn as a gap, never as zero.
"""

from __future__ import annotations

import functools
import math
import os
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.projections.polar import PolarAxes
from openpyxl.chart import RadarChart, Reference, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.drawing.image import Image
from openpyxl.worksheet.worksheet import Worksheet
from PIL import Image as PILImage

from .frameworks import Level

# Dark blue and orange (ColorBrewer Dark2/Paired): told apart with the common colour-vision
# deficiencies, and the second series is also dashed so it reads in black and white.
SERIES_COLOURS = ("1F4E79", "D95F02", "1B9E77", "7570B3")
SERIES_DASHES = ("solid", "dash", "sysDot", "lgDash")
_MPL_DASHES = ("-", "--", ":", "-.")

# Picture size: 5.6 x 4.4 inches at 100 dpi is legible on screen and in an A4 print.
PNG_SIZE = (5.6, 4.4)
PNG_DPI = 100


def _wrap(label: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


@dataclass(frozen=True)
class _RadarBase:
    figure: Figure
    axes: PolarAxes
    background: object  # the rendered rings, spokes and labels, restored before each chart


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
    axes.tick_params(axis="x", pad=14)
    axes.grid(color="#BBBBBB", linewidth=0.6)
    canvas.draw()
    return _RadarBase(figure, axes, canvas.copy_from_bbox(figure.bbox))


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
    figure, axes = base.figure, base.axes
    canvas = figure.canvas
    angles = _angles(len(labels))
    drawn: list[Artist] = []
    for index, (name, values) in enumerate(series):
        points = [math.nan if value is None else float(value) for value in values]
        colour = "#" + SERIES_COLOURS[index % len(SERIES_COLOURS)]
        if all(math.isfinite(p) for p in points):
            drawn.extend(axes.fill(angles, points, color=colour, alpha=0.12))
        drawn.extend(
            axes.plot(
                [*angles, angles[0]],
                [*points, points[0]],
                _MPL_DASHES[index % len(_MPL_DASHES)],
                color=colour,
                linewidth=2,
                marker="o",
                markersize=4,
                label=name,
            )
        )
    if title:
        drawn.append(figure.text(0.5, 0.975, _wrap(title, 70), ha="center", va="top", fontsize=10))
    if len(series) > 1:
        drawn.append(figure.legend(loc="lower left", fontsize=8, frameon=False))
    try:
        canvas.restore_region(base.background)
        renderer = canvas.get_renderer()
        for artist in drawn:
            artist.draw(renderer)
        width, height = canvas.get_width_height()
        pixels = PILImage.frombuffer("RGBA", (width, height), bytes(canvas.buffer_rgba()))
    finally:
        for artist in drawn:
            artist.remove()
    buffer = BytesIO()
    pixels.convert("RGB").save(buffer, format="png", compress_level=3)
    return buffer.getvalue()


def embed_png(ws: Worksheet, png: bytes, anchor: str) -> Image:
    """Place a PNG on a sheet at its natural size (100 dpi pixels shown as screen pixels)."""
    image = Image(BytesIO(png))
    ws.add_image(image, anchor)
    return image


def native_radar(
    ws: Worksheet,
    *,
    categories: Reference,
    series: Sequence[tuple[Reference, Reference]],
    scale: Sequence[Level],
    anchor: str,
    title: str | None = None,
    width_cm: float = 15.0,
    height_cm: float = 11.5,
) -> RadarChart:
    """An editable Excel radar chart over cells already on ``ws``: one axis per cell of
    ``categories``, one outline per (name cell, values) in ``series``, the values a row or a
    column as long as the categories. Blank cells are gaps, never zeros."""
    ordered = sorted(level.score for level in scale)
    chart = RadarChart()
    chart.type = "marker"
    chart.style = 2
    chart.title = title
    chart.width = width_cm
    chart.height = height_cm
    chart.display_blanks = "gap"
    chart.y_axis.scaling.min = ordered[0] - 1 if ordered[0] > 0 else ordered[0]
    chart.y_axis.scaling.max = ordered[-1]
    chart.y_axis.majorUnit = 1
    chart.y_axis.number_format = "0"
    chart.y_axis.delete = False
    chart.x_axis.delete = False
    chart.legend.position = "b"
    for index, (name, values) in enumerate(series):
        outline = Series(values)
        outline.tx = SeriesLabel(strRef=StrRef(str(name)))
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        outline.graphicalProperties.line.solidFill = colour
        outline.graphicalProperties.line.width = 28575  # 2.25 pt in EMU
        outline.graphicalProperties.line.dashStyle = SERIES_DASHES[index % len(SERIES_DASHES)]
        outline.marker.symbol = "circle"
        outline.marker.size = 5
        outline.marker.graphicalProperties.solidFill = colour
        outline.marker.graphicalProperties.line.solidFill = colour
        outline.smooth = False
        chart.series.append(outline)
    chart.set_categories(categories)
    ws.add_chart(chart, anchor)
    return chart


def column_series(ws: Worksheet, column: int, header_row: int, last_row: int):
    """(name cell, values) of a series held in a column under its header."""
    return (
        Reference(ws, min_col=column, min_row=header_row),
        Reference(ws, min_col=column, min_row=header_row + 1, max_row=last_row),
    )


def write_bytes_atomically(data: bytes, target: Path) -> Path:
    """Write beside the target and rename into place, so nobody opens half a picture."""
    handle, temp_name = tempfile.mkstemp(prefix=".~sheet-tools-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target
