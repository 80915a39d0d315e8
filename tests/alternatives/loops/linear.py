"""Linear layer with explicit loops: every sum written out, in the input dtype."""

import numpy as np


def linear(x, W, b):
    m, n_in = x.shape
    n_out = W.shape[0]
    z = np.empty((m, n_out), dtype=np.result_type(x, W, b))
    for i in range(m):
        for j in range(n_out):
            total = b[j]
            for k in range(n_in):
                total = total + x[i, k] * W[j, k]
            z[i, j] = total
    return z


def linear_backward(x, W, b, grad_z):
    m, n_in = x.shape
    n_out = W.shape[0]
    grad_x = np.zeros_like(x)
    grad_W = np.zeros_like(W)
    grad_b = np.zeros_like(b)
    for i in range(m):
        for j in range(n_out):
            grad_b[j] += grad_z[i, j]
            for k in range(n_in):
                grad_x[i, k] += grad_z[i, j] * W[j, k]
                grad_W[j, k] += grad_z[i, j] * x[i, k]
    return grad_x, grad_W, grad_b
