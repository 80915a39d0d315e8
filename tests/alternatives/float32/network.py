"""The classifier in the input dtype."""

from activations import softmax
from linear import linear, linear_backward
from losses import cross_entropy, softmax_cross_entropy_prime


def classifier_loss(x, y, W, b):
    return cross_entropy(softmax(linear(x, W.astype(x.dtype), b.astype(x.dtype))), y)


def classifier_gradients(x, y, W, b):
    W, b = W.astype(x.dtype), b.astype(x.dtype)
    _, grad_W, grad_b = linear_backward(x, W, b, softmax_cross_entropy_prime(linear(x, W, b), y))
    return grad_W, grad_b
