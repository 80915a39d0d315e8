"""Drawing primitives for small SVG charts, written directly as SVG text.

What a chart is made of, and nothing about what it shows: a document (`Svg`), a
fixed pixel layout with axes whose margins are sized from text widths measured
on matplotlib's DejaVu Sans with Pillow, a Chinese character one em (`place_axes`), scales from data to
pixels (`Scale`, linear or log10), linear and log ticks with their labels,
polylines (and `thin` for long ones), markers, legends inside or below the
axes, raster cells as a palette PNG (`image`) and a colour bar. The plots of
`autograder.plots` are built from these.

Why not matplotlib figures: a figure and ``savefig`` cost 40-80 ms a plot; this
takes about 1-3 ms. The parts that are real work still come from libraries:
tick positions from ``matplotlib.ticker`` locators, colours from
``matplotlib.colormaps`` and PNG encoding from Pillow. Nothing depends on time
or chance: the same calls give the same bytes.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.ticker import LogLocator, MaxNLocator
from PIL import Image, ImageFont

from autograder.text import columns

FONT_FAMILY = "DejaVu Sans, Liberation Sans, sans-serif"  # Chinese: the browser falls back on a CJK font
#: Text sizes in px: matplotlib's 9 pt and 10 pt at 96 dpi.
FONT, TITLE_FONT = 12.0, 13.3
#: Colour of raster cells whose value is NaN or inf.
BAD_GREY = "#9e9e9e"
PAD = 6.0  # around the whole plot
TICK = 4.7  # tick length, and the gap between a tick and its label
AXES_TOP = 30.0  # the axes frame starts below the title
X_AXIS_HEIGHT = 2 * TICK + 2 * FONT + 7  # ticks, tick labels and the axis label under the frame
ROW = 17.0  # height of a legend row
SAMPLE = 24.0  # width of a legend row's line or marker sample
COLOURBAR_WIDTH, COLOURBAR_GAP = 12.0, 14.0
LEVELS = 255  # colours per colour map; palette index 255 is for NaN/inf cells
NO_TICKS = np.empty(0)

#: Draws one marker (or legend sample) centred at pixel (x, y), as SVG text.
Marker = Callable[[float, float], str]


# ---------------------------------------------------------------- axis ranges


def drawable(lo: float, hi: float) -> bool:
    """Whether an axis can show [lo, hi]: finite, not near overflow or underflow, more than one value."""
    size = max(abs(lo), abs(hi))
    return bool(np.isfinite(hi - lo) and size <= 1e300 and hi - lo >= max(1e-250, 1e-9 * size))


def nonsingular(lo: float, hi: float) -> tuple[float, float]:
    """[lo, hi], widened around its value when it holds (nearly) a single one."""
    if hi - lo > 1e-9 * max(abs(lo), abs(hi)):
        return lo, hi
    delta = abs(lo) * 0.1 if lo else 1.0
    return lo - delta, hi + delta


def padded(lo: float, hi: float, log: bool = False) -> tuple[float, float]:
    """The data range with 5% margins on both sides (in log10 space for a log axis)."""
    if log:
        low, high = padded(math.log10(lo), math.log10(hi))
        low, high = float(np.power(10.0, low)), float(np.power(10.0, high))
        return (low if low > 0 else lo), (high if np.isfinite(high) else hi)
    lo, hi = nonsingular(lo, hi)
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
    """Advance width of one character at 1 px font size: DejaVu Sans's, or one em for a wide (Chinese)
    character, which DejaVu Sans has no glyph for and a CJK font draws one em wide."""
    if columns(char) == 2:
        return 1.0
    font = _font()
    return font.getlength(char) / 100 if font is not None else 0.62


def text_width(text: str, size: float = FONT) -> float:
    """Width in px of `text` in DejaVu Sans (the widest of the fonts the SVG asks for)."""
    return size * sum(_char_width(c) for c in text)


def _esc(text: str) -> str:
    """`text` escaped for SVG content and attribute values."""
    return html.escape(text, quote=True)


def coord(value: float) -> str:
    """A pixel coordinate, to 0.1 px."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


_WHOLE = re.compile(r"\.0(?=[ ,]|$)")


def coord_pairs(points: list) -> str:
    """Points as "x,y x,y ..." written as `coord` writes each number (one pass over the text:
    a line has hundreds of points)."""
    return _WHOLE.sub("", " ".join(f"{x:.1f},{y:.1f}" for x, y in points))


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
    widths = np.array([text_width(s) for s in labels])
    return bool(np.all(gaps >= (widths[1:] + widths[:-1]) / 2 + 8))


