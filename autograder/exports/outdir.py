"""Read and validate a graded OUT folder, the input of every `autograder export` target.

`autograder grade` writes `OUT/grades.csv` (one row per submission) and, for every
row, `OUT/<id>/results.json` (Gradescope's results schema with an `extra_data`
block) next to `feedback.html` and `feedback.md`. Exporters never trust that
folder blindly: whatever is missing or malformed is reported as a one-line
`UsageError` naming the file and the problem.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.errors import UsageError

FIXED_COLUMNS = ("id", "score", "max_score", "percent", "status", "lms_name", "lms_user_id", "late")
STATUSES = ("graded", "error")
FALSE_WORDS = {"", "false", "no", "0", "0.0", "on time", "on_time", "none"}
SCORE_TOLERANCE = 0.01  # grades.csv may round; anything further apart is a stale OUT


@dataclass(frozen=True)
class TestResult:
    """One entry of results.json `tests`."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    score: float
    max_score: float
    status: str
    output: str = ""
    visibility: str = "visible"
    tags: tuple[str, ...] = ()
    description: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class Submission:
    """One graded submission: its grades.csv row joined with its results.json."""

    id: str
    score: float
    max_score: float
    percent: float
    status: str
    lms_name: str
    lms_user_id: str
    late: bool
    functions: dict[str, str]
    folder: Path
    summary: str
    output: str
    tests: tuple[TestResult, ...]
    results: dict[str, Any] = field(repr=False)

    @property
    def graded(self) -> bool:
        """False when the grader could not grade the submission (status `error`)."""
        return self.status == "graded"

    @property
    def results_path(self) -> Path:
        return self.folder / "results.json"

    @property
    def meta(self) -> dict[str, Any]:
        """What intake knew of the submission (results.json `extra_data.meta`)."""
        return self.results["extra_data"].get("meta", {})

    @property
    def lms(self) -> str:
        """The LMS whose bulk download the submission came from ("canvas", "moodle"), or ""."""
        return str(self.meta.get("lms", ""))

    def feedback_files(self) -> list[Path]:
        """The feedback files the grader left for this submission (html first)."""
        names = ("feedback.html", "feedback.md")
        return [self.folder / n for n in names if (self.folder / n).is_file()]


@dataclass(frozen=True)
class OutDir:
    """A validated OUT folder."""

    path: Path
    function_columns: tuple[str, ...]
    submissions: tuple[Submission, ...]


def format_score(value: float) -> str:
    """Points as a plain number: at most 2 decimals, no trailing zeros (8, 7.5, 6.67).

    Two decimals is the precision Canvas itself exports and compares scores at.
    """
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def load_out(path: str | Path) -> OutDir:
    """Read OUT/grades.csv and every OUT/<id>/results.json; raise UsageError if invalid."""
    out = Path(path)
    if not out.is_dir():
        raise UsageError(f"{out}: not a directory (expected the OUT folder of `autograder grade`)")
    grades = out / "grades.csv"
    header, rows = _read_grades_csv(grades)
    functions = tuple(c for c in header if c not in FIXED_COLUMNS)
    submissions = tuple(_submission(out, grades, n, row, functions) for n, row in rows)
    return OutDir(path=out, function_columns=functions, submissions=submissions)


