"""Values by value across the sandbox boundary: plain arrays and numbers, never pickle.

A message is a frame: magic, header length, blob length, a JSON header, then raw
array bytes. The JSON header is a tree whose leaves are JSON numbers, strings,
booleans, null, or {"nd": [dtype, shape, blob index]} for an array. Decoding
builds fresh, writable, plain `numpy.ndarray`s of numeric dtypes only, so
nothing the untrusted side sends can become an object with behaviour.
"""

from __future__ import annotations

import json
import math
import socket
import struct
import time
from typing import Any

import numpy as np

MAGIC = b"NNW1"
_PREFIX = struct.Struct("<4sIQ")
MAX_HEADER = 1 << 20
MAX_BLOBS = 64 << 20
MAX_DEPTH = 16
MAX_DIMS = 32
MAX_ITEMS = 10_000
NUMERIC_KINDS = "biufc"


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


def _to_tree(value: Any, blobs: list[bytes], depth: int, count: list[int]) -> Any:
    count[0] += 1
    if depth > MAX_DEPTH or count[0] > MAX_ITEMS:
        raise WireError("the value is nested too deeply or has too many items")
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if isinstance(value, np.generic) and kind.__module__ == "numpy":
        value = np.asarray(value)  # a NumPy scalar travels as a 0-d array of its dtype
        kind = np.ndarray
    if kind is np.ndarray:
        if value.dtype.kind not in NUMERIC_KINDS or value.dtype.hasobject:
            raise WireError(f"an array of dtype {value.dtype} is not numeric")
        blobs.append(value.tobytes(order="C"))
        return {"nd": [value.dtype.str, list(value.shape), len(blobs) - 1]}
    if kind in (tuple, list):
        return {"t" if kind is tuple else "l": [_to_tree(v, blobs, depth + 1, count) for v in value]}
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise WireError("a dict with keys that are not strings")
        return {"d": {k: _to_tree(v, blobs, depth + 1, count) for k, v in value.items()}}
    raise WireError(
        f"a {describe(value)}, which is not a plain numpy.ndarray, number, tuple, list or dict"
    )


def encode(value: Any) -> bytes:
    """Serialise `value` into one frame; raises WireError for anything not allowed."""
    blobs: list[bytes] = []
    tree = _to_tree(value, blobs, 0, [0])
    offsets, position = [], 0
    for blob in blobs:
        offsets.append(position)
        position += len(blob)
    blob_bytes = b"".join(blobs)
    header = json.dumps({"tree": tree, "offsets": offsets}).encode()
    if len(header) > MAX_HEADER or len(blob_bytes) > MAX_BLOBS:
        raise WireError("the value is too large to send back (over 64 MB)")
    return _PREFIX.pack(MAGIC, len(header), len(blob_bytes)) + header + blob_bytes


def _array(spec: Any, blobs: memoryview, offsets: list[int]) -> np.ndarray:
    if not (isinstance(spec, list) and len(spec) == 3):
        raise WireError("malformed array header")
    dtype_str, shape, index = spec
    try:
        dtype = np.dtype(str(dtype_str))
    except (TypeError, ValueError):
        raise WireError("malformed dtype") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject:
        raise WireError(f"non-numeric dtype {dtype}")
    if not (isinstance(shape, list) and len(shape) <= MAX_DIMS
            and all(type(n) is int and n >= 0 for n in shape)):
        raise WireError("malformed array shape")
    if not (type(index) is int and 0 <= index < len(offsets)):
        raise WireError("malformed array index")
    start = offsets[index]
    size = math.prod(shape) * dtype.itemsize  # Python ints: a lying shape cannot wrap around
    if start < 0 or start + size > len(blobs):
        raise WireError("array data out of range")
    try:
        return np.frombuffer(blobs[start : start + size], dtype=dtype).reshape(tuple(shape)).copy()
    except ValueError as exc:  # e.g. a dimension numpy cannot represent
        raise WireError(f"malformed array: {exc}") from None


def _from_tree(node: Any, blobs: memoryview, offsets: list[int], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("message nested too deeply")
    if node is None or type(node) in (bool, int, float, str):
        return node
    if type(node) is not dict or len(node) != 1:
        raise WireError("malformed message")
    (tag, body), = node.items()
    if tag == "nd":
        return _array(body, blobs, offsets)
    if tag in ("t", "l") and type(body) is list:
        items = [_from_tree(v, blobs, offsets, depth + 1) for v in body]
        return tuple(items) if tag == "t" else items
    if tag == "d" and type(body) is dict:
        return {str(k): _from_tree(v, blobs, offsets, depth + 1) for k, v in body.items()}
    raise WireError("malformed message")


def decode(header: bytes, blobs: bytes) -> Any:
    """Rebuild a value from a frame's header and blob bytes (never unpickles)."""
    try:
        envelope = json.loads(header)
        offsets = envelope["offsets"]
        tree = envelope["tree"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # "[[[[..." overflows the parser
        raise WireError(f"malformed message header: {exc}") from None
    if not (type(offsets) is list and all(type(o) is int for o in offsets)):
        raise WireError("malformed offsets")
    return _from_tree(tree, memoryview(blobs), offsets, 0)


def send(sock: socket.socket, value: Any) -> None:
    """Encode and send one message."""
    sock.sendall(encode(value))


def _recv_exact(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChannelTimeout()
            sock.settimeout(left)
        try:
            chunk = sock.recv(min(remaining, 1 << 20))
        except TimeoutError:
            raise ChannelTimeout() from None
        except OSError as exc:
            raise ChannelClosed(str(exc)) from None
        if not chunk:
            raise ChannelClosed("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket, timeout: float | None = None) -> Any:
    """Receive one message, waiting at most `timeout` seconds in total (None: forever)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    magic, header_len, blob_len = _PREFIX.unpack(_recv_exact(sock, _PREFIX.size, deadline))
    if magic != MAGIC or header_len > MAX_HEADER or blob_len > MAX_BLOBS:
        raise WireError("malformed frame")
    header = _recv_exact(sock, header_len, deadline)
    return decode(header, _recv_exact(sock, blob_len, deadline))
