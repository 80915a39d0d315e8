"""The classifier, composed from the sibling modules."""

from activations import softmax
from linear import linear, linear_backward
from losses import cross_entropy, softmax_cross_entropy_prime


def classifier_loss(x, y, W, b):
    probabilities = softmax(linear(x, W, b))
    return cross_entropy(probabilities, y)


def classifier_gradients(x, y, W, b):
    logits = linear(x, W, b)
    grads = linear_backward(x, W, b, softmax_cross_entropy_prime(logits, y))
    return grads[1], grads[2]
