"""Activations through log-sum-exp: softmax = exp(z - logsumexp(z)), sigmoid = exp(-softplus(-z))."""

import numpy as np


def relu(z):
    return np.where(z > 0, z, 0)


def relu_prime(z):
    return np.where(z > 0, 1.0, 0.0)


def _softplus(z):
    return np.logaddexp(0, z)  # log(1 + e^z) without overflow


def sigmoid(z):
    return np.exp(-_softplus(-z))


def sigmoid_prime(z):
    return np.exp(-_softplus(z) - _softplus(-z))  # sigma(z) sigma(-z)


def logsumexp(z):
    """log(sum(exp(z))) over each row, shape (m, 1), shifted by the row's maximum."""
    top = z.max(axis=-1, keepdims=True)
    return top + np.log(np.exp(z - top).sum(axis=-1, keepdims=True))


def softmax(z):
    return np.exp(z - logsumexp(z))


def softmax_prime(z):
    s = softmax(z)
    return s[:, :, None] * (np.eye(s.shape[-1])[None] - s[:, None, :])
