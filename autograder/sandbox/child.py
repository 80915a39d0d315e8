"""The student side of the boundary: import the student's modules, then serve calls.

This code runs inside the sandboxed child, after confinement. It is not trusted
by the grader: it only turns calls into values. Everything it sends back goes
through `wire.encode`, which refuses anything but plain arrays and numbers, and
the verdict is decided on the other side (see `protocol`).

The modules are imported when the grader says `Load`, before any call: whatever a
module does at import time happens before it could have seen any case's inputs.
A module that is missing, unusable or broken is still importable as a placeholder,
so `from helpers import f` in another module works and only calling `f` fails.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import mmap
import os
import socket
import sys
import threading
import traceback
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from autograder.sandbox import protocol, wire
from autograder.sandbox.protocol import Failure

#: The package name student modules are imported under (besides their bare names).
PACKAGE = "exercises"
MAX_TEXT = protocol.MAX_TEXT


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


def describe_exception(exc: BaseException) -> str:
    """`Type: message`, even when the exception's own __str__ fails or is huge."""
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a student exception whose __str__ raises
        text = "(its message could not be shown)"
    name = type(exc).__name__ if isinstance(type(exc).__name__, str) else "Exception"
    return f"{name}: {text[:MAX_TEXT]}" if text else name


def _exit_call(exc: SystemExit) -> str:
    """`sys.exit(3)` as the student wrote it, for plain codes (an object's repr is not trusted)."""
    code = exc.code
    return f"sys.exit({code!r})" if code is None or type(code) in (int, str) and len(str(code)) < 80 \
        else "sys.exit(...)"


def _student_traceback(exc: BaseException, folder: str) -> str:
    """The traceback limited to frames in the student's own files, paths made relative."""
    try:
        # only the student's frames have their lines read: the grader's own files are out of
        # the child's reach, and each attempt to read one costs a refused open
        theirs = ((frame, line) for frame, line in traceback.walk_tb(exc.__traceback__)
                  if frame.f_code.co_filename.startswith(folder))
        frames = traceback.StackSummary.extract(theirs)
        lines = [f'  {f.filename[len(folder):].lstrip("/")}, line {f.lineno}, in {f.name}\n'
                 f"    {f.line or ''}" for f in frames]
    except BaseException:  # noqa: BLE001 - a traceback that cannot be read costs only its detail
        lines = []
    return ("\n".join(lines[-8:]) + "\n" + describe_exception(exc)).strip()[-MAX_TEXT:]


_COMPILED: dict[str, types.CodeType] = {}  # a student file's path -> its code


class SiblingLoader(importlib.abc.Loader):
    """Loads an exercise module; if its code fails, the module stays importable but broken.

    `from helpers import f` in another module then still works when helpers.py is
    broken: only calling `f` fails, so a broken file costs the functions that use it,
    not every function of every file that imports it.
    """

    def __init__(self, inner: importlib.abc.Loader, failures: dict[str, dict], folder: str,
                 functions: tuple[str, ...] = ()) -> None:
        self.inner, self.failures, self.folder, self.functions = inner, failures, folder, functions

    def create_module(self, spec):  # noqa: ANN001 - importlib protocol
        return None

    def _code(self, name: str) -> types.CodeType:
        """The module's code, compiled once per file: a module imported both as `helpers` and as
        `exercises.helpers` runs the same code twice, compiled the first time only."""
        path = self.inner.get_filename(name)
        code = _COMPILED.get(path)
        if code is None:
            code = _COMPILED[path] = self.inner.get_code(name)
        return code

    def exec_module(self, module: types.ModuleType) -> None:
        name = module.__name__
        try:
            exec(self._code(name), module.__dict__)  # noqa: S102 - what importing the module does
        except BaseException as exc:  # noqa: BLE001 - any failure at import costs this module
            failure = _import_error(_short(name), exc, self.folder)
            self.failures[name] = failure
            module.__getattr__ = _unavailable(_short(name), failure.message)
            return
        # an exercise function the module lacks is a stand-in, so that `from helpers import f`
        # elsewhere still imports: only calling f fails (a student's own __getattr__ is kept)
        lacking = frozenset(f for f in self.functions if f not in module.__dict__)
        if lacking and "__getattr__" not in module.__dict__:
            module.__getattr__ = _unavailable(_short(name), f"{_short(name)}.py defines no such function",
                                              lacking)


