"""Hidden cases for network.py: the linear-softmax-cross-entropy classifier and its gradients."""

import numpy as np
import pytest
from hypothesis import strategies as hs

from autograder import finite_diff as fd
from autograder import strategies as st
from autograder.casekit import Case, CaseFailure, check_unchanged, graded, rng
from autograder.i18n import N_, gettext
from autograder.properties import Family, graded_properties
from course.linear.hidden import layer
from course.network import oracle
from course.network.public import M_TIMES_B, M_TIMES_W, M_TWICE_B, M_TWICE_W, TRANSPOSED_W

R = rng("network")
NAMES = ("x", "y", "W", "b")


def _inputs():
    out = []
    for label, m, n_in, k, dtype in [
        ("m=4, n_in=3, K=3", 4, 3, 3, np.float64),
        ("m=5, n_in=2, K=2", 5, 2, 2, np.float64),
        (N_("batch of one, n_in=4, K=5"), 1, 4, 5, np.float64),
        ("m=6, n_in=3, K=4, float32", 6, 3, 4, np.float32),
    ]:
        x = R.normal(size=(m, n_in)).astype(dtype)
        W = R.normal(size=(k, n_in)).astype(dtype)
        b = R.normal(size=k).astype(dtype)
        out.append((label, x, R.integers(0, k, size=m), W, b, dtype))
    return out


INPUTS = _inputs()


def _loss_mistakes(x, y, W, b):
    """The loss without its softmax: finite only where every true class's logit is positive."""
    z = np.asarray(x, dtype=np.float64) @ np.asarray(W, dtype=np.float64).T + b
    with np.errstate(all="ignore"):
        return {N_("the softmax is missing: cross_entropy takes probabilities, softmax(linear(x, W, b))"):
                -np.log(z[np.arange(len(y)), y]).mean()}


@graded("network.classifier_loss")
@pytest.mark.parametrize(
    "case",
    [
        Case(label, (x, y, W, b), oracle.classifier_loss(x, y, W, b), dtype=dt, names=NAMES,
             mistakes=_loss_mistakes(x, y, W, b))
        for label, x, y, W, b, dt in INPUTS
    ],
    ids=str,
)
def test_classifier_loss(student, case):
    """cross_entropy(softmax(linear(x, W, b)), y) against F.cross_entropy(F.linear(...))"""
    case.run(student, "network.classifier_loss")


def _gradient_mistakes(x, expected):
    """Per output (grad_W, grad_b), the outputs of its known mistakes."""
    grad_W, grad_b = expected
    m = x.shape[0]
    return {
        "grad_W": {
            M_TIMES_W: grad_W * m,
            M_TWICE_W: grad_W / m,
            TRANSPOSED_W: grad_W.T,
        },
        "grad_b": {
            M_TIMES_B: grad_b * m,
            M_TWICE_B: grad_b / m,
        },
    }


def _gradients_case(label, args, dtype):
    expected = oracle.classifier_gradients(*args)
    return Case(label, args, expected, dtype=dtype, names=NAMES,
                mistakes=_gradient_mistakes(args[0], expected))


@graded("network.classifier_gradients")
@pytest.mark.parametrize(
    "case",
    [
        _gradients_case(label, (x, y, W, b), dt) for label, x, y, W, b, dt in INPUTS
    ],
    ids=str,
)
def test_classifier_gradients(student, case):
    """(dL/dW, dL/db) against torch.autograd of the same loss"""
    got = student.network.classifier_gradients(*case.args)
    check_unchanged(student, case.names)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        text = gettext("expected a tuple (grad_W, grad_b), got {type}")
        raise CaseFailure(text.format(type=type(got).__name__), kind="type")
    for what, value, expected in zip(("grad_W", "grad_b"), got, case.expected, strict=True):
        case.check(student, value, expected=expected, what=what, mistakes=case.mistakes[what])


@hs.composite
def classifier(draw, bound: float = 2.0, dtype: np.dtype | None = None, m: int | None = None,
               k: int | None = None) -> tuple[np.ndarray, ...]:
    """(x, y, W, b) of the linear-softmax classifier (`m` rows and `k` classes if given)."""
    x, W, b, _ = draw(layer(bound, dtype, m, n_out=k))
    return x, draw(st.labels(len(x), W.shape[0])), W, b


CLASSIFIERS = {
    "float64": classifier(dtype=st.F64),
    N_("a batch of one"): classifier(dtype=st.F64, m=1),
    N_("one class, K = 1"): classifier(dtype=st.F64, k=1),
    "float32": classifier(dtype=st.F32),
}
test_properties = graded_properties([
    Family("network.classifier_loss", CLASSIFIERS, oracle.classifier_loss, ("x", "y", "W", "b"),
           mistakes=_loss_mistakes),
    Family("network.classifier_gradients", CLASSIFIERS, oracle.classifier_gradients, ("x", "y", "W", "b"),
           numeric=lambda x, y, W, b: fd.gradients(oracle.classifier_loss, (x, y, W, b), (2, 3)),
           outputs=("grad_W", "grad_b"),
           mistakes=lambda x, y, W, b: _gradient_mistakes(x, oracle.classifier_gradients(x, y, W, b))),
])
