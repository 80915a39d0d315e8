"""PrairieLearn external-grader results, one JSON file per submission.

PrairieLearn reads what a grader writes to ``/grade/results/results.json``:

* ``score``: a float in [0, 1], required when the submission is gradable;
* ``gradable``: false means "invalid, not gradable": no points given or taken, no
  attempt used; ``format_errors`` (a string or list of strings) then says why;
* ``message`` and ``output``: shown above the test list;
* ``tests``: objects with ``name``, ``description``, ``points``, ``max_points``,
  ``message`` and ``output``, rendered by ``<pl-external-grader-results>``.

The whole file should stay under 1 MB, so long outputs are clipped. A submission
whose status is ``error`` becomes ``gradable: false`` with its summary as the format
error. Tests Gradescope would hide from students (visibility ``hidden``) are left out
of ``tests``; their points still count in ``score``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from autograder.errors import UsageError
from autograder.exports.outdir import Submission, TestResult

TEST_OUTPUT_LIMIT = 20_000
OUTPUT_LIMIT = 200_000
SIZE_LIMIT = 1_000_000


def result(sub: Submission) -> dict[str, Any]:
    """The PrairieLearn results object for one submission."""
    data: dict[str, Any] = {
        "gradable": sub.graded,
        "score": fraction(sub.score, sub.max_score) if sub.graded else 0.0,
        "message": sub.summary,
        "output": _clip(sub.output, OUTPUT_LIMIT),
        "tests": [_test(t) for t in sub.tests if t.visibility != "hidden"],
    }
    if not sub.graded:
        data["format_errors"] = [sub.summary or "the grader could not grade this submission"]
    if len(json.dumps(data).encode("utf-8")) > SIZE_LIMIT:
        for test in data["tests"]:
            test["output"] = _clip(test["output"], 500)
        data["output"] = _clip(data["output"], 20_000)
    return data


def fraction(score: float, max_score: float) -> float:
    """score / max_score clamped to [0, 1]; 0 when nothing could be earned."""
    if max_score <= 0:
        return 0.0
    return min(1.0, max(0.0, score / max_score))


def _test(test: TestResult) -> dict[str, Any]:
    return {
        "name": test.name,
        "description": ", ".join(test.tags),
        "points": test.score,
        "max_points": test.max_score,
        "message": "Passed" if test.passed else "Failed",
        "output": _clip(test.output, TEST_OUTPUT_LIMIT),
    }


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... [{len(text) - limit} more characters clipped]"


def target_path(sub: Submission, output_dir: Path | None) -> Path:
    """OUT/<id>/prairielearn.json, or OUTPUT/<id>/results.json when an output dir is given."""
    if output_dir is None:
        return sub.folder / "prairielearn.json"
    return output_dir / sub.id / "results.json"


def write_results(rows: Iterable[Submission], output_dir: str | Path | None = None) -> list[Path]:
    """Write one results file per submission; return the paths written."""
    base = Path(output_dir) if output_dir is not None else None
    written = []
    for sub in rows:
        path = target_path(sub, base)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result(sub), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{path}: cannot write ({exc.strerror or exc})") from None
        written.append(path)
    return written
