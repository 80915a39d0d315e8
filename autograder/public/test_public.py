"""Public cases: shapes, small hand-checkable values, and the articles' worked numbers."""

import numpy as np

from autograder.articles import (
    ARTICLE_CROSS_ENTROPY,
    ARTICLE_Y,
    ARTICLE_Z,
    LOSS_00,
    SEED_PARAMS,
    SOLVE,
    SOLVE_LOSSES,
    SOLVE_PARAMS,
    XOR_X,
    XOR_Y,
    Y_HAT_00,
)
from autograder.casekit import CaseFailure, as_float_array, check_array, check_unchanged, graded, shape_of
from autograder.config import Tolerance

EXACT = Tolerance(rtol=1e-9, atol=1e-12)
ARTICLE = Tolerance(rtol=0.0, atol=1e-4)  # the articles print 4 decimals


@graded("linear.linear", hidden=False)
def test_linear_small(student):
    """linear on a 2x2 example worked by hand"""
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = np.array([0.5, -0.5, 0.0])
    got = student.linear.linear(x, W, b)
    check_unchanged(student, ("x", "W", "b"))
    check_array(got, [[1.5, 1.5, 3.0], [3.5, 3.5, 7.0]], what="z", tol=EXACT)


@graded("linear.linear_backward", hidden=False)
def test_linear_backward_shapes(student):
    """linear_backward returns gradients shaped like x, W and b"""
    x, W, b = np.ones((4, 3)), np.ones((2, 3)), np.zeros(2)
    got = student.linear.linear_backward(x, W, b, np.ones((4, 2)))
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise CaseFailure("expected a tuple (grad_x, grad_W, grad_b)")
    mistakes = {
        "grad_x": {},
        "grad_W": {
            "dL/dW is transposed: it must be grad_z.T @ x, shaped (n_out, n_in) like W": np.full((3, 2), 4.0)
        },
        "grad_b": {"dL/db was averaged over the batch: sum grad_z over axis 0 instead": np.full(2, 1.0)},
    }
    for what, value, expected in zip(
        ("grad_x", "grad_W", "grad_b"),
        got,
        (np.full((4, 3), 2.0), np.full((2, 3), 4.0), np.full(2, 4.0)),
        strict=True,
    ):
        check_array(value, expected, what=what, tol=EXACT, mistakes=mistakes[what])


@graded("activations.relu", hidden=False)
def test_relu_small(student):
    """relu([-2, 0, 3]) = [0, 0, 3]"""
    check_array(student.activations.relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0], what="relu", tol=EXACT)


@graded("activations.relu_prime", hidden=False)
def test_relu_prime_small(student):
    """relu'([-2, 0, 3]) = [0, 0, 1]: 0 at the kink, as torch"""
    check_array(
        student.activations.relu_prime(np.array([-2.0, 0.0, 3.0])),
        [0.0, 0.0, 1.0],
        what="relu'",
        tol=EXACT,
        mistakes={"relu'(0) must be 0 (as torch): use z > 0, not z >= 0": [0.0, 1.0, 1.0]},
    )


@graded("activations.sigmoid", hidden=False)
def test_sigmoid_small(student):
    """sigmoid(0) = 0.5 and sigmoid(+-1000) is finite"""
    got = student.activations.sigmoid(np.array([0.0, 1000.0, -1000.0]))
    check_array(got, [0.5, 1.0, 0.0], what="sigmoid", tol=EXACT)


@graded("activations.sigmoid_prime", hidden=False)
def test_sigmoid_prime_small(student):
    """sigmoid'(0) = 0.25"""
    check_array(student.activations.sigmoid_prime(np.array([0.0])), [0.25], what="sigmoid'", tol=EXACT)


@graded("activations.softmax", hidden=False)
def test_softmax_article(student):
    """softmax of the article's Z gives [[0.29, 0.39, 0.32], [0.24, 0.44, 0.32]]"""
    got = student.activations.softmax(ARTICLE_Z)
    check_array(got, [[0.2894, 0.3907, 0.3199], [0.2397, 0.4368, 0.3236]], what="softmax", tol=ARTICLE)


