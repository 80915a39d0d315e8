"""Activations; sigmoid clips its argument to [-500, 500], where exp cannot overflow."""

import numpy as np


def relu(z):
    return np.maximum(0, z)


def relu_prime(z):
    return 1.0 * (z > 0)


def sigmoid(z):
    # beyond |z| = 500 the true value is within e^-500 of 0 or 1: far inside the tolerance
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s - s * s


def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_prime(z):
    s = softmax(z)
    return np.array([np.diagflat(row) - np.outer(row, row) for row in s])
