"""The plots of one submission's report, from what its grading recorded.

Runs in the trusted worker: the student's training losses against torch's from
the same weights, the decision boundary of the student's trained weights
(evaluated with the torch reference network, so no extra student call is made),
and for each function with a visible wrong value, its error heatmap. Only values
returned before any hidden case are drawn (`runner` records no others), and a value
that cannot be drawn costs its plot, never the report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder import oracle, plots

GRID = np.linspace(-0.5, 1.5, 41)


def training_plots(record: dict[str, Any]) -> dict[str, str]:
    """{"loss_curve": svg, "decision_boundary": svg} for the recorded xor.train call, if any."""
    if "train" not in record:
        return {}
    (X, y, params, lr, epochs), value = record["train"]
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        return {}
    trained, losses = value
    torch_losses = oracle.xor_train(X, y, params, lr, epochs)[1]  # remembered since collection
    gx, gy = np.meshgrid(GRID, GRID)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    figures = {
        "loss_curve": _drawn(lambda: plots.loss_curve(losses, torch_losses)),
        "decision_boundary": _drawn(lambda: plots.decision_boundary(oracle.xor_forward(grid, trained),
                                                                    GRID, GRID)),
    }
    return {k: v for k, v in figures.items() if v}


def _drawn(draw: Callable[[], str]) -> str:
    """The plot `draw` makes, or "" when the student's values cannot be drawn (not a dict of
    arrays, numbers too large for floats...): a plot is never worth a report."""
    with contextlib.suppress(Exception):
        return draw()
    return ""


def report_plots(record: dict[str, Any]) -> dict[str, str]:
    """Every plot of the report: training plots, and {"module.function": heatmap} per mismatch."""
    figures = training_plots(record)
    for function, (expected, got) in record.get("mismatch", {}).items():
        figure = _drawn(lambda e=expected, g=got: plots.error_heatmap(e, g))
        if figure:
            figures[function] = figure
    return figures
