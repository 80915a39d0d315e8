"""Public cases of activations.py: small values worked by hand, the article's softmax.

Every call must leave its input unchanged and raise no warning (`public`), so the values at
+-1000 and the softmax of shifted logits also check that nothing overflows.
"""

import numpy as np

from autograder.casekit import check_array, public
from course.articles import ARTICLE, ARTICLE_Z, EXACT

EXTREMES = np.array([0.0, 1000.0, -1000.0])
#: softmax(ARTICLE_Z), as the article prints it.
ARTICLE_SOFTMAX = [[0.2894, 0.3907, 0.3199], [0.2397, 0.4368, 0.3236]]
#: A softmax row is unchanged when a number is added to the whole row: the article's logits with
#: 1000 added to the second row have the same softmax, and overflow unless each row is shifted by its
#: own maximum.
SHIFTED_Z = ARTICLE_Z + np.array([[0.0], [1000.0]])
GLOBAL_SHIFT = ("the logits were shifted by the largest of the whole array, not by each row's own maximum: "
                "in a row far below it every exp underflows to 0 and 0/0 gives NaN; subtract "
                "z.max(axis=-1, keepdims=True)")


@public("activations.relu")
def test_relu_small(student):
    """relu([-2, 0, 3]) = [0, 0, 3]"""
    check_array(student.activations.relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0], what="relu", tol=EXACT)


@public("activations.relu_prime")
def test_relu_prime_small(student):
    """relu'([-2, 0, 3]) = [0, 0, 1]: 0 at the kink, as torch"""
    check_array(
        student.activations.relu_prime(np.array([-2.0, 0.0, 3.0])),
        [0.0, 0.0, 1.0],
        what="relu'",
        tol=EXACT,
        mistakes={"relu'(0) must be 0 (as torch): use z > 0, not z >= 0": [0.0, 1.0, 1.0]},
    )


@public("activations.sigmoid")
def test_sigmoid_small(student):
    """sigmoid(0) = 0.5, and sigmoid(+-1000) is 1 and 0 with no overflow warning"""
    got = student.activations.sigmoid(EXTREMES)
    check_array(got, [0.5, 1.0, 0.0], what="sigmoid", tol=EXACT)


@public("activations.sigmoid_prime")
def test_sigmoid_prime_small(student):
    """sigmoid'(0) = 0.25, and sigmoid'(+-1000) = 0 with no overflow warning"""
    check_array(
        student.activations.sigmoid_prime(EXTREMES),
        [0.25, 0.0, 0.0],
        what="sigmoid'",
        tol=EXACT,
        mistakes={  # what the mistakes give at z = 0, 1000, -1000
            "sigma' was applied to the sigmoid's output: sigma'(z) = s(1 - s) with s = sigmoid(z), "
            "not sigma'(sigmoid(z))": [0.2350037122015945, 0.19661193324148185, 0.25],
            "sigma'(z) = sigmoid(z) * (1 - sigmoid(z)); this is z * (1 - z)": [0.0, -999000.0, -1001000.0],
            "the sigmoid itself was returned, not its derivative": [0.5, 1.0, 0.0],
        },
    )


@public("activations.softmax")
def test_softmax_article(student):
    """softmax of the article's Z is [[0.29, 0.39, 0.32], [0.24, 0.44, 0.32]], and with 1000 added to a row"""
    mistakes = {
        "softmax was normalised over the wrong axis: sum over each row (axis=-1)":
            [[0.450166, 0.37754067, 0.40131234], [0.549834, 0.62245933, 0.59868766]],
        "softmax was normalised over the whole array: normalise each row (axis=-1, keepdims=True)":
            [[0.11694956, 0.1578654, 0.12924926], [0.14284252, 0.26027604, 0.19281723]],
    }
    got = student.activations.softmax(ARTICLE_Z)
    check_array(got, ARTICLE_SOFTMAX, what="softmax", tol=ARTICLE, mistakes=mistakes)
    got = student.activations.softmax(SHIFTED_Z)
    shifted = {GLOBAL_SHIFT: [[np.nan, np.nan, np.nan], [0.23969448, 0.43675182, 0.3235537]]}
    check_array(got, ARTICLE_SOFTMAX, what="softmax of Z + [[0], [1000]]", tol=ARTICLE, mistakes=shifted)


@public("activations.softmax_prime")
def test_softmax_prime_two_classes(student):
    """the Jacobian of softmax([0, 0]) is [[0.25, -0.25], [-0.25, 0.25]], shape (1, 2, 2)"""
    got = student.activations.softmax_prime(np.array([[0.0, 0.0]]))
    mistakes = {
        "only the diagonal of the Jacobian was computed: off-diagonal terms are -s_j s_k":
            [[[0.25, 0.0], [0.0, 0.25]]],
        "the Jacobian's sign is flipped: J = diag(s) - s s^T": [[[-0.25, 0.25], [0.25, -0.25]]],
        "the Jacobian was built from z: J = diag(s) - s s^T with s = softmax(z), not z itself":
            [[[0.0, 0.0], [0.0, 0.0]]],
    }
    check_array(got, [[[0.25, -0.25], [-0.25, 0.25]]], what="Jacobian", tol=EXACT, mistakes=mistakes)
