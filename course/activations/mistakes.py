"""Typical mistakes in activations.py, planted in the reference for the examples and the kit's tests."""

from autograder.mistakes import Planted

PLANTED = {
    "relu modifies its input": Planted(
        "activations.relu", (("return np.maximum(z, 0)", "z[z < 0] = 0\n    return z"),),
        "modified in place"),
    "relu'(0) = 1": Planted(
        "activations.relu_prime",
        (("return (z > 0).astype(z.dtype)", "return (z >= 0).astype(z.dtype)"),), "relu'(0)"),
    "softmax without the max shift": Planted(
        "activations.softmax",
        (("e = np.exp(z - z.max(axis=-1, keepdims=True))\n    return e / e.sum",
          "e = np.exp(z)\n    return e / e.sum"),)),
    "Jacobian diagonal only": Planted(
        "activations.softmax_prime",
        (("return s[:, :, None] * np.eye(s.shape[-1], dtype=s.dtype) - s[:, :, None] * s[:, None, :]",
          "return s[:, :, None] * np.eye(s.shape[-1]) * (1 - s[:, :, None])"),), "diagonal"),
}
