"""`autograder prairielearn OUT_DIR`: the folder to build PrairieLearn's external-grader image from.

OUT_DIR holds a `Dockerfile` (python:3.11 image; it runs `setup.sh`, the same
install script as the Gradescope zip's: a venv, the CPU build of torch from
PyTorch's CPU wheel index, the pinned dependencies), the entrypoint `grade.sh`
(grades /grade/student with `autograder grade` and writes
/grade/results/results.json with `autograder export --to prairielearn`), and the
kit: the `autograder` package, the course (its oracle, cases and settings) and
templates/. No solutions: student code runs in that image.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from autograder import platforms
from autograder.i18n import gettext, language


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `prairielearn` parser."""
    parser = subparsers.add_parser(
        "prairielearn", help="write the folder to build PrairieLearn's external-grader image from",
        description="Write OUT_DIR (a new or empty folder): a Dockerfile, its setup.sh, the "
                    "entrypoint grade.sh and the kit with its hidden cases. Build the image there "
                    "with `docker build`, push it, and name it in the question's info.json.",
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    platforms.add_torch_index_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check OUT_DIR and write the folder."""
    from autograder.cli import UsageError

    out: Path = args.out_dir
    if out.exists() and not out.is_dir():
        raise UsageError(gettext("{out} is a file").format(out=out))
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(gettext("{out} is not empty: name a new folder (or empty this one)").format(out=out))
    scripts = {
        "setup.sh": (platforms.setup_script(args.torch_index), platforms.EXECUTABLE),
        "grade.sh": (platforms.read("grade.sh").replace("@LANG@", language()), platforms.EXECUTABLE),
        "Dockerfile": (platforms.read("Dockerfile"), 0o644),
    }
    try:
        count = platforms.write_folder(out, scripts)
    except OSError as exc:
        text = gettext("cannot write {out}: {why}")
        raise UsageError(text.format(out=out, why=exc.strerror or exc)) from None
    text = gettext("wrote {out} ({count} files): build it with {build}, push IMAGE, and set {settings} in "
                   "the question's info.json")
    print(text.format(out=out, count=count, build=f"`docker build -t IMAGE {out}`",
                      settings='"image": "IMAGE", "entrypoint": "/grader/grade.sh"'))
    return 0
