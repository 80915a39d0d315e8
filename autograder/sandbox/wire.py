"""Values by value across the sandbox boundary: plain arrays and numbers, never pickle.

A frame is MAGIC, the body's length (u64), then the body: one value written as
tagged nodes in prefix order, little-endian:

    N / T / F                      None, True, False
    i <i64>   I <u32 n> <digits>   an int (I: beyond 64 bits, as decimal text)
    f <f64>                        a float
    s <u32 n> <utf-8>              a str
    t|l <u32 n> <node>*n           a tuple or list
    d <u32 n> (<u32 k> <utf-8 key> <node>)*n     a dict with str keys
    a <u8 k> <dtype.str> <u8 ndim> <u64 dim>*ndim <raw C-order data>     an ndarray

Decoding builds fresh, writable, plain `numpy.ndarray`s of numeric dtypes only,
so nothing the untrusted side sends can become an object with behaviour; depth,
item count and sizes are bounded, and every length is checked against the bytes
that are really there. A binary format rather than JSON: the Python-level walk
of a JSON tree cost a third of a call's round trip.
"""

from __future__ import annotations

import functools
import math
import socket
import struct
import time
from typing import Any

import numpy as np

MAGIC = b"NNW2"
_PREFIX = struct.Struct("<4sQ")
MAX_FRAME = 64 << 20
MAX_DEPTH = 16
MAX_DIMS = 32
MAX_ITEMS = 10_000
MAX_DIGITS = 5_000
NUMERIC_KINDS = "biufc"
CHUNK = 1 << 16  # what a buffered Reader asks the socket for at once

_I64, _F64, _U32, _U64 = struct.Struct("<q"), struct.Struct("<d"), struct.Struct("<I"), struct.Struct("<Q")
_INT64_RANGE = range(-(1 << 63), 1 << 63)


class WireError(ValueError):
    """A value that may not cross the boundary, or a malformed frame."""


class ChannelClosed(ConnectionError):
    """The other side closed the channel (for the child: it exited)."""


class ChannelTimeout(TimeoutError):
    """No complete message arrived before the deadline."""


def describe(value: Any) -> str:
    """A short, safe description of a value's type: `network._Liar`, `numpy.matrix`, `set`."""
    kind = type(value)
    module = str(kind.__module__).rsplit(".", 1)[-1]  # exercises.network -> network
    return kind.__name__ if module == "builtins" else f"{module}.{kind.__qualname__}"


# --- encoding --------------------------------------------------------------------------------

class _Encoder:
    def __init__(self) -> None:
        self.out = bytearray(_PREFIX.size)
        self.items = 0

    def text(self, value: str) -> None:
        data = value.encode("utf-8", "surrogatepass")
        self.out += _U32.pack(len(data))
        self.out += data

    def node(self, value: Any, depth: int) -> None:
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS:
            raise WireError("the value is nested too deeply or has too many items")
        kind = type(value)
        if value is None:
            self.out += b"N"
        elif kind is bool:
            self.out += b"T" if value else b"F"
        elif kind is int:
            self._int(value)
        elif kind is float:
            self.out += b"f"
            self.out += _F64.pack(value)
        elif kind is str:
            self.out += b"s"
            self.text(value)
        elif kind is np.ndarray or (isinstance(value, np.generic) and kind.__module__ == "numpy"):
            self._array(np.asarray(value))  # a NumPy scalar travels as a 0-d array of its dtype
        elif kind is tuple or kind is list:
            self.out += (b"t" if kind is tuple else b"l") + _U32.pack(len(value))
            for item in value:
                self.node(item, depth + 1)
        elif kind is dict:
            self._dict(value, depth)
        else:
            raise WireError(
                f"a {describe(value)}, which is not a plain numpy.ndarray, number, tuple, list or dict"
            )

    def _int(self, value: int) -> None:
        if value in _INT64_RANGE:
            self.out += b"i"
            self.out += _I64.pack(value)
            return
        digits = str(value).encode() if value.bit_length() < MAX_DIGITS * 3 else b""
        if not 0 < len(digits) <= MAX_DIGITS:
            raise WireError("an int too large to send")
        self.out += b"I" + _U32.pack(len(digits)) + digits

    def _array(self, value: np.ndarray) -> None:
        if value.dtype.kind not in NUMERIC_KINDS or value.dtype.hasobject:
            raise WireError(f"an array of dtype {value.dtype} is not numeric")
        if value.ndim > MAX_DIMS:
            raise WireError("an array with too many dimensions")
        dtype = value.dtype.str.encode()
        self.out += b"a" + bytes((len(dtype),)) + dtype + bytes((value.ndim,))
        for dim in value.shape:
            self.out += _U64.pack(dim)
        self.out += value.tobytes(order="C")

    def _dict(self, value: dict, depth: int) -> None:
        if not all(type(k) is str for k in value):
            raise WireError("a dict with keys that are not strings")
        self.out += b"d" + _U32.pack(len(value))
        for key, item in value.items():
            self.text(key)
            self.node(item, depth + 1)


def encode(value: Any) -> bytes:
    """Serialise `value` into one frame; raises WireError for anything not allowed."""
    encoder = _Encoder()
    encoder.node(value, 0)
    size = len(encoder.out) - _PREFIX.size
    if size > MAX_FRAME:
        raise WireError("the value is too large to send back (over 64 MB)")
    _PREFIX.pack_into(encoder.out, 0, MAGIC, size)
    return bytes(encoder.out)


# --- decoding --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _dtype(text: bytes) -> np.dtype:
    """A numeric dtype from its `dtype.str`; WireError for anything else (cached: few exist)."""
    try:
        dtype = np.dtype(text.decode("ascii"))
    except (TypeError, ValueError, UnicodeDecodeError):
        raise WireError("malformed dtype") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject or dtype.str.encode() != text:
        raise WireError(f"non-numeric dtype {dtype}")
    return dtype


