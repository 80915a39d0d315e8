"""The torch reference of xor.py: the article's 2-3-1 network as a torch.nn.Module, trained with
torch's own SGD update."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.sgd import sgd

from autograder.autograd import array, tensor


class XorNet(torch.nn.Module):
    """The article's 2-3-1 network: Linear(2, 3), sigmoid, Linear(3, 1), sigmoid."""

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(2, 3).double()
        self.fc2 = torch.nn.Linear(3, 1).double()
        with torch.no_grad():
            for layer, (w, b) in ((self.fc1, ("W1", "b1")), (self.fc2, ("W2", "b2"))):
                layer.weight.copy_(tensor(params[w]))
                layer.bias.copy_(tensor(params[b]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc2(torch.sigmoid(self.fc1(x))))

    def params(self) -> dict[str, np.ndarray]:
        return {"W1": array(self.fc1.weight), "b1": array(self.fc1.bias),
                "W2": array(self.fc2.weight), "b2": array(self.fc2.bias)}

    def grads(self) -> dict[str, np.ndarray]:
        layers = {"W1": self.fc1.weight, "b1": self.fc1.bias,
                  "W2": self.fc2.weight, "b2": self.fc2.bias}
        return {k: array(p.grad) for k, p in layers.items()}


def forward(X, params):
    return array(XorNet(params)(tensor(X)))


def gradients(X, y, params):
    net = XorNet(params)
    F.mse_loss(net(tensor(X)), tensor(y)).backward()
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


def sgd_step(params, grads, lr):
    net = XorNet(params)
    for p, key in zip(net.parameters(), ("W1", "b1", "W2", "b2"), strict=True):
        p.grad = tensor(grads[key])
    _sgd_step(net, lr)
    return net.params()


_TRAINED: dict[bytes, tuple[dict[str, np.ndarray], np.ndarray]] = {}


def _bits(a) -> tuple:
    a = np.asarray(a)
    return a.dtype.str, a.shape, a.tobytes()


def train(X, y, params, lr, epochs):
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
        loss = F.mse_loss(net(tensor(X)), tensor(y))
        losses.append(float(loss.detach()))
        loss.backward()
        _sgd_step(net, lr)
    return net.params(), np.array(losses)
