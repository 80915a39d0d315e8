"""Central finite differences: a second oracle for derivatives, independent of autograd.

torch.autograd is the reference for every derivative, but it is the same library
that computes the forward values, and at a kink it follows a convention (max(z, 0)' = 0 at 0).
Differencing torch's *forward* functions checks the backward ones from outside:
where the function is smooth the two must agree, and a disagreement is a bug in
the suite (a wrong VJP, a transposed Jacobian, a mean over the wrong count),
reported before a single submission is graded with it. At a kink they disagree
by design (max(z, 0) at 0: the difference quotient is 1/2), so kinks are not differenced.

Step: h = cbrt(machine epsilon) * max(|x|, scale) ~ 6e-6 relative, which balances
the truncation error (h^2 f''' / 6) against the rounding error (eps |f| / h).
With scale=0 the step is purely relative, for inputs that must stay positive (p).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

STEP = float(np.finfo(np.float64).eps) ** (1 / 3)
# Agreement of autograd and finite differences, both in float64: central
# differences are accurate to ~1e-10 relative here, so 1e-6 leaves a wide margin
# while a real disagreement (a factor m, a transpose, a sign) is of order 1.
RTOL, ATOL = 1e-6, 1e-8


class OracleDisagreement(AssertionError):
    """autograd and finite differences disagree: the suite, not a submission, is wrong."""


def steps(x: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The step for every element of x."""
    x = np.asarray(x, dtype=np.float64)
    return STEP * np.maximum(np.abs(x), max(scale, float(np.finfo(np.float64).tiny)))


def elementwise(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """d f(x) / dx for an elementwise f: one pair of evaluations for all elements."""
    x = np.asarray(x, dtype=np.float64)
    h = steps(x, scale)
    return (np.asarray(f(x + h)) - np.asarray(f(x - h))) / (2 * h)


def gradient(f: Callable[[np.ndarray], float], x: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """d f(x) / dx for a scalar f, shape of x: two evaluations per element."""
    x = np.asarray(x, dtype=np.float64)
    h = steps(x, scale)
    grad = np.empty_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h[index]
        down[index] -= h[index]
        grad[index] = (float(f(up)) - float(f(down))) / (up[index] - down[index])
    return grad


def row_jacobians(f: Callable[[np.ndarray], np.ndarray], z: np.ndarray) -> np.ndarray:
    """(m, K, K) Jacobians of a row-wise f: J[i, j, k] = d f(z)[i, j] / d z[i, k]."""
    z = np.asarray(z, dtype=np.float64)
    m, k = z.shape
    h = steps(z)
    jac = np.empty((m, k, k))
    for col in range(k):
        up, down = z.copy(), z.copy()
        up[:, col] += h[:, col]
        down[:, col] -= h[:, col]
        jac[:, :, col] = (np.asarray(f(up)) - np.asarray(f(down))) / (up[:, col] - down[:, col])[:, None]
    return jac


def gradients(f: Callable[..., float], args: tuple, wrt: tuple[int, ...], scale: float = 1.0) -> tuple:
    """d f(*args) / d args[i] for every i in `wrt`, each by `gradient`."""

    def partial(i: int) -> Callable[[np.ndarray], float]:
        return lambda value: f(*args[:i], value, *args[i + 1:])

    return tuple(gradient(partial(i), args[i], scale) for i in wrt)


def agree(autograd: object, numeric: object, what: str) -> None:
    """Raise OracleDisagreement unless the two derivatives match (arrays, tuples or dicts of them)."""
    if isinstance(autograd, dict):
        for key in autograd:
            agree(autograd[key], numeric[key], f"{what}[{key}]")
        return
    if isinstance(autograd, (tuple, list)):
        for i, (a, n) in enumerate(zip(autograd, numeric, strict=True)):
            agree(a, n, f"{what}[{i}]")
        return
    a, n = np.asarray(autograd, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape or not np.all(np.abs(a - n) <= ATOL + RTOL * np.abs(a)):
        worst = float(np.max(np.abs(a - n))) if a.shape == n.shape else float("nan")
        raise OracleDisagreement(
            f"{what}: autograd and finite differences disagree (shapes {a.shape} and {n.shape}, "
            f"largest difference {worst:.3g})"
        )
