"""Losses computed and returned in the input dtype (a float32 scalar for float32 inputs)."""

import numpy as np
from activations import softmax


def mse(y_hat, y):
    diff = y_hat - y
    return np.mean(diff * diff, dtype=y_hat.dtype)


def mse_prime(y_hat, y):
    dtype = y_hat.dtype
    return (dtype.type(2) / dtype.type(y_hat.size)) * (y_hat - y)


def cross_entropy(p, y):
    picked = p[np.arange(p.shape[0]), y]
    return -np.mean(np.log(picked), dtype=p.dtype)


def cross_entropy_prime(p, y):
    m = p.shape[0]
    grad = np.zeros_like(p)
    rows = np.arange(m)
    grad[rows, y] = -p.dtype.type(1) / (p.dtype.type(m) * p[rows, y])
    return grad


def softmax_cross_entropy_prime(z, y):
    m = z.shape[0]
    grad = softmax(z)
    grad[np.arange(m), y] -= z.dtype.type(1)
    return grad / z.dtype.type(m)
