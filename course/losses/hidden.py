"""Hidden cases for losses.py: MSE and cross-entropy against torch, gradients against autograd."""

import numpy as np
import pytest
from hypothesis import strategies as hs

from autograder import finite_diff as fd
from autograder import strategies as st
from autograder.casekit import Case, check_no_warnings, check_unchanged, graded, rng
from autograder.i18n import N_
from autograder.properties import Family, graded_properties
from course.activations import oracle as activations
from course.activations.mistakes import global_shift_softmax
from course.activations.public import GLOBAL_SHIFT
from course.losses import oracle
from course.losses.public import (
    BY_ROWS,
    CE_PRIME_FLIPPED,
    EVERY_CLASS,
    HALVED,
    M_TIMES,
    M_TWICE,
    MSE_PRIME_FLIPPED,
    N_TIMES,
    NO_FACTOR_2,
    NO_MINUS,
    PICKED_BLOCK,
    PICKED_BLOCK_UNSCALED,
    ROWS_ONLY,
    SCE_PRIME_FLIPPED,
    SUMMED,
    SUMMED_ROWS,
    UNSQUARED,
    WRT_LOGITS,
    WRT_LOGITS_UNSCALED,
)

R = rng("losses")


def _mse_inputs():
    return [
        (N_("m=4, 1 output"), R.normal(size=(4, 1)), R.normal(size=(4, 1))),
        (N_("m=5, 3 outputs"), R.normal(size=(5, 3)), R.normal(size=(5, 3))),
        (N_("batch of one"), R.normal(size=(1, 1)), R.normal(size=(1, 1))),
        (N_("m=3, 2 outputs, float32"), *(R.normal(size=(3, 2)).astype(np.float32) for _ in range(2))),
    ]


def _mse_mistakes(y_hat, y):
    diff = np.asarray(y_hat, dtype=np.float64) - y
    return {
        SUMMED: (diff**2).sum(),
        ROWS_ONLY: (diff**2).sum() / len(diff),
        UNSQUARED: diff.mean(),
        HALVED: (diff**2).mean() / 2,
    }


def _mse_prime_mistakes(y_hat, y):
    diff = np.asarray(y_hat, dtype=np.float64) - y
    return {
        N_TIMES: 2 * diff,
        NO_FACTOR_2: diff / diff.size,
        BY_ROWS: 2 * diff / len(diff),
        MSE_PRIME_FLIPPED: -2 * diff / diff.size,
    }


@graded("losses.mse")
@pytest.mark.parametrize(
    "case",
    [
        Case(
            label, (a, b), oracle.mse(a, b), dtype=a.dtype, mistakes=_mse_mistakes(a, b), names=("y_hat", "y")
        )
        for label, a, b in _mse_inputs()
    ],
    ids=str,
)
def test_mse(student, case):
    """mean squared error against torch.nn.functional.mse_loss"""
    case.run(student, "losses.mse")


@graded("losses.mse_prime")
@pytest.mark.parametrize(
    "case",
    [
        Case(
            label,
            (a, b),
            oracle.mse_prime(a, b),
            dtype=a.dtype,
            mistakes=_mse_prime_mistakes(a, b),
            names=("y_hat", "y"),
        )
        for label, a, b in _mse_inputs()
    ],
    ids=str,
)
def test_mse_prime(student, case):
    """d mse / d y_hat against torch.autograd"""
    case.run(student, "losses.mse_prime")


def _ce_inputs():
    out = []
    for label, m, k in [
        ("m=4, K=3", 4, 3),
        ("m=5, K=2", 5, 2),
        (N_("batch of one, K=4"), 1, 4),
        ("m=6, K=5", 6, 5),
    ]:
        z = R.normal(size=(m, k))
        out.append((label, z, R.integers(0, k, size=m)))
    return out


def _probabilities(z):
    return activations.softmax(z)


def _ce_mistakes(p, y):
    picked = p[np.arange(len(y)), y]
    block = -np.log(p[:, y])
    return {
        SUMMED_ROWS: -np.log(picked).sum(),
        NO_MINUS: np.log(picked).mean(),
        EVERY_CLASS: -np.log(p).mean(axis=0).sum(),
        PICKED_BLOCK: block.mean(),
        PICKED_BLOCK_UNSCALED: block.sum() / len(y),
    }


def _ce_prime_mistakes(p, y):
    grad = oracle.cross_entropy_prime(p, y)
    m = len(y)
    wrt_logits = np.array(p, dtype=np.float64)
    wrt_logits[np.arange(m), y] -= 1
    return {
        M_TIMES: grad * m,
        M_TWICE: grad / m,
        CE_PRIME_FLIPPED: -grad,
        WRT_LOGITS: wrt_logits / m,
        WRT_LOGITS_UNSCALED: wrt_logits,
    }


