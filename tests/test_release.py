"""`autograder release`: the student bundle has no solutions and no hidden cases, and checks work in it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import COURSE, FUNCTIONS, MODULES, ROOT, reference_copy

from autograder.cli import main
from autograder.stubs import BEGIN, END, make_stub

PUBLIC_CHECKS = 20  # the public cases, one more for xor.train: it also trains the net to solve XOR
TORCH_IMPORT = re.compile(r"^\s*(import|from)\s+torch\b", re.M)
ORACLE_IMPORT = re.compile(r"^\s*(from\s+[\w.]+\s+import\s.*\boracle\b|from\s+[\w.]*oracle[\w.]*\s+import"
                           r"|import\s+[\w.]*oracle)", re.M)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "bundle"
    assert main(["release", str(out)]) == 0
    return out


def _files(folder: Path) -> dict[Path, str]:
    """The bundle's text files (all but its compiled catalogs)."""
    return {p: p.read_text() for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".mo"}


def _solution_lines() -> set[str]:
    """Lines of the solution bodies that the stubs do not show (each long enough to be telling)."""
    found = set()
    for module in MODULES:
        source = (ROOT / "solutions" / f"{module}.py").read_text()
        stub = make_stub(source)
        inside = False
        for line in source.splitlines():
            text = line.strip()
            if text in (BEGIN, END):
                inside = text == BEGIN
            elif inside and len(text) >= 15 and not text.startswith("#") and text not in stub:
                found.add(text)
    return found


@pytest.fixture(scope="module")
def student_copy(tmp_path_factory, bundle) -> Path:
    """The bundle as a student unpacked it (their copy gets __pycache__ and egg-info)."""
    copy = tmp_path_factory.mktemp("student") / "nn-exercises"
    shutil.copytree(bundle, copy)
    return copy


@pytest.fixture(scope="module")
def student_venv(student_copy) -> Path:
    """A fresh virtual environment with nothing but the bundle installed, as a student makes it
    (`python3 -m venv`, then `pip install -e BUNDLE`): the kit of this checkout is not importable."""
    venv = student_copy.parent / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-e",
                           str(student_copy)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv / "bin"


