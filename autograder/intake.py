"""Intake: turn a folder of submissions into in-memory source texts.

Each entry of SUBMISSIONS is one submission: a folder, a `.zip`, or (Canvas bulk
download) loose files named `<name>[_late]_<user id>_<submission id>_<file>`,
grouped by user id. Nothing here runs student code and nothing is extracted to
disk: files are read, capped at `MAX_FILE_BYTES`, and kept as text.

Only instructor-level problems raise `IntakeError`. Everything a student got
wrong becomes a per-module entry in `Submission.problems` (which costs the
functions of that module and nothing else) or a line in `Submission.notes`.
"""

from __future__ import annotations

import codecs
import errno
import os
import re
import stat
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO

from autograder.spec import MODULES

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

_CHUNK = 64 * 1024
_DIGITS = "[0-9]+"
_MODULE_RE = re.compile(
    rf"(?P<module>{'|'.join(map(re.escape, MODULES))})(?:-(?P<n>{_DIGITS}))?\.py"
)
_CANVAS_RE = re.compile(
    rf"(?P<name>[A-Za-z0-9]+)(?P<late>_late)?_(?P<user>{_DIGITS})_(?P<sub>{_DIGITS})_(?P<file>.+)",
    re.DOTALL,
)
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


class _Unusable(Exception):
    """A file cannot be used; the message is the one-line reason."""


@dataclass(frozen=True)
class _File:
    """A file of a submission, not read yet."""

    parts: tuple[str, ...]  # path inside the submission
    kind: str  # "file", "symlink" or "special"
    read: Callable[[], bytes]  # at most MAX_FILE_BYTES + 1 bytes; raises _Unusable
    order: int = 0  # Canvas submission id: a higher one is a later upload
    label: str = ""  # name shown in notes, if not the path

    @property
    def shown(self) -> str:
        """How the file is named in notes."""
        return self.label or "/".join(self.parts)


# --------------------------------------------------------------------------- helpers


def _one_line(text: str) -> str:
    """Collapse whitespace so a message stays on one line."""
    return " ".join(str(text).split())


def _reason(exc: BaseException) -> str:
    """A short, one-line reason for an exception."""
    if isinstance(exc, OSError) and exc.strerror:
        return _one_line(exc.strerror)
    return _one_line(str(exc) or type(exc).__name__)


def _ignored_name(name: str) -> bool:
    """Dotfiles and macOS resource folders are never looked at."""
    return name.startswith(".") or name == "__MACOSX"


def _zip_stem(name: str) -> str:
    """Entry name without a trailing `.zip` (any case)."""
    return name[:-4] if name.lower().endswith(".zip") else name


def _missing(module: str) -> str:
    return f"missing: no {module}.py in the submission"


