"""The messages between the grader and a student's child, as types.

Grader -> child:
    Load(modules, unusable, functions)  import these student modules now, in order (before any call)
    Batch(calls)              run these calls in order and answer each one
    Helped(value | error)     the grader's answer to the last Help
Child -> grader:
    Ready(layers)             confined, with these isolation layers holding
    Loaded(module, failure)   one module imported, or why it could not be
    Help(function, ...)       during a call made with `helpers`, student code called one of
                              them; the grader answers it from its reference (Helped)
    Returned(id, value, ...)  a call returned a value
    Raised(id, kind, ...)     a call produced no value (an exception, a missing function...)

Every response names the id of the call it answers, and the grader only accepts the
id it is waiting for. On the wire each message is a dict with an "op" (see `wire`);
`decode` turns what the child sent into one of these types or raises `ProtocolError`,
so that the grader never acts on a malformed message. Text that came from the child
is cut to `MAX_TEXT` here, on the trusted side: the child's own limits do not count.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from autograder.sandbox import wire

MAX_TEXT = 4000
MAX_WARNINGS = 5

#: Why a call produced no value (Raised.kind), besides the grader's own timeout and crash.
STUDENT_KINDS = ("exception", "not_implemented", "import", "missing", "return", "timeout")


class ProtocolError(ValueError):
    """A message that is not one the protocol allows."""


@dataclass(frozen=True)
class Failure:
    """Why a module or a call gave no value: kind, a one-line message, a traceback."""

    kind: str
    message: str
    detail: str = ""

    def to_wire(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message[:MAX_TEXT], "detail": self.detail[:MAX_TEXT]}

    @classmethod
    def from_wire(cls, data: Any) -> Failure:
        kind = _text(data, "kind", 40)
        if kind not in STUDENT_KINDS:
            raise ProtocolError(f"unknown failure kind {kind!r}")
        return cls(kind, _text(data, "message"), _text(data, "detail"))


# --- grader -> child -------------------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    """Run `function` ("module.name") on `args`."""

    id: int
    function: str
    args: tuple
    helpers: tuple[str, ...] = ()  # functions ("module.name") the grader answers while it runs

    def frame(self, layout: wire.Layout | None = None) -> tuple[bytes, tuple[tuple[int, int], ...]]:
        """The encoded call and, with a `layout` (arrays in the arena), each argument's region."""
        extra = {"helpers": tuple(self.helpers)} if self.helpers else {}
        if layout is not None:
            return layout.encode_call(self.id, self.function, tuple(self.args), extra)
        message = {"op": "call", "id": self.id, "function": self.function, **extra, "args": tuple(self.args)}
        return wire.encode(message), ()


@dataclass(frozen=True)
class Batch:
    """Calls to run in order; each is answered as soon as it returns."""

    calls: tuple[bytes, ...]  # each an encoded Call frame (encoded once per run for planned calls)

    def frame(self) -> bytes:
        return wire.encode({"op": "batch", "count": len(self.calls)}) + b"".join(self.calls)


@dataclass(frozen=True)
class Load:
    """Import `modules` now, in order; `unusable` maps modules already known broken to why."""

    modules: tuple[str, ...]
    unusable: dict[str, str] = field(default_factory=dict)
    functions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # module -> its exercise functions

    def frame(self) -> bytes:
        return wire.encode({"op": "load", "modules": tuple(self.modules), "unusable": dict(self.unusable),
                            "functions": {m: tuple(names) for m, names in self.functions.items()}})


def helped(value: Any = None, error: str = "") -> dict[str, Any]:
    """The grader's answer to a Help: the reference's value, or why it could not give one."""
    return {"op": "helped", "error": error[:MAX_TEXT]} if error else {"op": "helped", "value": value}


# --- child -> grader -------------------------------------------------------------------------

@dataclass(frozen=True)
class Ready:
    layers: tuple[str, ...]


@dataclass(frozen=True)
class Loaded:
    module: str
    failure: Failure | None = None


