"""`autograder nbgrader COURSE_DIR --assignment NAME`: nbgrader source notebooks, one per exercise module.

Writes COURSE_DIR/source/NAME/<module>.ipynb and the helper nbchecks.py they import
(see `autograder.notebook.build`), and, unless one exists, COURSE_DIR/nbgrader_config.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.i18n import gettext
from autograder.notebook.build import CONFIG, write_assignment


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `nbgrader` parser."""
    parser = subparsers.add_parser(
        "nbgrader", help="write nbgrader source notebooks for the exercises",
        description="Write COURSE_DIR/source/NAME/<module>.ipynb (one per exercise module, with "
                    "solution and autograder test cells) and COURSE_DIR/nbgrader_config.py.",
    )
    parser.add_argument("course_dir", type=Path, metavar="COURSE_DIR")
    parser.add_argument("--assignment", required=True, metavar="NAME", help="the nbgrader assignment name")
    parser.add_argument("--force", action="store_true", help="overwrite existing source notebooks")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the arguments, write the notebooks and the config."""
    from autograder.cli import UsageError

    name = args.assignment
    if not name or name.strip() != name or "/" in name or name.startswith("."):
        raise UsageError(gettext("--assignment {name}: give a plain folder name").format(name=repr(name)))
    folder = args.course_dir / "source" / name
    if folder.exists() and any(folder.glob("*.ipynb")) and not args.force:
        text = gettext("{folder} already has notebooks (add --force to overwrite them)")
        raise UsageError(text.format(folder=folder))
    try:
        written = write_assignment(folder)
    except FileNotFoundError as exc:
        raise UsageError(gettext("cannot read {file}").format(file=exc.filename)) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(gettext("wrote {count} files to {folder}").format(count=len(written), folder=folder))
    config = args.course_dir / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG)
        print(gettext("wrote {file}").format(file=config))
    elif "ClearHiddenTests" not in config.read_text():
        text = gettext("WARNING: {file} exists: add the GenerateFeedback.preprocessors and Execute.timeout "
                       "settings that `autograder nbgrader` writes to a new course, or the feedback will "
                       "show the hidden tests")
        print(text.format(file=config), file=sys.stderr)
    command = f"cd {args.course_dir} && nbgrader generate_assignment {name}"
    print(gettext("next: {command}").format(command=command))
    return 0


