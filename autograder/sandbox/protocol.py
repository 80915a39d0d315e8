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

The most common messages (a call without helpers, a Batch's header, a Returned with only its
value, a Help without keyword arguments and its Helped) are also written and read at fixed
offsets (`returned_frame`, `decode_call`, ...): the same bytes as the dicts encode to, read
without building the dict. A body that does not have that layout goes through `wire.decode`.

The child words nothing a person reads: a failure it reports names one of `TEXTS` and
the values that fill it, and the grader words it in the language in use (`Failure.said`).
Its English `message` stays beside them, for the logs and for a text with no key (an
exception's own message is student code's, and stays as it was raised).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autograder.sandbox import wire
from autograder.text import N_

MAX_TEXT = 4000
MAX_WARNINGS = 5

#: Why a call produced no value (Raised.kind), besides the grader's own timeout and crash.
STUDENT_KINDS = ("exception", "not_implemented", "import", "missing", "return", "timeout")


#: What the child says of a module or a call that gave no value, by key (`Failure.text`), in English;
#: the grader words it from the key and the values (`Failure.said`).
TEXTS = {
    "does_not_parse": N_("{module}.py does not parse: {error} ({where})"),
    "exit_on_import": N_("{module}.py called {call} while being imported"),
    "import_raised": N_("importing {module}.py raised {error}"),
    "no_function": N_("{module}.py defines no function {name}"),
    "exit_in_call": N_("{function} called {call}"),
    "not_implemented": N_("{function} is not implemented yet (it raises NotImplementedError)"),
    "calls_stub": N_("{function} calls {helper}, which is not implemented yet "
                     "(it raises NotImplementedError)"),
    "too_large": N_("{function} returned a value too large to send"),
    "not_sendable": N_("{function} returned a value that could not be sent ({error})"),
}
#: Values of a failure's text: this many at most, each cut to MAX_TEXT.
MAX_VALUES = 4


class ProtocolError(ValueError):
    """A message that is not one the protocol allows."""


@dataclass(frozen=True)
class Failure:
    """Why a module or a call gave no value: kind, a one-line message, a traceback; and, when the
    message is one of TEXTS, its key and the values that fill it (to word it in another language)."""

    kind: str
    message: str
    detail: str = ""
    text: str = ""
    values: tuple[tuple[str, str], ...] = ()

    @classmethod
    def worded(cls, kind: str, text: str, detail: str = "", **values: Any) -> Failure:
        """The failure whose message is TEXTS[text] filled with `values`."""
        shown = {name: str(value) for name, value in values.items()}
        return cls(kind, TEXTS[text].format(**shown), detail, text, tuple(shown.items()))

    def said(self, **values: str) -> str:
        """The message in the language in use: TEXTS[text] translated and filled with the values
        (`values` replace the child's: what the grader knows better), else the message as sent."""
        if self.text not in TEXTS:
            return self.message
        from autograder.i18n import gettext

        try:
            return gettext(TEXTS[self.text]).format(**{**dict(self.values), **values})
        except (KeyError, IndexError, ValueError):  # a value the text needs is missing
            return self.message

    def to_wire(self) -> dict[str, Any]:
        data = {"kind": self.kind, "message": self.message[:MAX_TEXT], "detail": self.detail[:MAX_TEXT]}
        if self.text:
            data.update(text=self.text, values={k: v[:MAX_TEXT] for k, v in self.values})
        return data

    @classmethod
    def from_wire(cls, data: Any) -> Failure:
        kind = _text(data, "kind", 40)
        if kind not in STUDENT_KINDS:
            raise ProtocolError(f"unknown failure kind {kind!r}")
        text, values = _text(data, "text", 40), data.get("values") or {}
        if text and text not in TEXTS:
            raise ProtocolError(f"unknown failure text {text!r}")
        if not isinstance(values, dict) or len(values) > MAX_VALUES:
            raise ProtocolError("values is not a small dict")
        values = tuple((_text({"k": k}, "k", 40), _text(values, k)) for k in values)
        return cls(kind, _text(data, "message"), _text(data, "detail"), text, values)


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


# --- fixed layouts of the most common messages (see the module's docstring) -------------------

def _returned_head() -> tuple[bytes, bytes]:
    """How the body of a Returned with only its value is laid out: these bytes, the id (i64),
    then the second bytes (the key "value"), then the value's node."""
    body = wire.body_of(wire.encode({"op": "returned", "id": 0, "value": None}))
    at = body.index(b"value") - 4  # the key's u32 length
    return body[:at - 8], body[at:-1]


#: The fixed parts of the most common message, a Returned with nothing but its value.
RETURNED_HEAD, RETURNED_VALUE = _returned_head()
_ID = len(RETURNED_HEAD)
_VALUE = _ID + 8 + len(RETURNED_VALUE)


def returned_frame(call_id: int, value: Any, modified: list[bool], warnings: list[str]) -> bytes:
    """The frame of a Returned response (`returned`); WireError for a value that may not cross."""
    if any(modified) or warnings:
        return wire.encode(returned(call_id, value, modified, warnings))
    return wire.encode(value, RETURNED_HEAD + wire.int64(call_id) + RETURNED_VALUE, depth=1)


