"""A handful of fixed mutants, one per operator family, each caught in the function it mutates."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from conftest import ROOT, losers

from autograder import runner
from autograder.config import load
from autograder.intake import Submission


def _load_mutation():
    """benchmarks/mutation.py as a module (benchmarks/ is not a package)."""
    if "mutation" not in sys.modules:
        spec = importlib.util.spec_from_file_location("mutation", ROOT / "benchmarks" / "mutation.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["mutation"] = module
        spec.loader.exec_module(module)
    return sys.modules["mutation"]


mutation = _load_mutation()

# (family, function, a piece of the mutated line that picks one mutant)
PICKS = [
    ("arithmetic", "linear.linear", "x @ W.T - b"),
    ("arithmetic", "linear.linear_backward", "grad_z.T * x"),
    ("comparison", "activations.relu_prime", "z >= 0"),
    ("constant", "losses.mse_prime", "return 3 *"),
    ("axis", "activations.softmax", "e.sum(axis=0, keepdims=True)"),
    ("keepdims", "losses.softmax_cross_entropy_prime", "z.max(axis=-1))"),
    ("transpose", "linear.linear", "x @ W + b"),
    ("unary-minus", "losses.cross_entropy", "return np.mean("),
    ("sum-mean", "linear.linear_backward", "grad_z.mean(axis=0)"),
    ("max-min", "activations.relu", "np.minimum(z, 0)"),
    ("exp-log", "activations.sigmoid", "np.log(-np.abs(z))"),
    ("dropped-call", "xor.forward", "return linear(hidden"),
]


@pytest.fixture(scope="module")
def mutants() -> list:
    return mutation.all_mutants()


def _pick(mutants: list, family: str, function: str, piece: str):
    chosen = [m for m in mutants if m.family == family and m.tag == function and piece in m.after]
    assert len(chosen) == 1, [m.key for m in chosen]
    return chosen[0]


def test_every_family_makes_mutants_inside_solution_blocks_only(mutants):
    assert {family for family, _, _ in PICKS} == {m.family for m in mutants}
    assert len({m.source for m in mutants}) == len(mutants)  # no duplicates
    for m in mutants:
        text = (mutation.SOLUTIONS / f"{m.module}.py").read_text()
        assert any(a <= m.line <= b for a, b in mutation.solution_lines(text)), m.key


def test_limit_spreads_over_every_module(mutants):
    chosen = mutation.spread(mutants, 10)
    assert len(chosen) == 10
    assert {m.module for m in chosen} >= {"linear", "activations", "losses"}


@pytest.mark.parametrize("family, function, piece", PICKS, ids=[f"{p[0]}-{p[1]}" for p in PICKS])
def test_mutant_is_caught_in_its_function(family, function, piece, mutants, suite, sandbox):
    mutant = _pick(mutants, family, function, piece)
    sources = {m: (ROOT / "solutions" / f"{m}.py").read_text() for m in mutation.MODULES}
    submission = Submission(mutant.key, sources={**sources, mutant.module: mutant.source})
    result = runner.grade_submission(submission, suite, sandbox, load())
    assert function in losers(result), mutant.key


def test_equivalent_list_names_real_mutants(mutants):
    """Every key in equivalent_mutants.md is a mutant the generator still makes."""
    text = Path(mutation.EQUIVALENT).read_text()
    listed = [line.split("`")[1] for line in text.splitlines() if line.startswith("- `")]
    keys = {m.key for m in mutants}
    assert listed and all(key in keys for key in listed)
