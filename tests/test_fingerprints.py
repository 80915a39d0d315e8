"""Known mistakes get a targeted hint, drawn inputs are named by their kind, and instability costs
part of a function.

The mistakes are the course's typical ones (course/<module>/mistakes.py PLANTED): each is
made alone in the reference, and the hint of every hidden case its function answers wrongly
must name it, drawn inputs included. That no hint fires on correct code is
tests/test_alternatives.py's: the reference, the correct example and the alternatives score
full marks without a hint. What the drawn inputs' labels may say is test_drawn_inputs.py's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import COURSE, losers, reference_copy

from autograder import build
from autograder.results import CaseResult, SubmissionResult

PLANTED = build.planted(COURSE)
#: Failures where the function gave an answer a fingerprint can look at (not an exception or a timeout).
ANSWERED = ("value", "shape", "modified", "warning")
DRAWN = "drawn inputs, "


def with_mistake(tmp_path: Path, name: str) -> Path:
    """A reference copy with the planted mistake `name` made."""
    mistake = PLANTED[name]
    folder = reference_copy(tmp_path / "submission")
    path = folder / f"{mistake.module}.py"
    path.write_text(mistake.apply(path.read_text()))
    return folder


def failed(result: SubmissionResult, function: str) -> list[CaseResult]:
    return [c for c in result.cases if c.function == function and not c.passed]


@pytest.mark.parametrize("name", sorted(n for n, m in PLANTED.items() if m.hint))
def test_planted_mistake_gets_its_hint(name, tmp_path, grade):
    """The mistake costs its function and only it (a caller that is right given a right helper
    keeps its points), and every hidden case the function answers wrongly names it."""
    mistake = PLANTED[name]
    result = grade(with_mistake(tmp_path, name))
    assert losers(result) == {mistake.function}
    answered = [c for c in failed(result, mistake.function) if c.hidden and c.kind in ANSWERED]
    assert answered
    hints = [(c.label, c.details.get("hint") or "") for c in answered]
    assert [(label, hint) for label, hint in hints if mistake.hint not in hint] == []


def drawn_kind(case: CaseResult) -> str | None:
    """The kind of input of a drawn-input case ("large logits"), None for any other case."""
    if not case.label.startswith(DRAWN):
        return None
    return case.label.removeprefix(DRAWN).removesuffix(f" ({case.function})")


# a planted mistake: the kinds of drawn input it fails on whatever the seed, and those it passes
BY_KIND = {
    "softmax without the max shift": ({"large logits"}, {"float64", "a batch of one", "float32"}),
    "softmax shifted by the global maximum": ({"large logits"}, {"float64", "a batch of one", "float32"}),
    "mse_prime divided by the rows only": ({"several outputs per row"}, {"one output per row"}),
}


@pytest.mark.parametrize("name", BY_KIND)
def test_drawn_failure_names_the_kind_of_input_and_the_mistake(name, tmp_path, grade):
    """A failure on hidden drawn inputs tells the student the kind of input that broke the function
    and the likely mistake, without the inputs' values."""
    mistake, (broken, fine) = PLANTED[name], BY_KIND[name]
    result = grade(with_mistake(tmp_path, name))
    drawn = [c for c in result.cases if c.function == mistake.function and drawn_kind(c) is not None]
    kinds = {drawn_kind(c) for c in drawn if not c.passed}
    assert broken <= kinds and not fine & kinds, kinds
    for case in drawn:
        shown = case.shown()
        assert shown.concealed and not shown.message and not shown.details
        if not case.passed:
            assert drawn_kind(case) in shown.text() and mistake.hint in shown.text(), shown.text()


UNSTABLE = {
    "activations.softmax": "softmax without the max shift",
    "activations.sigmoid": "sigmoid without the stable form",
}


@pytest.mark.parametrize("function", UNSTABLE)
def test_unstable_code_gets_partial_credit(function, tmp_path, grade):
    """Right on ordinary inputs, wrong at the extremes: part of the points, and the lost cases say why."""
    result = grade(with_mistake(tmp_path, UNSTABLE[function]))
    score, top = result.function_scores()[function]
    assert 0 < score < top
    lost = failed(result, function)
    assert lost and all("overflow" in (c.details.get("hint") or "") for c in lost)
    assert all(c.score == 0 and c.max_score > 0 for c in lost)
    assert abs(top - score - sum(c.max_score for c in lost)) < 1e-3  # function_scores rounds
    passed = [c for c in result.cases if c.function == function and c.passed]
    assert len(passed) > len(lost)  # the ordinary inputs still count
