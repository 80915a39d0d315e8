"""Public cases of losses.py: the articles' worked numbers (0.16914, 1.2841)."""

import numpy as np

from autograder.casekit import check_array, graded
from course.articles import ARTICLE, ARTICLE_CROSS_ENTROPY, ARTICLE_Y, ARTICLE_Z, EXACT, LOSS_00, Y_HAT_00


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
