"""The level colours seen with colour-vision deficiency: simulated with Machado, Oliveira and
Fernandes (2009) at full severity (protanopia, deuteranopia, tritanopia), in linear RGB, and
compared in CIELAB. The default scale is ColorBrewer RdBu, a diverging palette: its lightness
rises to the middle and falls again by design, so "ordered" is checked along the palette's own
axis (its first principal direction in CIELAB), which every simulation must keep monotonic."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

import numpy as np
import pytest

from sheet_tools.definitions.frameworks import DEFAULT_SCALE, NOT_APPLICABLE_COLOUR
from tests.support.reference_cases import build_summaries

MACHADO = {
    "protanopia": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopia": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopia": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}
MIN_DELTA_E = 10.0  # CIE76: well above "just noticeable" (about 2.3), for print and screens


def _linear(hex_colour: str) -> np.ndarray:
    srgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0, 1)
    xyz = (
        np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
        @ linear
        / np.array([0.95047, 1.0, 1.08883])
    )
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _seen(colours: list[str], matrix: list[list[float]] | None) -> np.ndarray:
    return np.array(
        [_lab(_linear(c) if matrix is None else np.array(matrix) @ _linear(c)) for c in colours]
    )


@pytest.mark.parametrize("vision", [None, *MACHADO])
def test_the_ordered_scale_stays_distinguishable_and_ordered(vision: str | None) -> None:
    colours = [level.colour for level in sorted(DEFAULT_SCALE, key=lambda lv: lv.score)]
    lab = _seen(colours, MACHADO[vision] if vision else None)
    steps = np.linalg.norm(np.diff(lab, axis=0), axis=1)
    assert steps.min() >= MIN_DELTA_E, (vision, steps.round(1))
    centred = lab - lab.mean(axis=0)
    axis = np.linalg.svd(centred)[2][0]
    along = np.diff(centred @ axis)
    assert (along > 0).all() or (along < 0).all(), (vision, along.round(1))
    # Not applicable's grey is apart from every level, whatever the vision
    grey = _seen([NOT_APPLICABLE_COLOUR], MACHADO[vision] if vision else None)[0]
    assert np.linalg.norm(lab - grey, axis=1).min() >= 5.0, vision


def test_one_palette_across_cells_and_charts() -> None:
    """The trust Overview's stacked bar fills its segments with the levels' cell colours."""
    data = build_summaries()["trust-summary.xlsx"]
    with zipfile.ZipFile(BytesIO(data)) as archive:
        bars = [
            archive.read(n).decode()
            for n in archive.namelist()
            if n.startswith("xl/charts/") and b"barChart" in archive.read(n)
        ]
    assert len(bars) == 1
    fills = re.findall(r'<c:ser>.*?<a:srgbClr val="([0-9A-F]{6})"', bars[0], flags=re.DOTALL)
    assert fills == [level.colour for level in DEFAULT_SCALE]
