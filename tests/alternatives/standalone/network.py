"""The classifier on its own: it imports nothing from the other exercise files."""

import numpy as np


def _probabilities(x, W, b):
    z = x @ W.T + b
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def classifier_loss(x, y, W, b):
    p = _probabilities(x, W, b)
    return -np.mean(np.log(p[np.arange(len(y)), y]))


def classifier_gradients(x, y, W, b):
    grad_z = _probabilities(x, W, b)
    grad_z[np.arange(len(y)), y] -= 1
    grad_z /= len(y)
    return grad_z.T @ x, grad_z.sum(axis=0)
