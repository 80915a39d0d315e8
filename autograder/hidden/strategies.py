"""Hypothesis strategies for the property cases, and a deterministic way to draw from them.

The runner calls each collected test function directly (not through pytest's
runtest hooks), so `@given` cannot decorate a graded test. Instead `draw` runs
hypothesis once, at collection, on an inner function that only records what it
is given: a fixed list of inputs that every submission of the run then gets.
The list is deterministic: `hypothesis.seed` takes the settings' seed mixed with
the family's name, the example database is off, only the generate phase runs and
hypothesis's pool of constants from local modules is left out, so the same seed
(and hypothesis version) gives the same inputs, whatever the working directory.

Values are finite and bounded per family: each bound keeps the exact answer
finite and representable in float32 (softmax probabilities >= e^-40, losses of
moderate size), so a correct float32 implementation can meet the float32 tolerance.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from typing import Any
from unittest import mock

import hypothesis
import numpy as np
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.internal.conjecture import providers

from autograder import oracle

DTYPES = st.sampled_from([np.dtype(np.float64), np.dtype(np.float32)])
SIDE = st.integers(1, 5)


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Keep hypothesis from mixing in constants found in the loaded local modules.

    Hypothesis (>= 6.131) sometimes draws a literal from the source of the modules
    imported from the working directory: the inputs would then depend on the
    folder the grader runs in and on what else is imported. Without that pool
    they depend only on the seed (and the hypothesis version).
    """
    empty = getattr(providers, "Constants", None)
    if empty is None or not hasattr(providers, "_get_local_constants"):
        yield
        return
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", {})
    cache.clear()
    with mock.patch.object(providers, "_get_local_constants", empty):
        try:
            yield
        finally:
            cache.clear()


def draw(strategy: st.SearchStrategy, count: int, seed: int, name: str) -> list[Any]:
    """`count` examples of `strategy`, the same ones for the same seed and name."""
    found: list[Any] = []

    @hypothesis.seed(seed ^ zlib.crc32(name.encode()))
    @hypothesis.settings(max_examples=count, database=None, phases=[Phase.generate], deadline=None,
                         suppress_health_check=list(HealthCheck), print_blob=False)
    @given(strategy)
    def record(example: Any) -> None:
        found.append(example)

    with _no_local_constants():
        record()
    return found[:count]


def floats(dtype: np.dtype, bound: float) -> st.SearchStrategy:
    """Finite values in [-bound, bound], representable in `dtype`."""
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=32 if dtype == np.float32 else 64)


def arrays(dtype: np.dtype, shape: tuple[int, ...], bound: float) -> st.SearchStrategy:
    return hnp.arrays(dtype, shape, elements=floats(dtype, bound))


@st.composite
def elementwise(draw_: st.DrawFn, bound: float) -> tuple[np.ndarray]:
    """(z,): a 1-D or 2-D array for an elementwise function."""
    dtype = draw_(DTYPES)
    shape = draw_(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5))
    return (draw_(arrays(dtype, shape, bound)),)


@st.composite
def logits(draw_: st.DrawFn, bound: float = 50.0) -> tuple[np.ndarray]:
    """(z,): (m, K) logits."""
    dtype = draw_(DTYPES)
    return (draw_(arrays(dtype, (draw_(SIDE), draw_(SIDE)), bound)),)


@st.composite
def labelled_logits(draw_: st.DrawFn, bound: float = 50.0) -> tuple[np.ndarray, np.ndarray]:
    """(z, y): (m, K) logits and m integer labels."""
    (z,) = draw_(logits(bound))
    m, k = z.shape
    return z, np.array(draw_(st.lists(st.integers(0, k - 1), min_size=m, max_size=m)), dtype=np.int64)


@st.composite
def probabilities(draw_: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(p, y): rows of softmax(z) for z in [-20, 20] (so p >= e^-40), and labels."""
    z, y = draw_(labelled_logits(20.0))
    return oracle.softmax(z).astype(z.dtype), y


@st.composite
def pairs(draw_: st.DrawFn, bound: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """(y_hat, y): two arrays of one shape, for the MSE."""
    dtype = draw_(DTYPES)
    shape = (draw_(SIDE), draw_(st.integers(1, 3)))
    return draw_(arrays(dtype, shape, bound)), draw_(arrays(dtype, shape, bound))


@st.composite
def layer(draw_: st.DrawFn, bound: float = 2.0) -> tuple[np.ndarray, ...]:
    """(x, W, b, grad_z) of a linear layer: m, n_in, n_out in 1..5."""
    dtype = draw_(DTYPES)
    m, n_in, n_out = draw_(SIDE), draw_(SIDE), draw_(SIDE)
    shapes = ((m, n_in), (n_out, n_in), (n_out,), (m, n_out))
    return tuple(draw_(arrays(dtype, shape, bound)) for shape in shapes)


@st.composite
def classifier(draw_: st.DrawFn, bound: float = 2.0) -> tuple[np.ndarray, ...]:
    """(x, y, W, b) of the linear-softmax classifier."""
    x, W, b, _ = draw_(layer(bound))
    labels = st.lists(st.integers(0, W.shape[0] - 1), min_size=len(x), max_size=len(x))
    return x, np.array(draw_(labels), dtype=np.int64), W, b


XOR_SHAPES = {"W1": (3, 2), "b1": (3,), "W2": (1, 3), "b2": (1,)}


@st.composite
def xor_params(draw_: st.DrawFn, bound: float = 3.0) -> dict[str, np.ndarray]:
    return {k: draw_(arrays(np.dtype(np.float64), s, bound)) for k, s in XOR_SHAPES.items()}


@st.composite
def xor_batch(draw_: st.DrawFn) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(X, y, params): m inputs of the 2-3-1 network, targets in [0, 1]."""
    m = draw_(SIDE)
    X = draw_(arrays(np.dtype(np.float64), (m, 2), 2.0))
    y = draw_(hnp.arrays(np.float64, (m, 1), elements=st.floats(0, 1)))
    return X, y, draw_(xor_params())


@st.composite
def sgd(draw_: st.DrawFn) -> tuple[dict, dict, float]:
    """(params, grads, lr)."""
    return draw_(xor_params()), draw_(xor_params()), draw_(st.floats(0.0, 5.0))