def _ce_cases() -> tuple[list[Case], list[Case]]:
    """The same inputs for cross_entropy and its derivative, each case with its expected value and
    its mistakes' outputs (computed once per run, not per submission)."""
    forward, backward = [], []
    for label, z, y in _ce_inputs():
        args = (_probabilities(z), y)
        forward.append(Case(label, args, oracle.cross_entropy(*args), names=("p", "y"),
                            mistakes=_ce_mistakes(*args)))
        backward.append(Case(label, args, oracle.cross_entropy_prime(*args), names=("p", "y"),
                             mistakes=_ce_prime_mistakes(*args)))
    return forward, backward


CE_CASES, CE_PRIME_CASES = _ce_cases()


@graded("losses.cross_entropy")
@pytest.mark.parametrize("case", CE_CASES, ids=str)
def test_cross_entropy(student, case):
    """mean of -log p[i, y[i]] against torch.nn.functional.nll_loss(log p)"""
    got = student.losses.cross_entropy(*case.args)
    check_unchanged(student, case.names)
    case.check(student, got)


@graded("losses.cross_entropy_prime")
@pytest.mark.parametrize("case", CE_PRIME_CASES, ids=str)
def test_cross_entropy_prime(student, case):
    """d cross_entropy / d p against torch.autograd"""
    got = student.losses.cross_entropy_prime(*case.args)
    check_unchanged(student, case.names)
    case.check(student, got)


def _sce_mistakes(z, y):
    grad = oracle.softmax_cross_entropy_prime(z, y)
    m = len(y)
    shifted = global_shift_softmax(np.asarray(z, dtype=np.float64))
    shifted[np.arange(m), y] -= 1
    return {
        M_TIMES: grad * m,
        M_TWICE: grad / m,
        SCE_PRIME_FLIPPED: -grad,
        GLOBAL_SHIFT: shifted / m,
    }


SCE_INPUTS = [(label, z, y) for label, z, y in _ce_inputs()] + [
    (N_("logits of +-1000"), np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0]]), np.array([2, 1])),
    # rows of very different maxima: shifting by the max of the whole array underflows row 2
    (N_("logits of 1000 beside small ones"),
     np.array([[1000.0, 0.0, -1000.0], [0.5, 0.25, 0.0]]), np.array([2, 0])),
    ("float32, m=3, K=4", R.normal(size=(3, 4)).astype(np.float32), np.array([0, 3, 1])),
]


@graded("losses.softmax_cross_entropy_prime")
@pytest.mark.parametrize(
    "case",
    [
        Case(
            label,
            (z, y),
            oracle.softmax_cross_entropy_prime(z, y),
            dtype=z.dtype,
            mistakes=_sce_mistakes(z, y),
            names=("z", "y"),
        )
        for label, z, y in SCE_INPUTS
    ],
    ids=str,
)
def test_softmax_cross_entropy_prime(student, case):
    """d cross_entropy(softmax(z), y) / dz against torch.autograd of F.cross_entropy"""
    case.run(student, "losses.softmax_cross_entropy_prime")
    if np.abs(case.args[0]).max() > st.EXP_LIMIT:  # logits a naive exp overflows on: no warning
        check_no_warnings(student)


@hs.composite
def probabilities(draw, logits) -> tuple[np.ndarray, np.ndarray]:
    """(p, y): rows of softmax(z) for z drawn by `logits` (labelled), and the labels."""
    z, y = draw(logits)
    return activations.softmax(z).astype(z.dtype), y


def _softmax_ce(z, y):
    """cross_entropy(softmax(z), y), from torch's forward functions (for finite differences)."""
    return oracle.cross_entropy(activations.softmax(z), y)


# logits in [-20, 20], so p >= e^-40
PROBABILITIES = {kind: probabilities(logits) for kind, logits in st.logit_kinds(20.0, labelled=True).items()}
TIES = np.array([[0.0, 0.0, 0.0], [2.0, 2.0, -1.0]])
test_properties = graded_properties([
    Family("losses.mse", st.pair_kinds(), oracle.mse, ("y_hat", "y"), mistakes=_mse_mistakes),
    Family("losses.mse_prime", st.pair_kinds(), oracle.mse_prime, ("y_hat", "y"),
           numeric=lambda a, b: fd.gradient(lambda v: oracle.mse(v, b), a),
           edges={N_("predictions equal to targets"): (np.ones((2, 2)), np.ones((2, 2)))},
           mistakes=_mse_prime_mistakes),
    Family("losses.cross_entropy", PROBABILITIES, oracle.cross_entropy, ("p", "y"), mistakes=_ce_mistakes),
    Family("losses.cross_entropy_prime", PROBABILITIES, oracle.cross_entropy_prime, ("p", "y"),
           numeric=lambda p, y: fd.gradient(lambda v: oracle.cross_entropy(v, y), p, scale=0.0),
           edges={N_("probabilities of 1"): (np.array([[1.0, 0.5], [0.25, 1.0]]), np.array([0, 1]))},
           mistakes=_ce_prime_mistakes),
    Family("losses.softmax_cross_entropy_prime", st.logit_kinds(labelled=True),
           oracle.softmax_cross_entropy_prime, ("z", "y"),
           numeric=lambda z, y: fd.gradient(lambda v: _softmax_ce(v, y), z),
           edges={N_("tied logits"): (TIES, np.array([1, 2]))}, mistakes=_sce_mistakes),
])
