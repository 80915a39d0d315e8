"""Adding to the course, as an author does it: only the course changes, the engine is used as is.

In a copy of the course (solutions/ and course/), `tanh` and `tanh_prime` join
activations, and a new module `layernorm` (a normalised linear layer, forward and
backward, importing linear) is added. After `autograder build`, the new functions
are in the stubs, the public check, grading against torch (a correct submission
keeps full marks, a wrong derivative costs exactly that function), the student
bundle, the Gradescope zip and the nbgrader notebooks. Every command runs as an
instructor runs it, `autograder --course COPY ...`, in a process of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

from autograder.stubs import strip_markers

TANH = '''

def tanh(z):
    """Elementwise tanh(z), finite for every finite z."""
    ### BEGIN SOLUTION
    return np.tanh(z)
    ### END SOLUTION


def tanh_prime(z):
    """Elementwise derivative of tanh: 1 - tanh(z)**2."""
    ### BEGIN SOLUTION
    return 1 - np.tanh(z) ** 2
    ### END SOLUTION
'''

LAYERNORM = '''"""A normalised linear layer: each row of x normalised to mean 0 and variance 1, then linear.

Shapes: x (m, n_in), W (n_out, n_in), b (n_out,); EPS keeps the variance away from 0.
"""

import numpy as np
from linear import linear, linear_backward

EPS = 1e-5


def _normalize(x):
    return (x - x.mean(axis=-1, keepdims=True)) / np.sqrt(x.var(axis=-1, keepdims=True) + EPS)


def forward(x, W, b):
    """z = linear(normalize(x), W, b), shape (m, n_out)."""
    ### BEGIN SOLUTION
    return linear(_normalize(x), W, b)
    ### END SOLUTION


def backward(x, W, b, grad_z):
    """dL/dx given grad_z = dL/dz, shape of x."""
    ### BEGIN SOLUTION
    xhat = _normalize(x)
    g = linear_backward(xhat, W, b, grad_z)[0]
    inv = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + EPS)
    return inv * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    ### END SOLUTION
'''

ORACLES = {
    "activations": '''

def tanh(z):
    return array(torch.tanh(tensor(z)))


def tanh_prime(z):
    return elementwise_grad(torch.tanh, z)
''',
    "layernorm": '''"""The torch reference of layernorm.py: F.layer_norm, then F.linear; dL/dx by autograd."""

import torch.nn.functional as F

from autograder.autograd import array, grad, tensor

EPS = 1e-5


def _layer(x, W, b):
    return F.linear(F.layer_norm(x, x.shape[-1:], eps=EPS), W, b)


def forward(x, W, b):
    return array(_layer(tensor(x), tensor(W), tensor(b)))


def backward(x, W, b, grad_z):
    return grad(lambda x_: (_layer(x_, tensor(W), tensor(b)) * tensor(grad_z)).sum(), x)[0]
''',
}

PUBLIC = {
    "activations": '''

@public("activations.tanh")
def test_tanh_small(student):
    """tanh(0) = 0 and tanh(+-1000) = +-1"""
    check_array(student.activations.tanh(np.array([0.0, 1000.0, -1000.0])), [0.0, 1.0, -1.0], tol=EXACT)


@public("activations.tanh_prime")
def test_tanh_prime_small(student):
    """tanh'(0) = 1"""
    check_array(student.activations.tanh_prime(np.array([0.0])), [1.0], tol=EXACT)
''',
    "layernorm": '''"""Public cases of layernorm.py: shapes, and a row that is already normalised."""

import numpy as np

from autograder.casekit import check_array, public
from course.articles import EXACT


@public("layernorm.forward")
def test_forward_identity(student):
    """with W = I and b = 0, the rows come out normalised: [-1, 1] stays (almost) [-1, 1]"""
    got = student.layernorm.forward(np.array([[-1.0, 1.0]]), np.eye(2), np.zeros(2))
    check_array(got, [[-1 / np.sqrt(1 + 1e-5), 1 / np.sqrt(1 + 1e-5)]], tol=EXACT)


@public("layernorm.backward")
def test_backward_shape(student):
    """dL/dx has the shape of x, and a constant grad_z gives 0"""
    x, W, b = np.array([[1.0, 2.0, 4.0]]), np.ones((1, 3)), np.zeros(1)
    got = student.layernorm.backward(x, W, b, np.ones((1, 1)))
    check_array(got, [[0.0, 0.0, 0.0]], tol=EXACT)
