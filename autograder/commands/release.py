"""`autograder release OUT_DIR`: the student bundle, without solutions or hidden cases.

The bundle holds the stubs (made afresh from solutions/), a README, and a
check-only copy of the kit: the package boundary of `autograder check` (every
module that `check`, `python -m autograder`, the public cases and a notebook's
kernel import, found by reading their import statements, see `closure`), the
settings without the seed, and a pyproject that installs an `autograder` command
whose one verb is `check`. The hidden cases, the torch oracle, the solutions and
every other verb stay behind; a module of the boundary that would bring any of
them in stops the release.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "autograder"

#: Where the bundle's boundary starts: the console script and `python -m autograder`, the
#: check verb, the public cases it collects (pytest imports them by path), and what a
#: notebook's check cells import.
ROOTS = ("autograder.cli", "autograder.__main__", "autograder.commands.check", "autograder.notebook.kernel",
         *(f"autograder.public.{p.stem}" for p in sorted((PACKAGE / "public").glob("test_*.py"))))
#: Modules that run as processes of their own, started by name rather than imported.
STARTED = {"autograder.sandbox.session": ("autograder.sandbox.zygote",)}
#: Data files the boundary reads (relative to the package).
DATA = ("grading.toml",)
#: What may never be inside the boundary.
FORBIDDEN = re.compile(r"(^|\.)(oracle|hidden|torch)(\.|$)")


class LeakError(ValueError):
    """A module of the student bundle would bring in the oracle, the hidden cases or torch."""

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
    except ValueError as exc:  # a solution file with unbalanced markers, or a leak
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


def module_file(name: str) -> Path | None:
    """The source of module `name` ("autograder.x.y") in this kit, if it is one of its modules."""
    base = PACKAGE.parent / Path(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported(name: str, path: Path) -> set[str]:
    """Every module `path` (module `name`) imports, at any depth in its code, by absolute name.

    For `from autograder import x`, both the package and `autograder.x` (when x is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if module_file(f"{base}.{alias.name}")}
    return found


def closure(roots: tuple[str, ...] = ROOTS) -> dict[str, Path]:
    """The kit's modules that `roots` need, with their packages: the bundle's package boundary.

    LeakError if the boundary reaches the oracle, the hidden cases or torch."""
    found: dict[str, Path] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if FORBIDDEN.search(name):
            raise LeakError(f"the student bundle would include {name}")
        path = module_file(name)
        if name in found or path is None:
            continue
        found[name] = path
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # the packages around it
        todo += [m for m in imported(name, path) if m.split(".")[0] in ("autograder", "torch")]
        todo += STARTED.get(name, ())
    return found


def copy_kit(target: Path) -> list[Path]:
    """The check-only package: the boundary's modules and data, grading.toml without the seed."""
    if target.exists():
        shutil.rmtree(target)
    written = []
    for path in sorted(closure().values()):
        written.append(_write(target / path.relative_to(PACKAGE), path.read_text()))
    for name in DATA:
        written.append(_write(target / name, (PACKAGE / name).read_text()))
    settings = target / "grading.toml"
    settings.write_text(_without_seed(settings.read_text()))
    return written


def _without_seed(toml: str) -> str:
    """The settings minus any seed of the hidden inputs, set or commented out (the public cases
    do not use one, and a fixed one would tell students the hidden inputs)."""
    return re.sub(r"(?m)^#?[ \t]*seed[ \t]*=.*\n", "", toml)


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
