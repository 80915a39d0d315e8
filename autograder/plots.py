"""The report's three plots, built from the drawing primitives of `autograder.svg`.

- `log_line_chart`: one or more series against x = 1, 2, ... on a log y scale,
  marking where a series first becomes NaN or inf;
- `field_map`: a 2-D field over a grid as colour cells, its contour at one level,
  and groups of labelled points;
- `error_heatmap`: where a result differs from the expected one.

Every function returns an SVG document as a string (starting at ``<svg``, no XML
prolog), ready to be embedded as a ``data:`` URI, or ``""`` when its input holds
nothing that can sensibly be drawn (wrong shapes, no finite values, ...). The
values drawn may be anything (NaN, inf, ragged lists or the wrong type), so every
function checks them and never raises for bad values. Titles, axis labels, legend
labels and points to mark are the caller's: nothing here knows what is plotted.
The same input gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import contourpy
import numpy as np

from autograder import svg
from autograder.i18n import gettext
from autograder.svg import ROW, Entry, Marker

#: Most cells an error heatmap draws; larger arrays are not drawn.
MAX_CELLS = 200_000
#: Colours from the colour-blind-safe Okabe-Ito palette.
BLUE, VERMILION = "#0072B2", "#D55E00"
#: Reference lines: the NaN/inf marker of a line chart, the diagonal of a scatter.
LINE_GREY = "#444444"
#: Plot sizes in px: the former matplotlib figures of 5 x 3.2, 4.2 x 3.6 and 4.6 x 3.6 inches.
LINE_CHART_SIZE, SQUARE_SIZE, HEATMAP_SIZE = (480, 307), (403, 346), (442, 346)


def _as_float_array(values: Any) -> np.ndarray | None:
    """`values` as a float64 array, or None when it is not numeric and rectangular."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    return array


# ---------------------------------------------------------------- line chart


@dataclass(frozen=True)
class Series:
    """One line of a `log_line_chart`: y values at x = 1, 2, ..., its legend label and its look.

    `values` may be anything: what is not a finite positive number is left out.
    With `nonfinite_note`, the first x whose value is NaN or inf is marked by a
    grey vertical line with this legend label, "{x}" in it replaced by that x.
    `dash` is an SVG stroke-dasharray.
    """

    values: Any
    label: str
    colour: str = BLUE
    width: float = 2.0
    dash: str | None = None
    nonfinite_note: str | None = None


