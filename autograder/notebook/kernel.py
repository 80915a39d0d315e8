"""What runs inside a notebook's kernel: notebook imports, and the checks of one function.

A notebook written by `autograder nbgrader` imports its folder's `nbchecks.py`,
which imports this module: `install` lets `from helpers import f` read
NN-helpers.ipynb as saved, and a test cell's `Grade(function, globals())`
runs the kit's cases on the notebook's own definition of that function.

The public cases run here, in the kernel (the student bundle has them). The hidden
ones run in the grading service (`notebook.service`), which sends each call of the
student's function back to this kernel over a Unix socket, by value: the kernel
never loads torch and never holds a hidden case. What student code prints or raises
during hidden cases is never shown in the notebook (it becomes nbgrader's feedback).

A test cell never writes to stderr, which nbgrader scores 0: what the student's
code prints during the public checks is captured and shown on stdout.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import io
import json
import os
import signal
import sys
import threading
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autograder.i18n import gettext
from autograder.sandbox import protocol, wire
from autograder.sandbox.protocol import Answer, CasePlan, Process, StudentError

SERVICE_WAIT = 110.0  # below the 120 s per cell that the written nbgrader_config.py allows
_PUBLIC: list = []  # the public cases' Suite, collected once per kernel


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
    """Finds `import name` as name.ipynb, or a numbered NN-name.ipynb, in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if path is not None or "." in name or not name.isidentifier():
            return None
        found = [p for p in sorted(self.folder.glob(f"*{name}.ipynb"))
                 if p.stem == name or (p.stem.endswith(f"-{name}") and p.stem.split("-", 1)[0].isdigit())]
        if not found:
            return None
        return importlib.util.spec_from_loader(name, NotebookLoader(found[0]), origin=str(found[0]))


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
                _PUBLIC.append(runner.Suite.prepare(("public",), self.settings, seed=0))
        with _quiet() as printed:
            result = runner.grade_submission(Submission("notebook"), _PUBLIC[0].of(self.function),
                                             self.process, self.settings)
        self.results += result.cases
        if printed.getvalue().strip():
            print(gettext("your code printed (not graded):") + "\n" + printed.getvalue()[-1500:])
        print("\n".join(report_lines(result)))
        failed = sum(not case.passed for case in result.cases)
        if failed and os.environ.get("NBGRADER_EXECUTION") != "autograde":
            text = gettext("{count} public check(s) of {function} fail: see above")
            raise AssertionError(text.format(count=failed, function=self.function))

    def hidden(self) -> None:
        """Have the grading service run the hidden cases; print how many pass, and for each failure
        only what a student may see of a hidden case (never what the code printed or raised)."""
        from autograder.results import CaseResult

        with _quiet():
            cases = [CaseResult(**c) for c in _hidden_cases(self.function, self.process)]
        self.results += cases
        text = gettext("hidden checks of {function}: {passed}/{total} pass")
        print(text.format(function=self.function, passed=sum(c.passed for c in cases), total=len(cases)))
        failures: dict[str, int] = {}
        for case in cases:
            if not case.passed:
                line = f"  failed: {case.student_text(self.settings.reveal_hidden_details)}"
                failures[line] = failures.get(line, 0) + 1
        for line, count in failures.items():
            print(line if count == 1 else line.replace("  failed:", f"  failed {count} times:", 1))

    def points(self) -> float:
        """The function's points times the weighted share of its cases that passed."""
        top = self.settings.points[self.function]
        total = sum(case.max_score for case in self.results)
        earned = sum(case.score for case in self.results)
        return min(top, round(top * earned / total, 4)) if total else 0.0


class KernelProcess(Process):
    """The notebook's functions, called in this kernel, as the pipeline calls a sandboxed child.

    Arguments and values cross as the sandbox's wire carries them (plain arrays and
    numbers), each call has the kit's time limit, torch cannot be imported, and
    warnings are recorded, not shown. Also serves as the Sandbox (`open`) and as the
    child's module table (`get`, `folder`) for `child.call`.
    """

    isolation = ["none: the notebook's kernel"]
    folder = ""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.next_id = 0

    def open(self, *_: Any, **__: Any) -> KernelProcess:
        """This process, for any submission: it acts as its own sandbox (runner.grade_submission)."""
        return self

    def get(self, module: str) -> types.SimpleNamespace:
        return types.SimpleNamespace(**self.namespace)

    def unusable(self, module: str) -> str | None:
        if _torch_in(self.namespace):
            return "this notebook uses torch: NumPy only, please"
        return None

    def begin_case(self, case: CasePlan) -> None:
        pass

    def enter_hidden(self) -> None:
        pass

    def respond(self, call: protocol.Call, timeout: float) -> dict[str, Any]:
        """The wire message answering `call` (never raises for the student's faults)."""
        from autograder.sandbox import child

        why = self.unusable("")
        if why is not None:
            return protocol.raised(call.id, protocol.Failure("import", why))
        with _without_torch(), _time_limit(timeout) as expired:
            args = wire.decode_frame(wire.encode(tuple(call.args)))  # as the wire delivers them
            response = child.call(self, call.id, call.function, args)
        if expired:
            text = gettext("{function} did not return within {seconds} s (an endless loop?)")
            return protocol.raised(call.id, protocol.Failure(
                "timeout", text.format(function=call.function, seconds=f"{timeout:g}")))
        return wire.decode_frame(child.encode_response(call.function, call.id, response))

    def ask(self, function: str, args: tuple, timeout: float) -> Answer:
        self.next_id += 1
        call = protocol.Call(self.next_id, function, tuple(args))
        return answer_of(self.respond(call, timeout), self.next_id, function)

    def output(self, phase: str = "visible") -> str:
        return ""


def answer_of(message: Any, call_id: int, function: str = "") -> Answer:
    """The Answer in a response message to call `call_id` (of `function`); StudentError if it holds
    none."""
    response = protocol.decode(message)
    if not isinstance(response, (protocol.Returned, protocol.Raised)) or response.id != call_id:
        raise StudentError("crash", "the notebook's kernel answered out of turn")
    if isinstance(response, protocol.Raised):
        raise StudentError.of(response.failure, function)
    return Answer(response.value, response.modified, response.warnings)


def _hidden_cases(function: str, process: KernelProcess) -> list[dict[str, Any]]:
    """Ask the grading service to run the hidden cases of `function`, answering its calls."""
    from autograder.notebook.service import connect

    with contextlib.closing(connect()) as conn:
        wire.send(conn, {"op": "grade", "function": function})
        while True:
            message = wire.receive(conn, SERVICE_WAIT)
            if not isinstance(message, dict) or message.get("op") != "call":
                return json.loads(message["cases"])
            call = protocol.Call(int(message["id"]), str(message["function"]), tuple(message["args"]))
            wire.send(conn, process.respond(call, float(message["timeout"])))


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
