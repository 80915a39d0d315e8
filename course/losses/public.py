"""Public cases of losses.py: the articles' worked numbers (0.16914, 1.2841) and small arrays
worked by hand.

Every call must leave its inputs unchanged and raise no warning (`public`), so the gradient of
the softmax and cross-entropy is also taken of large logits.
"""

import numpy as np

from autograder.casekit import check_array, public
from autograder.i18n import N_, gettext
from course.activations.public import GLOBAL_SHIFT, SHIFTED_Z, WIDE_Z
from course.articles import (
    ARTICLE,
    ARTICLE_CROSS_ENTROPY,
    ARTICLE_P,
    ARTICLE_Y,
    ARTICLE_Z,
    EXACT,
    LOSS_00,
    Y_HAT_00,
)

#: Predictions and targets worked by hand: y_hat - y = [[1, 2], [3, 4]].
Y_HAT = np.array([[1.0, 3.0], [5.0, 7.0]])
Y = np.array([[0.0, 1.0], [2.0, 3.0]])
#: d CE / d z of the article's example: (softmax(Z) - onehot(y)) / m.
ARTICLE_GRAD_Z = np.array([[0.14471656, 0.19534692, -0.34006347], [-0.38015117, 0.21837591, 0.16177526]])
#: Hints (marked N_: a report shows them in the language in use). A hint that adds to another is written
#: out whole, so that each is one message to translate.
SUMMED = N_("a sum was used instead of a mean: divide by the number of elements")
ROWS_ONLY = N_("the mean was taken over rows only: average over every element")
UNSQUARED = N_("the square is missing: mean of (y_hat - y)**2")
HALVED = N_("the loss was halved: mse is the plain mean of (y_hat - y)**2 (torch.nn.MSELoss), without the "
            "1/2 some texts put in front")
N_TIMES = N_("the gradient is N times too large: the mean's 1/N was forgotten")
NO_FACTOR_2 = N_("the factor 2 from the square is missing")
BY_ROWS = N_("the gradient was divided by the number of rows, not by every element")
MSE_PRIME_FLIPPED = N_("the sign is flipped: d/dy_hat of (y_hat - y)**2 is +2 (y_hat - y)")
SUMMED_ROWS = N_("a sum was used instead of a mean over the rows")
NO_MINUS = N_("the minus sign is missing: L = -mean(log p[i, y[i]])")
EVERY_CLASS = N_("every class was counted, not only the true one: pick p[i, y[i]]")
PICKED_BLOCK = N_("p[:, y] picks every row's probability of every row's label (an m x m block, right only "
                  "when m = 1): pick p[np.arange(m), y], one entry per row")
PICKED_BLOCK_UNSCALED = N_("p[:, y] picks every row's probability of every row's label (an m x m block, "
                           "right only when m = 1): pick p[np.arange(m), y], one entry per row (and divide "
                           "by m)")
#: The derivatives' hints: M_TIMES and M_TWICE are cross_entropy_prime's and softmax_cross_entropy_prime's.
M_TIMES = N_("the gradient is m times too large: the mean's 1/m was forgotten")
M_TWICE = N_("m was divided twice")
CE_PRIME_FLIPPED = N_("the sign is flipped: d(-log p)/dp = -1/p")
SCE_PRIME_FLIPPED = N_("the sign is flipped: dL/dz = (softmax(z) - onehot(y)) / m")
WRT_LOGITS = N_("p - onehot(y) is the gradient with respect to the logits z (softmax_cross_entropy_prime); "
                "with respect to p it is -1 / (m p[i, y[i]]) at the true class and 0 elsewhere")
WRT_LOGITS_UNSCALED = N_("p - onehot(y) is the gradient with respect to the logits z "
                         "(softmax_cross_entropy_prime); with respect to p it is -1 / (m p[i, y[i]]) at the "
                         "true class and 0 elsewhere (and the 1/m is missing)")


@public("losses.mse")
def test_mse_article(student):
    """the article's XOR loss on [0, 0] is (0.41126 - 0)**2 = 0.16914; for y_hat - y = [[1, 2], [3, 4]], 7.5

    7.5 = (1 + 4 + 9 + 16) / 4: the mean over every element.
    """
    got = student.losses.mse(np.array([[Y_HAT_00]]), np.array([[0.0]]))
    check_array(got, LOSS_00, what="mse", tol=ARTICLE, mistakes={HALVED: LOSS_00 / 2})
    mistakes = {
        SUMMED: 30.0,
        ROWS_ONLY: 15.0,
        UNSQUARED: 2.5,
        HALVED: 3.75,
    }
    got = student.losses.mse(Y_HAT, Y)
    check_array(got, 7.5, what=gettext("mse of the 2x2 example"), tol=EXACT, mistakes=mistakes)


