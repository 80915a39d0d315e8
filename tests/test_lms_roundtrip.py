"""LMS round trips through the real grader: a bulk download in, the LMS's import file out."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, reference_copy

from autograder.cli import main
from autograder.spec import MODULES
from autograder.stubs import make_stub

GRADEBOOK = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Backprop kit (5678),Current Score,Final Score\n"
    "    Points Possible,,,,,100.00,(read only),(read only)\n"
    '"Lovelace, Ada",101,S001,ada@uni.example,Section A,,0.00,0.00\n'
    '"Turing, Alan",102,S002,alan@uni.example,Section A,,0.00,0.00\n'
    '"Hopper, Grace",103,S003,grace@uni.example,Section B,,0.00,0.00\n'
)


@pytest.fixture(scope="module")
def canvas_out(tmp_path_factory) -> Path:
    """A Canvas bulk download (loose files, a late resubmission, a zip) graded by `autograder grade`."""
    root = tmp_path_factory.mktemp("canvas")
    download, reference = root / "download", reference_copy(root / "reference")
    download.mkdir()
    for module in MODULES:  # Ada: correct loose files
        shutil.copy(reference / f"{module}.py", download / f"lovelaceada_101_9001_{module}.py")
    for module in MODULES:  # Alan: stubs, then a late resubmission of linear.py only (correct)
        stub = make_stub((ROOT / "solutions" / f"{module}.py").read_text())
        (download / f"turingalan_102_9002_{module}.py").write_text(stub)
    shutil.copy(reference / "linear.py", download / "turingalan_late_102_9003_linear-1.py")
    with zipfile.ZipFile(download / "hoppergrace_103_9004_submission.zip", "w") as archive:
        for module in MODULES:  # Grace: a zip with a folder inside
            archive.write(reference / f"{module}.py", f"exercises/{module}.py")
    out = root / "out"
    assert main(["grade", str(download), "--out", str(out), "--jobs", "2", "--no-plots"]) == 0
    return out


def _grades(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def test_canvas_files_are_grouped_by_user_id(canvas_out):
    grades = _grades(canvas_out)
    assert set(grades) == {"101", "102", "103"}
    assert float(grades["101"]["score"]) == 100 and float(grades["103"]["score"]) == 100
    alan = grades["102"]
    assert alan["late"] == "true" and alan["lms_name"] == "turingalan"
    # only the resubmitted linear.py is implemented: exactly its two functions score
    assert float(alan["linear.linear"]) == 5 and float(alan["linear.linear_backward"]) == 8
    assert float(alan["activations.relu"]) == 0


def test_canvas_gradebook_is_filled_from_the_graded_class(canvas_out, tmp_path, capsys):
    gradebook, filled = tmp_path / "gradebook.csv", tmp_path / "import.csv"
    gradebook.write_text(GRADEBOOK)
    code = main(["export", str(canvas_out), "--to", "canvas", "--gradebook", str(gradebook),
                 "--assignment", "Backprop kit (5678)", "--output", str(filled)])
    assert code == 0
    rows = list(csv.reader(io.StringIO(filled.read_text())))
    assert rows[0] == list(csv.reader(io.StringIO(GRADEBOOK)))[0]
    scores = {row[1]: row[5] for row in rows[2:]}
    assert scores == {"101": "100", "102": "13", "103": "100"}
    assert [row[6:] for row in rows[2:]] == [["0.00", "0.00"]] * 3  # other columns untouched


def test_moodle_download_round_trip(tmp_path, capsys):
    download = tmp_path / "download"
    reference_copy(download / "Ada Lovelace_4001_assignsubmission_file_")
    stubs = download / "Alan Turing_4002_assignsubmission_file_"
    stubs.mkdir(parents=True)
    for module in MODULES:
        (stubs / f"{module}.py").write_text(make_stub((ROOT / "solutions" / f"{module}.py").read_text()))
    out, worksheet, feedback = tmp_path / "out", tmp_path / "moodle.csv", tmp_path / "feedback.zip"
    assert main(["grade", str(download), "--out", str(out), "--jobs", "2", "--no-plots"]) == 0
    assert main(["export", str(out), "--to", "moodle", "--output", str(worksheet),
                 "--feedback-zip", str(feedback)]) == 0
    with open(worksheet, newline="") as handle:
        rows = {row["Identifier"]: row for row in csv.DictReader(handle)}
    assert float(rows["Participant 4001"]["Grade"]) == 100
    assert float(rows["Participant 4002"]["Grade"]) == 0
    names = zipfile.ZipFile(feedback).namelist()
    assert any(n.startswith("Ada Lovelace_4001_assignsubmission_file_/") and n.endswith("feedback.html")
               for n in names)
