"""`autograder grade SUBMISSIONS --out OUT`: grade a whole class (SPEC section 3)."""

from __future__ import annotations

import argparse
import importlib
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.i18n import gettext

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
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="draw the hidden inputs with seed N (default: a fresh seed per run, "
                             "recorded in every result; give it to repeat a run exactly)")
    parser.set_defaults(run=run)


def _settings(path: Path | None):
    from autograder.cli import UsageError
    from autograder.config import ConfigError, load

    try:
        settings = load(path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    for warning in settings.warnings:
        print(gettext("WARNING: {warning}").format(warning=warning), file=sys.stderr)
    return settings


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
        text = gettext("the sandbox cannot start a child here: {error}")
        raise UsageError(text.format(error=exc)) from None
    needed = [entry for entry in lacking if layer_name(entry) in REQUIRED]
    if needed and require:
        raise UsageError("--sandbox require: " + "; ".join(needed))
    return lacking


def _start_importing_torch() -> None:
    """Import torch (a second or more, which the oracles need) in a thread while the sandbox is
    probed and the submissions are found: both mostly wait, on the probe's process and the disk."""
    threading.Thread(target=importlib.import_module, args=("torch",), daemon=True).start()


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()  # before the imports: torch is part of what a run costs
    from autograder import outputs
    from autograder.cli import UsageError
    from autograder.intake import IntakeError, discover

    if args.jobs is not None and not 1 <= args.jobs <= 64:
        raise UsageError(gettext("--jobs must be between 1 and 64, not {jobs}").format(jobs=args.jobs))
    if args.seed is not None and not 0 <= args.seed < 1 << 31:
        text = gettext("--seed must be between 0 and {top}, not {seed}")
        raise UsageError(text.format(top=(1 << 31) - 1, seed=args.seed))
    settings = _settings(args.config)
    _start_importing_torch()
    lacking = _check_isolation(settings, args.sandbox == "require")
    if lacking:
        text = gettext("WARNING: weaker sandbox: {lacking}")
        print(text.format(lacking="; ".join(lacking)), file=sys.stderr)
    out, folder = args.out.resolve(), args.submissions.resolve()
    if out == folder or folder in out.parents:
        text = gettext("--out {out} is inside SUBMISSIONS: its folders would be graded too")
        raise UsageError(text.format(out=args.out))
    try:
        submissions = discover(args.submissions)
    except IntakeError as exc:
        raise UsageError(str(exc)) from None
    if not submissions:
        text = gettext("no submissions found in {folder} (expected one folder, .zip or LMS bulk-download "
                       "file per student)")
        raise UsageError(text.format(folder=args.submissions))
    with outputs.OutLock(args.out):
        return _grade(args, settings, submissions, started)


def _grade(args: argparse.Namespace, settings, submissions: list, started: float) -> int:
    """Grade what OUT does not hold yet (or holds from other files, settings or kit, or as a
    grading error), then write the class files; 1 if a submission could not be graded."""
    from autograder import batch, outputs
    from autograder.sandbox.session import remove_stale_scratch

    remove_stale_scratch()
    suite = batch.prepare_suite(settings, args.seed)
    done = {} if args.force else {s.id: outputs.load_done(args.out, s.id, suite.digest(s))
                                  for s in submissions}
    todo = [s for s in submissions if done.get(s.id) is None]
    results = [r for r in done.values() if r is not None]
    if results:
        print(gettext("resuming: {done} already graded in {out}, {todo} to go").format(
            done=len(results), out=args.out, todo=len(todo)), file=sys.stderr)
    progress = batch.Progress(len(todo))
    try:
        if todo:
            results += batch.grade_all(todo, args.out, settings, jobs=args.jobs or batch.default_jobs(),
                                       require_sandbox=args.sandbox == "require", on_result=progress.advance,
                                       plots=args.plots, suite=suite)
    finally:
        progress.close()
    try:
        outputs.write_grades_csv(args.out, results)
        outputs.write_summary(args.out, results, settings)
    except OSError as exc:
        why = gettext("cannot write to {out}: {why}").format(out=args.out, why=exc.strerror or exc)
        print(gettext("autograder {command}: error: {error}").format(command="grade", error=why),
              file=sys.stderr)
        return 1
    failed = sorted((r for r in results if r.status == "error"), key=lambda r: r.id)
    text = gettext("graded {graded} submissions (seed {seed}), {failed} could not be graded, in {time} s "
                   "-> {out}")
    print(text.format(graded=len(results) - len(failed), seed=suite.seed, failed=len(failed),
                      time=f"{time.monotonic() - started:.1f}", out=args.out), file=sys.stderr)
    if failed:
        names = [r.id for r in failed]
        shown = ", ".join(names[:10])
        if len(names) > 10:
            shown = gettext("{names} and {count} more").format(names=shown, count=len(names) - 10)
        reasons = list(dict.fromkeys(r.error for r in failed))
        why = reasons[0]
        if len(reasons) > 1:
            text = gettext("{why} (and {count} other reasons: see summary.html)")
            why = text.format(why=why, count=len(reasons) - 1)
        text = gettext("autograder grade: could not grade {names}: {why}. Not the students' fault; a re-run "
                       "tries them again.")
        print(text.format(names=shown, why=why), file=sys.stderr)
        return 1
    return 0
