"""`autograder nbgrader COURSE_DIR --assignment NAME`: nbgrader source notebooks, one per exercise module.

Writes COURSE_DIR/source/NAME/<module>.ipynb for every exercise module, the
helper COURSE_DIR/source/NAME/nbchecks.py they import, and (unless one exists)
COURSE_DIR/nbgrader_config.py. Each notebook has a read-only introduction and
set-up cell, then per function a solution cell (`### BEGIN SOLUTION` ...) and a
read-only autograder test cell worth the function's points in grading.toml.

A test cell runs the kit's own cases on the notebook's function: the public
cases in the visible part (in the kernel, with the kit's public part only, so a
student's released notebook runs them too), the hidden ones between
`### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`. Its last value is the points
earned, which nbgrader reads as partial credit, split across the cases by weight
exactly as `autograder grade` splits them.

The hidden part is only a call. The hidden cases run in a grading service (the
end of this module): one process per kit and user that collects them once, with
torch, and sends each call of the student's function back to the kernel over a
Unix socket, by value. Kernels never load torch, and a class costs one
collection instead of one per notebook. `generate_assignment` removes the hidden
part from the released notebooks; `autograde` puts it back from its database;
the nbgrader_config.py written here makes `generate_feedback` remove it again
before rendering, so the feedback HTML never shows it (nbgrader issue 917). A
test cell never writes to stderr, which nbgrader scores 0: what the student's
code prints is captured and shown on stdout.

nbgrader runs the notebooks of a submission one at a time, in name order, each
in a fresh kernel. network.ipynb and xor.ipynb import the student's functions
from the other notebooks (nbchecks installs an import hook for the notebooks
beside it), so every notebook a module imports sorts before it.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.abc
import importlib.util
import inspect
import io
import json
import os
import signal
import socket
import sys
import threading
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HELPER = "nbchecks"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
ARTICLES = {
    "network": 'This is the classifier worked through in the article "Dismantling neural networks".',
    "xor": 'This is the network of the article "Postmortem of artificial neural networks".',
}
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

CONFIG = '''\
"""nbgrader settings of this course, written by `autograder nbgrader`; edit freely.

Run nbgrader from this folder: `nbgrader generate_assignment NAME`, then, with the
submissions in submitted/<student>/NAME/, `nbgrader autograde NAME` and
`nbgrader generate_feedback NAME`.
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 - nbgrader defines it while it reads this file

# autograde puts the hidden tests back into every notebook: take them out again
# before the feedback HTML is rendered, so that students never see them.
c.GenerateFeedback.preprocessors = [ClearHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]

# The first hidden test of a notebook loads torch (a few seconds) and the xor
# notebook trains the network: allow more than nbgrader's 30 s per cell.
c.Execute.timeout = 120
'''

HELPER_HEADER = '''\
"""The checks of this assignment's notebooks, written by `autograder nbgrader`: do not edit.

`import nbchecks` also lets a notebook import the functions of the notebooks
beside it (`from activations import sigmoid` reads activations.ipynb as saved).
`Grade` runs the kit's cases on a function of the notebook: the public cases
need the kit's public part (the student bundle of `autograder release`, or the
whole kit); the hidden ones run only where the whole kit is installed.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import io
import json
import os
import signal
import socket
import sys
import threading
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

'''

HELPER_FOOTER = '''
install(Path(__file__).resolve().parent)
'''


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `nbgrader` parser."""
    parser = subparsers.add_parser(
        "nbgrader", help="write nbgrader source notebooks for the exercises",
        description="Write COURSE_DIR/source/NAME/<module>.ipynb (one per exercise module, with "
                    "solution and autograder test cells) and COURSE_DIR/nbgrader_config.py.",
    )
    parser.add_argument("course_dir", type=Path, metavar="COURSE_DIR")
    parser.add_argument("--assignment", required=True, metavar="NAME", help="the nbgrader assignment name")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions", metavar="DIR",
                        help="the reference solutions (default: solutions/)")
    parser.add_argument("--force", action="store_true", help="overwrite existing source notebooks")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the arguments, write the notebooks and the config."""
    from autograder.cli import UsageError

    name = args.assignment
    if not name or name.strip() != name or "/" in name or name.startswith("."):
        raise UsageError(f"--assignment {name!r}: give a plain folder name")
    folder = args.course_dir / "source" / name
    if folder.exists() and any(folder.glob("*.ipynb")) and not args.force:
        raise UsageError(f"{folder} already has notebooks (add --force to overwrite them)")
    try:
        written = write_assignment(folder, args.solutions)
    except FileNotFoundError as exc:
        raise UsageError(f"cannot read {exc.filename}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {len(written)} files to {folder}")
    config = args.course_dir / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG)
        print(f"wrote {config}")
    elif "ClearHiddenTests" not in config.read_text():
        print(f"WARNING: {config} exists: add the GenerateFeedback.preprocessors and Execute.timeout "
              "settings that `autograder nbgrader` writes to a new course, or the feedback will show "
              "the hidden tests", file=sys.stderr)
    print(f"next: cd {args.course_dir} && nbgrader generate_assignment {name}")
    return 0


# ---------------------------------------------------------------- writing the notebooks


def write_assignment(folder: Path, solutions: Path) -> list[Path]:
    """Write every module's notebook and the helper into `folder`; return the files written."""
    import nbformat

    from autograder.config import load
    from autograder.spec import MODULES

    points = load().points
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for module in MODULES:
        notebook = build_notebook(module, (solutions / f"{module}.py").read_text(), points)
        path = folder / f"{module}.ipynb"
        nbformat.write(notebook, path)
        written.append(path)
    helper = folder / f"{HELPER}.py"
    helper.write_text(helper_source())
    return [*written, helper]


