"""Public cases of linear.py: a small layer and its gradients, worked by hand.

Every call must leave its inputs unchanged and raise no warning (`public`).
"""

import numpy as np

from autograder.casekit import CaseFailure, check_array, public
from autograder.i18n import N_, gettext
from course.articles import EXACT

#: Hints (marked N_: a report shows them in the language in use), shared with the hidden cases.
NO_BIAS = N_("the bias was left out: z = x @ W.T + b")
TRANSPOSED_W = N_("dL/dW is transposed: it must be grad_z.T @ x, shape (n_out, n_in) like W")
AVERAGED_B = N_("dL/db was averaged over the batch: sum grad_z over axis 0 instead")

X = np.array([[1.0, 2.0], [3.0, 4.0]])
W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
B = np.array([0.5, -0.5, 0.0])


@public("linear.linear")
def test_linear_small(student):
    """linear on a 2x2 example worked by hand"""
    got = student.linear.linear(X, W, B)
    mistakes = {NO_BIAS: [[1.0, 2.0, 3.0], [3.0, 4.0, 7.0]]}
    check_array(got, [[1.5, 1.5, 3.0], [3.5, 3.5, 7.0]], what="z", tol=EXACT, mistakes=mistakes)


@public("linear.linear_backward")
def test_linear_backward_small(student):
    """linear_backward of the same layer with grad_z = [[1, 0, 1], [0, 1, 2]], worked by hand"""
    got = student.linear.linear_backward(X, W, B, np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 2.0]]))
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise CaseFailure(gettext("expected a tuple (grad_x, grad_W, grad_b)"), kind="type")
    mistakes = {
        "grad_x": {},
        "grad_W": {TRANSPOSED_W: [[1.0, 3.0, 7.0], [2.0, 4.0, 10.0]]},
        "grad_b": {AVERAGED_B: [0.5, 0.5, 1.5]},
    }
    expected = {"grad_x": [[2.0, 1.0], [2.0, 3.0]], "grad_W": [[1.0, 2.0], [3.0, 4.0], [7.0, 10.0]],
                "grad_b": [1.0, 1.0, 3.0]}
    for (what, want), value in zip(expected.items(), got, strict=True):
        check_array(value, want, what=what, tol=EXACT, mistakes=mistakes[what])
