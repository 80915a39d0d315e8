"""What a graded case is made of: the `graded` marker, the student proxy, and array checks.

Hidden and public cases are pytest test functions:

    @graded("shapes.area", weight=2, hidden=False)
    def test_area_small(student):
        \"\"\"the area of a 2 x 3 rectangle\"\"\"
        check_array(student.shapes.area(np.array([2.0]), np.array([3.0])), [6.0])

`student.<module>.<function>(...)` runs the submission's function in its sandboxed
child and returns plain arrays; `check_array` decides pass or fail here, in the
trusted process, and explains a failure (shapes, dtypes, largest error, and a
hint when the output matches a known mistake).
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from autograder import course as courses
from autograder.config import Settings, Tolerance
from autograder.i18n import N_, gettext, ngettext, translated

#: The hint of a failure no known mistake explains whose result is not finite where the truth is.
NOT_FINITE = N_("the result contains inf or NaN where the true value is finite: did an exp overflow, "
                "a 0/0 follow an underflow, or a log get a number <= 0?")
#: The hints of an input modified in place and of a warning.
MODIFIED = N_("an input was modified in place: work on a copy (x = x.copy()) or build new arrays")
WARNED = N_("a warning means an intermediate overflowed or divided by zero: use a numerically stable form")

graded_marker = pytest.mark.graded


def graded(function: str, *, weight: float = 1.0, hidden: bool = True) -> pytest.MarkDecorator:
    """Mark a test as grading `function` ("module.name"), with its share of the points."""
    return graded_marker(function=function, weight=weight, hidden=hidden)


def public(function: str, *, weight: float = 1.0) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark a test as a public case of `function` (shipped to students, run by `autograder
    check`) in which every call of the submission must leave its inputs unchanged and raise
    no warning: what grading checks where it looks, checked here on every call, so that a
    public case passes nothing that grading docks for those reasons. A modified input fails
    at once; a warning once the case's own checks pass (a wrong value says more)."""

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(test)
        def strict_test(student: Student, **params: Any) -> None:
            strict = student.strictly()
            test(strict, **params)
            _fail_on_warnings(strict.raised, gettext("a call raised a warning: {warning}"))

        return graded(function, weight=weight, hidden=False)(strict_test)

    return decorate


_SEED = [0]  # the grading run's seed, set by the collector before the cases are imported


def use_seed(seed: int) -> None:
    """Draw the cases' inputs with `seed` (the runner calls this before collecting)."""
    _SEED[0] = seed


def current_seed() -> int:
    """The seed the cases being collected draw their inputs with."""
    return _SEED[0]


def rng(name: str) -> np.random.Generator:
    """A generator seeded by the run's seed and a case family's name: same seed, same inputs."""
    return np.random.default_rng([current_seed(), zlib.crc32(name.encode())])


