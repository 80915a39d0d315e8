"""Hypothesis strategies for drawn inputs, and a deterministic way to draw from them.

The runner calls each collected case directly (not through pytest's runtest hooks),
so `@given` cannot decorate a graded case. Instead `draw` runs hypothesis once, at
collection, on an inner function that only records what it is given: a fixed list
of inputs that every submission of the run then gets. With hypothesis's public
seeding (`hypothesis.seed`: the run's seed mixed with a name), the example database
off and only the generate phase, the same seed gives the same inputs in the same kit.

The strategies here are generic (arrays, logits, pairs...); a course builds its own
from them. Values are finite and bounded: each bound keeps the exact answer finite
and representable in float32, so a correct float32 implementation can meet the
float32 tolerance.
"""

from __future__ import annotations

import zlib
from typing import Any

import hypothesis
import numpy as np
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = st.sampled_from([np.dtype(np.float64), np.dtype(np.float32)])
SIDE = st.integers(1, 5)


def draw(strategy: st.SearchStrategy, count: int, seed: int, name: str) -> list[Any]:
    """`count` examples of `strategy`, the same ones for the same seed and name."""
    found: list[Any] = []

    @hypothesis.seed(seed ^ zlib.crc32(name.encode()))
    @hypothesis.settings(max_examples=count, database=None, phases=[Phase.generate], deadline=None,
                         suppress_health_check=list(HealthCheck), print_blob=False)
    @given(strategy)
    def record(example: Any) -> None:
        found.append(example)

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
def pairs(draw_: st.DrawFn, bound: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """(a, b): two arrays of one shape, such as a prediction and its target."""
    dtype = draw_(DTYPES)
    shape = (draw_(SIDE), draw_(st.integers(1, 3)))
    return draw_(arrays(dtype, shape, bound)), draw_(arrays(dtype, shape, bound))