''',
}

HIDDEN = {
    "activations": '''

TANH_INPUTS = [("random 4x5", R.normal(scale=3, size=(4, 5))), ("z = +-1000", EXTREME)]


@graded("activations.tanh")
@pytest.mark.parametrize("case", [Case(label, (z,), oracle.tanh(z)) for label, z in TANH_INPUTS], ids=str)
def test_tanh(student, case):
    """tanh(z) against torch.tanh"""
    case.run(student, "activations.tanh")


@graded("activations.tanh_prime")
@pytest.mark.parametrize("case", [Case(label, (z,), oracle.tanh_prime(z)) for label, z in TANH_INPUTS],
                         ids=str)
def test_tanh_prime(student, case):
    """1 - tanh(z)**2 against torch.autograd"""
    case.run(student, "activations.tanh_prime")
''',
    "layernorm": '''"""Hidden cases of layernorm.py, against F.layer_norm and autograd."""

import pytest

from autograder.casekit import Case, graded, rng
from course.layernorm import oracle

R = rng("layernorm")
LAYERS = [(f"m={m}, n_in={n}, n_out={k}", R.normal(size=(m, n)), R.normal(size=(k, n)), R.normal(size=k))
          for m, n, k in [(1, 3, 2), (4, 5, 3), (3, 2, 2)]]


@graded("layernorm.forward")
@pytest.mark.parametrize("case", [Case(label, (x, W, b), oracle.forward(x, W, b))
                                  for label, x, W, b in LAYERS], ids=str)
def test_forward(student, case):
    """linear(layer_norm(x)) against torch"""
    case.run(student, "layernorm.forward")


@graded("layernorm.backward")
@pytest.mark.parametrize("case", [
    Case(label, (x, W, b, g), oracle.backward(x, W, b, g))
    for label, x, W, b in LAYERS for g in [R.normal(size=(len(x), len(W)))]], ids=str)
def test_backward(student, case):
    """dL/dx against torch.autograd"""
    case.run(student, "layernorm.backward")