class CaseFailure(AssertionError):
    """A failed check, with structured details for the report.

    `kind` names what failed: "value" (a wrong number), "shape", "type" (not an array,
    a wrong container), "modified" (an input changed in place), "warning"."""

    def __init__(self, message: str, *, kind: str = "value",
                 arrays: tuple[np.ndarray, np.ndarray] | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.details = details
        self.arrays = arrays  # (expected, received) of a value mismatch: for a plot, not for JSON


class Call:
    """A bound student function: calling it returns the value and records side facts."""

    def __init__(self, student: Student, function: str) -> None:
        self.student, self.function = student, function

    def __call__(self, *args: Any) -> Any:
        return self.student.call(self.function, *args)


class _Module:
    def __init__(self, student: Student, module: str) -> None:
        self._student, self._module = student, module

    def __getattr__(self, name: str) -> Call:
        return Call(self._student, f"{self._module}.{name}")


class Student:
    """The submission as the cases see it. `run(function, args)` does the real work and returns
    an `Answer`.

    After each call, `modified` says which arguments the call changed in place (seen by the
    grader in its shared memory) and `warnings` lists the warnings it raised. A `strict`
    student fails a call that modified an input, and keeps in `raised` the warnings of every
    call (see `public`).
    """

    def __init__(self, run: Callable[[str, tuple], Any], settings: Settings, *, strict: bool = False) -> None:
        self._run = run
        self.settings = settings
        self.strict = strict
        self.modified: list[bool] = []
        self.warnings: list[str] = []
        self.raised: list[str] = []

    def call(self, function: str, *args: Any) -> Any:
        answer = self._run(function, args)
        self.modified = list(answer.modified)
        self.warnings = list(answer.warnings)
        if self.strict:
            check_unchanged(self, _parameters(function, len(args)))
            self.raised += self.warnings
        return answer.value

    def strictly(self) -> Student:
        """The same submission, seen through a strict student."""
        return Student(self._run, self.settings, strict=True)

    def __getattr__(self, module: str) -> _Module:
        if module.startswith("_"):
            raise AttributeError(module)
        return _Module(self, module)


def _shape(value: Any) -> str:
    return str(tuple(value.shape)) if isinstance(value, np.ndarray) else type(value).__name__


def as_float_array(got: Any, what: str) -> np.ndarray:
    """`got` (an array, a number, or a list of numbers) as a float64 array; CaseFailure if it
    is none of those. For values a case reads before it can compare them."""
    if isinstance(got, np.ndarray) and got.dtype.kind in "biuf":
        return got.astype(np.float64)
    try:
        array = np.asarray(got, dtype=np.float64) if isinstance(got, (list, tuple, int, float)) else None
    except (TypeError, ValueError, OverflowError):
        array = None
    if array is None or isinstance(got, bool):
        text = gettext("{what}: expected numbers, got {got}")
        raise CaseFailure(text.format(what=what, got=_describe(got)), kind="type")
    return array


def as_array(got: Any, what: str, expected: np.ndarray) -> np.ndarray:
    """`got` as an ndarray, accepting a Python number where a scalar is expected."""
    if isinstance(got, np.ndarray):
        return got
    if isinstance(got, np.generic):  # what the wire makes a 0-d array; kept for in-process use
        return np.asarray(got)
    if isinstance(got, (int, float)) and not isinstance(got, bool) and expected.ndim == 0:
        return np.asarray(got, dtype=np.float64)
    text = gettext("{what}: expected an array of shape {shape}, got {got}")
    raise CaseFailure(
        text.format(what=what, shape=tuple(expected.shape), got=_describe(got)), kind="type",
        expected_shape=tuple(expected.shape), got_type=_describe(got),
    )


def _describe(value: Any) -> str:
    """What a value that is not an array is, in words."""
    if value is None:
        return gettext("None (is a return statement missing?)")
    if isinstance(value, (tuple, list)):
        return ngettext("a {type} of {count} item", "a {type} of {count} items", len(value)).format(
            type=type(value).__name__, count=len(value))
    return gettext("a {type}").format(type=type(value).__name__)


def close(got: np.ndarray, expected: np.ndarray, tol: Tolerance) -> bool:
    """Elementwise |got - expected| <= atol + rtol |expected|, NaN never close, same shape."""
    if got.shape != expected.shape:
        return False
    if got.dtype != np.float64:
        got = got.astype(np.complex128 if got.dtype.kind == "c" else np.float64)
    with np.errstate(all="ignore"):
        return bool((np.abs(got - expected) <= tol.atol + tol.rtol * np.abs(expected)).all())


def reproduces(got: np.ndarray, wrong: np.ndarray, tol: Tolerance) -> bool:
    """Whether `got` is a known mistake's output `wrong`: the same shape, NaN and infinities
    exactly where `wrong` has them, close elsewhere. An output with no finite value reproduces
    nothing: all NaN does not tell one mistake from another."""
    finite = np.isfinite(wrong)
    if wrong.shape != got.shape or not finite.any():
        return False
    got = got.astype(np.complex128 if got.dtype.kind == "c" else np.float64)
    if not np.array_equal(np.where(finite, 0, wrong), np.where(finite, 0, got), equal_nan=True):
        return False
    return close(got[finite], wrong[finite], tol)


def matching_mistake(got: np.ndarray, mistakes: Mapping[str, Any], tol: Tolerance,
                     expected: np.ndarray | None = None) -> str | None:
    """The hint of the known mistake whose output `got` reproduces, if any; the hints of all of
    them, joined by "; or: ", where these inputs give several the same output (dividing by the
    rows or by nothing, in a batch of one). In the language in use: each hint translated (as
    `i18n.translated` does), and the joiner too.

    A mistake whose output equals `expected` on these inputs (m / m with m = 1, a
    transpose of a symmetric array) cannot be told from a right answer: it never fires.
    """
    found = []
    for hint, wrong in mistakes.items():
        wrong = np.asarray(wrong, dtype=np.float64)
        if expected is not None and close(wrong, expected, tol):
            continue
        if reproduces(got, wrong, tol) and hint not in found:
            found.append(hint)
    # Translators: joins the hints of several known mistakes that these inputs cannot tell apart
    return gettext("; or: ").join(translated(hint) for hint in found) or None


def error_summary(got: np.ndarray, expected: np.ndarray) -> dict[str, Any]:
    """Largest absolute and relative error, and where the absolute one is."""
    with np.errstate(all="ignore"):
        diff = np.abs(got.astype(np.float64) - expected)
        diff = np.where(np.isnan(diff), np.inf, diff)
        worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
        rel = diff / np.maximum(np.abs(expected), 1e-300)
    return {
        "max_abs_error": float(diff.max()) if diff.size else 0.0,
        "max_rel_error": float(rel.max()) if rel.size else 0.0,
        "worst_index": tuple(int(i) for i in worst),
        "expected_at_worst": float(expected[worst]) if diff.size else None,
        "got_at_worst": float(np.real(got[worst])) if diff.size else None,
    }


def check_array(got: Any, expected: Any, *, what: str | None = None, tol: Tolerance | None = None,
                settings: Settings | None = None, dtype: Any = None,
                mistakes: Mapping[str, Any] | None = None) -> np.ndarray:
    """Fail unless `got` matches `expected` in shape and values (within the tolerance).

    `what` names the value in the failure's message (default: "output", in the language in use).
    `tol` defaults to the settings' tolerance for `dtype` (the inputs' dtype).
    `mistakes` maps a hint (marked N_, or made by `i18n.later`) to the output a known mistake would give;
    a failure's hint is in the language in use.
    """
    expected = np.asarray(expected, dtype=np.float64)
    if tol is None:
        if settings is None:
            raise TypeError("check_array needs tol or settings")
        tol = settings.tolerance(dtype if dtype is not None else np.float64)
    if type(got) is np.ndarray and got.dtype.kind in "biufc" and close(got, expected, tol):
        return got  # the common case, before any text is made
    what = what or gettext("output")
    got = as_array(got, what, expected)
    if got.dtype.kind in "biufc" and close(got, expected, tol):
        return got
    base = {"expected_shape": tuple(expected.shape), "got_shape": tuple(got.shape),
            "got_dtype": str(got.dtype), "what": what}
    if got.dtype.kind not in "biufc":
        text = gettext("{what}: dtype {dtype} is not numeric")
        raise CaseFailure(text.format(what=what, dtype=got.dtype), kind="type", **base)
    if got.shape != expected.shape:
        hint = matching_mistake(got, mistakes or {}, tol, expected)
        text = gettext("{what}: expected shape {expected}, got {got}")
        raise CaseFailure(
            text.format(what=what, expected=tuple(expected.shape), got=tuple(got.shape)), kind="shape",
            hint=hint, **base,
        )
    summary = error_summary(got, expected)
    hint = matching_mistake(got, mistakes or {}, tol, expected)
    if hint is None and not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
        hint = gettext(NOT_FINITE)
    index = summary["worst_index"]
    text = gettext("{what}: largest error {error} at index {index} (expected {expected}, got {got}; "
                   "tolerance {tolerance})")
    raise CaseFailure(
        text.format(what=what, error=f"{summary['max_abs_error']:.3g}", index=list(index),
                    expected=f"{summary['expected_at_worst']:.6g}", got=f"{summary['got_at_worst']:.6g}",
                    tolerance=f"rtol={tol.rtol:g}, atol={tol.atol:g}"),
        arrays=(expected, got), hint=hint, **base, **summary,
    )


def _parameters(function: str, count: int) -> tuple[str, ...]:
    """The names of `function`'s first `count` parameters (positions, if it is not the course's)."""
    try:
        return courses.load().function(function).params[:count]
    except KeyError:
        return tuple(gettext("argument {number}").format(number=i + 1) for i in range(count))


def check_unchanged(student: Student, names: tuple[str, ...]) -> None:
    """Fail if the last call modified any of its arguments in place."""
    changed = [n for n, flag in zip(names, student.modified, strict=False) if flag]
    if changed:
        raise CaseFailure(
            gettext("the call modified its input {inputs} in place").format(inputs=", ".join(changed)),
            kind="modified",
            hint=gettext(MODIFIED),
        )


def check_no_warnings(student: Student) -> None:
    """Fail if the last call raised warnings (overflow in exp, division by zero, ...)."""
    _fail_on_warnings(student.warnings, gettext("the call raised a warning: {warning}"))


def _fail_on_warnings(warnings: list[str], text: str) -> None:
    """Fail if `warnings` is not empty, with `text` ("the call raised a warning: {warning}", or "a call
    ...") about the first."""
    if warnings:
        raise CaseFailure(
            text.format(warning=warnings[0]), kind="warning",
            hint=gettext(WARNED),
        )


class Case:
    """One set of inputs with its expected output, named for the report.

    `args` go to the student function in order; `expected` comes from the oracle,
    computed once per run when the case is built; `mistakes` maps hints to the
    outputs of known mistakes; `dtype` picks the tolerance.
    """

    def __init__(self, label: str, args: tuple, expected: Any, *, dtype: Any = np.float64,
                 mistakes: Mapping[str, Any] | None = None, names: tuple[str, ...] = ()) -> None:
        self.label = label
        self.args = args
        self.expected = expected
        self.dtype = np.dtype(dtype)
        self.mistakes = dict(mistakes or {})
        self.names = names

    def __str__(self) -> str:
        return self.label

    def run(self, student: Student, function: str) -> np.ndarray:
        """The usual case: call `function` on the inputs, which must stay unchanged, and check."""
        got = student.call(function, *self.args)
        check_unchanged(student, self.names or courses.load().function(function).params)
        return self.check(student, got)

    def check(self, student: Student, got: Any, *, expected: Any = None, what: str | None = None,
              mistakes: Mapping[str, Any] | None = None) -> np.ndarray:
        """check_array with this case's tolerance, expectation and known mistakes."""
        return check_array(
            got, self.expected if expected is None else expected, what=what,
            settings=student.settings, dtype=self.dtype,
            mistakes=self.mistakes if mistakes is None else mistakes,
        )


def shape_label(**dims: int) -> str:
    """A readable case label such as "m=4, n_in=3"."""
    return ", ".join(f"{k}={v}" for k, v in dims.items())
