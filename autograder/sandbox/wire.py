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
    r <u8 k> <dtype.str> <u8 ndim> <u64 dim>*ndim <u64 offset>           an ndarray in the arena

Decoding builds fresh, writable, plain `numpy.ndarray`s of numeric dtypes only,
so nothing the untrusted side sends can become an object with behaviour; depth,
item count and sizes are bounded, and every length is checked against the bytes
that are really there. A binary format rather than JSON: the Python-level walk
of a JSON tree cost a third of a call's round trip.

The grader sends a call's arrays through an `Arena`, shared memory it owns: the
frame holds only where each array lies ("r" nodes), the child works on views of
that memory, and after the call the grader compares the bytes itself. Whether a
call changed its inputs in place is therefore seen by the trusted side, whatever
the child's code says. Only the child's decoder accepts "r" nodes, and only inside
its arena; values coming back are always inline.
"""

from __future__ import annotations

import functools
import json
import math
import mmap
import os
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


class FrameTooLarge(WireError):
    """A frame announced more bytes than the reader accepts (its size in bytes: `size`)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"a message of {size} bytes")
        self.size = size


class Arena:
    """Shared memory (a memfd) holding the arguments of a submission's calls.

    The grader writes each case's arrays (`write`) and later compares them
    (`unchanged`); the child maps the same file (`attach`) and reads them as views.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.fd = os.memfd_create("autograder-arguments", os.MFD_CLOEXEC)
        os.ftruncate(self.fd, size)
        self.map = mmap.mmap(self.fd, size)

    @staticmethod
    def attach(fd: int) -> mmap.mmap:
        """The child's mapping of the arena passed to it as `fd`."""
        return mmap.mmap(fd, os.fstat(fd).st_size)

    def write(self, offset: int, data: bytes) -> None:
        self.map[offset:offset + len(data)] = data

    def unchanged(self, start: int, end: int, original: bytes) -> bool:
        """Whether the arena still holds `original` between `start` and `end`."""
        return self.map[start:end] == original

    def close(self) -> None:
        self.map.close()
        os.close(self.fd)


def source_bundle(sources: dict[str, str]) -> int:
    """A memfd holding a submission's sources ({module: text}, as JSON), for the zygote to write
    into each child's run folder: the sources never touch the grader's disk."""
    fd = os.memfd_create("autograder-sources", os.MFD_CLOEXEC)
    data = json.dumps(sources).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    return fd


def read_source_bundle(fd: int) -> dict[str, str]:
    """The sources `source_bundle` put in `fd` (read from its start, whatever its offset)."""
    size = os.fstat(fd).st_size
    chunks, done = [], 0
    while done < size:
        chunk = os.pread(fd, size - done, done)
        if not chunk:
            break
        chunks.append(chunk)
        done += len(chunk)
    return json.loads(b"".join(chunks))


def describe(value: Any) -> str:
    """A short, safe description of a value's type: `helpers._Odd`, `numpy.matrix`, `set`."""
    kind = type(value)
    module = str(kind.__module__).rsplit(".", 1)[-1]  # exercises.helpers -> helpers
    return kind.__name__ if module == "builtins" else f"{module}.{kind.__qualname__}"


# --- encoding --------------------------------------------------------------------------------

ALIGN = 64  # arena offsets: every array starts on a cache line
NOTHING = object()  # Reader.take: no whole message is buffered yet


def aligned(offset: int) -> int:
    """The first offset at or after `offset` where an array may start in the arena."""
    return -offset % ALIGN + offset