def linear_ticks(lo: float, hi: float, length: float, integer: bool = False,
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
class Scale:
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
class Axes:
    """The axes frame in px, how data maps into it, and its ticks."""

    left: float
    top: float
    right: float
    bottom: float
    x: Scale
    y: Scale
    xticks: tuple[np.ndarray, list[str]]
    yticks: tuple[np.ndarray, list[str]]
    yminor: np.ndarray

    def points(self, xs: Any, ys: Any) -> np.ndarray:
        """Data points as an (n, 2) array of pixel positions."""
        return np.column_stack([self.x(xs), self.y(ys)])


def frame_height(size: tuple[int, int], below: float) -> float:
    """Height in px of the axes frame of a plot with `below` px of legend under its x axis."""
    return size[1] - PAD - below - X_AXIS_HEIGHT - AXES_TOP


def place_axes(size: tuple[int, int], x_range: tuple[float, float], y_range: tuple[float, float], *,
               below: float = 0.0, right_reserve: float = 0.0, x_integer: bool = False,
               y_integer: bool = False, y_log: bool = False, y_down: bool = False) -> Axes:
    """The axes frame: as large as the plot allows once tick labels, axis labels and extras fit.

    `below` is the height of a legend under the x axis, `right_reserve` the width
    of a colour bar; integer axes get integer ticks; `y_down` puts y's low end on top.
    """
    top = AXES_TOP
    bottom = top + frame_height(size, below)
    (xlo, xhi), (ylo, yhi) = x_range, y_range
    if y_log:
        *yticks, minor = _log_ticks(ylo, yhi, bottom - top)
    else:
        yticks, minor = linear_ticks(ylo, yhi, bottom - top, y_integer, vertical=True), NO_TICKS
    left = PAD + FONT + 4 + max((text_width(s) for s in yticks[1]), default=0.0) + 2 * TICK
    right = size[0] - PAD - max(right_reserve, 8.0)
    xticks = linear_ticks(xlo, xhi, right - left, x_integer)
    if not right_reserve and xticks[1]:  # the last x label may stick out: make room for it
        overhang = text_width(xticks[1][-1]) / 2 - (xhi - xticks[0][-1]) * (right - left) / (xhi - xlo)
        if overhang > 8.0:
            right -= overhang - 8.0
            xticks = linear_ticks(xlo, xhi, right - left, x_integer)
    yscale = Scale(ylo, yhi, top, bottom, y_log) if y_down else Scale(ylo, yhi, bottom, top, y_log)
    return Axes(left, top, right, bottom, Scale(xlo, xhi, left, right), yscale,
                (xticks[0], xticks[1]), (yticks[0], yticks[1]), minor)


# ---------------------------------------------------------------- SVG elements


class Svg:
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
        place = (f'transform="translate({coord(x)} {coord(y)}) rotate(-90)"' if rotate
                 else f'x="{coord(x)}" y="{coord(y)}"')
        self.parts.append(f'<text {place} text-anchor="{anchor}"{font}>{_esc(text)}</text>')

    def title_text(self, axes: Axes) -> None:
        """The plot's title, centred over the axes but kept inside the plot."""
        half = text_width(self.title, TITLE_FONT) / 2
        x = min(max((axes.left + axes.right) / 2, PAD + half), self.size[0] - PAD - half)
        self.text(x, PAD + TITLE_FONT * 0.95, self.title, size=TITLE_FONT)

    def render(self) -> str:
        """The finished document."""
        return "\n".join([*self.parts, "</svg>"])


def stroke(colour: str, width: float, dash: str | None = None, opacity: float = 1.0) -> str:
    """Stroke attributes of a line."""
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    faded = f' stroke-opacity="{opacity:g}"' if opacity < 1 else ""
    return f'fill="none" stroke="{colour}" stroke-width="{width:g}"{dashes}{faded}'


def polyline(points: np.ndarray, style: str) -> str:
    """A line through pixel points, without repeats at 0.1 px."""
    points = np.round(points, 1)
    if points.shape[0] > 1:
        keep = np.r_[True, np.any(points[1:] != points[:-1], axis=1)]
        points = points[keep]
    coords = coord_pairs(points.tolist())
    return f'<polyline points="{coords}" {style} stroke-linejoin="round"/>'


def thin(points: np.ndarray) -> np.ndarray:
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


def _box(axes: Axes) -> str:
    """Position and size attributes of the axes frame."""
    return (f'x="{coord(axes.left)}" y="{coord(axes.top)}" width="{coord(axes.right - axes.left)}" '
            f'height="{coord(axes.bottom - axes.top)}"')


def clipped(doc: Svg, axes: Axes, elements: list[str]) -> None:
    """Elements clipped to the axes frame, as data lines are."""
    if not elements:
        return
    doc.add(f'<clipPath id="frame"><rect {_box(axes)}/></clipPath>')
    doc.add('<g clip-path="url(#frame)">' + "".join(elements) + "</g>")


def grid(doc: Svg, axes: Axes) -> None:
    """Light grid lines at the major ticks of both axes."""
    xs, ys = axes.x(axes.xticks[0]), axes.y(axes.yticks[0])
    path = "".join(f"M{coord(x)},{coord(axes.top)}V{coord(axes.bottom)}" for x in xs.tolist())
    path += "".join(f"M{coord(axes.left)},{coord(y)}H{coord(axes.right)}" for y in ys.tolist())
    doc.add(f'<path d="{path}" {stroke("#b0b0b0", 1, opacity=0.4)}/>')


def decorate(doc: Svg, axes: Axes, xlabel: str, ylabel: str) -> None:
    """Frame, ticks, tick labels, axis labels and title."""
    doc.add(f'<rect {_box(axes)} {stroke("#000000", 1)}/>')
    xs, ys = axes.x(axes.xticks[0]).tolist(), axes.y(axes.yticks[0]).tolist()
    path = "".join(f"M{coord(x)},{coord(axes.bottom)}v{TICK}" for x in xs)
    path += "".join(f"M{coord(axes.left)},{coord(y)}h-{TICK}" for y in ys)
    path += "".join(f"M{coord(axes.left)},{coord(y)}h-{TICK / 2:g}" for y in axes.y(axes.yminor).tolist())
    doc.add(f'<path d="{path}" {stroke("#000000", 1)}/>')
    label_y = axes.bottom + 2 * TICK + FONT * 0.76
    for x, label in zip(xs, axes.xticks[1], strict=True):
        doc.text(x, label_y, label)
    for y, label in zip(ys, axes.yticks[1], strict=True):
        doc.text(axes.left - 2 * TICK, y + FONT * 0.36, label, anchor="end")
    doc.text((axes.left + axes.right) / 2, label_y + FONT + 4, xlabel)
    doc.text(PAD + FONT * 0.8, (axes.top + axes.bottom) / 2, ylabel, rotate=True)
    doc.title_text(axes)


# ---------------------------------------------------------------- markers and legends


@dataclass(frozen=True)
class Entry:
    """One legend row: its label and how to draw its sample centred at (x, y)."""

    label: str
    sample: Marker


def line_sample(style: str) -> Marker:
    """A legend sample: a short horizontal line in `style`."""
    return lambda x, y: f'<path d="M{coord(x - SAMPLE / 2)},{coord(y)}h{SAMPLE:g}" {style}/>'


def dot(x: float, y: float, radius: float, style: str) -> str:
    """A circle marker."""
    return f'<circle cx="{coord(x)}" cy="{coord(y)}" r="{radius:g}" {style}/>'


def circle(x: float, y: float) -> str:
    """matplotlib's "o" marker as a white circle with a black edge."""
    return dot(x, y, 6.3, 'fill="#ffffff" stroke="#000000" stroke-width="2"')


#: A filled plus, arms 7 px long and 4.7 px wide, turned 45 degrees into an X.
CROSS = "M-2.3,-7H2.3V-2.3H7V2.3H2.3V7H-2.3V2.3H-7V-2.3H-2.3Z"


def cross(x: float, y: float) -> str:
    """matplotlib's "X" marker: a filled black X with a white edge."""
    return (f'<path d="{CROSS}" transform="translate({coord(x)} {coord(y)}) rotate(45)" fill="#000000" '
            f'stroke="#ffffff" stroke-width="1.3"/>')


def _legend_size(entries: list[Entry]) -> tuple[float, float]:
    """Width and height of a one-column legend, with 4 px of padding."""
    return SAMPLE + 8 + max(text_width(e.label) for e in entries) + 8, ROW * len(entries) + 8


def _draw_legend(doc: Svg, entries: list[Entry], x: float, y: float, backdrop: bool) -> None:
    """A one-column legend with its top left corner at (x, y)."""
    width, height = _legend_size(entries)
    if backdrop:
        doc.add(f'<rect x="{coord(x)}" y="{coord(y)}" width="{coord(width)}" height="{coord(height)}" rx="3" '
                f'fill="#ffffff" fill-opacity="0.8"/>')
    for i, entry in enumerate(entries):
        middle = y + 4 + ROW * (i + 0.5)
        doc.add(entry.sample(x + 4 + SAMPLE / 2, middle))
        doc.text(x + 4 + SAMPLE + 8, middle + FONT * 0.36, entry.label, anchor="start")


def legend_best(doc: Svg, axes: Axes, entries: list[Entry], lines: list[np.ndarray],
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
    _draw_legend(doc, entries, *spots[best], backdrop=covered[best] > 0)


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


def legend_below(doc: Svg, axes: Axes, entries: list[Entry]) -> None:
    """A one-row legend centred under the x axis label."""
    widths = [SAMPLE + 8 + text_width(e.label) for e in entries]
    x = (axes.left + axes.right) / 2 - (sum(widths) + 24 * (len(entries) - 1)) / 2
    y = doc.size[1] - PAD - ROW / 2
    for entry, width in zip(entries, widths, strict=True):
        doc.add(entry.sample(x + SAMPLE / 2, y))
        doc.text(x + SAMPLE + 8, y + FONT * 0.36, entry.label, anchor="start")
        x += width + 24


# ---------------------------------------------------------------- colours and raster cells


@functools.cache
def _palette(name: str) -> bytes:
    """RGB bytes of LEVELS colours of a matplotlib colour map, then BAD_GREY for NaN/inf."""
    colours = matplotlib.colormaps[name](np.linspace(0.0, 1.0, LEVELS))[:, :3]
    return np.round(colours * 255).astype(np.uint8).tobytes() + bytes.fromhex(BAD_GREY[1:])


def colour_indices(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Palette index of each value: LEVELS steps from `low` to `high`, LEVELS itself for NaN/inf."""
    steps = np.clip(np.floor((values - low) * (LEVELS / (high - low))), 0, LEVELS - 1)
    return np.where(np.isfinite(values), steps, LEVELS).astype(np.uint8)


def image(indices: np.ndarray, palette: str, x0: float, y0: float, x1: float, y1: float,
          bad_transparent: bool = False) -> str:
    """Cells of palette indices (first row at the top) as a pixelated PNG stretched over a box."""
    picture = Image.fromarray(np.ascontiguousarray(indices))
    picture.putpalette(_palette(palette))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", **({"transparency": LEVELS} if bad_transparent else {}))
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<image x="{coord(min(x0, x1))}" y="{coord(min(y0, y1))}" width="{coord(abs(x1 - x0))}" '
            f'height="{coord(abs(y1 - y0))}" preserveAspectRatio="none" style="image-rendering:pixelated" '
            f'href="{uri}"/>')


def colourbar_reserve(labels: list[str]) -> float:
    """Width in px that a colour bar with these tick labels takes right of the axes."""
    widest = max((text_width(s) for s in labels), default=0.0)
    return COLOURBAR_GAP + COLOURBAR_WIDTH + 2 * TICK + widest + 8 + FONT


def colourbar(doc: Svg, axes: Axes, palette: str, ticks: tuple[np.ndarray, list[str]],
              low: float, high: float, label: str) -> None:
    """A vertical colour bar right of the axes: the colour map as a gradient, with ticks and a label."""
    left = axes.right + COLOURBAR_GAP
    right = left + COLOURBAR_WIDTH
    colours = _palette(palette)
    stops = "".join(f'<stop offset="{i / 16:g}" stop-color="#{colours[3 * k:3 * k + 3].hex()}"/>'
                    for i, k in enumerate(np.linspace(0, LEVELS - 1, 17).round().astype(int).tolist()))
    doc.add(f'<defs><linearGradient id="colourbar" x1="0" y1="1" x2="0" y2="0">{stops}'
            '</linearGradient></defs>')
    doc.add(f'<rect x="{coord(left)}" y="{coord(axes.top)}" width="{COLOURBAR_WIDTH:g}" '
            f'height="{coord(axes.bottom - axes.top)}" fill="url(#colourbar)" stroke="#000000"/>')
    scale = Scale(low, high, axes.bottom, axes.top)
    ys = scale(ticks[0]).tolist()
    doc.add(f'<path d="{"".join(f"M{coord(right)},{coord(y)}h{TICK}" for y in ys)}" {stroke("#000000", 1)}/>')
    for y, text in zip(ys, ticks[1], strict=True):
        doc.text(right + 2 * TICK, y + FONT * 0.36, text, anchor="start")
    doc.text(doc.size[0] - PAD - FONT * 0.2, (axes.top + axes.bottom) / 2, label, rotate=True)
