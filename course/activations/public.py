"""Public cases of activations.py: small values worked by hand, the article's softmax."""

import numpy as np

from autograder.casekit import check_array, graded
from course.articles import ARTICLE, ARTICLE_Z, EXACT


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