@dataclass(frozen=True)
class Help:
    """Student code running a call made with helpers called `function`, one of them. No call id:
    the child runs one call at a time, so the same question is the same bytes in every
    submission, and its answer can be remembered by them (`HelpRequest`)."""

    function: str
    args: tuple
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class HelpRequest:
    """A Help as received, not decoded yet: its answer may be known from its bytes alone."""

    body: bytes

    def decode(self) -> Help:
        message = decode(wire.decode(self.body))
        if not isinstance(message, Help):
            raise ProtocolError("not a help request")
        return message


@dataclass(frozen=True)
class Returned:
    id: int
    value: Any
    modified: tuple[bool, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Raised:
    id: int
    failure: Failure


Response = Returned | Raised


def returned(call_id: int, value: Any, modified: list[bool], warnings: list[str]) -> dict[str, Any]:
    """The wire form of a Returned response (empty fields left out: most calls have none)."""
    message: dict[str, Any] = {"op": "returned", "id": call_id, "value": value}
    if any(modified):
        message["modified"] = tuple(modified)
    if warnings:
        message["warnings"] = tuple(w[:300] for w in warnings[:MAX_WARNINGS])
    return message


def raised(call_id: int, failure: Failure) -> dict[str, Any]:
    return {"op": "raised", "id": call_id, **failure.to_wire()}


def loaded(module: str, failure: Failure | None) -> dict[str, Any]:
    return {"op": "loaded", "module": module, **({"failure": failure.to_wire()} if failure else {})}


def ready(layers: list[str]) -> dict[str, Any]:
    return {"op": "ready", "layers": tuple(layers)}


def help_request(function: str, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"op": "help", "function": function, "args": tuple(args), "kwargs": dict(kwargs)}


def _head(message: dict[str, Any]) -> bytes:
    """How the body of every message with `message`'s fields and "op" starts on the wire."""
    body = wire.body_of(wire.encode(message))
    return body[:body.index(message["op"].encode()) + len(message["op"])]


#: The first bytes of every Help's body.
HELP_HEAD = _head(help_request("", (), {}))


def decode(message: Any) -> Ready | Loaded | Help | Returned | Raised:
    """A decoded wire value from the child as a message type; ProtocolError if it is not one."""
    if not isinstance(message, dict):
        raise ProtocolError("a message that is not a dict")
    op = message.get("op")
    if op == "help":
        kwargs = message.get("kwargs", {})
        if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
            raise ProtocolError("help keyword arguments are not a dict of names")
        return Help(_text(message, "function", 100), _items(message.get("args", ())), dict(kwargs))
    if op == "returned":
        return Returned(_id(message), message.get("value"), _flags(message.get("modified", ())),
                        tuple(_text({"w": w}, "w", 300) for w in _items(message.get("warnings", ()))
                              )[:MAX_WARNINGS])
    if op == "raised":
        return Raised(_id(message), Failure.from_wire(message))
    if op == "loaded":
        failure = message.get("failure")
        return Loaded(_text(message, "module", 100), None if failure is None else Failure.from_wire(failure))
    if op == "ready":
        return Ready(tuple(_text({"l": layer}, "l", 200) for layer in _items(message.get("layers", ()))))
    raise ProtocolError(f"unknown message {str(op)[:40]!r}")


def _id(message: dict) -> int:
    value = message.get("id")
    if type(value) is not int:
        raise ProtocolError("a response without a call id")
    return value


def _text(data: Any, key: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(data, dict) or not isinstance(data.get(key, ""), str):
        raise ProtocolError(f"{key} is not text")
    return data.get(key, "")[:limit]


def _items(value: Any) -> tuple:
    if not isinstance(value, (tuple, list)):
        raise ProtocolError("expected a sequence")
    return tuple(value)


def _flags(value: Any) -> tuple[bool, ...]:
    flags = _items(value)
    if not all(type(f) is bool for f in flags):
        raise ProtocolError("modified flags are not booleans")
    return flags


# --- what the grader keeps of calls ------------------------------------------------------------

#: The largest answer to a call the plan did not foresee (bytes).
LIVE_RESPONSE_CAP = 8 << 20


@dataclass(frozen=True)
class Outgoing:
    """A call as sent: its id, function and encoded frame, the arena region of each argument
    with the bytes the call's arguments started from, and the largest response accepted."""

    id: int
    function: str
    frame: bytes
    regions: tuple[tuple[int, int], ...] = ()
    original: bytes = b""  # the arena from regions[0][0] to regions[-1][1] before the call
    max_size: int = LIVE_RESPONSE_CAP

    def changed(self, arena: wire.Arena) -> tuple[bool, ...]:
        """Per argument: does the arena hold other bytes than it was given? (trusted: the
        grader reads its own shared memory, whatever the child says)"""
        if not self.regions:
            return ()
        base = self.regions[0][0]
        return tuple(not arena.unchanged(start, end, self.original[start - base:end - base])
                     for start, end in self.regions)


@dataclass(frozen=True)
class PlannedCall:
    """One call a case is expected to make: the function, its arguments, the call as sent."""

    function: str
    args: tuple
    outgoing: Outgoing


@dataclass(frozen=True)
class CasePlan:
    """The planned calls of one case and its arguments as laid out in the arena (offset 0)."""

    calls: tuple[PlannedCall, ...] = ()
    image: bytes = b""


@dataclass(frozen=True)
class Answer:
    """What a call returned, as the grader sees it: the value, which arguments it changed in
    place, and the warnings it raised."""

    value: Any
    modified: tuple[bool, ...] = ()
    warnings: tuple[str, ...] = ()


class StudentError(Exception):
    """A call that produced no value: kind is timeout, crash, exception, import, missing, return,
    not_implemented. `trusted` says the message is the grader's own words about the submission's
    files (known before any case ran), which may be shown even for a hidden case."""

    def __init__(self, kind: str, message: str, detail: str = "", *, trusted: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail
        self.trusted = trusted

    @classmethod
    def of(cls, failure: Failure, function: str = "") -> StudentError:
        """The error of a call of `function` that gave no value. A stub's NotImplementedError is
        worded here, in the grader's process and the language in use, not by the child."""
        message = failure.message
        if failure.kind == "not_implemented" and function:
            from autograder.i18n import gettext

            message = gettext("{function} is not implemented yet (it raises NotImplementedError)").format(
                function=function)
        return cls(failure.kind, message, failure.detail)


class Process(ABC):
    """Where one submission's functions run, as the grading pipeline sees it.

    The sandboxed child (`session.StudentProcess`) and a notebook's kernel (nbgrader)
    both implement it; the pipeline needs nothing else of them.
    """

    isolation: list[str]
    answers_helpers = False  # whether `ask_given` works here (the sandboxed child: yes)

    @abstractmethod
    def unusable(self, module: str) -> str | None:
        """Why `module` cannot be used (missing, rejected, does not import), if it cannot."""

    @abstractmethod
    def begin_case(self, case: CasePlan) -> None:
        """A case starts: the calls it is expected to make (possibly none)."""

    @abstractmethod
    def ask(self, function: str, args: tuple, timeout: float) -> Answer:
        """The answer to `function(*args)`; StudentError when it produced no value."""

    def ask_given(self, function: str, args: tuple, timeout: float, helpers: tuple[str, ...],
                  answer: Any) -> Answer:
        """`function(*args)` with its calls to `helpers` answered by `answer` (a session.HelperAnswer)
        on the trusted side (see `chain`); only where `answers_helpers`."""
        raise NotImplementedError("this process cannot answer helper calls")

    @abstractmethod
    def enter_hidden(self) -> None:
        """Hidden cases start: from now on what student code prints is the instructor's only."""

    @abstractmethod
    def output(self, phase: str = "visible") -> str:
        """What student code printed in `phase` ("visible" or "private")."""

    def problems(self) -> dict[str, str]:
        """Modules found unusable while grading (an import that failed), with why."""
        return {}

    def close(self) -> None:  # noqa: B027 - most processes have nothing to release
        """Release the process."""
