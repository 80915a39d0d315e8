"""Bulk downloads named the way Canvas and Moodle name them, for the intake and export tests.

Each function below restates, in our own words, one naming rule read in the LMS's own
source, so that the fixtures follow the LMS and not the grader's idea of it:

Canvas (instructure/canvas-lms)
  lib/content_zipper.rb  get_filename: ``[user name, "LATE" if late, id].join("_")`` with
      every non-word character removed, where id is the user id, or ``anon_<anonymous id>``
      when the assignment anonymizes students (the name is then left out); each uploaded
      file is ``<that>_<attachment id>_<display name>``. sanitize_user_name: the sortable
      name with ``_<digits>_`` collapsed to the digits, lower-cased. (Before about 2019 the
      whole file name was lower-cased, so ``LATE`` was ``late``.) A word character is
      Ruby's ``[[:word:]]``: a letter, a mark, a decimal digit or a connector (``_``).
      sanitize_attachment_filename: runs of ``NUL / \\ : * ? " < > |`` become ``_``.
  app/models/attachment.rb  make_unique_filename: a name already in the student's folder
      becomes ``<base>-1<ext>``, ``-2``... (a resubmitted linear.py is linear-1.py).
  lib/anonymity.rb  an anonymous id is 5 random base58 characters.

Moodle (moodle/moodle, mod/assign)
  classes/downloader.php get_student_prefix (4.1+) and locallib.php download_submissions
      (3.1-4.0): prefix = clean_filename(<full name, or "Participant" with blind marking,
      with "_" replaced by " "> + "_" + <participant id>). With "download submissions in
      folders" on (the default), a file is ``<prefix>_<subtype>_<plugin>_/<path>`` before
      4.1 and ``<prefix>_<subtype>_<plugin>/<path>`` since; the online text is
      ``onlinetext.html`` in the onlinetext plugin's folder. With it off, a file is
      ``<prefix>_<subtype>_<plugin>_<file name>``.
  lib/moodlelib.php clean_param(PARAM_FILE), used by clean_filename: control characters
      and ``& < > " ` | ' : \\ /`` are removed.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
MOODLE_LAYOUTS = {
    "folders": {},
    "folders-4.1": {"before_41": False},
    "flat": {"folders": False},
    "blind": {"blind": True},
}
"""write_moodle_download's options for each layout Moodle writes."""
RUBY_WORD = ("L", "M")  # general categories kept whole; plus Nd and Pc, below


@dataclass
class Student:
    """One student of a course, with what they uploaded, in upload order."""

    first: str
    last: str
    user_id: int  # Canvas
    anonymous_id: str  # Canvas, with anonymous grading
    participant_id: int  # Moodle
    uploads: list[tuple[str, bytes]] = field(default_factory=list)
    late: bool = False
    online_text: str = ""  # Moodle online text, when the plugin is on

    @property
    def sortable_name(self) -> str:
        """Canvas's default sortable name, "Last, First"."""
        return f"{self.last}, {self.first}"

    @property
    def full_name(self) -> str:
        """Moodle's default full name, "First Last"."""
        return f"{self.first} {self.last}"


# ---------------------------------------------------------------- Canvas


def ruby_word_only(text: str) -> str:
    """`text` without the characters Ruby's [[:word:]] does not match."""
    return "".join(
        c for c in text if unicodedata.category(c)[0] in RUBY_WORD or unicodedata.category(c) in ("Nd", "Pc")
    )


def canvas_user_name(sortable_name: str) -> str:
    """sanitize_user_name: `_<digits>_` collapsed to the digits, then lower-cased."""
    return re.sub(r"_([0-9]+)_", r"\1", sortable_name).lower()


def canvas_prefix(student: Student, *, anonymous: bool = False, legacy: bool = False) -> str:
    """get_filename: the part before the attachment id."""
    parts = [] if anonymous else [canvas_user_name(student.sortable_name)]
    if student.late:
        parts.append("LATE")
    parts.append(f"anon_{student.anonymous_id}" if anonymous else str(student.user_id))
    name = ruby_word_only("_".join(parts))
    return name.lower() if legacy else name


def canvas_display_names(uploads: list[str]) -> list[str]:
    """make_unique_filename over one student's uploads: repeats become base-1.ext, base-2.ext..."""
    taken: set[str] = set()
    names = []
    for name in uploads:
        stem, dot, ext = name.rpartition(".")
        base, ext = (stem, dot + ext) if dot else (name, "")
        unique, n = name, 1
        while unique in taken:
            unique, n = f"{base}-{n}{ext}", n + 1
        taken.add(unique)
        names.append(unique)
    return names


def canvas_attachment_name(display_name: str) -> str:
    """sanitize_attachment_filename."""
    return re.sub(r'[\x00/\\:*?"<>|]+', "_", display_name)