class _Decoder:
    def __init__(self, body: bytes) -> None:
        self.body, self.view, self.pos, self.items = body, memoryview(body), 0, 0

    def take(self, size: int) -> int:
        """Claim the next `size` bytes; return where they start."""
        start, self.pos = self.pos, self.pos + size
        if self.pos > len(self.body):
            raise WireError("truncated message")
        return start

    def count(self) -> int:
        """A u32 count or length, which cannot exceed the bytes left."""
        value = _U32.unpack_from(self.body, self.take(4))[0]
        if value > len(self.body) - self.pos:
            raise WireError("malformed length")
        return value

    def text(self) -> str:
        size = self.count()
        start = self.take(size)
        try:
            return str(self.body[start:start + size], "utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise WireError("malformed text") from None

    def node(self, depth: int) -> Any:
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS:
            raise WireError("message nested too deeply or too large")
        tag = self.body[self.take(1)]
        if tag == 0x4E:  # N
            return None
        if tag == 0x54 or tag == 0x46:  # T, F
            return tag == 0x54
        if tag == 0x69:  # i
            return _I64.unpack_from(self.body, self.take(8))[0]
        if tag == 0x66:  # f
            return _F64.unpack_from(self.body, self.take(8))[0]
        if tag == 0x73:  # s
            return self.text()
        if tag == 0x61:  # a
            return self.array()
        if tag == 0x74 or tag == 0x6C:  # t, l
            items = [self.node(depth + 1) for _ in range(self.count())]
            return tuple(items) if tag == 0x74 else items
        if tag == 0x64:  # d
            return {self.text(): self.node(depth + 1) for _ in range(self.count())}
        if tag == 0x49:  # I
            return self.big_int()
        raise WireError("malformed message")

    def big_int(self) -> int:
        size = self.count()
        digits = self.body[self.take(size):self.pos]
        if not (0 < size <= MAX_DIGITS and digits.lstrip(b"-").isdigit()):
            raise WireError("malformed int")
        return int(digits)

    def array(self) -> np.ndarray:
        size = self.body[self.take(1)]
        dtype = _dtype(bytes(self.view[self.take(size):self.pos]))
        ndim = self.body[self.take(1)]
        if ndim > MAX_DIMS:
            raise WireError("malformed array shape")
        shape = struct.unpack_from(f"<{ndim}Q", self.body, self.take(8 * ndim))
        nbytes = math.prod(shape) * dtype.itemsize  # Python ints: a lying shape cannot wrap around
        if nbytes > len(self.body) - self.pos:
            raise WireError("array data out of range")
        start = self.take(nbytes)
        try:
            if nbytes == 0:
                return np.zeros(shape, dtype)
            return np.frombuffer(self.view[start:self.pos], dtype=dtype).reshape(shape).copy()
        except (ValueError, OverflowError, MemoryError) as exc:  # a dimension numpy cannot represent
            raise WireError(f"malformed array: {exc}") from None


def decode(body: bytes) -> Any:
    """Rebuild a value from a frame's body (never unpickles); WireError if it is malformed."""
    decoder = _Decoder(bytes(body))
    try:
        value = decoder.node(0)
    except RecursionError:
        raise WireError("message nested too deeply") from None
    if decoder.pos != len(decoder.body):
        raise WireError("trailing bytes after the message")
    return value


def decode_frame(frame: bytes) -> Any:
    """The value of one whole frame (prefix included)."""
    magic, size = _PREFIX.unpack_from(frame)
    if magic != MAGIC or size != len(frame) - _PREFIX.size:
        raise WireError("malformed frame")
    return decode(frame[_PREFIX.size:])


# --- sockets ---------------------------------------------------------------------------------

def send(sock: socket.socket, value: Any) -> None:
    """Encode and send one message."""
    sock.sendall(encode(value))


class Reader:
    """Frames from a stream socket, read through a buffer: one recv often brings several.

    Use one Reader per socket for its whole life (its buffer may hold the next
    message); `greedy=False` reads exactly one frame at a time, leaving the rest in
    the socket.
    """

    def __init__(self, sock: socket.socket, greedy: bool = True) -> None:
        self.sock, self.greedy = sock, greedy
        self.buffer = bytearray()

    def receive(self, timeout: float | None = None) -> Any:
        """The next message, waiting at most `timeout` seconds in total (None: forever)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._fill(_PREFIX.size, deadline)
        magic, size = _PREFIX.unpack_from(self.buffer)
        if magic != MAGIC or size > MAX_FRAME:
            raise WireError("malformed frame")
        end = _PREFIX.size + size
        self._fill(end, deadline)
        body = bytes(self.buffer[_PREFIX.size:end])
        del self.buffer[:end]
        return decode(body)

    def _fill(self, size: int, deadline: float | None) -> None:
        """Read until the buffer holds `size` bytes."""
        while len(self.buffer) < size:
            missing = size - len(self.buffer)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ChannelTimeout()
                self.sock.settimeout(left)
            elif self.sock.gettimeout() is not None:
                self.sock.settimeout(None)
            try:
                chunk = self.sock.recv(max(missing, CHUNK) if self.greedy else min(missing, 1 << 20))
            except TimeoutError:
                raise ChannelTimeout() from None
            except OSError as exc:
                raise ChannelClosed(str(exc)) from None
            if not chunk:
                raise ChannelClosed("the other side closed the channel")
            self.buffer += chunk


def receive(sock: socket.socket, timeout: float | None = None) -> Any:
    """Receive one message without reading past it, waiting at most `timeout` seconds."""
    return Reader(sock, greedy=False).receive(timeout)
