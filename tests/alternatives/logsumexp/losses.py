"""Losses; the softmax cross-entropy gradient from log-probabilities."""

import numpy as np
from activations import logsumexp


def mse(y_hat, y):
    return np.square(y_hat - y).mean()


def mse_prime(y_hat, y):
    return 2 * (y_hat - y) / np.prod(y_hat.shape)


def cross_entropy(p, y):
    return -np.log(p[np.arange(len(y)), y]).mean()


def cross_entropy_prime(p, y):
    grad = np.zeros(p.shape, dtype=p.dtype)
    rows = np.arange(len(y))
    grad[rows, y] = -1 / p[rows, y] / len(y)
    return grad


def softmax_cross_entropy_prime(z, y):
    grad = np.exp(z - logsumexp(z))
    grad[np.arange(len(y)), y] -= 1
    return grad / len(y)
