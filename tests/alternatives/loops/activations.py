"""Activations element by element with the math module."""

import math

import numpy as np


def relu(z):
    out = np.empty_like(z)
    for index in np.ndindex(z.shape):
        out[index] = z[index] if z[index] > 0 else 0.0
    return out


def relu_prime(z):
    out = np.empty_like(z)
    for index in np.ndindex(z.shape):
        out[index] = 1.0 if z[index] > 0 else 0.0
    return out


def _sigmoid(v):
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


def sigmoid(z):
    out = np.empty_like(z)
    for index in np.ndindex(z.shape):
        out[index] = _sigmoid(float(z[index]))
    return out


def sigmoid_prime(z):
    out = np.empty_like(z)
    for index in np.ndindex(z.shape):
        s = _sigmoid(float(z[index]))
        out[index] = s * (1.0 - s)
    return out


def softmax(z):
    m, k = z.shape
    out = np.empty_like(z)
    for i in range(m):
        top = max(float(v) for v in z[i])
        exps = [math.exp(float(z[i, j]) - top) for j in range(k)]
        total = sum(exps)
        for j in range(k):
            out[i, j] = exps[j] / total
    return out


def softmax_prime(z):
    s = softmax(z)
    m, k = s.shape
    jac = np.empty((m, k, k), dtype=s.dtype)
    for i in range(m):
        for j in range(k):
            for c in range(k):
                jac[i, j, c] = s[i, j] * ((1.0 if j == c else 0.0) - s[i, c])
    return jac
