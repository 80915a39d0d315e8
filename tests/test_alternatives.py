"""Correct code written differently must score full marks, and no hint may fire on it.

tests/alternatives/<name>/ holds complete submissions that differ from the
reference in how they compute, not in what: loops, einsum, log-sum-exp softmax
and cross-entropy, a tanh-based sigmoid, np.where and boolean-mask sigmoids,
float32-keeping code, and network.py/xor.py that import nothing from siblings.
A lost point here means a tolerance or a case is wrong, not the alternative; a
hint here means a known mistake's fingerprint fires on correct code. The
reference and the course's correct example submissions are graded alike.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import COURSE, MODULES, ROOT

ALTERNATIVES = Path(__file__).with_name("alternatives")
NAMES = sorted(p.name for p in ALTERNATIVES.iterdir() if p.is_dir() and not p.name.startswith("_"))
#: The bundled example submissions that are the reference (course/examples.py: "solutions").
CORRECT_EXAMPLES = sorted(name for name, recipe in COURSE.python_module("", "examples").EXAMPLES.items()
                          if recipe == "solutions")
CORRECT = {"reference": ROOT / "solutions",
           **{f"example {name}": COURSE.examples / name for name in CORRECT_EXAMPLES},
           **{name: ALTERNATIVES / name for name in NAMES}}


def test_every_alternative_is_a_full_submission():
    assert len(NAMES) >= 7
    for name in NAMES:
        assert {p.stem for p in (ALTERNATIVES / name).glob("*.py")} == set(MODULES), name


@pytest.mark.parametrize("name", CORRECT)
def test_correct_code_scores_full_marks_without_hints(name, grade):
    assert CORRECT_EXAMPLES
    result = grade(CORRECT[name])
    failed = [(c.name, c.message) for c in result.cases if not c.passed]
    assert failed == []
    assert result.score == result.max_score
    assert not [c.name for c in result.cases if c.details.get("hint")]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}


def test_standalone_network_and_xor_import_no_sibling():
    for module in ("network", "xor"):
        assert not _imports(ALTERNATIVES / "standalone" / f"{module}.py") & set(MODULES), module