def write_canvas_download(
    root: Path, students: list[Student], *, anonymous: bool = False, legacy: bool = False,
    first_attachment: int = 70001,
) -> dict[str, Student]:
    """Write the unzipped "Download Submissions" of `students` into `root`.

    Returns the student behind each id the grader should use (user id, or anon_<id>).
    Attachment ids grow with each upload, as Canvas's do.
    """
    root.mkdir(parents=True, exist_ok=True)
    attachment = first_attachment
    expected = {}
    for student in students:
        prefix = canvas_prefix(student, anonymous=anonymous, legacy=legacy)
        names = canvas_display_names([name for name, _ in student.uploads])
        for name, (_, data) in zip(names, student.uploads, strict=True):
            (root / f"{prefix}_{attachment}_{canvas_attachment_name(name)}").write_bytes(data)
            attachment += 1
        expected[f"anon_{student.anonymous_id}" if anonymous else str(student.user_id)] = student
    return expected


# ---------------------------------------------------------------- Moodle


def moodle_clean_filename(text: str) -> str:
    """clean_param(PARAM_FILE): control characters and & < > " ` | ' : \\ / removed."""
    cleaned = "".join(c for c in text if unicodedata.category(c) != "Cc" and c not in "&<>\"`|':\\/")
    return "" if cleaned in (".", "..") else cleaned


def moodle_name(student: Student, *, blind: bool = False) -> str:
    """The name in get_student_prefix: the full name (or "Participant"), `_` as a space, cleaned."""
    return moodle_clean_filename(("Participant" if blind else student.full_name).replace("_", " "))


def moodle_prefix(student: Student, *, blind: bool = False) -> str:
    """get_student_prefix for an individual submission: clean_filename(name + "_" + participant id)."""
    return moodle_clean_filename(f"{moodle_name(student, blind=blind)}_{student.participant_id}")


def moodle_folder(prefix: str, plugin: str, *, before_41: bool = True) -> str:
    """The folder of one plugin's files with "download submissions in folders" on."""
    return moodle_clean_filename(f"{prefix}_assignsubmission_{plugin}" + ("_" if before_41 else ""))


def moodle_flat_name(prefix: str, plugin: str, file_name: str) -> str:
    """A file's name with "download submissions in folders" off."""
    return moodle_clean_filename(f"{prefix}_assignsubmission_{plugin}_{file_name}")


def _moodle_files(student: Student) -> dict[str, dict[str, bytes]]:
    """Each plugin's files (path -> bytes); a later upload of a name replaces it, as in Moodle."""
    files = {"file": dict(student.uploads)}
    if student.online_text:
        files["onlinetext"] = {"onlinetext.html": student.online_text.encode()}
    return files


def write_moodle_download(
    root: Path, students: list[Student], *, folders: bool = True, blind: bool = False,
    before_41: bool = True,
) -> dict[str, Student]:
    """Write the unzipped "Download all submissions" of `students` into `root`.

    Returns the student behind each id the grader should use (the participant id).
    """
    root.mkdir(parents=True, exist_ok=True)
    expected = {}
    for student in students:
        prefix = moodle_prefix(student, blind=blind)
        for plugin, files in _moodle_files(student).items():
            for path, data in files.items():
                if folders:
                    target = root / moodle_folder(prefix, plugin, before_41=before_41) / path
                else:
                    target = root / moodle_flat_name(prefix, plugin, Path(path).name)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        expected[str(student.participant_id)] = student
    return expected


# ---------------------------------------------------------------- content


def zipped(files: dict[str, bytes]) -> bytes:
    """A zip archive of `files` (path inside the zip -> bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def roster(uploads: list[list[tuple[str, bytes]]]) -> list[Student]:
    """Students with names LMSs have to cope with, given each one's uploads (at most 8).

    Accents (precomposed and decomposed), CJK, apostrophes, hyphens, an underscore and
    a digit in a name; the third and the last are late.
    """
    people = [
        ("Jürgen", "Müller"),
        ("美咲", "佐藤"),
        ("Siobhán", "O'Brien-Ní Bhriain"),
        ("Zoe\u0308", "Ng"),  # ë written as e + combining diaeresis
        ("Mary_Jane", "Watson"),
        ("Anne-Marie", "d'Arc"),
        ("Łukasz", "Żółć"),
        ("Ada", "Lovelace 2nd"),
    ]
    assert len(uploads) <= len(people)
    return [
        Student(
            first, last, user_id=4510 + 7 * i, anonymous_id=BASE58[i * 5 : i * 5 + 5],
            participant_id=880100 + 13 * i, uploads=files, late=i in (2, len(uploads) - 1),
        )
        for i, ((first, last), files) in enumerate(zip(people, uploads, strict=False))
    ]
