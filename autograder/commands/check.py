"""`autograder check [FOLDER]`: run the public cases on a student's working copy.

The public cases go through the same pipeline as grading (`runner.grade_submission`),
so a function passes check only if it passes them there too. On a terminal the
verdicts are in colour (not when NO_COLOR is set or TERM is dumb, nor when the output
is a file or a pipe), and the explanations are wrapped to the terminal's width.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from autograder.course import module_of
from autograder.i18n import gettext
from autograder.text import wrap

if TYPE_CHECKING:
    from autograder.results import CaseResult, SubmissionResult

#: A function's verdict: the same words in every language (the README shows them as they are).
PASS, FAIL = "PASS", "FAIL"
#: ANSI styles: bold green, bold red, yellow, bold.
GREEN, RED, YELLOW, BOLD = "1;32", "1;31", "33", "1"
#: Lines never wrap narrower than this, whatever the terminal says.
MIN_WIDTH = 40
#: Indents of a failure's explanation, of its continuation lines and of a traceback.
INDENT, MORE, DEEPER = " " * 6, " " * 8, " " * 8


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="run the public tests on your exercises",
        description="Run the public tests on FOLDER (default: exercises/) and say what to fix.",
    )
    parser.add_argument("folder", nargs="?", type=Path, default=Path("exercises"), metavar="FOLDER")
    parser.add_argument("--only", metavar="FUNCTION",
                        help="check one function only: module.function, or the function's name")
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class Style:
    """How the report is drawn: in colour or not, and the width its lines wrap to."""

    colour: bool = False
    width: int = 80

    @classmethod
    def of(cls, stream: TextIO) -> Style:
        """Colour when `stream` is a terminal and the user has not turned colour off (NO_COLOR,
        see no-color.org, or TERM=dumb); the terminal's width (COLUMNS, else the terminal's, else 80)."""
        colour = (_is_terminal(stream) and not os.environ.get("NO_COLOR")
                  and os.environ.get("TERM", "") != "dumb")
        return cls(colour, max(MIN_WIDTH, shutil.get_terminal_size().columns))

    def paint(self, text: str, style: str) -> str:
        """`text` in the ANSI `style` when in colour."""
        return f"\x1b[{style}m{text}\x1b[0m" if self.colour else text

    def wrap(self, text: str, first: str, rest: str = MORE) -> list[str]:
        """`text` wrapped to the width, its first line indented by `first`, the others by `rest`."""
        return wrap(text, self.width, first, rest) or [first.rstrip()]


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


def report_lines(result: SubmissionResult, style: Style = Style()) -> list[str]:
    """Function by function: what passes, and for a failure the case, the message and the hint."""
    from autograder.text import for_terminal

    groups = result.by_function()
    pad = max(map(len, groups), default=0)
    lines = []
    for function, cases in groups.items():
        failed = [c for c in cases if not c.passed]
        status = style.paint(FAIL, RED) if failed else style.paint(PASS, GREEN)
        checks = gettext("{passed}/{total} checks").format(passed=len(cases) - len(failed), total=len(cases))
        lines.append(f"{status}  {function:<{pad}}  {checks}")
        for case in failed[:2]:
            lines += _failure(case, style, for_terminal)
    return lines


def _failure(case: CaseResult, style: Style, safe: Callable[[Any], str]) -> list[str]:
    """The lines explaining one failed case: what it checks, what went wrong, the likely mistake."""
    shown = case.shown(reveal_hidden=True)  # public cases: the student sees them whole
    lines = style.wrap(safe(shown.checked), INDENT)
    for line in safe(shown.message).splitlines()[:6]:
        lines += style.wrap(line, INDENT)
    if shown.hint:
        head = gettext("likely mistake: ")
        hinted = style.wrap(head + safe(shown.hint), INDENT)
        hinted[0] = hinted[0].replace(head, style.paint(head, YELLOW), 1)
        lines += hinted
    if shown.traceback and case.kind in ("import", "exception"):
        for line in safe(shown.traceback).splitlines()[-6:]:
            indent = DEEPER + line[:len(line) - len(line.lstrip())]
            lines += style.wrap(line.strip(), indent, indent + "    ")
    return lines


def chosen_function(name: str, functions: tuple[str, ...]) -> str:
    """The exercise function `name` stands for ("module.function" or a function's own name);
    UsageError naming the choices when it stands for none, or for several."""
    from autograder.cli import UsageError

    if name in functions:
        return name
    matches = [f for f in functions if f.partition(".")[2] == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(gettext("--only {name}: several functions have that name: {functions}").format(
            name=name, functions=", ".join(matches)))
    inside = [f for f in functions if module_of(f) == name]
    if inside:
        text = gettext("--only {name}: that is a module; give one of its functions: {functions}")
        raise UsageError(text.format(name=name, functions=", ".join(inside)))
    close = difflib.get_close_matches(name, [*functions, *(f.partition(".")[2] for f in functions)], n=1)
    text = (gettext("--only {name}: no exercise function has that name (did you mean {guess}?); the "
                    "functions are {functions}") if close
            else gettext("--only {name}: no exercise function has that name; the functions are {functions}"))
    raise UsageError(text.format(name=name, guess=close[0] if close else "", functions=", ".join(functions)))


def run(args: argparse.Namespace) -> int:
    from autograder import course as courses
    from autograder import runner
    from autograder.cli import UsageError
    from autograder.config import ConfigError, load
    from autograder.intake import IntakeError, load_one
    from autograder.sandbox.session import Policy, Sandbox
    from autograder.text import for_terminal

    only = chosen_function(args.only, courses.load().functions) if args.only else None
    if not args.folder.is_dir():
        text = gettext("{folder} is not a folder (give the folder holding your exercise files)")
        raise UsageError(text.format(folder=args.folder))
    try:
        settings = load()
        submission = load_one(args.folder)
    except (ConfigError, IntakeError) as exc:
        raise UsageError(str(exc)) from None
    suite = runner.Suite.prepare(("public",), settings, seed=0)
    suite = suite.of(only) if only else suite
    with Sandbox(Policy()) as sandbox:
        result = runner.grade_submission(submission, suite, sandbox, settings)
    if result.status == "error" or not result.cases:
        raise UsageError(gettext("could not run the checks: {error}").format(
            error=result.error or gettext("no public checks were found")))
    style = Style.of(sys.stdout)
    for module, why in submission.problems.items():
        if only is None or module_of(only) == module:
            line = gettext("{file}: {why}").format(file=f"{module}.py", why=why)
            print("\n".join(style.wrap(for_terminal(line), "", "  ")))
    print("\n".join(report_lines(result, style)))
    passed = sum(c.passed for c in result.cases)
    summary = style.wrap(gettext("{passed}/{total} public checks pass. These are the public checks only: the "
                                 "grader runs more cases, compared with torch.").format(
                                     passed=passed, total=len(result.cases)), "", "")
    summary[0] = style.paint(summary[0], BOLD)
    print("\n" + "\n".join(summary))
    if result.output.strip():
        printed = for_terminal(result.output[-2000:])
        print("\n" + gettext("Your code printed:") + "\n" + printed, file=sys.stderr)
    return 0 if passed == len(result.cases) else 1
