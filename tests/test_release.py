"""`autograder release`: the student bundle has no solutions and no hidden cases, and checks work in it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, reference_copy

from autograder.cli import main
from autograder.spec import FUNCTIONS, MODULES
from autograder.stubs import BEGIN, END, make_stub

TORCH_IMPORT = re.compile(r"^\s*(import|from)\s+torch\b", re.M)
ORACLE_IMPORT = re.compile(r"\boracle\b.*\bimport\b|\bimport\b.*\boracle\b|autograder\.oracle", re.M)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "bundle"
    assert main(["release", str(out)]) == 0
    return out


def _files(folder: Path) -> dict[Path, str]:
    return {p: p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


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


def _run_check(bundle: Path, folder: str) -> subprocess.CompletedProcess:
    """`python -m autograder.cli check FOLDER` in the bundle, with torch made unimportable."""
    code = ("import sys; sys.modules['torch'] = None; import autograder; "
            "print('kit at', autograder.__file__); from autograder.cli import main; sys.exit(main())")
    env = {**os.environ, "PYTHONPATH": str(bundle), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", code, "check", folder], cwd=bundle, env=env,
                          capture_output=True, text=True, timeout=120)


def test_bundle_layout(bundle):
    names = {p.relative_to(bundle).as_posix() for p in _files(bundle)}
    assert {f"exercises/{m}.py" for m in MODULES} <= names
    assert {"README.md", "pyproject.toml", "autograder/cli.py", "autograder/commands/check.py",
            "autograder/public/test_public.py", "autograder/grading.toml"} <= names
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
    hidden = {p.name: p.read_text() for p in (ROOT / "autograder" / "hidden").glob("*.py")}
    markers = [line.strip() for text in hidden.values() for line in text.splitlines()
               if line.strip().startswith("def test_")]
    for path, text in _files(bundle).items():
        assert text not in hidden.values() or not text.strip(), f"{path} is a hidden case file"
        assert not TORCH_IMPORT.search(text), f"{path} imports torch"
        assert not ORACLE_IMPORT.search(text), f"{path} imports the oracle"
        assert not [m for m in markers if m in text], f"{path} holds a hidden test"
    assert "seed" not in (bundle / "autograder" / "grading.toml").read_text()


def test_cli_of_the_bundle_has_only_check(bundle):
    env = {**os.environ, "PYTHONPATH": str(bundle), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-m", "autograder.cli", "--help"], cwd=bundle, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    verbs = re.findall(r"^    (\w+)\s", out.stdout, re.M)
    assert verbs == ["check"]


def test_check_in_the_bundle_fails_the_stubs(bundle):
    out = _run_check(bundle, "exercises")
    assert f"kit at {bundle}" in out.stdout, out.stdout + out.stderr
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"0/{len(FUNCTIONS)} public checks pass" in out.stdout
    assert out.stdout.count("FAIL  ") == len(FUNCTIONS)
    assert "not implemented yet" in out.stdout


def test_check_in_the_bundle_passes_the_solutions(bundle, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(bundle, work)
    reference_copy(work / "exercises")
    out = _run_check(work, "exercises")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(FUNCTIONS)}/{len(FUNCTIONS)} public checks pass" in out.stdout
    assert out.stdout.count("PASS  ") == len(FUNCTIONS)


def test_readme_explains_the_work(bundle):
    readme = (bundle / "README.md").read_text()
    for needle in ("autograder check exercises", "python3 -m autograder.cli check exercises",
                   "Dismantling neural networks", "Postmortem of artificial neural networks",
                   "`softmax_prime(z)`", "NumPy only", "(100 points)"):
        assert needle in readme, needle


def test_release_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["release", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["release", str(ROOT)]) == 2