@graded("activations.softmax_prime", hidden=False)
def test_softmax_prime_two_classes(student):
    """the Jacobian of softmax([0, 0]) is [[0.25, -0.25], [-0.25, 0.25]], shape (1, 2, 2)"""
    got = student.activations.softmax_prime(np.array([[0.0, 0.0]]))
    check_array(got, [[[0.25, -0.25], [-0.25, 0.25]]], what="Jacobian", tol=EXACT)


@graded("losses.mse", hidden=False)
def test_mse_article(student):
    """the article's XOR loss on [0, 0]: (0.41126 - 0)**2 = 0.16914"""
    check_array(
        student.losses.mse(np.array([[Y_HAT_00]]), np.array([[0.0]])),
        LOSS_00,
        what="mse",
        tol=ARTICLE,
    )


@graded("losses.mse_prime", hidden=False)
def test_mse_prime_small(student):
    """d mse / d y_hat for y_hat = [1, 3], y = [0, 0] is [1, 3]"""
    check_array(
        student.losses.mse_prime(np.array([1.0, 3.0]), np.array([0.0, 0.0])),
        [1.0, 3.0],
        what="mse'",
        tol=EXACT,
    )


@graded("losses.cross_entropy", hidden=False)
def test_cross_entropy_article(student):
    """cross-entropy of the article's example (y = [2, 0]) is 1.2841

    The article prints 1.285 because it rounds every intermediate step to two
    decimals; without rounding the value is 1.28411.
    """
    p = np.array([[0.28943311, 0.39069383, 0.31987306], [0.23969767, 0.43675182, 0.32355051]])
    check_array(
        student.losses.cross_entropy(p, ARTICLE_Y), ARTICLE_CROSS_ENTROPY, what="cross-entropy", tol=ARTICLE
    )


@graded("losses.cross_entropy_prime", hidden=False)
def test_cross_entropy_prime_small(student):
    """d CE / dp is -1 / (m p[i, y[i]]) at the true class and 0 elsewhere"""
    p = np.array([[0.5, 0.5], [0.25, 0.75]])
    got = student.losses.cross_entropy_prime(p, np.array([0, 1]))
    check_array(got, [[-1.0, 0.0], [0.0, -2 / 3]], what="dL/dp", tol=EXACT)


@graded("losses.softmax_cross_entropy_prime", hidden=False)
def test_softmax_cross_entropy_prime_article(student):
    """(softmax(Z) - onehot(y)) / m on the article's example"""
    got = student.losses.softmax_cross_entropy_prime(ARTICLE_Z, ARTICLE_Y)
    check_array(
        got,
        [[0.14471656, 0.19534692, -0.34006347], [-0.38015117, 0.21837591, 0.16177526]],
        what="dL/dz",
        tol=ARTICLE,
    )


@graded("network.classifier_loss", hidden=False)
def test_classifier_loss_article(student):
    """with W = I and b = 0 the classifier's loss on the article's Z is 1.2841"""
    got = student.network.classifier_loss(ARTICLE_Z, ARTICLE_Y, np.eye(3), np.zeros(3))
    check_array(got, ARTICLE_CROSS_ENTROPY, what="loss", tol=ARTICLE)


@graded("network.classifier_gradients", hidden=False)
def test_classifier_gradients_shapes(student):
    """classifier_gradients returns (grad_W, grad_b) shaped like W and b"""
    got = student.network.classifier_gradients(ARTICLE_Z, ARTICLE_Y, np.eye(3), np.zeros(3))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CaseFailure("expected a tuple (grad_W, grad_b)")
    check_array(got[1], [-0.23543461, 0.41372283, -0.17828822], what="grad_b", tol=ARTICLE)
    if shape_of(got[0]) != (3, 3):
        raise CaseFailure(f"grad_W: expected shape (3, 3), got {shape_of(got[0])}")


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
