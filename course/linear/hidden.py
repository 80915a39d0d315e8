"""Hidden cases for linear.py: forward against F.linear, backward against autograd VJPs."""

import numpy as np
import pytest
from hypothesis import strategies as hs

from autograder import finite_diff as fd
from autograder import strategies as st
from autograder.casekit import Case, CaseFailure, check_unchanged, graded, rng, shape_label
from autograder.i18n import N_, gettext, ngettext
from autograder.properties import Family, graded_properties
from course.linear import oracle
from course.linear.public import AVERAGED_B, NO_BIAS, TRANSPOSED_W

R = rng("linear")
# (m, n_in, n_out): a batch of one, square and non-square W, a wide layer, and all three
# equal, where an elementwise * broadcasts and so can be told apart from @ by its value
SHAPES = [(1, 3, 2), (4, 3, 3), (5, 2, 4), (7, 6, 1), (3, 3, 3)]


def _times(a, b):
    """a * b, or None where the shapes do not broadcast."""
    try:
        return a * b
    except ValueError:
        return None


def _layers():
    """(label, x, W, b, dtype) for every shape, plus a float32 layer."""
    for m, n_in, n_out, dtype in [*((*dims, np.float64) for dims in SHAPES), (3, 4, 2, np.float32)]:
        x, W, b = R.normal(size=(m, n_in)), R.normal(size=(n_out, n_in)), R.normal(size=n_out)
        label = shape_label(m=m, n_in=n_in, n_out=n_out) + f", {np.dtype(dtype).name}"
        yield label, x.astype(dtype), W.astype(dtype), b.astype(dtype), dtype


def _forward_mistakes(x, W, b):
    mistakes = {NO_BIAS: x @ W.T}
    if x.shape[1] == W.shape[0]:
        mistakes[N_("W was used without its transpose: z = x @ W.T + b (W is (n_out, n_in))")] = x @ W + b
    if _times(x, W.T) is not None:
        mistakes[N_("elementwise * was used where a matrix product @ was needed: z = x @ W.T + b")] = (
            _times(x, W.T) + b)
    return mistakes


def _forward_cases():
    return [
        Case(label, (x, W, b), oracle.linear(x, W, b), dtype=dtype, mistakes=_forward_mistakes(x, W, b),
             names=("x", "W", "b"))
        for label, x, W, b, dtype in _layers()
    ]


def _backward_cases():
    cases = []
    for label, x, W, b, dtype in _layers():
        grad_z = R.normal(size=(x.shape[0], W.shape[0])).astype(dtype)
        expected = oracle.linear_backward(x, W, b, grad_z)
        cases.append(Case(label, (x, W, b, grad_z), expected, dtype=dtype, names=("x", "W", "b", "grad_z"),
                          mistakes=_backward_mistakes(x, W, grad_z, expected)))
    return cases


@graded("linear.linear", weight=1)
@pytest.mark.parametrize("case", _forward_cases(), ids=str)
def test_linear(student, case):
    """z = x @ W.T + b, compared with torch.nn.functional.linear"""
    case.run(student, "linear.linear")


def _backward_mistakes(x, W, grad_z, expected):
    """Per output, the outputs of its known mistakes (those the shapes allow)."""
    grad_x, grad_W, grad_b = expected
    m = x.shape[0]
    mistakes = {
        "grad_x": {
            N_("grad_x must be grad_z @ W (shape of x)"): grad_z @ W.T if W.shape[0] == W.shape[1] else None,
            N_("elementwise * was used where a matrix product @ was needed: grad_x = grad_z @ W"):
            _times(grad_z, W),
        },
        "grad_W": {
            N_("elementwise * was used where a matrix product @ was needed: grad_W = grad_z.T @ x"):
            _times(grad_z.T, x),
            TRANSPOSED_W: grad_W.T,
            N_("dL/dW was divided by m: the mean already happened in the loss"): grad_W / m,
            N_("dL/dW is m times too large"): grad_W * m,
        },
        "grad_b": {
            AVERAGED_B: grad_b / m,
            N_("dL/db was summed over the wrong axis: sum grad_z over the examples (axis 0)"):
            grad_z.sum(axis=1),
        },
    }
    return {name: {k: v for k, v in hints.items() if v is not None} for name, hints in mistakes.items()}


@graded("linear.linear_backward", weight=1)
@pytest.mark.parametrize("case", _backward_cases(), ids=str)
def test_linear_backward(student, case):
    """(dL/dx, dL/dW, dL/db) compared with torch.autograd's vector-Jacobian products"""
    got = student.linear.linear_backward(*case.args)
    check_unchanged(student, case.names)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise CaseFailure(_not_three(got), kind="type")
    for name, value, expected in zip(("grad_x", "grad_W", "grad_b"), got, case.expected, strict=True):
        case.check(student, value, expected=expected, what=name, mistakes=case.mistakes[name])


def _not_three(got):
    """What a result that is not the three gradients is, in the language in use."""
    kind = type(got).__name__
    if not isinstance(got, (tuple, list)):
        return gettext("expected a tuple (grad_x, grad_W, grad_b), got {type}").format(type=kind)
    return ngettext("expected a tuple (grad_x, grad_W, grad_b), got {type} of {count} item",
                    "expected a tuple (grad_x, grad_W, grad_b), got {type} of {count} items",
                    len(got)).format(type=kind, count=len(got))


@hs.composite
def layer(draw, bound: float = 2.0, dtype: np.dtype | None = None, m: int | None = None,
          n_in: int | None = None, n_out: int | None = None) -> tuple[np.ndarray, ...]:
    """(x, W, b, grad_z) of a linear layer: m, n_in, n_out in 2..5 unless given."""
    dtype = draw(st.dtypes(dtype))
    m, n_in, n_out = draw(st.sides(m)), draw(st.sides(n_in)), draw(st.sides(n_out))
    shapes = ((m, n_in), (n_out, n_in), (n_out,), (m, n_out))
    return tuple(draw(st.arrays(dtype, shape, bound)) for shape in shapes)


#: Linear layers by kind of input (network.py's classifier draws its own from `layer`).
LAYERS = {
    "float64": layer(dtype=st.F64),
    N_("a batch of one"): layer(dtype=st.F64, m=1),
    N_("one input feature, n_in = 1"): layer(dtype=st.F64, n_in=1),
    N_("one output, n_out = 1"): layer(dtype=st.F64, n_out=1),
    "float32": layer(dtype=st.F32),
}


def _backward_numeric(x, W, b, grad_z):
    def loss(x_, W_, b_):
        return float((oracle.linear(x_, W_, b_) * grad_z).sum())

    return fd.gradients(loss, (x, W, b), (0, 1, 2))


def _drawn_backward_mistakes(x, W, b, grad_z):
    return _backward_mistakes(x, W, grad_z, oracle.linear_backward(x, W, b, grad_z))


ZEROS = (np.zeros((2, 3)), np.zeros((2, 3)), np.zeros(2), np.ones((2, 2)))
test_properties = graded_properties([
    Family("linear.linear", LAYERS, lambda x, W, b, g: oracle.linear(x, W, b), ("x", "W", "b", "grad_z"),
           take=(0, 1, 2), mistakes=_forward_mistakes),
    Family("linear.linear_backward", LAYERS, oracle.linear_backward, ("x", "W", "b", "grad_z"),
           numeric=_backward_numeric, outputs=("grad_x", "grad_W", "grad_b"),
           edges={N_("zero inputs and weights"): ZEROS},
           mistakes=_drawn_backward_mistakes),
])
