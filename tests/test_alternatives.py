"""Correct code written differently must score full marks, and no hint may fire on it.

tests/alternatives/<name>/ holds complete submissions that differ from the
reference in how they compute, not in what: loops, einsum, log-sum-exp softmax
and cross-entropy, a tanh-based sigmoid, np.where and boolean-mask sigmoids,
float32-keeping code, and network.py/xor.py that import nothing from siblings.
A lost point here means a tolerance or a case is wrong, not the alternative.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import MODULES, ROOT

ALTERNATIVES = Path(__file__).with_name("alternatives")
NAMES = sorted(p.name for p in ALTERNATIVES.iterdir() if p.is_dir() and not p.name.startswith("_"))


def test_every_alternative_is_a_full_submission():
    assert len(NAMES) >= 7
    for name in NAMES:
        assert {p.stem for p in (ALTERNATIVES / name).glob("*.py")} == set(MODULES), name


@pytest.mark.parametrize("name", ["reference", *NAMES])
def test_correct_code_scores_full_marks_without_hints(name, grade):
    folder = ROOT / "solutions" if name == "reference" else ALTERNATIVES / name
    result = grade(folder)
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
