"""Small helpers for a course's torch oracle: float64 tensors in, NumPy arrays out.

A course's `oracle.py` computes forward values with torch's own functions and
derivatives with torch.autograd; these helpers do the conversions and the
vector-Jacobian products. Only the trusted grader imports them (torch).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

torch.set_num_threads(1)  # the grader forks workers; one thread avoids fork-unsafe pools


def tensor(a: object, grad: bool = False) -> torch.Tensor:
    """`a` as a float64 tensor (float32 inputs are promoted: the oracle's answer is exact for them)."""
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def labels(y: object) -> torch.Tensor:
    """Integer class labels as an int64 tensor."""
    return torch.tensor(np.asarray(y), dtype=torch.int64)


def array(t: torch.Tensor) -> np.ndarray:
    """A tensor's values as a fresh NumPy array."""
    return t.detach().numpy().copy()


def grad(fn: Callable[..., torch.Tensor], *inputs: object) -> list[np.ndarray]:
    """Gradients of the scalar fn(*tensors) with respect to every input."""
    tensors = [tensor(a, grad=True) for a in inputs]
    return [array(g) for g in torch.autograd.grad(fn(*tensors), tensors)]


def elementwise_grad(fn: Callable[[torch.Tensor], torch.Tensor], z: object) -> np.ndarray:
    """d fn(z) / dz for an elementwise fn: the VJP with a vector of ones."""
    return grad(lambda t: fn(t).sum(), z)[0]


def row_jacobians(fn: Callable[[torch.Tensor], torch.Tensor], z: object) -> np.ndarray:
    """(m, K, K): the per-row blocks of torch.autograd.functional.jacobian of a row-wise fn."""
    full = torch.autograd.functional.jacobian(fn, tensor(z))
    rows = torch.arange(full.shape[0])
    return array(full[rows, :, rows, :])
