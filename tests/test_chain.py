"""Each function graded on its own: a mistake costs the function it is in, not the ones that call it.

A function that fails only because a function of the student's it calls is wrong, missing
or broken is run again with those calls answered by the grader's torch reference, keeps
its points when it is right given them, and its result names where the mistake is.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import FUNCTIONS, SEED, losers

from autograder import chain, intake, runner
from autograder.config import load
from autograder.sandbox import protocol, wire

DW_TRANSPOSED = {"linear": [("grad_z.T @ x", "x.T @ grad_z")]}
CALLERS_OF_LINEAR_BACKWARD = {"network.classifier_gradients", "xor.gradients", "xor.train"}


def _credited(result, function):
    return [c for c in result.cases if c.function == function and c.upstream and c.passed]


def test_a_wrong_helper_costs_only_itself_and_its_callers_name_it(grade, make_submission):
    """The issue's example: dW = x.T @ grad_z cost 8 points in linear_backward and 26.67 more in
    its callers; now only the 8, and each caller says where the mistake is."""
    result = grade(make_submission(**DW_TRANSPOSED))
    assert losers(result) == {"linear.linear_backward"}
    assert result.score == 100 - 8
    for function in CALLERS_OF_LINEAR_BACKWARD:
        credited = _credited(result, function)
        assert credited, function
        # xor.train calls the student's gradients, itself only wrong through linear_backward:
        # the cause is traced to where it starts
        assert all(c.upstream == ["linear.linear_backward"] for c in credited)
        assert all(c.details["with_yours"]["kind"] in ("shape", "value", "exception") for c in credited)


def test_a_function_wrong_on_its_own_still_loses_its_points(grade, make_submission):
    """Wrong helper and wrong caller: the caller is wrong even given a right helper."""
    result = grade(make_submission(
        linear=[("grad_z.T @ x", "x.T @ grad_z")],
        xor=[("grad_z1 = grad_a1 * sigmoid_prime(z1)", "grad_z1 = grad_a1")]))
    assert losers(result) == {"linear.linear_backward", "xor.gradients"}
    wrong = [c for c in result.cases if c.function == "xor.gradients" and not c.passed]
    assert any(c.upstream == ["linear.linear_backward"] for c in wrong)
    # train runs the student's gradients, but given a right gradients it is right
    assert "xor.train" not in losers(result)


def test_the_chain_is_graded_whole_when_the_course_says_so(suite, sandbox, make_submission):
    settings = replace(load(), each_function_alone=False)
    whole = runner.Suite.prepare(("public", "hidden"), settings, SEED)
    assert whole.reference is None
    result = runner.grade_submission(intake.load_one(make_submission(**DW_TRANSPOSED)), whole, sandbox,
                                     settings)
    assert losers(result) == {"linear.linear_backward"} | CALLERS_OF_LINEAR_BACKWARD
    assert not any(c.upstream for c in result.cases)


def test_a_stub_helper_is_said_apart_from_a_stub_function(grade, make_submission):
    """A working function whose helper still raises NotImplementedError is not "not implemented"."""
    result = grade(make_submission(activations=[(
        "    return s * (1 - s)", "    raise NotImplementedError")]))
    assert losers(result) == {"activations.sigmoid_prime"}
    own = [c for c in result.cases if c.function == "activations.sigmoid_prime"]
    assert all(c.kind == "not_implemented" for c in own)
    credited = _credited(result, "xor.gradients")
    assert credited and all(c.details["with_yours"]["kind"] == "exception" for c in credited)
    assert any("calls sigmoid_prime, which is not implemented yet" in c.details["with_yours"]["message"]
               for c in credited)


def test_a_helper_left_out_of_its_module_costs_only_itself(grade, make_submission):
    """`from activations import sigmoid_prime` still imports when activations.py has no
    sigmoid_prime: only calling it fails, and the callers are right given a right one."""
    folder = make_submission()
    path = folder / "activations.py"
    source = path.read_text()
    start = source.index("def sigmoid_prime")
    end = source.index("def softmax(")
    path.write_text(source[:start] + source[end:])
    result = grade(folder)
    assert losers(result) == {"activations.sigmoid_prime"}
    assert {c.kind for c in result.cases if c.function == "activations.sigmoid_prime"} == {"missing"}
    assert _credited(result, "xor.gradients")


def test_what_student_code_prints_in_a_rerun_is_never_shown(grade, make_submission):
    marker = "RERUN-PRINTS-THIS"
    result = grade(make_submission(
        linear=[("grad_z.T @ x", "x.T @ grad_z")],
        xor=[("    z1 = linear(X, params[\"W1\"], params[\"b1\"])\n",
              f"    if linear_backward.__code__.co_filename.endswith('child.py'):\n"
              f"        print('{marker}', X.tolist())\n"
              f"    z1 = linear(X, params[\"W1\"], params[\"b1\"])\n")]))
    assert _credited(result, "xor.gradients")
    assert marker not in result.output
    assert marker in result.private_output  # the instructor's only


def test_no_reference_code_reaches_the_child(sandbox):
    """The helper a re-run hands student code is a proxy: calling it asks the grader; no torch,
    no course module, no solution is importable or imported in the child."""
    helper = "def f(x):\n    return x * 0\n"
    probe = '''import sys
from a import f


def g(x):
    loaded = [m for m in sys.modules if m.split(".")[0] in ("torch", "course", "solutions")]
    return f(x), f.__code__.co_filename.rsplit("/", 1)[-1], tuple(loaded)
'''
    process = sandbox.open({"a": helper, "b": probe}, ("a", "b"), {}, {"a": ("f",), "b": ("g",)})
    try:
        values = chain.ReferenceValues(lambda function: (lambda x: x + 1))
        answer = process.ask_given("b.g", (np.zeros(3),), 5, ("a.f",),
                                   chain.Reference(values, ("a.f",), (np.zeros(3),), []))
    finally:
        process.close()
    value, filename, loaded = answer.value
    assert value.tolist() == [1.0, 1.0, 1.0]  # answered by the grader, not the student's f
    assert filename == "child.py" and loaded == ()


def _request(function, *args):
    return protocol.HelpRequest(wire.body_of(wire.encode(protocol.help_request(function, args, {}))))


def test_the_reference_answers_only_helpers_within_bounds():
    """What a hostile child may ask: a function that is not a helper of the call, or arguments
    far larger than the case's, gets an error it raises in student code, never a value."""
    values = chain.ReferenceValues(lambda function: (lambda x: x.sum()))
    called: list[str] = []
    reference = chain.Reference(values, ("m.f",), (np.zeros((4, 3)),), called)

    def answer(request):
        return wire.decode(wire.body_of(reference.reply(request)))

    assert answer(_request("m.f", np.ones((4, 3)))) == {"op": "helped", "value": 12.0}
    assert "not a function the grader answers" in answer(_request("m.g", np.ones(2)))["error"]
    assert "far larger" in answer(_request("m.f", np.ones((100, 100))))["error"]
    assert "far larger" in answer(_request("m.f", np.ones((1, 10_000))))["error"]
    assert called == ["m.f"]
    # a remembered answer is never given for a function that is not a helper of this call
    other = chain.Reference(values, ("m.g",), (np.zeros((4, 3)),), [])
    reply = wire.decode(wire.body_of(other.reply(_request("m.f", np.ones((4, 3))))))
    assert "error" in reply


