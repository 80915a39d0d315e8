"""Hidden cases for xor.py: the 2-3-1 network against a torch.nn.Module trained with torch's SGD update."""

import numpy as np
import pytest
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp

from autograder import finite_diff as fd
from autograder import strategies as st
from autograder.casekit import Case, CaseFailure, as_float_array, check_unchanged, graded, rng
from autograder.i18n import N_, gettext, later
from autograder.properties import Family, graded_properties
from course.articles import SEED_PARAMS, XOR_X, XOR_Y
from course.losses import oracle as losses
from course.xor import oracle
from course.xor.public import (
    LOSS_AFTER_STEP,
    NO_OUTPUT_SIGMOID,
    ON_ACTIVATION,
    ON_ACTIVATION_HIDDEN,
    ON_ACTIVATION_OUTPUT,
    SKIPPED,
    SKIPPED_HIDDEN,
    SKIPPED_OUTPUT,
    TWICE,
    TWICE_HIDDEN,
    TWICE_OUTPUT,
    UPHILL,
)

R = rng("xor")
KEYS = ("W1", "b1", "W2", "b2")
# Short trajectories compared step by step (the long run that must solve XOR is a public case).
TRAJECTORY = {"lr": 0.5, "epochs": 25}


def _random_params():
    return {
        "W1": R.normal(size=(3, 2)),
        "b1": R.normal(size=3),
        "W2": R.normal(size=(1, 3)),
        "b2": R.normal(size=1),
    }


def _inputs():
    X = R.uniform(-1, 2, size=(6, 2))
    return [
        (N_("XOR inputs, article's initial weights"), XOR_X, XOR_Y, SEED_PARAMS),
        (N_("XOR inputs, random weights"), XOR_X, XOR_Y, _random_params()),
        (N_("6 random inputs, random weights"), X, R.uniform(size=(6, 1)), _random_params()),
        (N_("batch of one"), XOR_X[1:2], XOR_Y[1:2], SEED_PARAMS),
    ]


INPUTS = _inputs()


def check_params(student, case, got, expected, mistakes=None):
    """`got` must be a dict with the four keys, each close to `expected`."""
    if not isinstance(got, dict) or set(got) != set(KEYS):
        keys = sorted(got) if isinstance(got, dict) else type(got).__name__
        text = gettext("expected a dict with keys {keys}, got {got}")
        raise CaseFailure(text.format(keys=list(KEYS), got=keys), kind="type")
    for key in KEYS:
        case.check(
            student, got[key], expected=expected[key], what=key, mistakes=(mistakes or {}).get(key, {})
        )


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _forward_mistakes(X, params):
    hidden = _sigmoid(X @ params["W1"].T + params["b1"])
    return {NO_OUTPUT_SIGMOID: hidden @ params["W2"].T + params["b2"]}


@graded("xor.forward")
@pytest.mark.parametrize(
    "case",
    [Case(label, (X, params), oracle.forward(X, params), mistakes=_forward_mistakes(X, params))
     for label, X, _, params in INPUTS],
    ids=str,
)
def test_forward(student, case):
    """predictions of the 2-3-1 sigmoid network against the torch module"""
    got = student.xor.forward(*case.args)
    check_unchanged(student, ("X", "params"))
    case.check(student, got)


def _buggy_gradients(X, y, params, bug, layers):
    """NumPy backprop with sigma' misused in `layers` (1, 2): applied twice, or to the activation."""

    def local(z, a, layer):
        if layer not in layers:
            return _sigmoid(z) * (1 - _sigmoid(z))
        if bug == "twice":
            return (_sigmoid(z) * (1 - _sigmoid(z))) ** 2
        if bug == "skipped":
            return np.ones_like(z)
        return _sigmoid(a) * (1 - _sigmoid(a))

    z1 = X @ params["W1"].T + params["b1"]
    a1 = _sigmoid(z1)
    z2 = a1 @ params["W2"].T + params["b2"]
    grad_z2 = 2 * (_sigmoid(z2) - y) / y.size * local(z2, _sigmoid(z2), 2)
    grad_z1 = grad_z2 @ params["W2"] * local(z1, a1, 1)
    return {"W1": grad_z1.T @ X, "b1": grad_z1.sum(axis=0), "W2": grad_z2.T @ a1, "b2": grad_z2.sum(axis=0)}


#: The hint of each sigma' misuse (`_buggy_gradients`' bug) by the bug and the layers it is made in: both,
#: the hidden one, the output one (course/xor/public.py writes each out whole).
SIGMA_PRIME_HINTS = {
    ("twice", (1, 2)): TWICE, ("twice", (1,)): TWICE_HIDDEN, ("twice", (2,)): TWICE_OUTPUT,
    ("activation", (1, 2)): ON_ACTIVATION, ("activation", (1,)): ON_ACTIVATION_HIDDEN,
    ("activation", (2,)): ON_ACTIVATION_OUTPUT,
    ("skipped", (1, 2)): SKIPPED, ("skipped", (1,)): SKIPPED_HIDDEN, ("skipped", (2,)): SKIPPED_OUTPUT,
}


def _sigma_prime_mistakes(X, y, params):
    """Per key, the gradients of every sigma' misuse in either or both layers."""
    out = {k: {} for k in KEYS}
    for (bug, layers), hint in SIGMA_PRIME_HINTS.items():
        for key, value in _buggy_gradients(X, y, params, bug, layers).items():
            out[key][hint] = value
    return out


