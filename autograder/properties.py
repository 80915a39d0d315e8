"""Property cases: an exercise function against torch on inputs drawn by hypothesis, once per run.

A course declares, per function, a `Family`: the strategy its inputs are drawn from,
the oracle, and for a derivative a second, independent oracle (finite differences
of torch's forward functions, `autograder.finite_diff`) that must agree with
autograd, input by input, before any submission is graded with them; a
disagreement stops the collection. `graded_properties(families)` makes the one
graded case per function that checks COUNT drawn inputs plus the family's edges.
The inputs are drawn at collection, seeded from the run's seed, so every
submission of a run gets the same ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from autograder import finite_diff as fd
from autograder import strategies as st
from autograder.casekit import Case, CaseFailure, Student, check_unchanged, current_seed, graded

COUNT = 5  # drawn inputs per function: each is one call of the student's function per submission


@dataclass
class Family:
    """What one property case checks: a function, its inputs, its oracles.

    `strategy` draws the arguments; `take` picks the ones the function is given when a
    strategy draws more (shared with a sibling), by index."""

    function: str
    strategy: Any
    expected: Callable[..., Any]
    names: tuple[str, ...]
    numeric: Callable[..., Any] | None = None  # finite differences, for derivatives
    outputs: tuple[str, ...] = ()              # names of a tuple's items
    edges: list[tuple] = field(default_factory=list)
    take: tuple[int, ...] | None = None


def _dtype(args: tuple) -> np.dtype:
    """float32 when any argument array is float32 (its looser tolerance), else float64."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    return np.dtype(np.float32) if any(a.dtype == np.float32 for a in arrays) else np.dtype(np.float64)


def describe(args: tuple, names: tuple[str, ...]) -> str:
    """The kind of input, without its values: each array's shape and dtype."""
    arrays = [(n, a) for n, a in zip(names, args, strict=False) if isinstance(a, np.ndarray)]
    parts = [f"{n}: {a.shape} {a.dtype}" for n, a in arrays]
    return ", ".join(parts) or "dicts of parameters"


def _passed(family: Family, args: tuple) -> tuple[tuple, tuple[str, ...]]:
    """The arguments the student's function takes, and their names."""
    if family.take is None:
        return args, family.names
    return tuple(args[i] for i in family.take), tuple(family.names[i] for i in family.take)


def cases(family: Family) -> list[Case]:
    """The family's inputs with their expected values, finite differences checked first."""
    drawn = st.draw(family.strategy, COUNT, current_seed(), family.function)
    made = []
    for i, args in enumerate(drawn + family.edges):
        expected = family.expected(*args)
        if family.numeric is not None:
            fd.agree(expected, family.numeric(*args), f"{family.function}, input {i}")
        passed, names = _passed(family, args)
        label = f"input {i + 1} of {len(drawn) + len(family.edges)} ({describe(passed, names)})"
        made.append(Case(label, passed, expected, dtype=_dtype(passed), names=names))
    return made


def _check(student: Student, case: Case, got: Any, outputs: tuple[str, ...]) -> None:
    """Compare an array, a tuple of arrays or a dict of arrays with the case's expectation."""
    expected = case.expected
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            raise CaseFailure(f"expected a dict with keys {sorted(expected)}, got {type(got).__name__}",
                              kind="type")
        for key in expected:
            case.check(student, got[key], expected=expected[key], what=key)
    elif isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            raise CaseFailure(f"expected a tuple ({', '.join(outputs)}), got {type(got).__name__}",
                              kind="type")
        for what, value, want in zip(outputs, got, expected, strict=True):
            case.check(student, value, expected=want, what=what)
    else:
        case.check(student, got)


def _run(student: Student, family: Family, drawn: list[Case]) -> None:
    module, name = family.function.split(".")
    function = getattr(getattr(student, module), name)
    for case in drawn:
        got = function(*case.args)
        try:
            check_unchanged(student, case.names)
            _check(student, case, got, family.outputs)
        except CaseFailure as failure:
            raise CaseFailure(f"{case.label}: {failure.message}", kind=failure.kind, input=case.label,
                              **failure.details) from None


def graded_properties(families: Sequence[Family]) -> Callable[..., None]:
    """The graded case, one per family, that checks the family's drawn inputs; assign it to a
    `test_...` name in a course's hidden.py for pytest to collect."""
    params = [pytest.param(f, cases(f), marks=graded(f.function), id=f"drawn inputs ({f.function})")
              for f in families]

    @pytest.mark.parametrize("family, drawn", params)
    def test_property(student: Student, family: Family, drawn: list[Case]) -> None:
        """agrees with torch on inputs drawn by hypothesis (shapes from 1x1, both dtypes, edge values)"""
        _run(student, family, drawn)

    return test_property
