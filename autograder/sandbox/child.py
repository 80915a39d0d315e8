"""The student side of the boundary: import the student's modules lazily and serve calls.

This code runs inside the sandboxed child, after confinement. It is not trusted
by the grader: it only turns calls into values. Everything it sends back goes
through `wire.encode`, which refuses anything but plain arrays and numbers, and
the verdict is decided on the other side.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import socket
import sys
import traceback
import types
import warnings
from typing import Any

import numpy as np

from autograder.sandbox import wire
from autograder.spec import MODULES  # imported before confinement: the grader is unreadable after

MAX_TEXT = 4000
#: The package name student modules are imported under (besides their bare names).
PACKAGE = "exercises"
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


class SiblingLoader(importlib.abc.Loader):
    """Loads an exercise module; if its code fails, the module stays importable but broken.

    `from losses import mse` in xor.py then still works when losses.py is broken:
    only calling `mse` fails, so a broken file costs the functions that use it,
    not every function of every file that imports it.
    """

    def __init__(self, inner: importlib.abc.Loader, failures: dict[str, dict], folder: str) -> None:
        self.inner, self.failures, self.folder = inner, failures, folder

    def create_module(self, spec):  # noqa: ANN001 - importlib protocol
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        name = module.__name__
        try:
            self.inner.exec_module(module)
        except BaseException as exc:  # noqa: BLE001 - any failure at import costs this module
            failure = _import_error(_short(name), exc, self.folder)
            self.failures[name] = failure
            module.__getattr__ = _unavailable(_short(name), failure["message"])


class _EmptyPackage(importlib.abc.Loader):
    """The `exercises` package around the student's folder: nothing to run."""

    def create_module(self, spec):  # noqa: ANN001 - importlib protocol
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def _short(name: str) -> str:
    """"exercises.linear" -> "linear"."""
    return name.rsplit(".", 1)[-1]


def _unavailable(module: str, reason: str):
    """A module-level __getattr__ whose attributes are functions that fail with `reason`."""

    def __getattr__(attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)

        def unavailable(*args: Any, **kwargs: Any) -> None:
            raise ImportError(f"{module}.{attr} is unavailable because {reason}")

        return unavailable

    return __getattr__


def _import_error(name: str, exc: BaseException, folder: str) -> dict:
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(folder):
        where = f"{exc.filename[len(folder):].lstrip('/')}, line {exc.lineno}"
        return _error("import", f"{name}.py does not parse: {exc.msg} ({where})", (exc.text or "").rstrip())
    if isinstance(exc, SystemExit):
        return _error("import", f"{name}.py called sys.exit({exc.code!r}) while being imported")
    return _error("import", f"importing {name}.py raised {type(exc).__name__}: {exc}",
                  _student_traceback(exc, folder))


class SiblingFinder(importlib.abc.MetaPathFinder):
    """Finds the exercise modules in the student's folder and wraps their loader.

    Each module is importable as `linear` and as `exercises.linear`, and the folder
    is the package `exercises`, so students may write `from activations import
    softmax`, `from exercises.activations import softmax` or `from .activations
    import softmax`, whichever their own layout taught them.
    """

    def __init__(self, names: set[str], folder: str, failures: dict[str, dict]) -> None:
        self.names, self.folder, self.failures = names, folder, failures

    def find_spec(self, name: str, path: Any = None, target: Any = None):  # noqa: ANN201
        if name == PACKAGE:
            spec = importlib.machinery.ModuleSpec(name, _EmptyPackage(), is_package=True)
            spec.submodule_search_locations = [self.folder]
            return spec
        if _short(name) not in self.names or name not in (_short(name), f"{PACKAGE}.{_short(name)}"):
            return None
        location = os.path.join(self.folder, f"{_short(name)}.py")
        if not os.path.isfile(location):
            return None
        spec = importlib.util.spec_from_file_location(name, location)
        spec.loader = SiblingLoader(spec.loader, self.failures, self.folder)
        return spec