def _positive_finite(values: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """x = 1, 2, ... and the values that a log scale can show, or None if there are none."""
    array = _as_float_array(values)
    if array is None or array.ndim != 1:
        return None
    xs = np.arange(1, array.size + 1)
    keep = np.isfinite(array) & (array > 0)
    return (xs[keep], array[keep]) if keep.any() else None


def _first_nonfinite(values: Any) -> int | None:
    """The first x (1-based) whose value is NaN or infinite, if any."""
    array = _as_float_array(values)
    if array is None or array.ndim != 1:
        return None
    bad = np.flatnonzero(~np.isfinite(array))
    return int(bad[0]) + 1 if bad.size else None


def _series_line(axes: svg.Axes, run: tuple[np.ndarray, np.ndarray],
                 series: Series) -> tuple[str, Entry, np.ndarray]:
    """A series' polyline, its legend row, and its pixel points."""
    style = svg.stroke(series.colour, series.width, series.dash)
    points = svg.thin(axes.points(*run))
    return svg.polyline(points, style), Entry(series.label, svg.line_sample(style)), points


def _nonfinite_line(axes: svg.Axes, x: int, note: str) -> tuple[str, Entry, np.ndarray]:
    """The vertical line marking x, its legend row ("{x}" in `note` replaced), and its pixel ends."""
    style = svg.stroke(LINE_GREY, 2, "2,3.3")
    px = float(axes.x(x))
    element = f'<path d="M{svg.coord(px)},{svg.coord(axes.top)}V{svg.coord(axes.bottom)}" {style}/>'
    line = np.array([[px, axes.top], [px, axes.bottom]])
    return element, Entry(note.format(x=x), svg.line_sample(style)), line


@np.errstate(all="ignore")  # drawn values overflow; the plots check results instead
def log_line_chart(series: Sequence[Series], *, title: str, xlabel: str, ylabel: str) -> str:
    """Each series as a line against x = 1, 2, ... on a log y scale, drawn and listed in order.

    Series' NaN/inf marks (see `Series.nonfinite_note`) come after the lines. The
    legend sits inside the axes where it hides the least. Returns "" if no series
    has a value to draw.
    """
    runs = [(s, run) for s in series if (run := _positive_finite(s.values)) is not None]
    if not runs:
        return ""
    marks = [(x, s.nonfinite_note) for s in series
             if s.nonfinite_note is not None and (x := _first_nonfinite(s.values)) is not None]
    xs = np.concatenate([run[0] for _, run in runs] + [np.array([x for x, _ in marks], dtype=np.int64)])
    ys = np.concatenate([run[1] for _, run in runs])
    y_range = svg.padded(float(ys.min()), float(ys.max()), log=True)
    if not svg.drawable(math.log10(y_range[0]), math.log10(y_range[1])):
        return ""
    axes = svg.place_axes(LINE_CHART_SIZE, svg.padded(float(xs.min()), float(xs.max())), y_range,
                          x_integer=True, y_log=True)
    doc = svg.Svg(LINE_CHART_SIZE, title)
    svg.grid(doc, axes)
    drawn = [_series_line(axes, run, s) for s, run in runs] + [_nonfinite_line(axes, *m) for m in marks]
    elements, entries, lines = (list(column) for column in zip(*drawn, strict=True))
    svg.clipped(doc, axes, elements)
    svg.decorate(doc, axes, xlabel, ylabel)
    svg.legend_best(doc, axes, entries, lines)
    return doc.render()


# ---------------------------------------------------------------- field map


@dataclass(frozen=True)
class Points:
    """Points marked on a `field_map`, all alike: their (x, y) data coordinates, marker and legend label.

    The coordinates are the caller's (finite numbers, not drawn values); `marker`
    draws one point centred at a pixel position, e.g. `svg.circle` or `svg.cross`.
    """

    xy: Sequence[tuple[float, float]]
    marker: Marker
    label: str


def _grid_values(values: Any, xs: Any, ys: Any) -> tuple[np.ndarray, ...] | None:
    """(xs, ys, values shaped (len(ys), len(xs))) sorted by x and y; None if they do not fit or repeat."""
    x, y, z = (_as_float_array(v) for v in (xs, ys, values))
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


def _coordinates(points: Sequence[Points]) -> np.ndarray:
    """The data coordinates of every point of these groups, as an (n, 2) array."""
    return np.array([xy for group in points for xy in group.xy], dtype=np.float64).reshape(-1, 2)


def _span(edges: np.ndarray, marked: np.ndarray) -> tuple[float, float]:
    """The range an axis shows: all cells, and every marked point."""
    return min([float(edges[0]), *marked.tolist()]), max([float(edges[-1]), *marked.tolist()])


def _colour_range(z: np.ndarray, value_range: tuple[float, float]) -> tuple[float, float]:
    """The values the colour scale spans: at least `value_range`, and every finite value of z."""
    finite = z[np.isfinite(z)]
    return min(value_range[0], float(finite.min())), max(value_range[1], float(finite.max()))


def _cells(axes: svg.Axes, z: np.ndarray, x_edges: np.ndarray, y_edges: np.ndarray,
           low: float, high: float) -> str:
    """The field's cells as an image over their edges, coloured from `low` to `high`, NaN/inf transparent."""
    x0, x1 = axes.x([x_edges[0], x_edges[-1]]).tolist()
    y0, y1 = axes.y([y_edges[0], y_edges[-1]]).tolist()
    cells = _on_even_grid(z, x_edges, y_edges, round(x1 - x0), round(y0 - y1))
    indices = svg.colour_indices(cells[::-1], low, high)
    return svg.image(indices, "cividis", x0, y0, x1, y1, bad_transparent=True)


def _contour(axes: svg.Axes, x: np.ndarray, y: np.ndarray, z: np.ndarray, level: float) -> str:
    """The contour of z at `level` as white lines, or "" when z does not cross it."""
    finite = z[np.isfinite(z)]
    if not finite.min() < level < finite.max():
        return ""
    lines = contourpy.contour_generator(x, y, np.ma.masked_invalid(z), line_type="Separate").lines(level)
    paths = [svg.polyline(axes.points(line[:, 0], line[:, 1]), svg.stroke("#ffffff", 2.7))
             for line in lines if len(line) > 1]
    return "".join(paths)


def _mark(doc: svg.Svg, axes: svg.Axes, points: Sequence[Points]) -> None:
    """Every point, group by group, with its group's marker."""
    for group in points:
        for px, py in axes.points(*_coordinates([group]).T).tolist():
            doc.add(group.marker(px, py))


@np.errstate(all="ignore")  # drawn values overflow; the plots check results instead
def field_map(values: Any, xs: Any, ys: Any, *, points: Sequence[Points], title: str, xlabel: str,
              ylabel: str, colourbar_label: str, level: float = 0.5,
              value_range: tuple[float, float] = (0.0, 1.0)) -> str:
    """A field over a grid as colour cells, its contour at `level` as white lines, and marked points.

    `values` holds the field at every (x, y) of ``np.meshgrid(xs, ys)``, shaped
    (len(ys), len(xs)) or flat. The colour scale (cividis, NaN/inf cells left
    transparent) spans at least `value_range`; the axes show every cell and every
    point, each group of `points` drawn in order and named in a legend below.
    Returns "" when `values` does not fit the grid or holds no finite value.
    """
    grid = _grid_values(values, xs, ys)
    if grid is None:
        return ""
    x, y, z = grid
    low, high = _colour_range(z, value_range)
    x_edges, y_edges, marked = _cell_edges(x), _cell_edges(y), _coordinates(points)
    x_range, y_range = _span(x_edges, marked[:, 0]), _span(y_edges, marked[:, 1])
    if not (svg.drawable(low, high) and svg.drawable(*x_range) and svg.drawable(*y_range)):
        return ""
    below = ROW if points else 0.0
    bar_ticks = svg.linear_ticks(low, high, svg.frame_height(SQUARE_SIZE, below), vertical=True)
    axes = svg.place_axes(SQUARE_SIZE, x_range, y_range, below=below,
                          right_reserve=svg.colourbar_reserve(bar_ticks[1]))
    doc = svg.Svg(SQUARE_SIZE, title)
    doc.add(_cells(axes, z, x_edges, y_edges, low, high))
    contour = _contour(axes, x, y, z, level)
    svg.clipped(doc, axes, [contour] if contour else [])
    svg.decorate(doc, axes, xlabel, ylabel)
    _mark(doc, axes, points)
    svg.colourbar(doc, axes, "cividis", bar_ticks, low, high, colourbar_label)
    if points:
        svg.legend_below(doc, axes, [Entry(group.label, group.marker) for group in points])
    return doc.render()


# ---------------------------------------------------------------- error heatmap and scatter


@np.errstate(all="ignore")  # drawn values overflow; the plots check results instead
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
    if not svg.drawable(*svg.padded(low, high)):
        return ""
    axes = svg.place_axes(SQUARE_SIZE, svg.padded(low, high), svg.padded(low, high))
    doc = svg.Svg(SQUARE_SIZE, _scatter_title(finite))
    line_style = svg.stroke(LINE_GREY, 1.3, "4.9,2.1")
    diagonal = axes.points([low, high], [low, high])
    svg.clipped(doc, axes, [svg.polyline(diagonal, line_style)])
    svg.decorate(doc, axes, gettext("expected"), gettext("received"))
    dots = _distinct(axes.points(want, have))
    radius = 3.3
    path = "".join(f"M{svg.coord(px - radius)},{svg.coord(py)}a{radius:g},{radius:g} 0 1,0 {2 * radius:g},0"
                   f"a{radius:g},{radius:g} 0 1,0 -{2 * radius:g},0" for px, py in dots.tolist())
    doc.add(f'<path d="{path}" fill="{BLUE}"/>')
    entries = [Entry(gettext("received = expected"), svg.line_sample(line_style)),
               Entry(gettext("your values"), lambda px, py: svg.dot(px, py, radius, f'fill="{BLUE}"'))]
    svg.legend_best(doc, axes, entries, [diagonal], dots)
    return doc.render()


def _distinct(points: np.ndarray) -> np.ndarray:
    """Pixel points rounded to 0.5 px, each once, in a fixed order (more would draw the same dots)."""
    halves = np.round(points * 2).astype(np.int64)
    keys = np.unique(halves[:, 0] * 1_000_000 + halves[:, 1])
    return np.column_stack([keys // 1_000_000, keys % 1_000_000]) / 2


def _scatter_title(finite: np.ndarray) -> str:
    """The scatter's title, counting the values that could not be drawn."""
    missing = int(finite.size - finite.sum())
    if missing:
        return gettext("Expected vs received ({count} NaN/inf not shown)").format(count=missing)
    return gettext("Expected vs received")


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
    low, high = svg.nonsingular(float(error[finite].min()), float(error[finite].max()))
    if not svg.drawable(low, high):
        return ""
    rows, cols = error.shape
    bar_ticks = svg.linear_ticks(low, high, svg.frame_height(HEATMAP_SIZE, ROW), vertical=True)
    axes = svg.place_axes(HEATMAP_SIZE, (-0.5, cols - 0.5), (-0.5, rows - 0.5), below=ROW, x_integer=True,
                          y_integer=True, y_down=True, right_reserve=svg.colourbar_reserve(bar_ticks[1]))
    doc = svg.Svg(HEATMAP_SIZE, _heatmap_title(int(error.size - finite.sum())))
    cells = _pooled(error, round(axes.bottom - axes.top), round(axes.right - axes.left))
    doc.add(svg.image(svg.colour_indices(cells, low, high), "viridis",
                      axes.left, axes.top, axes.right, axes.bottom))
    svg.decorate(doc, axes, gettext("column"), gettext("row"))
    row, col = np.unravel_index(int(np.argmax(np.where(finite, error, np.inf))), error.shape)
    ring = f'fill="none" stroke="{VERMILION}" stroke-width="2.7"'
    doc.add(svg.dot(float(axes.x(col)), float(axes.y(row)), 8.4, ring))
    svg.colourbar(doc, axes, "viridis", bar_ticks, low, high, gettext("|expected − received|"))
    svg.legend_below(doc, axes, [Entry(gettext("largest error"), lambda px, py: svg.dot(px, py, 8.4, ring))])
    return doc.render()


def _heatmap_title(bad: int) -> str:
    """The heatmap's title, counting the NaN/inf cells (drawn in grey)."""
    if bad:
        return gettext("Absolute error per element ({count} NaN/inf in grey)").format(count=bad)
    return gettext("Absolute error per element")
