"""Small SVG plots for the feedback report, written directly as SVG text.

Each function returns an SVG document as a string (starting at ``<svg``, no XML
prolog), ready to be embedded as a ``data:`` URI, or ``""`` when its input holds
nothing that can sensibly be drawn (wrong shapes, no finite values, ...).
Student values may be anything: NaN, inf, ragged lists or the wrong type, so
every function checks its input and never raises for bad values.

How a plot is built, without matplotlib figures (a figure and ``savefig`` cost
40-80 ms a plot; this takes about 1-3 ms): a fixed pixel layout (title, axes
frame, tick labels, legend, colour bar) whose margins are sized from text widths
measured on matplotlib's DejaVu Sans with Pillow; data mapped to pixels by
`_Scale`; SVG elements written as text by `_Svg`. The parts that are real work
come from libraries: tick positions from ``matplotlib.ticker`` locators, colours
from ``matplotlib.colormaps``, the 0.5 contour from contourpy, and raster cells
(the decision-boundary grid, the heatmap) as a palette PNG encoded by Pillow,
embedded as a ``data:image/png;base64`` URI and drawn with pixelated scaling.
Nothing depends on time or chance: the same input gives the same bytes.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import contourpy
import matplotlib
import numpy as np
from matplotlib.ticker import LogLocator, MaxNLocator
from PIL import Image, ImageFont

#: Most cells an error heatmap draws; larger arrays are not drawn.
MAX_CELLS = 200_000
#: Colours from the colour-blind-safe Okabe-Ito palette.
STUDENT_COLOUR, TORCH_COLOUR = "#0072B2", "#D55E00"
#: Reference lines; heatmap cells whose value is NaN or inf.
LINE_GREY, BAD_GREY = "#444444", "#9e9e9e"
FONT_FAMILY = "DejaVu Sans, Liberation Sans, sans-serif"
#: Text sizes in px: matplotlib's 9 pt and 10 pt at 96 dpi.
FONT, TITLE_FONT = 12.0, 13.3
#: Plot sizes in px: the former matplotlib figures of 5 x 3.2, 4.2 x 3.6 and 4.6 x 3.6 inches.
LOSS_SIZE, SQUARE_SIZE, HEATMAP_SIZE = (480, 307), (403, 346), (442, 346)
PAD = 6.0  # around the whole plot
TICK = 4.7  # tick length, and the gap between a tick and its label
AXES_TOP = 30.0  # the axes frame starts below the title
X_AXIS_HEIGHT = 2 * TICK + 2 * FONT + 7  # ticks, tick labels and the axis label under the frame
ROW = 17.0  # height of a legend row
SAMPLE = 24.0  # width of a legend row's line or marker sample
COLOURBAR_WIDTH, COLOURBAR_GAP = 12.0, 14.0
LEVELS = 255  # colours per colour map; palette index 255 is for NaN/inf cells
NO_TICKS = np.empty(0)


# ---------------------------------------------------------------- input checks


def _as_float_array(values: Any) -> np.ndarray | None:
    """`values` as a float64 array, or None when it is not numeric and rectangular."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    return array


def _drawable(lo: float, hi: float) -> bool:
    """Whether an axis can show [lo, hi]: finite, not near overflow or underflow, more than one value."""
    size = max(abs(lo), abs(hi))
    return bool(np.isfinite(hi - lo) and size <= 1e300 and hi - lo >= max(1e-250, 1e-9 * size))


def _nonsingular(lo: float, hi: float) -> tuple[float, float]:
    """[lo, hi], widened around its value when it holds (nearly) a single one."""
    if hi - lo > 1e-9 * max(abs(lo), abs(hi)):
        return lo, hi
    delta = abs(lo) * 0.1 if lo else 1.0
    return lo - delta, hi + delta


def _padded(lo: float, hi: float, log: bool = False) -> tuple[float, float]:
    """The data range with 5% margins on both sides (in log10 space for a log axis)."""
    if log:
        low, high = _padded(math.log10(lo), math.log10(hi))
        low, high = float(np.power(10.0, low)), float(np.power(10.0, high))
        return (low if low > 0 else lo), (high if np.isfinite(high) else hi)
    lo, hi = _nonsingular(lo, hi)
    margin = (hi - lo) * 0.05
    return lo - margin, hi + margin


# ---------------------------------------------------------------- text and numbers


