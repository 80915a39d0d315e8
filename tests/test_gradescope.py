"""`autograder gradescope`: the zip, and run_autograder on a dry-run root laid out like Gradescope's."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import FUNCTIONS, ROOT, reference_copy

from autograder.cli import main

VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    assert main(["gradescope", str(out)]) == 0
    return out


def _dry_run_root(autograder_zip: Path, root: Path, submission: Path) -> Path:
    """What Gradescope builds: the zip in ROOT/source, run_autograder copied to ROOT, the submission."""
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    shutil.copytree(submission, root / "submission")
    return root


def _run_autograder(root: Path) -> tuple[subprocess.CompletedProcess, dict]:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", str(root / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done, json.loads((root / "results" / "results.json").read_text())


def _check_schema(results: dict) -> None:
    """The fields of Gradescope's results.json that the kit writes, with their types."""
    assert isinstance(results["score"], (int, float))
    assert isinstance(results["execution_time"], (int, float))
    assert isinstance(results["output"], str)
    assert results["visibility"] in VISIBILITIES
    assert results["stdout_visibility"] in VISIBILITIES
    assert results["tests"]
    for test in results["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility", "tags"} <= set(test)
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in VISIBILITIES
        assert 0 <= test["score"] <= test["max_score"] + 1e-9
        assert test["tags"] and set(test["tags"]) <= set(FUNCTIONS)
    assert {t for test in results["tests"] for t in test["tags"]} == set(FUNCTIONS)


def test_zip_layout(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        infos = {info.filename: info for info in zf.infolist()}
        setup = zf.read("setup.sh").decode()
    for script in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(infos[script].external_attr >> 16) == 0o755, script
    assert "course/xor/hidden.py" in infos and "course/xor/oracle.py" in infos
    assert "course/course.toml" in infos and "course/xor/public.py" in infos and "exercises/xor.py" in infos
    assert not [n for n in infos if n.startswith("solutions/") or "__pycache__" in n or n.endswith(".pyc")]
    assert 'TORCH_REQUIREMENT="torch==2.13.0+cpu"' in setup and not re.search(r"@[A-Z_]+@", setup)
    dependencies = re.search(r"^DEPENDENCIES=\((.*)\)$", setup, re.M).group(1).split()
    assert {d.split("==")[0] for d in dependencies} >= {"numpy", "jinja2", "pytest", "matplotlib", "rich"}
    assert subprocess.run(["bash", "-n", "-c", setup]).returncode == 0


def test_zip_name_must_end_in_zip(tmp_path):
    assert main(["gradescope", str(tmp_path / "ag.tar")]) == 2
    assert not (tmp_path / "ag.tar").exists()


def test_reference_submission_scores_full_marks(autograder_zip, tmp_path):
    root = _dry_run_root(autograder_zip, tmp_path / "root", reference_copy(tmp_path / "reference"))
    done, results = _run_autograder(root)
    _check_schema(results)
    assert results["score"] == 100
    # each test's max_score is rounded to 4 decimals: 127 of them may add up to 100 +- 0.01
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(100, abs=0.01)
    assert all(t["status"] == "passed" for t in results["tests"])
    assert "100/100" in done.stdout


def test_stub_submission_scores_zero(autograder_zip, tmp_path):
    root = _dry_run_root(autograder_zip, tmp_path / "root", ROOT / "exercises")
    _, results = _run_autograder(root)
    _check_schema(results)
    assert results["score"] == 0
    assert all(t["status"] == "failed" for t in results["tests"])
    hidden = [t for t in results["tests"] if t["visibility"] != "visible"]
    assert hidden and all("not implemented" not in t["name"] for t in hidden)


def test_gradescope_in_a_container_with_dockers_default_privileges(autograder_zip):
    """run_autograder as Gradescope runs it: root in a container without CAP_SYS_ADMIN, a seccomp
    profile refusing namespaces and mounts, read-only cgroups. The reference scores 100, and the
    result names the layers that were missing."""
    from support import container

    if container.available():
        pytest.skip(container.available())
    root = container.shared_folder("gradescope-", None)
    try:
        _dry_run_root(autograder_zip, root, reference_copy(root / "reference"))
        env = {"AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}
        done = container.run(["bash", str(root / "run_autograder")], root, **env)
        assert done.returncode == 0, done.stdout + done.stderr
        results = json.loads((root / "results" / "results.json").read_text())
        assert results["score"] == 100
        layers = " ".join(results["extra_data"]["isolation"])
        assert "missing namespaces" in layers and "seccomp" in layers and "landlock" in layers
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_fault_of_the_grader_on_gradescope_is_not_a_zero(autograder_zip, tmp_path):
    """If the grader itself fails (here: the kit's own case code), run_autograder writes no
    results.json and exits non-zero: Gradescope then shows an autograder failure, not 0 points."""
    root = _dry_run_root(autograder_zip, tmp_path / "root", reference_copy(tmp_path / "reference"))
    casekit = root / "source" / "autograder" / "casekit.py"
    head = "def close(got: np.ndarray, expected: np.ndarray, tol: Tolerance) -> bool:\n"
    casekit.write_text(casekit.read_text().replace(head, head + '    raise KeyError("broken grader")\n'))
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", str(root / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode != 0 and not (root / "results" / "results.json").exists()
    assert "could not be graded" in done.stdout + done.stderr and "broken grader" in done.stdout + done.stderr