class _EmptyPackage(importlib.abc.Loader):
    """The `exercises` package around the student's folder: nothing to run."""

    def create_module(self, spec):  # noqa: ANN001 - importlib protocol
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def _short(name: str) -> str:
    """"exercises.helpers" -> "helpers"."""
    return name.rsplit(".", 1)[-1]


#: The attribute that marks a stand-in for a function the student's module cannot give.
STAND_IN = "__autograder_missing__"


def _stand_in(function: str, reason: str) -> Callable[..., Any]:
    """A function that fails with `reason` when called, marked as standing in for `function`."""

    def unavailable(*args: Any, **kwargs: Any) -> None:
        raise ImportError(f"{function} is unavailable because {reason}")

    setattr(unavailable, STAND_IN, function)
    return unavailable


def stands_in(value: Any) -> str | None:
    """The exercise function `value` stands in for, if it is one of our stand-ins."""
    if type(value) is not types.FunctionType:  # never run a student object's __getattr__ here
        return None
    marker = value.__dict__.get(STAND_IN)
    return marker if isinstance(marker, str) else None


def _unavailable(module: str, reason: str, only: frozenset[str] | None = None):
    """A module-level __getattr__ whose attributes (those in `only`, if given) are stand-ins
    that fail with `reason`."""

    def __getattr__(attr: str):
        if attr.startswith("__") or (only is not None and attr not in only):
            raise AttributeError(f"module {module!r} has no attribute {attr!r}")
        return _stand_in(f"{module}.{attr}", reason)

    return __getattr__


def _import_error(name: str, exc: BaseException, folder: str) -> Failure:
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(folder):
        where = f"{exc.filename[len(folder):].lstrip('/')}, line {exc.lineno}"
        return Failure.worded("import", "does_not_parse", (exc.text or "").rstrip(), module=name,
                              error=exc.msg, where=where)
    if isinstance(exc, SystemExit):
        return Failure.worded("import", "exit_on_import", module=name, call=_exit_call(exc))
    return Failure.worded("import", "import_raised", _student_traceback(exc, folder), module=name,
                          error=describe_exception(exc))


class SiblingFinder(importlib.abc.MetaPathFinder):
    """Finds the exercise modules in the student's folder and wraps their loader.

    Each module is importable as `helpers` and as `exercises.helpers`, and the folder
    is the package `exercises`, so students may write `from helpers import f`,
    `from exercises.helpers import f` or `from .helpers import f`, whichever their
    own layout taught them.
    """

    def __init__(self, names: set[str], folder: str, failures: dict[str, Failure],
                 unusable: dict[str, str], functions: dict[str, tuple[str, ...]] | None = None) -> None:
        self.names, self.folder, self.failures, self.unusable = names, folder, failures, unusable
        self.functions = functions or {}

    def find_spec(self, name: str, path: Any = None, target: Any = None):  # noqa: ANN201
        if name == PACKAGE:
            spec = importlib.machinery.ModuleSpec(name, _EmptyPackage(), is_package=True)
            spec.submodule_search_locations = [self.folder]
            return spec
        short = _short(name)
        if short not in self.names or name not in (short, f"{PACKAGE}.{short}"):
            return None
        location = os.path.join(self.folder, f"{short}.py")
        if short in self.unusable or not os.path.isfile(location):
            reason = self.unusable.get(short, f"{short}.py is missing")
            return importlib.machinery.ModuleSpec(name, _Placeholder(short, reason))
        spec = importlib.util.spec_from_file_location(name, location)
        spec.loader = SiblingLoader(spec.loader, self.failures, self.folder, self.functions.get(short, ()))
        return spec


class _Placeholder(importlib.abc.Loader):
    """A module that could not be used (missing, rejected, or it hung at import): importable,
    but each of its functions fails with the reason when called."""

    def __init__(self, module: str, reason: str) -> None:
        self.module, self.reason = module, reason

    def create_module(self, spec):  # noqa: ANN001 - importlib protocol
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        module.__getattr__ = _unavailable(self.module, self.reason)


