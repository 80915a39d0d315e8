"""`autograder check [FOLDER]`: run the public cases on a student's working copy."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PASS, FAIL = "PASS", "FAIL"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="run the public tests on your exercises",
        description="Run the public tests on FOLDER (default: exercises/) and say what to fix.",
    )
    parser.add_argument("folder", nargs="?", type=Path, default=Path("exercises"), metavar="FOLDER")
    parser.set_defaults(run=run)


def report_lines(result) -> list[str]:
    """Function by function: what passes, and for a failure the case, the message and the hint."""
    lines = []
    for function, cases in result.by_function().items():
        failed = [c for c in cases if not c.passed]
        status = PASS if not failed else FAIL
        lines.append(f"{status}  {function:<38} {len(cases) - len(failed)}/{len(cases)} checks")
        for case in failed[:2]:
            lines.append(f"      {case.checked}")
            lines += [f"      {line}" for line in case.message.splitlines()[:6]]
            if case.details.get("hint"):
                lines.append(f"      likely mistake: {case.details['hint']}")
            if case.details.get("detail") and case.kind in ("import", "exception"):
                lines += [f"        {line}" for line in str(case.details["detail"]).splitlines()[-6:]]
    return lines


def run(args: argparse.Namespace) -> int:
    from autograder import runner
    from autograder.cli import UsageError
    from autograder.config import ConfigError, load
    from autograder.intake import IntakeError, load_one
    from autograder.sandbox.session import Policy, Sandbox
    from autograder.text import for_terminal

    if not args.folder.is_dir():
        raise UsageError(f"{args.folder} is not a folder (give the folder holding your exercise files)")
    try:
        settings = load()
        submission = load_one(args.folder)
    except (ConfigError, IntakeError) as exc:
        raise UsageError(str(exc)) from None
    suite = runner.Suite.prepare(("public",), settings, seed=0)
    with Sandbox(Policy()) as sandbox:
        result = runner.grade_submission(submission, suite, sandbox, settings)
    if result.status == "error" or not result.cases:
        raise UsageError(f"could not run the checks: {result.error or 'no public checks were found'}")
    for module, why in submission.problems.items():
        print(for_terminal(f"{module}.py: {why}"))
    print("\n".join(for_terminal(line) for line in report_lines(result)))
    passed = sum(c.passed for c in result.cases)
    print(f"\n{passed}/{len(result.cases)} public checks pass. These are the public checks only: "
          "the grader runs more cases, compared with torch.")
    if result.output.strip():
        print("\nYour code printed:\n" + for_terminal(result.output[-2000:]), file=sys.stderr)
    return 0 if passed == len(result.cases) else 1
