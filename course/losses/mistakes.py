"""Typical mistakes in losses.py, planted in the reference for the examples and the kit's tests."""

from autograder.mistakes import Planted

PLANTED = {
    "cross-entropy gradient without 1/m": Planted(
        "losses.cross_entropy_prime",
        (("grad[np.arange(m), y] = -1 / (m * p[np.arange(m), y])",
          "grad[np.arange(m), y] = -1 / p[np.arange(m), y]"),), "m times too large"),
    "mse_prime without the factor 2": Planted(
        "losses.mse_prime",
        (("return 2 * (y_hat - y) / y_hat.size", "return (y_hat - y) / y_hat.size"),), "factor 2"),
}
