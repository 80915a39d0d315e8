"""Known mistakes get a targeted hint, correct code never does, and instability costs part of a function.

Each mistake is one buggy function written out below; the submission is the
reference with that one function replaced, and the report's hint for that
function must name the mistake.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import losers, reference_copy

from autograder.results import SubmissionResult

# name: (module, buggy function source, graded function, a piece of the expected hint)
MISTAKES = {
    "CE gradient m times too large": ("losses", """
def cross_entropy_prime(p, y):
    grad = np.zeros_like(p)
    grad[np.arange(len(y)), y] = -1 / p[np.arange(len(y)), y]
    return grad
""", "losses.cross_entropy_prime", "m times too large"),
    "classifier gradient m times too large": ("network", """
def classifier_gradients(x, y, W, b):
    z = linear(x, W, b)
    _, grad_W, grad_b = linear_backward(x, W, b, softmax_cross_entropy_prime(z, y) * len(y))
    return grad_W, grad_b
""", "network.classifier_gradients", "m times too large"),
    "m divided twice": ("losses", """
def softmax_cross_entropy_prime(z, y):
    m = z.shape[0]
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    grad = e / e.sum(axis=-1, keepdims=True)
    grad[np.arange(m), y] -= 1
    return grad / m / m
""", "losses.softmax_cross_entropy_prime", "m was divided twice"),
    "dW transposed": ("linear", """
def linear_backward(x, W, b, grad_z):
    return grad_z @ W, x.T @ grad_z, grad_z.sum(axis=0)
""", "linear.linear_backward", "dL/dW is transposed"),
    "* instead of @ (forward)": ("linear", """
def linear(x, W, b):
    return x * W.T + b
""", "linear.linear", "elementwise * was used"),
    "* instead of @ (dW)": ("linear", """
def linear_backward(x, W, b, grad_z):
    return grad_z @ W, grad_z.T * x, grad_z.sum(axis=0)
""", "linear.linear_backward", "elementwise * was used"),
    "softmax over the wrong axis": ("activations", """
def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum(axis=0, keepdims=True)
""", "activations.softmax", "wrong axis"),
    "softmax without keepdims": ("activations", """
def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1)
""", "activations.softmax", "keepdims=True is missing"),
    "Jacobian diagonal only": ("activations", """
def softmax_prime(z):
    s = softmax(z)
    return s[:, :, None] * np.eye(s.shape[-1]) * (1 - s[:, :, None])
""", "activations.softmax_prime", "only the diagonal"),
    "softmax overflow": ("activations", """
def softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
""", "activations.softmax", "overflow"),
    "sigmoid overflow": ("activations", """
def sigmoid(z):
    return 1 / (1 + np.exp(-z))
""", "activations.sigmoid", "overflow"),
    "relu'(0) = 1": ("activations", """
def relu_prime(z):
    return (z >= 0).astype(z.dtype)
""", "activations.relu_prime", "relu'(0) must be 0"),
    "sigma' on the sigmoid's output": ("activations", """
def sigmoid_prime(z):
    s = sigmoid(sigmoid(z))
    return s * (1 - s)
""", "activations.sigmoid_prime", "applied to the sigmoid's output"),
    "sigma' applied twice": ("xor", """
def gradients(X, y, params):
    z1 = linear(X, params["W1"], params["b1"])
    a1 = sigmoid(z1)
    z2 = linear(a1, params["W2"], params["b2"])
    grad_z2 = mse_prime(sigmoid(z2), y) * sigmoid_prime(z2) * sigmoid_prime(z2)
    grad_a1, grad_W2, grad_b2 = linear_backward(a1, params["W2"], params["b2"], grad_z2)
    grad_z1 = grad_a1 * sigmoid_prime(z1) * sigmoid_prime(z1)
    _, grad_W1, grad_b1 = linear_backward(X, params["W1"], params["b1"], grad_z1)
    return {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}
""", "xor.gradients", "applied twice"),
    "sigma' on the activation": ("xor", """
