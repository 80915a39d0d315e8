"""The plots of one submission's report, from what its grading recorded.

Runs in the trusted worker. A course module may draw figures from the student's
calls (course/<module>/figures.py: `CALLS` names the functions whose calls it needs,
`draw(calls)` returns its figures, `TEXTS` their alternative texts and captions,
`TITLE` the report's heading). Only calls made before any hidden case are recorded
(`runner`), so a figure never shows what a student computed from hidden inputs.
Beside them, for each function with a visible wrong value, an error heatmap. A value
that cannot be drawn costs its plot, never the report.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable
from typing import Any

from autograder import plots
from autograder.course import Course


def figure_modules(course: Course) -> list[types.ModuleType]:
    """The course's figure modules, in module order."""
    return [m for name in course.names if (m := course.python_module(name, "figures")) is not None]


def recorded(course: Course) -> frozenset[str]:
    """The functions whose (public) calls the figures need."""
    return frozenset(tag for module in figure_modules(course) for tag in getattr(module, "CALLS", ()))


def report_plots(record: dict[str, Any], course: Course) -> dict[str, str]:
    """Every plot of the report: each course figure by its key, and {"module.function": heatmap}
    for each function with a visible wrong value."""
    figures: dict[str, str] = {}
    for module in figure_modules(course):
        drawn = _drawn(lambda m=module: m.draw(record.get("calls", {})))
        figures.update({k: v for k, v in (drawn or {}).items() if isinstance(v, str) and v})
    for function, (expected, got) in record.get("mismatch", {}).items():
        figure = _drawn(lambda e=expected, g=got: plots.error_heatmap(e, g))
        if figure:
            figures[function] = figure
    return figures


#: What drawing a student's odd values raises (not a dict of arrays, ints too large for floats...).
VALUE_ERRORS = (TypeError, ValueError, KeyError, IndexError, OverflowError, ZeroDivisionError,
                FloatingPointError, RuntimeError)


def _drawn(draw: Callable[[], Any]) -> Any:
    """What `draw` makes, or "" when the student's values cannot be drawn: a plot is never worth
    a report. Any other error (a bug of the grader's) is raised."""
    with contextlib.suppress(*VALUE_ERRORS):
        return draw()
    return ""
