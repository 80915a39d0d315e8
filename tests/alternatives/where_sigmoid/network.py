"""The classifier; dL/dz by the chain rule through the full softmax Jacobian."""

import numpy as np
from activations import softmax, softmax_prime
from linear import linear, linear_backward
from losses import cross_entropy, cross_entropy_prime


def classifier_loss(x, y, W, b):
    return cross_entropy(softmax(linear(x, W, b)), y)


def classifier_gradients(x, y, W, b):
    z = linear(x, W, b)
    grad_p = cross_entropy_prime(softmax(z), y)
    grad_z = np.einsum("ij,ijk->ik", grad_p, softmax_prime(z))
    _, grad_W, grad_b = linear_backward(x, W, b, grad_z)
    return grad_W, grad_b
