"""Public cases of activations.py: small values worked by hand, the article's softmax.

Every call must leave its input unchanged and raise no warning (`public`), so the values at
+-1000 and the softmax of shifted logits also check that nothing overflows.
"""

import numpy as np

from autograder.casekit import check_array, public
from autograder.i18n import N_, gettext
from course.articles import ARTICLE, ARTICLE_Z, EXACT

#: Each side of 0, and far out where exp overflows unless the stable form is used.
Z = np.array([0.0, 0.5, -0.5, 1000.0, -1000.0])
#: softmax(ARTICLE_Z), as the article prints it.
ARTICLE_SOFTMAX = [[0.2894, 0.3907, 0.3199], [0.2397, 0.4368, 0.3236]]
#: A softmax row is unchanged when a number is added to the whole row: the article's logits with
#: 1000 added to the second row have the same softmax, and overflow unless each row is shifted by its
#: own maximum.
SHIFTED_Z = ARTICLE_Z + np.array([[0.0], [1000.0]])
#: One logit far above the others: its softmax is [[0, 0, 1]] (e^-1000 is 0 in float64); a shift by
#: anything but the row's maximum overflows.
WIDE_Z = np.array([[0.0, 0.0, 1000.0]])
#: Hints (marked N_: a report shows them in the language in use), shared with the hidden cases
#: (GLOBAL_SHIFT also with the losses').
GLOBAL_SHIFT = N_("the logits were shifted by the largest of the whole array, not by each row's own maximum: "
                  "in a row far below it every exp underflows to 0 and 0/0 gives NaN; subtract "
                  "z.max(axis=-1, keepdims=True)")
RELU_PRIME_AT_0 = N_("relu'(0) must be 0 (as torch): use z > 0, not z >= 0")
SIGMA_PRIME_OF_OUTPUT = N_("sigma' was applied to the sigmoid's output: sigma'(z) = s(1 - s) with "
                           "s = sigmoid(z), not sigma'(sigmoid(z))")
SIGMA_PRIME_OF_Z = N_("sigma'(z) = sigmoid(z) * (1 - sigmoid(z)); this is z * (1 - z)")
SIGMOID_RETURNED = N_("the sigmoid itself was returned, not its derivative")
WRONG_AXIS = N_("softmax was normalised over the wrong axis: sum over each row (axis=-1)")
WHOLE_ARRAY = N_("softmax was normalised over the whole array: normalise each row (axis=-1, "
                 "keepdims=True)")
DIAGONAL_ONLY = N_("only the diagonal of the Jacobian was computed: off-diagonal terms are -s_j s_k")
JACOBIAN_FLIPPED = N_("the Jacobian's sign is flipped: J = diag(s) - s s^T")
JACOBIAN_OF_Z = N_("the Jacobian was built from z: J = diag(s) - s s^T with s = softmax(z), not z "
                   "itself")


@public("activations.relu")
def test_relu_small(student):
    """relu([-2, 0, 3]) = [0, 0, 3]"""
    check_array(student.activations.relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0], what="relu", tol=EXACT)


@public("activations.relu_prime")
def test_relu_prime_small(student):
    """relu'([-2, 0, 0.5, 3]) = [0, 0, 1, 1]: 0 at the kink, as torch"""
    check_array(
        student.activations.relu_prime(np.array([-2.0, 0.0, 0.5, 3.0])),
        [0.0, 0.0, 1.0, 1.0],
        what="relu'",
        tol=EXACT,
        mistakes={RELU_PRIME_AT_0: [0.0, 1.0, 1.0, 1.0]},
    )


@public("activations.sigmoid")
def test_sigmoid_small(student):
    """sigmoid(0) = 0.5, sigmoid(+-0.5) = 0.62246 and 0.37754, sigmoid(+-1000) = 1 and 0 with no warning"""
    got = student.activations.sigmoid(Z)
    check_array(got, [0.5, 0.6224593312018546, 0.3775406687981454, 1.0, 0.0], what="sigmoid", tol=EXACT)


@public("activations.sigmoid_prime")
def test_sigmoid_prime_small(student):
    """sigmoid'(0) = 0.25, sigmoid'(+-0.5) = 0.23500, and sigmoid'(+-1000) = 0 with no warning"""
    check_array(
        student.activations.sigmoid_prime(Z),
        [0.25, 0.2350037122015945, 0.2350037122015945, 0.0, 0.0],
        what="sigmoid'",
        tol=EXACT,
        mistakes={  # what the mistakes give at Z
            SIGMA_PRIME_OF_OUTPUT:
                [0.2350037122015945, 0.22726609175218423, 0.24129887788965604, 0.19661193324148185, 0.25],
            SIGMA_PRIME_OF_Z: [0.0, 0.25, -0.75, -999000.0, -1001000.0],
            SIGMOID_RETURNED: [0.5, 0.6224593312018546, 0.3775406687981454, 1.0, 0.0],
        },
    )


@public("activations.softmax")
def test_softmax_article(student):
    """softmax of the article's Z, also with 1000 added to a row, and of [[0, 0, 1000]] (it is [[0, 0, 1]])

    The article's Z gives [[0.29, 0.39, 0.32], [0.24, 0.44, 0.32]]; adding a number to a row changes
    nothing in its softmax.
    """
    mistakes = {
        WRONG_AXIS: [[0.450166, 0.37754067, 0.40131234], [0.549834, 0.62245933, 0.59868766]],
        WHOLE_ARRAY: [[0.11694956, 0.1578654, 0.12924926], [0.14284252, 0.26027604, 0.19281723]],
    }
    got = student.activations.softmax(ARTICLE_Z)
    check_array(got, ARTICLE_SOFTMAX, what="softmax", tol=ARTICLE, mistakes=mistakes)
    got = student.activations.softmax(SHIFTED_Z)
    shifted = {GLOBAL_SHIFT: [[np.nan, np.nan, np.nan], [0.23969448, 0.43675182, 0.3235537]]}
    check_array(got, ARTICLE_SOFTMAX, what=gettext("softmax of Z + [[0], [1000]]"), tol=ARTICLE,
                mistakes=shifted)
    got = student.activations.softmax(WIDE_Z)
    check_array(got, [[0.0, 0.0, 1.0]], what="softmax([[0, 0, 1000]])", tol=EXACT)


@public("activations.softmax_prime")
def test_softmax_prime_two_classes(student):
    """the Jacobian of softmax([0, 0]) is [[0.25, -0.25], [-0.25, 0.25]], shape (1, 2, 2)"""
    got = student.activations.softmax_prime(np.array([[0.0, 0.0]]))
    mistakes = {
        DIAGONAL_ONLY: [[[0.25, 0.0], [0.0, 0.25]]],
        JACOBIAN_FLIPPED: [[[-0.25, 0.25], [0.25, -0.25]]],
        JACOBIAN_OF_Z: [[[0.0, 0.0], [0.0, 0.0]]],
    }
    check_array(got, [[[0.25, -0.25], [-0.25, 0.25]]], what=gettext("Jacobian"), tol=EXACT, mistakes=mistakes)