def _call_head() -> tuple[bytes, bytes, bytes]:
    """How the body of a Call without helpers is laid out: the first bytes, the id (i64), the
    second (the key "function" and the text tag), the function's name, the third (the key
    "args"), then the arguments' tuple."""
    body = wire.body_of(wire.encode({"op": "call", "id": 0, "function": "", "args": ()}))
    function, args = body.index(b"function") - 4, body.index(b"args") - 4
    return body[:function - 8], body[function:args - 4], body[args:-5]


CALL_HEAD, CALL_FUNCTION, CALL_ARGS = _call_head()


def decode_call(body: bytes, arena: Any = None) -> Any:
    """A message from the grader, in the child (`wire.decode`); a Call without helpers is read
    from its fixed layout without building the dict first."""
    at = len(CALL_HEAD) + 8
    if body.startswith(CALL_HEAD) and body.startswith(CALL_FUNCTION, at):
        name = wire.text_at(body, at + len(CALL_FUNCTION))
        if name is not None and body.startswith(CALL_ARGS, name[1]):
            args = wire.decode(body, arena, start=name[1] + len(CALL_ARGS), depth=1)
            call_id = wire.int64_at(body, len(CALL_HEAD))
            return {"op": "call", "id": call_id, "function": name[0], "args": args}
    return wire.decode(body, arena)


#: The body of a Batch up to its count's value (an i64, which ends the body).
BATCH_HEAD = wire.body_of(Batch(()).frame())[:-8]


def decode_request(body: bytes) -> Any:
    """A message from the grader between calls, in the child (`wire.decode`); a Batch is read
    from its fixed layout."""
    if len(body) == len(BATCH_HEAD) + 8 and body.startswith(BATCH_HEAD):
        return {"op": "batch", "count": wire.int64_at(body, len(BATCH_HEAD))}
    return wire.decode(body)


def decode_body(body: bytes) -> Ready | Loaded | Help | Returned | Raised:
    """The message of a frame's body from the child (`decode`); a Returned with only its value
    is read from its fixed layout without building the dict first."""
    if body.startswith(RETURNED_HEAD) and body.startswith(RETURNED_VALUE, _ID + 8):
        return Returned(wire.int64_at(body, _ID), wire.decode(body, start=_VALUE, depth=1))
    return decode(wire.decode(body))


def _help_layout() -> tuple[bytes, bytes, bytes]:
    """How the body of a Help without keyword arguments is laid out: the first bytes (up to the
    function's name), the name, the second (the key "args"), the arguments' tuple, the third
    (the key "kwargs" and an empty dict)."""
    body = wire.body_of(wire.encode(help_request("", (), {})))
    function, args = body.index(b"function") + len("function") + 1, body.index(b"args") - 4
    return body[:function], body[args:args + 8], body[body.index(b"kwargs") - 4:]


HELP_FUNCTION, HELP_ARGS, HELP_NO_KWARGS = _help_layout()


def help_frame(function: str, args: tuple, kwargs: dict[str, Any]) -> bytes:
    """The frame of a Help (`help_request`), the same bytes however it is made: the grader
    remembers its answers by them."""
    if kwargs:
        return wire.encode(help_request(function, args, kwargs))
    head = HELP_FUNCTION + wire.text_node(function) + HELP_ARGS
    return wire.encode(tuple(args), head, depth=1, tail=HELP_NO_KWARGS)


#: The first bytes of a Helped with a value (the value's node follows).
HELPED_VALUE = wire.body_of(wire.encode(helped(None)))[:-1]


def decode_helped(body: bytes) -> Any:
    """The grader's answer to a Help, in the child (`wire.decode`); one with a value is read from
    its fixed layout."""
    if body.startswith(HELPED_VALUE):
        return {"op": "helped", "value": wire.decode(body, start=len(HELPED_VALUE), depth=1)}
    return wire.decode(body)


# --- any message from the child ---------------------------------------------------------------

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
        if arena.unchanged(base, self.regions[-1][1], self.original):  # all at once: the common case
            return (False,) * len(self.regions)
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
    """The planned calls of one case and its arguments as laid out in the arena (offset 0);
    `batch`, the frame that sends all of them (made once: most cases send all of theirs)."""

    calls: tuple[PlannedCall, ...] = ()
    image: bytes = b""
    batch: bytes = field(default=b"", repr=False)

    @classmethod
    def of(cls, calls: tuple[PlannedCall, ...], image: bytes) -> CasePlan:
        return cls(calls, image, Batch(tuple(c.outgoing.frame for c in calls)).frame() if calls else b"")


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
        """The error of a call of `function` that gave no value, worded here, in the grader's
        process and the language in use, not by the child (which names `function` as asked)."""
        message = failure.said(function=function) if function else failure.said()
        return cls(failure.kind, message, failure.detail)


DEFAULT_CALL_TIMEOUT = 5.0  # seconds a call may take, unless the runner says otherwise


class Process(ABC):
    """Where one submission's functions run, as the grading pipeline sees it.

    The sandboxed child (`session.StudentProcess`) and a notebook's kernel (nbgrader)
    both implement it; the pipeline needs nothing else of them.
    """

    isolation: list[str]
    answers_helpers = False  # whether `ask_given` works here (the sandboxed child: yes)
    #: The time limit of a call of a function, for calls no case asks for (the runner sets it).
    timeout_of: Callable[[str], float] = staticmethod(lambda function: DEFAULT_CALL_TIMEOUT)

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
