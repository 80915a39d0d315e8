"""`autograder release OUT_DIR`: the student bundle, without solutions or hidden cases.

The bundle holds the stubs (made afresh from solutions/), a README, and a
check-only copy of the kit and of the course: the package boundary of `autograder
check` (every module that `check`, `python -m autograder`, the course's public
cases and a notebook's kernel import, found by reading their import statements,
see `closure`), the course's settings without a seed, and a pyproject that installs
an `autograder` command whose one verb is `check`. The hidden cases, the torch
oracle, the solutions and every other verb stay behind; a module of the boundary
that would bring any of them in stops the release.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
from pathlib import Path

from autograder import course as courses
from autograder.i18n import gettext

PACKAGE = Path(__file__).resolve().parents[1]

#: Where the engine's part of the boundary starts: the console script and `python -m
#: autograder`, the check verb, and what a notebook's check cells import. The course's
#: public cases (pytest imports them by path) are added to these.
ROOTS = ("autograder.cli", "autograder.__main__", "autograder.commands.check", "autograder.notebook.kernel")
#: Modules that run as processes of their own, started by name rather than imported.
STARTED = {"autograder.sandbox.session": ("autograder.sandbox.zygote",)}
#: What may never be inside the boundary.
FORBIDDEN = re.compile(r"(^|\.)(oracle|hidden|torch)(\.|$)")
#: Top-level packages the boundary is made of.
PACKAGES = ("autograder", "course")

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "Public checks of the exercises of {title} (autograder check)."
requires-python = ">=3.11"
dependencies = ["numpy>=1.24", "pytest>=7.4"]

[project.scripts]
autograder = "autograder.cli:run"

[tool.setuptools.packages.find]
include = ["autograder*", "course*"]

[tool.setuptools.package-data]
autograder = ["locale/*/LC_MESSAGES/*.mo"]
course = ["*.toml", "locale/*/LC_MESSAGES/*.mo"]
"""