class Modules:
    """The student's modules: imported on `load`, each failure remembered with its reason."""

    def __init__(self, folder: str, names: tuple[str, ...], unusable: dict[str, str],
                 functions: dict[str, tuple[str, ...]] | None = None) -> None:
        self.folder, self.names = folder, names
        self.failed: dict[str, Failure] = {}
        self.imported: dict[str, types.ModuleType] = {}  # name -> the module, once it imported
        self.unusable = dict(unusable)
        sys.meta_path.insert(0, SiblingFinder(set(names), folder, self.failed, self.unusable, functions))

    def load(self, name: str) -> Failure | None:
        """Import module `name` (inside the `exercises` package); why it is unusable, if it is."""
        if name in self.unusable:
            reason = self.unusable[name]
            absent = not os.path.isfile(os.path.join(self.folder, f"{name}.py"))  # not written: not sent
            return Failure("missing" if absent else "import", reason)
        full = f"{PACKAGE}.{name}"
        try:
            importlib.import_module(full)
        except BaseException as exc:  # noqa: BLE001 - e.g. a hook student code installed
            self.failed.setdefault(full, _import_error(name, exc, self.folder))
        return self.failed.get(full)

    def get(self, name: str) -> types.ModuleType | Failure:
        """The module `name`, or why it is unusable (the module itself kept from its first
        import: each call does not go through the import system again)."""
        module = self.imported.get(name)
        if module is not None:
            return module
        failure = self.load(name)
        if failure is not None:
            return failure
        self.imported[name] = module = sys.modules[f"{PACKAGE}.{name}"]
        return module

    def copies(self, name: str) -> list[types.ModuleType]:
        """Every imported copy of student module `name` (as `name` and as `exercises.name`)."""
        found = [sys.modules.get(key) for key in (name, f"{PACKAGE}.{name}")]
        return [m for m in found if isinstance(m, types.ModuleType)
                and isinstance(getattr(m.__spec__, "loader", None), (SiblingLoader, _Placeholder))]

    @contextlib.contextmanager
    def answered_by_grader(self, helpers: tuple[str, ...], ask: Callable[..., Any]) -> Iterator[None]:
        """While the block runs, every `helpers` function ("module.name") the student's modules
        can reach is a proxy that `ask`s the grader: the module's own attribute, and every
        global of any student module bound to the student's function or to its stand-in
        (`from m import f`, `from m import f as g`). Everything is put back afterwards."""
        proxies = {name: _proxy(name, ask) for name in helpers}
        originals: dict[int, str] = {}
        for name in helpers:
            module, _, function = name.partition(".")
            for copy in self.copies(module):
                if function in copy.__dict__:
                    originals[id(copy.__dict__[function])] = name
        saved: list[tuple[dict, str, Any]] = []
        try:
            for space in [copy.__dict__ for module in self.names for copy in self.copies(module)]:
                for key, value in list(space.items()):
                    name = originals.get(id(value)) or stands_in(value)
                    if name in proxies:
                        saved.append((space, key, value))
                        space[key] = proxies[name]
            for name, proxy in proxies.items():  # `m.f` on a module (also one that lacks f)
                module, _, function = name.partition(".")
                for copy in self.copies(module):
                    if copy.__dict__.get(function) is not proxy:
                        saved.append((copy.__dict__, function, copy.__dict__.get(function, _ABSENT)))
                        copy.__dict__[function] = proxy
            yield
        finally:
            for space, key, value in reversed(saved):
                if value is _ABSENT:
                    space.pop(key, None)
                else:
                    space[key] = value


_ABSENT = object()


def _proxy(function: str, ask: Callable[..., Any]) -> Callable[..., Any]:
    """A stand-in for the student's `function` whose calls the grader answers."""

    def answered_by_grader(*args: Any, **kwargs: Any) -> Any:
        return ask(function, args, kwargs)

    answered_by_grader.__name__ = answered_by_grader.__qualname__ = function.rpartition(".")[2]
    return answered_by_grader


