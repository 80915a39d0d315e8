"""Small SVG plots for the feedback report, drawn with matplotlib's Agg backend.

Each function returns an SVG document as a string (starting at ``<svg``, no XML
prolog), ready to be embedded as a ``data:`` URI, or ``""`` when its input holds
nothing that can sensibly be drawn (wrong shapes, no finite values, ...).
Student values may be anything: NaN, inf, ragged lists or the wrong type, so
every function checks its input and never raises for bad values.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

#: Figure size in inches: small enough to keep each SVG in the tens of kilobytes.
SIZE = (5.0, 3.2)
#: Most cells an error heatmap draws; larger arrays are not drawn.
MAX_CELLS = 200_000
#: Colours from the colour-blind-safe Okabe-Ito palette.
STUDENT_COLOUR, TORCH_COLOUR = "#0072B2", "#D55E00"
STYLE = {
    "svg.fonttype": "none",          # text as text: smaller, and readable by screen readers
    "svg.hashsalt": "nn-autograder",  # the same plot gives the same SVG
    "font.family": ["DejaVu Sans", "Liberation Sans", "sans-serif"],
    "font.size": 9,
    "axes.titlesize": 10,
}
METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def _as_float_array(values: Any) -> np.ndarray | None:
    """`values` as a float64 array, or None when it is not numeric and rectangular."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    return array


#: Fixed margins (fractions of the figure): a layout engine would measure every label
#: first, which doubled the time of each plot. "below" leaves room for a legend there.
MARGINS = {"left": 0.14, "right": 0.96, "top": 0.9, "bottom": 0.16}
MARGINS_BELOW = {**MARGINS, "bottom": 0.3}


@contextmanager
def _figure(size: tuple[float, float] = SIZE, legend_below: bool = False) -> Iterator[tuple[Figure, Axes]]:
    """A figure in the report's style, always closed afterwards."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=size, gridspec_kw=MARGINS_BELOW if legend_below else MARGINS)
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def _svg(fig: Figure) -> str:
    """The figure as an SVG string without XML prolog, doctype or metadata."""
    buffer = io.StringIO()
    with plt.rc_context(STYLE):
        fig.savefig(buffer, format="svg", metadata=METADATA)
    text = buffer.getvalue()
    return text[text.find("<svg"):]


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
    with _figure() as (fig, ax):
        if reference is not None:
            ax.plot(*reference, color=TORCH_COLOUR, linestyle="--", linewidth=2, label="torch (reference)")
        if student is not None:
            ax.plot(*student, color=STUDENT_COLOUR, linewidth=1.5, label="your network")
        _mark_divergence(ax, _first_bad_epoch(student_losses))
        ax.set_yscale("log")
        ax.set(xlabel="epoch", ylabel="training loss (log scale)", title="Training loss")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="best", frameon=False)
        return _svg(fig)


def _mark_divergence(ax: Axes, epoch: int | None) -> None:
    """A dotted vertical line where the student's loss stopped being finite."""
    if epoch is not None:
        ax.axvline(epoch, color="#444444", linestyle=":", linewidth=1.5,
                   label=f"your loss is NaN/inf from epoch {epoch}")


def _grid_values(predict_grid: Any, xs: Any, ys: Any) -> tuple[np.ndarray, ...] | None:
    """(xs, ys, values shaped (len(ys), len(xs))), or None if the shapes do not fit."""
    x, y, z = (_as_float_array(v) for v in (xs, ys, predict_grid))
    if x is None or y is None or z is None or x.ndim != 1 or y.ndim != 1:
        return None
    if x.size < 2 or y.size < 2 or z.size != x.size * y.size:
        return None
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return None
    z = z.reshape(y.size, x.size)
    return (x, y, z) if np.isfinite(z).any() else None


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
    with _figure((4.2, 3.6), legend_below=True) as (fig, ax):
        masked = np.ma.masked_invalid(z)
        mesh = ax.pcolormesh(x, y, masked, cmap="cividis", shading="auto", rasterized=True,
                             vmin=_low(masked), vmax=_high(masked))
        fig.colorbar(mesh, ax=ax, label="network output")
        if masked.min() < 0.5 < masked.max():
            ax.contour(x, y, masked, levels=[0.5], colors="white", linewidths=2)
        _xor_points(ax)
        ax.set(xlabel="input x1", ylabel="input x2", title="Decision boundary (white line: output 0.5)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
        return _svg(fig)


def _low(values: np.ma.MaskedArray) -> float:
    """Lower colour limit: 0 for probabilities, else the data's minimum."""
    return 0.0 if values.min() >= 0 else float(values.min())


def _high(values: np.ma.MaskedArray) -> float:
    """Upper colour limit: 1 for probabilities, else the data's maximum."""
    return 1.0 if values.max() <= 1 else float(values.max())


def _xor_points(ax: Axes) -> None:
    """The four XOR inputs: circles for class 0, crosses for class 1 (shape, not only colour)."""
    ax.scatter([0, 1], [0, 1], marker="o", s=90, facecolor="white", edgecolor="black",
               linewidth=1.5, label="XOR = 0", zorder=3)
    ax.scatter([0, 1], [1, 0], marker="X", s=110, facecolor="black", edgecolor="white",
               linewidth=1, label="XOR = 1", zorder=3)


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
    with _figure((4.2, 3.6)) as (fig, ax):
        low = float(min(expected[finite].min(), got[finite].min()))
        high = float(max(expected[finite].max(), got[finite].max()))
        ax.plot([low, high], [low, high], color="#444444", linestyle="--", linewidth=1,
                label="received = expected")
        ax.scatter(expected[finite], got[finite], color=STUDENT_COLOUR, s=24, label="your values",
                   zorder=3)
        ax.set(xlabel="expected", ylabel="received", title=_scatter_title(finite))
        ax.legend(loc="best", frameon=False)
        return _svg(fig)


def _scatter_title(finite: np.ndarray) -> str:
    """The scatter's title, counting the values that could not be drawn."""
    missing = int(finite.size - finite.sum())
    return "Expected vs received" + (f" ({missing} NaN/inf not shown)" if missing else "")


def _heatmap(expected: np.ndarray, got: np.ndarray) -> str:
    """|expected - got| per element of a 2-D result; "" if no difference is finite."""
    with np.errstate(all="ignore"):
        error = np.abs(got - expected)
    masked = np.ma.masked_invalid(error)
    if masked.count() == 0:
        return ""
    cmap = plt.get_cmap("viridis").with_extremes(bad="#9e9e9e")
    with _figure((4.6, 3.6), legend_below=True) as (fig, ax):
        image = ax.imshow(masked, cmap=cmap, aspect="auto", interpolation="nearest")
        fig.colorbar(image, ax=ax, label="|expected − received|")
        row, col = np.unravel_index(int(np.argmax(np.where(np.isfinite(error), error, np.inf))),
                                    error.shape)
        ax.scatter([col], [row], s=160, facecolor="none", edgecolor="#D55E00", linewidth=2,
                   label="largest error")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel="column", ylabel="row", title=_heatmap_title(masked))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
        return _svg(fig)


def _heatmap_title(masked: np.ma.MaskedArray) -> str:
    """The heatmap's title, counting the NaN/inf cells (drawn in grey)."""
    bad = int(masked.size - masked.count())
    return "Absolute error per element" + (f" ({bad} NaN/inf in grey)" if bad else "")
