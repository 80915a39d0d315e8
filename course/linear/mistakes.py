"""Typical mistakes in linear.py, planted in the reference for the examples and the kit's tests."""

from autograder.mistakes import Planted

PLANTED = {
    "dW transposed": Planted(
        "linear.linear_backward",
        (("return grad_z @ W, grad_z.T @ x, grad_z.sum(axis=0)",
          "return grad_z @ W, x.T @ grad_z, grad_z.sum(axis=0)"),),
        "transposed"),
    "* instead of @ (forward)": Planted(
        "linear.linear", (("return x @ W.T + b", "return x * W.T + b"),), "elementwise * was used"),
    "* instead of @ (dW)": Planted(
        "linear.linear_backward", (("return grad_z @ W, grad_z.T @ x", "return grad_z @ W, grad_z.T * x"),),
        "elementwise * was used"),
}
