"""Each function graded on its own: a knock-on failure is run again with correct helpers.

A student's backward pass calls their own derivative of an activation, their own
layer backward, their own loss derivative; a mistake in one of those makes the
backward pass fail too. After every case
has run, each failed case of a function that may call a function which failed its
own cases is run again, with every call student code makes to those failing
functions answered by the reference, here, on the trusted side: the child sends the
arguments, the grader answers with torch's value (`StudentProcess.ask_given`), so no
reference code reaches student code. A function may call those before it in course
order (the modules in order, each module's functions as written); the student's
functions that pass their own cases keep answering for themselves, which also keeps
re-runs cheap. A case right given correct helpers keeps its points and names where
the mistake is (`CaseResult.upstream`); one still wrong costs them, as before.

Re-runs come after the hidden cases have started: what student code prints in them
is never shown to the student.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from autograder import course as courses
from autograder.casekit import Student
from autograder.results import FILE_KINDS, CaseResult, SubmissionResult
from autograder.sandbox import protocol, wire
from autograder.sandbox.protocol import Answer, CasePlan, Help, HelpRequest

#: Bounds on what one helper call may ask of the reference, whatever the student's code sends:
#: at most this many elements (or ELEMENT_FACTOR times the re-run call's own), and no dimension
#: above MAX_DIM (or DIM_FACTOR times the largest of the call's own arrays).
MIN_ELEMENTS, ELEMENT_FACTOR = 4096, 4
MAX_DIM, DIM_FACTOR = 64, 2
#: Bytes of reference answers remembered per run (and worker).
CACHE_BYTES = 32 << 20


def helpers_of(function: str) -> tuple[str, ...]:
    """The exercise functions `function` may call: every one before it in course order."""
    functions = courses.load().functions
    return tuple(functions[:functions.index(function)])


class ReferenceValues:
    """The reference's answers to helper calls, remembered for the run by the request's bytes.

    A helper answered from the reference makes the re-run follow the reference's own path,
    so every submission whose function is right given correct helpers asks the same
    questions: after the first, each answer is a lookup of an already encoded frame.
    """

    def __init__(self, oracle: Callable[[str], Callable[..., Any]], size: int = CACHE_BYTES) -> None:
        self.oracle, self.size = oracle, size
        self.known: OrderedDict[bytes, tuple[str, bytes]] = OrderedDict()  # digest -> (function, frame)
        self.held = 0  # bytes of the frames remembered

    def known_reply(self, body: bytes) -> tuple[str, bytes] | None:
        """(function, reply frame) of a request already answered, if it was."""
        key = hashlib.blake2b(body, digest_size=20).digest()
        found = self.known.get(key)
        if found is not None:
            self.known.move_to_end(key)
        return found

    def remember(self, body: bytes, function: str, frame: bytes) -> None:
        """Keep an answer, within a budget of bytes (the oldest go first): a hostile re-run that
        asks many large questions costs its own time, never the grader's memory."""
        if len(frame) > self.size // 16:
            return
        key = hashlib.blake2b(body, digest_size=20).digest()
        if key in self.known:
            return
        self.known[key] = (function, frame)
        self.held += len(frame)
        while self.held > self.size:
            _, (_, dropped) = self.known.popitem(last=False)
            self.held -= len(dropped)


class Reference:
    """Answers the helper calls of one re-run call from the reference (session.HelperAnswer):
    only calls of `helpers`, with arguments within bounds; notes which helpers were called."""

    def __init__(self, values: ReferenceValues, helpers: tuple[str, ...],
                 args: tuple, called: list[str]) -> None:
        self.values, self.helpers, self.called = values, frozenset(helpers), called
        arrays = list(_arrays(args))
        self.max_elements = max(MIN_ELEMENTS, ELEMENT_FACTOR * sum(a.size for a in arrays))
        self.max_dim = max([MAX_DIM, *(DIM_FACTOR * d for a in arrays for d in a.shape)])

    def reply(self, request: HelpRequest) -> bytes:
        """The Helped frame for `request`: the reference's value, or why there is none."""
        known = self.values.known_reply(request.body)
        if known is not None and known[0] in self.helpers:
            self._note(known[0])
            return known[1]
        try:
            help = request.decode()
            frame = wire.encode(protocol.helped(self._value(help)))
        except Exception as exc:  # noqa: BLE001 - the student's arguments made the reference fail
            return wire.encode(protocol.helped(error=f"{type(exc).__name__}: {exc}"))
        self.values.remember(request.body, help.function, frame)
        return frame

    def _value(self, help: Help) -> Any:
        if help.function not in self.helpers:
            raise LookupError(f"{help.function} is not a function the grader answers here")
        arrays = list(_arrays((*help.args, *help.kwargs.values())))
        if sum(a.size for a in arrays) > self.max_elements or any(
                d > self.max_dim for a in arrays for d in a.shape):
            raise ValueError("arguments far larger than this case's inputs")
        self._note(help.function)
        return self.values.oracle(help.function)(*help.args, **help.kwargs)

    def _note(self, function: str) -> None:
        if function not in self.called:
            self.called.append(function)


def _arrays(values: Any) -> Any:
    """Every array in `values` (tuples, lists and dicts searched)."""
    for value in values:
        if isinstance(value, np.ndarray):
            yield value
        elif isinstance(value, (tuple, list)):
            yield from _arrays(value)
        elif isinstance(value, dict):
            yield from _arrays(value.values())


def credit_knock_on(result: SubmissionResult, run_case: Callable[[int, Student], CaseResult],
                    calls: Any, values: ReferenceValues) -> None:
    """Run each failed case of `result` whose function may call a failing function again, its
    helpers answered from the reference `values`; credit those right given them (in place).

    `run_case(i, student)` runs case i against `student` and gives its verdict; `calls` is the
    submission's runner.Calls (time budget, unusable modules, the process)."""
    functions = courses.load().functions
    failing = {case.function for case in result.cases if not case.passed}
    order = sorted((i for i, case in enumerate(result.cases) if _worth_a_rerun(case, failing)),
                   key=lambda i: functions.index(result.cases[i].function))
    given_up: set[str] = set()
    for index in order:
        before = result.cases[index]
        if before.function in given_up:
            continue
        called: list[str] = []
        calls.process.begin_case(CasePlan())

        def ask(function: str, args: tuple, _called: list[str] = called) -> Answer:
            helpers = tuple(f for f in helpers_of(function) if f in failing)
            return calls.given(function, args, helpers, Reference(values, helpers, args, _called))

        after = run_case(index, Student(ask, calls.settings))
        if after.kind in ("timeout", "crash"):
            given_up.add(before.function)  # it would only use up the submission's time again
        culprits = _roots([f for f in called if f in failing], result, functions)
        if after.passed and culprits:
            result.cases[index] = replace(after, upstream=culprits, details={
                "with_yours": {"kind": before.kind, "message": before.message}})
        elif culprits:
            before.upstream = culprits


def _worth_a_rerun(case: CaseResult, failing: set[str]) -> bool:
    return (not case.passed and case.kind not in FILE_KINDS
            and not failing.isdisjoint(helpers_of(case.function)))


def _roots(called: list[str], result: SubmissionResult, functions: tuple[str, ...]) -> list[str]:
    """Where the mistakes behind the failing helpers `called` are: each helper still wrong on its
    own, and whatever its own knock-on failures were traced to (helpers were re-run first)."""
    found: set[str] = set()
    for helper in called:
        cases = [case for case in result.cases if case.function == helper]
        if any(not case.passed for case in cases):
            found.add(helper)
        found.update(name for case in cases for name in case.upstream)
    return sorted(found, key=functions.index)