@public("losses.mse_prime")
def test_mse_prime_small(student):
    """d mse / d y_hat for y_hat - y = [[1, 2], [3, 4]] is 2 (y_hat - y) / 4 = [[0.5, 1], [1.5, 2]]"""
    mistakes = {
        N_TIMES: [[2.0, 4.0], [6.0, 8.0]],
        NO_FACTOR_2: [[0.25, 0.5], [0.75, 1.0]],
        BY_ROWS: [[1.0, 2.0], [3.0, 4.0]],
        MSE_PRIME_FLIPPED: [[-0.5, -1.0], [-1.5, -2.0]],
    }
    got = student.losses.mse_prime(Y_HAT, Y)
    check_array(got, [[0.5, 1.0], [1.5, 2.0]], what="mse'", tol=EXACT, mistakes=mistakes)


@public("losses.cross_entropy")
def test_cross_entropy_article(student):
    """cross-entropy of the article's example (y = [2, 0]) is 1.2841

    The article prints 1.285 because it rounds every intermediate step to two
    decimals; without rounding the value is 1.28411.
    """
    mistakes = {
        SUMMED_ROWS: 2.56820791,
        NO_MINUS: -1.28410395,
        EVERY_CLASS: 3.35233012,
        PICKED_BLOCK: 1.23410975,
        PICKED_BLOCK_UNSCALED: 2.46821951,
    }
    got = student.losses.cross_entropy(ARTICLE_P, ARTICLE_Y)
    check_array(got, ARTICLE_CROSS_ENTROPY, what=gettext("cross-entropy"), tol=ARTICLE, mistakes=mistakes)


@public("losses.cross_entropy_prime")
def test_cross_entropy_prime_small(student):
    """d CE / dp is -1 / (m p[i, y[i]]) at the true class and 0 elsewhere: here m = 2, K = 3"""
    p = np.array([[0.25, 0.5, 0.25], [0.2, 0.4, 0.4]])
    expected = np.array([[-2.0, 0.0, 0.0], [0.0, -1.25, 0.0]])
    mistakes = {
        M_TIMES: expected * 2,
        M_TWICE: expected / 2,
        CE_PRIME_FLIPPED: -expected,
        WRT_LOGITS: [[-0.375, 0.25, 0.125], [0.1, -0.3, 0.2]],
        WRT_LOGITS_UNSCALED: [[-0.75, 0.5, 0.25], [0.2, -0.6, 0.4]],
    }
    got = student.losses.cross_entropy_prime(p, np.array([0, 1]))
    check_array(got, expected, what="dL/dp", tol=EXACT, mistakes=mistakes)


@public("losses.softmax_cross_entropy_prime")
def test_softmax_cross_entropy_prime_article(student):
    """(softmax(Z) - onehot(y)) / m on the article's Z, also with 1000 added to a row, and on [[0, 0, 1000]]

    Adding a number to a row leaves its softmax, and so the gradient, unchanged. The softmax of
    [[0, 0, 1000]] is [[0, 0, 1]]: with y = [0], the gradient is [[-1, 0, 1]].
    """
    mistakes = {
        M_TIMES: ARTICLE_GRAD_Z * 2,
        M_TWICE: ARTICLE_GRAD_Z / 2,
        SCE_PRIME_FLIPPED: -ARTICLE_GRAD_Z,
    }
    got = student.losses.softmax_cross_entropy_prime(ARTICLE_Z, ARTICLE_Y)
    check_array(got, ARTICLE_GRAD_Z, what="dL/dz", tol=ARTICLE, mistakes=mistakes)
    got = student.losses.softmax_cross_entropy_prime(SHIFTED_Z, ARTICLE_Y)
    shifted = {GLOBAL_SHIFT: [[np.nan, np.nan, np.nan], [-0.38015276, 0.21837591, 0.16177685]]}
    check_array(got, ARTICLE_GRAD_Z, what=gettext("dL/dz of Z + [[0], [1000]]"), tol=ARTICLE,
                mistakes=shifted)
    got = student.losses.softmax_cross_entropy_prime(WIDE_Z, np.array([0]))
    check_array(got, [[-1.0, 0.0, 1.0]], what=gettext("dL/dz of [[0, 0, 1000]], y = [0]"), tol=EXACT)