def _gradient_mistakes(X, y, params, grads):
    m = len(X)
    sigma_prime = _sigma_prime_mistakes(X, y, params)
    return {
        k: {
            later(N_("d{key} is m times too large: the mean's 1/m was forgotten"), key=k): g * m,
            later(N_("d{key} is off by a factor 2: d/dy_hat of (y_hat - y)**2 is 2 (y_hat - y)"), key=k):
            g / 2,
            **sigma_prime[k],
        }
        for k, g in grads.items()
    }


def _gradients_case(label, X, y, params):
    expected = oracle.gradients(X, y, params)
    return Case(label, (X, y, params), expected, mistakes=_gradient_mistakes(X, y, params, expected))


@graded("xor.gradients")
@pytest.mark.parametrize(
    "case", [_gradients_case(label, X, y, p) for label, X, y, p in INPUTS], ids=str
)
def test_gradients(student, case):
    """dL/dparam of the MSE loss against loss.backward() on the torch module"""
    got = student.xor.gradients(*case.args)
    check_unchanged(student, ("X", "y", "params"))
    check_params(student, case, got, case.expected, case.mistakes)


def _sgd_mistakes(params, grads, lr):
    return {k: {UPHILL: params[k] + lr * grads[k]} for k in KEYS}


def _sgd_case(label, params, lr):
    grads = {k: R.normal(size=v.shape) for k, v in params.items()}
    return Case(label, (params, grads, lr), oracle.sgd_step(params, grads, lr),
                mistakes=_sgd_mistakes(params, grads, lr))


@graded("xor.sgd_step")
@pytest.mark.parametrize(
    "case",
    [
        _sgd_case(N_("article's weights, lr=0.01"), SEED_PARAMS, 0.01),
        _sgd_case(N_("random weights, lr=0.5"), _random_params(), 0.5),
    ],
    ids=str,
)
def test_sgd_step(student, case):
    """param - lr * grad against torch.optim.sgd.sgd (what SGD.step runs); inputs left unchanged"""
    got = student.xor.sgd_step(*case.args)
    check_unchanged(student, ("params", "grads", "lr"))
    check_params(student, case, got, case.expected, case.mistakes)


def _train_case(label, params, lr, epochs):
    final, losses = oracle.train(XOR_X, XOR_Y, params, lr, epochs)
    _, longer = oracle.train(XOR_X, XOR_Y, params, lr, epochs + 1)
    case = Case(label, (XOR_X, XOR_Y, params, lr, epochs), (final, losses))
    case.mistakes = {LOSS_AFTER_STEP: longer[1:]}
    return case


TRAIN_CASES = [
    _train_case(later(N_("article's weights, lr={lr}, {epochs} epochs"), **TRAJECTORY), SEED_PARAMS,
                **TRAJECTORY),
    _train_case(N_("random weights, lr=1.0, 10 epochs"), _random_params(), 1.0, 10),
]


def _unpack_train(got):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        text = gettext("expected a tuple (params, losses), got {type}")
        raise CaseFailure(text.format(type=type(got).__name__), kind="type")
    params, losses = got
    if isinstance(losses, list):
        losses = as_float_array(losses, "losses")
    return params, losses


@graded("xor.train", weight=2)
@pytest.mark.parametrize("case", TRAIN_CASES, ids=str)
def test_train_trajectory(student, case):
    """the whole loss trajectory and final weights against torch's autograd and SGD, same start"""
    params, losses = _unpack_train(student.xor.train(*case.args))
    check_unchanged(student, ("X", "y", "params"))
    final, expected_losses = case.expected
    case.check(student, losses, expected=expected_losses, what="losses")
    check_params(student, case, params, final, {})


SHAPES = {"W1": (3, 2), "b1": (3,), "W2": (1, 3), "b2": (1,)}


@hs.composite
def params(draw, bound: float = 3.0) -> dict[str, np.ndarray]:
    return {k: draw(st.arrays(np.dtype(np.float64), s, bound)) for k, s in SHAPES.items()}


@hs.composite
def batch(draw, rows: tuple[int, int] = (1, 5)) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(X, y, params): m inputs of the 2-3-1 network, m in `rows`, targets in [0, 1]."""
    m = draw(hs.integers(*rows))
    X = draw(st.arrays(np.dtype(np.float64), (m, 2), 2.0))
    y = draw(hnp.arrays(np.float64, (m, 1), elements=hs.floats(0, 1)))
    return X, y, draw(params())


@hs.composite
def sgd(draw) -> tuple[dict, dict, float]:
    """(params, grads, lr), lr > 0 (a step that moves the parameters)."""
    return draw(params()), draw(params()), draw(hs.floats(0.001, 5.0))


def _gradients_numeric(X, y, params):
    def loss(key):
        return lambda value: losses.mse(oracle.forward(X, {**params, key: value}), y)

    return {key: fd.gradient(loss(key), value) for key, value in params.items()}


BATCHES = {N_("several inputs"): batch((2, 5)), N_("a batch of one"): batch((1, 1))}
test_properties = graded_properties([
    Family("xor.forward", BATCHES, lambda X, y, p: oracle.forward(X, p), ("X", "y", "params"), take=(0, 2),
           mistakes=_forward_mistakes),
    Family("xor.gradients", BATCHES, oracle.gradients, ("X", "y", "params"), numeric=_gradients_numeric,
           mistakes=lambda X, y, p: _gradient_mistakes(X, y, p, oracle.gradients(X, y, p))),
    Family("xor.sgd_step", {N_("random parameters, gradients and rate"): sgd()}, oracle.sgd_step,
           ("params", "grads", "lr"), mistakes=_sgd_mistakes),
])
