"""Tests for `autograder export`: Canvas, Moodle, PrairieLearn and Gradescope files.

The OUT folders here are written by `write_out` with the grader's own writer
(`outputs`), from results made up for the purpose: the exports read back exactly
what `autograder grade` writes.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autograder import outputs
from autograder.cli import UsageError, main
from autograder.config import load
from autograder.exports import canvas, moodle, prairielearn
from autograder.exports.outdir import format_score, load_out
from autograder.results import CaseResult, SubmissionResult

FUNCTIONS = ["layers.linear_forward", "layers.relu_backward"]


# ---------------------------------------------------------------- fake OUT folders


def _cases(score: float, max_score: float) -> list[CaseResult]:
    """Two public checks worth 40% each and one hidden check worth 20%, `score` spread over them."""
    parts = [("linear_forward matches torch", 0.4, False, FUNCTIONS[0])]
    parts += [("relu_backward matches autograd", 0.4, False, FUNCTIONS[1])]
    parts += [("relu_backward hidden edge cases", 0.2, True, FUNCTIONS[1])]
    cases, left = [], score
    for name, share, hidden, tag in parts:
        worth = max_score * share
        got = min(worth, left)
        left -= got
        passed = got >= worth
        cases.append(CaseResult(tag, name, name, got, worth, passed, hidden, "" if passed else "value",
                                "" if passed else "max abs error 0.31 > 1e-5"))
    return cases


def _result(spec: dict) -> SubmissionResult:
    """A result as `autograder grade` makes one; `spec` needs `id` and `score`."""
    s = {"max_score": 20, "status": "graded", "lms_name": "", "lms_user_id": ""} | spec
    error = s["status"] == "error"
    meta = s.get("meta") or {k: v for k, v in (("name", s["lms_name"]), ("user_id", s["lms_user_id"])) if v}
    return SubmissionResult(s["id"], [] if error else _cases(s["score"], s["max_score"]), execution_time=3.2,
                            meta=meta, status=s["status"], output="Ran 3 checks.",
                            error="ImportError while importing layers.py" if error else "")


def write_out(root: Path, subs: list[dict]) -> Path:
    """An OUT folder written as `autograder grade` writes one, by the same code."""
    out = root / "OUT"
    results = [_result(spec) for spec in subs]
    for result in results:
        outputs.write_submission(out, result, load())
    outputs.write_grades_csv(out, results)
    return out


# ---------------------------------------------------------------- Canvas

GRADEBOOK_LINES = [
    "Student,ID,SIS User ID,SIS Login ID,Section,Homework 1 (1234),Backprop kit (5678),"
    "Current Score,Unposted Current Score,Final Score,Unposted Final Score",
    ",,,,,,Muted,,,,",
    "    Points Possible,,,,,10.00,20.00,(read only),(read only),(read only),(read only)",
    '"Lovelace, Ada",101,S001,ada@uni.example,Section A,9.00,,90.00,90.00,45.00,45.00',
    '"Turing, Alan",102,S002,alan@uni.example,Section A,8.50,,85.00,85.00,42.50,42.50',
    '"Hopper, Grace",103,S003,grace@uni.example,"Section A and Section B",10.00,EX,100.00,100.00,50.00,50.00',
    '"Noether, Emmy",104,S004,emmy@uni.example,Section B,7.00,,70.00,70.00,35.00,35.00',
    '"Ritchie, Dennis",107,S007,dmr@uni.example,Section B,6.00,3.00,60.00,60.00,30.00,30.00',
    '"Student, Test",999,,,Section A,,,,,,',
]
TARGET = 6  # "Backprop kit (5678)"

CLASS = [
    {"id": "101", "score": 18.5, "lms_name": "Ada Lovelace", "lms_user_id": "101"},
    {"id": "102", "score": 20.0, "lms_name": "Alan Turing"},
    {"id": "103", "score": 12.0, "lms_name": "Grace Hopper", "lms_user_id": "103"},
    {"id": "105", "score": 15.0, "lms_name": "Barbara Liskov", "lms_user_id": "105"},
    {"id": "107", "score": 0.0, "status": "error", "lms_name": "Dennis Ritchie"},
    {"id": "108", "score": 40 / 3, "lms_name": "Ken Thompson"},
]


def _gradebook(tmp_path: Path, lines: list[str] = GRADEBOOK_LINES, *, bom: str = "", end="\n"):
    path = tmp_path / "gradebook.csv"
    path.write_bytes((bom + end.join(lines) + end).encode("utf-8"))
    return path


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_canvas_fills_only_the_target_column(tmp_path, capsys):
    out = load_out(write_out(tmp_path, CLASS))
    book = _gradebook(tmp_path)
    target = tmp_path / "import.csv"

    counts = canvas.fill_gradebook(book, "Backprop kit (5678)", out.submissions, target)

    before, after = _rows(book.read_bytes()), _rows(target.read_bytes())
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        assert old[:TARGET] + old[TARGET + 1 :] == new[:TARGET] + new[TARGET + 1 :]
    column = {row[1]: row[TARGET] for row in after[3:]}
    assert column == {"101": "18.5", "102": "20", "103": "EX", "104": "", "107": "3.00", "999": ""}
    changed = {i for i, (a, b) in enumerate(zip(GRADEBOOK_LINES, _lines(target), strict=True)) if a != b}
    assert changed == {3, 4}  # Ada and Alan; every other line is byte-identical
    assert counts == canvas.CanvasCounts("Backprop kit (5678)", 2, 2, 1, 2)
    err = capsys.readouterr().err.splitlines()
    assert "autograder export: no submission: Noether, Emmy (ID 104)" in err
    assert "autograder export: not in gradebook: 105 (Barbara Liskov)" in err
    assert "autograder export: not in gradebook: 108 (Ken Thompson)" in err
    assert any(line.startswith("autograder export: left as is: Hopper, Grace") for line in err)
    assert any("Ritchie, Dennis (ID 107): grading error" in line for line in err)
    assert not any("Student, Test" in line for line in err)
    assert all(line.startswith("autograder export: ") for line in err)


def _lines(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8").split("\n")[:-1]


def test_canvas_include_errors_writes_error_scores(tmp_path, capsys):
    out = load_out(write_out(tmp_path, CLASS))
    target = tmp_path / "import.csv"
    canvas.fill_gradebook(_gradebook(tmp_path), "5678", out.submissions, target, include_errors=True)
    assert {r[1]: r[TARGET] for r in _rows(target.read_bytes())[3:]}["107"] == "0"


def test_canvas_keeps_bom_crlf_semicolons_and_quoting(tmp_path, capsys):
    lines = [";".join(f'"{cell}"' for cell in next(csv.reader([ln]))) for ln in GRADEBOOK_LINES]
    lines = [ln.replace('"9.00"', '"9,00"') for ln in lines]  # a decimal-comma locale
    book = _gradebook(tmp_path, lines, bom="\ufeff", end="\r\n")
    out = load_out(write_out(tmp_path, CLASS))
    target = tmp_path / "import.csv"

    canvas.fill_gradebook(book, "Backprop kit", out.submissions, target)

    data = target.read_bytes()
    assert data.startswith("\ufeff".encode())
    new_lines = data.decode("utf-8").removeprefix("\ufeff").split("\r\n")[:-1]
    assert [i for i, (a, b) in enumerate(zip(lines, new_lines, strict=True)) if a != b] == [3, 4]
    assert new_lines[3].split(";")[TARGET] == '"18.5"'
    assert new_lines[3].split(";")[5] == '"9,00"'


def test_canvas_untouched_when_nothing_matches(tmp_path, capsys):
    book = _gradebook(tmp_path, bom="\ufeff", end="\r\n")
    out = load_out(write_out(tmp_path, [{"id": "555", "score": 3}]))
    target = tmp_path / "import.csv"
    counts = canvas.fill_gradebook(book, "Homework 1 (1234)", out.submissions, target)
    assert target.read_bytes() == book.read_bytes()
    assert counts.filled == 0 and counts.not_in_gradebook == 1


def test_canvas_warns_when_points_possible_differs(tmp_path, capsys):
    out = load_out(write_out(tmp_path, CLASS))
    canvas.fill_gradebook(_gradebook(tmp_path), "1234", out.submissions, tmp_path / "i.csv")
    assert "has 10 points possible in Canvas; the grader's max_score is 20" in (capsys.readouterr().err)


@pytest.mark.parametrize(
    ("wanted", "header"),
    [
        ("Backprop kit (5678)", "Backprop kit (5678)"),
        ("5678", "Backprop kit (5678)"),
        ("(5678)", "Backprop kit (5678)"),
        ("Backprop kit", "Backprop kit (5678)"),
        ("backprop KIT", "Backprop kit (5678)"),
        ("Backprop kit, renamed (5678)", "Backprop kit (5678)"),
        ("Homework 1", "Homework 1 (1234)"),
    ],
)
def test_canvas_assignment_lookup(tmp_path, wanted, header):
    book = canvas._read_gradebook(_gradebook(tmp_path))
    assert book.header[canvas.find_assignment_column(book, wanted)] == header


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        ("Quiz", "is ambiguous"),
        ("Homework 2", 'assignment columns: "Homework 1 (1234)", "Quiz (1)", "Quiz (2)"'),
        ("Current Score", "not found"),
        ("9999", "not found"),
    ],
)
def test_canvas_assignment_lookup_errors(tmp_path, wanted, message):
    lines = ["Student,ID,SIS Login ID,Section,Homework 1 (1234),Quiz (1),Quiz (2),Current Score"]
    lines += ['"Lovelace, Ada",101,ada,A,1,2,3,50']
    book = canvas._read_gradebook(_gradebook(tmp_path, lines))
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        canvas.find_assignment_column(book, wanted)


def test_canvas_read_only_column_is_refused(tmp_path):
    lines = list(GRADEBOOK_LINES)
    lines[2] = lines[2].replace(",20.00,", ",(read only),")
    out = load_out(write_out(tmp_path, CLASS))
    with pytest.raises(UsageError, match="read-only"):
        canvas.fill_gradebook(_gradebook(tmp_path, lines), "5678", out.submissions, tmp_path / "x")


# ---------------------------------------------------------------- Moodle

MOODLE_CLASS = [
    {"id": "Ada Lovelace_123456_assignsubmission_file_", "score": 18.5},
    {"id": "Alan Turing_234567_assignsubmission_file", "score": 20},  # Moodle >= 4.1 naming
    {"id": "José Núñez_345678_assignsubmission_onlinetext_", "score": 7.25},
    {"id": "Grace Hopper_456789_assignsubmission_file_", "score": 0, "status": "error"},
    {"id": "567890", "score": 11},
    {"id": "carol", "score": 9},
]


def test_moodle_worksheet_columns_and_identifiers(tmp_path, capsys):
    out = load_out(write_out(tmp_path, MOODLE_CLASS))
    target = tmp_path / "moodle.csv"
    now = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)

    assert moodle.grades_csv(out.submissions, target, now=now) == 6

    rows = _rows(target.read_bytes())
    assert rows[0] == ["Identifier", "Grade", "Last modified (grade)", "Feedback comments"]
    by_ident = {r[0]: r for r in rows[1:]}
    assert by_ident["Participant 123456"][1:3] == ["18.5", "2025-03-14T09:26:53+00:00"]
    assert by_ident["Participant 123456"][3] == "18.5/20; to fix: layers.relu_backward"
    assert by_ident["Participant 234567"][1] == "20"
    assert by_ident["Participant 345678"][1] == "7.25"
    assert by_ident["Participant 456789"][1] == ""  # grading error: Moodle keeps the old grade
    assert by_ident["Participant 456789"][3].startswith("0/0: grading failed: ImportError")
    assert by_ident["Participant 567890"][1] == "11"
    assert by_ident["carol"][1] == "9"
    err = capsys.readouterr().err
    assert "no Moodle participant id in 'carol'" in err


def test_moodle_parse_folder():
    folder = moodle.parse_folder("Ada Lovelace_123456_assignsubmission_file_")
    assert folder and folder.participant == "123456" and folder.plugin == "file"
    assert folder.folder == "Ada Lovelace_123456_assignsubmission_file_"
    flat = moodle.parse_folder("Ada Lovelace_123456_assignsubmission_file_layers.zip")
    assert flat and flat.folder == "Ada Lovelace_123456_assignsubmission_file_"
    assert moodle.parse_folder("ada_lovelace") is None
    assert moodle.parse_folder("Ada Lovelace_12x_assignsubmission_file_") is None


def _moodle_participant(path: str) -> str | None:
    """Moodle's zip-import rule: a path part split on '_' into at most 5 pieces."""
    for part in path.split("/")[:-1]:
        info = part.split("_", 4)
        if len(info) >= 4 and info[1].isdigit() and info[2].startswith("assign"):
            return info[1]
    return None


