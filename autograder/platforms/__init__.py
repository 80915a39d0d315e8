"""What the kit hands to the platforms that build an image to grade in.

Gradescope builds its image from the autograder zip (`autograder gradescope`),
PrairieLearn from a Docker build folder (`autograder prairielearn`). Both install
with the same `setup.sh`, made here from `setup.sh.in` with the install steps of
`install-lib.sh` copied in (tools/install.sh sources that file itself), so that
torch is the exact CPU build from PyTorch's CPU wheel index everywhere. Beside
the scripts, both carry the kit: the `autograder` package with its hidden cases
templates/, and the course (course/ and the stubs of exercises/); never the solutions.
The catalogs go compiled (`catalogs`), not as .po files: the image has no Babel.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent
#: Installed next to torch, pinned to the versions installed here when known.
DEPENDENCIES = ("numpy", "jinja2", "pytest", "matplotlib", "rich", "hypothesis")
EXECUTABLE = 0o755
SKIPPED_FOLDERS = {"__pycache__", ".pytest_cache"}
#: The catalogs' sources, which go compiled instead (see `catalogs`).
SKIPPED_SUFFIXES = {".pyc", ".po", ".pot", ".mo"}
#: A URL that can stand inside a double-quoted shell word: no quotes, `$`, backslash or braces.
PLAIN_URL = re.compile(r"(https?|file)://[^\s\"'`$\\{}]+")


def read(name: str) -> str:
    """The text of one of the files beside this module."""
    return (HERE / name).read_text(encoding="utf-8")


def check_index_url(url: str) -> str:
    """`url` if it is a plain http(s) or file URL; UsageError otherwise."""
    from autograder.cli import UsageError

    if not PLAIN_URL.fullmatch(url):
        raise UsageError(f"--torch-index {url!r}: expected a plain http(s):// or file:// URL")
    return url


def setup_script(torch_index: str | None = None) -> str:
    """setup.sh: torch from `torch_index` (default: PyTorch's CPU wheel index), the rest pinned."""
    index = "$TORCH_CPU_INDEX" if torch_index is None else check_index_url(torch_index)
    return (read("setup.sh.in")
            .replace("@LIBRARY@", read("install-lib.sh").rstrip("\n"))
            .replace("@TORCH_INDEX@", index)
            .replace("@DEPENDENCIES@", " ".join(_pinned(name) for name in DEPENDENCIES)))


def _pinned(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{name}=={version(name)}"
    except PackageNotFoundError:
        return name


def kit_files() -> list[tuple[Path, str]]:
    """(path, name in the image) of the package, templates/, the course's folder (its oracle and
    cases) and its stubs (which name the exercise functions: never solutions/), caches and
    catalogs left out (`catalogs` gives those)."""
    from autograder import course as courses
    from autograder.report import TEMPLATES

    course = courses.load()
    found = []
    for top in (PACKAGE, TEMPLATES, course.folder, course.exercises):
        for path in sorted(top.rglob("*")):
            skipped = path.suffix in SKIPPED_SUFFIXES or SKIPPED_FOLDERS & set(path.parts)
            if path.is_file() and not skipped:
                found.append((path, f"{top.name}/{path.relative_to(top).as_posix()}"))
    return found


def catalogs() -> dict[str, bytes]:
    """{name in the image: bytes} of every language's compiled catalogs."""
    from autograder import course as courses
    from autograder.i18n import compiled_catalogs

    return compiled_catalogs(courses.load())


def write_folder(out: Path, scripts: dict[str, tuple[str, int]]) -> int:
    """Write `scripts` ({name: (text, mode)}) and the kit into the new folder `out`; count the files.

    The folder is made beside `out` and renamed into place once complete.
    """
    tmp = out.with_name(f".{out.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, (text, mode) in scripts.items():
        (tmp / name).write_text(text, encoding="utf-8")
        os.chmod(tmp / name, mode)
    kit = kit_files()
    for path, name in kit:
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, tmp / name)
    compiled = catalogs()
    for name, data in compiled.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_bytes(data)
    tmp.replace(out)
    return len(scripts) + len(kit) + len(compiled)


def add_torch_index_option(parser: argparse.ArgumentParser) -> None:
    """The `--torch-index URL` option of the commands that write setup.sh."""
    parser.add_argument("--torch-index", default=None, metavar="URL",
                        help="the package index setup.sh installs torch (the exact CPU build) from "
                             "(default: PyTorch's CPU wheel index)")
