"""Hidden cases for activations.py: values against torch, derivatives against autograd."""

import numpy as np
import pytest

from autograder import finite_diff as fd
from autograder import strategies as st
from autograder.casekit import Case, check_no_warnings, graded, rng
from autograder.i18n import N_
from autograder.properties import Family, graded_properties
from course.activations import oracle
from course.activations.mistakes import global_shift_softmax
from course.activations.public import (
    DIAGONAL_ONLY,
    GLOBAL_SHIFT,
    JACOBIAN_FLIPPED,
    JACOBIAN_OF_Z,
    RELU_PRIME_AT_0,
    SIGMA_PRIME_OF_OUTPUT,
    SIGMA_PRIME_OF_Z,
    SIGMOID_RETURNED,
    WHOLE_ARRAY,
    WRONG_AXIS,
)

R = rng("activations")


def _elementwise_inputs():
    """(label, z): random shapes, exact zeros, large values, float32 (labels marked N_: students see
    them, in the language in use)."""
    mixed = R.normal(scale=3, size=(4, 5))
    mixed[0, :2] = 0.0
    return [
        (N_("random 4x5 with exact zeros"), mixed),
        (N_("batch of one, 1x3"), R.normal(size=(1, 3))),
        (N_("vector of 7"), R.normal(scale=5, size=7)),
        ("float32 3x4", R.normal(size=(3, 4)).astype(np.float32)),
    ]


def _cases(reference, mistakes=lambda z: {}):
    return [
        Case(label, (z,), reference(z), dtype=z.dtype, mistakes=mistakes(z), names=("z",))
        for label, z in _elementwise_inputs()
    ]


EXTREME = np.array([[-1000.0, -710.0, -30.0, 0.0, 30.0, 710.0, 1000.0]])
KINK = np.array([[-1.0, 0.0, 2.0], [0.0, 0.0, -0.0]])


def _sigmoid(z):
    return 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64)))


@graded("activations.relu")
@pytest.mark.parametrize(
    "case", _cases(oracle.relu) + [Case(N_("exact zeros"), (KINK,), oracle.relu(KINK))], ids=str
)
def test_relu(student, case):
    """max(z, 0) against torch.relu"""
    case.run(student, "activations.relu")


def _relu_prime_mistakes(z):
    return {RELU_PRIME_AT_0: (np.asarray(z) >= 0).astype(float)}


@graded("activations.relu_prime")
@pytest.mark.parametrize(
    "case",
    _cases(oracle.relu_prime, _relu_prime_mistakes)
    + [Case(N_("exactly 0 (the kink)"), (KINK,), oracle.relu_prime(KINK),
            mistakes=_relu_prime_mistakes(KINK))],
    ids=str,
)
def test_relu_prime(student, case):
    """1 where z > 0 else 0, against torch.autograd (0 at z = 0)"""
    case.run(student, "activations.relu_prime")


@graded("activations.sigmoid")
@pytest.mark.parametrize("case", _cases(oracle.sigmoid), ids=str)
def test_sigmoid(student, case):
    """1 / (1 + exp(-z)) against torch.sigmoid"""
    case.run(student, "activations.sigmoid")


SIGMOID_EXTREME = Case("z = +-1000", (EXTREME,), oracle.sigmoid(EXTREME))


@graded("activations.sigmoid", weight=2)
def test_sigmoid_extremes(student):
    """sigmoid at +-1000 and +-710: finite, no NaN, no overflow warning"""
    got = student.activations.sigmoid(EXTREME)
    SIGMOID_EXTREME.check(student, got)
    check_no_warnings(student)


def _sigmoid_prime_mistakes(z):
    s = _sigmoid(z)
    return {
        SIGMA_PRIME_OF_OUTPUT: _sigmoid(s) * (1 - _sigmoid(s)),
        SIGMA_PRIME_OF_Z: np.asarray(z) * (1 - np.asarray(z)),
        SIGMOID_RETURNED: s,
    }


@graded("activations.sigmoid_prime")
@pytest.mark.parametrize("case", _cases(oracle.sigmoid_prime, _sigmoid_prime_mistakes), ids=str)
def test_sigmoid_prime(student, case):
    """sigmoid(z) * (1 - sigmoid(z)) against torch.autograd"""
    case.run(student, "activations.sigmoid_prime")


with np.errstate(all="ignore"):
    SIGMOID_PRIME_EXTREME = Case("z = +-1000", (EXTREME,), oracle.sigmoid_prime(EXTREME),
                                 mistakes=_sigmoid_prime_mistakes(EXTREME))


@graded("activations.sigmoid_prime")
def test_sigmoid_prime_extremes(student):
    """sigmoid' at +-1000: finite (0), no warning"""
    got = student.activations.sigmoid_prime(EXTREME)
    SIGMOID_PRIME_EXTREME.check(student, got)
    check_no_warnings(student)


def _softmax_inputs():
    return [
        ("m=4, K=3", R.normal(size=(4, 3))),
        (N_("batch of one, K=5"), R.normal(size=(1, 5))),
        ("m=3, K=2", R.normal(size=(3, 2))),
        ("m=6, K=4, float32", R.normal(size=(6, 4)).astype(np.float32)),
        (N_("m=K=3 (a missing keepdims still broadcasts)"), R.normal(scale=2, size=(3, 3))),
    ]


