"""Public cases of xor.py: the article's network (0.41126), a step, and training that solves XOR."""

import numpy as np

from autograder.casekit import CaseFailure, as_float_array, check_array, check_unchanged, graded, shape_of
from course.articles import (
    ARTICLE,
    EXACT,
    SEED_PARAMS,
    SOLVE,
    SOLVE_LOSSES,
    SOLVE_PARAMS,
    XOR_X,
    XOR_Y,
    Y_HAT_00,
)


@graded("xor.forward", hidden=False)
def test_forward_article(student):
    """the article's network on [0, 0] with its initial weights gives y_hat = 0.41126"""
    got = student.xor.forward(np.array([[0.0, 0.0]]), SEED_PARAMS)
    check_array(got, [[Y_HAT_00]], what="y_hat", tol=ARTICLE)


@graded("xor.gradients", hidden=False)
def test_gradients_keys(student):
    """gradients returns a dict with W1, b1, W2, b2 shaped like the params"""
    got = student.xor.gradients(np.array([[0.0, 0.0]]), np.array([[0.0]]), SEED_PARAMS)
    if not isinstance(got, dict) or set(got) != set(SEED_PARAMS):
        raise CaseFailure(f"expected a dict with keys {sorted(SEED_PARAMS)}")
    for key, value in SEED_PARAMS.items():
        if shape_of(got[key]) != value.shape:
            raise CaseFailure(f"{key}: expected shape {value.shape}, got {shape_of(got[key])}")


@graded("xor.sgd_step", hidden=False)
def test_sgd_step_small(student):
    """one step with lr = 0.5 and gradients of ones subtracts 0.5 everywhere"""
    grads = {k: np.ones_like(v) for k, v in SEED_PARAMS.items()}
    got = student.xor.sgd_step(SEED_PARAMS, grads, 0.5)
    if not isinstance(got, dict) or set(got) != set(SEED_PARAMS):
        raise CaseFailure(f"expected a dict with keys {sorted(SEED_PARAMS)}")
    for key, value in SEED_PARAMS.items():
        check_array(got[key], value - 0.5, what=key, tol=EXACT)


@graded("xor.train", hidden=False)
def test_train_first_loss(student):
    """train returns (params, losses) with len(losses) == epochs and losses[0] = 0.25700"""
    got = student.xor.train(XOR_X, XOR_Y, SEED_PARAMS, 0.5, 3)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CaseFailure("expected a tuple (params, losses)")
    losses = as_float_array(got[1], "losses")
    if losses.shape != (3,):
        raise CaseFailure(f"losses: expected 3 values (one per epoch), got shape {losses.shape}")
    check_array(losses[0], 0.25699697, what="losses[0]", tol=ARTICLE)


@graded("xor.train", hidden=False)
def test_train_solves_xor(student):
    """from the article's weights, lr=10 and 200 epochs, the trained network solves XOR"""
    got = student.xor.train(XOR_X, XOR_Y, SEED_PARAMS, SOLVE["lr"], SOLVE["epochs"])
    check_unchanged(student, ("X", "y", "params"))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CaseFailure("expected a tuple (params, losses)", kind="type")
    params, losses = got
    losses = as_float_array(losses, "losses")
    if losses.shape != (SOLVE["epochs"],):
        raise CaseFailure(f"losses: expected {SOLVE['epochs']} values (one per epoch), got shape "
                          f"{losses.shape}", kind="shape")
    for epoch, loss in SOLVE_LOSSES.items():
        check_array(losses[epoch], loss, what=f"losses[{epoch}]", tol=ARTICLE)
    if not isinstance(params, dict) or set(params) != set(SOLVE_PARAMS):
        raise CaseFailure(f"expected trained params, a dict with keys {sorted(SOLVE_PARAMS)}", kind="type")
    for key, trained in SOLVE_PARAMS.items():
        check_array(params[key], trained, what=f"trained {key}", tol=ARTICLE)
