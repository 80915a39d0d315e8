"""Property cases: every function against torch on inputs drawn by hypothesis, once per run.

One graded case per function checks COUNT drawn inputs (shapes from 1x1 up,
float32 and float64, exact zeros, tiny and large values) plus a few hand-picked
edge inputs. The inputs are drawn at collection with `strategies.draw`, seeded
from the run's seed, so every submission of a run gets the same ones.

Derivatives have two oracles: torch.autograd gives the expected values and
central finite differences of torch's forward functions (autograder.finite_diff)
must agree with it, input by input, before any submission is graded with them;
a disagreement stops the collection. relu' is differenced only away from its
kink, where torch's convention (relu'(0) = 0) is a choice, not a limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from autograder import finite_diff as fd
from autograder import oracle
from autograder.casekit import Case, CaseFailure, check_unchanged, current_seed, graded
from autograder.hidden import strategies as st

COUNT = 5  # drawn inputs per function: each is one call of the student's function per submission


@dataclass
class Family:
    """What one property case checks: a function, its inputs, its oracles."""

    function: str
    strategy: Any
    expected: Callable[..., Any]
    names: tuple[str, ...]
    numeric: Callable[..., Any] | None = None  # finite differences, for derivatives
    outputs: tuple[str, ...] = ()              # names of a tuple's items
    edges: list[tuple] = field(default_factory=list)


def _relu_prime_numeric(z):
    """relu' by differences away from the kink; torch's convention (0) at |z| <= 2h."""
    numeric = fd.elementwise(oracle.relu, z)
    near = np.abs(np.asarray(z, dtype=np.float64)) <= 2 * fd.steps(z)
    return np.where(near, oracle.relu_prime(z), numeric)


def _softmax_ce(z, y):
    return oracle.classifier_loss(z, y, np.eye(z.shape[1]), np.zeros(z.shape[1]))


def _linear_backward_numeric(x, W, b, grad_z):
    def loss(x_, W_, b_):
        return float((oracle.linear(x_, W_, b_) * grad_z).sum())

    return fd.gradients(loss, (x, W, b), (0, 1, 2))


def _xor_numeric(X, y, params):
    def loss(key):
        return lambda value: oracle.mse(oracle.xor_forward(X, {**params, key: value}), y)

    return {key: fd.gradient(loss(key), value) for key, value in params.items()}


TIES = np.array([[0.0, 0.0, 0.0], [2.0, 2.0, -1.0]])
FAMILIES = [
    Family("linear.linear", st.layer(), lambda x, W, b, g: oracle.linear(x, W, b), ("x", "W", "b", "grad_z")),
    Family("linear.linear_backward", st.layer(), oracle.linear_backward, ("x", "W", "b", "grad_z"),
           numeric=_linear_backward_numeric, outputs=("grad_x", "grad_W", "grad_b"),
           edges=[(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros(2), np.ones((2, 2)))]),
    Family("activations.relu", st.elementwise(1e6), oracle.relu, ("z",)),
    Family("activations.relu_prime", st.elementwise(1e3), oracle.relu_prime, ("z",),
           numeric=_relu_prime_numeric, edges=[(np.array([0.0, -0.0, 1e-300, -1e-300]),)]),
    Family("activations.sigmoid", st.elementwise(800.0), oracle.sigmoid, ("z",)),
    Family("activations.sigmoid_prime", st.elementwise(800.0), oracle.sigmoid_prime, ("z",),
           numeric=lambda z: fd.elementwise(oracle.sigmoid, z), edges=[(np.zeros((2, 2)),)]),
    Family("activations.softmax", st.logits(1000.0), oracle.softmax, ("z",)),
    Family("activations.softmax_prime", st.logits(), oracle.softmax_prime, ("z",),
           numeric=lambda z: fd.row_jacobians(oracle.softmax, z), edges=[(TIES,)]),
    Family("losses.mse", st.pairs(), oracle.mse, ("y_hat", "y")),
    Family("losses.mse_prime", st.pairs(), oracle.mse_prime, ("y_hat", "y"),
           numeric=lambda a, b: fd.gradient(lambda v: oracle.mse(v, b), a),
           edges=[(np.ones((2, 2)), np.ones((2, 2)))]),
    Family("losses.cross_entropy", st.probabilities(), oracle.cross_entropy, ("p", "y")),
    Family("losses.cross_entropy_prime", st.probabilities(), oracle.cross_entropy_prime, ("p", "y"),
           numeric=lambda p, y: fd.gradient(lambda v: oracle.cross_entropy(v, y), p, scale=0.0),
           edges=[(np.array([[1.0, 0.5], [0.25, 1.0]]), np.array([0, 1]))]),
    Family("losses.softmax_cross_entropy_prime", st.labelled_logits(), oracle.softmax_cross_entropy_prime,
           ("z", "y"), numeric=lambda z, y: fd.gradient(lambda v: _softmax_ce(v, y), z),
           edges=[(TIES, np.array([1, 2]))]),
    Family("network.classifier_loss", st.classifier(), oracle.classifier_loss, ("x", "y", "W", "b")),
    Family("network.classifier_gradients", st.classifier(), oracle.classifier_gradients, ("x", "y", "W", "b"),
           numeric=lambda x, y, W, b: fd.gradients(oracle.classifier_loss, (x, y, W, b), (2, 3)),
           outputs=("grad_W", "grad_b")),
    Family("xor.forward", st.xor_batch(), lambda X, y, p: oracle.xor_forward(X, p), ("X", "y", "params")),
    Family("xor.gradients", st.xor_batch(), oracle.xor_gradients, ("X", "y", "params"), numeric=_xor_numeric),
    Family("xor.sgd_step", st.sgd(), oracle.xor_sgd_step, ("params", "grads", "lr")),
]
# forward and linear draw more arguments than they take (to share a strategy): how many to pass
ARITY = {"linear.linear": 3, "xor.forward": (0, 2)}


def _dtype(args: tuple) -> np.dtype:
    """float32 when any argument array is float32 (its looser tolerance), else float64."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    return np.dtype(np.float32) if any(a.dtype == np.float32 for a in arrays) else np.dtype(np.float64)


