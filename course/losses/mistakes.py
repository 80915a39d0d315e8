"""Typical mistakes in losses.py, planted in the reference for the examples and the kit's tests."""

from autograder.mistakes import Planted

MSE = "return np.mean((y_hat - y) ** 2)"
MSE_PRIME = "return 2 * (y_hat - y) / y_hat.size"
CE = "return -np.mean(np.log(p[np.arange(m), y]))"

PLANTED = {
    "MSE sum instead of mean": Planted(
        "losses.mse", ((MSE, "return np.sum((y_hat - y) ** 2)"),), "a sum was used instead of a mean"),
    "MSE halved": Planted("losses.mse", ((MSE, f"{MSE} / 2"),), "halved"),
    "mse_prime without the factor 2": Planted(
        "losses.mse_prime", ((MSE_PRIME, "return (y_hat - y) / y_hat.size"),), "factor 2"),
    "mse_prime divided by the rows only": Planted(
        "losses.mse_prime", ((MSE_PRIME, "return 2 * (y_hat - y) / len(y_hat)"),), "number of rows"),
    "mse_prime without the mean": Planted(
        "losses.mse_prime", ((MSE_PRIME, "return 2 * (y_hat - y)"),), "N times too large"),
    "CE sum instead of mean": Planted(
        "losses.cross_entropy", ((CE, "return -np.sum(np.log(p[np.arange(m), y]))"),),
        "a sum was used instead of a mean"),
    "CE indexed as p[:, y]": Planted(
        "losses.cross_entropy", ((CE, "return -np.mean(np.log(p[:, y]))"),), "p[:, y]"),
    "cross-entropy gradient without 1/m": Planted(
        "losses.cross_entropy_prime",
        (("grad[np.arange(m), y] = -1 / (m * p[np.arange(m), y])",
          "grad[np.arange(m), y] = -1 / p[np.arange(m), y]"),), "m times too large"),
    "p - onehot as the cross-entropy gradient": Planted(
        "losses.cross_entropy_prime",
        (("grad = np.zeros_like(p)", "grad = p.copy()"),
         ("grad[np.arange(m), y] = -1 / (m * p[np.arange(m), y])\n    return grad",
          "grad[np.arange(m), y] -= 1\n    return grad / m")),
        "with respect to the logits"),
    "m divided twice": Planted(
        "losses.softmax_cross_entropy_prime", (("return grad / m", "return grad / m / m"),),
        "m was divided twice"),
    "softmax_cross_entropy_prime shifted by the global maximum": Planted(
        "losses.softmax_cross_entropy_prime",
        (("e = np.exp(z - z.max(axis=-1, keepdims=True))", "e = np.exp(z - z.max())"),), "underflows"),
}
