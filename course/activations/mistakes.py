"""Typical mistakes in activations.py: planted in the reference for the examples and the kit's tests,
and the output of one the losses' cases share (its hint is course.activations.public.GLOBAL_SHIFT)."""

import numpy as np

from autograder.mistakes import Planted


def global_shift_softmax(z: np.ndarray) -> np.ndarray:
    """softmax with the logits shifted by the maximum of the whole array (NaN in far rows)."""
    with np.errstate(all="ignore"):
        e = np.exp(z - z.max())
        return e / e.sum(axis=-1, keepdims=True)

SHIFT = "e = np.exp(z - z.max(axis=-1, keepdims=True))"
ROW_SUM = "return e / e.sum(axis=-1, keepdims=True)"
JACOBIAN = "return s[:, :, None] * np.eye(s.shape[-1], dtype=s.dtype) - s[:, :, None] * s[:, None, :]"

PLANTED = {
    "relu modifies its input": Planted(
        "activations.relu", (("return np.maximum(z, 0)", "z[z < 0] = 0\n    return z"),),
        "modified in place"),
    "relu'(0) = 1": Planted(
        "activations.relu_prime",
        (("return (z > 0).astype(z.dtype)", "return (z >= 0).astype(z.dtype)"),), "relu'(0)"),
    "sigmoid without the stable form": Planted(
        "activations.sigmoid",
        (("e = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n"
          "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))", "return 1 / (1 + np.exp(-z))"),),
        "overflow"),
    "sigma' on the sigmoid's output": Planted(
        "activations.sigmoid_prime", (("s = sigmoid(z)", "s = sigmoid(sigmoid(z))"),),
        "applied to the sigmoid's output"),
    "softmax without the max shift": Planted(
        "activations.softmax", ((f"{SHIFT}\n    return e / e.sum", "e = np.exp(z)\n    return e / e.sum"),),
        "overflow"),
    "softmax shifted by the global maximum": Planted(
        "activations.softmax", ((SHIFT, "e = np.exp(z - z.max())"),), "underflows"),
    "softmax over the wrong axis": Planted(
        "activations.softmax",
        ((SHIFT, "e = np.exp(z - z.max())"), (ROW_SUM, "return e / e.sum(axis=0, keepdims=True)")),
        "wrong axis"),
    "softmax without keepdims": Planted(
        "activations.softmax", ((ROW_SUM, "return e / e.sum(axis=-1)"),), "keepdims=True is missing"),
    "Jacobian diagonal only": Planted(
        "activations.softmax_prime",
        ((JACOBIAN, "return s[:, :, None] * np.eye(s.shape[-1]) * (1 - s[:, :, None])"),), "diagonal"),
    "Jacobian built from z": Planted(
        "activations.softmax_prime", ((f"s = softmax(z)\n    {JACOBIAN}", f"s = z\n    {JACOBIAN}"),),
        "built from z"),
}
