"""Intake: turn a folder of submissions into in-memory source texts.

Each entry of SUBMISSIONS is one submission: a folder, or a `.zip`, or the files an LMS
bulk download holds, grouped by student:

* Canvas: loose files `<name>[_LATE]_<user id>_<attachment id>_<file>`, or
  `[LATE_]anon_<anonymous id>_<attachment id>_<file>` when grading is anonymous (see
  `_CANVAS_RE`); graded under the user id, or `anon_<anonymous id>`.
* Moodle: folders `<Full Name>_<participant id>_assignsubmission_<plugin>[_]` (one per
  submission plugin: file, onlinetext...), or flat files
  `<Full Name>_<participant id>_assignsubmission_file_<file>`; graded under the
  participant id. Only the file plugin's files are looked at.

A zip among a submission's files is opened when the loose files lack an exercise file.
Nothing here runs student code and nothing is extracted to disk: files are read, capped
at `MAX_FILE_BYTES`, and decoded as Python decodes a source file (PEP 263, BOM).

Ids are folder names in OUT, so `submission_id` makes every name a file system allows
usable (see there), and `discover` keeps them unique and clear of OUT's own files.

Only instructor-level problems raise `IntakeError`. Everything a student got
wrong becomes a per-module entry in `Submission.problems` (which costs the
functions of that module and nothing else) or a line in `Submission.notes`.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import io
import json
import os
import re
import stat
import tokenize
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO

from autograder import course as courses
from autograder.i18n import N_, gettext

MAX_FILE_BYTES = 1024 * 1024
"""A module file larger than this (1 MiB) is unusable."""
MAX_ZIP_ENTRIES = 1000
MAX_ZIP_TOTAL = 50 * 1024 * 1024
"""Cap on the declared uncompressed total of a zip."""
MAX_ZIP_FILE = 64 * 1024 * 1024
"""Cap on a zip's size on disk, checked before its central directory is parsed."""
MAX_LISTED = 5000
"""Entries listed in a submission folder before the rest is ignored."""
MAX_DEPTH = 3
"""Path components of the deepest file looked at (top folder / one deeper / file)."""

GRADER_FILES = frozenset(
    {
        "conftest.py",
        "pytest.ini",
        "tox.ini",
        "setup.cfg",
        "pyproject.toml",
        "sitecustomize.py",
        "usercustomize.py",
        "results.json",
    }
)

OUT_NAMES = frozenset(
    {"grades.csv", "summary.html", "canvas-import.csv", "moodle-grades.csv", "gradescope"}
)
"""What `grade` and `export` write at OUT's top level: no submission id is one of these
(compared ignoring case, as on macOS and Windows file systems)."""
MAX_ID_BYTES = 200
"""Longer ids are cut and end with `~` and a hash of the name (a file name holds 255 bytes)."""

_CHUNK = 64 * 1024
_DIGITS = "[0-9]+"
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_MODULE_RE = re.compile(rf"(?P<module>\w+?)(?:-(?P<n>{_DIGITS}|{_UUID}))?\.py")
"""An exercise file, possibly renamed by Canvas's make_unique_filename: `module-1.py` up to
`module-7.py`, then `module-<random UUID>.py` (an exercise file only if the module is one)."""


def modules() -> tuple[str, ...]:
    """The course's exercise modules."""
    return courses.load().names
