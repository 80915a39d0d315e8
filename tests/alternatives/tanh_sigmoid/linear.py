"""Linear layer with np.matmul and transposes on the other side."""

import numpy as np


def linear(x, W, b):
    return np.matmul(W, x.T).T + b


def linear_backward(x, W, b, grad_z):
    return np.matmul(grad_z, W), np.matmul(x.T, grad_z).T, grad_z.sum(axis=0)
