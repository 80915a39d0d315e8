"""Run a case's calls ahead of its checks: one streamed batch per case instead of a round trip per call.

Almost every case calls the student with inputs that are fixed for the whole run.
So once per run, each case is played against the torch oracle and the calls it
makes are recorded (`record`): each request encoded once, its arrays laid out in
the case's part of the arena, and the size of the expected answer noted. Grading a
submission then sends its child, when a case begins, that case's recorded calls as
one batch; the child runs them in order and streams back one answer per call while
the case checks them (`session.StudentProcess.ask`).

The child never holds a call before its case begins: no later case's inputs are in
its memory while it runs an earlier one.

The plan is only a prediction. A case's call is answered from the stream only if
it is the same function with bit-for-bit the same arguments as a planned call of
that case; any other call is made live, exactly as without a plan. Failures keep
their meaning: a timeout or crash is counted against a function only when a case
asked for that call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autograder.casekit import Student
from autograder.config import Settings
from autograder.sandbox import protocol, wire
from autograder.sandbox.protocol import (
    LIVE_RESPONSE_CAP,
    Answer,
    CasePlan,
    Outgoing,
    PlannedCall,
    StudentError,
)
from autograder.sandbox.session import ARENA_SIZE

#: An answer may be this many times the size of the expected one (float64 for float32,
#: a list for an array), plus some slack; never more than LIVE_RESPONSE_CAP.
RESPONSE_FACTOR, RESPONSE_SLACK = 4, 16 << 10


@dataclass(frozen=True)
class Plan:
    """Every case's planned calls, in case order."""

    cases: tuple[CasePlan, ...] = ()

    def case(self, index: int) -> CasePlan:
        return self.cases[index] if index < len(self.cases) else CasePlan()

    @property
    def calls(self) -> tuple[PlannedCall, ...]:
        return tuple(call for case in self.cases for call in case.calls)


def response_cap(expected: Any) -> int:
    """The largest answer accepted for a call whose right answer is `expected`."""
    try:
        size = len(wire.encode(protocol.returned(0, expected, [], [])))
    except wire.WireError:
        return LIVE_RESPONSE_CAP
    return min(LIVE_RESPONSE_CAP, RESPONSE_FACTOR * size + RESPONSE_SLACK)


def record(runs: list[Callable[[Any], None]], settings: Settings,
           oracle: Callable[[str], Callable[..., Any]]) -> Plan:
    """Play each case (`runs[i](student)`) against the reference, `oracle(function)` being the
    reference implementation of `function`, and keep the calls each case makes."""
    cases = []
    next_id = 0
    for run in runs:
        layout = wire.Layout(0, ARENA_SIZE)
        calls: list[PlannedCall] = []

        def answer(function: str, args: tuple, _layout=layout, _calls=calls) -> Answer:
            nonlocal next_id
            start = _layout.end
            try:
                frame, regions = protocol.Call(next_id, function, tuple(args)).frame(_layout)
            except wire.WireError:
                raise StudentError("return", "not plannable") from None
            value = oracle(function)(*args)
            outgoing = Outgoing(next_id, function, frame, regions, bytes(_layout.image[start:]),
                                response_cap(value))
            _calls.append(PlannedCall(function, tuple(args), outgoing))
            next_id += 1
            return Answer(value)

        try:
            run(Student(answer, settings))
        except Exception:  # noqa: BLE001 - a case that stops early just plans fewer calls
            pass
        cases.append(CasePlan.of(tuple(calls), bytes(layout.image)))
    return Plan(tuple(cases))