class Modules:
    """The student's modules, each imported on first use; an import failure is remembered."""

    def __init__(self, folder: str, names: set[str] | None = None) -> None:
        self.folder = folder
        self.failed: dict[str, dict] = {}
        sys.meta_path.insert(0, SiblingFinder(set(names or MODULES), folder, self.failed))

    def get(self, name: str) -> types.ModuleType | dict:
        """The module `name` (imported inside the `exercises` package), or its import error."""
        full = f"{PACKAGE}.{name}"
        try:
            module = importlib.import_module(full)
        except BaseException as exc:  # noqa: BLE001 - e.g. the file is missing
            return self.failed.setdefault(full, _import_error(name, exc, self.folder))
        return self.failed.get(full, module)


def _changed(before: tuple, after: tuple) -> list[bool]:
    """Per argument: did the call change it in place? (arrays, and arrays inside dicts)"""
    flags = []
    for old, new in zip(before, after, strict=True):
        if isinstance(old, np.ndarray):  # bit for bit: cheaper than array_equal, NaN-safe
            flags.append(not (isinstance(new, np.ndarray) and old.dtype == new.dtype
                              and old.shape == new.shape and old.tobytes() == new.tobytes()))
        elif isinstance(old, dict):
            flags.append(any(_changed((old[k],), (new.get(k),))[0] for k in old))
        else:
            flags.append(False)
    return flags


def _snapshot(value: Any) -> Any:
    """A copy of the arguments deep enough to notice in-place changes (cheaper than deepcopy)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_snapshot(v) for v in value)
    return value


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
        except NotImplementedError:
            message = f"{function} is not implemented yet (it raises NotImplementedError)"
            return _error("not_implemented", message)
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            trace = _student_traceback(exc, modules.folder)
            return _error("exception", f"{type(exc).__name__}: {exc}", trace)
    response = {"ok": True, "value": value}
    modified = _changed(before, args)
    if any(modified):  # left out when empty: most calls change nothing and warn of nothing
        response["modified"] = modified
    if caught:
        response["warnings"] = [f"{w.category.__name__}: {w.message}"[:300] for w in caught[:MAX_WARNINGS]]
    return response


def encode_response(function: str, response: dict) -> bytes:
    """The response as a frame; a value that may not cross becomes an error response."""
    try:
        return wire.encode(response)
    except wire.WireError as exc:
        return wire.encode(_error("return", f"{function} returned {exc}" if str(exc).startswith("a")
                                  else f"{function}: {exc}"))
    except MemoryError:
        return wire.encode(_error("return", f"{function} returned a value too large to send"))


MAX_PLAN = 10_000  # calls in one plan


def _requests(reader: wire.Reader, request: Any) -> list[Any] | None:
    """The call requests that `request` stands for: itself, or the plan it announces, read
    whole before any call runs (so the grader never blocks sending while the child writes).
    None when the grader said goodbye or sent something unreadable."""
    if not isinstance(request, dict):
        return None
    if request.get("op") == "call":
        return [request]
    count = request.get("count")
    if request.get("op") != "plan" or type(count) is not int or not 0 <= count <= MAX_PLAN:
        return None
    try:
        return [reader.receive() for _ in range(count)]
    except (wire.ChannelClosed, wire.WireError):
        return None


def serve(channel: socket.socket, folder: str) -> None:
    """Answer call requests, single or in plans, on `channel` until it closes or says goodbye."""
    modules = Modules(folder)
    reader = wire.Reader(channel)
    while True:
        try:
            requests = _requests(reader, reader.receive())
        except (wire.ChannelClosed, wire.WireError):
            return
        if requests is None:
            return
        for request in requests:
            if not isinstance(request, dict) or request.get("op") != "call":
                return
            function = str(request.get("function"))
            response = call(modules, function, tuple(request.get("args") or ()))
            sys.stdout.flush()
            sys.stderr.flush()
            channel.sendall(encode_response(function, response))