class Layout:
    """Where the arrays of some calls go in an arena: offsets from `base`, and their bytes.

    Encoding a call with a Layout (`encode_call`) appends each array's bytes to `image`
    and writes an "r" node instead of the data; it returns, per argument, the arena
    region holding that argument's arrays, which the grader compares after the call.
    """

    def __init__(self, base: int = 0, capacity: int = 0) -> None:
        self.base, self.capacity = base, capacity
        self.image = bytearray()

    @property
    def end(self) -> int:
        """The arena offset just past what is laid out so far."""
        return self.base + len(self.image)

    def place(self, value: np.ndarray) -> int | None:
        """The arena offset of a copy of `value`, or None when the arena is full."""
        start = aligned(len(self.image))
        data = value.tobytes(order="C")
        if self.capacity and self.base + start + len(data) > self.capacity:
            return None
        self.image += bytes(start - len(self.image)) + data
        return self.base + start

    def encode_call(self, call_id: int, function: str, args: tuple,
                    extra: dict[str, Any] | None = None) -> tuple[bytes, tuple[tuple[int, int], ...]]:
        """The frame of the call message {"op": "call", "id", "function", **extra, "args"}, its
        arrays placed in this layout, and the arena region of each argument."""
        encoder = _Encoder(self)
        fields = [("op", "call"), ("id", call_id), ("function", function), *(extra or {}).items()]
        encoder.out += b"d" + _U32.pack(len(fields) + 1)
        for key, value in fields:
            encoder.text(key)
            encoder.node(value, 1)
        encoder.text("args")
        encoder.out += b"t" + _U32.pack(len(args))
        regions = []
        for arg in args:
            start = self.end
            encoder.node(arg, 2)
            regions.append((start, self.end))
        return encoder.frame(), tuple(regions)


class _Encoder:
    def __init__(self, layout: Layout | None = None) -> None:
        self.out = bytearray(_PREFIX.size)
        self.items = 0
        self.layout = layout

    def text(self, value: str) -> None:
        self.out += text_node(value)

    def node(self, value: Any, depth: int) -> None:
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS:
            raise WireError("the value is nested too deeply or has too many items")
        kind = type(value)
        if kind is np.ndarray:
            self._array(value)
        elif value is None:
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
        elif isinstance(value, np.generic) and kind.__module__ == "numpy":
            self._array(np.asarray(value))  # a NumPy scalar travels as a 0-d array of its dtype
        elif isinstance(value, (tuple, list)):
            # a namedtuple or another subclass travels as the plain container it is built on; its
            # items are read with the base class's own methods, never an override's
            base = tuple if isinstance(value, tuple) else list
            items = base.__iter__(value)
            self.out += (b"t" if base is tuple else b"l") + _U32.pack(base.__len__(value))
            for item in items:
                self.node(item, depth + 1)
        elif isinstance(value, dict):
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
        try:
            digits = str(value).encode() if value.bit_length() < MAX_DIGITS * 3 else b""
        except ValueError:  # beyond sys.get_int_max_str_digits()
            digits = b""
        if not 0 < len(digits) <= MAX_DIGITS:
            raise WireError("an int too large to send")
        self.out += b"I" + _U32.pack(len(digits)) + digits

    def _array(self, value: np.ndarray) -> None:
        dtype = value.dtype
        if dtype.kind not in NUMERIC_KINDS or dtype.hasobject:
            raise WireError(f"an array of dtype {dtype} is not numeric")
        if value.ndim > MAX_DIMS:
            raise WireError("an array with too many dimensions")
        offset = self.layout.place(value) if self.layout is not None and value.size else None
        self.out += (b"a" if offset is None else b"r") + _dtype_header(dtype) + bytes((value.ndim,))
        self.out += _SHAPES[value.ndim].pack(*value.shape)
        self.out += value.tobytes(order="C") if offset is None else _U64.pack(offset)

    def frame(self) -> bytes:
        """The encoded value with its prefix: a whole frame."""
        size = len(self.out) - _PREFIX.size
        if size > MAX_FRAME:
            raise WireError("the value is too large to send back (over 64 MB)")
        _PREFIX.pack_into(self.out, 0, MAGIC, size)
        return bytes(self.out)

    def _dict(self, value: dict, depth: int) -> None:
        items = list(dict.items(value))  # a subclass's own items() or keys() is never called
        if not all(type(k) is str for k, _ in items):
            raise WireError("a dict with keys that are not strings")
        self.out += b"d" + _U32.pack(len(items))
        for key, item in items:
            self.text(key)
            self.node(item, depth + 1)


@functools.lru_cache(maxsize=64)
def _dtype_header(dtype: np.dtype) -> bytes:
    """An array node's dtype bytes: its `dtype.str`, after its length."""
    text = dtype.str.encode()
    return bytes((len(text),)) + text


def encode(value: Any, head: bytes = b"", depth: int = 0, tail: bytes = b"") -> bytes:
    """Serialise `value` into one frame; raises WireError for anything not allowed.

    `head` and `tail`: encoded nodes that come before and after `value` in the body (a message's
    fixed fields, written once), `value` then being read at `depth` (see `decode`'s `start`)."""
    encoder = _Encoder()
    encoder.out += head
    encoder.node(value, depth)
    encoder.out += tail
    return encoder.frame()