def test_moodle_feedback_zip_layout(tmp_path, capsys):
    out_dir = write_out(tmp_path, MOODLE_CLASS)
    target = tmp_path / "feedback.zip"

    assert moodle.feedback_zip(out_dir, target) == 4

    with zipfile.ZipFile(target) as zf:
        names = sorted(zf.namelist())
        expected = sorted(
            f"{sid}/{name}"
            for sid in (
                "Ada Lovelace_123456_assignsubmission_file_",
                "Alan Turing_234567_assignsubmission_file",
                "José Núñez_345678_assignsubmission_onlinetext_",
                "Grace Hopper_456789_assignsubmission_file_",
            )
            for name in ("feedback.html", "feedback.md")
        )
        assert names == expected
        sid = "Ada Lovelace_123456_assignsubmission_file_"
        assert zf.read(f"{sid}/feedback.md") == (out_dir / sid / "feedback.md").read_bytes()
    assert {_moodle_participant(n) for n in names} == {"123456", "234567", "345678", "456789"}
    err = capsys.readouterr().err
    assert "not in the feedback zip: 567890" in err and "not in the feedback zip: carol" in err


def test_moodle_feedback_zip_needs_moodle_names(tmp_path):
    out_dir = write_out(tmp_path, [{"id": "carol", "score": 1}])
    with pytest.raises(UsageError, match="no submission id is a Moodle folder name"):
        moodle.feedback_zip(out_dir, tmp_path / "f.zip")