def gradients(X, y, params):
    z1 = linear(X, params["W1"], params["b1"])
    a1 = sigmoid(z1)
    z2 = linear(a1, params["W2"], params["b2"])
    grad_z2 = mse_prime(sigmoid(z2), y) * sigmoid_prime(z2)
    grad_a1, grad_W2, grad_b2 = linear_backward(a1, params["W2"], params["b2"], grad_z2)
    grad_z1 = grad_a1 * sigmoid_prime(a1)
    _, grad_W1, grad_b1 = linear_backward(X, params["W1"], params["b1"], grad_z1)
    return {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}
""", "xor.gradients", "applied to the activation"),
    "MSE sum instead of mean": ("losses", """
def mse(y_hat, y):
    return np.sum((y_hat - y) ** 2)
""", "losses.mse", "a sum was used instead of a mean"),
    "CE sum instead of mean": ("losses", """
def cross_entropy(p, y):
    return -np.sum(np.log(p[np.arange(p.shape[0]), y]))
""", "losses.cross_entropy", "a sum was used instead of a mean"),
    "relu modifies its input": ("activations", """
def relu(z):
    z[z < 0] = 0
    return z
""", "activations.relu", "modified in place"),
    "sgd_step modifies its input": ("xor", """
def sgd_step(params, grads, lr):
    for key in params:
        params[key] -= lr * grads[key]
    return params
""", "xor.sgd_step", "modified in place"),
    "loss recorded after the step": ("xor", """
def train(X, y, params, lr, epochs):
    losses = []
    for _ in range(epochs):
        params = sgd_step(params, gradients(X, y, params), lr)
        losses.append(float(mse(forward(X, params), y)))
    return params, np.array(losses)
""", "xor.train", "recorded after each step"),
}


def replace_function(path: Path, source: str) -> None:
    """Replace the top-level function that `source` defines in the module at `path`."""
    new = ast.parse(source).body[0]
    text = path.read_text()
    old = next(node for node in ast.parse(text).body
               if isinstance(node, ast.FunctionDef) and node.name == new.name)
    lines = text.splitlines()
    lines[old.lineno - 1 - len(old.decorator_list):old.end_lineno] = source.strip().splitlines()
    path.write_text("\n".join(lines) + "\n")


def with_bug(tmp_path: Path, name: str, module: str, source: str) -> Path:
    """A reference copy with one function replaced."""
    folder = reference_copy(tmp_path / name.replace(" ", "_").replace("'", ""))
    replace_function(folder / f"{module}.py", source)
    return folder


def hints(result: SubmissionResult, function: str) -> list[str]:
    return [c.details.get("hint") or "" for c in result.cases if c.function == function and not c.passed]


@pytest.mark.parametrize("name", MISTAKES)
def test_mistake_gets_its_hint(name, tmp_path, grade):
    module, source, function, piece = MISTAKES[name]
    result = grade(with_bug(tmp_path, name, module, source))
    assert function in losers(result)
    assert any(piece in hint for hint in hints(result, function)), hints(result, function)


def test_no_hint_fires_on_the_reference(grade, tmp_path):
    result = grade(reference_copy(tmp_path / "reference"))
    assert result.score == result.max_score
    assert not any(c.details.get("hint") for c in result.cases)


UNSTABLE = {
    "activations.softmax": MISTAKES["softmax overflow"],
    "activations.sigmoid": MISTAKES["sigmoid overflow"],
}


@pytest.mark.parametrize("function", UNSTABLE)
def test_unstable_code_gets_partial_credit(function, tmp_path, grade):
    """Right on ordinary inputs, wrong at the extremes: part of the points, and the lost cases say why."""
    module, source, _, _ = UNSTABLE[function]
    result = grade(with_bug(tmp_path, function, module, source))
    score, top = result.function_scores()[function]
    assert 0 < score < top
    failed = [c for c in result.cases if c.function == function and not c.passed]
    assert failed and all("overflow" in (c.details.get("hint") or "") for c in failed)
    assert all(c.score == 0 and c.max_score > 0 for c in failed)
    assert abs(top - score - sum(c.max_score for c in failed)) < 1e-3  # function_scores rounds
    passed = [c for c in result.cases if c.function == function and c.passed]
    assert len(passed) > len(failed)  # the ordinary inputs still count
