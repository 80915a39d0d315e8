"""`autograder release OUT_DIR`: the student bundle, without solutions or hidden cases.

The bundle holds the stubs (made afresh from solutions/), a README, and a
check-only copy of the kit: the modules `autograder check` imports, the public
cases, and a pyproject that installs an `autograder` command whose one verb is
`check`. The hidden cases, the torch oracle, the solutions and every other verb
stay behind.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "autograder"

#: What `autograder check` needs, relative to the package: nothing imports torch or hidden/.
KIT_FILES = (
    "__init__.py", "articles.py", "cli.py", "casekit.py", "config.py", "grading.toml", "intake.py",
    "results.py", "runner.py", "spec.py", "commands/__init__.py", "commands/check.py",
    "public/__init__.py", "public/test_public.py",
)
KIT_FOLDERS = ("sandbox",)

#: What each module builds, for the README, with the article it follows.
ARTICLES = {
    "network": 'The classifier worked through in "Dismantling neural networks": '
               "linear layer, softmax, cross-entropy.",
    "xor": 'The 2-3-1 network of "Postmortem of artificial neural networks", trained on XOR '
           "with plain gradient descent.",
}

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "nn-exercises-check"
version = "{version}"
description = "Public checks for the neural-network internals exercises (autograder check)."
requires-python = ">=3.11"
dependencies = ["numpy>=1.24", "pytest>=7.4"]

[project.scripts]
autograder = "autograder.cli:main"

[tool.setuptools.packages.find]
include = ["autograder*"]

[tool.setuptools.package-data]
autograder = ["*.toml"]
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `release` parser."""
    parser = subparsers.add_parser(
        "release", help="write the student bundle (stubs, public checks, README)",
        description="Write the student bundle to OUT_DIR: the exercise stubs, a README, and a "
                    "check-only copy of the kit (public cases, no hidden cases, no solutions).",
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions", metavar="DIR",
                        help="the reference solutions the stubs are made from (default: solutions/)")
    parser.add_argument("--force", action="store_true", help="write into OUT_DIR even if it is not empty")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the arguments, then write the bundle."""
    from autograder.cli import UsageError

    out: Path = args.out_dir
    if out.resolve() in (ROOT, *ROOT.parents):
        raise UsageError(f"{out} holds the kit itself: give a new folder for the bundle")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise UsageError(f"{out} is not empty (add --force to write into it)")
    try:
        written = build_bundle(out, args.solutions)
    except FileNotFoundError as exc:
        raise UsageError(f"cannot read {exc.filename}: is this a clone of the kit?") from None
    except ValueError as exc:  # a solution file with unbalanced markers
        raise UsageError(str(exc)) from None
    print(f"wrote the student bundle to {out} ({len(written)} files)")
    print(f"students run: cd {out} && pip install -e . && autograder check exercises")
    return 0


def build_bundle(out: Path, solutions: Path) -> list[Path]:
    """Write stubs, kit, pyproject and README into `out`; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = write_stubs(solutions, out / "exercises")
    written += copy_kit(out / "autograder")
    written.append(_write(out / "pyproject.toml", PYPROJECT.format(version=_version())))
    written.append(_write(out / "README.md", render_readme()))
    return written


def write_stubs(solutions: Path, exercises: Path) -> list[Path]:
    """The stubs of every exercise module, made from the reference solutions."""
    from autograder.spec import MODULES
    from autograder.stubs import make_stub

    exercises.mkdir(parents=True, exist_ok=True)
    return [_write(exercises / f"{m}.py", make_stub((solutions / f"{m}.py").read_text()))
            for m in MODULES]


def copy_kit(target: Path) -> list[Path]:
    """The check-only package: KIT_FILES and KIT_FOLDERS, grading.toml without the seed."""
    if target.exists():
        shutil.rmtree(target)
    written = []
    for name in KIT_FILES:
        written.append(_write(target / name, (PACKAGE / name).read_text()))
    for folder in KIT_FOLDERS:
        for source in sorted((PACKAGE / folder).glob("*.py")):
            written.append(_write(target / folder / source.name, source.read_text()))
    settings = target / "grading.toml"
    settings.write_text(_without_seed(settings.read_text()))
    return written


def _without_seed(toml: str) -> str:
    """The settings minus the seed of the hidden inputs (the public cases do not use it)."""
    text = re.sub(r"(?m)^# Seed of the random inputs.*\n", "", toml)
    return re.sub(r"(?m)^seed\s*=.*\n", "", text)


def render_readme() -> str:
    """The student README from templates/student_README.md.j2."""
    import jinja2

    from autograder.config import load
    from autograder.spec import MODULES

    points = load().points
    modules = [
        {"name": m, "article": ARTICLES.get(m),
         "functions": [{"name": f, "params": ", ".join(p), "points": _number(points[f"{m}.{f}"])}
                       for f, p in fs.items()]}
        for m, fs in MODULES.items()
    ]
    from autograder.report import TEMPLATES

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.get_template("student_README.md.j2").render(
        modules=modules, total=_number(sum(points.values())))


def _number(value: float) -> str:
    return f"{value:g}"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nn-autograder")
    except PackageNotFoundError:
        return "0.0.0"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
