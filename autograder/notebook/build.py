"""nbgrader source notebooks, one per exercise module, built from the reference solutions.

`write_assignment` writes COURSE_DIR/source/NAME/<module>.ipynb for every exercise
module and the helper `nbchecks.py` they import. Each notebook has a read-only
introduction and set-up cell, then per function a solution cell (`### BEGIN
SOLUTION` ...) and a read-only autograder test cell worth the function's points.

A test cell runs the kit's own cases on the notebook's function
(`autograder.notebook.kernel.Grade`): the public cases in the visible part, the
hidden ones between `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`. Its last
value is the points earned, which nbgrader reads as partial credit, split across
the cases by weight exactly as `autograder grade` splits them.
`generate_assignment` removes the hidden part from the released notebooks;
`autograde` puts it back from its database; the nbgrader_config.py written by the
`nbgrader` verb makes `generate_feedback` remove it again before rendering, so the
feedback HTML never shows it (nbgrader issue 917).

nbgrader runs the notebooks of a submission one at a time, in name order, each in
a fresh kernel, and a notebook imports the student's functions from the notebooks
before it (nbchecks installs an import hook for the notebooks beside it). So the
notebooks are numbered in the course's order (01-first.ipynb, 02-second.ipynb...),
which must list every module after those it imports.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

HELPER = "nbchecks"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

CONFIG = '''\
"""nbgrader settings of this course, written by `autograder nbgrader`; edit freely.

Run nbgrader from this folder: `nbgrader generate_assignment NAME`, then, with the
submissions in submitted/<student>/NAME/, `nbgrader autograde NAME` and
`nbgrader generate_feedback NAME`.
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 - nbgrader defines it while it reads this file

# autograde puts the hidden tests back into every notebook: take them out again
# before the feedback HTML is rendered, so that students never see them.
c.GenerateFeedback.preprocessors = [ClearHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]

# The first hidden test of a notebook loads torch (a few seconds), and a course's
# checks may train a network: allow more than nbgrader's 30 s per cell.
c.Execute.timeout = 120
'''

HELPER_SOURCE = '''\
"""The checks of this assignment's notebooks, written by `autograder nbgrader`: do not edit.

`import nbchecks` lets a notebook import the functions of the notebooks beside it
(`from helpers import f` reads helpers.ipynb, or NN-helpers.ipynb, as saved), and
`nbchecks.Grade` runs the kit's cases on a function of the notebook: the public
cases need the kit's public part (the student bundle of `autograder release`, or
the whole kit); the hidden ones run only where the whole kit is installed.
"""

from pathlib import Path

from autograder.notebook.kernel import Grade, install

__all__ = ["Grade"]

