"""Activation functions and their derivatives, each forward beside its derivative.

All are elementwise except softmax, which normalises each row of a (m, K) array.
"""

import numpy as np


def relu(z):
    """ReLU: max(z, 0), elementwise."""
    raise NotImplementedError("relu: not implemented yet")


def relu_prime(z):
    """d relu / dz: 1 where z > 0, else 0. At the kink z = 0 we take 0, as torch does."""
    raise NotImplementedError("relu_prime: not implemented yet")


def sigmoid(z):
    """Sigmoid: 1 / (1 + exp(-z)), elementwise.

    exp(-z) overflows for z < -709, so for negative z use the equal form
    exp(z) / (1 + exp(z)), whose exp can only underflow. Must be finite and
    warning-free for every finite z.
    """
    raise NotImplementedError("sigmoid: not implemented yet")


def sigmoid_prime(z):
    """d sigmoid / dz = sigmoid(z) * (1 - sigmoid(z)): the derivative reuses the forward value."""
    raise NotImplementedError("sigmoid_prime: not implemented yet")


def softmax(z):
    """Row-wise softmax of z (m, K): softmax(z)[i, j] = exp(z[i, j]) / sum_k exp(z[i, k]).

    Subtracting each row's maximum changes nothing mathematically (it cancels
    between numerator and denominator) but keeps exp from overflowing.
    """
    raise NotImplementedError("softmax: not implemented yet")


def softmax_prime(z):
    """Jacobian of the row-wise softmax, shape (m, K, K).

    With s = softmax(z): J[i, j, k] = d s[i, j] / d z[i, k] = s[i, j] * (delta_jk - s[i, k]),
    that is diag(s_i) - s_i s_i^T for each row i. The off-diagonal terms matter:
    every output depends on every logit of its row.
    """
    raise NotImplementedError("softmax_prime: not implemented yet")