class LeakError(ValueError):
    """A module of the student bundle would bring in the oracle, the hidden cases or torch."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `release` parser."""
    parser = subparsers.add_parser(
        "release", help="write the student bundle (stubs, public checks, README)",
        description="Write the student bundle to OUT_DIR: the exercise stubs, a README, and a "
                    "check-only copy of the kit (public cases, no hidden cases, no solutions).",
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--force", action="store_true", help="write into OUT_DIR even if it is not empty")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the arguments, then write the bundle."""
    from autograder.cli import UsageError

    out: Path = args.out_dir
    course = courses.load()
    if out.resolve() in (course.root, *course.root.parents):
        text = gettext("{out} holds the course itself: give a new folder for the bundle")
        raise UsageError(text.format(out=out))
    if out.exists() and not out.is_dir():
        raise UsageError(gettext("{out} exists and is not a folder").format(out=out))
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise UsageError(gettext("{out} is not empty (add --force to write into it)").format(out=out))
    try:
        written = build_bundle(out, course)
    except FileNotFoundError as exc:
        text = gettext("cannot read {file}: is this a course folder?")
        raise UsageError(text.format(file=exc.filename)) from None
    except ValueError as exc:  # a solution file with unbalanced markers, or a leak
        raise UsageError(str(exc)) from None
    print(gettext("wrote the student bundle to {out} ({count} files)").format(out=out, count=len(written)))
    command = f"cd {out} && pip install -e . && autograder check exercises"
    print(gettext("students run: {command}").format(command=command))
    return 0


def build_bundle(out: Path, course: courses.Course) -> list[Path]:
    """Write stubs, kit, course, pyproject and README into `out`, in the language in use; return
    the files written."""
    from autograder.i18n import _, compiled_catalogs
    from autograder.stubs import make_stub, translate_docstrings

    out.mkdir(parents=True, exist_ok=True)
    todo = _("{function}: not implemented yet")
    written = [_write(out / "exercises" / f"{m}.py",
                      translate_docstrings(make_stub((course.solutions / f"{m}.py").read_text(), todo), _))
               for m in course.names]
    written += copy_kit(out, course)
    written += [_write_bytes(out / name, data) for name, data in compiled_catalogs(course).items()]
    name = re.sub(r"[^a-z0-9]+", "-", (course.title or "exercises").lower()).strip("-") + "-check"
    written.append(_write(out / "pyproject.toml", PYPROJECT.format(name=name, version=_version(),
                                                                   title=course.title or "the course")))
    written.append(_write(out / "README.md", render_readme(course)))
    return written


def module_file(name: str, course: courses.Course) -> Path | None:
    """The source of module `name` ("autograder.x" or "course.x") if it is one of the kit's or
    the course's modules."""
    base = (course.root if name.split(".")[0] == "course" else PACKAGE.parent) / Path(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported(name: str, path: Path, course: courses.Course) -> set[str]:
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
            found |= {f"{base}.{a.name}" for a in node.names if module_file(f"{base}.{a.name}", course)}
    return found


def closure(course: courses.Course, roots: tuple[str, ...] | None = None) -> dict[str, Path]:
    """The kit's and the course's modules that `roots` (default: ROOTS and the course's public
    cases) need, with their packages: the bundle's package boundary.

    LeakError if the boundary reaches an oracle, hidden cases or torch."""
    if roots is None:
        public = [path.parent.name for path in course.case_files("public")]
        roots = (*ROOTS, *(f"course.{module}.public" for module in public))
    found: dict[str, Path] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if FORBIDDEN.search(name):
            raise LeakError(f"the student bundle would include {name}")
        path = module_file(name, course)
        if name in found or path is None:
            continue
        found[name] = path
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # the packages around it
        todo += [m for m in imported(name, path, course) if m.split(".")[0] in (*PACKAGES, "torch")]
        todo += STARTED.get(name, ())
    return found


def copy_kit(out: Path, course: courses.Course) -> list[Path]:
    """The boundary's modules (under out/autograder and out/course) and the course's settings
    without a seed."""
    for package in PACKAGES:
        shutil.rmtree(out / package, ignore_errors=True)
    written = []
    for name, path in sorted(closure(course).items()):
        base = course.root if name.split(".")[0] == "course" else PACKAGE.parent
        written.append(_write(out / path.relative_to(base), path.read_text()))
    settings = course.settings_file.read_text()
    written.append(_write(out / "course" / "course.toml", _in_language(_without_seed(settings))))
    return written


def _without_seed(toml: str) -> str:
    """The settings minus any seed of the hidden inputs, set or commented out (the public cases
    do not use one, and a fixed one would tell students the hidden inputs)."""
    return re.sub(r"(?m)^#?[ \t]*seed[ \t]*=.*\n", "", toml)


def _in_language(toml: str) -> str:
    """The settings with [course] language set to the language in use: the bundle's checks
    speak the language its stubs and README are written in."""
    from autograder.i18n import language

    line = f'language = "{language()}"\n'
    toml = re.sub(r"(?m)^[ \t]*language[ \t]*=.*\n", "", toml)
    return re.sub(r"(?m)^\[course\][ \t]*\n", lambda m: m.group(0) + line, toml, count=1)


def render_readme(course: courses.Course) -> str:
    """The student README, in the language in use: the course's introduction, then
    templates/student_README.md.j2."""
    import jinja2

    from autograder import i18n
    from autograder.config import load
    from autograder.report import TEMPLATES

    settings = load()
    scale = settings.scale()
    modules = [
        {"name": m.name, "about": i18n.gettext(m.about),
         "functions": [{"name": f.name, "params": ", ".join(f.params),
                        "points": _number(settings.points[f.tag] * scale)} for f in m.functions]}
        for m in course.modules
    ]
    intro = course.folder / "student_intro.md"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    i18n.install(env)
    files = ", ".join(f"`{m}.py`" for m in course.names)
    text = intro.read_text().strip() if intro.is_file() else f"# {i18n.gettext(course.title)}"
    return env.get_template("student_README.md.j2").render(
        intro=i18n.translate_markdown(text), modules=modules,
        total=_number(sum(settings.points.values()) * scale), files=files)


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nn-autograder")
    except PackageNotFoundError:
        return "0.0.0"


def _write(path: Path, text: str) -> Path:
    return _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
