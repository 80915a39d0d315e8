"""Moodle assignment exports: a grading worksheet to upload and a feedback-files zip.

Both go through the assignment itself (View all submissions), not the course gradebook,
because only the assignment knows Moodle's *participant id*: the number in the bulk
download's folder names (``Full Name_123456_assignsubmission_file_``), which is not the
Moodle user id.

Grading worksheet ("Upload grading worksheet", the offline grading worksheet feedback
type must be enabled). Moodle finds its columns by their English headers and refuses a
file that lacks any of ``Identifier``, ``Grade`` or ``Last modified (grade)``; it reads
``Feedback comments`` when the comments feedback type is on. ``Identifier`` is
``Participant 123456``: Moodle strips the ``Participant `` prefix and looks the number up.
The participant id is the one intake read from a Moodle download (results.json
``extra_data.meta``: the submission's id is then that number); else it comes from a
submission id that is a Moodle folder name, or is the id itself when it is only digits;
any other id is written unchanged (and reported), since Moodle cannot match it.
``Last modified (grade)`` is the export time: Moodle skips a row whose grade was changed
in Moodle more than a minute after it (unless "Ignore modified" is ticked), so grades
edited by hand after the export are kept.
Feedback is the one-line summary. Grading errors get an empty grade (Moodle then
leaves the grade alone but still imports the feedback) unless ``include_errors``.
Moodle also skips grades above the assignment's maximum grade, so scores are points.

Feedback zip ("Upload multiple feedback files in a zip"): Moodle splits each folder
name on ``_`` as ``fullname_participantid_plugintype_pluginname[_]`` and files what is
inside as that participant's feedback, so the zip holds one folder per submission,
named as in Moodle's download (``<Full Name>_<participant id>_assignsubmission_file_``),
with feedback.html and feedback.md inside.
"""

from __future__ import annotations

import csv
import re
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from autograder.errors import UsageError
from autograder.exports.outdir import OutDir, Submission, format_score, load_out

PREFIX = "autograder export: "
PARTICIPANT = "Participant "
HEADER = ("Identifier", "Grade", "Last modified (grade)", "Feedback comments")
FOLDER = re.compile(
    r"\A(?P<name>[^_]+)_(?P<pid>[0-9]+)_(?P<subtype>assign(?:submission|feedback))"
    r"_(?P<plugin>[A-Za-z0-9]+)(?P<rest>_.*)?\Z",
    re.S,
)


@dataclass(frozen=True)
class MoodleFolder:
    """The parts of a Moodle bulk-download folder name."""

    name: str
    participant: str
    subtype: str
    plugin: str
    folder: str  # the folder name to use in a feedback zip


def parse_folder(submission_id: str) -> MoodleFolder | None:
    """Split `Full Name_123456_assignsubmission_file_` into its parts; None if not that form."""
    match = FOLDER.match(submission_id)
    if not match:
        return None
    rest = match.group("rest") or ""
    canonical = "_".join(match.group("name", "pid", "subtype", "plugin")) + "_"
    return MoodleFolder(
        name=match.group("name"),
        participant=str(int(match.group("pid"))),
        subtype=match.group("subtype"),
        plugin=match.group("plugin"),
        folder=submission_id if rest in ("", "_") else canonical,
    )


def participant_id(sub: Submission) -> str | None:
    """The submission's Moodle participant id, or None if it has none (see the module doc)."""
    from_download = str(sub.meta.get("participant_id") or sub.lms_user_id) if sub.lms == "moodle" else ""
    folder = parse_folder(sub.id)
    for number in (from_download, folder.participant if folder else "", sub.id):
        if re.fullmatch("[0-9]+", number):
            return str(int(number))
    return None


def identifier(sub: Submission) -> str | None:
    """`Participant N` for the worksheet's Identifier column; None if there is no number."""
    number = participant_id(sub)
    return PARTICIPANT + number if number else None


def feedback_folder(sub: Submission) -> str | None:
    """The folder of the feedback zip that Moodle files under the submission's participant."""
    number = participant_id(sub) if sub.lms == "moodle" else None
    if number:
        name = re.sub("[_/]", " ", str(sub.meta.get("name") or sub.lms_name)) or "Participant"
        return f"{name}_{number}_assignsubmission_file_"
    folder = parse_folder(sub.id)
    return folder.folder if folder else None


def grades_csv(
    rows: Iterable[Submission],
    output: str | Path,
    *,
    include_errors: bool = False,
    now: datetime | None = None,
    err: TextIO | None = None,
) -> int:
    """Write the grading worksheet to upload; return the number of rows written."""
    err = err or sys.stderr
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    lines = [_worksheet_row(sub, stamp, include_errors, err) for sub in rows]
    _check_unique(lines)
    out = Path(output)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            writer.writerows(row for _, row in lines)
    except OSError as exc:
        raise UsageError(f"{out}: cannot write ({exc.strerror or exc})") from None
    return len(lines)


def _worksheet_row(
    sub: Submission, stamp: str, include_errors: bool, err: TextIO
) -> tuple[Submission, list[str]]:
    ident = identifier(sub)
    if ident is None:
        print(f"{PREFIX}no Moodle participant id in {sub.id!r}; Moodle will not match it", file=err)
        ident = sub.id
    grade = format_score(sub.score) if sub.graded or include_errors else ""
    if not grade:
        print(f"{PREFIX}grade left empty for {sub.id}: grading error", file=err)
    return sub, [ident, grade, stamp, sub.summary]


def _check_unique(lines: list[tuple[Submission, list[str]]]) -> None:
    seen: dict[str, str] = {}
    for sub, row in lines:
        if row[0] in seen:
            raise UsageError(f"submissions {seen[row[0]]!r} and {sub.id!r} are both {row[0]}")
        seen[row[0]] = sub.id


def feedback_zip(out_dir: OutDir | str | Path, zip_path: str | Path, *, err: TextIO | None = None) -> int:
    """Zip every submission's feedback under its Moodle folder name; return folders written."""
    err = err or sys.stderr
    out = out_dir if isinstance(out_dir, OutDir) else load_out(out_dir)
    entries = _zip_entries(out.submissions, err)
    if not entries:
        raise UsageError(
            f"{out.path}: no submission came from a Moodle download and no submission id is a "
            "Moodle folder name (Full Name_123456_assignsubmission_file_); nothing to put in the "
            "feedback zip"
        )
    target = Path(zip_path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for arcname, source in entries:
                zf.write(source, arcname)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write ({exc.strerror or exc})") from None
    return len({arc.split("/", 1)[0] for arc, _ in entries})


def _zip_entries(subs: Iterable[Submission], err: TextIO) -> list[tuple[str, Path]]:
    entries: list[tuple[str, Path]] = []
    for sub in subs:
        folder = feedback_folder(sub)
        files = sub.feedback_files()
        if folder is None:
            print(f"{PREFIX}not in the feedback zip: {sub.id} (not from a Moodle download)", file=err)
        elif not files:
            print(f"{PREFIX}not in the feedback zip: {sub.id} (no feedback files)", file=err)
        else:
            entries.extend((f"{folder}/{path.name}", path) for path in files)
    return entries
