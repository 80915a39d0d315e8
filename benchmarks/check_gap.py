"""The check-vs-grade gap: typical mistakes that `autograder check` passes and grading still docks.

Each mistake the course plants (course/*/mistakes.py, PLANTED) is made alone in the
reference and run twice through the one pipeline (runner.grade_submission): with the
public cases only, as `autograder check` runs them, and with every case, as `grade`
does. A mistake is in the gap when every public case of the function it is planted in
passes, yet grading takes points from the submission. The aim is an empty gap, but for
mistakes only a hidden edge case can show.

    python benchmarks/check_gap.py [--seed N]

Prints the counts, then each mistake with what check and grading said of it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import course as courses  # noqa: E402 - after the path is set
from autograder import runner  # noqa: E402
from autograder.build import planted  # noqa: E402
from autograder.config import load  # noqa: E402
from autograder.intake import Submission  # noqa: E402
from autograder.sandbox.session import Sandbox  # noqa: E402
from autograder.stubs import strip_markers  # noqa: E402


@dataclass(frozen=True)
class Verdict:
    """What check and grading made of one planted mistake."""

    name: str
    function: str
    check_failed: list[str]   # the public cases of its function that failed (their labels)
    lost: list[str]           # the functions that lost points in grading

    @property
    def in_gap(self) -> bool:
        """Check passes its function, grading still takes points."""
        return not self.check_failed and bool(self.lost)


def reference(course: courses.Course) -> dict[str, str]:
    """Each module's reference without its solution markers: a correct submission."""
    return {m: strip_markers((course.solutions / f"{m}.py").read_text(encoding="utf-8"))
            for m in course.names}


def losers(result) -> list[str]:
    """The functions of `result` that lost points."""
    return [f for f, (score, most) in result.function_scores().items() if score < most - 1e-9]


def measure(seed: int) -> list[Verdict]:
    """Check and grade every planted mistake of the course; one verdict each, in course order."""
    course, settings = courses.load(), load()
    public = runner.Suite.prepare(("public",), settings, seed=0)  # what `autograder check` runs
    full = runner.Suite.prepare(("public", "hidden"), settings, seed=seed)
    base = reference(course)
    verdicts = []
    with Sandbox() as sandbox:
        for name, mistake in planted(course).items():
            sources = {**base, mistake.module: mistake.apply(base[mistake.module])}
            submission = Submission(name, sources=sources)
            checked = runner.grade_submission(submission, public, sandbox, settings)
            graded = runner.grade_submission(submission, full, sandbox, settings)
            for result in (checked, graded):
                if result.status == "error":
                    raise RuntimeError(f"{name}: could not be graded: {result.error}")
            failed = [c.label for c in checked.cases if c.function == mistake.function and not c.passed]
            verdicts.append(Verdict(name, mistake.function, failed, losers(graded)))
    return verdicts


def describe(verdict: Verdict) -> str:
    """One line: the mistake, what check said of its function, what grading took points from."""
    check = f"check FAILS {len(verdict.check_failed)} case(s)" if verdict.check_failed else "check passes"
    lost = ", ".join(verdict.lost) or "nothing"
    marker = "GAP " if verdict.in_gap else "    "
    return f"{marker}{verdict.function:<36} {verdict.name!r}: {check}; grading docks {lost}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="the hidden inputs' seed (default 0)")
    args = parser.parse_args(argv)
    verdicts = measure(args.seed)
    gap = [v for v in verdicts if v.in_gap]
    caught = sum(bool(v.check_failed) for v in verdicts)
    print(f"{len(verdicts)} planted mistakes: check fails {caught}, "
          f"{len(gap)} pass check and still lose points in grading")
    for verdict in verdicts:
        print(describe(verdict))
    if gap:
        print("in the gap: " + ", ".join(v.name for v in gap))
    return 0


if __name__ == "__main__":
    sys.exit(main())
