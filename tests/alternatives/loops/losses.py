"""Losses with explicit loops over the examples."""

import math

import numpy as np
from activations import softmax


def mse(y_hat, y):
    total = 0.0
    for index in np.ndindex(y_hat.shape):
        total += (float(y_hat[index]) - float(y[index])) ** 2
    return total / y_hat.size


def mse_prime(y_hat, y):
    grad = np.empty_like(y_hat)
    for index in np.ndindex(y_hat.shape):
        grad[index] = 2 * (y_hat[index] - y[index]) / y_hat.size
    return grad


def cross_entropy(p, y):
    total = 0.0
    for i in range(len(y)):
        total -= math.log(float(p[i, y[i]]))
    return total / len(y)


def cross_entropy_prime(p, y):
    grad = np.zeros_like(p)
    for i in range(len(y)):
        grad[i, y[i]] = -1.0 / (len(y) * p[i, y[i]])
    return grad


def softmax_cross_entropy_prime(z, y):
    grad = softmax(z)
    m = len(y)
    for i in range(m):
        grad[i, y[i]] -= 1
    for index in np.ndindex(grad.shape):
        grad[index] /= m
    return grad