def test_remembered_answers_are_the_references(monkeypatch):
    """The same request is answered once by the reference, then from memory, identically."""
    calls = []

    def oracle(function):
        calls.append(function)
        return lambda x: x * 2

    values = chain.ReferenceValues(oracle)
    first = chain.Reference(values, ("m.f",), (np.zeros(3),), []).reply(_request("m.f", np.arange(3.0)))
    again = chain.Reference(values, ("m.f",), (np.zeros(3),), []).reply(_request("m.f", np.arange(3.0)))
    other = chain.Reference(values, ("m.f",), (np.zeros(3),), []).reply(_request("m.f", np.arange(3.0) + 1))
    assert first == again != other and calls == ["m.f", "m.f"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_may_call_only_those_before_it(function):
    helpers = chain.helpers_of(function)
    assert function not in helpers
    assert helpers == FUNCTIONS[:FUNCTIONS.index(function)]


@pytest.mark.parametrize("module", ["linear", "activations", "losses"])
def test_a_missing_file_costs_only_its_own_functions(module, grade, make_submission):
    folder = make_submission()
    (folder / f"{module}.py").unlink()
    result = grade(folder)
    assert losers(result) == {f for f in FUNCTIONS if f.startswith(module + ".")}
    assert all(c.upstream[0].startswith(module + ".") for c in result.cases if c.upstream)


def test_gradescope_says_where_to_start_and_why_a_caller_passed(grade, make_submission):
    from autograder.outputs import gradescope_json

    data = gradescope_json(grade(make_submission(**DW_TRANSPOSED)), load())
    assert data["output"].splitlines()[1] == "Start here:"
    assert "linear.linear_backward" in data["output"].splitlines()[2]
    texts = [t["output"] for t in data["tests"] if t["tags"] == ["xor.gradients"]]
    assert texts and all(t.startswith("Passed given correct helpers") for t in texts)
    assert all("because linear.linear_backward is wrong" in t for t in texts)


def test_remembered_answers_stay_within_their_budget():
    """However many large questions a hostile re-run asks, the grader keeps a bounded memory."""
    budget = 128 << 10
    values = chain.ReferenceValues(lambda function: (lambda x: x), size=budget)
    reference = chain.Reference(values, ("m.f",), (np.zeros((64, 64)),), [])
    for i in range(200):
        reference.reply(_request("m.f", np.full((8, 64), float(i))))  # 4 KB answers, all different
    assert 0 < values.held <= budget and 16 <= len(values.known) < 200
    before = dict(values.known)
    reference.reply(_request("m.f", np.ones((64, 64))))  # a 32 KB answer: too large to keep at all
    assert values.known == before
