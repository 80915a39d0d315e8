"""Run a submission's calls ahead of its cases: one streamed plan instead of a round trip per call.

Almost every case calls the student with inputs that are fixed for the whole run.
So once per run, each case is played against the torch oracle and the calls it
makes are recorded, with each request encoded once (`record`). Grading a
submission then sends its child the recorded calls as one plan; the child runs
them in order and streams back one response per call while the cases are being
checked (`Prefetcher`).

The plan is only a prediction. A case's call is answered from the stream only if
it is the same function with bit-for-bit the same arguments as a planned call of
that case; any other call is made live, exactly as without a plan. Failures keep
their meaning: a timeout or crash is counted against a function only when a case
asked for that call. A planned call that no case asks for (a case stopped early)
and that hangs or crashes stops the child without counting, is never streamed
again, and the stream resumes from the call that is wanted.

One difference remains, for code that keeps state between calls: the planned
calls of a case that stopped early still run in the child.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.casekit import Student
from autograder.config import Settings
from autograder.sandbox import wire
from autograder.sandbox.session import StudentError, StudentProcess, checked
from autograder.spec import module_of


@dataclass(frozen=True)
class PlannedCall:
    """One call a case makes: the function, its arguments, and the request already encoded."""

    case: int
    function: str
    args: tuple
    frame: bytes


@dataclass(frozen=True)
class Plan:
    """Every planned call of a run in case order; `spans[i]` = (first, end) of case i's calls."""

    calls: tuple[PlannedCall, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()

    def span(self, case: int) -> tuple[int, int]:
        return self.spans[case] if case < len(self.spans) else (len(self.calls), len(self.calls))


def _oracle_function(function: str) -> Callable[..., Any]:
    """The oracle of a SPEC function: oracle.relu for activations.relu, oracle.xor_train for xor.train."""
    from autograder import oracle  # torch: only where a plan is recorded, not for `autograder check`

    module, name = function.split(".")
    return getattr(oracle, f"xor_{name}" if module == "xor" else name)


def record(runs: list[Callable[[Any], None]], settings: Settings) -> Plan:
    """Play each case (`runs[i](student)`) against the oracle and keep the calls it makes."""
    calls: list[PlannedCall] = []
    spans = []
    for index, run in enumerate(runs):
        first = len(calls)

        def answer(function: str, args: tuple, _case: int = index) -> dict:
            try:
                frame = wire.encode({"op": "call", "function": function, "args": tuple(args)})
            except wire.WireError:
                raise StudentError("return", "not plannable") from None
            calls.append(PlannedCall(_case, function, tuple(args), frame))
            value = _oracle_function(function)(*args)
            return {"ok": True, "value": value}

        try:
            run(Student(answer, settings))
        except Exception:  # noqa: BLE001 - a case that stops early just plans fewer calls
            pass
        spans.append((first, len(calls)))
    return Plan(tuple(calls), tuple(spans))


def same(planned: Any, given: Any) -> bool:
    """Bit-for-bit the same value (dtype, shape, -0.0 and NaN payloads included)."""
    if planned is given:
        return True
    if type(planned) is not type(given):
        return False
    if isinstance(planned, np.ndarray):
        return (planned.dtype == given.dtype and planned.shape == given.shape
                and planned.tobytes() == given.tobytes())
    if isinstance(planned, (tuple, list)):
        return len(planned) == len(given) and all(same(a, b) for a, b in zip(planned, given, strict=True))
    if isinstance(planned, dict):
        return list(planned) == list(given) and all(same(planned[k], given[k]) for k in planned)
    if isinstance(planned, float):
        return planned.hex() == given.hex()
    return bool(planned == given)


class Prefetcher:
    """Answers one submission's calls from a streamed plan where it can, live otherwise.

    `timeout_of(function)` is the time a call of `function` may take now; `skip`
    holds modules that are never called (they failed intake).
    """

    def __init__(self, process: StudentProcess, plan: Plan, timeout_of: Callable[[str], float],
                 skip: set[str]) -> None:
        self.process, self.plan, self.timeout_of, self.skip = process, plan, timeout_of, skip
        self.cursor, self.case_end = 0, 0
        self.answers: dict[int, dict] = {}   # planned call -> its response, read but not yet asked for
        self.pending: deque[int] = deque()   # planned calls streamed to the current child, unanswered
        self.child = -1                      # which child (process.starts) the pending calls went to
        self.poisoned: set[int] = set()      # hung or crashed while nobody asked: never streamed again

    def begin_case(self, case: int) -> None:
        self.cursor, self.case_end = self.plan.span(case)

    def call(self, function: str, args: tuple) -> dict[str, Any]:
        """The checked response to `function(*args)`; StudentError when it produced no value."""
        index = self._match(function, args)
        if index is None or index in self.poisoned:
            self._drain()
            return self.process.call(function, args, self.timeout_of(function))
        self.process.refuse_if_failed(function)
        if index in self.answers:
            return checked(function, self.answers.pop(index))
        if index not in self._pending():
            self._drain()
            self._stream_from(index)
        return self._read_until(index, function)

    def _match(self, function: str, args: tuple) -> int | None:
        """The next planned call of the current case that this call is, if any."""
        for index in range(self.cursor, self.case_end):
            planned = self.plan.calls[index]
            if planned.function == function and same(planned.args, args):
                self.cursor = index + 1
                return index
        return None

    def _pending(self) -> deque[int]:
        """The streamed calls still to be answered by the current child (none if it stopped)."""
        if self.child != self.process.starts or self.process.channel is None:
            self.pending.clear()
        return self.pending

    def _stream_from(self, first: int) -> None:
        """Stream the wanted call `first` and every later planned call that may still be asked for."""
        wanted = [first] + [i for i in range(first + 1, len(self.plan.calls))
                            if i not in self.answers and i not in self.poisoned and self._callable(i)]
        self.process.stream([self.plan.calls[i].frame for i in wanted])
        self.pending = deque(wanted)
        self.child = self.process.starts

    def _callable(self, index: int) -> bool:
        function = self.plan.calls[index].function
        return module_of(function) not in self.skip and not self.process.has_failed(function)

    def _read_until(self, wanted: int, function: str) -> dict[str, Any]:
        """Read streamed responses up to `wanted`'s, keeping the others for their cases."""
        while True:
            pending = self._pending()
            if not pending:
                self._stream_from(wanted)
                continue
            index = pending.popleft()
            if index == wanted:
                response = self.process.await_response(function, self.timeout_of(function), counted=True)
                return checked(function, response)
            self._keep(index)

    def _keep(self, index: int) -> None:
        """Read the response of a planned call nobody asked for yet."""
        function = self.plan.calls[index].function
        try:
            self.answers[index] = self.process.await_response(function, self.timeout_of(function),
                                                              counted=False)
        except StudentError:
            self.poisoned.add(index)  # the child is stopped; pending is cleared with it

    def _drain(self) -> None:
        """Read every streamed response, so that the child is free for a live call."""
        while self.pending and self._pending():  # (no plan, no pending: any process will do)
            self._keep(self.pending.popleft())
