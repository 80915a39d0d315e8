"""Fill one assignment column of a Canvas gradebook export with the grader's scores.

Canvas's gradebook import (Grades > Import) reads the same CSV its export writes:

* a header row starting ``Student, ID, [SIS User ID,] SIS Login ID, [Integration ID,]
  [Root Account,] Section``, then custom columns, then one column per assignment titled
  ``NAME (ID)``, then read-only totals (``Current Score``, ``Final Grade``, ...);
* a ``    Points Possible`` row and, when grades are hidden, a row of ``Muted`` /
  ``Manual Posting`` markers; neither describes a student;
* one row per student, matched first by the Canvas user id in the ``ID`` column;
  a submission downloaded while grading was anonymous (id ``anon_<anonymous id>``) has
  none, so it is listed, not filled in;
* comma- or semicolon-separated, optionally with a UTF-8 byte-order mark.

Only the cells of the chosen assignment column in student rows are rewritten. Every
other byte of the file (quoting, separators, line endings, BOM, the Points Possible
and Muted rows, other columns) is copied unchanged: the file is split into raw
fields and rejoined, never re-serialised. Scores are written as points with at most
two decimals and no trailing zeros (``8``, ``7.5``, ``6.67``), the precision Canvas
exports and compares at. Cells holding ``EX`` (excused) or ``N/A`` (not assigned to
that student) are left alone, and so are submissions the grader could not grade
(status ``error``) unless ``include_errors`` is set.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from autograder.errors import UsageError
from autograder.exports.outdir import Submission, format_score

PREFIX = "autograder export: "
TITLE_AND_ID = re.compile(r"\A(.*)\s\((\d+)\)\Z", re.S)
NON_ASSIGNMENT = re.compile(
    "Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade"
    "|Override Score|Override Grade|Override Status"
)
HIDDEN_ROW_CELL = re.compile(r"^\s*(Muted|Manual Posting.*)?\s*$", re.I)
KEEP_CELLS = ("EX", "N/A")
TEST_STUDENT = "Student, Test"


@dataclass
class _Cell:
    raw: str  # exactly as in the file, quotes included
    value: str


@dataclass
class _Record:
    cells: list[_Cell]
    end: str  # the line ending that followed the record ("" at end of file)


@dataclass(frozen=True)
class CanvasCounts:
    """What fill_gradebook did."""

    column: str
    filled: int
    not_in_gradebook: int
    without_submission: int
    left_as_is: int
    anonymous: int = 0


@dataclass
class _Gradebook:
    path: Path
    bom: str
    delim: str
    records: list[_Record]
    id_col: int
    assignments: dict[int, str] = field(default_factory=dict)

    @property
    def header(self) -> list[str]:
        return [c.value.strip() for c in self.records[0].cells]

    def text(self) -> str:
        body = "".join(self.delim.join(c.raw for c in r.cells) + r.end for r in self.records)
        return self.bom + body


def fill_gradebook(
    gradebook_csv: str | Path,
    assignment: str,
    rows: Iterable[Submission],
    output: str | Path,
    *,
    include_errors: bool = False,
    err: TextIO | None = None,
) -> CanvasCounts:
    """Write `output`: the gradebook with `assignment`'s column filled from `rows`.

    Students are matched by Canvas user id (`lms_user_id`, else the submission id)
    against the gradebook's ID column. Unmatched students on either side are listed
    on `err` (default stderr), one line each.
    """
    err = err or sys.stderr
    book = _read_gradebook(Path(gradebook_csv))
    col = find_assignment_column(book, assignment)
    rows = list(rows)
    anonymous = [sub for sub in rows if is_anonymous(sub)]
    by_id = _index_by_canvas_id(sub for sub in rows if not is_anonymous(sub))
    _check_points_possible(book, col, by_id.values(), err)
    counts = _fill(book, col, by_id, include_errors, err, len(anonymous))
    for sub in anonymous:
        print(f"{PREFIX}anonymous submission {sub.id}: not filled in (the gradebook knows students "
              "by user id, which anonymous grading hides); enter its score in SpeedGrader, or "
              "download the submissions again once grades are posted, when their names carry user ids",
              file=err)
    out = Path(output)
    if out.exists() and out.resolve() == book.path.resolve():
        raise UsageError(f"{out}: refusing to overwrite the gradebook export; pick another --output")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(book.text().encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"{out}: cannot write ({exc.strerror or exc})") from None
    return counts


def find_assignment_column(book: _Gradebook, wanted: str) -> int:
    """The index of the assignment column `wanted` names; UsageError if absent or ambiguous."""
    wanted = wanted.strip()
    header = book.header
    exact = [i for i in book.assignments if header[i] == wanted]
    if len(exact) == 1:
        return exact[0]
    title, ident = _title_and_id(wanted)
    bare_id = re.fullmatch(r"\(?\s*(\d+)\s*\)?", wanted)
    if bare_id:
        title, ident = None, bare_id.group(1)
    if ident is not None:
        hits = [i for i, h in book.assignments.items() if _title_and_id(h)[1] == ident]
    else:
        hits = [i for i, h in book.assignments.items() if _title_and_id(h)[0] == title]
        if not hits:
            hits = [
                i
                for i, h in book.assignments.items()
                if _title_and_id(h)[0].casefold() == str(title).casefold()
            ]
    if len(hits) == 1:
        return hits[0]
    return _no_single_column(book, wanted, [header[i] for i in (hits or exact)])


def _no_single_column(book: _Gradebook, wanted: str, hits: list[str]) -> int:
    if hits:
        listed = ", ".join(f'"{h}"' for h in hits)
        raise UsageError(f"assignment {wanted!r} is ambiguous in {book.path}: matches {listed}")
    available = ", ".join(f'"{h}"' for h in book.assignments.values()) or "none"
    raise UsageError(f"assignment {wanted!r} not found in {book.path}; assignment columns: {available}")


def _title_and_id(header: str) -> tuple[str, str | None]:
    match = TITLE_AND_ID.match(header)
    return (match.group(1).strip(), match.group(2)) if match else (header.strip(), None)


def _read_gradebook(path: Path) -> _Gradebook:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the gradebook ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(
            f"{path}: not UTF-8 text; export the gradebook from Canvas again (or save it as 'CSV UTF-8')"
        ) from None
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text[len(bom) :]
    delim = _delimiter(text)
    records = _records(text, delim, path)
    if not records:
        raise UsageError(f"{path}: empty file")
    book = _Gradebook(path=path, bom=bom, delim=delim, records=records, id_col=-1)
    _locate_columns(book)
    return book


def _delimiter(text: str) -> str:
    """Comma unless the header row splits into more fields on semicolons (as Canvas decides)."""
    first = text.splitlines()[0] if text else ""
    counts = {d: len(next(csv.reader([first], delimiter=d), [])) for d in (",", ";")}
    return ";" if counts[";"] > counts[","] else ","


def _locate_columns(book: _Gradebook) -> None:
    header = book.header
    first = header[0] if header else ""
    if "Student" not in first and first != "LastName":
        raise UsageError(
            f"{book.path}: first column is {first!r}, not 'Student'; "
            "is this a Canvas gradebook export (Grades > Export)?"
        )
    if "ID" not in header:
        raise UsageError(f"{book.path}: no 'ID' column in the header row (Canvas user ids)")
    if "Section" not in header:
        raise UsageError(f"{book.path}: no 'Section' column in the header row")
    book.id_col = header.index("ID")
    section = header.index("Section")
    book.assignments = {
        i: h for i, h in enumerate(header) if i > section and h and not NON_ASSIGNMENT.search(h)
    }


def _records(text: str, delim: str, path: Path) -> list[_Record]:
    """Split CSV text into records of raw fields, keeping every byte for reassembly."""
    records: list[_Record] = []
    pos, line = 0, 1
    while pos < len(text):
        cells: list[_Cell] = []
        while True:
            cell, pos = _field(text, pos, delim, path, line)
            cells.append(cell)
            line += cell.raw.count("\n")
            if pos < len(text) and text[pos] == delim:
                pos += 1
                continue
            break
        end = "\r\n" if text.startswith("\r\n", pos) else text[pos : pos + 1]
        pos += len(end)
        line += 1
        records.append(_Record(cells, end))
    return records


def _field(text: str, pos: int, delim: str, path: Path, line: int) -> tuple[_Cell, int]:
    if not text.startswith('"', pos):
        end = pos
        while end < len(text) and text[end] not in (delim, "\r", "\n"):
            end += 1
        return _Cell(text[pos:end], text[pos:end]), end
    end = pos + 1
    while True:
        end = text.find('"', end)
        if end < 0:
            raise UsageError(f"{path} line {line}: quoted field never closed")
        if text.startswith('""', end):
            end += 2
            continue
        end += 1
        break
    if end < len(text) and text[end] not in (delim, "\r", "\n"):
        raise UsageError(f"{path} line {line}: stray text after a quoted field")
    raw = text[pos:end]
    return _Cell(raw, raw[1:-1].replace('""', '"')), end


def _index_by_canvas_id(rows: Iterable[Submission]) -> dict[str, Submission]:
    by_id: dict[str, Submission] = {}
    for sub in rows:
        key = canvas_user_id(sub)
        if key in by_id:
            raise UsageError(f"submissions {by_id[key].id!r} and {sub.id!r} both map to Canvas user {key}")
        by_id[key] = sub
    return by_id


def is_anonymous(sub: Submission) -> bool:
    """Downloaded while the assignment graded anonymously: no user id, id `anon_<id>`."""
    return not sub.lms_user_id and (
        bool(sub.meta.get("anonymous_id")) or re.fullmatch("anon_[0-9A-Za-z]+", sub.id) is not None
    )


def canvas_user_id(sub: Submission) -> str:
    """The Canvas user id of a submission: lms_user_id when the grader knew it, else its id."""
    return sub.lms_user_id or sub.id


def _is_student_row(record: _Record) -> bool:
    values = [c.value for c in record.cells]
    if not any(v.strip() for v in values):
        return False
    if "Points Possible" in values[0]:
        return False
    return not all(HIDDEN_ROW_CELL.match(v) for v in values)


def _fill(
    book: _Gradebook, col: int, by_id: dict[str, Submission], include_errors: bool, err: TextIO,
    anonymous: int,
) -> CanvasCounts:
    filled = kept = missing = 0
    seen: set[str] = set()
    quote = all(c.raw.startswith('"') for c in book.records[0].cells)
    for record in book.records[1:]:
        if not _is_student_row(record):
            continue
        name = record.cells[0].value.strip()
        sid = _cell(record, book.id_col).value.strip()
        sub = by_id.get(sid)
        if sub is None:
            if name != TEST_STUDENT:
                missing += 1
                print(f"{PREFIX}{_no_submission(anonymous)}: {name} (ID {sid})", file=err)
            continue
        seen.add(sid)
        reason = _keep_reason(sub, _cell(record, col).value.strip(), include_errors)
        if reason:
            kept += 1
            print(f"{PREFIX}left as is: {name} (ID {sid}): {reason}", file=err)
            continue
        value = format_score(sub.score)
        _set_cell(record, col, f'"{value}"' if quote else value, value)
        filled += 1
    unmatched = [s for key, s in by_id.items() if key not in seen]
    for sub in unmatched:
        print(f"{PREFIX}not in gradebook: {sub.id} ({sub.lms_name or 'no name'})", file=err)
    header = book.header[col]
    return CanvasCounts(header, filled, len(unmatched), missing, kept, anonymous)


def _no_submission(anonymous: int) -> str:
    """How a gradebook student without a matching submission is listed."""
    if not anonymous:
        return "no submission"
    return f"no submission under their user id (perhaps one of the {anonymous} anonymous ones)"


def _keep_reason(sub: Submission, current: str, include_errors: bool) -> str:
    if not sub.graded and not include_errors:
        return "grading error (see its feedback; --include-errors writes its score)"
    if current.upper() in KEEP_CELLS:
        return f"cell is {current.upper()}"
    return ""


def _cell(record: _Record, index: int) -> _Cell:
    return record.cells[index] if index < len(record.cells) else _Cell("", "")


def _set_cell(record: _Record, index: int, raw: str, value: str) -> None:
    while len(record.cells) <= index:
        record.cells.append(_Cell("", ""))
    record.cells[index] = _Cell(raw, value)


def _check_points_possible(book: _Gradebook, col: int, subs: Iterable[Submission], err: TextIO) -> None:
    """Warn when Canvas's Points Possible differs from the grader's max_score."""
    for record in book.records[1:]:
        if record.cells and "Points Possible" in record.cells[0].value:
            cell = _cell(record, col).value.strip()
            if "read only" in cell:
                raise UsageError(f"column {book.header[col]!r} is read-only in Canvas")
            try:
                possible = float(cell.replace(",", "."))
            except ValueError:
                return
            maxima = {s.max_score for s in subs if s.graded}
            if maxima and maxima != {possible}:
                got = ", ".join(format_score(m) for m in sorted(maxima))
                print(
                    f"{PREFIX}warning: {book.header[col]!r} has {format_score(possible)} points "
                    f"possible in Canvas; the grader's max_score is {got} (points written as is)",
                    file=err,
                )
            return