def _changed(before: tuple, after: tuple) -> list[bool]:
    """Per argument: did the call change it in place? (arrays, and arrays inside dicts)

    Reported to the grader, which trusts a True (it only costs the student); the
    grader checks the arrays themselves in its shared memory, so a False proves nothing.
    An array in that shared memory still in its place is the grader's to check (`_snapshot`
    kept no copy of it); one put in its place (a dict's key rebound) is compared here.
    """
    flags = []
    for old, new in zip(before, after, strict=True):
        if isinstance(old, np.ndarray) and new is old and _in_arena(old):
            flags.append(False)
        elif isinstance(old, np.ndarray):  # bit for bit: cheaper than array_equal, NaN-safe
            flags.append(not (isinstance(new, np.ndarray) and old.dtype == new.dtype
                              and old.shape == new.shape and old.tobytes() == new.tobytes()))
        elif isinstance(old, dict):
            flags.append(not isinstance(new, dict) or list(old) != list(new)
                         or any(_changed((old[k],), (new.get(k),))[0] for k in old))
        else:
            flags.append(False)
    return flags


def _in_arena(array: np.ndarray) -> bool:
    """Whether `array` lies in the arena the grader wrote the call's arguments to."""
    return isinstance(array.base, mmap.mmap)


def _snapshot(value: Any) -> Any:
    """A copy of the arguments deep enough to notice in-place changes (cheaper than deepcopy);
    not of arrays in the arena, whose changes the grader sees in its own copy of it."""
    if isinstance(value, np.ndarray):
        return value if _in_arena(value) else value.copy()
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_snapshot(v) for v in value)
    return value


def call(modules: Modules, call_id: int, function: str, args: tuple, helpers: tuple[str, ...] = (),
         ask: Callable[..., Any] | None = None) -> dict:
    """Run one student function, its `helpers` answered by `ask` (the grader); return its
    response message; never raises."""
    module_name, _, name = function.partition(".")
    module = modules.get(module_name)
    if isinstance(module, Failure):
        return protocol.raised(call_id, module)
    target = getattr(module, name, None)
    if not callable(target) or stands_in(target):
        missing = Failure.worded("missing", "no_function", module=module_name, name=name)
        return protocol.raised(call_id, missing)
    before = _snapshot(args)
    answering = modules.answered_by_grader(helpers, ask) if helpers and ask else contextlib.nullcontext()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with answering:
                value = target(*args)
        except SystemExit as exc:
            return protocol.raised(call_id, Failure.worded("exception", "exit_in_call", function=function,
                                                           call=_exit_call(exc)))
        except NotImplementedError as exc:
            return protocol.raised(call_id, _not_implemented(function, target, exc, modules.folder))
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            return protocol.raised(call_id, Failure("exception", describe_exception(exc),
                                                    _student_traceback(exc, modules.folder)))
    notes = [f"{w.category.__name__}: {w.message}" for w in caught[:protocol.MAX_WARNINGS]]
    return protocol.returned(call_id, value, _changed(before, args), notes)


def _not_implemented(function: str, target: Any, exc: BaseException, folder: str) -> Failure:
    """The function itself is a stub, or it calls one: said apart, since only the first is
    "not implemented yet" (the second is a working function whose helper is not written)."""
    frames = []
    with contextlib.suppress(BaseException):
        frames = [f for f, _ in traceback.walk_tb(exc.__traceback__)
                  if f.f_code.co_filename.startswith(folder)]
    if not frames or frames[-1].f_code is getattr(target, "__code__", None):
        return Failure.worded("not_implemented", "not_implemented", function=function)
    return Failure.worded("exception", "calls_stub", _student_traceback(exc, folder), function=function,
                          helper=frames[-1].f_code.co_name)


def encode_response(function: str, call_id: int, response: dict) -> bytes:
    """The response as a frame; a value that may not cross becomes a Raised response."""
    try:
        if response.keys() == _PLAIN_RETURN:  # most: read by the grader from a fixed layout
            return protocol.returned_frame(call_id, response["value"], [], [])
        return wire.encode(response)
    except wire.WireError as exc:
        text = f"{function} returned {exc}" if str(exc).startswith("a") else f"{function}: {exc}"
        failure = Failure("return", text)
    except MemoryError:
        failure = Failure.worded("return", "too_large", function=function)
    except Exception as exc:  # noqa: BLE001 - e.g. a value whose conversion raises
        failure = Failure.worded("return", "not_sendable", function=function, error=describe_exception(exc))
    return wire.encode(protocol.raised(call_id, failure))


