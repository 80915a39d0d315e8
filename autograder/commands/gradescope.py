"""`autograder gradescope OUT_ZIP`: the autograder zip to upload to a Gradescope assignment.

At the zip's root: `setup.sh` (Gradescope runs it once, as root, when it builds
the image: a Python of 3.11 or newer, a venv, the CPU build of torch from
PyTorch's CPU wheel index, the pinned dependencies; see autograder/platforms/)
and `run_autograder` (run once per submission). Beside them the kit: the whole
`autograder` package, templates/, the course (its oracle, cases and settings) and the stubs.
No solutions.

`run_autograder` calls `python -m autograder.commands.gradescope --root ROOT`
(this module), which grades ROOT/submission with the same engine as
`autograder grade` and writes ROOT/results/results.json in Gradescope's schema.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
import zipfile
from pathlib import Path

from autograder import platforms
from autograder.i18n import gettext, language

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission: grade $ROOT/submission with the kit and
# write $ROOT/results/results.json. ROOT is /autograder unless AUTOGRADER_ROOT says
# otherwise (for a dry run on your own machine); PYTHON overrides the interpreter.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Gradescope unpacks the zip into $ROOT/source and copies this script to $ROOT.
if [[ -f "$HERE/autograder/__init__.py" ]]; then KIT="$HERE"; else KIT="$ROOT/source"; fi
# the language of the feedback, fixed when this zip was built (autograder gradescope --lang)
export AUTOGRADER_LANG="@LANG@"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/venv/bin/python" ]]; then PYTHON="$ROOT/venv/bin/python"; else PYTHON=python3; fi
fi
cd "$KIT"
PYTHONPATH="$KIT" exec "$PYTHON" -m autograder.commands.gradescope --root "$ROOT"
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `gradescope` parser."""
    parser = subparsers.add_parser(
        "gradescope", help="build the autograder zip to upload to Gradescope",
        description="Write OUT_ZIP: setup.sh and run_autograder at its root, and the kit with its "
                    "hidden cases. Upload it as the assignment's autograder (zip upload).",
    )
    parser.add_argument("out_zip", type=Path, metavar="OUT_ZIP")
    platforms.add_torch_index_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check OUT_ZIP and write the zip."""
    from autograder.cli import UsageError

    out: Path = args.out_zip
    if out.suffix != ".zip":
        raise UsageError(gettext("{out}: the autograder file must end in .zip").format(out=out))
    if out.is_dir():
        raise UsageError(gettext("{out} is a folder").format(out=out))
    setup = platforms.setup_script(args.torch_index)
    try:
        count = build_zip(out, setup)
    except OSError as exc:
        text = gettext("cannot write {out}: {why}")
        raise UsageError(text.format(out=out, why=exc.strerror or exc)) from None
    text = gettext("wrote {out} ({count} files): upload it in the assignment's Configure Autograder page")
    print(text.format(out=out, count=count))
    return 0


def build_zip(out: Path, setup: str) -> int:
    """Write the autograder zip with `setup` as its setup.sh; return how many files it holds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    count = 0
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        _add_text(zf, "setup.sh", setup, platforms.EXECUTABLE)
        _add_text(zf, "run_autograder", RUN_AUTOGRADER.replace("@LANG@", language()), platforms.EXECUTABLE)
        for path, name in platforms.kit_files():
            zf.write(path, name)
            count += 1
        for name, data in platforms.catalogs().items():
            _add_text(zf, name, data, 0o644)
            count += 1
    tmp.replace(out)
    return count + 2


def _add_text(zf: zipfile.ZipFile, name: str, text: str | bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)


# ---------------------------------------------------------------- inside Gradescope's container


class NotGraded(RuntimeError):
    """The grader itself failed on this submission: no score is written."""


def grade_root(root: Path) -> dict:
    """Grade root/submission with the hidden and public cases; write root/results/results.json.

    NotGraded, and no results.json, when the grader itself failed (the sandbox, a case's own
    code): Gradescope then reports an autograder failure instead of recording 0 points."""
    from autograder import batch, outputs, runner
    from autograder.config import load
    from autograder.intake import load_one
    from autograder.results import dump_json, write_atomic
    from autograder.sandbox.session import Sandbox

    settings = load()
    submission = load_one(root / "submission", "submission")
    submission.meta.update(_metadata(root))
    suite = batch.prepare_suite(settings)
    with Sandbox(batch.policy_from(settings, require=False)) as sandbox:
        result = runner.grade_submission(submission, suite, sandbox, settings)
    if result.status == "error":
        raise NotGraded(result.error)
    data = outputs.gradescope_json(result, settings)
    write_atomic(root / "results" / "results.json", dump_json(data))
    return data


def _metadata(root: Path) -> dict[str, str]:
    """Who submitted, from Gradescope's submission_metadata.json (absent on a dry run)."""
    import json

    try:
        users = json.loads((root / "submission_metadata.json").read_text()).get("users") or []
    except (OSError, ValueError, AttributeError):
        return {}
    first = users[0] if users and isinstance(users[0], dict) else {}
    return {k: str(first[v]) for k, v in (("name", "name"), ("user_id", "id")) if v in first}


def main(argv: list[str] | None = None) -> int:
    """The entry point of run_autograder. Prints for the instructor (Gradescope's stdout)."""
    parser = argparse.ArgumentParser(prog="run_autograder")
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        data = grade_root(args.root)
    except NotGraded as exc:
        text = gettext("this submission could not be graded, through no fault of the student's: {error}")
        print(text.format(error=exc), file=sys.stderr)
        return 1
    except Exception:  # noqa: BLE001 - no results.json: Gradescope reports a failed autograder
        traceback.print_exc()
        print(gettext("the autograder could not grade this submission (see above)"), file=sys.stderr)
        return 1
    extra = data["extra_data"]
    print(gettext("{summary} ({status}; isolation: {isolation}; {time} s)").format(
        summary=extra["summary"], status=extra["status"], time=f"{time.monotonic() - started:.1f}",
        isolation=", ".join(extra["isolation"]) or gettext("none")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
