"""Public cases of xor.py: the article's network (0.41126) and its gradients, a step, and training
that solves XOR.

Every call must leave its inputs unchanged and raise no warning (`public`).
"""

import numpy as np

from autograder.casekit import CaseFailure, as_float_array, check_array, public
from autograder.i18n import N_, gettext
from course.articles import (
    ARTICLE,
    EXACT,
    LOSS_AFTER_ONE_STEP,
    SEED_PARAMS,
    SOLVE,
    SOLVE_LOSSES,
    SOLVE_PARAMS,
    XOR_00,
    XOR_GRADIENTS,
    XOR_GRADIENTS_00,
    XOR_X,
    XOR_Y,
    Y_HAT_00,
)

KEYS = ("W1", "b1", "W2", "b2")
#: Hints (marked N_: a report shows them in the language in use), shared with the hidden cases.
NO_OUTPUT_SIGMOID = N_("the output sigmoid is missing: y_hat = sigmoid(linear(a1, W2, b2))")
UPHILL = N_("the step went uphill: param - lr * grad")
LOSS_AFTER_STEP = N_("losses were recorded after each step: record the loss before the step")
#: sigma' misused (hints, marked N_: a report shows them in the language in use), in both layers, in the
#: hidden one or in the output one; each written out whole, so that each is one message to translate.
TWICE = N_("sigma' was applied twice: multiply by sigmoid'(z) once per layer")
TWICE_HIDDEN = N_("sigma' was applied twice: multiply by sigmoid'(z) once per layer (hidden layer)")
TWICE_OUTPUT = N_("sigma' was applied twice: multiply by sigmoid'(z) once per layer (output layer)")
ON_ACTIVATION = N_("sigma' was applied to the activation a = sigmoid(z): use sigmoid'(z), or a * (1 - a)")
ON_ACTIVATION_HIDDEN = N_("sigma' was applied to the activation a = sigmoid(z): use sigmoid'(z), or "
                          "a * (1 - a) (hidden layer)")
ON_ACTIVATION_OUTPUT = N_("sigma' was applied to the activation a = sigmoid(z): use sigmoid'(z), or "
                          "a * (1 - a) (output layer)")
SKIPPED = N_("sigma' is missing: multiply by sigmoid'(z) where the gradient passes a sigmoid")
SKIPPED_HIDDEN = N_("sigma' is missing: multiply by sigmoid'(z) where the gradient passes a sigmoid "
                    "(hidden layer)")
SKIPPED_OUTPUT = N_("sigma' is missing: multiply by sigmoid'(z) where the gradient passes a sigmoid "
                    "(output layer)")
#: What b1, W2 and b2's gradients are at the article's [0, 0] when sigma' is misused (applied twice,
#: to the activation, or left out) in both layers, the hidden one or the output one: the grader's
#: fingerprints of those mistakes (course/xor/hidden.py) on this input, kept as numbers (rounded to
#: 12 decimals) so that no backprop ships to students; tests/test_check.py works them again. dW1 is
#: 0 at [0, 0] whatever the mistake.
SIGMA_PRIME_AT_00 = {
    "b1": {
        TWICE: [-0.001668952082, -0.00073308695, 0.001222229765],
        TWICE_HIDDEN: [-0.006892922755, -0.003027715281, 0.005047919259],
        TWICE_OUTPUT: [-0.006809030707, -0.003101390388, 0.005099854819],
        ON_ACTIVATION: [-0.026211350343, -0.012932085908, 0.020912853164],
        ON_ACTIVATION_HIDDEN: [-0.026474365987, -0.013061851863, 0.021122701472],
        ON_ACTIVATION_OUTPUT: [-0.027842527912, -0.012681768105, 0.02085360696],
        SKIPPED: [-0.473855369148, -0.223808446355, 0.362979299436],
        SKIPPED_HIDDEN: [-0.114732448478, -0.054189722671, 0.087886529271],
        SKIPPED_OUTPUT: [-0.116146032956, -0.052902418234, 0.08699151632],
    },
    "W2": {
        TWICE: [[0.027482535214, 0.018481253588, 0.019206716549]],
        TWICE_HIDDEN: [[0.11350535129, 0.076329245626, 0.079325473143]],
        TWICE_OUTPUT: [[0.027482535214, 0.018481253588, 0.019206716549]],
        ON_ACTIVATION: [[0.11237770642, 0.075570935279, 0.078537396089]],
        ON_ACTIVATION_HIDDEN: [[0.11350535129, 0.076329245626, 0.079325473143]],
        ON_ACTIVATION_OUTPUT: [[0.11237770642, 0.075570935279, 0.078537396089]],
        SKIPPED: [[0.468787346992, 0.315246674701, 0.327621364817]],
        SKIPPED_HIDDEN: [[0.11350535129, 0.076329245626, 0.079325473143]],
        SKIPPED_OUTPUT: [[0.468787346992, 0.315246674701, 0.327621364817]],
    },
    "b2": {
        TWICE: [0.04822018171],
        TWICE_HIDDEN: [0.199153703312],
        TWICE_OUTPUT: [0.04822018171],
        ON_ACTIVATION: [0.197175165301],
        ON_ACTIVATION_HIDDEN: [0.199153703312],
        ON_ACTIVATION_OUTPUT: [0.197175165301],
        SKIPPED: [0.822522772346],
        SKIPPED_HIDDEN: [0.199153703312],
        SKIPPED_OUTPUT: [0.822522772346],
    },
}


