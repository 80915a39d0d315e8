"""Public cases of network.py: the article's classifier on its logits (1.2841)."""

import numpy as np

from autograder.casekit import CaseFailure, check_array, graded, shape_of
from course.articles import ARTICLE, ARTICLE_CROSS_ENTROPY, ARTICLE_Y, ARTICLE_Z


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