def _read_grades_csv(grades: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    if not grades.is_file():
        raise UsageError(f"{grades}: missing (is this the OUT folder of `autograder grade`?)")
    try:
        with grades.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            records = [(reader.line_num, rec) for rec in reader if any(c.strip() for c in rec)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{grades}: unreadable CSV ({exc})") from None
    if not header:
        raise UsageError(f"{grades}: empty file")
    header = [h.strip() for h in header]
    missing = [c for c in FIXED_COLUMNS if c not in header]
    if missing:
        raise UsageError(f"{grades}: header lacks column(s) {', '.join(missing)}")
    rows = []
    for line, rec in records:
        if len(rec) != len(header):
            raise UsageError(f"{grades} line {line}: {len(rec)} cells, header has {len(header)}")
        rows.append((line, dict(zip(header, rec, strict=True))))
    if not rows:
        raise UsageError(f"{grades}: no submissions")
    _check_unique_ids(grades, rows)
    return header, rows


def _check_unique_ids(grades: Path, rows: list[tuple[int, dict[str, str]]]) -> None:
    seen: set[str] = set()
    for line, row in rows:
        ident = row["id"].strip()
        if not ident:
            raise UsageError(f"{grades} line {line}: empty id")
        if ident in seen:
            raise UsageError(f"{grades} line {line}: duplicate id {ident!r}")
        if "/" in ident or "\\" in ident or ident in (".", ".."):
            raise UsageError(f"{grades} line {line}: id {ident!r} is not a folder name")
        seen.add(ident)


def _submission(
    out: Path, grades: Path, line: int, row: dict[str, str], functions: tuple[str, ...]
) -> Submission:
    where = f"{grades} line {line}"
    ident = row["id"].strip()
    status = row["status"].strip()
    if status not in STATUSES:
        raise UsageError(f"{where}: status {status!r} is not one of {', '.join(STATUSES)}")
    folder = out / ident
    results = _read_results(folder / "results.json", ident)
    extra = results["extra_data"]
    max_score = _number(row["max_score"], f"{where}: max_score", blank=extra["max_score"])
    score = _number(row["score"], f"{where}: score", blank=0.0 if status == "error" else None)
    _check_agrees(folder / "results.json", score, results["score"])
    percent_default = 100.0 * score / max_score if max_score else 0.0
    return Submission(
        id=ident,
        score=score,
        max_score=max_score,
        percent=_number(row["percent"], f"{where}: percent", blank=percent_default),
        status=status,
        lms_name=row["lms_name"].strip(),
        lms_user_id=row["lms_user_id"].strip(),
        late=_flag(row["late"]),
        functions={name: row[name] for name in functions},
        folder=folder,
        summary=" ".join(str(extra["summary"]).split()),
        output=str(results.get("output") or ""),
        tests=tuple(_test(t, folder / "results.json", i) for i, t in enumerate(results["tests"])),
        results=results,
    )


def _read_results(path: Path, ident: str) -> dict[str, Any]:
    if not path.is_file():
        raise UsageError(f"{path}: missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: top level is not an object")
    _number(data.get("score"), f"{path}: score")
    if not isinstance(data.get("tests"), list):
        raise UsageError(f"{path}: 'tests' is missing or not a list")
    extra = data.get("extra_data")
    if not isinstance(extra, dict):
        raise UsageError(f"{path}: 'extra_data' is missing or not an object")
    for key in ("id", "max_score", "summary"):
        if key not in extra:
            raise UsageError(f"{path}: extra_data lacks {key!r}")
    if str(extra["id"]) != ident:
        raise UsageError(f"{path}: extra_data.id is {extra['id']!r}, grades.csv says {ident!r}")
    if not isinstance(extra.get("meta", {}), dict):
        raise UsageError(f"{path}: extra_data.meta is not an object")
    _number(extra["max_score"], f"{path}: extra_data.max_score")
    return data


def _test(raw: Any, path: Path, index: int) -> TestResult:
    where = f"{path}: tests[{index}]"
    if not isinstance(raw, dict):
        raise UsageError(f"{where} is not an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise UsageError(f"{where}: 'name' is missing or not a string")
    status = raw.get("status", "")
    if status not in ("passed", "failed"):
        raise UsageError(f"{where}: status {status!r} is not 'passed' or 'failed'")
    tags = raw.get("tags") or []
    if not isinstance(tags, list):
        raise UsageError(f"{where}: 'tags' is not a list")
    return TestResult(
        name=name,
        score=_number(raw.get("score"), f"{where}: score"),
        max_score=_number(raw.get("max_score"), f"{where}: max_score"),
        status=status,
        output=str(raw.get("output") or ""),
        visibility=str(raw.get("visibility") or "visible"),
        tags=tuple(str(t) for t in tags),
        description=str(raw.get("description") or ""),
    )


def _check_agrees(path: Path, csv_score: float, json_score: Any) -> None:
    if abs(float(json_score) - csv_score) > SCORE_TOLERANCE:
        raise UsageError(
            f"{path}: score {json_score} disagrees with grades.csv ({csv_score}); re-run the grader"
        )


def _number(raw: Any, where: str, blank: float | None = None) -> float:
    """Parse a finite, non-negative number; `blank` is used for an empty CSV cell."""
    if isinstance(raw, str) and not raw.strip():
        if blank is None:
            raise UsageError(f"{where} is empty")
        return float(blank)
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise UsageError(f"{where} is missing or not a number")
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{where} {raw!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{where} {raw!r} is not a finite, non-negative number")
    return value


def _flag(raw: str) -> bool:
    """The `late` cell: false for an empty cell or a false-like word, true for anything else.

    Lenient on purpose (a grader may write `True`, `yes` or a number of days late):
    no export depends on it.
    """
    return raw.strip().lower() not in FALSE_WORDS