@functools.cache
def _font() -> ImageFont.FreeTypeFont | None:
    """matplotlib's DejaVu Sans at 100 px, to measure text; None if Pillow cannot load it."""
    try:
        path = Path(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")
        return ImageFont.truetype(str(path), 100)
    except (OSError, ImportError):
        return None


@functools.cache
def _char_width(char: str) -> float:
    """Advance width of one character at 1 px font size."""
    font = _font()
    return font.getlength(char) / 100 if font is not None else 0.62


def _text_width(text: str, size: float = FONT) -> float:
    """Width in px of `text` in DejaVu Sans (the widest of the fonts the SVG asks for)."""
    return size * sum(_char_width(c) for c in text)


def _esc(text: str) -> str:
    """`text` escaped for SVG content and attribute values."""
    return html.escape(text, quote=True)


def _n(value: float) -> str:
    """A pixel coordinate, to 0.1 px."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(value: float) -> str:
    """A log-axis label: 10 and its exponent in superscript digits."""
    return "10" + str(round(math.log10(value))).translate(SUPERSCRIPTS)


def _tick_labels(ticks: np.ndarray) -> list[str]:
    """Labels that tell the ticks apart with as few digits as possible; e-notation when huge or tiny."""
    if ticks.size == 0:
        return []
    step = float(np.min(np.diff(ticks))) if ticks.size > 1 else max(abs(float(ticks[0])), 1e-300)
    ticks = np.where(np.abs(ticks) < step * 1e-6, 0.0, ticks)
    biggest = float(np.max(np.abs(ticks)))
    if biggest >= 1e5 or 0 < biggest < 1e-3:
        for digits in range(8):
            labels = [f"{t:.{digits}e}" for t in ticks]
            if np.allclose([float(s) for s in labels], ticks, rtol=0, atol=step * 1e-3):
                break
        labels = [_e_notation(s) for s in labels]
    else:
        for decimals in range(12):
            if np.allclose(np.round(ticks, decimals), ticks, rtol=0, atol=step * 1e-3):
                break
        labels = [f"{t:.{decimals}f}" for t in ticks]
    return [s.replace("-", "−") for s in labels]


def _e_notation(text: str) -> str:
    """'2.5e-06' as '2.5e-6', and zero as '0'."""
    mantissa, exponent = text.split("e")
    return "0" if float(mantissa) == 0 else f"{mantissa}e{int(exponent)}"


# ---------------------------------------------------------------- ticks


def _inside(ticks: np.ndarray, lo: float, hi: float, log: bool = False) -> np.ndarray:
    """The ticks within [lo, hi], allowing for rounding; only positive ones on a log axis."""
    slack = 0.0 if log else (hi - lo) * 1e-9
    return ticks[(ticks >= lo - slack) & (ticks <= hi + slack) & ((ticks > 0) | (not log))]


def _labels_fit(pixels: np.ndarray, labels: list[str], vertical: bool) -> bool:
    """Whether labels at these pixel positions keep clear of each other."""
    if len(labels) < 2:
        return True
    gaps = np.abs(np.diff(pixels))
    if vertical:
        return bool(gaps.min() >= FONT + 2)
    widths = np.array([_text_width(s) for s in labels])
    return bool(np.all(gaps >= (widths[1:] + widths[:-1]) / 2 + 8))


def _linear_ticks(lo: float, hi: float, length: float, integer: bool = False,
                  vertical: bool = False) -> tuple[np.ndarray, list[str]]:
    """Nice tick positions in [lo, hi] and their labels, as many as fit along `length` px."""
    nbins = int(min(9, max(2, length // (30 if vertical else 50))))
    while True:
        ticks = _inside(MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10], integer=integer)
                        .tick_values(lo, hi), lo, hi)
        if integer:
            ticks = ticks[ticks == np.round(ticks)]
        labels = _tick_labels(ticks)
        pixels = (ticks - lo) * (length / (hi - lo))
        if nbins <= 2 or _labels_fit(pixels, labels, vertical):
            return ticks, labels
        nbins -= 1


def _log_ticks(lo: float, hi: float, length: float) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Major ticks, their labels and minor ticks for a log axis over [lo, hi].

    Powers of ten when two or more are in range; else 1-2-5 or 1-to-9 steps, else
    plain linear steps, whichever gives three labels that fit.
    """
    decades = math.log10(hi) - math.log10(lo)
    locator = LogLocator(base=10, numticks=max(3, int(length // 24)))
    majors = _inside(locator.tick_values(lo, hi), lo, hi, True)
    if majors.size >= 2:
        minors = LogLocator(base=10, subs=np.arange(2, 10)).tick_values(lo, hi) if decades <= 6 else NO_TICKS
        return majors, [_power_of_ten(t) for t in majors], _inside(minors, lo, hi, True)
    for subs in ((1.0, 2.0, 5.0), np.arange(1, 10)):
        ticks = _inside(LogLocator(base=10, subs=subs).tick_values(lo, hi), lo, hi, True)
        labels = _tick_labels(ticks)
        if ticks.size >= 3 and _labels_fit(np.log10(ticks) * (length / decades), labels, True):
            return ticks, labels, NO_TICKS
    nbins = max(2, int(length // 30))
    while True:
        ticks = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
        ticks = _inside(ticks, lo, hi, True)
        labels = _tick_labels(ticks)
        if nbins <= 2 or _labels_fit(np.log10(ticks) * (length / decades), labels, True):
            return ticks, labels, NO_TICKS
        nbins -= 1


# ---------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Scale:
    """Maps data values on one axis to pixels: `lo` to `start`, `hi` to `end`, linearly or in log10."""

    lo: float
    hi: float
    start: float
    end: float
    log: bool = False

    def __call__(self, values: Any) -> np.ndarray:
        """Pixel positions of `values`."""
        v, lo, hi = np.asarray(values, dtype=np.float64), self.lo, self.hi
        if self.log:
            v, lo, hi = np.log10(v), math.log10(lo), math.log10(hi)
        return self.start + (v - lo) * ((self.end - self.start) / (hi - lo))


@dataclass(frozen=True)
class _Axes:
    """The axes frame in px, how data maps into it, and its ticks."""

    left: float
    top: float
    right: float
    bottom: float
    x: _Scale
    y: _Scale
    xticks: tuple[np.ndarray, list[str]]
    yticks: tuple[np.ndarray, list[str]]
    yminor: np.ndarray

    def points(self, xs: Any, ys: Any) -> np.ndarray:
        """Data points as an (n, 2) array of pixel positions."""
        return np.column_stack([self.x(xs), self.y(ys)])


def _frame_height(size: tuple[int, int], below: float) -> float:
    """Height in px of the axes frame of a plot with `below` px of legend under its x axis."""
    return size[1] - PAD - below - X_AXIS_HEIGHT - AXES_TOP


def _place_axes(size: tuple[int, int], x_range: tuple[float, float], y_range: tuple[float, float], *,
                below: float = 0.0, right_reserve: float = 0.0, x_integer: bool = False,
                y_integer: bool = False, y_log: bool = False, y_down: bool = False) -> _Axes:
    """The axes frame: as large as the plot allows once tick labels, axis labels and extras fit.

    `below` is the height of a legend under the x axis, `right_reserve` the width
    of a colour bar; integer axes get integer ticks; `y_down` puts y's low end on top.
    """
    top = AXES_TOP
    bottom = top + _frame_height(size, below)
    (xlo, xhi), (ylo, yhi) = x_range, y_range
    if y_log:
        *yticks, minor = _log_ticks(ylo, yhi, bottom - top)
    else:
        yticks, minor = _linear_ticks(ylo, yhi, bottom - top, y_integer, vertical=True), NO_TICKS
    left = PAD + FONT + 4 + max((_text_width(s) for s in yticks[1]), default=0.0) + 2 * TICK
    right = size[0] - PAD - max(right_reserve, 8.0)
    xticks = _linear_ticks(xlo, xhi, right - left, x_integer)
    if not right_reserve and xticks[1]:  # the last x label may stick out: make room for it
        overhang = _text_width(xticks[1][-1]) / 2 - (xhi - xticks[0][-1]) * (right - left) / (xhi - xlo)
        if overhang > 8.0:
            right -= overhang - 8.0
            xticks = _linear_ticks(xlo, xhi, right - left, x_integer)
    yscale = _Scale(ylo, yhi, top, bottom, y_log) if y_down else _Scale(ylo, yhi, bottom, top, y_log)
    return _Axes(left, top, right, bottom, _Scale(xlo, xhi, left, right), yscale,
                 (xticks[0], xticks[1]), (yticks[0], yticks[1]), minor)


# ---------------------------------------------------------------- SVG elements


class _Svg:
    """An SVG document being written, one element string at a time."""

    def __init__(self, size: tuple[int, int], title: str) -> None:
        width, height = size
        self.size = size
        self.title = title
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" font-family="{FONT_FAMILY}" font-size="{FONT:g}">',
            f"<title>{_esc(title)}</title>",
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        ]

    def add(self, element: str) -> None:
        """Append one element (already SVG text)."""
        self.parts.append(element)

    def text(self, x: float, y: float, text: str, anchor: str = "middle", size: float = FONT,
             rotate: bool = False) -> None:
        """Text with its baseline at y; `rotate` turns it to read upwards, centred on (x, y)."""
        font = "" if size == FONT else f' font-size="{size:g}"'
        place = (f'transform="translate({_n(x)} {_n(y)}) rotate(-90)"' if rotate
                 else f'x="{_n(x)}" y="{_n(y)}"')
        self.parts.append(f'<text {place} text-anchor="{anchor}"{font}>{_esc(text)}</text>')

    def title_text(self, axes: _Axes) -> None:
        """The plot's title, centred over the axes but kept inside the plot."""
        half = _text_width(self.title, TITLE_FONT) / 2
        x = min(max((axes.left + axes.right) / 2, PAD + half), self.size[0] - PAD - half)
        self.text(x, PAD + TITLE_FONT * 0.95, self.title, size=TITLE_FONT)

    def render(self) -> str:
        """The finished document."""
        return "\n".join([*self.parts, "</svg>"])


def _stroke(colour: str, width: float, dash: str | None = None, opacity: float = 1.0) -> str:
    """Stroke attributes of a line."""
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    faded = f' stroke-opacity="{opacity:g}"' if opacity < 1 else ""
    return f'fill="none" stroke="{colour}" stroke-width="{width:g}"{dashes}{faded}'


def _polyline(points: np.ndarray, style: str) -> str:
    """A line through pixel points, without repeats at 0.1 px."""
    points = np.round(points, 1)
    if points.shape[0] > 1:
        keep = np.r_[True, np.any(points[1:] != points[:-1], axis=1)]
        points = points[keep]
    coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in points.tolist())
    return f'<polyline points="{coords}" {style} stroke-linejoin="round"/>'


def _thin(points: np.ndarray) -> np.ndarray:
    """A long line with increasing x cut to each pixel column's first, last, lowest and highest points."""
    if points.shape[0] <= 1000:
        return points
    column = np.floor(points[:, 0])
    new = np.r_[True, column[1:] != column[:-1]]
    starts = np.flatnonzero(new)
    segment = np.cumsum(new) - 1
    low = np.minimum.reduceat(points[:, 1], starts)[segment]
    high = np.maximum.reduceat(points[:, 1], starts)[segment]
    last = np.r_[new[1:], True]
    return points[new | last | (points[:, 1] == low) | (points[:, 1] == high)]


def _box(axes: _Axes) -> str:
    """Position and size attributes of the axes frame."""
    return (f'x="{_n(axes.left)}" y="{_n(axes.top)}" width="{_n(axes.right - axes.left)}" '
            f'height="{_n(axes.bottom - axes.top)}"')


def _clipped(svg: _Svg, axes: _Axes, elements: list[str]) -> None:
    """Elements clipped to the axes frame, as data lines are."""
    if not elements:
        return
    svg.add(f'<clipPath id="frame"><rect {_box(axes)}/></clipPath>')
    svg.add('<g clip-path="url(#frame)">' + "".join(elements) + "</g>")


def _grid(svg: _Svg, axes: _Axes) -> None:
    """Light grid lines at the major ticks of both axes."""
    xs, ys = axes.x(axes.xticks[0]), axes.y(axes.yticks[0])
    path = "".join(f"M{_n(x)},{_n(axes.top)}V{_n(axes.bottom)}" for x in xs.tolist())
    path += "".join(f"M{_n(axes.left)},{_n(y)}H{_n(axes.right)}" for y in ys.tolist())
    svg.add(f'<path d="{path}" {_stroke("#b0b0b0", 1, opacity=0.4)}/>')


def _decorate(svg: _Svg, axes: _Axes, xlabel: str, ylabel: str) -> None:
    """Frame, ticks, tick labels, axis labels and title."""
    svg.add(f'<rect {_box(axes)} {_stroke("#000000", 1)}/>')
    xs, ys = axes.x(axes.xticks[0]).tolist(), axes.y(axes.yticks[0]).tolist()
    path = "".join(f"M{_n(x)},{_n(axes.bottom)}v{TICK}" for x in xs)
    path += "".join(f"M{_n(axes.left)},{_n(y)}h-{TICK}" for y in ys)
    path += "".join(f"M{_n(axes.left)},{_n(y)}h-{TICK / 2:g}" for y in axes.y(axes.yminor).tolist())
    svg.add(f'<path d="{path}" {_stroke("#000000", 1)}/>')
    label_y = axes.bottom + 2 * TICK + FONT * 0.76
    for x, label in zip(xs, axes.xticks[1], strict=True):
        svg.text(x, label_y, label)
    for y, label in zip(ys, axes.yticks[1], strict=True):
        svg.text(axes.left - 2 * TICK, y + FONT * 0.36, label, anchor="end")
    svg.text((axes.left + axes.right) / 2, label_y + FONT + 4, xlabel)
    svg.text(PAD + FONT * 0.8, (axes.top + axes.bottom) / 2, ylabel, rotate=True)
    svg.title_text(axes)


# ---------------------------------------------------------------- markers and legends


@dataclass(frozen=True)
class _Entry:
    """One legend row: its label and how to draw its sample centred at (x, y)."""

    label: str
    sample: Callable[[float, float], str]


def _line_sample(style: str) -> Callable[[float, float], str]:
    """A legend sample: a short horizontal line in `style`."""
    return lambda x, y: f'<path d="M{_n(x - SAMPLE / 2)},{_n(y)}h{SAMPLE:g}" {style}/>'


def _dot(x: float, y: float, radius: float, style: str) -> str:
    """A circle marker."""
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{radius:g}" {style}/>'


#: A filled plus, arms 7 px long and 4.7 px wide, turned 45 degrees into an X.
CROSS = "M-2.3,-7H2.3V-2.3H7V2.3H2.3V7H-2.3V2.3H-7V-2.3H-2.3Z"


def _cross(x: float, y: float) -> str:
    """matplotlib's "X" marker: a filled black X with a white edge."""
    return (f'<path d="{CROSS}" transform="translate({_n(x)} {_n(y)}) rotate(45)" fill="#000000" '
            f'stroke="#ffffff" stroke-width="1.3"/>')


def _legend_size(entries: list[_Entry]) -> tuple[float, float]:
    """Width and height of a one-column legend, with 4 px of padding."""
    return SAMPLE + 8 + max(_text_width(e.label) for e in entries) + 8, ROW * len(entries) + 8


def _draw_legend(svg: _Svg, entries: list[_Entry], x: float, y: float, backdrop: bool) -> None:
    """A one-column legend with its top left corner at (x, y)."""
    width, height = _legend_size(entries)
    if backdrop:
        svg.add(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}" rx="3" '
                f'fill="#ffffff" fill-opacity="0.8"/>')
    for i, entry in enumerate(entries):
        middle = y + 4 + ROW * (i + 0.5)
        svg.add(entry.sample(x + 4 + SAMPLE / 2, middle))
        svg.text(x + 4 + SAMPLE + 8, middle + FONT * 0.36, entry.label, anchor="start")


def _legend_best(svg: _Svg, axes: _Axes, entries: list[_Entry], lines: list[np.ndarray],
                 dots: np.ndarray | None = None) -> None:
    """A legend inside the axes where it covers the least of the data lines and dots (matplotlib's "best")."""
    width, height = _legend_size(entries)
    inset = 6.0
    left, right = axes.left + inset, axes.right - inset - width
    top, bottom = axes.top + inset, axes.bottom - inset - height
    centre_x, centre_y = (axes.left + axes.right - width) / 2, (axes.top + axes.bottom - height) / 2
    spots = [(right, top), (left, top), (left, bottom), (right, bottom), (right, centre_y),
             (left, centre_y), (centre_x, bottom), (centre_x, top), (centre_x, centre_y)]
    points = np.concatenate([_densify(p) for p in lines] + ([dots] if dots is not None else []))
    xs, ys = points[:, 0], points[:, 1]
    covered = [np.count_nonzero((np.abs(xs - x - width / 2) <= width / 2 + 2)
                                & (np.abs(ys - y - height / 2) <= height / 2 + 2)) for x, y in spots]
    best = int(np.argmin(covered))
    _draw_legend(svg, entries, *spots[best], backdrop=covered[best] > 0)


def _densify(points: np.ndarray, step: float = 3.0) -> np.ndarray:
    """Points along a pixel polyline every `step` px, so that segments count as well as vertices."""
    if points.shape[0] < 2:
        return points
    lengths = np.hypot(*np.diff(points, axis=0).T)
    along = np.r_[0.0, np.cumsum(lengths)]
    if along[-1] <= step:
        return points
    at = np.arange(0.0, along[-1], step)
    return np.column_stack([np.interp(at, along, points[:, 0]), np.interp(at, along, points[:, 1])])


def _legend_below(svg: _Svg, axes: _Axes, entries: list[_Entry]) -> None:
    """A one-row legend centred under the x axis label."""
    widths = [SAMPLE + 8 + _text_width(e.label) for e in entries]
    x = (axes.left + axes.right) / 2 - (sum(widths) + 24 * (len(entries) - 1)) / 2
    y = svg.size[1] - PAD - ROW / 2
    for entry, width in zip(entries, widths, strict=True):
        svg.add(entry.sample(x + SAMPLE / 2, y))
        svg.text(x + SAMPLE + 8, y + FONT * 0.36, entry.label, anchor="start")
        x += width + 24


# ---------------------------------------------------------------- colours and raster cells


@functools.cache
def _palette(name: str) -> bytes:
    """RGB bytes of LEVELS colours of a matplotlib colour map, then BAD_GREY for NaN/inf."""
    colours = matplotlib.colormaps[name](np.linspace(0.0, 1.0, LEVELS))[:, :3]
    return np.round(colours * 255).astype(np.uint8).tobytes() + bytes.fromhex(BAD_GREY[1:])


def _colour_indices(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Palette index of each value: LEVELS steps from `low` to `high`, LEVELS itself for NaN/inf."""
    steps = np.clip(np.floor((values - low) * (LEVELS / (high - low))), 0, LEVELS - 1)
    return np.where(np.isfinite(values), steps, LEVELS).astype(np.uint8)


def _image(indices: np.ndarray, palette: str, x0: float, y0: float, x1: float, y1: float,
           bad_transparent: bool = False) -> str:
    """Cells of palette indices (first row at the top) as a pixelated PNG stretched over a box."""
    image = Image.fromarray(np.ascontiguousarray(indices))
    image.putpalette(_palette(palette))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **({"transparency": LEVELS} if bad_transparent else {}))
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<image x="{_n(min(x0, x1))}" y="{_n(min(y0, y1))}" width="{_n(abs(x1 - x0))}" '
            f'height="{_n(abs(y1 - y0))}" preserveAspectRatio="none" style="image-rendering:pixelated" '
            f'href="{uri}"/>')


def _colourbar_reserve(labels: list[str]) -> float:
    """Width in px that a colour bar with these tick labels takes right of the axes."""
    widest = max((_text_width(s) for s in labels), default=0.0)
    return COLOURBAR_GAP + COLOURBAR_WIDTH + 2 * TICK + widest + 8 + FONT


def _colourbar(svg: _Svg, axes: _Axes, palette: str, ticks: tuple[np.ndarray, list[str]],
               low: float, high: float, label: str) -> None:
    """A vertical colour bar right of the axes: the colour map as a gradient, with ticks and a label."""
    left = axes.right + COLOURBAR_GAP
    right = left + COLOURBAR_WIDTH
    colours = _palette(palette)
    stops = "".join(f'<stop offset="{i / 16:g}" stop-color="#{colours[3 * k:3 * k + 3].hex()}"/>'
                    for i, k in enumerate(np.linspace(0, LEVELS - 1, 17).round().astype(int).tolist()))
    svg.add(f'<defs><linearGradient id="colourbar" x1="0" y1="1" x2="0" y2="0">{stops}'
            '</linearGradient></defs>')
    svg.add(f'<rect x="{_n(left)}" y="{_n(axes.top)}" width="{COLOURBAR_WIDTH:g}" '
            f'height="{_n(axes.bottom - axes.top)}" fill="url(#colourbar)" stroke="#000000"/>')
    scale = _Scale(low, high, axes.bottom, axes.top)
    ys = scale(ticks[0]).tolist()
    svg.add(f'<path d="{"".join(f"M{_n(right)},{_n(y)}h{TICK}" for y in ys)}" {_stroke("#000000", 1)}/>')
    for y, text in zip(ys, ticks[1], strict=True):
        svg.text(right + 2 * TICK, y + FONT * 0.36, text, anchor="start")
    svg.text(svg.size[0] - PAD - FONT * 0.2, (axes.top + axes.bottom) / 2, label, rotate=True)


# ---------------------------------------------------------------- loss curve


def _positive_finite(losses: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Epoch numbers and losses that a log scale can show, or None if there are none."""
    array = _as_float_array(losses)
    if array is None or array.ndim != 1:
        return None
    epochs = np.arange(1, array.size + 1)
    keep = np.isfinite(array) & (array > 0)
    return (epochs[keep], array[keep]) if keep.any() else None


def _first_bad_epoch(losses: Any) -> int | None:
    """The first epoch (1-based) whose loss is NaN or infinite, if any."""
    array = _as_float_array(losses)
    if array is None or array.ndim != 1:
        return None
    bad = np.flatnonzero(~np.isfinite(array))
    return int(bad[0]) + 1 if bad.size else None


@np.errstate(all="ignore")  # student values overflow; the plots check results instead
def loss_curve(student_losses: Any, torch_losses: Any) -> str:
    """Training loss per epoch on a log scale: the student's network against torch's.

    Both runs start from the same initial weights. Non-finite or non-positive
    losses are left out; if the student's loss became NaN or inf, the epoch where
    it happened is marked. Returns "" if neither run has a loss to draw.
    """
    student = _positive_finite(student_losses)
    reference = _positive_finite(torch_losses)
    if student is None and reference is None:
        return ""
    bad_epoch = _first_bad_epoch(student_losses)
    runs = [run for run in (reference, student) if run is not None]
    epochs = np.concatenate([run[0] for run in runs] + ([[bad_epoch]] if bad_epoch is not None else []))
    losses = np.concatenate([run[1] for run in runs])
    y_range = _padded(float(losses.min()), float(losses.max()), log=True)
    if not _drawable(math.log10(y_range[0]), math.log10(y_range[1])):
        return ""
    axes = _place_axes(LOSS_SIZE, _padded(float(epochs.min()), float(epochs.max())), y_range,
                       x_integer=True, y_log=True)
    svg = _Svg(LOSS_SIZE, "Training loss")
    _grid(svg, axes)
    elements, entries, lines = [], [], []
    styles = [(reference, _stroke(TORCH_COLOUR, 2.7, "9.9,4.3"), "torch (reference)"),
              (student, _stroke(STUDENT_COLOUR, 2), "your network")]
    for run, style, label in styles:
        if run is not None:
            points = _thin(axes.points(*run))
            elements.append(_polyline(points, style))
            entries.append(_Entry(label, _line_sample(style)))
            lines.append(points)
    if bad_epoch is not None:
        style = _stroke(LINE_GREY, 2, "2,3.3")
        x = float(axes.x(bad_epoch))
        elements.append(f'<path d="M{_n(x)},{_n(axes.top)}V{_n(axes.bottom)}" {style}/>')
        entries.append(_Entry(f"your loss is NaN/inf from epoch {bad_epoch}", _line_sample(style)))
        lines.append(np.array([[x, axes.top], [x, axes.bottom]]))
    _clipped(svg, axes, elements)
    _decorate(svg, axes, "epoch", "training loss (log scale)")
    _legend_best(svg, axes, entries, lines)
    return svg.render()


# ---------------------------------------------------------------- decision boundary


def _grid_values(predict_grid: Any, xs: Any, ys: Any) -> tuple[np.ndarray, ...] | None:
    """(xs, ys, values shaped (len(ys), len(xs))) sorted by x and y; None if they do not fit or repeat."""
    x, y, z = (_as_float_array(v) for v in (xs, ys, predict_grid))
    if x is None or y is None or z is None or x.ndim != 1 or y.ndim != 1:
        return None
    if x.size < 2 or y.size < 2 or z.size != x.size * y.size:
        return None
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return None
    order_x, order_y = np.argsort(x, kind="stable"), np.argsort(y, kind="stable")
    x, y, z = x[order_x], y[order_y], z.reshape(y.size, x.size)[np.ix_(order_y, order_x)]
    if np.any(np.diff(x) <= 0) or np.any(np.diff(y) <= 0):
        return None
    return (x, y, z) if np.isfinite(z).any() else None


def _cell_edges(centres: np.ndarray) -> np.ndarray:
    """Edges of cells centred on increasing coordinates (matplotlib's "nearest" shading)."""
    middles = (centres[1:] + centres[:-1]) / 2
    return np.r_[2 * centres[0] - middles[0], middles, 2 * centres[-1] - middles[-1]]


def _evenly_spaced(edges: np.ndarray) -> bool:
    """Whether all cells between these edges are equally wide."""
    steps = np.diff(edges)
    return bool(np.allclose(steps, steps[0], rtol=1e-6, atol=0))


def _on_even_grid(values: np.ndarray, x_edges: np.ndarray, y_edges: np.ndarray,
                  width: int, height: int) -> np.ndarray:
    """`values` as equal cells: as they are if both edge sets are evenly spaced, else resampled to px."""
    if _evenly_spaced(x_edges) and _evenly_spaced(y_edges):
        return values

    def cells(edges: np.ndarray, count: int) -> np.ndarray:
        centres = edges[0] + (np.arange(count) + 0.5) * ((edges[-1] - edges[0]) / count)
        return np.clip(np.searchsorted(edges, centres, side="right") - 1, 0, edges.size - 2)

    return values[np.ix_(cells(y_edges, max(height, 1)), cells(x_edges, max(width, 1)))]


def _contour(axes: _Axes, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> str:
    """The 0.5 contour of z as white lines, or "" when z does not cross 0.5."""
    finite = z[np.isfinite(z)]
    if not finite.min() < 0.5 < finite.max():
        return ""
    lines = contourpy.contour_generator(x, y, np.ma.masked_invalid(z), line_type="Separate").lines(0.5)
    paths = [_polyline(axes.points(line[:, 0], line[:, 1]), _stroke("#ffffff", 2.7))
             for line in lines if len(line) > 1]
    return "".join(paths)


@np.errstate(all="ignore")  # student values overflow; the plots check results instead
def decision_boundary(predict_grid: Any, xs: Any, ys: Any) -> str:
    """The trained XOR network's output over a grid, its 0.5 contour, and the 4 XOR points.

    `predict_grid` holds the network's output at every (x, y) of
    ``np.meshgrid(xs, ys)``, shaped (len(ys), len(xs)) or flat. Returns "" when it
    does not fit the grid or holds no finite value.
    """
    grid = _grid_values(predict_grid, xs, ys)
    if grid is None:
        return ""
    x, y, z = grid
    finite = z[np.isfinite(z)]
    low, high = min(0.0, float(finite.min())), max(1.0, float(finite.max()))
    x_edges, y_edges = _cell_edges(x), _cell_edges(y)
    x_range = (min(float(x_edges[0]), 0.0), max(float(x_edges[-1]), 1.0))
    y_range = (min(float(y_edges[0]), 0.0), max(float(y_edges[-1]), 1.0))
    if not (_drawable(low, high) and _drawable(*x_range) and _drawable(*y_range)):
        return ""
    bar_ticks = _linear_ticks(low, high, _frame_height(SQUARE_SIZE, ROW), vertical=True)
    axes = _place_axes(SQUARE_SIZE, x_range, y_range, below=ROW,
                       right_reserve=_colourbar_reserve(bar_ticks[1]))
    svg = _Svg(SQUARE_SIZE, "Decision boundary (white line: output 0.5)")
    x0, x1 = axes.x([x_edges[0], x_edges[-1]]).tolist()
    y0, y1 = axes.y([y_edges[0], y_edges[-1]]).tolist()
    cells = _on_even_grid(z, x_edges, y_edges, round(x1 - x0), round(y0 - y1))
    svg.add(_image(_colour_indices(cells[::-1], low, high), "cividis", x0, y0, x1, y1, bad_transparent=True))
    contour = _contour(axes, x, y, z)
    _clipped(svg, axes, [contour] if contour else [])
    _decorate(svg, axes, "input x1", "input x2")
    circle_style = 'fill="#ffffff" stroke="#000000" stroke-width="2"'
    for (px, py), xor in zip(axes.points([0, 1, 0, 1], [0, 1, 1, 0]).tolist(), (0, 0, 1, 1), strict=True):
        svg.add(_cross(px, py) if xor else _dot(px, py, 6.3, circle_style))
    _colourbar(svg, axes, "cividis", bar_ticks, low, high, "network output")
    _legend_below(svg, axes, [_Entry("XOR = 0", lambda px, py: _dot(px, py, 6.3, circle_style)),
                              _Entry("XOR = 1", _cross)])
    return svg.render()


# ---------------------------------------------------------------- error heatmap and scatter


@np.errstate(all="ignore")  # student values overflow; the plots check results instead
def error_heatmap(expected: Any, got: Any) -> str:
    """Where a failed result differs from the expected one.

    For 2-D (or higher, flattened to 2-D) arrays: a heatmap of |expected - got|,
    with NaN or inf cells in grey and the worst cell circled. For 1-D arrays: the
    received values against the expected ones, with the line where they agree.
    Returns "" for scalars, mismatched shapes, non-numeric values or huge arrays.
    """
    want, have = _as_float_array(expected), _as_float_array(got)
    if want is None or have is None or want.shape != have.shape:
        return ""
    if want.ndim == 0 or want.size == 0 or want.size > MAX_CELLS:
        return ""
    if want.ndim == 1:
        return _scatter(want, have)
    return _heatmap(want.reshape(want.shape[0], -1), have.reshape(have.shape[0], -1))


def _scatter(expected: np.ndarray, got: np.ndarray) -> str:
    """Received against expected values of a 1-D result; "" if no pair is finite."""
    finite = np.isfinite(expected) & np.isfinite(got)
    if not finite.any():
        return ""
    want, have = expected[finite], got[finite]
    low = float(min(want.min(), have.min()))
    high = float(max(want.max(), have.max()))
    if not _drawable(*_padded(low, high)):
        return ""
    axes = _place_axes(SQUARE_SIZE, _padded(low, high), _padded(low, high))
    svg = _Svg(SQUARE_SIZE, _scatter_title(finite))
    line_style = _stroke(LINE_GREY, 1.3, "4.9,2.1")
    diagonal = axes.points([low, high], [low, high])
    _clipped(svg, axes, [_polyline(diagonal, line_style)])
    _decorate(svg, axes, "expected", "received")
    dots = _distinct(axes.points(want, have))
    radius = 3.3
    path = "".join(f"M{_n(px - radius)},{_n(py)}a{radius:g},{radius:g} 0 1,0 {2 * radius:g},0"
                   f"a{radius:g},{radius:g} 0 1,0 -{2 * radius:g},0" for px, py in dots.tolist())
    svg.add(f'<path d="{path}" fill="{STUDENT_COLOUR}"/>')
    entries = [_Entry("received = expected", _line_sample(line_style)),
               _Entry("your values", lambda px, py: _dot(px, py, radius, f'fill="{STUDENT_COLOUR}"'))]
    _legend_best(svg, axes, entries, [diagonal], dots)
    return svg.render()


def _distinct(points: np.ndarray) -> np.ndarray:
    """Pixel points rounded to 0.5 px, each once, in a fixed order (more would draw the same dots)."""
    halves = np.round(points * 2).astype(np.int64)
    keys = np.unique(halves[:, 0] * 1_000_000 + halves[:, 1])
    return np.column_stack([keys // 1_000_000, keys % 1_000_000]) / 2


def _scatter_title(finite: np.ndarray) -> str:
    """The scatter's title, counting the values that could not be drawn."""
    missing = int(finite.size - finite.sum())
    return "Expected vs received" + (f" ({missing} NaN/inf not shown)" if missing else "")


def _pooled(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """`values` shrunk to at most rows x cols cells: each the largest of its block, NaN if any is NaN/inf."""
    step_r, step_c = -(-values.shape[0] // max(rows, 1)), -(-values.shape[1] // max(cols, 1))
    if step_r == 1 and step_c == 1:
        return values
    pad = (-values.shape[0] % step_r, -values.shape[1] % step_c)
    padded = np.pad(values, ((0, pad[0]), (0, pad[1])), mode="edge")
    blocks = padded.reshape(padded.shape[0] // step_r, step_r, padded.shape[1] // step_c, step_c)
    bad = ~np.isfinite(blocks).all(axis=(1, 3))
    return np.where(bad, np.nan, np.where(np.isfinite(blocks), blocks, -np.inf).max(axis=(1, 3)))


def _heatmap(expected: np.ndarray, got: np.ndarray) -> str:
    """|expected - got| per element of a 2-D result; "" if no difference is finite."""
    error = np.abs(got - expected)
    finite = np.isfinite(error)
    if not finite.any():
        return ""
    low, high = _nonsingular(float(error[finite].min()), float(error[finite].max()))
    if not _drawable(low, high):
        return ""
    rows, cols = error.shape
    bar_ticks = _linear_ticks(low, high, _frame_height(HEATMAP_SIZE, ROW), vertical=True)
    axes = _place_axes(HEATMAP_SIZE, (-0.5, cols - 0.5), (-0.5, rows - 0.5), below=ROW, x_integer=True,
                       y_integer=True, y_down=True, right_reserve=_colourbar_reserve(bar_ticks[1]))
    svg = _Svg(HEATMAP_SIZE, _heatmap_title(int(error.size - finite.sum())))
    cells = _pooled(error, round(axes.bottom - axes.top), round(axes.right - axes.left))
    svg.add(_image(_colour_indices(cells, low, high), "viridis",
                   axes.left, axes.top, axes.right, axes.bottom))
    _decorate(svg, axes, "column", "row")
    row, col = np.unravel_index(int(np.argmax(np.where(finite, error, np.inf))), error.shape)
    ring = f'fill="none" stroke="{TORCH_COLOUR}" stroke-width="2.7"'
    svg.add(_dot(float(axes.x(col)), float(axes.y(row)), 8.4, ring))
    _colourbar(svg, axes, "viridis", bar_ticks, low, high, "|expected − received|")
    _legend_below(svg, axes, [_Entry("largest error", lambda px, py: _dot(px, py, 8.4, ring))])
    return svg.render()


def _heatmap_title(bad: int) -> str:
    """The heatmap's title, counting the NaN/inf cells (drawn in grey)."""
    return "Absolute error per element" + (f" ({bad} NaN/inf in grey)" if bad else "")
