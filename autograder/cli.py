"""The `autograder` console script: one sub-command per module in autograder/commands/.

Each command module defines `register(subparsers)`, which adds its parser and sets
`run=<callable(args) -> int>` as a default. Errors a user can fix are raised as
`UsageError` and printed as one line, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from autograder import course, i18n
from autograder.errors import UsageError

COMMANDS = ("check", "grade", "release", "export", "gradescope", "prairielearn", "nbgrader", "build")
__all__ = ["UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Exercise kit and sandboxed autograder: students implement a course's functions, "
                    "the grader checks them against a torch reference.",
    )
    parser.add_argument("--course", type=Path, metavar="DIR",
                        help="the course folder (solutions/, course/...): default, the kit's own")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"autograder.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"autograder.commands.{name}":
                continue  # not shipped: the student bundle has only `check`
            raise
        module.register(sub)
    for name in i18n.VERBS:
        if name in sub.choices:
            i18n.add_option(sub.choices[name])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.course is not None:
        os.environ[course.ENV] = str(args.course.resolve())  # for this process and those it starts
    try:
        i18n.choose(getattr(args, "lang", None) or i18n.language())  # the same in the processes it starts
        course.load()  # a course that cannot be read is the user's problem, said in one line
        return int(args.run(args) or 0)
    except (UsageError, course.CourseError, i18n.LanguageError) as exc:
        print(i18n.gettext("autograder {command}: error: {error}").format(command=args.command, error=exc),
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(i18n.gettext("autograder: interrupted"), file=sys.stderr)
        return 130


def run() -> None:
    """The `autograder` command: `main`, then exit. With torch loaded (grading), the interpreter's
    own teardown of it takes about 0.4 s and does nothing a finished command needs: every file
    is written and closed, the workers are joined, so the process ends at once."""
    code = main()
    if "torch" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
