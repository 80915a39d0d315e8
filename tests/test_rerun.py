"""Running `autograder grade` again, and what it does when OUT or the grader itself fails.

A re-run grades again whatever changed (the submission's files, the settings, the
grader) and whatever could not be graded before; keeps the rest. OUT is locked
against a second run; an OUT that cannot be written is a one-line error. A
submission the grader could not grade is named and makes the exit non-zero.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, reference_copy

from autograder import batch, casekit
from autograder.cli import main
from autograder.config import load
from autograder.intake import Submission
from autograder.results import SubmissionResult
from autograder.sandbox import session


@pytest.fixture
def klass(tmp_path: Path) -> Path:
    """Two correct submissions."""
    folder = tmp_path / "submissions"
    for name in ("ada", "ben"):
        reference_copy(folder / name)
    return folder


def grade(submissions: Path, out: Path, *extra: str, capsys=None) -> int:
    return main(["grade", str(submissions), "--out", str(out), "--jobs", "1", "--no-plots", *extra])


def result(out: Path, sid: str) -> dict:
    return json.loads((out / sid / "result.full.json").read_text())


def test_a_changed_submission_is_graded_again(klass, tmp_path, capsys):
    out = tmp_path / "out"
    assert grade(klass, out) == 0
    kept = (out / "ada" / "results.json").stat().st_mtime_ns
    linear = klass / "ben" / "linear.py"
    linear.write_text(linear.read_text().replace("return x @ W.T + b", "return x @ W.T"))
    capsys.readouterr()
    assert grade(klass, out) == 0
    assert "resuming: 1 already graded in" in capsys.readouterr().err
    assert (out / "ada" / "results.json").stat().st_mtime_ns == kept
    assert result(out, "ben")["cases"] and not all(c["passed"] for c in result(out, "ben")["cases"])


def test_other_settings_grade_everything_again(klass, tmp_path, capsys):
    out = tmp_path / "out"
    assert grade(klass, out) == 0
    stored_digest = result(out, "ada")["digest"]
    config = tmp_path / "course.toml"
    text = (ROOT / "course" / "course.toml").read_text()
    config.write_text(text.replace('"linear.linear" = 5', '"linear.linear" = 6'))
    capsys.readouterr()
    assert grade(klass, out, "--config", str(config)) == 0
    assert "resuming" not in capsys.readouterr().err
    assert result(out, "ada")["digest"] != stored_digest  # graded again, by the new settings
    linear = [c for c in result(out, "ada")["cases"] if c["function"] == "linear.linear"]
    assert sum(c["max_score"] for c in linear) == pytest.approx(6 * 100 / 101)  # total = 100: scaled


def test_a_submission_that_could_not_be_graded_is_tried_again(klass, tmp_path, capsys):
    out = tmp_path / "out"
    assert grade(klass, out) == 0
    stored = result(out, "ben")
    (out / "ben" / "result.full.json").write_text(json.dumps({**stored, "status": "error", "error": "disk"}))
    capsys.readouterr()
    assert grade(klass, out) == 0
    assert "resuming: 1 already graded in" in capsys.readouterr().err
    assert result(out, "ben")["status"] == "graded"


def test_out_is_locked_against_a_second_run(klass, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".autograder.lock", "w") as held:
        held.write("4242")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX)
        assert grade(klass, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is being written by another `autograder grade` (pid 4242)" in err
    assert not (out / "ada").exists()


def test_no_submission_found_is_an_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert grade(tmp_path / "empty", tmp_path / "out") == 2
    assert "no submissions found" in capsys.readouterr().err


needs_mounts = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                                  reason="mounting a tmpfs for OUT needs root and unshare")


def _grade_on_a_mount(submissions: Path, out: Path, options: str) -> subprocess.CompletedProcess:
    """`autograder grade` with OUT a fresh tmpfs mounted with `options`, in a mount namespace."""
    out.mkdir(exist_ok=True)
    command = (f"mount -t tmpfs -o {options} tmpfs {out} && exec {sys.executable} -m autograder grade "
               f"{submissions} --out {out} --jobs 1 --no-plots")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", command],
                          capture_output=True, text=True, env=env, timeout=300)


@needs_mounts
def test_a_read_only_out_is_a_one_line_error(klass, tmp_path):
    done = _grade_on_a_mount(klass, tmp_path / "out", "ro")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith("Read-only file system")


@needs_mounts
def test_a_full_out_is_a_one_line_error_and_a_failure(klass, tmp_path):
    done = _grade_on_a_mount(klass, tmp_path / "out", "size=24k")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "No space left on device" in done.stderr


def test_scratch_folders_of_killed_runs_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    stale = tmp_path / f"{session.SCRATCH_PREFIX}dead"
    (stale / "sub" / "src").mkdir(parents=True)
    (stale / "sub" / "src" / "linear.py").write_text("student code")
    (stale / session.OWNER).write_text("")
    with session.Sandbox() as live:
        assert session.remove_stale_scratch() == [stale]
        assert live.scratch_root.is_dir() and not stale.exists()


def test_a_fault_of_the_grader_is_not_the_students(klass, tmp_path, capsys, monkeypatch):
    """A case whose own code fails makes the submission "could not be graded" (never "the
    returned value is wrong"), named on stderr, and the exit non-zero."""
    def broken(*args, **kwargs):
        raise KeyError("tolerance")

    monkeypatch.setattr(casekit, "close", broken)
    out = tmp_path / "out"
    assert grade(klass, out) == 1
    err = capsys.readouterr().err
    assert "could not grade ada, ben: " in err
    stored = result(out, "ada")
    assert stored["status"] == "error" and "the grader's own check failed (KeyError" in stored["error"]
    assert "wrong" not in (out / "ada" / "feedback.md").read_text()


def _dying_worker(submission: Submission) -> SubmissionResult:
    """A stand-in for batch._grade_one: the worker dies on "killer", answers at once otherwise."""
    with open(os.environ["GRADED_LOG"], "a") as log:
        log.write(submission.id + "\n")
    if submission.id == "killer":
        os._exit(9)
    return SubmissionResult(submission.id)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_worker_that_dies_costs_only_its_submission(tmp_path, monkeypatch, jobs):
    log = tmp_path / "graded.log"
    monkeypatch.setenv("GRADED_LOG", str(log))
    monkeypatch.setattr(batch, "_grade_one", _dying_worker)
    names = ["ada", "killer", "ben", "cleo", "dan"]
    suite = batch.runner.Suite((), (), seed=7)
    results = batch.grade_all([Submission(n) for n in names], tmp_path / "out", load(),
                              jobs=jobs, require_sandbox=False, on_result=lambda r: None, suite=suite)
    by_id = {r.id: r for r in results}
    assert sorted(by_id) == sorted(names)
    assert by_id["killer"].status == "error" and "died 2 times" in by_id["killer"].error
    assert all(by_id[n].status == "graded" for n in names if n != "killer")
    graded = log.read_text().split()
    assert graded.count("killer") == 2 and all(graded.count(n) == 1 for n in names if n != "killer")