def _softmax_mistakes(z):
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        e = np.exp(z - z.max())
        return {
            WRONG_AXIS: e / e.sum(axis=0, keepdims=True),
            WHOLE_ARRAY: e / e.sum(),
            GLOBAL_SHIFT: global_shift_softmax(z),
            **_missing_keepdims(z),
        }


def _missing_keepdims(z):
    """Where m == K or K == 1 a row reduction without keepdims=True broadcasts along the wrong
    axis (an (m, K) array against an (m,) one); elsewhere it raises, or (m = 1) is right."""
    if z.shape[0] != z.shape[-1] and z.shape[-1] != 1:
        return {}
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    shifted = np.exp(z - z.max(axis=-1))
    return {
        N_("keepdims=True is missing in the row sum: e.sum(axis=-1) divides along the wrong axis"): e
        / e.sum(axis=-1),
        N_("keepdims=True is missing in the row max: z.max(axis=-1) is subtracted along the wrong axis"):
        shifted / shifted.sum(axis=-1, keepdims=True),
    }


SOFTMAX_EXTREME = [
    ("[1000, 0, -1000]", np.array([[1000.0, 0.0, -1000.0], [0.5, 0.25, 0.0]])),
    (N_("a row of all -1000"), np.array([[-1000.0, -1000.0, -1000.0, -1000.0]])),
]


@graded("activations.softmax")
@pytest.mark.parametrize(
    "case",
    [
        Case(label, (z,), oracle.softmax(z), dtype=z.dtype, mistakes=_softmax_mistakes(z))
        for label, z in _softmax_inputs()
    ],
    ids=str,
)
def test_softmax(student, case):
    """row-wise softmax against torch.softmax(z, dim=-1)"""
    case.run(student, "activations.softmax")


@graded("activations.softmax")
@pytest.mark.parametrize(
    "case",
    [Case(label, (z,), oracle.softmax(z), mistakes=_softmax_mistakes(z)) for label, z in SOFTMAX_EXTREME],
    ids=str,
)
def test_softmax_stable(student, case):
    """softmax of huge logits: finite, rows sum to 1, no overflow warning"""
    got = student.activations.softmax(*case.args)
    case.check(student, got)
    check_no_warnings(student)


def _jacobian(s):
    """diag(s) - s s^T for each row of s: the softmax Jacobian when s = softmax(z)."""
    return s[:, :, None] * np.eye(s.shape[-1]) - s[:, :, None] * s[:, None, :]


def _jacobian_mistakes(z):
    s = oracle.softmax(z)
    return {
        DIAGONAL_ONLY: s[:, :, None] * np.eye(s.shape[-1]) * (1 - s[:, :, None]),
        JACOBIAN_FLIPPED: -_jacobian(s),
        JACOBIAN_OF_Z: _jacobian(np.asarray(z, dtype=np.float64)),
    }


@graded("activations.softmax_prime")
@pytest.mark.parametrize(
    "case",
    [
        Case(label, (z,), oracle.softmax_prime(z), dtype=z.dtype, mistakes=_jacobian_mistakes(z))
        for label, z in _softmax_inputs() + SOFTMAX_EXTREME
    ],
    ids=str,
)
def test_softmax_prime(student, case):
    """(m, K, K) Jacobian against torch.autograd.functional.jacobian"""
    case.run(student, "activations.softmax_prime")


def _relu_prime_numeric(z):
    """relu' by differences away from the kink; torch's convention (0) at |z| <= 2h."""
    numeric = fd.elementwise(oracle.relu, z)
    near = np.abs(np.asarray(z, dtype=np.float64)) <= 2 * fd.steps(z)
    return np.where(near, oracle.relu_prime(z), numeric)


TIES = np.array([[0.0, 0.0, 0.0], [2.0, 2.0, -1.0]])
NEAR_ZERO = np.array([0.0, -0.0, 1e-300, -1e-300])
test_properties = graded_properties([
    Family("activations.relu", st.elementwise_kinds(1e6), oracle.relu, ("z",)),
    Family("activations.relu_prime", st.elementwise_kinds(1e3), oracle.relu_prime, ("z",),
           numeric=_relu_prime_numeric, edges={N_("exact zeros and tiny values"): (NEAR_ZERO,)},
           mistakes=_relu_prime_mistakes),
    Family("activations.sigmoid", st.elementwise_kinds(800.0), oracle.sigmoid, ("z",)),
    Family("activations.sigmoid_prime", st.elementwise_kinds(800.0), oracle.sigmoid_prime, ("z",),
           numeric=lambda z: fd.elementwise(oracle.sigmoid, z), edges={N_("all zeros"): (np.zeros((2, 2)),)},
           mistakes=_sigmoid_prime_mistakes),
    Family("activations.softmax", {**st.logit_kinds(50.0), N_("large logits"): st.large_logits(1000.0)},
           oracle.softmax, ("z",), mistakes=_softmax_mistakes),
    Family("activations.softmax_prime", st.logit_kinds(), oracle.softmax_prime, ("z",),
           numeric=lambda z: fd.row_jacobians(oracle.softmax, z), edges={N_("tied logits"): (TIES,)},
           mistakes=_jacobian_mistakes),
])
