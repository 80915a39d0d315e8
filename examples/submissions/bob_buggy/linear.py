"""The linear (fully connected) layer: z = x W^T + b, and its backward pass.

Shapes follow torch.nn.Linear: x is (m, n_in) with one example per row, W is
(n_out, n_in) with one output neuron per row, b is (n_out,).
"""

import numpy as np


def linear(x, W, b):
    """Forward pass of a linear layer.

    z[i, j] = sum_k x[i, k] * W[j, k] + b[j]   ->   z = x @ W.T + b, shape (m, n_out).
    Every example i gets the same weights; b is broadcast over the rows.
    """
    return x @ W.T + b


def linear_backward(x, W, b, grad_z):
    """Backward pass: given grad_z = dL/dz (m, n_out), return (dL/dx, dL/dW, dL/db).

    From z[i, j] = sum_k x[i, k] W[j, k] + b[j] and the chain rule:
      dL/dx = grad_z @ W             shape (m, n_in)
      dL/dW = grad_z.T @ x           shape (n_out, n_in): summed over the m examples
      dL/db = grad_z summed over m   shape (n_out,)
    No 1/m here: any averaging already happened in the loss that produced grad_z.
    """
    return grad_z @ W, x.T @ grad_z, grad_z.sum(axis=0)
