"""`autograder gradescope OUT_ZIP`: the autograder zip to upload to a Gradescope assignment.

At the zip's root: `setup.sh` (Gradescope runs it once, as root, when it builds
the image: a Python of 3.11 or newer, a venv, the pinned dependencies) and
`run_autograder` (run once per submission). Beside them the kit: the whole
`autograder` package with its hidden cases and grading.toml, and templates/.
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

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "autograder"
TORCH = "torch==2.13.0"
#: Installed in Gradescope's image next to torch, pinned to the versions installed here when known.
DEPENDENCIES = ("numpy", "jinja2", "pytest", "matplotlib", "rich", "hypothesis")
EXECUTABLE = 0o100755
SKIPPED_FOLDERS = {"__pycache__", ".pytest_cache"}

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
# The kit needs Python 3.11 or newer: choose Ubuntu 24.04 (Python 3.12) as the base
# image in the assignment's autograder settings; on an older image the newest
# python3.X found (or an installed python3.11) is used.
set -euo pipefail
cd "$(dirname "$0")"
VENV="${{AUTOGRADER_ROOT:-/autograder}}/venv"

pick_python() {{
  for candidate in python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}}

PYTHON=$(pick_python) || {{
  apt-get install -y python3.11 python3.11-venv >/dev/null
  PYTHON=python3.11
}}
"$PYTHON" -m venv "$VENV" 2>/dev/null || {{
  apt-get install -y "$(basename "$PYTHON")-venv" >/dev/null
  "$PYTHON" -m venv "$VENV"
}}
PIP=("$VENV/bin/python" -m pip install --no-cache-dir -q)
"${{PIP[@]}}" --upgrade pip

# torch is the grader's reference, and the CPU build is all it needs. The default
# package index serves Linux's large CUDA build; to install the CPU-only wheel (a
# fraction of the size and of the image build time), set TORCH_INDEX_URL to the
# CPU wheel index that the torch project publishes, configured by the instructor
# (or build this zip with `autograder gradescope OUT_ZIP --torch-index URL`).
TORCH_INDEX_URL="{torch_index}"
if [[ -n "$TORCH_INDEX_URL" ]]; then
  "${{PIP[@]}}" --index-url "$TORCH_INDEX_URL" {torch}
else
  "${{PIP[@]}}" {torch}
fi
"${{PIP[@]}}" {dependencies}
"$VENV/bin/python" -c "import numpy, torch, pytest, jinja2; print('autograder image ready')"
"""

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
    parser.add_argument("--torch-index", default="", metavar="URL",
                        help="package index setup.sh installs torch from (the CPU wheel index; "
                             "default: the ordinary index)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check OUT_ZIP and write the zip."""
    from autograder.cli import UsageError

    out: Path = args.out_zip
    if out.suffix != ".zip":
        raise UsageError(f"{out}: the autograder file must end in .zip")
    if out.is_dir():
        raise UsageError(f"{out} is a folder")
    if '"' in args.torch_index or "$" in args.torch_index:
        raise UsageError("--torch-index must be a plain URL")
    try:
        count = build_zip(out, args.torch_index)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {out} ({count} files): upload it in the assignment's Configure Autograder page")
    return 0


def build_zip(out: Path, torch_index: str = "") -> int:
    """Write the autograder zip; return how many files it holds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    count = 0
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        _add_text(zf, "setup.sh", setup_script(torch_index), EXECUTABLE)
        _add_text(zf, "run_autograder", RUN_AUTOGRADER, EXECUTABLE)
        for path, name in kit_files():
            zf.write(path, name)
            count += 1
    tmp.replace(out)
    return count + 2


def setup_script(torch_index: str = "") -> str:
    """setup.sh, with the dependencies pinned to the versions installed here when known."""
    return SETUP_SH.format(torch=TORCH, torch_index=torch_index,
                           dependencies=" ".join(_pinned(name) for name in DEPENDENCIES))


def _pinned(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{name}=={version(name)}"
    except PackageNotFoundError:
        return name


def kit_files() -> list[tuple[Path, str]]:
    """(path, name in the zip) of the package and templates/, caches left out."""
    from autograder.report import TEMPLATES

    found = []
    for top in (PACKAGE, TEMPLATES):
        for path in sorted(top.rglob("*")):
            if path.is_file() and path.suffix != ".pyc" and not SKIPPED_FOLDERS & set(path.parts):
                found.append((path, f"{top.name}/{path.relative_to(top).as_posix()}"))
    return found


def _add_text(zf: zipfile.ZipFile, name: str, text: str, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)


# ---------------------------------------------------------------- inside Gradescope's container


def grade_root(root: Path) -> dict:
    """Grade root/submission with the hidden and public cases; write root/results/results.json."""
    from autograder import batch, outputs, runner
    from autograder.config import load
    from autograder.intake import load_one
    from autograder.results import dump_json, write_atomic
    from autograder.sandbox.session import Sandbox

    settings = load()
    submission = load_one(root / "submission", "submission")
    submission.meta.update(_metadata(root))
    cases = runner.collect([runner.HIDDEN, runner.PUBLIC])
    with Sandbox(batch.policy_from(settings, require=False)) as sandbox:
        result = runner.grade_submission(submission, cases, runner.case_points(cases, settings),
                                         sandbox, settings)
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
    except Exception:  # noqa: BLE001 - no results.json: Gradescope reports a failed autograder
        traceback.print_exc()
        print("the autograder could not grade this submission (see above)", file=sys.stderr)
        return 1
    extra = data["extra_data"]
    print(f"{extra['summary']} ({extra['status']}; isolation: {', '.join(extra['isolation']) or 'none'}; "
          f"{time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
