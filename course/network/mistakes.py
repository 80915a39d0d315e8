"""Typical mistakes in network.py, planted in the reference for the examples and the kit's tests."""

from autograder.mistakes import Planted

PLANTED = {
    "classifier without softmax": Planted(
        "network.classifier_loss",
        (("return cross_entropy(softmax(linear(x, W, b)), y)", "return cross_entropy(linear(x, W, b), y)"),)),
    "classifier gradient without 1/m": Planted(
        "network.classifier_gradients",
        (("linear_backward(x, W, b, softmax_cross_entropy_prime(z, y))",
          "linear_backward(x, W, b, softmax_cross_entropy_prime(z, y) * len(x))"),), "m times too large"),
}
