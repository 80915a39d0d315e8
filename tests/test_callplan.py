"""The call plan and the protocol: a case's calls are answered from one batch, and grading
means the same with it.

A plan is only a prediction, so the tests check that (1) a whole submission gets the
same verdicts with and without it, (2) a case's planned calls really are sent as one
batch, and only when the case begins, (3) a call the plan did not foresee goes live,
(4) a planned call that hangs or crashes counts against its function only if a case
asked for it, and (5) what the grader believes of an answer (which call it answers,
whether inputs changed, how large it may be) is decided on the trusted side.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import MODULES

from autograder import batch, intake, runner
from autograder.callplan import Plan, response_cap
from autograder.config import load
from autograder.sandbox import protocol, wire
from autograder.sandbox.protocol import CasePlan, Outgoing, PlannedCall, StudentError
from autograder.sandbox.session import Sandbox, StudentProcess, same

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


def relu_prime(z):
    """How many float arrays in this process's containers hold a 41 (as the red team looked for
    the inputs of other calls: arrays are found through the tuples, lists and dicts holding them)."""
    import gc
    found = 0
    for holder in gc.get_objects():
        items = holder.values() if isinstance(holder, dict) else holder
        if not isinstance(holder, (dict, list, tuple)):
            continue
        found += sum(isinstance(o, np.ndarray) and o.dtype.kind == "f" and bool((o == 41).any())
                     for o in items)
    return float(found)


def sigmoid_prime(z):
    z -= 1  # changes its input in place, and switches off the child's own check of it
    import autograder.sandbox.child as child
    child._changed = lambda before, after: [False] * len(before)
    return z + 1


def softmax_prime(z):
    return np.zeros(int(z.flat[0]), dtype=np.int8)  # as large as the caller asks
'''


def make_plan(*cases: list[tuple[str, tuple]]) -> Plan:
    """A plan from each case's list of (function, args), laid out as `callplan.record` does."""
    plans, next_id = [], 0
    for case in cases:
        layout, calls = wire.Layout(0), []
        for function, args in case:
            start = layout.end
            frame, regions = protocol.Call(next_id, function, args).frame(layout)
            calls.append(PlannedCall(function, args, Outgoing(next_id, function, frame, regions,
                                                              bytes(layout.image[start:]))))
            next_id += 1
        plans.append(CasePlan(tuple(calls), bytes(layout.image)))
    return Plan(tuple(plans))