def _describe(args: tuple, names: tuple[str, ...]) -> str:
    arrays = [(n, a) for n, a in zip(names, args, strict=False) if isinstance(a, np.ndarray)]
    parts = [f"{n}: {a.shape} {a.dtype}" for n, a in arrays]
    return ", ".join(parts) or "dicts of parameters"


def _passed_args(family: Family, args: tuple) -> tuple[tuple, tuple[str, ...]]:
    """The arguments the student's function takes, and their names."""
    keep = ARITY.get(family.function)
    if keep is None:
        return args, family.names
    index = range(keep) if isinstance(keep, int) else keep
    return tuple(args[i] for i in index), tuple(family.names[i] for i in index)


def _cases(family: Family) -> list[Case]:
    """The family's inputs with their expected values, finite differences checked first."""
    drawn = st.draw(family.strategy, COUNT, current_seed(), family.function)
    cases = []
    for i, args in enumerate(drawn + family.edges):
        expected = family.expected(*args)
        if family.numeric is not None:
            fd.agree(expected, family.numeric(*args), f"{family.function}, input {i}")
        passed, names = _passed_args(family, args)
        label = f"input {i + 1} of {len(drawn) + len(family.edges)} ({_describe(passed, names)})"
        cases.append(Case(label, passed, expected, dtype=_dtype(passed), names=names))
    return cases


PROPERTIES = [(family, _cases(family)) for family in FAMILIES]


def _check(student, case: Case, got: Any, outputs: tuple[str, ...]) -> None:
    """Compare an array, a tuple of arrays or a dict of arrays with the case's expectation."""
    expected = case.expected
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            raise CaseFailure(f"expected a dict with keys {sorted(expected)}, got {type(got).__name__}")
        for key in expected:
            case.check(student, got[key], expected=expected[key], what=key)
    elif isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            raise CaseFailure(f"expected a tuple ({', '.join(outputs)}), got {type(got).__name__}")
        for what, value, want in zip(outputs, got, expected, strict=True):
            case.check(student, value, expected=want, what=what)
    else:
        case.check(student, got)


@pytest.mark.parametrize(
    "family, cases",
    [pytest.param(f, cs, marks=graded(f.function), id=f"drawn inputs ({f.function})")
     for f, cs in PROPERTIES],
)
def test_property(student, family, cases):
    """agrees with torch on inputs drawn by hypothesis (shapes from 1x1, both dtypes, edge values)"""
    module, name = family.function.split(".")
    function = getattr(getattr(student, module), name)
    for case in cases:
        got = function(*case.args)
        try:
            check_unchanged(student, case.names)
            _check(student, case, got, family.outputs)
        except CaseFailure as failure:
            raise CaseFailure(f"{case.label}: {failure.message}", kind=failure.kind, input=case.label,
                              **failure.details) from None