# Graded from a Moodle download: the id is the participant id (or, taken by another
# entry, the id with a suffix) and meta says it came from Moodle.
MOODLE_GRADED = [
    {"id": "880100", "score": 20, "lms_name": "Jürgen Müller", "lms_user_id": "880100",
     "meta": {"lms": "moodle", "name": "Jürgen Müller", "participant_id": "880100"}},
    {"id": "880113", "score": 7, "lms_name": "Participant", "lms_user_id": "880113",
     "meta": {"lms": "moodle", "name": "Participant", "participant_id": "880113"}},
    {"id": "880126-2", "score": 3, "lms_name": "Siobhán OBrien-Ní Bhriain", "lms_user_id": "880126",
     "meta": {"lms": "moodle", "name": "Siobhán OBrien-Ní Bhriain", "participant_id": "880126"}},
]


def test_moodle_exports_of_a_graded_moodle_download(tmp_path, capsys):
    out_dir = write_out(tmp_path, MOODLE_GRADED)
    out = load_out(out_dir)
    assert moodle.grades_csv(out.submissions, tmp_path / "w.csv") == 3
    idents = {r[0]: r[1] for r in _rows((tmp_path / "w.csv").read_bytes())[1:]}
    assert idents == {"Participant 880100": "20", "Participant 880113": "7", "Participant 880126": "3"}
    assert moodle.feedback_zip(out, tmp_path / "f.zip") == 3
    names = zipfile.ZipFile(tmp_path / "f.zip").namelist()
    assert "Jürgen Müller_880100_assignsubmission_file_/feedback.html" in names
    assert "Participant_880113_assignsubmission_file_/feedback.md" in names
    assert {_moodle_participant(n) for n in names} == {"880100", "880113", "880126"}
    assert "not in the feedback zip" not in capsys.readouterr().err


