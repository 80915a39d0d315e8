"""Public cases of network.py: the article's classifier on its logits (1.2841) and its gradients.

Every call must leave its inputs unchanged and raise no warning (`public`).
"""

import numpy as np

from autograder.casekit import CaseFailure, check_array, public
from autograder.i18n import N_, gettext
from course.articles import (
    ARTICLE,
    ARTICLE_CROSS_ENTROPY,
    ARTICLE_Y,
    ARTICLE_Z,
    CLASSIFIER_GRAD_B,
    CLASSIFIER_GRAD_W,
)

#: Hints (marked N_: a report shows them in the language in use), shared with the hidden cases.
M_TIMES_W = N_("dL/dW is m times too large: the mean's 1/m was forgotten")
M_TWICE_W = N_("m was divided twice in dL/dW")
TRANSPOSED_W = N_("dL/dW is transposed: shape (K, n_in) like W")
M_TIMES_B = N_("dL/db is m times too large: the mean's 1/m was forgotten")
M_TWICE_B = N_("m was divided twice in dL/db")


@public("network.classifier_loss")
def test_classifier_loss_article(student):
    """with W = I and b = 0 the classifier's loss on the article's Z is 1.2841"""
    got = student.network.classifier_loss(ARTICLE_Z, ARTICLE_Y, np.eye(3), np.zeros(3))
    check_array(got, ARTICLE_CROSS_ENTROPY, what=gettext("loss"), tol=ARTICLE)


@public("network.classifier_gradients")
def test_classifier_gradients_article(student):
    """with W = I and b = 0, the gradients (dL/dW, dL/db) of the article's example, as torch's"""
    got = student.network.classifier_gradients(ARTICLE_Z, ARTICLE_Y, np.eye(3), np.zeros(3))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CaseFailure(gettext("expected a tuple (grad_W, grad_b)"), kind="type")
    m = len(ARTICLE_Y)
    hints = {
        "grad_W": (CLASSIFIER_GRAD_W, {
            M_TIMES_W: CLASSIFIER_GRAD_W * m,
            M_TWICE_W: CLASSIFIER_GRAD_W / m,
            TRANSPOSED_W: CLASSIFIER_GRAD_W.T,
        }),
        "grad_b": (CLASSIFIER_GRAD_B, {
            M_TIMES_B: CLASSIFIER_GRAD_B * m,
            M_TWICE_B: CLASSIFIER_GRAD_B / m,
        }),
    }
    for (what, (expected, mistakes)), value in zip(hints.items(), got, strict=True):
        check_array(value, expected, what=what, settings=student.settings, mistakes=mistakes)