def text_node(value: str) -> bytes:
    """A text's payload as the encoder writes it (u32 length, UTF-8)."""
    data = value.encode("utf-8", "surrogatepass")
    return _U32.pack(len(data)) + data


def int64(value: int) -> bytes:
    """An i64 as a node's payload."""
    return _I64.pack(value)


def int64_at(body: bytes, pos: int) -> int:
    """The i64 at `pos` of `body` (the caller checked it is there)."""
    return _I64.unpack_from(body, pos)[0]


def text_at(body: bytes, pos: int) -> tuple[str, int] | None:
    """The text node payload (`text_node`) at `pos` of `body` and where it ends; None if it does
    not fit or is not UTF-8."""
    decoder = _Decoder(body)
    decoder.pos = pos
    try:
        return decoder.text(), decoder.pos
    except WireError:
        return None


def body_of(frame: bytes) -> bytes:
    """A frame without its prefix: what `Reader.take_body` gives."""
    return frame[_PREFIX.size:]


# --- decoding --------------------------------------------------------------------------------

#: The struct of a shape of each number of dimensions.
_SHAPES = [struct.Struct(f"<{ndim}Q") for ndim in range(MAX_DIMS + 1)]


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
    """Reads one value from a frame's body. Every read is bounds-checked against `size`; the
    common nodes (text, dicts, arrays) read their bytes inline: this runs for every call."""

    def __init__(self, body: bytes, arena: mmap.mmap | None = None) -> None:
        self.body, self.view, self.pos, self.items = body, memoryview(body), 0, 0
        self.size = len(body)
        self.arena = arena

    def take(self, size: int) -> int:
        """Claim the next `size` bytes; return where they start."""
        start = self.pos
        end = start + size
        if end > self.size:
            raise WireError("truncated message")
        self.pos = end
        return start

    def count(self) -> int:
        """A u32 count or length, which cannot exceed the bytes left."""
        pos = self.pos + 4
        if pos > self.size:
            raise WireError("truncated message")
        value = _U32.unpack_from(self.body, pos - 4)[0]
        if value > self.size - pos:
            raise WireError("malformed length")
        self.pos = pos
        return value

    def text(self) -> str:
        size = self.count()  # within the body: count checked it
        start = self.pos
        self.pos = start + size
        try:
            return str(self.body[start:start + size], "utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise WireError("malformed text") from None

    def node(self, depth: int) -> Any:
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS:
            raise WireError("message nested too deeply or too large")
        pos = self.pos
        if pos >= self.size:
            raise WireError("truncated message")
        tag = self.body[pos]
        self.pos = pos + 1
        if tag == 0x73:  # s
            return self.text()
        if tag == 0x72 and self.arena is not None:  # r
            return self.arena_array()
        if tag == 0x61:  # a
            return self.array()
        if tag == 0x64:  # d
            return {self.text(): self.node(depth + 1) for _ in range(self.count())}
        if tag == 0x69:  # i
            return _I64.unpack_from(self.body, self.take(8))[0]
        if tag == 0x74 or tag == 0x6C:  # t, l
            items = [self.node(depth + 1) for _ in range(self.count())]
            return tuple(items) if tag == 0x74 else items
        if tag == 0x66:  # f
            return _F64.unpack_from(self.body, self.take(8))[0]
        if tag == 0x4E:  # N
            return None
        if tag == 0x54 or tag == 0x46:  # T, F
            return tag == 0x54
        if tag == 0x49:  # I
            return self.big_int()
        raise WireError("malformed message")

    def big_int(self) -> int:
        size = self.count()
        digits = self.body[self.take(size):self.pos]
        if not (0 < size <= MAX_DIGITS and digits.lstrip(b"-").isdigit()):
            raise WireError("malformed int")
        return int(digits)

    def header(self) -> tuple[np.dtype, tuple[int, ...], int]:
        """An array node's dtype, shape and data size in bytes."""
        body, pos = self.body, self.pos
        if pos >= self.size:
            raise WireError("truncated message")
        end = pos + 1 + body[pos]
        if end >= self.size:
            raise WireError("truncated message")
        dtype = _dtype(body[pos + 1:end])
        ndim = body[end]
        if ndim > MAX_DIMS:
            raise WireError("malformed array shape")
        self.pos = end + 1
        shape = _SHAPES[ndim].unpack_from(body, self.take(8 * ndim))
        return dtype, shape, math.prod(shape) * dtype.itemsize  # Python ints: cannot wrap around

    def arena_array(self) -> np.ndarray:
        """A writable view of the arena (the child's side of a call's arguments)."""
        dtype, shape, nbytes = self.header()
        offset = _U64.unpack_from(self.body, self.take(8))[0]
        if offset % ALIGN or offset + nbytes > len(self.arena):
            raise WireError("array outside the arena")
        try:
            return np.ndarray(shape, dtype, buffer=self.arena, offset=offset)
        except (ValueError, OverflowError, TypeError) as exc:
            raise WireError(f"malformed array: {exc}") from None

    def array(self) -> np.ndarray:
        dtype, shape, nbytes = self.header()
        if nbytes > len(self.body) - self.pos:
            raise WireError("array data out of range")
        start = self.take(nbytes)
        try:
            if nbytes == 0:
                return np.zeros(shape, dtype)
            return np.frombuffer(self.view[start:self.pos], dtype=dtype).reshape(shape).copy()
        except (ValueError, OverflowError, MemoryError) as exc:  # a dimension numpy cannot represent
            raise WireError(f"malformed array: {exc}") from None


def decode(body: bytes, arena: mmap.mmap | None = None, start: int = 0, depth: int = 0) -> Any:
    """Rebuild a value from a frame's body (never unpickles); WireError if it is malformed.

    `arena` (the child's only) lets "r" nodes become views of that shared memory. `start`:
    read the one node there, at `depth` (the rest of a message already read), to the end."""
    decoder = _Decoder(body if type(body) is bytes else bytes(body), arena)
    decoder.pos = start
    try:
        value = decoder.node(depth)
    except RecursionError:
        raise WireError("message nested too deeply") from None
    if decoder.pos != decoder.size:
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

    def __init__(self, sock: socket.socket, greedy: bool = True, arena: mmap.mmap | None = None) -> None:
        self.sock, self.greedy, self.arena = sock, greedy, arena
        self.buffer = bytearray()

    def receive(self, timeout: float | None = None, max_size: int = MAX_FRAME) -> Any:
        """The next message, waiting at most `timeout` seconds in total (None: forever).

        A frame announcing more than `max_size` bytes is refused (FrameTooLarge) before its
        body is read: the grader never holds more of a value than it is ready to check."""
        return decode(self.receive_body(timeout, max_size), self.arena)

    def receive_body(self, timeout: float | None = None, max_size: int = MAX_FRAME) -> bytes:
        """The next message's body, undecoded (as `receive` waits for it)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._fill(_PREFIX.size, deadline)
        self._check_prefix(max_size)
        self._fill(_PREFIX.size + _PREFIX.unpack_from(self.buffer)[1], deadline)
        return self.take_body(max_size)  # type: ignore[return-value] - the buffer holds it all

    def take(self, max_size: int = MAX_FRAME) -> Any:
        """The next message if the buffer holds all of it, else NOTHING (reads nothing)."""
        body = self.take_body(max_size)
        return body if body is NOTHING else decode(body, self.arena)

    def take_body(self, max_size: int = MAX_FRAME) -> bytes | object:
        """The next frame's body, undecoded, if the buffer holds all of it, else NOTHING."""
        if len(self.buffer) < _PREFIX.size:
            return NOTHING
        size = self._check_prefix(max_size)
        end = _PREFIX.size + size
        if len(self.buffer) < end:
            return NOTHING
        body = bytes(self.buffer[_PREFIX.size:end])
        del self.buffer[:end]
        return body

    def fill(self) -> None:
        """One read of what the socket holds now (call it when select says it is readable)."""
        try:
            chunk = self.sock.recv(CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            raise ChannelClosed(str(exc)) from None
        if not chunk:
            raise ChannelClosed("the other side closed the channel")
        self.buffer += chunk

    def _check_prefix(self, max_size: int) -> int:
        """The announced body size of the buffered frame; WireError or FrameTooLarge."""
        magic, size = _PREFIX.unpack_from(self.buffer)
        if magic != MAGIC:
            raise WireError("malformed frame")
        if size > min(max_size, MAX_FRAME):
            raise FrameTooLarge(size)
        return size

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
