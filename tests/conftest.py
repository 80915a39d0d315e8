"""Shared fixtures: one collection of the graded cases and one sandbox per test session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autograder import course, i18n, intake, runner
from autograder.config import load
from autograder.results import SubmissionResult
from autograder.sandbox.session import Sandbox
from autograder.stubs import strip_markers

#: The tests read the kit's English whatever the machine's locale; test_i18n.py changes it per test.
os.environ[i18n.ENV] = i18n.SOURCE

ROOT = Path(__file__).resolve().parent.parent
#: The kit's own course, which the tests grade: its modules and its functions ("module.name").
COURSE = course.load(ROOT)
MODULES = COURSE.names
FUNCTIONS = COURSE.functions


@pytest.fixture(autouse=True)
def _in_english(monkeypatch) -> None:
    """Every test starts in English, whatever language an earlier one chose (the command line
    sets AUTOGRADER_LANG for the process)."""
    monkeypatch.setenv(i18n.ENV, i18n.SOURCE)


#: The seed of the tests' hidden inputs (a grading run draws a fresh one unless told).
SEED = 20261122


@pytest.fixture(scope="session")
def suite() -> runner.Suite:
    """Every hidden and public case, collected once, with its points (no planned calls)."""
    return runner.Suite.prepare(("public", "hidden"), load(), SEED)


@pytest.fixture(scope="session")
def graded_cases(suite) -> tuple[list, list]:
    """Every hidden and public case and its points."""
    return list(suite.cases), list(suite.points)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


@pytest.fixture(scope="session")
def grade(suite, sandbox) -> Callable[[Path], SubmissionResult]:
    """Grade a submission folder (or zip) with the full suite."""

    def _grade(path: Path) -> SubmissionResult:
        return runner.grade_submission(intake.load_one(path), suite, sandbox, load())

    return _grade


def reference_copy(target: Path) -> Path:
    """A correct submission: the reference solutions without their markers."""
    target.mkdir(parents=True, exist_ok=True)
    for module in MODULES:
        source = (ROOT / "solutions" / f"{module}.py").read_text()
        (target / f"{module}.py").write_text(strip_markers(source))
    return target


@pytest.fixture
def make_submission(tmp_path) -> Callable[..., Path]:
    """A reference copy with `replacements` {module: [(old, new), ...]} applied (each must match)."""

    def _make(name: str = "sub", **replacements: list[tuple[str, str]]) -> Path:
        folder = reference_copy(tmp_path / name)
        for module, edits in replacements.items():
            path = folder / f"{module}.py"
            text = path.read_text()
            for old, new in edits:
                assert old in text, f"{old!r} not found in {module}.py"
                text = text.replace(old, new)
            path.write_text(text)
        return folder

    return _make


def losers(result: SubmissionResult) -> set[str]:
    """Functions that lost points."""
    return {f for f, (score, top) in result.function_scores().items() if score < top - 1e-9}


__all__ = ["COURSE", "FUNCTIONS", "MODULES", "losers", "reference_copy", "shutil"]
