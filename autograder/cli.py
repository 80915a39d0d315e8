"""The `autograder` console script: one sub-command per module in autograder/commands/.

Each command module defines `register(subparsers)`, which adds its parser and sets
`run=<callable(args) -> int>` as a default. Errors a user can fix are raised as
`UsageError` and printed as one line, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("check", "grade", "release", "export", "gradescope", "prairielearn", "nbgrader")


class UsageError(Exception):
    """A problem with the user's input: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Exercise kit and sandboxed autograder for neural-network internals.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"autograder.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"autograder.commands.{name}":
                continue  # not shipped: the student bundle has only `check`
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except UsageError as exc:
        print(f"autograder {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("autograder: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
