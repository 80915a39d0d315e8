"""The check-vs-grade gap: typical mistakes that `autograder check` passes and grading still docks.

Each mistake the course plants (course/*/mistakes.py, PLANTED) is made alone in the
reference and run twice through the one pipeline (runner.grade_submission): with the
public cases only, as `autograder check` runs them, and with every case, as `grade`
does. A mistake is in the gap when every public case of the function it is planted in
passes, yet grading takes points from the submission. The aim is an empty gap, but for
mistakes only a hidden edge case can show.

    python benchmarks/check_gap.py [--seed N] [--mutants]

Prints the counts, then each mistake with what check and grading said of it. With
--mutants, the single-point mutants of benchmarks/mutation.py are measured too (a wider,
blinder net: a mutant that changes nothing a test can see is in neither count).
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


Mistake = tuple[str, str, str, str]
"""(name, function it is in, module, that module's source with the mistake)."""


def planted_mistakes(course: courses.Course) -> list[Mistake]:
    """Every mistake the course plants, made alone in the reference."""
    base = reference(course)
    return [(name, m.function, m.module, m.apply(base[m.module])) for name, m in planted(course).items()]


def mutants() -> list[Mistake]:
    """The single-point mutants of benchmarks/mutation.py."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import mutation

    return [(m.key, m.tag, m.module, m.source) for m in mutation.all_mutants()]


def measure(mistakes: list[Mistake], seed: int) -> list[Verdict]:
    """Check and grade each mistake made alone in the reference; one verdict each."""
    course, settings = courses.load(), load()
    public = runner.Suite.prepare(("public",), settings, seed=0)  # what `autograder check` runs
    full = runner.Suite.prepare(("public", "hidden"), settings, seed=seed)
    base = reference(course)
    verdicts = []
    with Sandbox() as sandbox:
        for name, function, module, source in mistakes:
            submission = Submission(name, sources={**base, module: source})
            checked = runner.grade_submission(submission, public, sandbox, settings)
            graded = runner.grade_submission(submission, full, sandbox, settings)
            for result in (checked, graded):
                if result.status == "error":
                    raise RuntimeError(f"{name}: could not be graded: {result.error}")
            failed = [c.label for c in checked.cases if c.function == function and not c.passed]
            verdicts.append(Verdict(name, function, failed, losers(graded)))
    return verdicts


def describe(verdict: Verdict) -> str:
    """One line: the mistake, what check said of its function, what grading took points from."""
    check = f"check FAILS {len(verdict.check_failed)} case(s)" if verdict.check_failed else "check passes"
    lost = ", ".join(verdict.lost) or "nothing"
    marker = "GAP " if verdict.in_gap else "    "
    return f"{marker}{verdict.function:<36} {verdict.name!r}: {check}; grading docks {lost}"


def report(what: str, verdicts: list[Verdict], every: bool) -> None:
    """The counts; then every verdict (`every`) or those in the gap only."""
    gap = [v for v in verdicts if v.in_gap]
    caught = sum(bool(v.check_failed) for v in verdicts)
    print(f"{len(verdicts)} {what}: check fails {caught}, {len(gap)} pass check and still lose points "
          "in grading")
    for verdict in verdicts if every else gap:
        print(describe(verdict))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="the hidden inputs' seed (default 0)")
    parser.add_argument("--mutants", action="store_true", help="also measure the single-point mutants")
    args = parser.parse_args(argv)
    report("planted mistakes", measure(planted_mistakes(courses.load()), args.seed), every=True)
    if args.mutants:
        print()
        report("single-point mutants", measure(mutants(), args.seed), every=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
