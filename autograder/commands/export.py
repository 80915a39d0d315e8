"""`autograder export OUT --to TARGET`: turn a graded OUT folder into files an LMS imports.

Targets:
  canvas        fill one assignment column of a Canvas gradebook export (--gradebook,
                --assignment); written to --output (default OUT/canvas-import.csv).
  moodle        an assignment grading worksheet to upload (default OUT/moodle-grades.csv),
                plus a feedback-files zip with --feedback-zip.
  prairielearn  PrairieLearn external-grader results per submission: OUT/<id>/prairielearn.json,
                or OUTPUT/<id>/results.json with --output.
  gradescope    a copy of each results.json as OUTPUT/<id>/results.json
                (default OUTPUT is OUT/gradescope).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from autograder.cli import UsageError
from autograder.i18n import gettext

TARGETS = ("canvas", "moodle", "prairielearn", "gradescope")
ONLY_FOR = {
    "gradebook": ("canvas",),
    "assignment": ("canvas",),
    "feedback_zip": ("moodle",),
    "include_errors": ("canvas", "moodle"),
}


def register(subparsers: Any) -> None:
    """Add the `export` parser."""
    parser = subparsers.add_parser(
        "export",
        help="turn a graded OUT folder into files Canvas, Moodle, PrairieLearn or Gradescope import",
        description="Turn a graded OUT folder into files an LMS imports.",
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out", metavar="OUT", help="the folder `autograder grade --out` wrote")
    parser.add_argument("--to", required=True, choices=TARGETS, help="which LMS to export for")
    parser.add_argument("--gradebook", metavar="CSV", help="canvas: the gradebook CSV exported from Canvas")
    parser.add_argument(
        "--assignment",
        metavar="NAME",
        help='canvas: the column to fill: "NAME (ID)" as in the header, or just NAME, or ID',
    )
    parser.add_argument("--output", metavar="PATH", help="file (canvas, moodle) or folder to write")
    parser.add_argument("--feedback-zip", metavar="ZIP", help="moodle: also write a feedback-files zip")
    parser.add_argument(
        "--include-errors",
        action="store_true",
        help="canvas, moodle: also write the scores of submissions the grader could not grade",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Validate the options, read OUT, and write the export."""
    _check_options(args)
    from autograder.exports.outdir import load_out

    out = load_out(args.out)
    exporters = {
        "canvas": _canvas,
        "moodle": _moodle,
        "prairielearn": _prairielearn,
        "gradescope": _gradescope,
    }
    return exporters[args.to](args, out)


def _check_options(args: argparse.Namespace) -> None:
    for option, targets in ONLY_FOR.items():
        if getattr(args, option) and args.to not in targets:
            flag = "--" + option.replace("_", "-")
            raise UsageError(gettext("{option} only applies to --to {targets}").format(
                option=flag, targets=gettext(" or ").join(targets)))
    if args.to == "canvas":
        for option in ("gradebook", "assignment"):
            if not getattr(args, option):
                raise UsageError(f"--to canvas needs --{option}")


def _canvas(args: argparse.Namespace, out: Any) -> int:
    from autograder.exports.canvas import fill_gradebook

    output = Path(args.output) if args.output else out.path / "canvas-import.csv"
    counts = fill_gradebook(
        args.gradebook, args.assignment, out.submissions, output, include_errors=args.include_errors
    )
    text = (gettext("wrote {output}: {filled} score(s) in {column}; {missing} not in the gradebook, {absent} "
                    "without a submission, {kept} left as is, {anonymous} anonymous (not filled in)")
            if counts.anonymous
            else gettext("wrote {output}: {filled} score(s) in {column}; {missing} not in the gradebook, "
                         "{absent} without a submission, {kept} left as is"))
    print(text.format(output=output, filled=counts.filled, column=repr(counts.column),
                      missing=counts.not_in_gradebook, absent=counts.without_submission,
                      kept=counts.left_as_is, anonymous=counts.anonymous))
    print(gettext("import it in Canvas: Grades > Import"))
    return 0


def _moodle(args: argparse.Namespace, out: Any) -> int:
    from autograder.exports.moodle import feedback_zip, grades_csv

    output = Path(args.output) if args.output else out.path / "moodle-grades.csv"
    count = grades_csv(out.submissions, output, include_errors=args.include_errors)
    print(gettext("wrote {output}: {count} row(s); upload it with 'Upload grading worksheet'").format(
        output=output, count=count))
    if args.feedback_zip:
        folders = feedback_zip(out, args.feedback_zip)
        print(gettext("wrote {output}: feedback for {count} participant(s); upload it with 'Upload multiple "
                      "feedback files in a zip'").format(output=args.feedback_zip, count=folders))
    return 0


def _prairielearn(args: argparse.Namespace, out: Any) -> int:
    from autograder.exports.prairielearn import write_results

    written = write_results(out.submissions, args.output)
    where = args.output or f"{out.path}/<id>/prairielearn.json"
    text = gettext("wrote {count} PrairieLearn result file(s) to {where}")
    print(text.format(count=len(written), where=where))
    return 0


def _gradescope(args: argparse.Namespace, out: Any) -> int:
    target = Path(args.output) if args.output else out.path / "gradescope"
    for sub in out.submissions:
        dest = target / sub.id / "results.json"
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sub.results_path, dest)
        except OSError as exc:
            text = gettext("{file}: cannot write ({why})")
            raise UsageError(text.format(file=dest, why=exc.strerror or exc)) from None
    print(gettext("wrote {count} Gradescope results.json file(s) to {where}").format(
        count=len(out.submissions), where=target))
    return 0