ANONYMOUS_CLASS = [
    {"id": "101", "score": 18.5, "lms_name": "lovelaceada", "lms_user_id": "101",
     "meta": {"lms": "canvas", "name": "lovelaceada", "user_id": "101"}},
    *({"id": f"anon_{anon}", "score": 12.0,
       "meta": {"lms": "canvas", "name": "", "user_id": "", "anonymous_id": anon}}
      for anon in ("12345", "6789A")),
]


def test_canvas_anonymous_submissions_are_not_students_without_one(tmp_path):
    out = load_out(write_out(tmp_path, ANONYMOUS_CLASS))
    err = io.StringIO()
    counts = canvas.fill_gradebook(_gradebook(tmp_path), "5678", out.submissions, tmp_path / "o.csv", err=err)
    assert counts.filled == 1 and counts.anonymous == 2 and counts.not_in_gradebook == 0
    lines = err.getvalue().splitlines()
    assert sum("anonymous submission anon_" in line for line in lines) == 2
    assert not any("no submission:" in line for line in lines)
    assert any("Turing, Alan (ID 102)" in line and "anonymous" in line for line in lines)


# ---------------------------------------------------------------- PrairieLearn

PL_TEST_KEYS = {"name", "description", "points", "max_points", "message", "output"}


def test_prairielearn_schema(tmp_path):
    out = load_out(write_out(tmp_path, CLASS))
    written = prairielearn.write_results(out.submissions)
    assert written == [out.path / s["id"] / "prairielearn.json" for s in CLASS]
    for path in written:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data["gradable"], bool)
        assert isinstance(data["score"], float) and 0.0 <= data["score"] <= 1.0
        assert isinstance(data["message"], str) and isinstance(data["output"], str)
        for test in data["tests"]:
            assert set(test) == PL_TEST_KEYS
            assert isinstance(test["points"], (int, float))
            assert 0 <= test["points"] <= test["max_points"]
            assert all(isinstance(test[k], str) for k in PL_TEST_KEYS - {"points", "max_points"})
    ada = json.loads(written[0].read_text(encoding="utf-8"))
    assert ada["gradable"] is True and ada["score"] == pytest.approx(18.5 / 20)
    names = [t["name"] for t in ada["tests"]]
    assert names == [f"{FUNCTIONS[0]}: linear_forward matches torch",
                     f"{FUNCTIONS[1]}: relu_backward matches autograd",
                     f"{FUNCTIONS[1]}: relu_backward hidden edge cases"]
    assert "0.31" not in ada["tests"][2]["output"]  # a hidden check's details stay hidden
    error = json.loads(written[4].read_text(encoding="utf-8"))
    assert error["gradable"] is False and error["format_errors"][0].startswith("0/0: grading failed")


