"""What the report draws of xor.py: the student's training against torch's from the same
weights, and what the trained network predicts over the input plane.

Drawn from the longest public call of xor.train (the engine records public calls only),
with torch's network for the decision boundary: no extra student call is made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder import plots, svg
from autograder.figures import VALUE_ERRORS
from autograder.i18n import N_, gettext
from course.xor import oracle

TITLE = N_("Your XOR network in training")
#: The calls of the student's functions these figures are drawn from.
CALLS = ("xor.train",)
#: Each figure's alternative text and caption (marked N_: the report shows them in the language in use).
TEXTS = {
    "loss_curve": (
        N_("Line chart of the training loss per epoch on a log scale: your network as a solid line, "
           "torch's as a dashed line, both from the same initial weights."),
        N_("Training loss of your XOR network and of torch's, from the same initial weights. "
           "The two lines should lie on top of each other."),
    ),
    "decision_boundary": (
        N_("Map of your trained XOR network's output over the input plane, with its 0.5 contour "
           "and the four XOR points: circles for output 0, crosses for output 1."),
        N_("What your trained network predicts everywhere: the white line (output 0.5) should "
           "separate the circles from the crosses."),
    ),
}
GRID = np.linspace(-0.5, 1.5, 41)
XOR_POINTS = [plots.Points([(0.0, 0.0), (1.0, 1.0)], svg.circle, "XOR = 0"),
              plots.Points([(0.0, 1.0), (1.0, 0.0)], svg.cross, "XOR = 1")]


def loss_curve(losses: Any, torch_losses: Any) -> str:
    """The student's training loss per epoch against torch's, on a log scale."""
    return plots.log_line_chart(
        [plots.Series(torch_losses, gettext("torch (reference)"), plots.VERMILION, 2.7, "9.9,4.3"),
         plots.Series(losses, gettext("your network"),
                      nonfinite_note=gettext("your loss is NaN/inf from epoch {x}"))],
        title=gettext("Training loss"), xlabel=gettext("epoch"), ylabel=gettext("training loss (log scale)"))


def decision_boundary(outputs: Any) -> str:
    """The trained network's output over the input plane, its 0.5 contour and the XOR points."""
    return plots.field_map(outputs, GRID, GRID, points=XOR_POINTS,
                           title=gettext("Decision boundary (white line: output 0.5)"),
                           xlabel=gettext("input x1"), ylabel=gettext("input x2"),
                           colourbar_label=gettext("network output"))


def draw(calls: dict[str, list[tuple[tuple, Any]]]) -> dict[str, str]:
    """The figures of the longest recorded training: {"loss_curve": svg, "decision_boundary": svg}."""
    runs = [(args, value) for args, value in calls.get("xor.train", [])
            if len(args) == 5 and isinstance(value, (tuple, list)) and len(value) == 2]
    if not runs:
        return {}
    (X, y, params, lr, epochs), (trained, losses) = max(runs, key=lambda run: run[0][4])
    torch_losses = oracle.train(X, y, params, lr, epochs)[1]  # remembered since collection
    gx, gy = np.meshgrid(GRID, GRID)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    figures = {}
    for key, draw_one in (("loss_curve", lambda: loss_curve(losses, torch_losses)),
                          ("decision_boundary", lambda: decision_boundary(oracle.forward(grid, trained)))):
        try:
            figures[key] = draw_one()
        except VALUE_ERRORS:
            pass  # the student's values cannot be drawn: no figure, and no failure
    return figures
