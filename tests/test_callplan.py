"""The call plan: planned calls are answered from one stream, and grading means the same with it.

A plan is only a prediction, so the tests check that (1) a whole submission gets the
same verdicts with and without it, (2) planned calls really are streamed, (3) a
call the plan did not foresee goes live, and (4) a planned call that hangs or
crashes counts against its function only if a case asked for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from autograder import callplan, intake, runner
from autograder.callplan import Plan, PlannedCall, Prefetcher
from autograder.config import load
from autograder.sandbox import wire
from autograder.sandbox.session import Sandbox, StudentError, StudentProcess

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = load()
A, B = np.arange(6.0).reshape(2, 3) - 2, np.linspace(-1, 1, 4)
HANG_ON_SEVEN = np.full((2, 2), 7.0)
CRASH_ON_FIVE = np.full((1, 3), 5.0)
ACTIVATIONS = '''
import os
import numpy as np


def relu(z):
    return np.maximum(z, 0)


def sigmoid(z):
    if z.flat[0] == 7:
        while True:
            pass
    return 1 / (1 + np.exp(-z))


def softmax(z):
    if z.flat[0] == 5:
        os._exit(3)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''


def make_plan(*cases: list[tuple[str, tuple]]) -> Plan:
    """A plan from each case's list of (function, args)."""
    calls, spans = [], []
    for index, case in enumerate(cases):
        first = len(calls)
        for function, args in case:
            frame = wire.encode({"op": "call", "function": function, "args": args})
            calls.append(PlannedCall(index, function, args, frame))
        spans.append((first, len(calls)))
    return Plan(tuple(calls), tuple(spans))


