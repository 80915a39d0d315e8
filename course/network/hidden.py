"""Hidden cases for network.py: the linear-softmax-cross-entropy classifier and its gradients."""

import numpy as np
import pytest
from hypothesis import strategies as hs

from autograder import finite_diff as fd
from autograder.casekit import Case, CaseFailure, check_unchanged, graded, rng
from autograder.properties import Family, graded_properties
from course.linear.hidden import layer
from course.network import oracle

R = rng("network")
NAMES = ("x", "y", "W", "b")


def _inputs():
    out = []
    for label, m, n_in, k, dtype in [
        ("m=4, n_in=3, K=3", 4, 3, 3, np.float64),
        ("m=5, n_in=2, K=2", 5, 2, 2, np.float64),
        ("batch of one, n_in=4, K=5", 1, 4, 5, np.float64),
        ("m=6, n_in=3, K=4, float32", 6, 3, 4, np.float32),
    ]:
        x = R.normal(size=(m, n_in)).astype(dtype)
        W = R.normal(size=(k, n_in)).astype(dtype)
        b = R.normal(size=k).astype(dtype)
        out.append((label, x, R.integers(0, k, size=m), W, b, dtype))
    return out


INPUTS = _inputs()


@graded("network.classifier_loss")
@pytest.mark.parametrize(
    "case",
    [
        Case(label, (x, y, W, b), oracle.classifier_loss(x, y, W, b), dtype=dt, names=NAMES)
        for label, x, y, W, b, dt in INPUTS
    ],
    ids=str,
)
def test_classifier_loss(student, case):
    """cross_entropy(softmax(linear(x, W, b)), y) against F.cross_entropy(F.linear(...))"""
    case.run(student, "network.classifier_loss")


def _gradient_mistakes(x, expected):
    grad_W, grad_b = expected
    m = x.shape[0]
    return (
        {
            "dL/dW is m times too large: the mean's 1/m was forgotten": grad_W * m,
            "m was divided twice in dL/dW": grad_W / m,
            "dL/dW is transposed: shape (K, n_in) like W": grad_W.T,
        },
        {
            "dL/db is m times too large: the mean's 1/m was forgotten": grad_b * m,
            "m was divided twice in dL/db": grad_b / m,
        },
    )


@graded("network.classifier_gradients")
@pytest.mark.parametrize(
    "case",
    [
        Case(label, (x, y, W, b), oracle.classifier_gradients(x, y, W, b), dtype=dt, names=NAMES)
        for label, x, y, W, b, dt in INPUTS
    ],
    ids=str,
)
def test_classifier_gradients(student, case):
    """(dL/dW, dL/db) against torch.autograd of the same loss"""
    got = student.network.classifier_gradients(*case.args)
    check_unchanged(student, case.names)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CaseFailure(f"expected a tuple (grad_W, grad_b), got {type(got).__name__}", kind="type")
    hints = _gradient_mistakes(case.args[0], case.expected)
    for what, value, expected, mistakes in zip(("grad_W", "grad_b"), got, case.expected, hints, strict=True):
        case.check(student, value, expected=expected, what=what, mistakes=mistakes)


@hs.composite
def classifier(draw, bound: float = 2.0) -> tuple[np.ndarray, ...]:
    """(x, y, W, b) of the linear-softmax classifier."""
    x, W, b, _ = draw(layer(bound))
    labels = hs.lists(hs.integers(0, W.shape[0] - 1), min_size=len(x), max_size=len(x))
    return x, np.array(draw(labels), dtype=np.int64), W, b


test_properties = graded_properties([
    Family("network.classifier_loss", classifier(), oracle.classifier_loss, ("x", "y", "W", "b")),
    Family("network.classifier_gradients", classifier(), oracle.classifier_gradients, ("x", "y", "W", "b"),
           numeric=lambda x, y, W, b: fd.gradients(oracle.classifier_loss, (x, y, W, b), (2, 3)),
           outputs=("grad_W", "grad_b")),
])
