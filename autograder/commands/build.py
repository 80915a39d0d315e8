"""`autograder build [--check]`: regenerate what the course derives from its reference.

The stubs in exercises/ and the example submissions in examples/submissions/ are made
from solutions/ and course/ (see `autograder.build`); `--check` writes nothing and exits
1 when a generated file is missing or differs.
"""

from __future__ import annotations

import argparse

from autograder.i18n import gettext


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "build", help="regenerate the stubs and the example submissions from the reference",
        description="Regenerate exercises/ (the stubs) and examples/submissions/ from solutions/ and "
                    "course/. With --check, only say which generated files are out of date.",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything differs")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from autograder import build, course
    from autograder.cli import UsageError

    try:
        loaded = course.load()
        changed = build.differing(loaded) if args.check else build.write(loaded)
    except (course.CourseError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    for path in changed:
        text = gettext("out of date: {file}") if args.check else gettext("wrote: {file}")
        print(text.format(file=path.relative_to(loaded.root)))
    if not changed:
        print(gettext("every generated file is up to date"))
    return 1 if changed and args.check else 0