def test_prairielearn_shows_what_grading_showed_whatever_course_toml_says_now(tmp_path):
    """The class graded with --config hiding every hidden case: the export, which reads
    course.toml (hidden cases "after_published"), still leaves them out, as results.json did."""
    from dataclasses import replace

    out = tmp_path / "OUT"
    result = _result(CLASS[0])
    outputs.write_submission(out, result, replace(load(), hidden_visibility="hidden"))
    outputs.write_grades_csv(out, [result])
    shown = json.loads((out / CLASS[0]["id"] / "results.json").read_text(encoding="utf-8"))
    visible = [t["name"] for t in shown["tests"] if t["visibility"] != "hidden"]
    (path,) = prairielearn.write_results(load_out(out).submissions)
    exported = json.loads(path.read_text(encoding="utf-8"))
    assert [t["name"] for t in exported["tests"]] == visible
    assert any(c.hidden for c in result.cases) and len(visible) < len(result.cases)


def test_prairielearn_output_dir_and_clipping(tmp_path):
    out = load_out(write_out(tmp_path, [{"id": "101", "score": 5}]))
    sub = out.submissions[0]
    sub.result.notes.append("x" * 300_000)  # a very long results.json output
    paths = prairielearn.write_results([sub], tmp_path / "pl")
    assert paths == [tmp_path / "pl" / "101" / "results.json"]
    assert paths[0].stat().st_size < 1_000_000
    assert prairielearn.fraction(25, 20) == 1.0 and prairielearn.fraction(3, 0) == 0.0


