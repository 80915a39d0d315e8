"""`autograder nbgrader`: the source notebooks, then the whole round trip with the real nbgrader.

The round trip runs `nbgrader generate_assignment`, `autograde` (a submission with
the reference solutions filled in and one with the released stubs) and
`generate_feedback` in a temporary course, as an instructor would from its folder.
It needs the `python3` Jupyter kernel (`python3 -m ipykernel install --sys-prefix
--name python3`, done by tools/install.sh --test).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import FUNCTIONS, MODULES, ROOT

from autograder.cli import main
from autograder.config import load
from autograder.notebook import build as nbg
from autograder.notebook import kernel, service
from autograder.stubs import BEGIN, END, strip_markers

NAME = "nn_internals"
STUDENTS = ("reference", "stubs")


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("course")
    assert main(["nbgrader", str(folder), "--assignment", NAME]) == 0
    return folder


def _cells(path: Path) -> list:
    return nbformat.read(path, as_version=4).cells


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _hidden_lines(course: Path) -> set[str]:
    """Every line between the hidden-test markers of the source notebooks."""
    found = set()
    for path in (course / "source" / NAME).glob("*.ipynb"):
        for cell in _cells(path):
            inside = False
            for line in cell.source.splitlines():
                if line.strip() in (nbg.BEGIN_HIDDEN, nbg.END_HIDDEN):
                    inside = line.strip() == nbg.BEGIN_HIDDEN
                elif inside and line.strip():
                    found.add(line.strip())
    return found


def _text_of(page: str) -> str:
    """What a reader of an HTML page sees: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"(?s)<(style|script)\b.*?</\1>", "", page)))


def test_source_notebooks(course):
    from nbgrader.nbgraderformat import MetadataValidator

    points = load().points
    source = course / "source" / NAME
    expected = [*(nbg.notebook_name(m) for m in MODULES), "nbchecks.py"]
    assert sorted(p.name for p in source.iterdir()) == sorted(expected)
    graded = {}
    for module in MODULES:
        notebook = nbformat.read(source / nbg.notebook_name(module), as_version=4)
        MetadataValidator().validate_nb(notebook)
        cells = notebook.cells
        assert cells[0].cell_type == "markdown" and _meta(cells[0])["locked"]
        assert _meta(cells[1])["locked"] and "import nbchecks" in cells[1].source
        for cell in cells[2:]:
            meta = _meta(cell)
            if meta["solution"]:
                assert not meta["locked"] and not meta["grade"]
                assert BEGIN in cell.source and END in cell.source
            else:
                assert meta["grade"] and meta["locked"]
                assert nbg.BEGIN_HIDDEN in cell.source and nbg.END_HIDDEN in cell.source
                function = re.search(r'Grade\("([\w.]+)"', cell.source).group(1)
                graded[function] = meta["points"]
    assert graded == {f: points[f] for f in FUNCTIONS}
    assert sum(graded.values()) == 100
    config = (course / "nbgrader_config.py").read_text()
    assert "ClearHiddenTests" in config and "GenerateFeedback.preprocessors" in config
    compile((source / "nbchecks.py").read_text(), "nbchecks.py", "exec")


def test_refuses_to_overwrite_without_force(course, capsys):
    assert main(["nbgrader", str(course), "--assignment", NAME]) == 2
    assert "--force" in capsys.readouterr().err


def test_public_checks_run_in_process():
    """A test cell's visible part on plain namespaces: the stub raises, the reference passes."""
    source = (ROOT / "solutions" / "activations.py").read_text()
    reference, stub = {}, {}
    exec(strip_markers(source), reference)
    exec(source.replace("return np.maximum(z, 0)", "return z"), stub)
    kernel.Grade("activations.relu", reference).public()
    with pytest.raises(AssertionError, match="public check"):
        kernel.Grade("activations.relu", stub).public()


