"""The classifier of "Dismantling neural networks": linear layer, softmax, cross-entropy.

Your own functions from the other files are imported below; a chain of them is
the whole network. Backpropagation is the chain rule applied from the loss back
to the parameters, one local derivative at a time.
"""

import numpy as np
from activations import softmax
from linear import linear, linear_backward
from losses import cross_entropy, softmax_cross_entropy_prime


def classifier_loss(x, y, W, b):
    """Loss of the classifier: cross_entropy(softmax(linear(x, W, b)), y), a scalar.

    x (m, n_in), y (m,) integer labels, W (K, n_in), b (K,).
    """
    raise NotImplementedError("classifier_loss: not implemented yet")


def classifier_gradients(x, y, W, b):
    """(dL/dW, dL/db) of classifier_loss, by the chain rule; shapes of W and b.

    dL/dz = (softmax(z) - onehot(y)) / m   (softmax and cross-entropy together)
    dL/dW, dL/db = linear_backward(x, W, b, dL/dz)[1:]
    """
    raise NotImplementedError("classifier_gradients: not implemented yet")
