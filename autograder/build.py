"""What a course generates from its reference: the stubs (exercises/) and the example submissions
(examples/submissions/), so that neither is ever edited, or forgotten, by hand.

`generated(course)` is every generated file with its text; `autograder build` writes them
and `autograder build --check` says which differ (the kit's tests run the check).
"""

from __future__ import annotations

from pathlib import Path

from autograder.course import Course, CourseError
from autograder.mistakes import Planted
from autograder.stubs import make_stub, strip_markers


def planted(course: Course) -> dict[str, Planted]:
    """Every typical mistake the course's modules plant, by name."""
    found: dict[str, Planted] = {}
    for name in course.names:
        module = course.python_module(name, "mistakes")
        found.update(getattr(module, "PLANTED", {}) if module is not None else {})
    return found


def _reference(course: Course) -> dict[str, str]:
    """Each module's reference without its solution markers: a correct submission."""
    return {m: strip_markers((course.solutions / f"{m}.py").read_text(encoding="utf-8"))
            for m in course.names}


def _stubs(course: Course) -> dict[str, str]:
    return {m: make_stub((course.solutions / f"{m}.py").read_text(encoding="utf-8")) for m in course.names}


def _example(course: Course, recipe: str | tuple[str, ...], mistakes: dict[str, Planted]) -> dict[str, str]:
    """One example submission's files: "solutions", "exercises", or the reference with mistakes."""
    if recipe == "exercises":
        return _stubs(course)
    sources = _reference(course)
    for name in () if recipe == "solutions" else recipe:
        if name not in mistakes:
            raise CourseError(f"course/examples.py: no module plants a mistake named {name!r}")
        mistake = mistakes[name]
        sources[mistake.module] = mistake.apply(sources[mistake.module])
    return sources


def generated(course: Course) -> dict[Path, str]:
    """Every file the course generates, by path, with its text."""
    files = {course.exercises / f"{m}.py": text for m, text in _stubs(course).items()}
    examples = course.python_module("", "examples") if (course.folder / "examples.py").is_file() else None
    mistakes = planted(course)
    for name, recipe in getattr(examples, "EXAMPLES", {}).items():
        for module, text in _example(course, recipe, mistakes).items():
            files[course.examples / name / f"{module}.py"] = text
    return files


def differing(course: Course) -> list[Path]:
    """The generated files whose copy on disk is missing or different."""
    return [path for path, text in generated(course).items()
            if not path.is_file() or path.read_text(encoding="utf-8") != text]


def write(course: Course) -> list[Path]:
    """Write every generated file that differs; return those written."""
    changed = differing(course)
    files = generated(course)
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], encoding="utf-8")
    return changed
