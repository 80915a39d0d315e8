"""The course the kit grades: what is taught, found in a folder, so that the engine names none of it.

A course is a folder (by default the one holding the `autograder` package; another
with `--course DIR` or AUTOGRADER_COURSE) laid out as:

    solutions/<module>.py        the reference, with ### BEGIN/END SOLUTION markers
    exercises/<module>.py        the stubs students get (generated from solutions/)
    examples/submissions/        example submissions (generated: see `build`)
    course/course.toml           the course's settings: modules, points, tolerances, limits...
    course/<module>/oracle.py    the torch reference of the module's functions (grader only)
    course/<module>/public.py    public cases (they ship to students)
    course/<module>/hidden.py    hidden cases (never ship)
    course/<module>/mistakes.py  typical mistakes: their fingerprints and planted examples
    course/<module>/figures.py   optional: what the report draws from the module's calls

The exercise functions of a module are the top-level functions of its reference (or,
where the reference is not shipped, of its stub) whose names do not start with "_",
with their parameters; the modules come in the order `course.toml` lists them.
Everything here is read, nothing is run: importing a course module (its oracle, its
cases) is `python_module`'s job and happens only in the trusted grader.
"""

from __future__ import annotations

import ast
import importlib
import os
import sys
import tomllib
import types
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ENV = "AUTOGRADER_COURSE"


class CourseError(ValueError):
    """The course folder is missing or malformed: a one-line message naming the problem."""


@dataclass(frozen=True)
class Function:
    """One exercise function: its module, its name, its parameters."""

    module: str
    name: str
    params: tuple[str, ...]

    @property
    def tag(self) -> str:
        """"module.name", as results, reports and grades.csv name it."""
        return f"{self.module}.{self.name}"


def module_of(tag: str) -> str:
    """The module of a function named by its tag, "module.name" (`Function.tag`)."""
    return tag.partition(".")[0]


@dataclass(frozen=True)
class Module:
    """One exercise module: its functions in file order, its title and what it builds."""

    name: str
    functions: tuple[Function, ...]
    title: str = ""
    about: str = ""


@dataclass(frozen=True)
class Course:
    """A course folder, read: its title, modules and functions, and where its parts are."""

    root: Path
    title: str
    modules: tuple[Module, ...]
    language: str = "en"  # what its people read unless told otherwise (autograder.i18n)

    @property
    def folder(self) -> Path:
        return self.root / "course"

    @property
    def settings_file(self) -> Path:
        return self.folder / "course.toml"

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    @property
    def examples(self) -> Path:
        return self.root / "examples" / "submissions"

    @cached_property  # asked for on every call of a re-run: made once
    def names(self) -> tuple[str, ...]:
        """The modules' names, in order."""
        return tuple(m.name for m in self.modules)

    @cached_property
    def functions(self) -> tuple[str, ...]:
        """Every exercise function as "module.name", module by module, in file order."""
        return tuple(f.tag for m in self.modules for f in m.functions)

    def by_module(self) -> dict[str, tuple[str, ...]]:
        """Each module's exercise functions' names, in file order."""
        return {m.name: tuple(f.name for f in m.functions) for m in self.modules}

    def function(self, tag: str) -> Function:
        module, _, name = tag.partition(".")
        for function in self.module(module).functions:
            if function.name == name:
                return function
        raise KeyError(tag)

    def module(self, name: str) -> Module:
        for module in self.modules:
            if module.name == name:
                return module
        raise KeyError(name)

    def case_files(self, *kinds: str) -> list[Path]:
        """The case files of every module, `kinds` among "public" and "hidden", in module order."""
        return [path for m in self.names for kind in kinds
                if (path := self.folder / m / f"{kind}.py").is_file()]

    def importable(self) -> None:
        """Let this process import the course's modules (`course.<module>.<part>`)."""
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))

    def python_module(self, module: str, part: str) -> types.ModuleType | None:
        """The course's Python module `course.<module>.<part>` (oracle, figures...), or
        `course.<part>` when `module` is "", or None if the course has none. Only the trusted
        grader, or the instructor's own tools, call this."""
        if not (self.folder / module / f"{part}.py").is_file():
            return None
        self.importable()
        return importlib.import_module(".".join(p for p in ("course", module, part) if p))

    def oracle(self, tag: str):  # noqa: ANN201 - a torch function of the function's parameters
        """The torch reference of exercise function `tag`."""
        module, _, name = tag.partition(".")
        oracle = self.python_module(module, "oracle")
        if oracle is None or not callable(getattr(oracle, name, None)):
            raise CourseError(f"course/{module}/oracle.py defines no {name}()")
        return getattr(oracle, name)


def root() -> Path:
    """The course folder in use: AUTOGRADER_COURSE, else the folder holding the kit."""
    chosen = os.environ.get(ENV)
    return Path(chosen).resolve() if chosen else PACKAGE.parent


def load(folder: Path | None = None) -> Course:
    """Read the course at `folder` (default: `root()`), once; CourseError if it is not one."""
    return _load(Path(folder).resolve() if folder else root())


@cache
def _load(folder: Path) -> Course:
    settings = folder / "course" / "course.toml"
    try:
        data = tomllib.loads(settings.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"{folder} is not a course: {settings} is missing") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CourseError(f"{settings}: {exc}") from None
    header = data.get("course", {})
    about = data.get("about", {})
    sources = _sources(folder)
    names = _order(header.get("modules"), sources, settings)
    modules = tuple(_module(name, sources[name], str(about.get(name, ""))) for name in names)
    return Course(folder, str(header.get("title", "")), modules, str(header.get("language", "en")))


def _sources(folder: Path) -> dict[str, Path]:
    """Each module's reference, or its stub where the reference is not there (a student's copy)."""
    for place in (folder / "solutions", folder / "exercises"):
        found = {p.stem: p for p in sorted(place.glob("*.py")) if not p.stem.startswith("_")}
        if found:
            return found
    raise CourseError(f"{folder} has no exercise modules (no solutions/*.py, no exercises/*.py)")


def _order(listed: object, sources: dict[str, Path], settings: Path) -> list[str]:
    """The modules in the order course.toml lists them (every module, once)."""
    if not isinstance(listed, list) or not all(isinstance(m, str) for m in listed):
        raise CourseError(f"{settings}: [course] modules must list the exercise modules in order")
    unknown = [m for m in listed if m not in sources]
    if unknown:
        raise CourseError(f"{settings}: [course] modules names {', '.join(unknown)}, which has no "
                          f"{unknown[0]}.py")
    unlisted = [m for m in sources if m not in listed]
    if unlisted:
        raise CourseError(f"{settings}: [course] modules does not list {', '.join(unlisted)} "
                          f"({unlisted[0]}.py exists)")
    if len(set(listed)) != len(listed):
        raise CourseError(f"{settings}: [course] modules lists a module twice")
    return list(listed)


def _module(name: str, path: Path, about: str) -> Module:
    """A module's exercise functions and title, read from its source without running it."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise CourseError(f"{path}: {exc}") from None
    functions = tuple(
        Function(name, node.name, tuple(a.arg for a in node.args.posonlyargs + node.args.args))
        for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"))
    title = (ast.get_docstring(tree) or "").strip().split("\n", 1)[0]
    return Module(name, functions, title, about)