class Counting:
    """Counts the live calls and the batches a StudentProcess is asked to send."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.live, self.batches = [], []
        live, send = StudentProcess.call, StudentProcess.send_batch

        def counted_call(process, function, args, timeout):
            self.live.append(function)
            return live(process, function, args, timeout)

        def counted_send(process, calls, frame=None):
            self.batches.append(len(calls))
            return send(process, calls, frame)

        monkeypatch.setattr(StudentProcess, "call", counted_call)
        monkeypatch.setattr(StudentProcess, "send_batch", counted_send)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Counting:
    return Counting(monkeypatch)


@pytest.fixture
def process() -> Iterator[StudentProcess]:
    with Sandbox() as sandbox:
        student = sandbox.open({"activations": ACTIVATIONS}, tuple(MODULES))
        student.timeout_of = lambda function: 1.0
        yield student
        student.close()


def ask(process: StudentProcess, function: str, *args) -> object:
    return process.ask(function, args, 1.0).value


def test_a_cases_planned_calls_are_answered_from_one_batch(process, counting) -> None:
    plan = make_plan([("activations.relu", (A,)), ("activations.softmax", (A,))],
                     [("activations.relu", (B,))])
    process.begin_case(plan.case(0))
    assert np.array_equal(ask(process, "activations.relu", A), np.maximum(A, 0))
    assert np.allclose(ask(process, "activations.softmax", A.copy()).sum(axis=1), 1)
    process.begin_case(plan.case(1))
    assert np.array_equal(ask(process, "activations.relu", B), np.maximum(B, 0))
    assert counting.batches == [2, 1] and counting.live == []


def test_the_child_never_holds_a_later_cases_inputs(process) -> None:
    """While case 0 runs, case 1's inputs (the 41s) are nowhere in the child's memory."""
    secret, probe = np.full(3, 41.0), np.full(2, 41.0)
    plan = make_plan([("activations.relu_prime", (A,))], [("activations.relu", (secret,))],
                     [("activations.relu_prime", (probe,))])
    process.begin_case(plan.case(0))
    assert ask(process, "activations.relu_prime", A) == 0
    process.begin_case(plan.case(1))
    assert np.array_equal(ask(process, "activations.relu", secret), secret)
    process.begin_case(plan.case(2))
    assert ask(process, "activations.relu_prime", probe) >= 1  # the probe sees an input it is given
    whole = make_plan([("activations.relu_prime", (A,)), ("activations.relu", (secret,))])
    process.begin_case(whole.case(0))  # one batch for all (as the plan once was sent): it would see
    assert ask(process, "activations.relu_prime", A) >= 1


def test_a_call_the_plan_did_not_foresee_is_made_live(process, counting) -> None:
    process.begin_case(make_plan([("activations.relu", (A,))]).case(0))
    negated = -A
    assert np.array_equal(ask(process, "activations.relu", negated), np.maximum(negated, 0))
    assert counting.live == ["activations.relu"]
    as_float32 = A.astype(np.float32)  # same numbers, other dtype: not the planned call either
    assert ask(process, "activations.relu", as_float32).dtype == np.float32
    assert counting.live == ["activations.relu"] * 2


def test_a_planned_call_nobody_asks_for_may_hang_without_counting(process, counting) -> None:
    plan = make_plan([("activations.relu", (A,)), ("activations.sigmoid", (HANG_ON_SEVEN,))],
                     [("activations.relu", (B,))])
    process.begin_case(plan.case(0))
    assert np.array_equal(ask(process, "activations.relu", A), np.maximum(A, 0))
    process.begin_case(plan.case(1))  # case 0 stopped before its second call, which hangs unasked
    assert np.array_equal(ask(process, "activations.relu", B), np.maximum(B, 0))
    assert process.failures == {} and process.lost == {1} and process.starts == 2
    assert ask(process, "activations.sigmoid", A).shape == A.shape  # not skipped
    process.begin_case(plan.case(0))
    ask(process, "activations.relu", A)
    with pytest.raises(StudentError) as hung:  # asked for now: made live, and it counts
        ask(process, "activations.sigmoid", HANG_ON_SEVEN)
    assert hung.value.kind == "timeout" and process.failures == {"activations.sigmoid": ["timeout"]}
    assert counting.live == ["activations.sigmoid"] * 2


def test_a_planned_call_that_hangs_when_asked_counts(process, counting) -> None:
    plan = make_plan([("activations.sigmoid", (HANG_ON_SEVEN,)), ("activations.sigmoid", (A,)),
                      ("activations.relu", (A,))])
    process.begin_case(plan.case(0))
    with pytest.raises(StudentError) as hung:
        ask(process, "activations.sigmoid", HANG_ON_SEVEN)
    assert hung.value.kind == "timeout"
    with pytest.raises(StudentError, match="already timed out"):
        ask(process, "activations.sigmoid", A)
    assert np.array_equal(ask(process, "activations.relu", A), np.maximum(A, 0))
    assert counting.batches == [3, 1]  # the timed-out function is not sent again


def test_a_crash_in_the_batch_costs_only_the_call_that_crashed(process) -> None:
    plan = make_plan([("activations.softmax", (CRASH_ON_FIVE,)), ("activations.relu", (A,))])
    process.begin_case(plan.case(0))
    with pytest.raises(StudentError) as crashed:
        ask(process, "activations.softmax", CRASH_ON_FIVE)
    assert crashed.value.kind == "crash" and process.failures == {"activations.softmax": ["crash"]}
    assert np.array_equal(ask(process, "activations.relu", A), np.maximum(A, 0))
    assert process.starts == 2


def test_an_input_changed_in_place_is_seen_by_the_grader_whatever_the_child_says(process) -> None:
    z = np.arange(4.0)
    for plan in (make_plan([("activations.sigmoid_prime", (z,))]), Plan()):  # planned, then live
        process.begin_case(plan.case(0))
        answer = process.ask("activations.sigmoid_prime", (z,), 1.0)
        assert answer.modified == (True,) and np.array_equal(answer.value, z)
    assert np.array_equal(z, np.arange(4.0))  # the grader's own copy is untouched


def test_an_answer_larger_than_its_case_expects_is_refused_unread(process) -> None:
    small, large = np.array([10.0]), np.array([float(50 << 20)])
    plan = make_plan([("activations.softmax_prime", (small,)), ("activations.softmax_prime", (large,)),
                      ("activations.relu", (A,))])
    process.begin_case(plan.case(0))
    assert ask(process, "activations.softmax_prime", small).shape == (10,)
    with pytest.raises(StudentError) as refused:
        ask(process, "activations.softmax_prime", large)
    assert refused.value.kind == "return" and "far larger than expected" in refused.value.message
    assert np.array_equal(ask(process, "activations.relu", A), np.maximum(A, 0))
    assert response_cap(np.zeros(10)) < 1 << 20


def test_an_answer_to_another_call_is_refused(process) -> None:
    """A frame that names another call id (student code writing to the channel) is a crash of the
    function that wrote it, never taken as an answer."""
    forged = protocol.returned(999, np.zeros(3), [], [])
    frame = wire.encode(forged)
    source = f"import os\ndef relu(z):\n    os.write(3, {frame!r})\n    return z\n"
    with Sandbox() as sandbox:
        student = sandbox.open({"activations": source}, tuple(MODULES))
        with pytest.raises(StudentError) as forged_answer:
            student.ask("activations.relu", (A,), 1.0)
        assert forged_answer.value.kind == "crash" and "out of turn" in forged_answer.value.message
        student.close()


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
    assert same(planned, given) is equal


@pytest.fixture(scope="module")
def planned(suite) -> runner.Suite:
    return replace(suite, plan=batch.plan_calls(list(suite.cases), SETTINGS))


def test_the_plan_foresees_every_call_of_a_correct_submission(planned, counting) -> None:
    submission = intake.load_one(ROOT / "examples" / "submissions" / "alice_correct")
    with Sandbox() as sandbox:
        result = runner.grade_submission(submission, planned, sandbox, SETTINGS)
    assert result.score == 100 and counting.live == []
    assert sum(counting.batches) == len(planned.plan.calls) > len(planned.cases)
    assert len(counting.batches) == sum(bool(case.calls) for case in planned.plan.cases)


@pytest.mark.parametrize("name", ["alice_correct", "bob_buggy", "carol_untouched"])
def test_verdicts_are_the_same_with_and_without_the_plan(suite, planned, name: str) -> None:
    submission = intake.load_one(ROOT / "examples" / "submissions" / name)
    with Sandbox() as sandbox:
        live = runner.grade_submission(submission, suite, sandbox, SETTINGS)
        streamed = runner.grade_submission(submission, planned, sandbox, SETTINGS)
    assert [(c.score, c.kind, c.message) for c in streamed.cases] == \
        [(c.score, c.kind, c.message) for c in live.cases]