install(Path(__file__).resolve().parent)
'''


def notebook_name(module: str) -> str:
    """The notebook of `module`, numbered in the course's order: 02-<module>.ipynb."""
    from autograder import course as courses

    return f"{courses.load().names.index(module) + 1:02d}-{module}.ipynb"


def write_assignment(folder: Path) -> list[Path]:
    """Write every module's notebook and the helper into `folder`; return the files written."""
    import nbformat

    from autograder import course as courses
    from autograder.config import load
    from autograder.i18n import gettext
    from autograder.stubs import translate_docstrings

    course = courses.load()
    settings = load()
    points = {tag: value * settings.scale() for tag, value in settings.points.items()}
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for module in course.modules:
        source = translate_docstrings((course.solutions / f"{module.name}.py").read_text(), gettext)
        notebook = build_notebook(module.name, source, points, gettext(module.about))
        path = folder / notebook_name(module.name)
        nbformat.write(notebook, path)
        written.append(path)
    helper = folder / f"{HELPER}.py"
    helper.write_text(HELPER_SOURCE)
    return [*written, helper]


def split_module(source: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(docstring, set-up code, [(function, its code)]) of a solution module.

    Each statement keeps the comments and blank lines above it, and the indented
    comments below it; everything that is not an exercise function (imports,
    constants, private helpers) is the set-up code.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    docstring = ast.get_docstring(tree) or ""
    body = tree.body[1:] if docstring else tree.body
    start = tree.body[0].end_lineno if docstring else 0
    setup, functions = [], []
    for node in body:
        end = node.end_lineno
        while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
            end += 1  # indented comments after the last statement (### END SOLUTION) belong to it
        text = "\n".join(lines[start:end])
        start = end
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            functions.append((node.name, text.strip("\n")))
        else:
            setup.append(text)
    return docstring, "\n".join(setup).strip("\n"), functions


def imported_modules(setup: str) -> list[str]:
    """The exercise modules a set-up cell imports from."""
    from autograder import course as courses

    names = courses.load().names
    return [node.module for node in ast.walk(ast.parse(setup))
            if isinstance(node, ast.ImportFrom) and node.module in names]


def build_notebook(module: str, source: str, points: dict[str, float], about: str = "") -> Any:
    """The nbgrader source notebook of one exercise module."""
    import nbformat.v4 as nbf

    from autograder import course as courses

    docstring, setup, functions = split_module(source)
    needs = imported_modules(setup)
    order = courses.load().names
    late = [m for m in needs if order.index(m) >= order.index(module)]
    if late:
        raise ValueError(f"{module} imports {', '.join(late)}, which course.toml lists after it: "
                         "nbgrader runs a submission's notebooks in order, so list it first")
    cells = [
        _cell(nbf.new_markdown_cell(intro(module, docstring, needs, functions, points, about)),
              f"{module}_intro", locked=True),
        _cell(nbf.new_code_cell(f"import {HELPER}  # runs the checks; lets this notebook import your "
                                f"other notebooks\n{setup}".rstrip()),
              f"{module}_setup", locked=True),
    ]
    for function, code in functions:
        tag = f"{module}.{function}"
        cells.append(_cell(nbf.new_code_cell(code), f"{module}_{function}", solution=True))
        checks = nbf.new_code_cell(grade_cell_source(tag, points[tag]))
        cells.append(_cell(checks, f"test_{module}_{function}", locked=True, points=points[tag]))
    notebook = nbf.new_notebook(cells=cells)
    notebook.metadata.update({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    return notebook


def _cell(cell: Any, grade_id: str, *, locked: bool = False, solution: bool = False,
          points: float | None = None) -> Any:
    """`cell` with its nbgrader metadata (and a stable id, so a rebuilt notebook diffs cleanly)."""
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": locked,
            "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = _number(points)
    cell.metadata["nbgrader"] = meta
    cell["id"] = grade_id
    return cell


def intro(module: str, docstring: str, needs: list[str], functions: list[tuple[str, str]],
          points: dict[str, float], about: str = "") -> str:
    """The read-only first cell: what the module is and how the notebook works, in the language in use."""
    from autograder.i18n import gettext

    title, _, rest = docstring.partition("\n")
    table = "\n".join(f"| `{f}` | {_number(points[f'{module}.{f}'])} |" for f, _ in functions)
    parts = [f"# `{module}`: {title.strip()}", rest.strip(), about]
    if needs:
        listed = ", ".join(f"`{notebook_name(m)}`" for m in needs)
        parts.append(gettext("This notebook imports your own functions from {notebooks} (as last saved): "
                             "finish and save those first.").format(notebooks=listed))
    parts += [
        gettext("**How it works.** Write each function's body where it says `YOUR CODE HERE` (replace the "
                "`raise NotImplementedError()`). The read-only cell after each function runs its public "
                "checks: shapes, small cases you can work out by hand, worked examples. It raises an "
                "error while one fails and says why. The grader adds hidden checks, compared with torch "
                "autograd, and gives each function its points in proportion to the checks it passes. "
                "Use NumPy only (torch is the grader's reference, not yours), and never modify an input "
                "in place. Before you submit, run everything from the top: Kernel, Restart & Run All."),
        f"| {gettext('function')} | {gettext('points')} |\n|---|---|\n{table}",
    ]
    return "\n\n".join(p for p in parts if p)


def grade_cell_source(function: str, points: float) -> str:
    """The autograder test cell of `function`: public checks, then the hidden part."""
    name = function.split(".", 1)[1]
    return "\n".join([
        f"# The checks of {name} ({_number(points)} points): the public ones run here; "
        "the grader adds hidden ones.",
        f'_grade = {HELPER}.Grade("{function}", globals())',
        "_grade.public()",
        BEGIN_HIDDEN,
        "_grade.hidden()",
        "_grade.points()",
        END_HIDDEN,
    ])


def _number(value: float) -> int | float:
    value = round(float(value), 4)
    return int(value) if value.is_integer() else value
