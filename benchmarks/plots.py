"""Time to draw each report plot: the median of many runs, in milliseconds.

    python benchmarks/plots.py [--runs 300]

Draws each plot of autograder.plots on inputs of the sizes a report meets (a short
and a long line chart, a 41 x 41 field, small and large error heatmaps, a scatter)
and prints the median and the fastest time per call. For scale: a matplotlib figure
and ``savefig`` cost 40-80 ms a plot.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from autograder import plots, svg


def _line_chart(length: int) -> Callable[[], str]:
    """Two series of `length` values, the second turning NaN for its last fifth."""
    falling = np.geomspace(0.7, 0.001, length)
    broken = np.r_[falling[: length * 4 // 5] * 1.2, [np.nan] * (length - length * 4 // 5)]
    series = [plots.Series(falling, "reference", plots.VERMILION, 2.7, "9.9,4.3"),
              plots.Series(broken, "drawn", nonfinite_note="NaN/inf from {x}")]
    return lambda: plots.log_line_chart(series, title="Two series", xlabel="x", ylabel="y (log scale)")


def _field() -> Callable[[], str]:
    """A 41 x 41 field crossing 0.5 along two lines, with four marked points."""
    xs = np.linspace(-0.5, 1.5, 41)
    values = 1 / (1 + np.exp(-12 * (np.abs(np.subtract.outer(xs, xs)) - 0.45)))
    points = [plots.Points([(0.0, 0.0), (1.0, 1.0)], svg.circle, "low"),
              plots.Points([(0.0, 1.0), (1.0, 0.0)], svg.cross, "high")]
    return lambda: plots.field_map(values, xs, xs, points=points, title="Field", xlabel="x",
                                   ylabel="y", colourbar_label="value")


def _heatmap(rows: int, cols: int) -> Callable[[], str]:
    """An error heatmap of rows x cols with a tenth of the cells wrong."""
    rng = np.random.default_rng(0)
    expected = rng.normal(size=(rows, cols))
    got = expected + (rng.random((rows, cols)) < 0.1)
    return lambda: plots.error_heatmap(expected, got)


def _scatter() -> Callable[[], str]:
    """A 1-D result of 100 values, drawn against the expected ones."""
    expected = np.arange(100.0)
    return lambda: plots.error_heatmap(expected, expected ** 1.1)


CASES: dict[str, Callable[[], Callable[[], str]]] = {
    "line chart, 2 x 200 values": lambda: _line_chart(200),
    "line chart, 2 x 5000 values": lambda: _line_chart(5000),
    "field 41 x 41, 4 points": _field,
    "error heatmap 4 x 3": lambda: _heatmap(4, 3),
    "error heatmap 400 x 450": lambda: _heatmap(400, 450),
    "scatter of 100 values": _scatter,
}


def main() -> None:
    """Print the median and fastest time of each plot."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=300, help="calls per plot (default 300)")
    args = ap.parse_args()
    for name, make in CASES.items():
        draw = make()
        assert draw().startswith("<svg"), name
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            draw()
            times.append(time.perf_counter() - start)
        median, fastest = statistics.median(times) * 1e3, min(times) * 1e3
        print(f"{name:28s} median {median:7.2f} ms   fastest {fastest:7.2f} ms")


if __name__ == "__main__":
    main()
