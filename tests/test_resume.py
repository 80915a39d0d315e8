"""Resuming `autograder grade` after the grader was SIGKILLed half-way through a batch.

The first run is killed as soon as two submissions are written; the second run
must finish the rest, keep what was already graded, and leave every file whole.
Needs the full sandbox (root, Landlock, namespaces): skipped elsewhere.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from redteam import build
from redteam.cases import CASES

from autograder.sandbox import landlock

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or landlock.abi_version() < 4,
    reason="grading with --sandbox require needs root and Landlock ABI >= 4",
)
BY_NAME = {c.name: c for c in CASES}
SUBMISSIONS = [dataclasses.replace(BY_NAME["honest"], name=f"honest{i}") for i in range(4)] + [
    dataclasses.replace(BY_NAME["sleep"], name=f"slow{i}") for i in range(4)
]
OUT_FILES = {"feedback.html", "feedback.md", "summary.txt", "result.full.json", "results.json"}


@dataclass
class Resumed:
    """What the killed run left, what survived it, and the second run."""

    out: Path
    marker: str
    done_before: dict[str, float]  # id -> mtime of results.json when the first run was killed
    orphans: list[str]  # processes of the killed run still alive just after the kill
    second: subprocess.CompletedProcess


def _finished(out: Path) -> dict[str, float]:
    return {p.parent.name: p.stat().st_mtime for p in out.glob("*/results.json")}


def _session_processes(sid: int) -> list[int]:
    """Processes of session `sid` (the killed grader's workers keep its session)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and os.getsid(int(proc.name)) == sid:
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _survivors(session: int, grace: float = 3.0) -> list[int]:
    """Processes of the killed run still alive (not zombies) after `grace` seconds to die."""
    deadline = time.monotonic() + grace
    while True:
        alive = [pid for pid in _session_processes(session) if not _is_zombie(pid)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def _kill_first_run(batch: Path, out: Path, config: Path) -> tuple[dict[str, float], list[str]]:
    """Start grading, SIGKILL the grader once two submissions are done, end what it left."""
    grader = subprocess.Popen(build.grade_command(batch, out, config), env=build.grader_env("x"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(_finished(out)) < 2 and grader.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(grader.pid, signal.SIGKILL)
    grader.wait()
    done = _finished(out)
    left = _survivors(grader.pid)
    orphans = [Path(f"/proc/{pid}/cmdline").read_bytes()[:80].decode(errors="replace") for pid in left]
    for pid in left:  # started by this test: end them before the second run
        os.kill(pid, signal.SIGKILL)
    return done, orphans


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> Resumed:
    root = tmp_path_factory.mktemp("resume")
    batch, out = root / "batch", root / "out"
    batch.mkdir()
    marker = build.new_marker()
    listeners = build.Listeners(root / "unused.sock")
    values = build.tokens(marker, batch, out, listeners)
    listeners.close()
    for case in SUBMISSIONS:
        build.write_case(case, batch, values)
    config = build.write_config(root / "grading.toml")
    done, orphans = _kill_first_run(batch, out, config)
    second = build.run_grade(batch, out, config, "x")
    return Resumed(out, marker, done, orphans, second)


def test_the_first_run_was_killed_half_way(resumed: Resumed) -> None:
    assert 2 <= len(resumed.done_before) < len(SUBMISSIONS)


def test_the_second_run_finishes_the_rest(resumed: Resumed) -> None:
    assert resumed.second.returncode == 0, resumed.second.stderr[-2000:]
    assert f"resuming: {len(resumed.done_before)} already graded" in resumed.second.stderr
    assert set(_finished(resumed.out)) == {c.name for c in SUBMISSIONS}


def test_what_was_graded_is_not_graded_again(resumed: Resumed) -> None:
    after = _finished(resumed.out)
    assert all(after[name] == mtime for name, mtime in resumed.done_before.items())


def test_every_file_is_whole(resumed: Resumed) -> None:
    """No half-written file: every report parses and grades.csv lists every submission."""
    for case in SUBMISSIONS:
        folder = resumed.out / case.name
        assert {p.name for p in folder.iterdir() if not p.name.startswith(".")} == OUT_FILES
        full = json.loads((folder / "result.full.json").read_text())
        gradescope = json.loads((folder / "results.json").read_text())
        assert full["status"] == "graded" and full["cases"]
        assert gradescope["score"] == pytest.approx(sum(c["score"] for c in full["cases"]))
    with open(resumed.out / "grades.csv", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {c.name for c in SUBMISSIONS}
    assert all(float(rows[f"honest{i}"]["percent"]) == 100 for i in range(4))
    assert all(float(rows[f"slow{i}"]["xor.train"]) == 0 for i in range(4))


def test_no_student_process_is_left(resumed: Resumed) -> None:
    assert build.processes_with(resumed.marker) == []


def test_a_killed_grader_leaves_no_worker_behind(resumed: Resumed) -> None:
    assert resumed.orphans == []
