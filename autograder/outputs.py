"""What `autograder grade` writes: OUT/<id>/results.json (Gradescope schema), the feedback
reports, and OUT/grades.csv. Every file is written atomically."""

from __future__ import annotations

import csv
import fcntl
import io
import os
from pathlib import Path
from typing import Any

from autograder import course as courses
from autograder.config import Settings
from autograder.errors import UsageError
from autograder.i18n import N_, gettext, pinned
from autograder.intake import FORMULA_START
from autograder.results import SubmissionResult, dump_json, write_atomic

FIXED_COLUMNS = ("id", "score", "max_score", "percent", "status", "lms_name", "lms_user_id", "late")


def grades_header() -> list[str]:
    """grades.csv's columns: the fixed ones, then a score per exercise function."""
    return [*FIXED_COLUMNS, *courses.load().functions]
SANDBOX_NOTE = N_("Your code ran in a sandbox with NumPy only: torch is not available to student code.")


def gradescope_json(result: SubmissionResult, settings: Settings,
                    summary: str | None = None) -> dict[str, Any]:
    """The results.json of Gradescope's autograder specification (plus extra_data); `summary`,
    the submission's summary.txt text if it is already made."""
    tests = [{
        "name": case.name,
        "score": case.score,
        "max_score": case.max_score,
        "status": "passed" if case.passed else "failed",
        "output": case.student_text(settings.reveal_hidden_details),
        "visibility": settings.hidden_visibility if case.hidden else settings.public_visibility,
        "tags": [case.function],
    } for case in result.cases]
    from autograder import report  # Jinja: imported only where reports are written

    # the score, where to start (the files that could not be used first), what to fix
    summary = report.plain_summary(result, settings) if summary is None else summary
    lines = [summary, gettext(SANDBOX_NOTE), *result.notes]
    return {
        "score": result.score,
        "execution_time": result.execution_time,
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"id": result.id, "max_score": result.max_score, "meta": result.meta,
                       "summary": result.summary(), "status": result.status,
                       "isolation": result.isolation, "seed": result.seed},
    }


def as_text_cell(text: str) -> str:
    """`text` for a CSV cell that spreadsheets show as text: a `'` before a formula start.

    Submission ids need none (intake escapes such a first character); LMS names may.
    """
    return "'" + text if text.startswith(FORMULA_START) else text


def grades_row(result: SubmissionResult) -> list[Any]:
    """One row of grades.csv."""
    scores = result.function_scores()
    percent = round(100 * result.score / result.max_score, 2) if result.max_score else 0.0
    meta = result.meta
    return [result.id, result.score, result.max_score, percent, result.status,
            as_text_cell(str(meta.get("name", ""))), meta.get("user_id", ""), meta.get("late", ""),
            *(round(scores.get(f, (0.0, 0.0))[0], 4) for f in courses.load().functions)]


def write_grades_csv(out: Path, results: list[SubmissionResult]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(grades_header())
    for result in sorted(results, key=lambda r: r.id):
        writer.writerow(grades_row(result))
    write_atomic(out / "grades.csv", buffer.getvalue())
    return out / "grades.csv"


@pinned()  # the reports and results.json ask for hundreds of texts
def write_submission(out: Path, result: SubmissionResult, settings: Settings,
                     plots: dict[str, str] | None = None) -> Path:
    """Write a submission's reports, then results.json last: its presence means "done"."""
    folder = out / result.id
    folder.mkdir(parents=True, exist_ok=True)
    from autograder import report

    reports = report.render_reports(result, settings, plots)
    write_atomic(folder / "feedback.html", reports.html)
    write_atomic(folder / "feedback.md", reports.markdown)
    write_atomic(folder / "summary.txt", reports.text + "\n")
    write_atomic(folder / RESULT, dump_json(result.to_dict(), indent=None))
    write_atomic(folder / GRADESCOPE, dump_json(gradescope_json(result, settings, reports.text), indent=None))
    return folder


RESULT, GRADESCOPE = "result.full.json", "results.json"


def read_result(folder: Path) -> SubmissionResult:
    """The result written in `folder` (OUT/<id>); ValueError, naming the file, if there is none or
    it is not whole (results.json, written last, must be there too)."""
    import json

    path = folder / RESULT
    if not (folder / GRADESCOPE).is_file() or not path.is_file():
        raise ValueError(f"{folder}: not completely written ({RESULT} and {GRADESCOPE} must both be there)")
    try:
        return SubmissionResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: unreadable ({exc})") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def load_done(out: Path, submission_id: str, digest: str) -> SubmissionResult | None:
    """The result of an earlier run, if that submission was completely written, graded (not a
    grading error) and from the same files, settings and grader (`digest`)."""
    try:
        result = read_result(out / submission_id)
    except ValueError:
        return None
    return result if result.status == "graded" and result.digest == digest else None


def read_out(out: Path) -> list[tuple[SubmissionResult, Path]]:
    """Every submission a graded OUT holds, with its folder, by id. ValueError (one line) when
    OUT is not the folder of `autograder grade`, or a submission's files are not whole."""
    out = Path(out)
    if not out.is_dir():
        raise ValueError(f"{out}: not a directory (expected the OUT folder of `autograder grade`)")
    if not (out / "grades.csv").is_file():
        raise ValueError(f"{out / 'grades.csv'}: missing (is this the OUT folder of `autograder grade`?)")
    found = []
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and (p / RESULT).exists()):
        result = read_result(folder)
        if result.id != folder.name:
            raise ValueError(f"{folder / RESULT}: its id is {result.id!r}, not the folder's name")
        found.append((result, folder))
    if not found:
        raise ValueError(f"{out}: no graded submission in it")
    return found


class OutLock:
    """OUT held by one `autograder grade` at a time (an flock on OUT/.autograder.lock, released
    when the process ends, however it ends). A second run, or an OUT that cannot be created
    or written, is a one-line UsageError."""

    NAME = ".autograder.lock"

    def __init__(self, out: Path) -> None:
        self.out = out
        self.fd: int | None = None

    def __enter__(self) -> OutLock:
        if self.out.exists() and not self.out.is_dir():
            raise UsageError(f"--out {self.out} exists and is not a folder")
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.out / self.NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise UsageError(f"cannot write to --out {self.out}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(self.fd)
            raise UsageError(f"--out {self.out} is being written by another `autograder grade` "
                             f"(pid {holder}); wait for it to finish, or choose another folder") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        return self

    def __exit__(self, *exc: object) -> None:
        import os

        if self.fd is not None:
            os.close(self.fd)


def write_summary(out: Path, results: list[SubmissionResult], settings: Settings) -> Path:
    """The instructor's class summary, OUT/summary.html."""
    from autograder import report

    write_atomic(out / "summary.html", report.render_summary_html(results, settings))
    return out / "summary.html"
