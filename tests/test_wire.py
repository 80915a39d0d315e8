"""The sandbox's wire format: what may cross, what may not, and what a forged frame gets."""

from __future__ import annotations

import json
import socket
import struct

import numpy as np
import pytest

from autograder.sandbox import wire


def roundtrip(value):
    frame = wire.encode(value)
    _, header_len, _ = struct.unpack("<4sIQ", frame[:16])
    return wire.decode(frame[16 : 16 + header_len], frame[16 + header_len :])


def forged(tree, offsets=(), blobs=b"") -> tuple[bytes, bytes]:
    return json.dumps({"tree": tree, "offsets": list(offsets)}).encode(), blobs


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        -2.5,
        float("inf"),
        "text",
        np.arange(6.0).reshape(2, 3),
        np.arange(6, dtype=np.float32).reshape(3, 2).T,  # not contiguous
        np.array(7.0),
        np.zeros((0, 3)),
        np.array([True, False]),
        np.arange(4, dtype=np.int64),
        (np.ones(2), 1.0),
        [1, [2, (3,)]],
        {"W1": np.eye(2), "b1": np.zeros(2)},
    ],
)
def test_allowed_values_round_trip_exactly(value):
    back = roundtrip(value)
    if isinstance(value, np.ndarray):
        assert type(back) is np.ndarray and back.dtype == value.dtype and back.shape == value.shape
        assert np.array_equal(back, value) and back.flags.writeable
    else:
        assert repr(back) == repr(value)


def test_numpy_scalars_travel_as_zero_d_arrays():
    back = roundtrip(np.float32(1.5))
    assert type(back) is np.ndarray and back.shape == () and back.dtype == np.float32


class Sub(np.ndarray):
    pass


class Liar:
    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.zeros(3).view(Sub), "test_wire.Sub, which is not a plain numpy.ndarray"),
        (Liar(), "test_wire.Liar"),
        (np.array([object()]), "dtype object is not numeric"),
        (np.array(["a"]), "is not numeric"),
        ({1: np.zeros(1)}, "keys that are not strings"),
        ({"a"}, "a set"),
        (np.float64, "which is not a plain"),
    ],
)
def test_anything_else_is_refused_with_a_reason(value, message):
    with pytest.raises(wire.WireError, match=message):
        wire.encode(value)


def test_depth_and_size_are_bounded():
    nested: list = []
    for _ in range(wire.MAX_DEPTH + 2):
        nested = [nested]
    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.encode(nested)
    with pytest.raises(wire.WireError, match="too many items"):
        wire.encode([0] * (wire.MAX_ITEMS + 1))


@pytest.mark.parametrize(
    ("header", "blobs"),
    [
        (b"not json", b""),
        (b"[[[[" * 10_000, b""),
        forged({"nd": ["|O8", [1], 0]}, [0], b"\0" * 8),  # object dtype
        forged({"nd": ["<f8", [10**12, 10**12], 0]}, [0], b"\0" * 8),  # lying shape
        forged({"nd": ["<f8", [2], 0]}, [0], b"\0" * 8),  # too little data
        forged({"nd": ["<f8", [1], 3]}, [0], b"\0" * 8),  # no such blob
        forged({"nd": ["<f8", [-1], 0]}, [0], b"\0" * 8),  # negative dimension
        forged({"x": 1}),  # unknown tag
        forged({"nd": ["not a dtype", [1], 0]}, [0], b"\0" * 8),
    ],
)
def test_forged_frames_are_wire_errors(header, blobs):
    with pytest.raises(wire.WireError):
        wire.decode(header, blobs)


def test_receive_times_out_and_notices_a_closed_channel():
    ours, theirs = socket.socketpair()
    with pytest.raises(wire.ChannelTimeout):
        wire.receive(ours, timeout=0.05)
    theirs.sendall(wire.encode({"ok": True})[:10])  # half a frame, then the peer dies
    theirs.close()
    with pytest.raises(wire.ChannelClosed):
        wire.receive(ours, timeout=1)
    ours.close()


def test_bad_magic_is_refused():
    ours, theirs = socket.socketpair()
    theirs.sendall(struct.pack("<4sIQ", b"EVIL", 2, 0) + b"{}")
    with pytest.raises(wire.WireError, match="malformed frame"):
        wire.receive(ours, timeout=1)
    ours.close()
    theirs.close()
