"""Public cases of linear.py: a small layer worked by hand, and the gradients' shapes."""

import numpy as np

from autograder.casekit import CaseFailure, check_array, check_unchanged, graded
from course.articles import EXACT


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