''',
}


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def _author(course: Path) -> None:
    """The author's edits: solutions/ and course/ only."""
    _append(course / "solutions" / "activations.py", TANH)
    (course / "solutions" / "layernorm.py").write_text(LAYERNORM)
    (course / "course" / "layernorm").mkdir()
    (course / "course" / "layernorm" / "__init__.py").write_text('"""A normalised linear layer."""\n')
    for module in ("activations", "layernorm"):
        for part, texts in (("oracle", ORACLES), ("public", PUBLIC), ("hidden", HIDDEN)):
            path = course / "course" / module / f"{part}.py"
            if path.exists():
                _append(path, texts[module])
            else:
                path.write_text(texts[module])
    settings = course / "course" / "course.toml"
    text = settings.read_text()
    text = text.replace('modules = ["linear", "activations", "losses", "network", "xor"]',
                        'modules = ["linear", "layernorm", "activations", "losses", "network", "xor"]')
    text = text.replace('"activations.relu" = 3\n', '"activations.relu" = 3\n"activations.tanh" = 2\n'
                        '"activations.tanh_prime" = 2\n"layernorm.forward" = 3\n"layernorm.backward" = 5\n')
    about = "layernorm = 'A linear layer whose inputs are normalised first.'\n"
    text = text.replace("[about]\n", "[about]\n" + about)
    settings.write_text(text)


def _run(course: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("AUTOGRADER_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "autograder", "--course", str(course), *args],
                          cwd=cwd or course, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A copy of the course with tanh, tanh_prime and the layernorm module added, built."""
    folder = tmp_path_factory.mktemp("authored") / "course"
    for part in ("solutions", "course"):
        shutil.copytree(ROOT / part, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
    _author(folder)
    done = _run(folder, "build")
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def _submission(course: Path, folder: Path, **changes: tuple[str, str]) -> Path:
    """The copy's reference as a submission, each module's (old, new) edit made."""
    folder.mkdir(parents=True)
    for path in (course / "solutions").glob("*.py"):
        text = strip_markers(path.read_text())
        if path.stem in changes:
            old, new = changes[path.stem]
            assert old in text
            text = text.replace(old, new)
        (folder / path.name).write_text(text)
    return folder


def test_the_new_functions_are_in_the_stubs(course):
    activations = (course / "exercises" / "activations.py").read_text()
    assert 'raise NotImplementedError("tanh_prime: not implemented yet")' in activations
    layernorm = (course / "exercises" / "layernorm.py").read_text()
    assert "from linear import linear, linear_backward" in layernorm
    assert "def backward(x, W, b, grad_z):" in layernorm
    assert "### BEGIN SOLUTION" not in layernorm


def test_the_public_check_knows_them(course, tmp_path):
    stubs = _run(course, "check", str(course / "exercises"))
    assert stubs.returncode == 1 and "Traceback" not in stubs.stderr, stubs.stderr
    for function in ("activations.tanh", "activations.tanh_prime", "layernorm.forward", "layernorm.backward"):
        assert f"FAIL  {function}" in stubs.stdout
    reference = _run(course, "check", str(_submission(course, tmp_path / "reference")))
    assert reference.returncode == 0, reference.stdout + reference.stderr
    assert "PASS  layernorm.backward" in reference.stdout and "24/24 public checks pass" in reference.stdout


def test_grading_against_torch_costs_exactly_the_wrong_function(course, tmp_path):
    submissions = tmp_path / "submissions"
    _submission(course, submissions / "right")
    wrong_derivative = ("return 1 - np.tanh(z) ** 2", "return 1 - np.tanh(z)")
    _submission(course, submissions / "wrong", activations=wrong_derivative)
    done = _run(course, "grade", str(submissions), "--out", str(tmp_path / "out"), "--jobs", "2",
                "--no-plots")
    assert done.returncode == 0, done.stderr[-3000:]
    right = json.loads((tmp_path / "out" / "right" / "result.full.json").read_text())
    wrong = json.loads((tmp_path / "out" / "wrong" / "result.full.json").read_text())
    assert {c["function"] for c in right["cases"]} >= {"activations.tanh", "layernorm.backward"}
    assert all(c["passed"] for c in right["cases"])
    assert sum(c["score"] for c in right["cases"]) == pytest.approx(100)  # scaled to the course's total
    assert {c["function"] for c in wrong["cases"] if not c["passed"]} == {"activations.tanh_prime"}


def test_the_student_bundle_has_them_and_no_secret(course, tmp_path):
    bundle = tmp_path / "bundle"
    done = _run(course, "release", str(bundle))
    assert done.returncode == 0, done.stderr
    assert (bundle / "exercises" / "layernorm.py").is_file()
    assert (bundle / "course" / "layernorm" / "public.py").is_file()
    assert not list(bundle.rglob("hidden.py")) and not list(bundle.rglob("oracle.py"))
    assert "`tanh_prime(z)`" in (bundle / "README.md").read_text()


def test_the_gradescope_zip_has_them(course, tmp_path):
    done = _run(course, "gradescope", str(tmp_path / "autograder.zip"))
    assert done.returncode == 0, done.stderr
    names = set(zipfile.ZipFile(tmp_path / "autograder.zip").namelist())
    assert {"course/layernorm/hidden.py", "course/layernorm/oracle.py", "exercises/layernorm.py"} <= names
    assert not [n for n in names if n.startswith("solutions/")]


def test_the_notebooks_have_them(course, tmp_path):
    import nbformat

    done = _run(course, "nbgrader", str(tmp_path / "nb"), "--assignment", "unit")
    assert done.returncode == 0, done.stderr
    source = tmp_path / "nb" / "source" / "unit"
    layernorm = nbformat.read(source / "02-layernorm.ipynb", as_version=4)
    grade_ids = {c.metadata["nbgrader"]["grade_id"] for c in layernorm.cells}
    assert {"layernorm_forward", "test_layernorm_backward"} <= grade_ids
    activations = nbformat.read(source / "03-activations.ipynb", as_version=4)
    assert any("tanh_prime" in c.source for c in activations.cells)


def test_the_kits_own_course_was_not_touched(course):
    assert "tanh" not in (ROOT / "solutions" / "activations.py").read_text()
    assert not (ROOT / "course" / "layernorm").exists()
