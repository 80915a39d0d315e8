"""Property cases: an exercise function against torch on inputs drawn by hypothesis, once per run.

A course declares, per function, a `Family`: the kinds of input it is checked on, each
with the strategy that draws it (float64, float32, a batch of one, large logits...), its
named edge inputs, the oracle, for a derivative a second, independent oracle (finite
differences of torch's forward functions, `autograder.finite_diff`) that must agree with
autograd, input by input, before any submission is graded with them (a disagreement stops
the collection), and the outputs of its known mistakes. `graded_properties(families)` makes
one graded case per kind that checks COUNT drawn inputs of that kind, and one per edge
input; a family's cases share one case's weight. A case's label names the kind of input,
never a drawn value (hidden labels are shown to students), and a failure carries the hint
of the known mistake it matches. The inputs are drawn at collection, seeded from the run's
seed, so every submission of a run gets the same ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from autograder import finite_diff as fd
from autograder import strategies as st
from autograder.casekit import Case, CaseFailure, Student, check_unchanged, current_seed, graded
from autograder.i18n import N_, gettext, later, translated

COUNT = 2  # drawn inputs per kind (the first is hypothesis's simplest): a call each per submission
#: What every property case checks (its docstring, as the runner shows it).
CHECKED = N_("agrees with torch on inputs of the kind named, drawn by hypothesis, or on the edge input named")


@dataclass
class Family:
    """What the property cases of one function check: its inputs by kind, its oracles, its mistakes.

    `kinds` maps a kind of input, in words that name no value (students see them), to the
    strategy that draws it; `edges` maps a named edge input to its arguments. `take` picks
    the arguments the function is given when a strategy draws more (shared with a sibling),
    by index. `mistakes(*arguments)` gives the outputs of known mistakes on the arguments
    the function is given: {hint: output}, or {output name: {hint: output}} for a tuple or
    dict."""

    function: str
    kinds: Mapping[str, Any]
    expected: Callable[..., Any]
    names: tuple[str, ...]
    numeric: Callable[..., Any] | None = None  # finite differences, for derivatives
    outputs: tuple[str, ...] = ()              # names of a tuple's items
    edges: Mapping[str, tuple] = field(default_factory=dict)
    take: tuple[int, ...] | None = None
    mistakes: Callable[..., Mapping[str, Any]] | None = None


def _dtype(args: tuple) -> np.dtype:
    """float32 when any argument array is float32 (its looser tolerance), else float64."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    return np.dtype(np.float32) if any(a.dtype == np.float32 for a in arrays) else np.dtype(np.float64)


def describe(args: tuple, names: tuple[str, ...]) -> str:
    """The kind of input, without its values: each array's shape and dtype, or "dicts of parameters"
    (marked N_: a label `later` makes with it says it in the language in use)."""
    arrays = [(n, a) for n, a in zip(names, args, strict=False) if isinstance(a, np.ndarray)]
    parts = [f"{n}: {a.shape} {a.dtype}" for n, a in arrays]
    return ", ".join(parts) or N_("dicts of parameters")


def _passed(family: Family, args: tuple) -> tuple[tuple, tuple[str, ...]]:
    """The arguments the student's function takes, and their names."""
    if family.take is None:
        return args, family.names
    return tuple(args[i] for i in family.take), tuple(family.names[i] for i in family.take)


def _case(family: Family, args: tuple, message: str, **fields: Any) -> Case:
    """One input of the family, labelled by `message` (N_) with `fields` and its arguments' shapes
    (`inputs`), with its expected value (finite differences checked first) and the outputs of its
    known mistakes."""
    passed, names = _passed(family, args)
    label = later(message, **fields, inputs=describe(passed, names))
    expected = family.expected(*args)
    if family.numeric is not None:
        fd.agree(expected, family.numeric(*args), f"{family.function}, {label}")
    with np.errstate(all="ignore"):  # a mistake's output may overflow: that is what it looks like
        mistakes = family.mistakes(*passed) if family.mistakes is not None else {}
    return Case(label, passed, expected, dtype=_dtype(passed), names=names, mistakes=mistakes)


def groups(family: Family) -> list[tuple[str, list[Case]]]:
    """The family's graded groups of inputs, each with its label (made by `later`, which names the
    function too): COUNT drawn inputs of each kind, then each edge input alone."""
    made = []
    for kind, strategy in family.kinds.items():
        drawn = st.draw(strategy, COUNT, current_seed(), f"{family.function}: {kind}")
        label = later(N_("drawn inputs, {kind} ({function})"), kind=kind, function=family.function)
        made.append((label, [_case(family, args, N_("input {number} of {count} ({inputs})"), number=i + 1,
                                   count=len(drawn)) for i, args in enumerate(drawn)]))
    for name, args in family.edges.items():
        made.append((later(N_("edge input, {name} ({function})"), name=name, function=family.function),
                     [_case(family, args, N_("the edge input ({inputs})"))]))
    return made


def _check(student: Student, case: Case, got: Any, outputs: tuple[str, ...]) -> None:
    """Compare an array, a tuple of arrays or a dict of arrays with the case's expectation."""
    expected = case.expected
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            text = gettext("expected a dict with keys {keys}, got {got}")
            raise CaseFailure(text.format(keys=sorted(expected), got=type(got).__name__), kind="type")
        for key in expected:
            case.check(student, got[key], expected=expected[key], what=key,
                       mistakes=case.mistakes.get(key, {}))
    elif isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            text = gettext("expected a tuple ({outputs}), got {type}")
            raise CaseFailure(text.format(outputs=", ".join(outputs), type=type(got).__name__), kind="type")
        for what, value, want in zip(outputs, got, expected, strict=True):
            case.check(student, value, expected=want, what=what, mistakes=case.mistakes.get(what, {}))
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
            label = translated(case.label)
            raise CaseFailure(gettext("{input}: {message}").format(input=label, message=failure.message),
                              kind=failure.kind, input=label, **failure.details) from None


def graded_properties(families: Sequence[Family]) -> Callable[..., None]:
    """The graded cases of `families`, one per kind of input and one per edge input, labelled
    "drawn inputs, <kind> (<function>)" or "edge input, <name> (<function>)" (each kind and name
    marked N_ where it is written: the runner shows the label in the language in use); assign the
    result to a `test_...` name in a course's hidden.py for pytest to collect."""
    params = []
    for family in families:
        made = groups(family)
        params += [pytest.param(family, drawn, marks=graded(family.function, weight=1 / len(made)), id=label)
                   for label, drawn in made]

    @pytest.mark.parametrize("family, drawn", params)
    def test_property(student: Student, family: Family, drawn: list[Case]) -> None:
        _run(student, family, drawn)

    test_property.__doc__ = CHECKED  # the runner shows it translated
    return test_property
