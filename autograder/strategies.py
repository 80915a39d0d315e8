"""Hypothesis strategies for drawn inputs, and a deterministic way to draw from them.

The runner calls each collected case directly (not through pytest's runtest hooks),
so `@given` cannot decorate a graded case. Instead `draw` runs hypothesis once, at
collection, on an inner function that only records what it is given: a fixed list
of inputs that every submission of the run then gets. With hypothesis's public
seeding (`hypothesis.seed`: the run's seed mixed with a name), the example database
off and only the generate phase, the same seed gives the same inputs in the same kit.

The strategies here are generic (arrays, logits, pairs...); a course builds its own
from them. They come by kind (`elementwise_kinds`, `logit_kinds`, `pair_kinds`: float64,
float32, a batch of one, K = 1, large values...): each kind of a function's inputs is graded
as a case of its own, named by its kind and never by what the seed drew, so that a student
learns what kind of input broke a function without its values (a kind's name in words is marked
N_: the case's label shows it in the language in use).

Values are finite and bounded: each bound keeps the exact answer finite and
representable in float32, so a correct float32 implementation can meet the float32
tolerance.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from typing import Any

import hypothesis
import numpy as np
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.i18n import N_

F64, F32 = np.dtype(np.float64), np.dtype(np.float32)
DTYPES = st.sampled_from([F64, F32])
#: A side of a drawn array, 2 to 5: a side of 1 is a kind of its own ("a batch of one", "K = 1"),
#: where a mistake such as a transpose or a missing 1/m can give the right answer by chance.
SIDE = st.integers(2, 5)
#: exp overflows float64 above this: logits beyond it need a shift before exp.
EXP_LIMIT = float(np.log(np.finfo(np.float64).max))


def dtypes(dtype: np.dtype | None = None) -> st.SearchStrategy:
    """`dtype`, or either float dtype when None."""
    return DTYPES if dtype is None else st.just(np.dtype(dtype))


def sides(fixed: int | None = None) -> st.SearchStrategy:
    """`fixed`, or a side from 2 to 5 (SIDE) when None."""
    return SIDE if fixed is None else st.just(fixed)


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


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Draw without the numbers hypothesis (6.131 on) finds in the source of the local modules
    loaded so far and mixes into its draws: with them, a seed draws other inputs in a process
    that has imported more code (a second run, a notebook's kernel), and `--seed` would not
    repeat a run. Where this hypothesis has no such constants, nothing changes."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:
        providers = None
    if providers is None or not hasattr(providers, "_get_local_constants"):
        yield
        return
    saved = providers._get_local_constants, providers.CONSTANTS_CACHE
    providers._get_local_constants, providers.CONSTANTS_CACHE = Constants, {}
    try:
        yield
    finally:
        providers._get_local_constants, providers.CONSTANTS_CACHE = saved


def floats(dtype: np.dtype, bound: float, least: float = 0.0) -> st.SearchStrategy:
    """Finite values in [-bound, bound], representable in `dtype`; at least `least` in magnitude."""
    width = 32 if dtype == np.float32 else 64
    if least > 0:
        return st.one_of(*(st.floats(low, high, allow_subnormal=False, width=width)
                           for low, high in ((-bound, -least), (least, bound))))
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=width)


def arrays(dtype: np.dtype, shape: tuple[int, ...], bound: float, least: float = 0.0) -> st.SearchStrategy:
    """Arrays whose elements are each drawn: no fill value repeated over most of the array, which
    would make W symmetric or a gradient constant by chance (hypothesis's first, simplest
    example is still all zeros)."""
    return hnp.arrays(dtype, shape, elements=floats(dtype, bound, least), fill=st.nothing())


@st.composite
def elementwise(draw_: st.DrawFn, bound: float, dtype: np.dtype | None = None, dims: int | None = None,
                least: float = 0.0) -> tuple[np.ndarray]:
    """(z,): a 1-D or 2-D array (`dims` of them if given) for an elementwise function, whose first
    element is negative (at most -1): every draw has a negative value, which a function that
    branches on the sign must meet."""
    dtype = draw_(dtypes(dtype))
    shape = draw_(hnp.array_shapes(min_dims=dims or 1, max_dims=dims or 2, min_side=2, max_side=5))
    z = draw_(arrays(dtype, shape, bound, least))
    z.flat[0] = -max(abs(z.flat[0]), min(1.0, bound))
    return (z,)


def elementwise_kinds(bound: float) -> dict[str, st.SearchStrategy]:
    """Inputs of an elementwise function by kind: values up to 10 in float64 (1-D or 2-D, or 1-D
    only), float32 values up to `bound`, and large float64 values (`bound` / 10 to `bound`)."""
    small = min(bound, 10.0)
    return {
        "float64": elementwise(small, F64),
        N_("a 1-D vector"): elementwise(small, F64, dims=1),
        "float32": elementwise(bound, F32),
        N_("large values"): elementwise(bound, F64, least=bound / 10),
    }


@st.composite
def logits(draw_: st.DrawFn, bound: float = 50.0, dtype: np.dtype | None = None, m: int | None = None,
           k: int | None = None) -> tuple[np.ndarray]:
    """(z,): (m, K) logits (`m` rows and `k` classes if given)."""
    dtype = draw_(dtypes(dtype))
    return (draw_(arrays(dtype, (draw_(sides(m)), draw_(sides(k))), bound)),)


@st.composite
def labelled_logits(draw_: st.DrawFn, bound: float = 50.0, dtype: np.dtype | None = None,
                    m: int | None = None, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(z, y): (m, K) logits and m integer labels."""
    (z,) = draw_(logits(bound, dtype, m, k))
    return z, draw_(labels(*z.shape))


