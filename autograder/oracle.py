"""The reference: torch in float64. Forward values from torch's own functions,
derivatives from torch.autograd (vector-Jacobian products and full Jacobians).

Only the trusted grader imports this module; student code never can. Inputs are
NumPy arrays of any float dtype and are promoted to float64, so a float32 case
is checked against the exact answer for its (float32) inputs.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.sgd import sgd

torch.set_num_threads(1)  # the grader forks workers; one thread avoids fork-unsafe pools


def _t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def _labels(y: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.asarray(y), dtype=torch.int64)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().copy()


def _grad(fn, *inputs: np.ndarray) -> list[np.ndarray]:
    """Gradients of the scalar fn(*tensors) with respect to every input."""
    tensors = [_t(a, grad=True) for a in inputs]
    return [_np(g) for g in torch.autograd.grad(fn(*tensors), tensors)]


def _elementwise_grad(fn, z: np.ndarray) -> np.ndarray:
    """d fn(z) / dz for an elementwise fn: the VJP with a vector of ones."""
    return _grad(lambda t: fn(t).sum(), z)[0]


# --- linear ---------------------------------------------------------------------------------

def linear(x, W, b):
    return _np(F.linear(_t(x), _t(W), _t(b)))


def linear_backward(x, W, b, grad_z):
    return tuple(_grad(lambda x_, W_, b_: (F.linear(x_, W_, b_) * _t(grad_z)).sum(), x, W, b))


# --- activations ----------------------------------------------------------------------------

def relu(z):
    return _np(torch.relu(_t(z)))


def relu_prime(z):
    return _elementwise_grad(torch.relu, z)


def sigmoid(z):
    return _np(torch.sigmoid(_t(z)))


def sigmoid_prime(z):
    return _elementwise_grad(torch.sigmoid, z)


def softmax(z):
    return _np(torch.softmax(_t(z), dim=-1))


def softmax_prime(z):
    """(m, K, K): the per-row blocks of torch.autograd.functional.jacobian of softmax."""
    full = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=-1), _t(z))
    rows = torch.arange(full.shape[0])
    return _np(full[rows, :, rows, :])


# --- losses ---------------------------------------------------------------------------------

def mse(y_hat, y):
    return float(F.mse_loss(_t(y_hat), _t(y)))


def mse_prime(y_hat, y):
    return _grad(lambda a: F.mse_loss(a, _t(y)), y_hat)[0]


def cross_entropy(p, y):
    return float(F.nll_loss(torch.log(_t(p)), _labels(y)))


def cross_entropy_prime(p, y):
    return _grad(lambda a: F.nll_loss(torch.log(a), _labels(y)), p)[0]


def softmax_cross_entropy_prime(z, y):
    return _grad(lambda a: F.cross_entropy(a, _labels(y)), z)[0]


# --- network --------------------------------------------------------------------------------

def classifier_loss(x, y, W, b):
    return float(F.cross_entropy(F.linear(_t(x), _t(W), _t(b)), _labels(y)))


def classifier_gradients(x, y, W, b):
    _, grad_W, grad_b = _grad(
        lambda x_, W_, b_: F.cross_entropy(F.linear(x_, W_, b_), _labels(y)), x, W, b
    )
    return grad_W, grad_b


# --- xor ------------------------------------------------------------------------------------

class XorNet(torch.nn.Module):
    """The article's 2-3-1 network: Linear(2, 3), sigmoid, Linear(3, 1), sigmoid."""

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(2, 3).double()
        self.fc2 = torch.nn.Linear(3, 1).double()
        with torch.no_grad():
            for layer, (w, b) in ((self.fc1, ("W1", "b1")), (self.fc2, ("W2", "b2"))):
                layer.weight.copy_(_t(params[w]))
                layer.bias.copy_(_t(params[b]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc2(torch.sigmoid(self.fc1(x))))

    def params(self) -> dict[str, np.ndarray]:
        return {"W1": _np(self.fc1.weight), "b1": _np(self.fc1.bias),
                "W2": _np(self.fc2.weight), "b2": _np(self.fc2.bias)}

    def grads(self) -> dict[str, np.ndarray]:
        layers = {"W1": self.fc1.weight, "b1": self.fc1.bias,
                  "W2": self.fc2.weight, "b2": self.fc2.bias}
        return {k: _np(p.grad) for k, p in layers.items()}


def xor_forward(X, params):
    return _np(XorNet(params)(_t(X)))


def xor_gradients(X, y, params):
    net = XorNet(params)
    F.mse_loss(net(_t(X)), _t(y)).backward()
    return net.grads()


def _sgd_step(net: torch.nn.Module, lr: float) -> None:
    """One step of torch's plain SGD (the function `torch.optim.SGD.step` runs), grads then cleared.

    Called directly: constructing `torch.optim.SGD` imports torch._dynamo, 1.5-2 s
    of every grading run's start-up for the same arithmetic.
    """
    params = [p for p in net.parameters() if p.grad is not None]
    with torch.no_grad():
        sgd(params, [p.grad for p in params], [None] * len(params), foreach=False, weight_decay=0.0,
            momentum=0.0, lr=lr, dampening=0.0, nesterov=False, maximize=False)
    for p in params:
        p.grad = None


def xor_sgd_step(params, grads, lr):
    net = XorNet(params)
    for p, key in zip(net.parameters(), ("W1", "b1", "W2", "b2"), strict=True):
        p.grad = _t(grads[key])
    _sgd_step(net, lr)
    return net.params()


_TRAINED: dict[bytes, tuple[dict[str, np.ndarray], np.ndarray]] = {}


def _bits(a) -> tuple:
    a = np.asarray(a)
    return a.dtype.str, a.shape, a.tobytes()


def xor_train(X, y, params, lr, epochs):
    """(final params, losses) of full-batch SGD (torch's); losses[k] before step k.

    Remembered per run: the same few trainings are asked for by the collected cases, by
    the call plan's recording and by every report's loss curve. Each caller gets copies.
    """
    key = repr((_bits(X), _bits(y), sorted((k, _bits(v)) for k, v in params.items()),
                float(lr), int(epochs))).encode()
    if key not in _TRAINED:
        _TRAINED[key] = _train(X, y, params, lr, epochs)
    final, losses = _TRAINED[key]
    return {k: v.copy() for k, v in final.items()}, losses.copy()


def _train(X, y, params, lr, epochs):
    net = XorNet(params)
    losses = []
    for _ in range(epochs):
        loss = F.mse_loss(net(_t(X)), _t(y))
        losses.append(float(loss.detach()))
        loss.backward()
        _sgd_step(net, lr)
    return net.params(), np.array(losses)