# ---------------------------------------------------------------- CLI


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["export", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_canvas(tmp_path, capsys):
    out = write_out(tmp_path, CLASS)
    book = _gradebook(tmp_path)
    code, stdout, _ = _cli(
        capsys, str(out), "--to", "canvas", "--gradebook", str(book), "--assignment", "5678"
    )
    assert code == 0 and "2 score(s) in 'Backprop kit (5678)'" in stdout
    assert (out / "canvas-import.csv").is_file()


def test_cli_moodle_prairielearn_gradescope(tmp_path, capsys):
    out = write_out(tmp_path, MOODLE_CLASS)
    zip_path = tmp_path / "fb.zip"
    code, _, _ = _cli(capsys, str(out), "--to", "moodle", "--feedback-zip", str(zip_path))
    assert code == 0 and (out / "moodle-grades.csv").is_file() and zip_path.is_file()
    assert _cli(capsys, str(out), "--to", "prairielearn")[0] == 0
    assert (out / MOODLE_CLASS[0]["id"] / "prairielearn.json").is_file()
    code, _, _ = _cli(capsys, str(out), "--to", "gradescope", "--output", str(tmp_path / "gs"))
    copy = tmp_path / "gs" / "carol" / "results.json"
    assert code == 0 and copy.read_bytes() == (out / "carol" / "results.json").read_bytes()


def _break_result(out: Path) -> None:
    (out / "101" / "result.full.json").write_text("{not json", encoding="utf-8")


def _wrong_id(out: Path) -> None:
    path = out / "102" / "result.full.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"102"', '"999"', 1), encoding="utf-8")


def _negative_score(out: Path) -> None:
    path = out / "102" / "result.full.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["cases"][0]["score"] = -3
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda out: (out / "grades.csv").unlink(), "grades.csv: missing"),
        (lambda out: (out / "101" / "results.json").unlink(), "101: not completely written"),
        (_break_result, "result.full.json: Expecting property name"),
        (_wrong_id, "its id is '999', not the folder's name"),
        (_negative_score, "a case's score is not a finite, non-negative number"),
    ],
)
def test_cli_malformed_out_is_one_line(tmp_path, capsys, damage, message):
    out = write_out(tmp_path, CLASS)
    damage(out)
    code, _, err = _cli(capsys, str(out), "--to", "prairielearn")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("autograder export: error: ")
    assert message in err


def _no_id_gradebook(tmp_path: Path) -> list[str]:
    lines = [ln.replace(",ID,", ",User,", 1) for ln in GRADEBOOK_LINES]
    return ["--gradebook", str(_gradebook(tmp_path, lines)), "--assignment", "5678"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (lambda p: ["--gradebook", str(p / "nope.csv"), "--assignment", "1"], "cannot read"),
        (_no_id_gradebook, "no 'ID' column"),
        (lambda p: ["--gradebook", str(_gradebook(p)), "--assignment", "Lab 9"], "not found"),
        (lambda p: ["--assignment", "5678"], "--to canvas needs --gradebook"),
        (lambda p: ["--gradebook", str(_gradebook(p))], "--to canvas needs --assignment"),
        (lambda p: ["--assignment", "1", "--feedback-zip", "f.zip"], "--feedback-zip only"),
    ],
)
def test_cli_bad_canvas_input_is_one_line(tmp_path, capsys, extra, message):
    out = write_out(tmp_path, CLASS)
    code, _, err = _cli(capsys, str(out), "--to", "canvas", *extra(tmp_path))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("autograder export: error: ")
    assert message in err


def test_cli_missing_out_folder(tmp_path, capsys):
    code, _, err = _cli(capsys, str(tmp_path / "nowhere"), "--to", "gradescope")
    assert code == 2 and "not a directory" in err and err.count("\n") == 1


def test_format_score():
    assert [format_score(v) for v in (8.0, 7.5, 20 / 3, 0.004, 12.346)] == [
        "8",
        "7.5",
        "6.67",
        "0",
        "12.35",
    ]