def split_module(source: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(docstring, set-up code, [(function, its code)]) of a solution module.

    Each statement keeps the comments and blank lines above it, and the indented
    comments below it; everything that is not a function (imports, constants) is
    the set-up code.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    docstring = ast.get_docstring(tree) or ""
    body = tree.body[1:] if docstring else tree.body
    start = tree.body[0].end_lineno if docstring else 0
    setup, functions = [], []
    for node in body:
        end = node.end_lineno
        while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
            end += 1  # indented comments after the last statement (### END SOLUTION) belong to it
        text = "\n".join(lines[start:end])
        start = end
        if isinstance(node, ast.FunctionDef):
            functions.append((node.name, text.strip("\n")))
        else:
            setup.append(text)
    return docstring, "\n".join(setup).strip("\n"), functions


def imported_modules(setup: str) -> list[str]:
    """The exercise modules a set-up cell imports from."""
    from autograder.spec import MODULES

    return [node.module for node in ast.walk(ast.parse(setup))
            if isinstance(node, ast.ImportFrom) and node.module in MODULES]


def build_notebook(module: str, source: str, points: dict[str, float]) -> Any:
    """The nbgrader source notebook of one exercise module."""
    import nbformat.v4 as nbf

    docstring, setup, functions = split_module(source)
    needs = imported_modules(setup)
    late = [m for m in needs if m >= module]
    if late:
        raise ValueError(f"{module} imports {', '.join(late)}: nbgrader runs notebooks in name order, "
                         "so a notebook may only import notebooks whose names sort before its own")
    cells = [
        _cell(nbf.new_markdown_cell(intro(module, docstring, needs, functions, points)),
              f"{module}_intro", locked=True),
        _cell(nbf.new_code_cell(f"import {HELPER}  # runs the checks; lets this notebook import your "
                                f"other notebooks\n{setup}".rstrip()),
              f"{module}_setup", locked=True),
    ]
    for function, code in functions:
        tag = f"{module}.{function}"
        cells.append(_cell(nbf.new_code_cell(code), f"{module}_{function}", solution=True))
        checks = nbf.new_code_cell(grade_cell_source(tag, points[tag]))
        cells.append(_cell(checks, f"test_{module}_{function}", locked=True, points=points[tag]))
    notebook = nbf.new_notebook(cells=cells)
    notebook.metadata.update({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    return notebook


def _cell(cell: Any, grade_id: str, *, locked: bool = False, solution: bool = False,
          points: float | None = None) -> Any:
    """`cell` with its nbgrader metadata (and a stable id, so a rebuilt notebook diffs cleanly)."""
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": locked,
            "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = _number(points)
    cell.metadata["nbgrader"] = meta
    cell["id"] = grade_id
    return cell


def intro(module: str, docstring: str, needs: list[str], functions: list[tuple[str, str]],
          points: dict[str, float]) -> str:
    """The read-only first cell: what the module is and how the notebook works."""
    title, _, rest = docstring.partition("\n")
    table = "\n".join(f"| `{f}` | {_number(points[f'{module}.{f}'])} |" for f, _ in functions)
    parts = [f"# `{module}`: {title.strip()}", rest.strip(), ARTICLES.get(module, "")]
    if needs:
        listed = ", ".join(f"`{m}.ipynb`" for m in needs)
        parts.append(f"This notebook imports your own functions from {listed} (as last saved): "
                     "finish and save those first.")
    parts += [
        "**How it works.** Write each function's body where it says `YOUR CODE HERE` (replace the "
        "`raise NotImplementedError()`). The read-only cell after each function runs its public "
        "checks: shapes, small cases you can work out by hand, the articles' numbers. It raises an "
        "error while one fails and says why. The grader adds hidden checks, compared with torch "
        "autograd, and gives each function its points in proportion to the checks it passes. "
        "Use NumPy only (torch is the grader's reference, not yours), and never modify an input "
        "in place. Before you submit, run everything from the top: Kernel, Restart & Run All.",
        f"| function | points |\n|---|---|\n{table}",
    ]
    return "\n\n".join(p for p in parts if p)


def grade_cell_source(function: str, points: float) -> str:
    """The autograder test cell of `function`: public checks, then the hidden part."""
    name = function.split(".", 1)[1]
    return "\n".join([
        f"# The checks of {name} ({_number(points)} points): the public ones run here; "
        "the grader adds hidden ones.",
        f'_grade = {HELPER}.Grade("{function}", globals())',
        "_grade.public()",
        BEGIN_HIDDEN,
        "_grade.hidden()",
        "_grade.points()",
        END_HIDDEN,
    ])


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def helper_source() -> str:
    """nbchecks.py: the kernel-side objects below, copied with the imports and constants they need."""
    constants = (f"SERVICE_WAIT = {SERVICE_WAIT!r}  # seconds a hidden test waits for the grading service\n"
                 "_PUBLIC: list = []  # the public cases, collected once per kernel\n")
    body = "\n\n".join(inspect.getsource(obj) for obj in HELPER_OBJECTS)
    return f"{HELPER_HEADER}{constants}\n\n{body}{HELPER_FOOTER}"


# ---------------------------------------------------------------- in the notebook's kernel
# Everything from here to the grading service runs inside a notebook kernel:
# helper_source() copies it into nbchecks.py, so a notebook needs only the kit's
# public part (the student bundle has it) for its public checks.

SERVICE_WAIT = 110.0  # below the 120 s per cell that the written nbgrader_config.py allows
_PUBLIC: list = []


class NotebookLoader(importlib.abc.Loader):
    """Runs a notebook's code cells, except its test cells, as a module's code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        cells = json.loads(self.path.read_text(encoding="utf-8"))["cells"]
        module.__file__ = str(self.path)
        for number, cell in enumerate(cells, 1):
            if cell.get("cell_type") != "code" or cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                continue
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            with contextlib.suppress(ImportError):  # IPython turns %magics into calls
                from IPython.core.inputtransformer2 import TransformerManager

                source = TransformerManager().transform_cell(source)
            exec(compile(source, f"{self.path.name}, cell {number}", "exec"), module.__dict__)


class NotebookFinder(importlib.abc.MetaPathFinder):
    """Finds `import name` as name.ipynb in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        notebook = self.folder / f"{name}.ipynb"
        if path is not None or "." in name or not notebook.is_file():
            return None
        return importlib.util.spec_from_loader(name, NotebookLoader(notebook), origin=str(notebook))


def install(folder: Path) -> None:
    """Let `import name` read name.ipynb from `folder` (once per kernel)."""
    if not any(isinstance(f, NotebookFinder) and f.folder == folder for f in sys.meta_path):
        sys.meta_path.insert(0, NotebookFinder(folder))


class Grade:
    """The kit's cases of one exercise function, run on the notebook's own definition of it."""

    def __init__(self, function: str, namespace: dict[str, Any]) -> None:
        from autograder.config import load

        self.function = function
        self.process = KernelProcess(namespace)
        self.settings = load()
        self.results: list[Any] = []

    def public(self) -> None:
        """Run the public cases in this kernel; a failure raises, except under nbgrader's autograde."""
        from autograder import runner
        from autograder.commands.check import report_lines
        from autograder.intake import Submission

        if not _PUBLIC:
            with _quiet():
                _PUBLIC.extend(runner.collect([runner.PUBLIC]))
        cases = [c for c in _PUBLIC if c.function == self.function]
        with _quiet() as printed:
            result = runner.grade_submission(Submission("notebook"), cases, [c.weight for c in cases],
                                             self.process, self.settings)
        self._add(result.cases, printed.getvalue())
        print("\n".join(report_lines(result)))
        failed = sum(not case.passed for case in result.cases)
        if failed and os.environ.get("NBGRADER_EXECUTION") != "autograde":
            raise AssertionError(f"{failed} public check(s) of {self.function} fail: see above")

    def hidden(self) -> None:
        """Have the grading service run the hidden cases; print how many pass, not their inputs."""
        from autograder.results import CaseResult

        with _quiet() as printed:
            cases = [CaseResult(**c) for c in _hidden_cases(self.function, self.process)]
        self._add(cases, printed.getvalue())
        print(f"hidden checks of {self.function}: {sum(c.passed for c in cases)}/{len(cases)} pass")
        failures: dict[str, int] = {}
        for case in cases:
            if not case.passed:
                private = case.kind == "assertion" and not self.settings.reveal_hidden_details
                line = f"  failed: {case.checked}" + ("" if private else f" ({case.message})")
                if case.details.get("hint"):
                    line += f"\n    likely mistake: {case.details['hint']}"
                failures[line] = failures.get(line, 0) + 1
        for line, count in failures.items():
            print(line if count == 1 else line.replace("  failed:", f"  failed {count} times:", 1))

    def points(self) -> float:
        """The function's points times the weighted share of its cases that passed."""
        top = self.settings.points[self.function]
        total = sum(case.max_score for case in self.results)
        earned = sum(case.score for case in self.results)
        return min(top, round(top * earned / total, 4)) if total else 0.0

    def _add(self, cases: list[Any], printed: str) -> None:
        self.results += cases
        if printed.strip():
            print(f"your code printed (not graded):\n{printed[-1500:]}")


class KernelProcess:
    """Stands in for the kit's sandboxed child: the notebook's functions, called in this kernel.

    Arguments and values cross as the sandbox's wire carries them (plain arrays and
    numbers), each call has the kit's time limit, torch cannot be imported, and
    warnings are recorded, not shown. Also stands in for the Sandbox (`open`) and
    for the child's module table (`get`, `folder`).
    """

    isolation = ["none: the notebook's kernel"]
    folder = ""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace

    def open(self, sources: dict[str, str]) -> KernelProcess:
        return self

    def get(self, module: str) -> types.SimpleNamespace:
        return types.SimpleNamespace(**self.namespace)

    def respond(self, function: str, args: tuple, timeout: float) -> dict[str, Any]:
        """The child's response to one call (never raises for the student's faults)."""
        from autograder.sandbox import child, wire

        if _torch_in(self.namespace):
            return {"ok": False, "kind": "import", "message": "this notebook uses torch: NumPy only, please"}
        with _without_torch(), _time_limit(timeout) as expired:
            response = child.call(self, function, _decoded(wire.encode(tuple(args))))
        if expired:
            return {"ok": False, "kind": "timeout",
                    "message": f"{function} did not return within {timeout:g} s (an endless loop?)"}
        return _decoded(child.encode_response(function, response))

    def call(self, function: str, args: tuple, timeout: float) -> dict[str, Any]:
        """As the sandbox's call: the response, or StudentError."""
        from autograder.sandbox.session import checked

        return checked(function, self.respond(function, args, timeout))

    def output(self) -> str:
        return ""

    def close(self) -> None:
        pass


def _hidden_cases(function: str, process: KernelProcess) -> list[dict[str, Any]]:
    """Ask the grading service to run the hidden cases of `function`, answering its calls."""
    from autograder.sandbox import wire

    with contextlib.closing(_connect()) as conn:
        wire.send(conn, {"op": "grade", "function": function})
        while True:
            message = wire.receive(conn, SERVICE_WAIT)
            if message.get("op") != "call":
                return json.loads(message["cases"])
            wire.send(conn, process.respond(message["function"], tuple(message["args"]),
                                            float(message["timeout"])))


def service_path() -> Path:
    """The grading service's socket: one per user, kit and settings (a changed case, a new one).

    It lives in a folder only this user can enter, so that nobody else can stand
    in for the service and hand out points.
    """
    import hashlib
    import stat
    import tempfile

    import autograder
    from autograder.config import DEFAULT_PATH

    package = Path(autograder.__file__).resolve().parent
    config = Path(os.environ.get("AUTOGRADER_CONFIG") or DEFAULT_PATH).resolve()
    digest = hashlib.sha256(str(package).encode())
    for path in [*sorted(package.rglob("*.py")), config]:
        digest.update(path.name.encode() + path.read_bytes())
    folder = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"autograder-nb-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise RuntimeError(f"{folder} must be a folder that only this user can use")
    return folder / f"{digest.hexdigest()[:16]}.sock"


def _connect() -> socket.socket:
    """A connection to the grading service, started here if none is running."""
    import subprocess
    import time

    import autograder

    path, started = service_path(), False
    deadline = time.monotonic() + SERVICE_WAIT
    while True:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(str(path))
            return conn
        except (FileNotFoundError, ConnectionRefusedError):
            conn.close()
        if time.monotonic() > deadline:
            raise RuntimeError(f"the grading service did not start: see {path.with_suffix('.log')}")
        if not started:
            kit = str(Path(autograder.__file__).resolve().parents[1])
            with open(path.with_suffix(".log"), "ab") as log:
                subprocess.Popen([sys.executable, "-m", "autograder.commands.nbgrader", "--serve", str(path)],
                                 cwd="/", env={**os.environ, "PYTHONPATH": kit}, stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=log, start_new_session=True)
            started = True
        time.sleep(0.05)


def stop_service() -> bool:
    """Ask the grading service of this kit to exit; False if none was running."""
    from autograder.sandbox import wire

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.closing(conn):
        try:
            conn.connect(str(service_path()))
        except (FileNotFoundError, ConnectionRefusedError):
            return False
        wire.send(conn, {"op": "stop"})
        with contextlib.suppress(OSError, wire.WireError):
            wire.receive(conn, 10)
    return True


@contextlib.contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """Capture what Python prints, drop what C code writes to fds 1 and 2, ignore warnings.

    nbgrader gives a test cell 0 points when anything reaches stderr.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved, null = (os.dup(1), os.dup(2)), os.open(os.devnull, os.O_WRONLY)
    printed = io.StringIO()
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        with warnings.catch_warnings(), contextlib.redirect_stdout(printed), \
                contextlib.redirect_stderr(printed):
            warnings.simplefilter("ignore")
            yield printed
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


class _Expired(BaseException):
    """Raised in student code by the call's time limit."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[list[bool]]:
    """SIGALRM after `seconds` (main thread only); the yielded list says whether it fired."""
    expired: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield expired
        return

    def _alarm(signum: int, frame: Any) -> None:
        expired.append(True)
        raise _Expired()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield expired
    except _Expired:
        pass  # fired just after the call returned
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _without_torch() -> Iterator[None]:
    """While student code runs, `import torch` fails as in the sandbox, loaded or not."""
    from autograder.sandbox.child import TorchBlocker

    hidden = {n: sys.modules.pop(n) for n in list(sys.modules) if n.split(".")[0] in TorchBlocker.BLOCKED}
    blocker = TorchBlocker()
    sys.meta_path.insert(0, blocker)
    try:
        yield
    finally:
        sys.meta_path.remove(blocker)
        sys.modules.update(hidden)


def _torch_in(namespace: dict[str, Any]) -> bool:
    """Whether the notebook, or a function it imported, holds torch (or another blocked module)."""
    from autograder.sandbox.child import TorchBlocker

    def blocked(value: Any) -> bool:
        return isinstance(value, types.ModuleType) and value.__name__.split(".")[0] in TorchBlocker.BLOCKED

    scopes = [namespace] + [v.__globals__ for v in namespace.values() if isinstance(v, types.FunctionType)]
    return any(blocked(value) for scope in scopes for value in scope.values())


def _decoded(frame: bytes) -> Any:
    """The value of one wire frame, as the sandbox's channel would deliver it."""
    from autograder.sandbox import wire

    return wire.decode_frame(frame)


HELPER_OBJECTS = (NotebookLoader, NotebookFinder, install, Grade, KernelProcess, _hidden_cases,
                  service_path, _connect, stop_service, _quiet, _Expired, _time_limit, _without_torch,
                  _torch_in, _decoded)


# ---------------------------------------------------------------- the grading service
# One process per kit and user collects the hidden cases once (torch, every expected
# value) and runs them for the notebooks' hidden tests; the student's calls travel
# back to the notebook's kernel over the socket, by value. Kernels never load torch,
# and a class costs one collection, not one per notebook.


class RemoteProcess:
    """The service's view of a notebook kernel: calls go over the connection, by value."""

    isolation = ["none: the notebook's kernel"]

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn

    def open(self, sources: dict[str, str]) -> RemoteProcess:
        return self

    def call(self, function: str, args: tuple, timeout: float) -> dict[str, Any]:
        from autograder.sandbox import wire
        from autograder.sandbox.session import StudentError, checked

        try:
            wire.send(self.conn, {"op": "call", "function": function, "args": tuple(args),
                                  "timeout": timeout})
            response = wire.receive(self.conn, timeout + 30)
        except (OSError, wire.WireError) as exc:
            raise StudentError("crash", f"the notebook's kernel stopped answering during {function}",
                               str(exc)) from None
        return checked(function, response)

    def output(self) -> str:
        return ""

    def close(self) -> None:
        pass


def serve(path: Path, idle: float) -> None:
    """Collect the hidden cases, then grade requests on `path` until idle for `idle` seconds."""
    from autograder import runner
    from autograder.config import load

    listener = _bind(path)
    if listener is None:
        return  # another service already answers there
    try:
        cases = runner.collect([runner.HIDDEN])
        settings = load()
        listener.settimeout(idle)
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                return
            with conn:
                if not _answer(conn, cases, settings):
                    return
    finally:
        listener.close()
        path.unlink(missing_ok=True)
        log = path.with_suffix(".log")
        if log.exists() and not log.stat().st_size:
            log.unlink()


def _bind(path: Path) -> socket.socket | None:
    """A listening socket at `path`, or None when a live service holds it (a stale one is replaced)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
    except OSError:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.closing(probe):
            try:
                probe.connect(str(path))
                listener.close()
                return None
            except ConnectionRefusedError:
                path.unlink(missing_ok=True)
        listener.bind(str(path))
    path.chmod(0o600)
    listener.listen(16)
    return listener


def _answer(conn: socket.socket, cases: list, settings: Any) -> bool:
    """Serve one request; False when it asks the service to stop."""
    from dataclasses import asdict

    from autograder import runner
    from autograder.intake import Submission
    from autograder.results import dump_json
    from autograder.sandbox import wire

    try:
        request = wire.receive(conn, 30)
        if not isinstance(request, dict) or request.get("op") != "grade":
            with contextlib.suppress(OSError):
                wire.send(conn, {"op": "stopped"})
            return not (isinstance(request, dict) and request.get("op") == "stop")
        chosen = [c for c in cases if c.function == request.get("function")]
        result = runner.grade_submission(Submission("notebook"), chosen, [c.weight for c in chosen],
                                         RemoteProcess(conn), settings)
        wire.send(conn, {"op": "done", "cases": dump_json([asdict(c) for c in result.cases])})
    except (OSError, wire.WireError):
        pass  # the kernel went away: wait for the next one
    return True


def _serve_main(argv: list[str]) -> int:
    """`python -m autograder.commands.nbgrader --serve SOCKET`: the grading service."""
    parser = argparse.ArgumentParser(prog="autograder-nbgrader-service")
    parser.add_argument("--serve", type=Path, required=True, metavar="SOCKET")
    parser.add_argument("--idle", type=float, default=float(os.environ.get("AUTOGRADER_NBGRADER_IDLE", 300)))
    args = parser.parse_args(argv)
    serve(args.serve, args.idle)
    return 0


if __name__ == "__main__":
    sys.exit(_serve_main(sys.argv[1:]))