_CANVAS_RE = re.compile(
    r"(?:(?P<anon_late>LATE_|late_)?anon_(?P<anon>[0-9A-Za-z]{5})"
    rf"|(?P<name>.*?)(?P<late>_LATE|_late)?_(?P<user>{_DIGITS}))"
    rf"_(?P<attachment>{_DIGITS})_(?P<file>.+)",
    re.DOTALL,
)
"""Canvas's content_zipper.rb: `[name, "LATE" if late, user id]` joined with `_`, every
non-word character removed (Unicode letters and marks stay; the name is the sortable
name lower-cased), then `_<attachment id>_<file name>`. With anonymous grading the name is
left out and the id is `anon_` and 5 base58 characters. Canvas before about 2019
lower-cased the whole name, `LATE` included."""
_MOODLE_RE = re.compile(
    rf"(?P<name>[^_]*)_(?P<participant>{_DIGITS})_assignsubmission_(?P<plugin>[a-z0-9]+)"
    r"(?:_(?P<file>.*))?",
    re.DOTALL,
)
"""Moodle's mod/assign download: `<full name>_<participant id>_assignsubmission_<plugin>`,
a folder (ending in `_` before Moodle 4.1) or, with "download in folders" off, followed by
`_<file name>`. Moodle replaces `_` in full names by spaces, so the name has none; with
blind marking it is `Participant`."""
_ESCAPED = re.compile(
    r"[\x00-\x1f\x7f-\x9f\\\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
"""Characters shown as %XX in names: control characters, backslash, line and paragraph
separators, bidirectional controls, and the bytes that were not UTF-8 (which Python holds
as lone surrogates)."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet runs a CSV cell starting with one of these as a formula."""
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_LINE = re.compile(r"[^\r\n]*")
_SAFE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class IntakeError(Exception):
    """SUBMISSIONS (or a path given to `load_one`) cannot be read at all; one-line message."""


@dataclass
class Submission:
    """One student's exercise files as text, with what was wrong and what was done."""

    id: str
    sources: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """A hash of what is graded: the sources and why any module is unusable. A re-run
        grades again a submission whose digest changed."""
        content = json.dumps([sorted(self.sources.items()), sorted(self.problems.items())])
        return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()


class _Unusable(Exception):
    """A file cannot be used; the message is the one-line reason."""


@dataclass(frozen=True)
class _File:
    """A file of a submission, not read yet."""

    parts: tuple[str, ...]  # path inside the submission
    kind: str  # "file", "symlink" or "special"
    read: Callable[[], bytes]  # at most MAX_FILE_BYTES + 1 bytes; raises _Unusable
    order: int = 0  # Canvas attachment id: a higher one is a later upload
    label: str = ""  # name shown in notes, if not the path
    path: Path | None = None  # where it is on disk (a zip there can be opened)

    @property
    def shown(self) -> str:
        """How the file is named in notes."""
        return printable_name(self.label or "/".join(self.parts))

    @property
    def is_zip(self) -> bool:
        """A zip file on disk, which can be opened as part of the submission."""
        return self.kind == "file" and self.path is not None and self.parts[-1].lower().endswith(".zip")


# --------------------------------------------------------------------------- helpers


def _one_line(text: str) -> str:
    """Collapse whitespace so a message stays on one line."""
    return " ".join(str(text).split())


def _reason(exc: BaseException) -> str:
    """A short, one-line reason for an exception."""
    if isinstance(exc, OSError) and exc.strerror:
        return _one_line(exc.strerror)
    return _one_line(str(exc) or type(exc).__name__)


def _percent(char: str) -> str:
    """%XX for each byte of one character (a lone surrogate stands for one byte)."""
    try:
        data = char.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that did not come from a byte
        data = char.encode("utf-8", "surrogatepass")
    return "".join(f"%{byte:02X}" for byte in data)


def printable_name(name: str) -> str:
    """A file or folder name as one line of valid UTF-8 that is safe to print.

    Bytes that are not UTF-8 (Python's surrogate escapes), control characters, backslash,
    line separators and bidirectional controls become `%XX`, the bytes of their UTF-8 form
    (`b"caf\\xe9"` is `caf%E9`). Every other character, accented or not, stays.
    """
    return _ESCAPED.sub(lambda m: _percent(m.group()), name)


def submission_id(name: str) -> str:
    """The id, and so the OUT folder name, of a submission named `name` on disk.

    `printable_name`, and also as `%XX`: leading and trailing white space (CSV readers and
    people strip it) and a first character that makes a spreadsheet cell a formula
    (`= + - @`). A name still longer than MAX_ID_BYTES is cut and ends with `~` and 10 hex
    digits of its SHA-256. `%` itself stays, so two names can give one id: `discover`
    then tells them apart (and away from OUT_NAMES) with `-2`, `-3`...
    """
    sid = printable_name(name)
    body = sid.strip()
    start = sid.index(body) if body else len(sid)
    end = start + len(body)
    sid = "".join(map(_percent, sid[:start])) + body + "".join(map(_percent, sid[end:]))
    if sid.startswith(FORMULA_START):
        sid = _percent(sid[0]) + sid[1:]
    if len(sid.encode()) > MAX_ID_BYTES:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        sid = sid.encode()[: MAX_ID_BYTES - 11].decode("utf-8", "ignore") + "~" + digest
    return sid or "submission"


def _id_for(name: str) -> tuple[str, list[str]]:
    """The id of a submission named `name` on disk, and a note saying why if they differ."""
    sid = submission_id(name)
    if sid == name:
        return sid, []
    if _NOT_UTF8.search(name):
        text = gettext("graded as {id}: the name on disk is not UTF-8 (bytes that are not valid UTF-8 are "
                       "shown as %XX)")
    elif _ESCAPED.search(name):
        text = gettext("graded as {id}: the name on disk holds control or invisible characters "
                       "(shown as %XX)")
    else:
        text = gettext("graded as {id}: the name on disk is {name}")
    return sid, [text.format(id=repr(sid), name=repr(name))]


def _ignored_name(name: str) -> bool:
    """Dotfiles and macOS resource folders are never looked at."""
    return name.startswith(".") or name == "__MACOSX"


def _zip_stem(name: str) -> str:
    """Entry name without a trailing `.zip` (any case)."""
    return name[:-4] if name.lower().endswith(".zip") else name


def _missing(module: str) -> str:
    """Why `module` cannot be used when the submission has no file for it."""
    return gettext("missing: no {module}.py in the submission").format(module=module)


#: Why every module of a zip that cannot be opened is unusable.
_ZIP_REJECTED = N_("zip rejected: {why}")


def _zip_rejected(why: str) -> str:
    return gettext(_ZIP_REJECTED).format(why=why)


def _unreadable(why: str) -> str:
    return gettext("unreadable: {why}").format(why=why)


def _is_zip_rejection(problem: str) -> bool:
    """Whether `problem` is `_zip_rejected`'s (in the language in use: intake words its texts so)."""
    return problem.startswith(gettext(_ZIP_REJECTED).partition("{why}")[0])


def _rejected(sid: str, reason: str) -> Submission:
    """A submission none of whose modules can be used, for one reason."""
    return Submission(sid, problems={m: reason for m in modules()})


def _read_capped(read: Callable[[int], bytes]) -> bytes:
    """Read through `read(n)` until EOF or just past MAX_FILE_BYTES."""
    chunks: list[bytes] = []
    total = 0
    while total <= MAX_FILE_BYTES:
        chunk = read(_CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _decode(data: bytes) -> str:
    """Bytes of a module file as the text Python reads from them, or _Unusable with the reason.

    As Python: UTF-8, or the encoding a PEP 263 coding line declares, a UTF-8 BOM dropped;
    UTF-16 and UTF-32 (even with a BOM) and NUL bytes refused. The sandbox writes the text
    back as UTF-8, so a declared encoding's coding line is relabelled (`_relabel_coding`).
    """
    if len(data) > MAX_FILE_BYTES:
        raise _Unusable(gettext("larger than 1 MB"))
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            text = gettext("not UTF-8 text ({encoding}: Python reads only UTF-8 or a declared encoding)")
            raise _Unusable(text.format(encoding=name))
    if b"\0" in data:
        raise _Unusable(gettext("binary file"))
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # no valid coding line, and the first lines are not UTF-8
        if "invalid or missing" in str(exc.msg):
            raise _Unusable(gettext("not UTF-8 text")) from None
        raise _Unusable(gettext("bad coding line: {error}").format(error=_one_line(exc.msg))) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding.startswith("utf-8"):
            raise _Unusable(gettext("not UTF-8 text")) from None
        text = gettext("not valid {encoding} text, as its coding line declares (byte {byte})")
        raise _Unusable(text.format(encoding=encoding, byte=exc.start)) from None
    return text if encoding.startswith("utf-8") else _relabel_coding(text)


def _relabel_coding(text: str) -> str:
    """`text` with the encoding its coding line declares replaced by utf-8 (the old name
    kept after it), so that the UTF-8 file the sandbox writes reads as this text."""
    pos = 0
    for _ in range(2):  # PEP 263: line 1, or line 2 after a blank or comment line 1
        line = _LINE.match(text, pos).group()
        cookie = tokenize.cookie_re.match(line)
        if cookie:
            start, end = pos + cookie.start(1), pos + cookie.end(1)
            rest = pos + len(line)
            return f"{text[:start]}utf-8{text[end:rest]} (was {cookie[1]}){text[rest:]}"
        if not tokenize.blank_re.match(line.encode()):
            break
        pos += len(line) + (2 if text.startswith("\r\n", pos + len(line)) else 1)
    return text


# --------------------------------------------------------------------------- disk


def _open_regular(path: Path, *, follow: bool) -> int:
    """Open a regular file without blocking (FIFOs) and, unless `follow`, not via a symlink."""
    flags = _OPEN_FLAGS if follow else _OPEN_FLAGS | _NO_FOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise _Unusable(gettext("symbolic link not allowed")) from None
        raise _Unusable(_unreadable(_reason(exc))) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _Unusable(gettext("not a regular file"))
    return fd


def _read_disk_file(path: Path) -> bytes:
    """Read a file of a submission folder, capped, never following a symlink."""
    fd = _open_regular(path, follow=False)
    try:
        if os.fstat(fd).st_size > MAX_FILE_BYTES:
            raise _Unusable(gettext("larger than 1 MB"))
        return _read_capped(partial(os.read, fd))
    except OSError as exc:
        raise _Unusable(_unreadable(_reason(exc))) from None
    finally:
        os.close(fd)


def _entry_file(entry: os.DirEntry[str], parts: tuple[str, ...]) -> _File:
    """A listed non-directory entry as a _File, classified without opening it."""
    if entry.is_symlink():
        kind = "symlink"
    elif entry.is_file(follow_symlinks=False):
        kind = "file"
    else:
        kind = "special"
    return _File(parts, kind, partial(_read_disk_file, Path(entry.path)), path=Path(entry.path))


def _walk_folder(root: Path) -> tuple[list[_File], list[str]]:
    """Files of a submission folder down to MAX_DEPTH, without following symlinks.

    Raises OSError if `root` itself cannot be listed.
    """
    files: list[_File] = []
    notes: list[str] = []
    pending: list[tuple[tuple[str, ...], Path]] = [((), root)]
    listed = 0
    while pending:
        prefix, folder = pending.pop(0)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if not prefix:
                raise
            text = gettext("could not list {folder}: {why}")
            notes.append(text.format(folder=printable_name("/".join(prefix)) + "/", why=_reason(exc)))
            continue
        for entry in entries:
            if _ignored_name(entry.name):
                continue
            listed += 1
            if listed > MAX_LISTED:
                notes.append(gettext("looked at the first {count} entries only").format(count=MAX_LISTED))
                return files, notes
            parts = (*prefix, entry.name)
            if entry.is_dir(follow_symlinks=False):
                if len(parts) < MAX_DEPTH:
                    pending.append((parts, Path(entry.path)))
            elif entry.is_symlink() and entry.is_dir():
                text = gettext("ignored {file}: {why}")
                notes.append(text.format(file=printable_name("/".join(parts)) + "/",
                                         why=gettext("symbolic link not allowed")))
            else:
                files.append(_entry_file(entry, parts))
    return files, notes


def _load_folder(path: Path, sid: str) -> Submission:
    """A submission that is a folder."""
    try:
        files, notes = _walk_folder(path)
    except OSError as exc:
        return _rejected(sid, _unreadable(_reason(exc)))
    return _assemble_with_zips(sid, files, notes)


# --------------------------------------------------------------------------- zip


def _zip_parts(name: str) -> tuple[str, ...]:
    """Path components of a zip member name (either slash)."""
    return tuple(p for p in re.split(r"[/\\]", name) if p not in ("", "."))


def _zip_entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why one entry makes the whole zip unacceptable, or None."""
    name = info.filename
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return gettext("absolute path {name}").format(name=repr(name))
    if ".." in _zip_parts(name):
        return gettext("path {name} leaves the zip").format(name=repr(name))
    if stat.S_ISLNK(info.external_attr >> 16):
        return gettext("symbolic link {name}").format(name=repr(name))
    if info.flag_bits & 0x1:
        return gettext("encrypted entry {name}").format(name=repr(name))
    return None


def _zip_problem(infos: list[zipfile.ZipInfo]) -> str | None:
    """Why a zip is rejected before anything in it is read, or None."""
    if len(infos) > MAX_ZIP_ENTRIES:
        return gettext("more than {count} entries").format(count=MAX_ZIP_ENTRIES)
    if sum(i.file_size for i in infos) > MAX_ZIP_TOTAL:
        return gettext("declared uncompressed size above 50 MB")
    for info in infos:
        problem = _zip_entry_problem(info)
        if problem:
            return _one_line(problem)
    return None


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read one zip member through a capped stream: header sizes may lie."""
    if info.compress_type not in _SAFE_METHODS:
        raise _Unusable(_unreadable(gettext("unsupported zip compression method")))
    if info.file_size > MAX_FILE_BYTES:
        raise _Unusable(gettext("larger than 1 MB"))
    try:
        with zf.open(info) as fh:
            return _read_capped(fh.read)
    except Exception as exc:  # zipfile raises many types on corrupt data
        text = gettext("corrupt zip member ({why})").format(why=_reason(exc))
        raise _Unusable(_unreadable(text)) from None


def _zip_files(zf: zipfile.ZipFile) -> list[_File]:
    """The file members of an accepted zip."""
    files = []
    for info in zf.infolist():
        parts = _zip_parts(info.filename)
        if parts and not info.is_dir():
            files.append(_File(parts, "file", partial(_read_member, zf, info)))
    return files


def _read_zip(fh: IO[bytes], sid: str) -> Submission:
    """Check an open zip, then assemble the submission from it."""
    try:
        zf = zipfile.ZipFile(fh)
    except Exception as exc:  # BadZipFile, struct.error, ValueError, ...
        why = gettext("corrupt or not a zip file ({why})").format(why=_reason(exc))
        return _rejected(sid, _zip_rejected(why))
    with zf:
        problem = _zip_problem(zf.infolist())
        if problem:
            return _rejected(sid, _zip_rejected(problem))
        return _assemble(sid, _zip_files(zf), [])


def _load_zip(path: Path, sid: str, *, follow: bool = True) -> Submission:
    """A submission that is a zip file; never raises. A zip inside a submission is opened
    with `follow` false: never through a symbolic link."""
    try:
        fd = _open_regular(path, follow=follow)
    except _Unusable as exc:
        return _rejected(sid, _zip_rejected(str(exc)))
    with os.fdopen(fd, "rb") as fh:
        if os.fstat(fd).st_size > MAX_ZIP_FILE:
            return _rejected(sid, _zip_rejected(gettext("file larger than 64 MB")))
        return _read_zip(fh, sid)


# --------------------------------------------------------------------------- assembly


def _base(files: list[_File]) -> tuple[str, ...]:
    """The submission's top folder, or its single top-level folder if it holds everything."""
    tops = {f.parts[0] for f in files}
    if len(tops) == 1 and all(len(f.parts) > 1 for f in files):
        return (tops.pop(),)
    return ()


def _module_of(f: _File) -> tuple[str, int] | None:
    """(module, Canvas resubmission number) if `f` is named like an exercise file.

    A UUID suffix, which Canvas gives after `-7`, counts as 8.
    """
    m = _MODULE_RE.fullmatch(f.parts[-1])
    if m and m["module"] not in modules():
        m = None
    if not m:
        return None
    n = m["n"] or "0"
    return m["module"], int(n) if n.isdigit() else 8


def _candidates(files: list[_File]) -> dict[tuple[str, ...], dict[str, list[_File]]]:
    """Exercise-named files by the folder holding them, only where intake looks."""
    base = _base(files)
    found: dict[tuple[str, ...], dict[str, list[_File]]] = defaultdict(lambda: defaultdict(list))
    for f in files:
        folder = f.parts[:-1]
        named = _module_of(f)
        if named and folder[: len(base)] == base and len(folder) <= len(base) + 1:
            found[folder][named[0]].append(f)
    return found


def _rank(f: _File) -> tuple[int, int]:
    """Higher is preferred: the later upload (Canvas attachment id), then the higher
    resubmission number (`module-2.py` over `module-1.py`, where there are no ids)."""
    named = _module_of(f)
    return (f.order, named[1] if named else 0)


def _show_dir(folder: tuple[str, ...]) -> str:
    return printable_name("/".join(folder)) + "/" if folder else gettext("the top folder")


def _choose_folder(
    sub: Submission, found: dict[tuple[str, ...], dict[str, list[_File]]]
) -> tuple[str, ...]:
    """The folder holding the most exercise names (then the shallowest); notes the choice."""
    if not found:
        return ()
    ordered = sorted(found, key=lambda d: (-len(found[d]), len(d), d))
    chosen = ordered[0]
    if chosen:
        sub.notes.append(gettext("found the files in {folder}").format(folder=_show_dir(chosen)))
    for other in ordered[1:]:
        text = gettext("ignored the exercise files in {folder}: used {chosen}")
        sub.notes.append(text.format(folder=_show_dir(other), chosen=_show_dir(chosen)))
    return chosen


def _use(sub: Submission, module: str, f: _File) -> None:
    """Read `f` as the source of `module`, or record why it cannot be used."""
    try:
        if f.kind == "symlink":
            raise _Unusable(gettext("symbolic link not allowed"))
        if f.kind != "file":
            raise _Unusable(gettext("not a regular file"))
        sub.sources[module] = _decode(f.read())
    except _Unusable as exc:
        sub.problems[module] = str(exc)


def _pick(sub: Submission, module: str, candidates: list[_File]) -> None:
    """Use the preferred copy of a module (latest Canvas resubmission) and note the rest."""
    if not candidates:
        sub.problems[module] = _missing(module)
        return
    best, *rest = sorted(candidates, key=lambda f: (tuple(-r for r in _rank(f)), f.shown))
    if best.parts[-1] != f"{module}.py":
        text = gettext("used {file} (Canvas resubmission) for {module}.py")
        sub.notes.append(text.format(file=best.shown, module=module))
    for other in rest:
        text = gettext("ignored {file}: {chosen} is the later submission")
        sub.notes.append(text.format(file=other.shown, chosen=best.shown))
    _use(sub, module, best)


def _note_unused(sub: Submission, files: list[_File], chosen: tuple[str, ...]) -> None:
    """Notes for grader-looking files anywhere and other Python files next to the exercises."""
    for f in files:
        name = f.parts[-1]
        if name in GRADER_FILES or name.endswith(".pth"):
            why = gettext("submissions cannot configure the grader")
            sub.notes.append(gettext("ignored {file}: {why}").format(file=f.shown, why=why))
        elif name.endswith(".py") and f.parts[:-1] == chosen and not _module_of(f):
            why = gettext("only the exercise files are used: {files}").format(
                files=", ".join(f"{module}.py" for module in modules()))
            sub.notes.append(gettext("ignored {file}: {why}").format(file=f.shown, why=why))


def _assemble(sid: str, files: list[_File], notes: list[str]) -> Submission:
    """Choose, read and decode the course's modules among a submission's files."""
    sub = Submission(sid, notes=list(notes))
    files = [f for f in files if not any(_ignored_name(p) for p in f.parts)]
    found = _candidates(files)
    chosen = _choose_folder(sub, found)
    for module in modules():
        _pick(sub, module, found.get(chosen, {}).get(module, []))
    _note_unused(sub, files, chosen)
    return sub


# --------------------------------------------------------------------------- zips among the files


def _merge(zipped: Submission, loose: Submission, zip_name: str) -> Submission:
    """Combine a zip and the loose files beside it: a usable file beats an unusable one,
    and between two usable copies the loose file wins."""
    merged = Submission(loose.id, notes=zipped.notes + loose.notes)
    if any(_is_zip_rejection(p) for p in zipped.problems.values()):
        why = next(iter(zipped.problems.values()))
        merged.notes.append(gettext("ignored {file}: {why}").format(file=zip_name, why=why))
    for module in modules():
        if module in loose.sources:
            merged.sources[module] = loose.sources[module]
            if module in zipped.sources:
                text = gettext("used the loose {module}.py rather than the one in {zip}")
                merged.notes.append(text.format(module=module, zip=zip_name))
        elif module in zipped.sources:
            merged.sources[module] = zipped.sources[module]
        elif loose.problems[module] == _missing(module):
            merged.problems[module] = zipped.problems[module]
        else:
            merged.problems[module] = loose.problems[module]
    return merged


def _assemble_with_zips(sid: str, files: list[_File], notes: list[str]) -> Submission:
    """The submission in `files`, opening a zip among them when the loose files lack an
    exercise file: the latest zip (highest Canvas attachment id), else the first by name."""
    zips = [f for f in files if f.is_zip]
    loose = _assemble(sid, [f for f in files if not f.is_zip], notes)
    if zips and not loose.problems:
        why = gettext("the loose files hold every exercise file")
        loose.notes.extend(gettext("ignored {file}: {why}").format(file=z.shown, why=why) for z in zips)
    if not zips or not loose.problems:
        return loose
    best, *rest = sorted(zips, key=lambda f: (-f.order, f.shown))
    assert best.path is not None
    merged = _merge(_load_zip(best.path, sid, follow=False), loose, best.shown)
    merged.notes.extend(gettext("ignored {file}: used {chosen}").format(file=z.shown, chosen=best.shown)
                        for z in rest)
    return merged


# --------------------------------------------------------------------------- Canvas and Moodle


@dataclass(frozen=True)
class _LmsEntry:
    """An entry of SUBMISSIONS named the way a Canvas or Moodle bulk download names it."""

    lms: str  # "canvas" or "moodle"
    sid: str  # Canvas user id or anon_<anonymous id>; Moodle participant id
    path: Path
    name: str  # the student's name as the LMS wrote it ("" when anonymous)
    file: str  # the uploaded file's name; "" for a Moodle folder
    late: bool = False
    order: int = 0  # Canvas attachment id
    plugin: str = "file"  # Moodle submission plugin


def _lms_entry(entry: os.DirEntry[str]) -> _LmsEntry | None:
    """Parse an entry of SUBMISSIONS as a Moodle folder or file or a Canvas file, or None."""
    path = Path(entry.path)
    moodle = _MOODLE_RE.fullmatch(entry.name)
    if entry.is_dir():
        if moodle and not moodle["file"]:
            return _LmsEntry("moodle", moodle["participant"], path, moodle["name"], "",
                             plugin=moodle["plugin"])
        return None
    if not entry.is_file():
        return None
    if moodle and moodle["file"]:
        return _LmsEntry("moodle", moodle["participant"], path, moodle["name"], moodle["file"],
                         plugin=moodle["plugin"])
    canvas = _CANVAS_RE.fullmatch(entry.name)
    if not canvas:
        return None
    sid = f"anon_{canvas['anon']}" if canvas["anon"] else canvas["user"]
    return _LmsEntry("canvas", sid, path, canvas["name"] or "", canvas["file"],
                     late=bool(canvas["late"] or canvas["anon_late"]), order=int(canvas["attachment"]))


def _lms_files(group: list[_LmsEntry]) -> tuple[list[_File], list[str]]:
    """The uploaded files of one student's entries, and notes on what else there was."""
    files: list[_File] = []
    notes: list[str] = []
    names = [e.file for e in group]
    for e in group:
        if e.plugin != "file":
            text = gettext("ignored the Moodle {plugin} submission: only uploaded files are graded")
            notes.append(text.format(plugin=e.plugin))
        elif not e.file:  # a Moodle folder
            try:
                found, walked = _walk_folder(e.path)
            except OSError as exc:
                text = gettext("could not list {folder}: {why}")
                notes.append(text.format(folder=printable_name(e.path.name) + "/", why=_reason(exc)))
                continue
            files += found
            notes += walked
        else:
            attachment = gettext("{file} (Canvas attachment {number})").format(file=e.file, number=e.order)
            label = e.file if names.count(e.file) == 1 else attachment
            read = partial(_read_disk_file, e.path)
            files.append(_File((e.file,), "file", read, order=e.order, label=label, path=e.path))
    return files, notes


def _canvas_meta(group: list[_LmsEntry]) -> dict[str, str]:
    """What a Canvas download says of a student besides their files."""
    latest = max(group, key=lambda e: e.order)
    anonymous = latest.sid.startswith("anon_")
    meta = {"lms": "canvas", "name": printable_name(latest.name), "user_id": "" if anonymous else latest.sid}
    if anonymous:
        meta["anonymous_id"] = latest.sid.removeprefix("anon_")
    meta["attachment_id"] = str(latest.order)
    meta["late"] = "true" if any(e.late for e in group) else "false"
    return meta


def _load_lms(group: list[_LmsEntry]) -> Submission:
    """One student's submission from a Canvas or Moodle bulk download."""
    first = group[0]
    sub = _assemble_with_zips(first.sid, *_lms_files(group))
    if first.lms == "canvas":
        sub.meta = _canvas_meta(group)
    else:
        sub.meta = {"lms": "moodle", "name": printable_name(first.name), "user_id": first.sid,
                    "participant_id": first.sid}
    return sub


# --------------------------------------------------------------------------- public API


def _list_root(root: Path) -> list[os.DirEntry[str]]:
    """Entries of SUBMISSIONS, sorted by name; IntakeError if it cannot be read."""
    shown = _one_line(repr(str(root)))
    try:
        st = root.stat()
    except FileNotFoundError:
        text = gettext("submissions folder {folder} does not exist")
        raise IntakeError(text.format(folder=shown)) from None
    except OSError as exc:
        text = gettext("cannot read submissions folder {folder}: {why}")
        raise IntakeError(text.format(folder=shown, why=_reason(exc))) from None
    if not stat.S_ISDIR(st.st_mode):
        raise IntakeError(gettext("submissions path {folder} is not a folder").format(folder=shown))
    try:
        with os.scandir(root) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as exc:
        text = gettext("cannot read submissions folder {folder}: {why}")
        raise IntakeError(text.format(folder=shown, why=_reason(exc))) from None


def _id_key(sid: str) -> str:
    """Ids one file system may store as the same name: case and Unicode normalization ignored."""
    return unicodedata.normalize("NFC", sid).casefold()


def _unique_ids(subs: list[Submission]) -> None:
    """Give an id already taken (`alice/` and `alice.zip`, `Alice/`, or one of OUT_NAMES)
    a `-2`, `-3`... suffix, noted; the first entry by name keeps its id."""
    taken = {_id_key(s.id) for s in subs} | OUT_NAMES
    seen = set(OUT_NAMES)
    for sub in subs:
        key = _id_key(sub.id)
        if key in seen:
            n = 2
            while _id_key(f"{sub.id}-{n}") in taken:
                n += 1
            new = f"{sub.id}-{n}"
            text = (gettext("id {id} is a file the grader writes in OUT: renamed {new}") if key in OUT_NAMES
                    else gettext("id {id} is already taken: renamed {new}"))
            sub.notes.append(text.format(id=repr(sub.id), new=repr(new)))
            sub.id, key = new, _id_key(new)
            taken.add(key)
        seen.add(key)


def _with_notes(sub: Submission, notes: list[str]) -> Submission:
    sub.notes[:0] = notes
    return sub


def discover(root: Path) -> list[Submission]:
    """Every submission in the folder `root`, sorted by id.

    Folders and `.zip` files are one submission each, under an id made from their name by
    `submission_id`; Canvas and Moodle bulk-download entries are grouped by student, under
    the student's LMS id. Ids are unique and none is one of OUT_NAMES. Hidden entries,
    stray files and special files are ignored.
    Raises IntakeError only if `root` is missing, not a folder or unreadable.
    """
    subs: list[Submission] = []
    lms: dict[tuple[str, str], list[_LmsEntry]] = defaultdict(list)
    for entry in _list_root(Path(root)):
        if _ignored_name(entry.name):
            continue
        path, found = Path(entry.path), _lms_entry(entry)
        if found:
            lms[(found.lms, found.sid)].append(found)
        elif entry.is_dir():
            sid, notes = _id_for(entry.name)
            subs.append(_with_notes(_load_folder(path, sid), notes))
        elif entry.is_file() and entry.name.lower().endswith(".zip"):
            sid, notes = _id_for(_zip_stem(entry.name))
            subs.append(_with_notes(_load_zip(path, sid), notes))
    subs.extend(_load_lms(group) for _, group in sorted(lms.items()))
    _unique_ids(subs)
    return sorted(subs, key=lambda s: s.id)


def load_one(path: Path, submission_id: str | None = None) -> Submission:
    """One submission: a folder, or a zip file (any other regular file is read as a zip).

    The id defaults to `submission_id` of the name without `.zip`. Raises IntakeError only
    if `path` does not exist or is neither a folder nor a regular file.
    """
    path = Path(path)
    shown = _one_line(repr(str(path)))
    try:
        st = path.stat()
    except FileNotFoundError:
        raise IntakeError(gettext("submission {path} does not exist").format(path=shown)) from None
    except OSError as exc:
        text = gettext("cannot read submission {path}: {why}")
        raise IntakeError(text.format(path=shown, why=_reason(exc))) from None
    sid, notes = (submission_id, []) if submission_id else _id_for(_zip_stem(path.name))
    if stat.S_ISDIR(st.st_mode):
        return _with_notes(_load_folder(path, sid), notes)
    if stat.S_ISREG(st.st_mode):
        return _with_notes(_load_zip(path, sid), notes)
    raise IntakeError(gettext("submission {path} is neither a folder nor a regular file").format(path=shown))
