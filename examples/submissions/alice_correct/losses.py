"""Loss functions and their derivatives: mean squared error and cross-entropy."""

import numpy as np


def mse(y_hat, y):
    """Mean squared error: mean over all elements of (y_hat - y)**2 (torch.nn.MSELoss)."""
    return np.mean((y_hat - y) ** 2)


def mse_prime(y_hat, y):
    """d mse / d y_hat = 2 (y_hat - y) / N, where N = y_hat.size counts every element."""
    return 2 * (y_hat - y) / y_hat.size


def cross_entropy(p, y):
    """Cross-entropy of probabilities p (m, K) with integer labels y (m,).

    L = -(1/m) sum_i log p[i, y[i]]: only the probability of the true class counts,
    picked out by integer array indexing instead of a one-hot product.
    """
    m = p.shape[0]
    return -np.mean(np.log(p[np.arange(m), y]))


def cross_entropy_prime(p, y):
    """d cross_entropy / d p, shape (m, K): -1 / (m p[i, y[i]]) at the true class, 0 elsewhere."""
    m = p.shape[0]
    grad = np.zeros_like(p)
    grad[np.arange(m), y] = -1 / (m * p[np.arange(m), y])
    return grad


def softmax_cross_entropy_prime(z, y):
    """d cross_entropy(softmax(z), y) / d z = (softmax(z) - onehot(y)) / m, shape (m, K).

    Chaining the softmax Jacobian with the cross-entropy gradient collapses to this
    simple difference, which stays finite for huge logits (no 1/p is ever formed).
    """
    m = z.shape[0]
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    grad = e / e.sum(axis=-1, keepdims=True)
    grad[np.arange(m), y] -= 1
    return grad / m