MAX_BATCH = 10_000  # calls in one batch
_PLAIN_RETURN = protocol.returned(0, None, [], []).keys()  # a Returned with only its value


class Server:
    """Answers the grader's messages on `channel` until it closes or sends something unknown."""

    def __init__(self, channel: socket.socket, folder: str, arena: Any = None) -> None:
        self.channel, self.folder = channel, folder
        self.reader = wire.Reader(channel, arena=arena)
        self.modules: Modules | None = None
        self.pid = os.getpid()
        self.asking = threading.Lock()  # one Help at a time, whatever threads student code starts

    def send(self, message: bytes) -> None:
        """Send a frame, unless this is a copy of the child that student code forked: a copy
        must never speak on the grader's channel, so it leaves at once."""
        sys.stdout.flush()
        sys.stderr.flush()
        if os.getpid() != self.pid:
            os._exit(0)
        self.channel.sendall(message)

    def serve(self) -> None:
        while True:
            try:
                message = protocol.decode_request(self.reader.receive_body())
            except (wire.ChannelClosed, wire.WireError):
                return
            if not isinstance(message, dict):
                return
            if message.get("op") == "load" and self.modules is None:
                self.load(message)
            elif message.get("op") == "batch" and self.modules is not None:
                if not self.batch(message.get("count")):
                    return
            else:
                return

    def load(self, message: dict) -> None:
        names = tuple(str(m) for m in message.get("modules") or ())
        functions = {str(m): tuple(str(f) for f in fs)
                     for m, fs in dict(message.get("functions") or {}).items()}
        self.modules = Modules(self.folder, names, dict(message.get("unusable") or {}), functions)
        for name in names:
            failure = self.modules.load(name)
            self.send(wire.encode(protocol.loaded(name, failure)))

    def batch(self, count: Any) -> bool:
        """Read a whole batch before running any of it (the grader never blocks sending while
        the child writes), then answer each call in turn; False if the batch is malformed."""
        if type(count) is not int or not 0 <= count <= MAX_BATCH:
            return False
        try:
            bodies = [self.reader.receive_body() for _ in range(count)]
            calls = [protocol.decode_call(body, self.reader.arena) for body in bodies]
        except (wire.ChannelClosed, wire.WireError):
            return False
        for request in calls:
            if not (isinstance(request, dict) and request.get("op") == "call"
                    and type(request.get("id")) is int):
                return False
            function = str(request.get("function"))
            helpers = tuple(str(h) for h in request.get("helpers") or ())
            response = call(self.modules, request["id"], function, tuple(request.get("args") or ()),
                            helpers, self.ask)
            self.send(encode_response(function, request["id"], response))
        return True

    def ask(self, function: str, args: tuple, kwargs: dict) -> Any:
        """The grader's answer to a helper call made by student code (see `answered_by_grader`)."""
        with self.asking:
            try:
                frame = protocol.help_frame(function, args, kwargs)
            except (wire.WireError, TypeError, ValueError) as exc:
                raise TypeError(f"the arguments of {function} could not be sent to the grader: "
                                f"{exc}") from None
            self.send(frame)
            try:
                reply = protocol.decode_helped(self.reader.receive_body())
            except (wire.ChannelClosed, wire.WireError):
                os._exit(0)  # the grader is gone or broke the channel: nothing left to answer
        if not isinstance(reply, dict) or reply.get("op") != "helped":
            os._exit(0)
        if reply.get("error"):
            raise ValueError(f"{function} (answered by the grader's reference): {reply['error']}")
        return reply.get("value")


def serve(channel: socket.socket, folder: str, arena_fd: int | None = None) -> None:
    """Serve the grader on `channel`; call arguments arrive in the arena `arena_fd`, if any."""
    arena = wire.Arena.attach(arena_fd) if arena_fd is not None else None
    Server(channel, folder, arena).serve()