def _nbgrader(course: Path, *args: str) -> float:
    """Run one nbgrader command from the course folder; return its wall time."""
    env = {**os.environ, "AUTOGRADER_NBGRADER_IDLE": "60"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return time.monotonic() - started


def _submit(course: Path) -> None:
    """submitted/stubs: the release as is; submitted/reference: the release with every answer written."""
    release = course / "release" / NAME
    for student in STUDENTS:
        shutil.copytree(release, course / "submitted" / student / NAME)
    for path in (course / "source" / NAME).glob("*.ipynb"):
        answers = {_meta(c)["grade_id"]: strip_markers(c.source)
                   for c in _cells(path) if _meta(c)["solution"]}
        target = course / "submitted" / "reference" / NAME / path.name
        notebook = nbformat.read(target, as_version=4)
        for cell in notebook.cells:
            if _meta(cell).get("solution"):
                cell.source = answers[_meta(cell)["grade_id"]]
        nbformat.write(notebook, target)


def _scores(course: Path) -> dict[str, tuple[float, float, dict[str, float]]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        out = {}
        for student in STUDENTS:
            submission = gradebook.find_submission(NAME, student)
            out[student] = (submission.score, submission.max_score,
                            {nb.name: nb.score for nb in submission.notebooks})
        return out


def _test_cell_outputs(course: Path, student: str) -> list[tuple[str, list]]:
    found = []
    for module in MODULES:
        for cell in _cells(course / "autograded" / student / NAME / nbg.notebook_name(module)):
            if _meta(cell).get("grade"):
                found.append((_meta(cell)["grade_id"], cell.outputs))
    return found


@pytest.fixture(scope="module")
def round_trip(course) -> dict[str, float]:
    """generate_assignment, two submissions, autograde, generate_feedback; the wall time of each."""
    from jupyter_client.kernelspec import find_kernel_specs

    assert "python3" in find_kernel_specs(), "run: python3 -m ipykernel install --sys-prefix --name python3"
    times = {"generate_assignment": _nbgrader(course, "generate_assignment", NAME)}
    _submit(course)
    try:
        times["autograde"] = _nbgrader(course, "autograde", NAME)
    finally:
        service.stop_service()
    times["generate_feedback"] = _nbgrader(course, "generate_feedback", NAME)
    print("nbgrader round trip:", json.dumps({k: round(v, 1) for k, v in times.items()}))
    return times


def test_release_has_no_solutions_and_no_hidden_tests(course, round_trip):
    release = course / "release" / NAME
    assert (release / "nbchecks.py").is_file()
    hidden = _hidden_lines(course)
    for path in release.glob("*.ipynb"):
        text = path.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and BEGIN not in text, path
        assert not [line for line in hidden if line in text], path


def test_reference_gets_full_marks_and_stubs_zero(course, round_trip):
    points = load().points
    per_notebook = {nbg.notebook_name(m)[:-6]: sum(p for f, p in points.items() if f.startswith(f"{m}."))
                    for m in MODULES}
    scores = _scores(course)
    assert scores["reference"] == (100, 100, per_notebook)
    assert scores["stubs"] == (0, 100, dict.fromkeys(per_notebook, 0))


def test_test_cells_write_nothing_to_stderr(course, round_trip):
    points = load().points
    for student in STUDENTS:
        for grade_id, outputs in _test_cell_outputs(course, student):
            kinds = [(o.output_type, o.get("name")) for o in outputs]
            assert ("stream", "stderr") not in kinds, (student, grade_id, outputs)
            assert ("error", None) not in kinds, (student, grade_id, outputs)
            values = [o.data["text/plain"] for o in outputs if o.output_type == "execute_result"]
            function = grade_id.removeprefix("test_").replace("_", ".", 1)
            assert values == [repr(float(points[function]) if student == "reference" else 0.0)], grade_id


def test_feedback_shows_no_hidden_test(course, round_trip):
    hidden = _hidden_lines(course)
    assert hidden  # the check has something to look for
    for student in STUDENTS:
        pages = sorted((course / "feedback" / student / NAME).glob("*.html"))
        assert [p.name for p in pages] == sorted(nbg.notebook_name(m)[:-6] + ".html" for m in MODULES)
        for page in pages:
            raw = page.read_text()
            text = _text_of(raw)
            assert "HIDDEN TESTS" not in raw and "hidden()" not in text, page
            assert not [line for line in hidden if line in text], page
            assert "import torch" not in text and "oracle" not in text, page
            assert "hidden checks of" in text  # their outcome is shown, not their code