def _as_student(venv: Path, *command: str, cwd: Path, **variables: str) -> subprocess.CompletedProcess:
    """A command of the student's venv, run from `cwd` with no PYTHONPATH (and `variables` set)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")} | variables
    env["PATH"] = f"{venv}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([str(venv / command[0]), *command[1:]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_venv_holds_only_the_bundle(student_venv, student_copy, tmp_path):
    out = _as_student(student_venv, "python", "-c",
                      "import autograder, importlib.util as u; print(autograder.__file__); "
                      "print(u.find_spec('torch'), u.find_spec('jinja2'))", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(student_copy / "autograder" / "__init__.py"), "None", "None"]


def test_check_in_the_bundle_fails_the_stubs(student_venv, student_copy, tmp_path):
    out = _as_student(student_venv, "autograder", "check", str(student_copy / "exercises"), cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert f"0/{PUBLIC_CHECKS} public checks pass" in out.stdout
    assert out.stdout.count("FAIL  ") == len(FUNCTIONS)
    assert out.stdout.count("not implemented yet") >= len(FUNCTIONS)


def test_check_in_the_bundle_passes_the_solutions(student_venv, tmp_path):
    work = reference_copy(tmp_path / "exercises")
    for command in (("autograder", "check", str(work)), ("python", "-m", "autograder", "check", str(work))):
        out = _as_student(student_venv, *command, cwd=tmp_path)
        assert out.returncode == 0, out.stdout + out.stderr
        assert f"{PUBLIC_CHECKS}/{PUBLIC_CHECKS} public checks pass" in out.stdout
        assert out.stdout.count("PASS  ") == len(FUNCTIONS)


def test_a_chinese_bundle_checks_in_chinese_without_babel(student_venv, tmp_path):
    """`release --lang zh_CN`: the bundle's checks speak Chinese by default (its course.toml says
    so; the locale here names none the kit has), from its compiled catalogs, with no Babel."""
    out = tmp_path / "zh"
    assert main(["release", "--lang", "zh_CN", str(out)]) == 0
    done = _as_student(student_venv, "python", "-m", "autograder", "check", "exercises", cwd=out,
                       AUTOGRADER_LANG="", LC_ALL="", LC_MESSAGES="", LANG="C.UTF-8")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert done.stdout.count("尚未实现") >= len(FUNCTIONS)
    code = "import importlib.util as u; print(u.find_spec('babel'))"
    found = _as_student(student_venv, "python", "-c", code, cwd=tmp_path)
    assert found.stdout.strip() == "None"


def test_notebook_checks_run_with_only_the_bundle(student_venv, tmp_path):
    """A released nbgrader notebook's check cell (`nbchecks.Grade(...).public()`) works where only
    the bundle is installed."""
    course = tmp_path / "course"
    assert main(["nbgrader", str(course), "--assignment", "unit"]) == 0
    code = (f"import sys; sys.path.insert(0, {str(course / 'source' / 'unit')!r})\n"
            "import numpy as np, nbchecks\n"
            "def relu(z):\n    return np.maximum(z, 0)\n"
            "grade = nbchecks.Grade('activations.relu', globals())\n"
            "grade.public()\nprint('points', grade.points())\n")
    out = _as_student(student_venv, "python", "-c", code, cwd=tmp_path)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stdout + out.stderr
    assert "PASS  activations.relu" in out.stdout and "points 3" in out.stdout


def test_the_bundle_is_the_boundary_of_check():
    """What the bundle ships is computed from the imports of what check runs, not listed by hand;
    a module of the boundary that reached the oracle would stop the release."""
    from autograder.commands import release
    from autograder.sandbox.session import ZYGOTE

    modules = set(release.closure(COURSE))
    assert {"autograder.sandbox.protocol", "autograder.sandbox.wire", "autograder.callplan", ZYGOTE,
            "autograder.notebook.kernel"} <= modules
    assert not [m for m in modules if release.FORBIDDEN.search(m) or m.startswith("autograder.commands.g")]
    assert release.STARTED["autograder.sandbox.session"] == (ZYGOTE,)
    with pytest.raises(release.LeakError, match=r"course\.xor\.oracle"):
        release.closure(COURSE, ("course.xor.figures",))


def test_bundle_layout(bundle):
    names = {p.relative_to(bundle).as_posix() for p in _files(bundle)}
    assert {f"exercises/{m}.py" for m in MODULES} <= names
    assert {"README.md", "pyproject.toml", "autograder/cli.py", "autograder/commands/check.py",
            "course/xor/public.py", "course/course.toml", "course/articles.py"} <= names
    assert not [n for n in names if "hidden" in n or "oracle" in n or "solution" in n]
    assert not [n for n in names if n.startswith("autograder/commands/") and
                n not in ("autograder/commands/__init__.py", "autograder/commands/check.py")]
    for module in MODULES:
        expected = make_stub((ROOT / "solutions" / f"{module}.py").read_text())
        assert (bundle / "exercises" / f"{module}.py").read_text() == expected


def test_no_solution_code_in_the_bundle(bundle):
    lines = _solution_lines()
    assert len(lines) > 20  # the scan has something to find
    for path, text in _files(bundle).items():
        assert BEGIN not in text and END not in text, path
        leaked = [line for line in lines if line in text]
        assert leaked == [], f"{path} holds solution code: {leaked[:3]}"


def test_no_hidden_case_in_the_bundle(bundle):
    hidden = {str(p): p.read_text() for p in (ROOT / "course").glob("*/hidden.py")}
    assert len(hidden) == len(MODULES)
    markers = [line.strip() for text in hidden.values() for line in text.splitlines()
               if line.strip().startswith("def test_")]
    for path, text in _files(bundle).items():
        assert text not in hidden.values() or not text.strip(), f"{path} is a hidden case file"
        assert not TORCH_IMPORT.search(text), f"{path} imports torch"
        assert not ORACLE_IMPORT.search(text), f"{path} imports the oracle"
        assert not [m for m in markers if m in text], f"{path} holds a hidden test"
    assert not re.search(r"seed\s*=", (bundle / "course" / "course.toml").read_text())


def test_cli_of_the_bundle_has_only_check(bundle):
    env = {**os.environ, "PYTHONPATH": str(bundle), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-m", "autograder.cli", "--help"], cwd=bundle, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    verbs = re.findall(r"^    (\w+)\s", out.stdout, re.M)
    assert verbs == ["check"]


def test_readme_explains_the_work(bundle):
    readme = (bundle / "README.md").read_text()
    for needle in ("autograder check exercises", "python3 -m autograder check exercises",
                   "Dismantling neural networks", "Postmortem of artificial neural networks",
                   "`softmax_prime(z)`", "NumPy only", "(100 points)"):
        assert needle in readme, needle


def test_release_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["release", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["release", str(ROOT)]) == 2