def check_params(student, got, expected, mistakes, tol=None):
    """`got` must be a dict with the four keys, each close to `expected` (with the settings'
    tolerance unless `tol`); `mistakes` maps a key to its known mistakes."""
    if not isinstance(got, dict) or set(got) != set(KEYS):
        keys = sorted(got) if isinstance(got, dict) else type(got).__name__
        text = gettext("expected a dict with keys {keys}, got {got}")
        raise CaseFailure(text.format(keys=list(KEYS), got=keys), kind="type")
    for key in KEYS:
        check_array(got[key], expected[key], what=key, tol=tol, settings=student.settings,
                    mistakes=mistakes.get(key, {}))


@public("xor.forward")
def test_forward_article(student):
    """the article's network on [0, 0] with its initial weights gives y_hat = 0.41126"""
    got = student.xor.forward(XOR_00[0], SEED_PARAMS)
    mistakes = {NO_OUTPUT_SIGMOID: [[-0.35875332]]}
    check_array(got, [[Y_HAT_00]], what="y_hat", tol=ARTICLE, mistakes=mistakes)


def _gradient_mistakes(expected, m, sigma_prime):
    """The grader's fingerprints of the gradients' mistakes: a factor m or 2, sigma' misused (the
    hints with a parameter's name in the language in use)."""
    too_large = gettext("d{key} is m times too large: the mean's 1/m was forgotten")
    halved = gettext("d{key} is off by a factor 2: d/dy_hat of (y_hat - y)**2 is 2 (y_hat - y)")
    return {
        k: {too_large.format(key=k): g * m, halved.format(key=k): g / 2, **sigma_prime.get(k, {})}
        for k, g in expected.items()
    }


@public("xor.gradients")
def test_gradients_article(student):
    """the gradients of the article's network at [0, 0], then over the four XOR inputs, are torch's"""
    for (X, y), expected, sigma_prime in ((XOR_00, XOR_GRADIENTS_00, SIGMA_PRIME_AT_00),
                                          ((XOR_X, XOR_Y), XOR_GRADIENTS, {})):
        got = student.xor.gradients(X, y, SEED_PARAMS)
        check_params(student, got, expected, _gradient_mistakes(expected, len(X), sigma_prime))


@public("xor.sgd_step")
def test_sgd_step_small(student):
    """one step with lr = 0.5 and gradients of 2 subtracts 1 everywhere"""
    grads = {k: np.full_like(v, 2.0) for k, v in SEED_PARAMS.items()}
    got = student.xor.sgd_step(SEED_PARAMS, grads, 0.5)
    uphill = {k: {UPHILL: v + 1.0} for k, v in SEED_PARAMS.items()}
    check_params(student, got, {k: v - 1.0 for k, v in SEED_PARAMS.items()}, uphill, tol=EXACT)


def _train(student, epochs, lr):
    """(params, losses) of the student's train from the article's weights, losses as an array."""
    got = student.xor.train(XOR_X, XOR_Y, SEED_PARAMS, lr, epochs)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CaseFailure(gettext("expected a tuple (params, losses)"), kind="type")
    params, losses = got
    losses = as_float_array(losses, "losses")
    if losses.shape != (epochs,):
        text = gettext("losses: expected {count} values (one per epoch), got shape {shape}")
        raise CaseFailure(text.format(count=epochs, shape=losses.shape), kind="shape")
    return params, losses


@public("xor.train")
def test_train_first_loss(student):
    """train returns (params, losses) with len(losses) == epochs and losses[0] = 0.25700"""
    _, losses = _train(student, 3, 0.5)
    after = {LOSS_AFTER_STEP: LOSS_AFTER_ONE_STEP}
    check_array(losses[0], SOLVE_LOSSES[0], what="losses[0]", tol=ARTICLE, mistakes=after)


@public("xor.train")
def test_train_solves_xor(student):
    """from the article's weights, lr=10 and 200 epochs, the trained network solves XOR"""
    params, losses = _train(student, SOLVE["epochs"], SOLVE["lr"])
    for epoch, loss in SOLVE_LOSSES.items():
        check_array(losses[epoch], loss, what=f"losses[{epoch}]", tol=ARTICLE)
    check_params(student, params, SOLVE_PARAMS, {}, tol=ARTICLE)
