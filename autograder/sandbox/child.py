"""The student side of the boundary: import the student's modules lazily and serve calls.

This code runs inside the sandboxed child, after confinement. It is not trusted
by the grader: it only turns calls into values. Everything it sends back goes
through `wire.encode`, which refuses anything but plain arrays and numbers, and
the verdict is decided on the other side.
"""

from __future__ import annotations

import importlib
import socket
import sys
import traceback
import types
import warnings
from typing import Any

from autograder.sandbox import wire

MAX_TEXT = 4000
MAX_WARNINGS = 5


class TorchBlocker:
    """A meta-path finder that makes `import torch` fail with a message that says why."""

    BLOCKED = ("torch", "tensorflow", "jax")

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".", 1)[0] in self.BLOCKED:
            raise ModuleNotFoundError(
                f"{name} is not available to student code: the exercises are NumPy only "
                "(the grader uses torch as its reference, in a separate process)"
            )
        return None


def _student_traceback(exc: BaseException, folder: str) -> str:
    """The traceback limited to frames in the student's own files, paths made relative."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(folder)]
    lines = [f'  {f.filename[len(folder):].lstrip("/")}, line {f.lineno}, in {f.name}\n'
             f"    {f.line or ''}" for f in frames]
    tail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return ("\n".join(lines[-8:]) + "\n" + tail).strip()[-MAX_TEXT:]


def _error(kind: str, message: str, detail: str = "") -> dict:
    return {"ok": False, "kind": kind, "message": message[:MAX_TEXT], "detail": detail[:MAX_TEXT]}


class Modules:
    """The student's modules, each imported on first use; an import failure is remembered."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.loaded: dict[str, types.ModuleType] = {}
        self.failed: dict[str, dict] = {}

    def get(self, name: str) -> types.ModuleType | dict:
        if name in self.loaded:
            return self.loaded[name]
        if name not in self.failed:
            try:
                self.loaded[name] = importlib.import_module(name)
                return self.loaded[name]
            except BaseException as exc:  # noqa: BLE001 - any failure at import costs this module
                self.failed[name] = self._import_error(name, exc)
        return self.failed[name]

    def _import_error(self, name: str, exc: BaseException) -> dict:
        if isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(self.folder):
            where = f"{exc.filename[len(self.folder):].lstrip('/')}, line {exc.lineno}"
            return _error("import", f"{name}.py does not parse: {exc.msg} ({where})",
                          (exc.text or "").rstrip())
        if isinstance(exc, SystemExit):
            return _error("import", f"{name}.py called sys.exit({exc.code!r}) while being imported")
        return _error("import", f"importing {name}.py raised {type(exc).__name__}: {exc}",
                      _student_traceback(exc, self.folder))


def _changed(before: tuple, after: tuple) -> list[bool]:
    import numpy as np

    flags = []
    for old, new in zip(before, after, strict=True):
        if isinstance(old, np.ndarray):
            flags.append(not (old.shape == new.shape and np.array_equal(old, new, equal_nan=True)))
        elif isinstance(old, dict):
            flags.append(any(_changed((old[k],), (new.get(k),))[0] for k in old))
        else:
            flags.append(False)
    return flags


def _snapshot(args: tuple) -> tuple:
    import copy

    return copy.deepcopy(args)


def call(modules: Modules, function: str, args: tuple) -> dict:
    """Run one student function; return a response (value or error); never raises."""
    module_name, _, name = function.partition(".")
    module = modules.get(module_name)
    if isinstance(module, dict):
        return module
    target = getattr(module, name, None)
    if not callable(target):
        return _error("missing", f"{module_name}.py defines no function {name}")
    before = _snapshot(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = target(*args)
        except SystemExit as exc:
            return _error("exception", f"{function} called sys.exit({exc.code!r})")
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            message = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, NotImplementedError):
                message = f"{function} is not implemented yet (it raises NotImplementedError)"
            return _error("exception", message, _student_traceback(exc, modules.folder))
    return {
        "ok": True,
        "value": value,
        "modified": _changed(before, args),
        "warnings": [f"{w.category.__name__}: {w.message}"[:300] for w in caught[:MAX_WARNINGS]],
    }


def encode_response(function: str, response: dict) -> bytes:
    """The response as a frame; a value that may not cross becomes an error response."""
    try:
        return wire.encode(response)
    except wire.WireError as exc:
        return wire.encode(_error("return", f"{function} returned {exc}"))
    except MemoryError:
        return wire.encode(_error("return", f"{function} returned a value too large to send"))


def serve(channel: socket.socket, folder: str) -> None:
    """Answer call requests on `channel` until it closes or says goodbye."""
    modules = Modules(folder)
    while True:
        try:
            request = wire.receive(channel)
        except (wire.ChannelClosed, wire.WireError):
            return
        if not isinstance(request, dict) or request.get("op") != "call":
            return
        function = str(request.get("function"))
        response = call(modules, function, tuple(request.get("args") or ()))
        sys.stdout.flush()
        sys.stderr.flush()
        channel.sendall(encode_response(function, response))
