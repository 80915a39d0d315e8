"""Tests of autograder.intake: folders, zips, Canvas downloads and hostile input."""

from __future__ import annotations

import codecs
import io
import os
import signal
import stat
import struct
import tokenize
import tracemalloc
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import MODULES, losers, reference_copy
from lms_naming import (
    MOODLE_LAYOUTS,
    Student,
    canvas_user_name,
    moodle_name,
    roster,
    ruby_word_only,
    write_canvas_download,
    write_moodle_download,
    zipped,
)

from autograder.intake import (
    MAX_FILE_BYTES,
    OUT_NAMES,
    IntakeError,
    Submission,
    discover,
    load_one,
    modules,
)

CD_SIGNATURE = b"PK\x01\x02"


def source(module: str, tag: str = "") -> str:
    """A recognisable source text for a module."""
    return f"# {module} {tag}\nVALUE = 1\n"


def all_sources(tag: str = "") -> dict[str, str]:
    return {m: source(m, tag) for m in MODULES}


def write_folder(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Create files (relative paths) under folder."""
    for rel, content in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        path.write_bytes(data)
    return folder


def module_files(prefix: str = "", tag: str = "") -> dict[str, str | bytes]:
    return {f"{prefix}{m}.py": text for m, text in all_sources(tag).items()}


def write_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path


def patch_central(path: Path, name: str, offset: int, fmt: str, value: int) -> None:
    """Overwrite one field of a member's central directory header (header sizes that lie)."""
    data = bytearray(path.read_bytes())
    start = data.find(CD_SIGNATURE)
    while start != -1:
        name_len = struct.unpack_from("<H", data, start + 28)[0]
        if bytes(data[start + 46 : start + 46 + name_len]) == name.encode():
            struct.pack_into(fmt, data, start + offset, value)
            path.write_bytes(bytes(data))
            return
        start = data.find(CD_SIGNATURE, start + 1)
    raise AssertionError(f"{name} not in central directory")


def assert_complete(sub: Submission, tag: str = "") -> None:
    assert sub.problems == {}
    assert sub.sources == all_sources(tag)


def assert_rejected(sub: Submission, fragment: str) -> None:
    assert sub.sources == {}
    assert set(sub.problems) == set(MODULES)
    for reason in sub.problems.values():
        assert reason.startswith("zip rejected: ")
        assert fragment in reason
        assert "\n" not in reason


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fail instead of hanging if something blocks (a FIFO being opened)."""

    def fail(*_: object) -> None:
        raise TimeoutError("intake blocked")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------- folders


def test_folder_flat(tmp_path: Path) -> None:
    sub = load_one(write_folder(tmp_path / "alice", module_files()))
    assert sub.id == "alice"
    assert_complete(sub)
    assert sub.meta == {}
    assert sub.notes == []


def test_folder_one_level_deeper(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "bob", module_files("exercises/"))
    write_folder(folder, {"README.md": "hi"})
    sub = load_one(folder)
    assert_complete(sub)
    assert "found the files in exercises/" in sub.notes


def test_folder_prefers_directory_with_most_modules(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "carol", {"linear.py": source("linear", "old")})
    write_folder(folder, module_files("work/", "new"))
    sub = load_one(folder)
    assert_complete(sub, "new")
    assert any("ignored the exercise files in the top folder" in n for n in sub.notes)


def test_folder_too_deep_is_missing(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "dan", module_files("a/b/c/"))
    write_folder(folder, {"x.txt": "stray"})
    sub = load_one(folder)
    assert sub.sources == {}
    assert sub.problems["linear"] == "missing: no linear.py in the submission"


def test_missing_module(tmp_path: Path) -> None:
    files = module_files()
    del files["xor.py"]
    sub = load_one(write_folder(tmp_path / "eve", files))
    assert set(sub.sources) == set(MODULES) - {"xor"}
    assert sub.problems == {"xor": "missing: no xor.py in the submission"}


def test_unusable_files(tmp_path: Path) -> None:
    files = module_files()
    files["linear.py"] = "x = 'caf\xe9'\n".encode("latin-1")
    files["activations.py"] = b"\x7fELF\x00\x00\x01"
    files["losses.py"] = b"#" * (MAX_FILE_BYTES + 1)
    files["network.py"] = "\ufeffVALUE = 'é'\n".encode()  # BOM is stripped
    files["xor.py"] = "VALUE = 1\n".encode("utf-16")
    sub = load_one(write_folder(tmp_path / "frank", files))
    assert sub.problems == {
        "linear": "not UTF-8 text",
        "activations": "binary file",
        "losses": "larger than 1 MB",
        "xor": "not UTF-8 text (UTF-16: Python reads only UTF-8 or a declared encoding)",
    }
    assert sub.sources == {"network": "VALUE = 'é'\n"}


def test_exactly_one_mb_is_fine(tmp_path: Path) -> None:
    files = module_files()
    files["linear.py"] = b"#" * MAX_FILE_BYTES
    sub = load_one(write_folder(tmp_path / "gina", files))
    assert sub.problems == {}
    assert len(sub.sources["linear"]) == MAX_FILE_BYTES


def test_symlinked_module_and_folder(tmp_path: Path) -> None:
    outside = write_folder(tmp_path / "outside", module_files())
    folder = write_folder(tmp_path / "subs" / "hank", module_files())
    (folder / "linear.py").unlink()
    (folder / "linear.py").symlink_to(outside / "linear.py")
    (folder / "linked").symlink_to(outside, target_is_directory=True)
    sub = load_one(folder)
    assert sub.problems == {"linear": "symbolic link not allowed"}
    assert "ignored linked/: symbolic link not allowed" in sub.notes


def test_fifo_in_folder_is_never_opened(tmp_path: Path, alarm: None) -> None:
    files = module_files()
    del files["linear.py"]
    folder = write_folder(tmp_path / "ivan", files)
    os.mkfifo(folder / "linear.py")
    os.mkfifo(folder / "conftest.py")
    sub = load_one(folder)
    assert sub.problems == {"linear": "not a regular file"}
    assert len(sub.sources) == 4


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "jo", module_files())
    (folder / "linear.py").chmod(0)
    sub = load_one(folder)
    assert sub.problems["linear"].startswith("unreadable: ")


def test_grader_looking_files_are_noted_not_used(tmp_path: Path) -> None:
    extra = {
        "conftest.py": "import os",
        "pytest.ini": "[pytest]",
        "evil.pth": "import os",
        "sitecustomize.py": "x",
        "results.json": "{}",
        "helpers.py": "y",
        ".hidden.py": "z",
    }
    sub = load_one(write_folder(tmp_path / "kim", {**module_files(), **extra}))
    assert_complete(sub)
    assert "ignored conftest.py: submissions cannot configure the grader" in sub.notes
    for name in ("pytest.ini", "evil.pth", "sitecustomize.py", "results.json"):
        assert any(n.startswith(f"ignored {name}:") for n in sub.notes)
    exercises = ", ".join(f"{module}.py" for module in modules())
    assert f"ignored helpers.py: only the exercise files are used: {exercises}" in sub.notes
    assert not any(".hidden" in n for n in sub.notes)


def test_canvas_style_names_inside_a_folder(tmp_path: Path) -> None:
    files = module_files()
    files["linear-1.py"] = source("linear", "v1")
    files["linear-2.py"] = source("linear", "v2")
    sub = load_one(write_folder(tmp_path / "lee", files))
    assert sub.sources["linear"] == source("linear", "v2")
    assert "used linear-2.py (Canvas resubmission) for linear.py" in sub.notes


# --------------------------------------------------------------------------- zips


def test_zip_flat(tmp_path: Path) -> None:
    sub = load_one(write_zip(tmp_path / "mia.zip", module_files()))
    assert sub.id == "mia"
    assert_complete(sub)


def test_zip_nested_with_top_folder_and_macosx(tmp_path: Path) -> None:
    members = module_files("mia/exercises/")
    members["__MACOSX/mia/exercises/._linear.py"] = b"\x00\x05\x16\x07"
    members["mia/.DS_Store"] = b"\x00"
    members["mia/notes.txt"] = "hello"
    sub = load_one(write_zip(tmp_path / "ned.zip", members), "custom")
    assert sub.id == "custom"
    assert_complete(sub)
    assert "found the files in mia/exercises/" in sub.notes


def test_zip_single_top_folder(tmp_path: Path) -> None:
    sub = load_one(write_zip(tmp_path / "oli.zip", module_files("oli/")))
    assert_complete(sub)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("../evil.py", "leaves the zip"), ("/etc/evil.py", "absolute path"), ("a/../../x", "leaves")],
)
def test_zip_bad_paths(tmp_path: Path, name: str, fragment: str) -> None:
    path = write_zip(tmp_path / "pat.zip", {**module_files(), name: "boom"})
    assert_rejected(load_one(path), fragment)


def test_zip_symlink_entry(tmp_path: Path) -> None:
    path = tmp_path / "quin.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in module_files().items():
            zf.writestr(name, text)
        link = zipfile.ZipInfo("exercises")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc")
    assert_rejected(load_one(path), "symbolic link")


def test_zip_too_many_entries(tmp_path: Path) -> None:
    members: dict[str, str | bytes] = {f"junk/{i}.txt": "" for i in range(1001)}
    path = write_zip(tmp_path / "rae.zip", {**module_files(), **members})
    assert_rejected(load_one(path), "more than 1000 entries")


def test_zip_declared_total_too_large(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "sam.zip", module_files())
    patch_central(path, "linear.py", 24, "<I", 60 * 1024 * 1024)
    assert_rejected(load_one(path), "50 MB")


def test_zip_encrypted_entry(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "tia.zip", module_files())
    patch_central(path, "xor.py", 8, "<H", 0x1)
    assert_rejected(load_one(path), "encrypted")


@pytest.mark.parametrize("content", [b"not a zip at all", b""])
def test_corrupt_zip(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "uma.zip"
    path.write_bytes(content)
    assert_rejected(load_one(path), "corrupt or not a zip file")


def test_truncated_zip(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "vic.zip", module_files())
    path.write_bytes(path.read_bytes()[:-30])
    assert_rejected(load_one(path), "corrupt")


def test_zip_bomb_member(tmp_path: Path) -> None:
    members = {**module_files(), "linear.py": b"\0" * (20 * 1024 * 1024)}
    sub = load_one(write_zip(tmp_path / "wes.zip", members))
    assert sub.problems == {"linear": "larger than 1 MB"}
    assert len(sub.sources) == 4


@pytest.mark.parametrize("declared", [100, 900_000])
def test_zip_bomb_with_lying_header(tmp_path: Path, declared: int) -> None:
    members = {**module_files(), "linear.py": b"#" * (20 * 1024 * 1024)}
    path = write_zip(tmp_path / "xia.zip", members)
    patch_central(path, "linear.py", 24, "<I", declared)
    tracemalloc.start()
    try:
        sub = load_one(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_FILE_BYTES
    assert set(sub.problems) == {"linear"}
    assert sub.problems["linear"].startswith("unreadable: corrupt zip member")
    assert len(sub.sources) == 4


def test_zip_member_not_utf8(tmp_path: Path) -> None:
    members = {**module_files(), "losses.py": b"\xff\xfe\xfa"}
    sub = load_one(write_zip(tmp_path / "yan.zip", members))
    assert sub.problems["losses"].startswith("not UTF-8 text (UTF-16")  # it starts with a UTF-16 BOM


def test_fifo_named_zip_is_not_opened(tmp_path: Path, alarm: None) -> None:
    root = tmp_path / "subs"
    root.mkdir()
    os.mkfifo(root / "zed.zip")
    assert discover(root) == []
    with pytest.raises(IntakeError, match="neither a folder nor a regular file"):
        load_one(root / "zed.zip")


# --------------------------------------------------------------------------- Canvas


def test_canvas_loose_files(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write_folder(root, {f"smithjohn_12345_67890_{m}.py": t for m, t in all_sources().items()})
    doe = {f"doejane_late_222_333_{m}.py": t for m, t in all_sources("jane").items()}
    doe["doejane_late_222_333_linear.py"] = source("linear", "first")
    doe["doejane_late_222_333_linear-1.py"] = source("linear", "jane")
    doe["doejane_late_222_333_conftest.py"] = "import os"
    write_folder(root, doe)
    smith, jane = discover(root)  # sorted by id, as strings
    assert smith.id == "12345"
    assert_complete(smith)
    assert smith.meta == {
        "lms": "canvas",
        "name": "smithjohn",
        "user_id": "12345",
        "attachment_id": "67890",
        "late": "false",
    }
    assert jane.id == "222"
    assert_complete(jane, "jane")
    assert jane.meta["late"] == "true"
    assert jane.meta["name"] == "doejane"
    assert "used linear-1.py (Canvas resubmission) for linear.py" in jane.notes
    assert "ignored conftest.py: submissions cannot configure the grader" in jane.notes


UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize("prefix, later", [
    ("amy_7", {"amy_7_11_linear-1.py": "older id", "amy_7_12_linear-1.py": "newest"}),
    ("kimlee_LATE_31", {"kimlee_LATE_31_11_linear-2.py": "older", "kimlee_LATE_31_12_linear-1.py": "newest"}),
    ("kimlee_31", {f"kimlee_31_12_linear-{UUID}.py": "newest"}),  # Canvas's suffix after -7
], ids=["resubmitted", "higher-suffix-uploaded-first", "uuid-suffix"])
def test_canvas_latest_upload_wins(tmp_path: Path, prefix: str, later: dict[str, str]) -> None:
    """The later upload (higher attachment id) is used, whatever Canvas renamed it to."""
    root = tmp_path / "subs"
    files = {f"{prefix}_10_{m}.py": t for m, t in all_sources().items()}
    write_folder(root, files | {name: source("linear", tag) for name, tag in later.items()})
    [sub] = discover(root)
    assert sub.sources["linear"] == source("linear", "newest")
    assert sub.meta["attachment_id"] == "12"
    assert sub.meta["late"] == ("true" if "LATE" in prefix else "false")


def test_canvas_zip(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    root.mkdir()
    write_zip(root / "bob_777_888_hw.zip", module_files("hw/"))
    [sub] = discover(root)
    assert sub.id == "777"
    assert_complete(sub)
    assert sub.meta["lms"] == "canvas"


def rejected_zip_with_loose_file(tmp_path: Path):
    """The one submission of a Canvas download holding a zip that is refused (a path leaving
    the folder) and a loose linear.py: the loose file is kept, every other module is a problem."""
    root = tmp_path / "subs"
    root.mkdir()
    write_zip(root / "cat_5_6_hw.zip", {**module_files(), "../evil.py": "x"})
    write_folder(root, {"cat_5_7_linear.py": source("linear")})
    [sub] = discover(root)
    assert sub.sources == {"linear": source("linear")}
    assert set(sub.problems) == set(MODULES) - {"linear"}
    return sub


def test_canvas_rejected_zip_with_loose_file(tmp_path: Path) -> None:
    sub = rejected_zip_with_loose_file(tmp_path)
    assert all(p.startswith("zip rejected: ") for p in sub.problems.values())
    assert any(n.startswith("ignored hw.zip: zip rejected") for n in sub.notes)


# --------------------------------------------------------------------------- discover


def test_discover_mixed_root(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write_folder(root / "alice", module_files())
    write_zip(root / "bob.zip", module_files("bob/"))
    write_zip(root / "alice.zip", module_files())
    write_folder(root, {"README.txt": "stray", ".DS_Store": b"\0", "linear.py": "stray"})
    write_folder(root / ".git", module_files())
    write_folder(root / "__MACOSX", module_files())
    write_folder(root / "dan", {"notes.txt": "nothing"})
    subs = discover(root)
    assert [s.id for s in subs] == ["alice", "alice-2", "bob", "dan"]
    for sub in subs[:3]:
        assert_complete(sub)
    assert any("renamed 'alice-2'" in n for n in subs[1].notes)
    assert len(subs[3].problems) == len(MODULES)


def test_discover_empty_root(tmp_path: Path) -> None:
    assert discover(tmp_path) == []


def test_root_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(IntakeError) as info:
        discover(missing)
    message = str(info.value)
    assert str(missing) in message and "does not exist" in message
    assert "\n" not in message


def test_root_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "grades.csv"
    path.write_text("x")
    with pytest.raises(IntakeError, match="is not a folder"):
        discover(path)


def test_load_one_missing_path(tmp_path: Path) -> None:
    with pytest.raises(IntakeError, match="does not exist"):
        load_one(tmp_path / "ghost")


# --------------------------------------------------------------------------- LMS downloads


def _uploads(tag: str, folder: str = "") -> list[tuple[str, bytes]]:
    return [(f"{folder}{m}.py", source(m, tag).encode()) for m in MODULES]


def _zip_upload(tag: str) -> tuple[str, bytes]:
    return ("submission.zip", zipped({f"exercises/{m}.py": source(m, tag).encode() for m in MODULES}))


def canvas_roster() -> list[Student]:
    """Loose files; a resubmitted linear.py; a zip; an extra file with spaces; five more loose files."""
    return roster([
        _uploads("s0"),
        [("linear.py", source("linear", "old").encode()), *_uploads("s1")],
        [_zip_upload("s2")],
        [*_uploads("s3"), ("notes v2_final draft.txt", b"hello")],
        _uploads("s4"),
    ])


def graded_as(root: Path, expected: dict[str, Student], students: list[Student]) -> dict[str, Submission]:
    """`discover(root)` by id, checked: exactly the expected ids, student i with tag s<i>'s files."""
    subs = {s.id: s for s in discover(root)}
    assert set(subs) == set(expected)
    for sid, student in expected.items():
        assert_complete(subs[sid], f"s{students.index(student)}")
    return subs


@pytest.mark.parametrize("anonymous, legacy", [(False, False), (True, False), (False, True)],
                         ids=["named", "anonymous", "lower-case-late"])
def test_canvas_download_as_canvas_writes_it(tmp_path: Path, anonymous: bool, legacy: bool) -> None:
    students = canvas_roster()
    expected = write_canvas_download(tmp_path / "subs", students, anonymous=anonymous, legacy=legacy)
    subs = graded_as(tmp_path / "subs", expected, students)
    for sid, student in expected.items():
        meta = subs[sid].meta
        assert meta["lms"] == "canvas" and meta["late"] == ("true" if student.late else "false")
        if anonymous:
            assert meta["anonymous_id"] == student.anonymous_id
            assert meta["user_id"] == "" and meta["name"] == ""
        else:
            assert meta["user_id"] == str(student.user_id)
            assert meta["name"] == ruby_word_only(canvas_user_name(student.sortable_name))
    resubmitted = next(sid for sid, student in expected.items() if student is students[1])
    assert "used linear-1.py (Canvas resubmission) for linear.py" in subs[resubmitted].notes


def moodle_roster() -> list[Student]:
    """Loose files and online text; a zip; files in a folder; an extra file and online text only."""
    students = roster([
        _uploads("s0"),
        [_zip_upload("s1")],
        _uploads("s2", "exercises/"),
        [*_uploads("s3"), ("notes.txt", b"hello")],
        _uploads("s4"),
    ])
    students[0].online_text = "<p>I did it</p>"
    students[3].online_text = "<p>see notes</p>"
    return students


@pytest.mark.parametrize("layout", list(MOODLE_LAYOUTS))
def test_moodle_download_as_moodle_writes_it(tmp_path: Path, layout: str) -> None:
    students = moodle_roster()
    options = MOODLE_LAYOUTS[layout]
    expected = write_moodle_download(tmp_path / "subs", students, **options)
    subs = graded_as(tmp_path / "subs", expected, students)
    for sid, student in expected.items():
        name = moodle_name(student, blind=options.get("blind", False))
        assert subs[sid].meta == {"lms": "moodle", "name": name, "user_id": sid, "participant_id": sid}


def test_moodle_online_text_only_is_a_submission(tmp_path: Path) -> None:
    [student] = roster([[]])
    student.online_text = "<p>my code is in my head</p>"
    write_moodle_download(tmp_path / "subs", [student])
    [sub] = discover(tmp_path / "subs")
    assert sub.id == str(student.participant_id)
    assert sub.problems["linear"].startswith("missing")


# --------------------------------------------------------------------------- odd names

ODD_NAMES = [
    b"grades.csv", b"summary.html", b"Summary.HTML", b"gradescope", b"canvas-import.csv",
    b"caf\xe9", b"caf%E9", "café".encode(), "cafe\u0301".encode(), b"tab\there\nnewline\x1b[2J",
    b" padded ", b"=HYPERLINK(1)", b"back\\slash", b"<b>&amp;`*_[x](y)|#", b"\xff" * 255,
    "\u202eevil".encode(),
]


def test_odd_folder_names_get_safe_unique_ids(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    root.mkdir()
    for raw in ODD_NAMES:
        write_folder(Path(os.fsdecode(os.path.join(os.fsencode(root), raw))), module_files())
    subs = discover(root)
    ids = [s.id for s in subs]
    assert len(ids) == len(ODD_NAMES)
    assert len({unicodedata.normalize("NFC", i).casefold() for i in ids}) == len(ids)
    for sub in subs:
        assert_complete(sub)
        sid = sub.id
        assert len(sid.encode("utf-8")) <= 240  # no lone surrogates; room for a -N suffix
        assert sid.casefold() not in OUT_NAMES
        assert sid == sid.strip() and sid[0] not in "=+-@"
        assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in sid)
        assert "/" not in sid and "\\" not in sid
    by_id = {s.id: s for s in subs}
    assert "caf%E9" in by_id and "caf%E9-2" in by_id  # the real "caf%E9" keeps its name
    assert "grades.csv-2" in by_id
    assert {"café", "café-2"} <= {unicodedata.normalize("NFC", sid) for sid in by_id}  # NFD and NFC
    renamed = by_id["grades.csv-2"]
    assert any("'grades.csv'" in n and "'grades.csv-2'" in n for n in renamed.notes)
    assert any("not UTF-8" in n for n in by_id["caf%E9-2"].notes)


def test_odd_file_names_inside_a_submission_are_noted_printably(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "subs" / "ok", module_files())
    (Path(os.fsdecode(os.path.join(os.fsencode(folder), b"caf\xe9.py")))).write_text("x")
    (folder / "evil\x1b]0;title\x07.py").write_text("y")
    [sub] = discover(tmp_path / "subs")
    assert_complete(sub)
    exercises = ", ".join(f"{module}.py" for module in modules())
    assert f"ignored caf%E9.py: only the exercise files are used: {exercises}" in sub.notes
    for note in sub.notes:
        note.encode("utf-8")
        assert not any(unicodedata.category(c) == "Cc" for c in note)


# --------------------------------------------------------------------------- source encodings


def test_coding_cookie_is_read_as_python_reads_it(tmp_path: Path) -> None:
    files = module_files()
    files["linear.py"] = "# -*- coding: latin-1 -*-\nNAME = 'café'\n".encode("latin-1")
    files["losses.py"] = "#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nEURO = '€'\n".encode(
        "cp1252")
    files["network.py"] = codecs.BOM_UTF8 + "# coding: utf-8\nNAME = 'é'\n".encode()
    sub = load_one(write_folder(tmp_path / "pep263", files))
    assert sub.problems == {}
    namespace: dict = {}
    for module in ("linear", "losses", "network"):
        text = sub.sources[module]
        # what the sandbox writes (UTF-8) is what Python then reads back
        data = text.encode("utf-8")
        assert tokenize.detect_encoding(io.BytesIO(data).readline)[0].startswith("utf-8")
        exec(compile(data, f"{module}.py", "exec"), namespace)
        assert len(text.splitlines()) == len(files[f"{module}.py"].splitlines())  # line numbers kept
    assert namespace["NAME"] == "é" and namespace["EURO"] == "€"
    assert "latin-1" in sub.sources["linear"].splitlines()[0]  # the student still sees what was declared


@pytest.mark.parametrize("data, fragment", [
    (b"# coding: klingon\nX = 1\n", "unknown encoding: klingon"),
    (b"# coding: ascii\nX = '\xe9'\n", "not valid ascii text"),
    (codecs.BOM_UTF8 + b"# coding: latin-1\nX = 1\n", "encoding problem"),
    (b"X = '\xe9'\n", "not UTF-8 text"),
    ("X = 1\n".encode("utf-16"), "UTF-16"),
    ("X = 1\n".encode("utf-32"), "UTF-32"),
])
def test_encodings_python_refuses_cost_only_their_module(tmp_path: Path, data: bytes, fragment: str) -> None:
    files = {**module_files(), "losses.py": data}
    sub = load_one(write_folder(tmp_path / "enc", files))
    assert set(sub.problems) == {"losses"} and len(sub.sources) == 4
    assert fragment in sub.problems["losses"] and "\n" not in sub.problems["losses"]


def test_a_latin_1_module_runs_as_python_would_run_it(tmp_path: Path, grade) -> None:
    """The sandbox writes sources as UTF-8: a latin-1 file must still mean what it says."""
    folder = reference_copy(tmp_path / "latin")
    linear = folder / "linear.py"
    text = linear.read_text(encoding="utf-8")
    check = "\nif 'café' != 'caf\\xe9':  # read with the wrong encoding\n    raise ImportError('mojibake')\n"
    linear.write_bytes(("# -*- coding: latin-1 -*-\n" + text + check).encode("latin-1"))
    result = grade(folder)
    assert result.problems == {} and losers(result) == set()