class Counting:
    """Counts the live calls and the streams a StudentProcess is asked for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.live, self.streams = [], []
        live, stream = StudentProcess.call, StudentProcess.stream

        def counted_call(process, function, args, timeout):
            self.live.append(function)
            return live(process, function, args, timeout)

        def counted_stream(process, requests):
            self.streams.append(len(requests))
            return stream(process, requests)

        monkeypatch.setattr(StudentProcess, "call", counted_call)
        monkeypatch.setattr(StudentProcess, "stream", counted_stream)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Counting:
    return Counting(monkeypatch)


@pytest.fixture
def process() -> Iterator[StudentProcess]:
    with Sandbox() as sandbox:
        student = sandbox.open({"activations": ACTIVATIONS})
        yield student
        student.close()


def prefetcher(process: StudentProcess, plan: Plan) -> Prefetcher:
    return Prefetcher(process, plan, lambda function: 1.0, set())


def test_planned_calls_are_answered_from_one_stream(process, counting) -> None:
    plan = make_plan([("activations.relu", (A,)), ("activations.softmax", (A,))],
                     [("activations.relu", (B,))])
    calls = prefetcher(process, plan)
    calls.begin_case(0)
    assert np.array_equal(calls.call("activations.relu", (A,))["value"], np.maximum(A, 0))
    assert np.allclose(calls.call("activations.softmax", (A.copy(),))["value"].sum(axis=1), 1)
    calls.begin_case(1)
    assert np.array_equal(calls.call("activations.relu", (B,))["value"], np.maximum(B, 0))
    assert counting.streams == [3] and counting.live == []


def test_a_call_the_plan_did_not_foresee_is_made_live(process, counting) -> None:
    calls = prefetcher(process, make_plan([("activations.relu", (A,))]))
    calls.begin_case(0)
    negated = -A
    assert np.array_equal(calls.call("activations.relu", (negated,))["value"], np.maximum(negated, 0))
    assert counting.live == ["activations.relu"]
    as_float32 = A.astype(np.float32)  # same numbers, other dtype: not the planned call either
    assert calls.call("activations.relu", (as_float32,))["value"].dtype == np.float32
    assert counting.live == ["activations.relu"] * 2


def test_a_planned_call_nobody_asks_for_may_hang_without_counting(process, counting) -> None:
    plan = make_plan([("activations.relu", (A,)), ("activations.sigmoid", (HANG_ON_SEVEN,))],
                     [("activations.relu", (B,))])
    calls = prefetcher(process, plan)
    calls.begin_case(0)
    assert np.array_equal(calls.call("activations.relu", (A,))["value"], np.maximum(A, 0))
    calls.begin_case(1)  # case 0 stopped before its second call, which hangs in the stream
    assert np.array_equal(calls.call("activations.relu", (B,))["value"], np.maximum(B, 0))
    assert process.failures == {} and calls.poisoned == {1} and process.starts == 2
    assert calls.call("activations.sigmoid", (A,))["value"].shape == A.shape  # not skipped
    assert counting.streams == [3, 1]  # the second child streams only what is still wanted
    calls.begin_case(0)
    with pytest.raises(StudentError) as hung:  # asked for now: made live, and it counts
        calls.call("activations.sigmoid", (HANG_ON_SEVEN,))
    assert hung.value.kind == "timeout" and process.failures == {"activations.sigmoid": ["timeout"]}
    assert counting.live == ["activations.sigmoid"] * 2


def test_a_planned_call_that_hangs_when_asked_counts(process, counting) -> None:
    plan = make_plan([("activations.sigmoid", (HANG_ON_SEVEN,)), ("activations.sigmoid", (A,)),
                      ("activations.relu", (A,))])
    calls = prefetcher(process, plan)
    calls.begin_case(0)
    with pytest.raises(StudentError) as hung:
        calls.call("activations.sigmoid", (HANG_ON_SEVEN,))
    assert hung.value.kind == "timeout"
    with pytest.raises(StudentError, match="already timed out"):
        calls.call("activations.sigmoid", (A,))
    assert np.array_equal(calls.call("activations.relu", (A,))["value"], np.maximum(A, 0))
    assert counting.streams == [3, 1]  # the timed-out function is not streamed again


def test_a_crash_in_the_stream_costs_only_the_call_that_crashed(process, counting) -> None:
    plan = make_plan([("activations.softmax", (CRASH_ON_FIVE,)), ("activations.relu", (A,))])
    calls = prefetcher(process, plan)
    calls.begin_case(0)
    with pytest.raises(StudentError) as crashed:
        calls.call("activations.softmax", (CRASH_ON_FIVE,))
    assert crashed.value.kind == "crash" and process.failures == {"activations.softmax": ["crash"]}
    assert np.array_equal(calls.call("activations.relu", (A,))["value"], np.maximum(A, 0))
    assert process.starts == 2


@pytest.mark.parametrize("planned, given, equal", [
    (0.0, -0.0, False),
    (float("nan"), float("nan"), True),
    (np.zeros(3), np.zeros(3, dtype=np.float32), False),
    (np.zeros((1, 3)), np.zeros(3), False),
    ({"a": A, "b": B}, {"b": B, "a": A}, False),
    ({"a": A, "b": B}, {"a": A.copy(), "b": B.copy()}, True),
    ((A, 1), [A, 1], False),
    (1, True, False),
])
def test_only_bit_for_bit_equal_arguments_are_the_planned_call(planned, given, equal) -> None:
    assert callplan.same(planned, given) is equal


@pytest.fixture(scope="module")
def suite() -> tuple[list[runner.GradedCase], list[float], Plan]:
    cases = runner.collect([runner.HIDDEN, runner.PUBLIC])
    return cases, runner.case_points(cases, SETTINGS), runner.plan_calls(cases, SETTINGS)


def test_the_plan_foresees_every_call_of_a_correct_submission(suite, counting) -> None:
    cases, points, plan = suite
    submission = intake.load_one(ROOT / "examples" / "submissions" / "alice_correct")
    with Sandbox() as sandbox:
        result = runner.grade_submission(submission, cases, points, sandbox, SETTINGS, plan=plan)
    assert result.score == 100 and counting.live == [] and len(counting.streams) == 1
    assert counting.streams[0] == len(plan.calls) > len(cases)


@pytest.mark.parametrize("name", ["alice_correct", "bob_buggy", "carol_untouched"])
def test_verdicts_are_the_same_with_and_without_the_plan(suite, name: str) -> None:
    cases, points, plan = suite
    submission = intake.load_one(ROOT / "examples" / "submissions" / name)
    with Sandbox() as sandbox:
        live = runner.grade_submission(submission, cases, points, sandbox, SETTINGS)
        planned = runner.grade_submission(submission, cases, points, sandbox, SETTINGS, plan=plan)
    assert [(c.score, c.kind, c.message) for c in planned.cases] == \
        [(c.score, c.kind, c.message) for c in live.cases]
