"""LMS round trips through the real grader: a bulk download in, the LMS's import file out."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import MODULES, ROOT, reference_copy
from lms_naming import MOODLE_LAYOUTS, Student, roster, write_canvas_download, write_moodle_download, zipped

from autograder.cli import main
from autograder.intake import OUT_NAMES
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


# ---------------------------------------------------------------- downloads as the LMSs write them


def _modules(folder: Path, prefix: str = "") -> list[tuple[str, bytes]]:
    return [(f"{prefix}{m}.py", (folder / f"{m}.py").read_bytes()) for m in MODULES]


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> dict[str, list[tuple[str, bytes]]]:
    """Uploads: the reference, the stubs, the reference zipped in a folder."""
    root = tmp_path_factory.mktemp("kit")
    reference = reference_copy(root / "reference")
    stubs = root / "stubs"
    stubs.mkdir()
    for module in MODULES:
        (stubs / f"{module}.py").write_text(make_stub((ROOT / "solutions" / f"{module}.py").read_text()))
    archive = zipped({name: data for name, data in _modules(reference, "exercises/")})
    return {"reference": _modules(reference), "stubs": _modules(stubs), "zip": [("hw 1.zip", archive)]}


def _class(kit) -> list[Student]:
    """Right; stubs then a correct linear.py resubmitted (late); zipped; right, plus a stray file."""
    return roster([
        kit["reference"],
        [*kit["stubs"], kit["reference"][0]],
        kit["zip"],
        [*kit["reference"], ("notes v2_final.txt", b"hi")],
    ])


def _gradebook(students: list[Student]) -> str:
    lines = ["Student,ID,SIS User ID,SIS Login ID,Section,Backprop kit (5678),Current Score",
             "    Points Possible,,,,,100.00,(read only)"]
    for i, s in enumerate([*students, Student("Noether", "Emmy", 999, "zzzzz", 1)]):
        lines.append(f'"{s.sortable_name}",{s.user_id},S{i},s{i}@uni.example,Section A,,0.00')
    return "\n".join(lines) + "\n"


def _grade(download: Path, out: Path) -> dict[str, dict[str, str]]:
    assert main(["grade", str(download), "--out", str(out), "--jobs", "2", "--no-plots"]) == 0
    return _grades(out)


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
def test_canvas_download_graded_and_exported_loses_nobody(tmp_path, kit, capsys, anonymous):
    students = _class(kit)
    expected = write_canvas_download(tmp_path / "download", students, anonymous=anonymous)
    grades = _grade(tmp_path / "download", tmp_path / "out")
    assert set(grades) == set(expected)
    scores = {sid: float(grades[sid]["score"]) for sid in expected}
    assert sorted(scores.values()) == [13, 100, 100, 100]  # the resubmitted linear.py: 5 + 8 points
    for sid, student in expected.items():
        assert grades[sid]["late"] == ("true" if student.late else "false")
        assert grades[sid]["lms_user_id"] == ("" if anonymous else str(student.user_id))
    gradebook, filled = tmp_path / "gradebook.csv", tmp_path / "import.csv"
    gradebook.write_text(_gradebook(students))
    capsys.readouterr()
    assert main(["export", str(tmp_path / "out"), "--to", "canvas", "--gradebook", str(gradebook),
                 "--assignment", "Backprop kit (5678)", "--output", str(filled)]) == 0
    err = capsys.readouterr().err
    rows = {row[1]: row[5] for row in csv.reader(io.StringIO(filled.read_text()))}
    if anonymous:
        assert err.count("anonymous submission anon_") == 4 and "no submission:" not in err
    else:
        assert {rows[str(s.user_id)] for s in students} == {"13", "100"}
        assert "no submission: Emmy, Noether" in err or "no submission: Noether, Emmy" in err
        assert err.count("no submission") == 1 and "not in gradebook" not in err


@pytest.mark.parametrize("layout", list(MOODLE_LAYOUTS))
def test_moodle_download_graded_and_exported_loses_nobody(tmp_path, kit, capsys, layout):
    students = _class(kit)[::-1][:3]  # a stray file; a zip; a resubmission (Moodle keeps the last)
    students[0].online_text = "<p>done</p>"
    expected = write_moodle_download(tmp_path / "download", students, **MOODLE_LAYOUTS[layout])
    grades = _grade(tmp_path / "download", tmp_path / "out")
    assert set(grades) == set(expected)
    assert [float(grades[sid]["score"]) for sid in expected] == [100, 100, 13]
    worksheet, feedback = tmp_path / "moodle.csv", tmp_path / "feedback.zip"
    capsys.readouterr()
    assert main(["export", str(tmp_path / "out"), "--to", "moodle", "--output", str(worksheet),
                 "--feedback-zip", str(feedback)]) == 0
    assert "not in the feedback zip" not in capsys.readouterr().err
    with open(worksheet, newline="", encoding="utf-8") as handle:
        rows = {row["Identifier"]: row["Grade"] for row in csv.DictReader(handle)}
    assert rows == {f"Participant {sid}": grades[sid]["score"].removesuffix(".0") for sid in expected}
    folders = {name.split("/")[0] for name in zipfile.ZipFile(feedback).namelist()}
    assert {f.split("_")[1] for f in folders} == set(expected)


# ---------------------------------------------------------------- names a file system allows

ODD_NAMES = [
    b"grades.csv", b"summary.html", b"Gradescope", b"caf\xe9", b"tab\there\nline\x1b[31m", b" padded ",
    b'=HYPERLINK("x")', b"<img src=x onerror=alert(1)>", b"`code` *em* [a](b) | # \\", "Zoe\u0308".encode(),
    b"=SUM(1)_4242_assignsubmission_file_",  # a Moodle full name a spreadsheet would run
]


def test_any_name_is_graded_reported_and_exported(tmp_path, kit, capsys):
    download = tmp_path / "download"
    for i, raw in enumerate(ODD_NAMES):
        folder = Path(os.fsdecode(os.path.join(os.fsencode(download), raw)))
        folder.mkdir(parents=True)
        for name, data in kit["reference" if i % 3 == 0 else "stubs"]:
            (folder / name).write_bytes(data)
    out = tmp_path / "out"
    grades = _grade(download, out)
    assert len(grades) == len(ODD_NAMES)
    for sid, row in grades.items():
        results = json.loads((out / sid / "results.json").read_text(encoding="utf-8"))
        assert results["extra_data"]["id"] == sid and float(row["score"]) == results["score"]
        assert "<img src=x" not in (out / sid / "feedback.html").read_text(encoding="utf-8")
        assert sid in (out / sid / "feedback.md").read_text(encoding="utf-8")  # in a code span, literally
    assert "<img src=x" not in (out / "summary.html").read_text(encoding="utf-8")
    assert grades["4242"]["lms_name"] == "'=SUM(1)"
    own = {p.name for p in out.iterdir() if not p.name.startswith(".")} - set(grades)
    assert own <= OUT_NAMES and {"grades.csv", "summary.html"} <= own
    capsys.readouterr()
    assert main(["grade", str(download), "--out", str(out), "--no-plots"]) == 0  # a re-run resumes
    assert f"{len(ODD_NAMES)} already graded" in capsys.readouterr().err
    for target in ("prairielearn", "gradescope", "moodle"):
        assert main(["export", str(out), "--to", target]) == 0
    with open(out / "moodle-grades.csv", newline="", encoding="utf-8") as handle:
        assert "Participant 4242" in {row["Identifier"] for row in csv.DictReader(handle)}