@st.composite
def labels(draw_: st.DrawFn, rows: int, classes: int) -> np.ndarray:
    """`rows` int64 labels in [0, classes), not all the same where rows and classes allow (with
    one label for every row, picking p[:, y] instead of p[i, y[i]] makes no difference)."""
    drawn = draw_(st.lists(st.integers(0, classes - 1), min_size=rows, max_size=rows))
    if rows > 1 and classes > 1 and len(set(drawn)) == 1:
        drawn[-1] = (drawn[0] + 1) % classes
    return np.array(drawn, dtype=np.int64)


def logit_kinds(bound: float = 50.0, labelled: bool = False) -> dict[str, st.SearchStrategy]:
    """Logits (with labels if `labelled`) by kind: float64, a batch of one, one class, float32."""
    make = labelled_logits if labelled else logits
    return {
        "float64": make(bound, F64),
        N_("a batch of one"): make(bound, F64, m=1),
        N_("one class, K = 1"): make(bound, F64, k=1),
        "float32": make(bound, F32),
    }


@st.composite
def large_logits(draw_: st.DrawFn, bound: float = 1000.0) -> tuple[np.ndarray]:
    """(z,): float64 (m >= 2, K) logits up to `bound` (at least 800) in rows far apart: one row
    reaches beyond exp's range and every logit of another lies over 760 below it, so that exp
    overflows without a shift, and that row underflows to all zeros (exp(-746) is 0) when
    shifted by the maximum of the whole array."""
    m, k = draw_(SIDE), draw_(SIDE)
    spread = draw_(arrays(F64, (m, k), 10.0))
    top = draw_(st.floats(EXP_LIMIT + 20, bound - 10))
    low = draw_(st.floats(10 - bound, top - 780))
    rest = [draw_(st.floats(10 - bound, bound - 10)) for _ in range(m - 2)]
    offsets = np.array(draw_(st.permutations([top, low, *rest])))
    return (spread + offsets[:, None],)


@st.composite
def pairs(draw_: st.DrawFn, bound: float = 10.0, dtype: np.dtype | None = None, m: int | None = None,
          columns: tuple[int, int] = (1, 3)) -> tuple[np.ndarray, np.ndarray]:
    """(a, b): two arrays of one shape (m, n), n in `columns`, such as a prediction and its target."""
    dtype = draw_(dtypes(dtype))
    shape = (draw_(sides(m)), draw_(st.integers(*columns)))
    return draw_(arrays(dtype, shape, bound)), draw_(arrays(dtype, shape, bound))


def pair_kinds(bound: float = 10.0) -> dict[str, st.SearchStrategy]:
    """Pairs by kind: one output per row, several, and with several a batch of one and float32."""
    return {
        N_("one output per row"): pairs(bound, F64, columns=(1, 1)),
        N_("several outputs per row"): pairs(bound, F64, columns=(2, 3)),
        N_("a batch of one"): pairs(bound, F64, m=1, columns=(2, 3)),
        "float32": pairs(bound, F32, columns=(2, 3)),
    }
