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
        raise UsageError(f"{out} is a file")
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(f"{out} is not empty: name a new folder (or empty this one)")
    scripts = {
        "setup.sh": (platforms.setup_script(args.torch_index), platforms.EXECUTABLE),
        "grade.sh": (platforms.read("grade.sh"), platforms.EXECUTABLE),
        "Dockerfile": (platforms.read("Dockerfile"), 0o644),
    }
    try:
        count = platforms.write_folder(out, scripts)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {out} ({count} files): build it with `docker build -t IMAGE {out}`, push IMAGE, and "
          'set "image": "IMAGE", "entrypoint": "/grader/grade.sh" in the question\'s info.json')
    return 0
