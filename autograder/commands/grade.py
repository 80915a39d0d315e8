"""`autograder grade SUBMISSIONS --out OUT`: grade a whole class (SPEC section 3)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograder.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "grade", help="grade every submission in a folder",
        description="Grade every submission in SUBMISSIONS (folders, zips, LMS bulk downloads).",
    )
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT")
    parser.add_argument("--jobs", type=int, default=None, help="parallel workers (default: cores)")
    parser.add_argument("--config", type=Path, default=None, help="grading settings (TOML)")
    parser.add_argument("--force", action="store_true", help="re-grade submissions already graded in OUT")
    parser.add_argument("--sandbox", choices=("require", "warn"), default="warn",
                        help="refuse to grade without full isolation, or grade with a loud warning")
    parser.add_argument("--no-plots", dest="plots", action="store_false",
                        help="leave the training plots out of the reports (faster)")
    parser.set_defaults(run=run)


def _settings(path: Path | None):
    import os

    from autograder.cli import UsageError
    from autograder.config import ConfigError, load

    if path is not None:
        os.environ["AUTOGRADER_CONFIG"] = str(path.resolve())
    try:
        return load(path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _check_isolation(settings: Settings, require: bool) -> list[str]:
    """Start one sandboxed child as for a submission; return the layers it lacks.

    UsageError when no child can start here, or when `require` and a layer it needs is missing.
    """
    from autograder.batch import policy_from
    from autograder.cli import UsageError
    from autograder.sandbox.confine import REQUIRED, layer_name, missing_layers
    from autograder.sandbox.session import Sandbox, SandboxUnavailable

    try:
        with Sandbox(policy_from(settings, require=False)) as sandbox:
            lacking = missing_layers(sandbox.probe())
    except SandboxUnavailable as exc:
        raise UsageError(f"the sandbox cannot start a child here: {exc}") from None
    needed = [entry for entry in lacking if layer_name(entry) in REQUIRED]
    if needed and require:
        raise UsageError("--sandbox require: " + "; ".join(needed))
    return lacking


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()  # before the imports: torch is part of what a run costs
    from autograder import batch, outputs
    from autograder.cli import UsageError
    from autograder.intake import IntakeError, discover

    if args.jobs is not None and not 1 <= args.jobs <= 64:
        raise UsageError(f"--jobs must be between 1 and 64, not {args.jobs}")
    settings = _settings(args.config)
    lacking = _check_isolation(settings, args.sandbox == "require")
    if lacking:
        print(f"WARNING: weaker sandbox: {'; '.join(lacking)}", file=sys.stderr)
    out, folder = args.out.resolve(), args.submissions.resolve()
    if out == folder or folder in out.parents:
        raise UsageError(f"--out {args.out} is inside SUBMISSIONS: its folders would be graded too")
    try:
        submissions = discover(args.submissions)
    except IntakeError as exc:
        raise UsageError(str(exc)) from None
    if not submissions:
        print(f"WARNING: no submissions found in {args.submissions} (expected one folder, .zip "
              "or LMS bulk-download file per student)", file=sys.stderr)
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} exists and is not a folder")
    args.out.mkdir(parents=True, exist_ok=True)
    done = {} if args.force else {s.id: outputs.load_done(args.out, s.id) for s in submissions}
    todo = [s for s in submissions if done.get(s.id) is None]
    results = [r for r in done.values() if r is not None]
    if results:
        print(f"resuming: {len(results)} already graded in {args.out}, {len(todo)} to go", file=sys.stderr)
    progress = batch.Progress(len(todo))
    try:
        if todo:
            results += batch.grade_all(todo, args.out, settings, jobs=args.jobs or batch.default_jobs(),
                                       require_sandbox=args.sandbox == "require", on_result=progress.advance,
                                       plots=args.plots)
    finally:
        progress.close()
    outputs.write_grades_csv(args.out, results)
    outputs.write_summary(args.out, results, settings)
    failed = sum(r.status == "error" for r in results)
    print(f"graded {len(results) - failed} submissions, {failed} failed to grade, "
          f"in {time.monotonic() - started:.1f} s -> {args.out}", file=sys.stderr)
    return 0
