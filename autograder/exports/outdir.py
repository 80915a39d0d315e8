"""A graded OUT folder as every `autograder export` target reads it.

There is one model of a result (`results.SubmissionResult`, written to and read back
from OUT/<id>/result.full.json by `outputs`); `Submission` is the view of it the
exporters need: the LMS ids a download gave, the score, the one-line summary, and the
tests as a student sees them (the same visibility rule as results.json). Whatever
is missing or malformed in OUT is a one-line UsageError naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from autograder.errors import UsageError
from autograder.results import SubmissionResult


@dataclass(frozen=True)
class TestResult:
    """One test as results.json lists it."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    score: float
    max_score: float
    status: str
    output: str = ""
    visibility: str = "visible"
    tags: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class Submission:
    """One graded submission, as the exporters see it."""

    result: SubmissionResult
    folder: Path

    @property
    def id(self) -> str:
        return self.result.id

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def max_score(self) -> float:
        return self.result.max_score

    @property
    def graded(self) -> bool:
        """False when the grader could not grade the submission (status `error`)."""
        return self.result.status == "graded"

    @property
    def meta(self) -> dict[str, Any]:
        """What the LMS download said of the student (name, ids, late...)."""
        return self.result.meta

    @property
    def lms(self) -> str:
        """The LMS the submission came from ("canvas", "moodle"), or ""."""
        return str(self.meta.get("lms", ""))

    @property
    def lms_name(self) -> str:
        return str(self.meta.get("name", ""))

    @property
    def lms_user_id(self) -> str:
        return str(self.meta.get("user_id", ""))

    @property
    def summary(self) -> str:
        return " ".join(self.result.summary().split())

    @cached_property
    def _student_view(self) -> dict[str, Any]:
        """The results.json grading wrote: what the student was shown, under the settings the
        class was graded with (not whatever course.toml says at export time)."""
        try:
            view = json.loads(self.results_path.read_text(encoding="utf-8"))
            view["output"], view["tests"]  # noqa: B018 - both must be there
        except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
            raise UsageError(f"{self.results_path}: not a results.json written by grade ({exc})") from None
        return view

    @property
    def output(self) -> str:
        return str(self._student_view["output"])

    @property
    def tests(self) -> tuple[TestResult, ...]:
        """The tests as results.json shows them to the student."""
        return tuple(TestResult(t["name"], t["score"], t["max_score"], t["status"], t["output"],
                                t["visibility"], tuple(t["tags"])) for t in self._student_view["tests"])

    @property
    def results_path(self) -> Path:
        return self.folder / "results.json"

    def feedback_files(self) -> list[Path]:
        """The feedback files the grader left for this submission (html first)."""
        return [self.folder / n for n in ("feedback.html", "feedback.md") if (self.folder / n).is_file()]


@dataclass(frozen=True)
class OutDir:
    """A validated OUT folder."""

    path: Path
    submissions: tuple[Submission, ...]


def format_score(value: float) -> str:
    """Points as a plain number: at most 2 decimals, no trailing zeros (8, 7.5, 6.67).

    Two decimals is the precision Canvas itself exports and compares scores at.
    """
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def load_out(path: str | Path) -> OutDir:
    """Every submission of the OUT folder at `path`; UsageError (one line) if it is not one."""
    from autograder.outputs import read_out

    try:
        found = read_out(Path(path))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return OutDir(Path(path), tuple(Submission(result, folder) for result, folder in found))
