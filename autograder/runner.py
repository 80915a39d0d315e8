"""Collect the graded cases once per run, then grade each submission against them.

Collection uses pytest itself (so the cases are ordinary test functions with
markers and parametrisation), but each case is then called directly with a
`Student` proxy: the suite is collected once, not once per submission.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from autograder import casekit, chain
from autograder import course as courses
from autograder.callplan import Plan
from autograder.casekit import CaseFailure, Student
from autograder.config import Settings
from autograder.i18n import gettext, language, pinned, translated
from autograder.intake import Submission
from autograder.results import CaseResult, SubmissionResult
from autograder.sandbox.protocol import Answer, Process, StudentError
from autograder.sandbox.session import Sandbox, SandboxUnavailable

PACKAGE = Path(__file__).resolve().parent
#: Calls of one function kept for the course's figures (the first ones): enough to pick from, bounded.
MAX_CALLS = 8


#: pytest's built-in plugins that collection does not need; unraisableexception alone
#: runs gc.collect() five times at exit (0.2-0.4 s).
UNUSED_PLUGINS = ("cacheprovider", "unraisableexception", "threadexception", "faulthandler", "logging",
                  "doctest", "junitxml", "pastebin", "stepwise", "debugging")


class CollectionError(RuntimeError):
    """The case files could not be collected (a bug in the suite, not in a submission)."""


@dataclass(frozen=True)
class GradedCase:
    """One collected case: which function it grades, its weight, and how to run it."""

    function: str
    label: str
    checked: str
    weight: float
    hidden: bool
    run: Callable[[Student], None]


class _Collector:
    def __init__(self) -> None:
        self.items: list[pytest.Item] = []
        self.errors: list[str] = []

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.items = list(items)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(str(report.longrepr)[-2000:])


def headline(doc: str) -> str:
    """What a case checks: the first line of its docstring (the course's catalog holds these)."""
    return doc.strip().splitlines()[0]


def _to_case(item: pytest.Item) -> GradedCase:
    marker = item.get_closest_marker("graded")
    if marker is None:
        raise CollectionError(f"{item.nodeid} has no @graded marker")
    function = marker.kwargs["function"]
    if function not in courses.load().functions:
        raise CollectionError(f"{item.nodeid} grades {function}, which is not an exercise function")
    params = dict(getattr(item, "callspec", None).params) if hasattr(item, "callspec") else {}
    extra = set(item.fixturenames) - {"student"} - set(params) - {"request"}
    if extra:
        raise CollectionError(f"{item.nodeid} uses fixtures the grader does not provide: {extra}")
    test = item.function
    doc = gettext(headline(test.__doc__ or test.__name__))
    # a label marked N_() (or made by i18n.later) where the course writes it is translated here
    # (pytest's ids stay English)
    label = translated(str(item.callspec.id)) if hasattr(item, "callspec") else doc

    def run(student: Student, _test=test, _params=params) -> None:
        _test(student=student, **_params)

    return GradedCase(function, label, doc, float(marker.kwargs.get("weight", 1.0)),
                      bool(marker.kwargs.get("hidden", True)), run)


def collect(files: list[Path], seed: int = 0) -> list[GradedCase]:
    """Collect the cases of the case `files` (a course's public.py and hidden.py) with pytest,
    quietly, their inputs drawn with `seed`; raise CollectionError on failure."""
    casekit.use_seed(seed)
    _forget_cases_of_another_seed(files, seed)
    course = courses.load()
    course.importable()  # the cases import their course's modules
    collector = _Collector()
    args = [str(f) for f in files] + [
        "--collect-only", "-q", "--rootdir", str(course.root), "-c", os.devnull, "-W", "ignore",
        "--assert=plain",  # cases raise CaseFailure; rewriting asserts would only cost time
    ] + [arg for plugin in UNUSED_PLUGINS for arg in ("-p", f"no:{plugin}")]
    autoload = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # third-party plugins only cost time here
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = pytest.main(args, plugins=[collector])
    finally:
        if autoload is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = autoload
    if collector.errors or code not in (0, pytest.ExitCode.OK):
        raise CollectionError("could not collect the graded cases:\n" + "\n".join(collector.errors))
    cases = [_to_case(item) for item in collector.items]
    # public cases first: whatever the child prints or raises before it has seen a hidden
    # input may be shown to the student, nothing after
    return sorted(cases, key=lambda case: case.hidden)


_COLLECTED_WITH: dict[Path, int] = {}  # case file -> the seed its module drew its inputs with


def _forget_cases_of_another_seed(files: list[Path], seed: int) -> None:
    """Case modules build their inputs when imported: those last collected under another seed
    are dropped from sys.modules, so that pytest imports them afresh."""
    stale = {f for f in (Path(f).resolve() for f in files) if _COLLECTED_WITH.get(f, seed) != seed}
    for name, module in list(sys.modules.items()) if stale else []:  # thousands, with torch
        path = getattr(module, "__file__", None)
        if path and Path(path).resolve() in stale:
            del sys.modules[name]
    _COLLECTED_WITH.update({Path(f).resolve(): seed for f in files})


def case_points(cases: list[GradedCase], settings: Settings) -> list[float]:
    """Each case's share of its function's points, in proportion to its weight, scaled to the
    course's declared total if it declares one."""
    totals: dict[str, float] = {}
    for case in cases:
        totals[case.function] = totals.get(case.function, 0.0) + case.weight
    scale = settings.scale()
    return [settings.points[c.function] * scale * c.weight / totals[c.function] for c in cases]


def fresh_seed() -> int:
    """A seed for a grading run's hidden inputs: new every run unless one is asked for."""
    return secrets.randbelow(1 << 31)


@dataclass(frozen=True)
class Suite:
    """What every submission of a run is graded against, prepared once: the cases (public ones
    first), each case's points, the seed the hidden inputs were drawn with, and the calls the
    cases make (recorded against the oracle by `batch`; without them every call is live)."""

    cases: tuple[GradedCase, ...]
    points: tuple[float, ...]
    seed: int = 0
    plan: Plan = Plan()
    key: str = ""  # a hash of the settings and the grader's code: what a result was graded by
    recorded: frozenset[str] = frozenset()  # functions whose public calls the course's figures draw
    # The torch reference's values, to grade each function on its own (`chain`); None: the
    # chain is graded as a whole (public cases alone: a student's machine has no reference).
    reference: chain.ReferenceValues | None = None

    @classmethod
    def prepare(cls, kinds: tuple[str, ...], settings: Settings, seed: int | None = None) -> Suite:
        """Collect the course's cases of `kinds` ("public", "hidden"); `seed` (else the
        settings', else a fresh one)."""
        seed = seed if seed is not None else settings.seed if settings.seed is not None else fresh_seed()
        course = courses.load()
        cases = collect(course.case_files(*kinds), seed)
        each_alone = "hidden" in kinds and settings.each_function_alone
        reference = chain.ReferenceValues(course.oracle) if each_alone else None
        return cls(tuple(cases), tuple(case_points(cases, settings)), seed, key=grading_key(settings),
                   reference=reference)

    def of(self, function: str) -> Suite:
        """The cases of one function only (a notebook's test cell)."""
        chosen = [i for i, case in enumerate(self.cases) if case.function == function]
        return replace(self, cases=tuple(self.cases[i] for i in chosen),
                       points=tuple(self.points[i] for i in chosen), plan=Plan(), recorded=frozenset())

    def digest(self, submission: Submission) -> str:
        """What a result of `submission` graded by this suite is keyed on: its files, the
        settings and the grader's code (not the seed: a re-run draws new inputs anyway)."""
        return hashlib.sha256(f"{self.key}:{submission.digest}".encode()).hexdigest()


def grading_key(settings: Settings) -> str:
    """A hash of the settings, of the language and of the grader's own files: the engine and the
    course's cases, oracles, settings and catalogs (not the reference: students never run against
    it). A result's words are in the language it was graded in: another language grades again."""
    digest = hashlib.sha256(f"{replace(settings, seed=None, warnings=())!r}:{language()}".encode())
    for base in (PACKAGE, courses.load().folder):
        for path in sorted([*base.rglob("*.py"), *base.rglob("*.toml"), *base.rglob("*.po")]):
            digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class Calls:
    """Runs calls for one submission: unusable modules, the time budget, then the sandbox
    (answered from the case's streamed batch where the call is a planned one)."""

    def __init__(self, process: Process, settings: Settings, record: dict | None = None,
                 recorded: frozenset[str] = frozenset()) -> None:
        self.process, self.settings = process, settings
        self.deadline = time.monotonic() + settings.submission_timeout
        self.record, self.recorded = record, recorded
        self.hidden = False
        process.timeout_of = self._timeout_of

    def enter_hidden(self) -> None:
        """From now on nothing the calls return or print may be shown to the student."""
        if not self.hidden:
            self.process.enter_hidden()
            self.hidden = True

    def _timeout_of(self, function: str) -> float:
        return max(0.0, min(self.settings.timeout_for(function), self.deadline - time.monotonic()))

    def _may_call(self, function: str) -> None:
        """StudentError when `function` cannot be called: its module is unusable, or the
        submission's time is used up."""
        module = courses.module_of(function)
        why = self.process.unusable(module)
        if why is not None:
            text = gettext("{module}.py is unusable: {why}")
            raise StudentError("import", text.format(module=module, why=why), trusted=True)
        if self.deadline - time.monotonic() <= 0:
            text = gettext("skipped: the submission used up its {seconds} s")
            raise StudentError("timeout", text.format(seconds=f"{self.settings.submission_timeout:g}"))

    def given(self, function: str, args: tuple, helpers: tuple[str, ...],
              reference: Callable[[str, tuple, dict], Any]) -> Answer:
        """`function(*args)` with its calls to `helpers` answered by `reference` (see `chain`)."""
        self._may_call(function)
        return self.process.ask_given(function, args, self._timeout_of(function), helpers, reference)

    def __call__(self, function: str, args: tuple) -> Answer:
        self._may_call(function)
        answer = self.process.ask(function, args, self._timeout_of(function))
        if self.record is not None and function in self.recorded and not self.hidden:
            kept = self.record.setdefault("calls", {}).setdefault(function, [])
            if len(kept) < MAX_CALLS:  # only public calls: a figure never shows hidden inputs' results
                kept.append((args, answer.value))
        return answer


class GraderFault(RuntimeError):
    """A case's own code failed: the grader's fault, never the student's."""


def _verdict(case: GradedCase, points: float, student: Student, record: dict | None) -> CaseResult:
    result = CaseResult(case.function, case.label, case.checked, 0.0, points,
                        False, case.hidden)
    try:
        case.run(student)
    except CaseFailure as exc:
        result.kind, result.message, result.details = exc.kind, exc.message, exc.details
        if record is not None and exc.arrays is not None and not case.hidden:
            record.setdefault("mismatch", {}).setdefault(case.function, exc.arrays)
    except StudentError as exc:
        result.kind, result.message = exc.kind, exc.message
        result.details = {"detail": exc.detail} if exc.detail else {}
        if exc.trusted:
            result.details["file_problem"] = True
    except AssertionError as exc:  # a case's own `assert`: a check that failed, not a fault
        result.kind, result.message = "value", str(exc) or gettext("a check of the returned value failed")
    except SandboxUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug in the case or the grader, not the student's
        raise GraderFault(f"{case.function}, case {case.label!r}: the grader's own check failed "
                          f"({type(exc).__name__}: {exc})") from exc
    else:
        result.passed, result.score = True, points
    return result


@pinned()  # the language in use looked up once, not for each of hundreds of messages
def grade_submission(submission: Submission, suite: Suite, sandbox: Sandbox, settings: Settings,
                     record: dict | None = None) -> SubmissionResult:
    """Grade one submission against `suite` in its own sandboxed child (or in whatever Process
    `sandbox.open` gives: a notebook's kernel); never raises for student faults.

    `grade`, `check`, the Gradescope entry point and the nbgrader kernel and service all
    grade through this function.

    A fault of the grader itself (the sandbox cannot start a child, a case's own code
    fails) makes the submission's status "error": it could not be graded.

    `record`, when given, receives {"calls": {function: [(args, value), ...]}} of the calls made
    before any hidden case to the functions the course's figures draw (`suite.recorded`) and
    {"mismatch": {function: (expected, received)}} of each function's first visible wrong value:
    what the report plots.
    """
    started = time.monotonic()
    result = SubmissionResult(submission.id, notes=list(submission.notes), problems=dict(submission.problems),
                              meta=dict(submission.meta), seed=suite.seed, digest=suite.digest(submission))
    course = courses.load()
    process = sandbox.open(submission.sources, course.names, submission.problems, course.by_module())
    try:
        calls = Calls(process, settings, record, suite.recorded)
        student = Student(calls, settings)
        for index, (case, case_points) in enumerate(zip(suite.cases, suite.points, strict=True)):
            if case.hidden:
                calls.enter_hidden()
            process.begin_case(suite.plan.case(index))
            result.cases.append(_verdict(case, case_points, student, record))
        if suite.reference is not None and process.answers_helpers:
            calls.enter_hidden()  # nothing student code prints in a re-run is shown

            def run_case(index: int, given: Student) -> CaseResult:
                return _verdict(suite.cases[index], suite.points[index], given, None)

            chain.credit_knock_on(result, run_case, calls, suite.reference)
        result.isolation = list(process.isolation)
        result.problems.update({m: why for m, why in process.problems().items() if m not in result.problems})
    except (SandboxUnavailable, GraderFault) as exc:
        result.status, result.error = "error", str(exc)
    finally:
        result.output = process.output("visible")
        result.private_output = process.output("private")
        process.close()
    result.execution_time = round(time.monotonic() - started, 3)
    return result