def _rejected(sid: str, reason: str) -> Submission:
    """A submission none of whose modules can be used, for one reason."""
    return Submission(sid, problems={m: reason for m in MODULES})


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
    """Bytes of a module file as text, or _Unusable with the reason."""
    if len(data) > MAX_FILE_BYTES:
        raise _Unusable("larger than 1 MB")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _Unusable("not UTF-8 text")
    if b"\0" in data:
        raise _Unusable("binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unusable("not UTF-8 text") from None


# --------------------------------------------------------------------------- disk


def _open_regular(path: Path, *, follow: bool) -> int:
    """Open a regular file without blocking (FIFOs) and, unless `follow`, not via a symlink."""
    flags = _OPEN_FLAGS if follow else _OPEN_FLAGS | _NO_FOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise _Unusable("symbolic link not allowed") from None
        raise _Unusable(f"unreadable: {_reason(exc)}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _Unusable("not a regular file")
    return fd


def _read_disk_file(path: Path) -> bytes:
    """Read a file of a submission folder, capped, never following a symlink."""
    fd = _open_regular(path, follow=False)
    try:
        if os.fstat(fd).st_size > MAX_FILE_BYTES:
            raise _Unusable("larger than 1 MB")
        return _read_capped(partial(os.read, fd))
    except OSError as exc:
        raise _Unusable(f"unreadable: {_reason(exc)}") from None
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
    return _File(parts, kind, partial(_read_disk_file, Path(entry.path)))


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
            notes.append(f"could not list {'/'.join(prefix)}/: {_reason(exc)}")
            continue
        for entry in entries:
            if _ignored_name(entry.name):
                continue
            listed += 1
            if listed > MAX_LISTED:
                notes.append(f"looked at the first {MAX_LISTED} entries only")
                return files, notes
            parts = (*prefix, entry.name)
            if entry.is_dir(follow_symlinks=False):
                if len(parts) < MAX_DEPTH:
                    pending.append((parts, Path(entry.path)))
            elif entry.is_symlink() and entry.is_dir():
                notes.append(f"ignored {'/'.join(parts)}/: symbolic link not allowed")
            else:
                files.append(_entry_file(entry, parts))
    return files, notes


def _load_folder(path: Path, sid: str) -> Submission:
    """A submission that is a folder."""
    try:
        files, notes = _walk_folder(path)
    except OSError as exc:
        return _rejected(sid, f"unreadable: {_reason(exc)}")
    return _assemble(sid, files, notes)


# --------------------------------------------------------------------------- zip


def _zip_parts(name: str) -> tuple[str, ...]:
    """Path components of a zip member name (either slash)."""
    return tuple(p for p in re.split(r"[/\\]", name) if p not in ("", "."))


def _zip_entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why one entry makes the whole zip unacceptable, or None."""
    name = info.filename
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return f"absolute path {name!r}"
    if ".." in _zip_parts(name):
        return f"path {name!r} leaves the zip"
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"symbolic link {name!r}"
    if info.flag_bits & 0x1:
        return f"encrypted entry {name!r}"
    return None


def _zip_problem(infos: list[zipfile.ZipInfo]) -> str | None:
    """Why a zip is rejected before anything in it is read, or None."""
    if len(infos) > MAX_ZIP_ENTRIES:
        return f"more than {MAX_ZIP_ENTRIES} entries"
    if sum(i.file_size for i in infos) > MAX_ZIP_TOTAL:
        return "declared uncompressed size above 50 MB"
    for info in infos:
        problem = _zip_entry_problem(info)
        if problem:
            return _one_line(problem)
    return None


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read one zip member through a capped stream: header sizes may lie."""
    if info.compress_type not in _SAFE_METHODS:
        raise _Unusable("unreadable: unsupported zip compression method")
    if info.file_size > MAX_FILE_BYTES:
        raise _Unusable("larger than 1 MB")
    try:
        with zf.open(info) as fh:
            return _read_capped(fh.read)
    except Exception as exc:  # zipfile raises many types on corrupt data
        raise _Unusable(f"unreadable: corrupt zip member ({_reason(exc)})") from None


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
        return _rejected(sid, f"zip rejected: corrupt or not a zip file ({_reason(exc)})")
    with zf:
        problem = _zip_problem(zf.infolist())
        if problem:
            return _rejected(sid, f"zip rejected: {problem}")
        return _assemble(sid, _zip_files(zf), [])


def _load_zip(path: Path, sid: str) -> Submission:
    """A submission that is a zip file; never raises."""
    try:
        fd = _open_regular(path, follow=True)
    except _Unusable as exc:
        return _rejected(sid, f"zip rejected: {exc}")
    with os.fdopen(fd, "rb") as fh:
        if os.fstat(fd).st_size > MAX_ZIP_FILE:
            return _rejected(sid, "zip rejected: file larger than 64 MB")
        return _read_zip(fh, sid)


# --------------------------------------------------------------------------- assembly


def _base(files: list[_File]) -> tuple[str, ...]:
    """The submission's top folder, or its single top-level folder if it holds everything."""
    tops = {f.parts[0] for f in files}
    if len(tops) == 1 and all(len(f.parts) > 1 for f in files):
        return (tops.pop(),)
    return ()


def _module_of(f: _File) -> tuple[str, int] | None:
    """(module, Canvas resubmission number) if `f` is named like an exercise file."""
    m = _MODULE_RE.fullmatch(f.parts[-1])
    return (m["module"], int(m["n"] or 0)) if m else None


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
    """Higher is preferred: Canvas resubmission number, then Canvas submission id."""
    named = _module_of(f)
    return (named[1] if named else 0, f.order)


def _show_dir(folder: tuple[str, ...]) -> str:
    return "/".join(folder) + "/" if folder else "the top folder"


def _choose_folder(
    sub: Submission, found: dict[tuple[str, ...], dict[str, list[_File]]]
) -> tuple[str, ...]:
    """The folder holding the most exercise names (then the shallowest); notes the choice."""
    if not found:
        return ()
    ordered = sorted(found, key=lambda d: (-len(found[d]), len(d), d))
    chosen = ordered[0]
    if chosen:
        sub.notes.append(f"found the files in {_show_dir(chosen)}")
    for other in ordered[1:]:
        sub.notes.append(
            f"ignored the exercise files in {_show_dir(other)}: used {_show_dir(chosen)}"
        )
    return chosen


def _use(sub: Submission, module: str, f: _File) -> None:
    """Read `f` as the source of `module`, or record why it cannot be used."""
    try:
        if f.kind == "symlink":
            raise _Unusable("symbolic link not allowed")
        if f.kind != "file":
            raise _Unusable("not a regular file")
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
        sub.notes.append(f"used {best.shown} (Canvas resubmission) for {module}.py")
    for other in rest:
        sub.notes.append(f"ignored {other.shown}: {best.shown} is the later submission")
    _use(sub, module, best)


def _note_unused(sub: Submission, files: list[_File], chosen: tuple[str, ...]) -> None:
    """Notes for grader-looking files anywhere and other Python files next to the exercises."""
    for f in files:
        name = f.parts[-1]
        if name in GRADER_FILES or name.endswith(".pth"):
            sub.notes.append(f"ignored {f.shown}: submissions cannot configure the grader")
        elif name.endswith(".py") and f.parts[:-1] == chosen and not _module_of(f):
            sub.notes.append(f"ignored {f.shown}: only the five exercise files are used")


def _assemble(sid: str, files: list[_File], notes: list[str]) -> Submission:
    """Choose, read and decode the five modules among a submission's files."""
    sub = Submission(sid, notes=list(notes))
    files = [f for f in files if not any(_ignored_name(p) for p in f.parts)]
    found = _candidates(files)
    chosen = _choose_folder(sub, found)
    for module in MODULES:
        _pick(sub, module, found.get(chosen, {}).get(module, []))
    _note_unused(sub, files, chosen)
    return sub


# --------------------------------------------------------------------------- Canvas


@dataclass(frozen=True)
class _CanvasFile:
    """A loose file of a Canvas bulk download."""

    path: Path
    name: str
    late: bool
    user_id: str
    submission_id: int
    original: str


def _canvas_file(path: Path) -> _CanvasFile | None:
    """Parse a Canvas bulk-download file name, or None if it is not one."""
    m = _CANVAS_RE.fullmatch(path.name)
    if not m:
        return None
    return _CanvasFile(path, m["name"], bool(m["late"]), m["user"], int(m["sub"]), m["file"])


def _canvas_loose(user_id: str, loose: list[_CanvasFile]) -> Submission:
    """Assemble a student's loose Canvas files (all in one flat folder)."""
    counts: dict[str, int] = defaultdict(int)
    for c in loose:
        counts[c.original] += 1
    files = [
        _File(
            (c.original,),
            "file",
            partial(_read_disk_file, c.path),
            order=c.submission_id,
            label=c.original
            if counts[c.original] == 1
            else f"{c.original} (Canvas submission {c.submission_id})",
        )
        for c in loose
    ]
    return _assemble(user_id, files, [])


def _merge(zipped: Submission, loose: Submission, zip_name: str) -> Submission:
    """Combine a Canvas zip and loose files: a usable file beats an unusable one,
    and between two usable copies the loose file wins."""
    merged = Submission(loose.id, notes=zipped.notes + loose.notes)
    if any(p.startswith("zip rejected") for p in zipped.problems.values()):
        merged.notes.append(f"ignored {zip_name}: {next(iter(zipped.problems.values()))}")
    for module in MODULES:
        if module in loose.sources:
            merged.sources[module] = loose.sources[module]
            if module in zipped.sources:
                merged.notes.append(f"used the loose {module}.py rather than the one in {zip_name}")
        elif module in zipped.sources:
            merged.sources[module] = zipped.sources[module]
        elif loose.problems[module].startswith("missing"):
            merged.problems[module] = zipped.problems[module]
        else:
            merged.problems[module] = loose.problems[module]
    return merged


def _load_canvas(user_id: str, group: list[_CanvasFile]) -> Submission:
    """One student's files from a Canvas bulk download, grouped by user id."""
    zips = sorted(
        (c for c in group if c.original.lower().endswith(".zip")),
        key=lambda c: (-c.submission_id, c.path.name),
    )
    loose = [c for c in group if c not in zips]
    sub = _canvas_loose(user_id, loose)
    if zips:
        sub = _merge(_load_zip(zips[0].path, user_id), sub, zips[0].original)
        sub.notes.extend(f"ignored {c.path.name}: a later zip was used" for c in zips[1:])
    latest = max(group, key=lambda c: c.submission_id)
    sub.meta = {
        "lms": "canvas",
        "name": latest.name,
        "user_id": user_id,
        "submission_id": str(latest.submission_id),
        "late": "true" if any(c.late for c in group) else "false",
    }
    return sub


# --------------------------------------------------------------------------- public API


def _list_root(root: Path) -> list[os.DirEntry[str]]:
    """Entries of SUBMISSIONS, sorted by name; IntakeError if it cannot be read."""
    shown = _one_line(repr(str(root)))
    try:
        st = root.stat()
    except FileNotFoundError:
        raise IntakeError(f"submissions folder {shown} does not exist") from None
    except OSError as exc:
        raise IntakeError(f"cannot read submissions folder {shown}: {_reason(exc)}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise IntakeError(f"submissions path {shown} is not a folder")
    try:
        with os.scandir(root) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise IntakeError(f"cannot read submissions folder {shown}: {_reason(exc)}") from None


def _unique_ids(subs: list[Submission]) -> None:
    """Give colliding ids (e.g. `alice/` and `alice.zip`) a `-2`, `-3`... suffix."""
    taken = {s.id for s in subs}
    seen: set[str] = set()
    for sub in subs:
        if sub.id in seen:
            n = 2
            while f"{sub.id}-{n}" in taken:
                n += 1
            new = f"{sub.id}-{n}"
            sub.notes.append(f"id {sub.id!r} was already used by another entry: renamed {new!r}")
            sub.id = new
            taken.add(new)
        seen.add(sub.id)


def discover(root: Path) -> list[Submission]:
    """Every submission in the folder `root`, sorted by id.

    Folders and `.zip` files are one submission each; Canvas bulk-download files are
    grouped by user id. Hidden entries, stray files and special files are ignored.
    Raises IntakeError only if `root` is missing, not a folder or unreadable.
    """
    subs: list[Submission] = []
    canvas: dict[str, list[_CanvasFile]] = defaultdict(list)
    for entry in _list_root(Path(root)):
        if _ignored_name(entry.name):
            continue
        path = Path(entry.path)
        if entry.is_dir():
            subs.append(_load_folder(path, entry.name))
        elif entry.is_file():
            found = _canvas_file(path)
            if found:
                canvas[found.user_id].append(found)
            elif entry.name.lower().endswith(".zip"):
                subs.append(_load_zip(path, _zip_stem(entry.name)))
    subs.extend(_load_canvas(user, group) for user, group in sorted(canvas.items()))
    _unique_ids(subs)
    return sorted(subs, key=lambda s: s.id)


def load_one(path: Path, submission_id: str | None = None) -> Submission:
    """One submission: a folder, or a zip file (any other regular file is read as a zip).

    The id defaults to the name without `.zip`. Raises IntakeError only if `path`
    does not exist or is neither a folder nor a regular file.
    """
    path = Path(path)
    shown = _one_line(repr(str(path)))
    try:
        st = path.stat()
    except FileNotFoundError:
        raise IntakeError(f"submission {shown} does not exist") from None
    except OSError as exc:
        raise IntakeError(f"cannot read submission {shown}: {_reason(exc)}") from None
    sid = submission_id or _zip_stem(path.name)
    if stat.S_ISDIR(st.st_mode):
        return _load_folder(path, sid)
    if stat.S_ISREG(st.st_mode):
        return _load_zip(path, sid)
    raise IntakeError(f"submission {shown} is neither a folder nor a regular file")
