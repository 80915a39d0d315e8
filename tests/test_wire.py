"""The sandbox's wire format: what may cross, what may not, and what a forged frame gets."""

from __future__ import annotations

import socket
import struct

import numpy as np
import pytest

from autograder.sandbox import wire


def roundtrip(value):
    return wire.decode_frame(wire.encode(value))


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def array_node(dtype: bytes, shape: tuple[int, ...], data: bytes) -> bytes:
    """A hand-made array node: tag, dtype, ndim, dims, data."""
    return (b"a" + bytes([len(dtype)]) + dtype + bytes([len(shape)])
            + b"".join(struct.pack("<Q", d) for d in shape) + data)


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
        -(2**63),
        2**200,
        -0.0,
        "grüße \udc80",  # a lone surrogate, as a student's exception message may hold
        np.arange(3, dtype=">i4"),  # big-endian
        np.array([1 + 2j], dtype=np.complex64),
        np.zeros((2, 0, 3), dtype=np.float16),
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
    "body",
    [
        b"",
        b"X",  # unknown tag
        b"NN",  # trailing bytes
        b"l" + u32(2**31),  # a count larger than the message
        b"l" + u32(1) * 1 + b"l\x01\x00\x00\x00" * 10_000 + b"N",  # nested too deeply
        b"s" + u32(2) + b"\xff\xfe",  # not UTF-8
        b"I" + u32(3) + b"abc",  # not an int
        array_node(b"|O8", (1,), b"\0" * 8),  # object dtype
        array_node(b"<U1", (1,), b"\0" * 4),  # str dtype
        array_node(b"=f8", (1,), b"\0" * 8),  # not how NumPy writes a dtype
        array_node(b"not a dtype", (1,), b"\0" * 8),
        array_node(b"<f8", (10**12, 10**12), b"\0" * 8),  # lying shape
        array_node(b"<f8", (2,), b"\0" * 8),  # too little data
        array_node(b"<f8", (2**63, 2**63, 0), b""),  # dimensions NumPy cannot represent
        b"a" + bytes([3]) + b"<f8" + bytes([200]),  # too many dimensions
    ],
)
def test_forged_frames_are_wire_errors(body):
    with pytest.raises(wire.WireError):
        wire.decode(body)
    with pytest.raises(wire.WireError):
        wire.decode_frame(struct.pack("<4sQ", wire.MAGIC, len(body)) + body)


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
    theirs.sendall(struct.pack("<4sQ", b"EVIL", 1) + b"N")
    with pytest.raises(wire.WireError, match="malformed frame"):
        wire.receive(ours, timeout=1)
    ours.close()
    theirs.close()


def test_a_buffered_reader_splits_messages_that_arrive_together():
    ours, theirs = socket.socketpair()
    values = [np.arange(5.0), {"ok": True}, "x" * 100_000, None]
    theirs.sendall(b"".join(wire.encode(v) for v in values))
    reader = wire.Reader(ours)
    back = [reader.receive(timeout=1) for _ in values]
    assert np.array_equal(back[0], values[0]) and back[1:] == values[1:]
    with pytest.raises(wire.ChannelTimeout):
        reader.receive(timeout=0.05)
    ours.close()
    theirs.close()


class LyingTuple(tuple):
    """Claims another length and other items than it holds."""

    def __len__(self):
        return 5

    def __iter__(self):
        return iter(range(5))


class LyingDict(dict):
    def items(self):
        return [("forged", 1)]


def test_container_subclasses_travel_as_their_plain_base_without_calling_overrides():
    from collections import OrderedDict, namedtuple

    Grads = namedtuple("Grads", "grad_x grad_W grad_b")
    back = roundtrip(Grads(np.ones(2), np.eye(2), np.zeros(2)))
    assert type(back) is tuple and len(back) == 3 and np.array_equal(back[1], np.eye(2))
    assert roundtrip(LyingTuple((1.0, 2.0))) == (1.0, 2.0)
    assert roundtrip(LyingDict(a=1.0)) == {"a": 1.0}
    assert type(roundtrip(OrderedDict(a=1.0))) is dict


def test_arrays_in_the_arena_are_views_the_grader_can_compare():
    arena = wire.Arena(1 << 16)
    layout = wire.Layout(0, arena.size)
    x, params = np.arange(600.0).reshape(20, 30), {"W": np.eye(2, dtype=np.float32)}
    frame, regions = layout.encode_call(7, "linear.linear", (x, params, 0.5))
    arena.write(0, bytes(layout.image))
    assert len(frame) < 300 < x.nbytes  # the data is in the arena, not in the frame
    message = wire.decode(frame[12:], arena.map)
    got_x, got_params, lr = message["args"]
    assert np.array_equal(got_x, x) and got_params["W"].dtype == np.float32 and lr == 0.5
    got_x[0, 0] = 99.0  # what a student's in-place change does
    unchanged = [arena.unchanged(start, end, bytes(layout.image[start:end])) for start, end in regions]
    assert unchanged == [False, True, True]
    with pytest.raises(wire.WireError):  # only the child's decoder has an arena
        wire.decode(frame[12:])
    arena.close()


def test_a_reader_refuses_a_frame_larger_than_asked_before_reading_it():
    ours, theirs = socket.socketpair()
    theirs.sendall(wire.encode(np.zeros(1000)))
    with pytest.raises(wire.FrameTooLarge) as refused:
        wire.Reader(ours).receive(timeout=1, max_size=100)
    assert refused.value.size > 8000
    ours.close()
    theirs.close()


# --- the fixed layouts of the most common messages -----------------------------------------------

FAST_VALUES = [np.arange(6.0).reshape(2, 3), 3.5, (np.zeros(2, np.float32), 1), {"W1": np.eye(2)}, None]


@pytest.mark.parametrize("value", FAST_VALUES)
def test_a_plain_returned_is_the_same_bytes_and_message_either_way(value):
    """The child's shortcut writes exactly what the dict would encode to, and the grader's
    shortcut reads exactly the message the general decoder makes of it."""
    from autograder.sandbox import protocol

    frame = protocol.returned_frame(7, value, [False, False], [])
    assert frame == wire.encode(protocol.returned(7, value, [False, False], []))
    fast, slow = protocol.decode_body(wire.body_of(frame)), protocol.decode(wire.decode_frame(frame))
    assert (fast.id, fast.modified, fast.warnings) == (slow.id, slow.modified, slow.warnings) == (7, (), ())
    assert repr(fast.value) == repr(slow.value)


def test_returned_with_flags_or_warnings_and_other_messages_take_the_general_path():
    from autograder.sandbox import protocol

    flagged = protocol.returned_frame(3, 1.0, [True], ["RuntimeWarning: overflow"])
    message = protocol.decode_body(wire.body_of(flagged))
    assert (message.id, message.modified, message.warnings) == (3, (True,), ("RuntimeWarning: overflow",))
    failure = protocol.Failure("exception", "ValueError: no")
    raised = protocol.decode_body(wire.body_of(wire.encode(protocol.raised(4, failure))))
    assert isinstance(raised, protocol.Raised) and raised.failure.message == "ValueError: no"


@pytest.mark.parametrize("helpers", [(), ("losses.mse",)])
def test_a_call_read_from_its_layout_is_the_general_decoders_call(helpers):
    from autograder.sandbox import protocol

    arena = wire.Arena(1 << 16)
    layout = wire.Layout(0, arena.size)
    args = (np.arange(12.0).reshape(4, 3), np.ones(3, np.float32), 0.5, {"b": np.zeros(2)})
    frame, _ = protocol.Call(11, "linear.linear", args, helpers).frame(layout)
    arena.write(0, bytes(layout.image))
    body = wire.body_of(frame)
    fast, slow = protocol.decode_call(body, arena.map), wire.decode(body, arena.map)
    assert fast.keys() == slow.keys() and repr(fast) == repr(slow)
    for cut in range(len(body)):  # a body cut anywhere is refused, never misread
        with pytest.raises(wire.WireError):
            protocol.decode_call(body[:cut], arena.map)
    arena.close()


@pytest.mark.parametrize("function, args, kwargs", [
    ("losses.mse", (np.ones((4, 1)), np.zeros((4, 1))), {}),
    ("activations.relu", (), {}),
    ("网络.损失", ({"W1": np.eye(2)}, 3), {}),
    ("losses.mse", (np.ones(2),), {"y": np.zeros(2)}),
])
def test_a_help_is_the_same_bytes_however_it_is_made(function, args, kwargs):
    """The grader remembers the reference's answers by a Help's bytes: the child's shortcut
    must write exactly what the dict encodes to."""
    from autograder.sandbox import protocol

    frame = protocol.help_frame(function, args, kwargs)
    assert frame == wire.encode(protocol.help_request(function, args, kwargs))
    assert wire.body_of(frame).startswith(protocol.HELP_HEAD)


@pytest.mark.parametrize("reply", [{"value": np.float64(0.25)}, {"value": (np.ones(2), None)},
                                   {"error": "no"}])
def test_a_helped_read_from_its_layout_is_the_general_decoders(reply):
    from autograder.sandbox import protocol

    body = wire.body_of(wire.encode(protocol.helped(**reply)))
    assert repr(protocol.decode_helped(body)) == repr(wire.decode(body))
    for cut in range(len(body)):
        with pytest.raises(wire.WireError):
            protocol.decode_helped(body[:cut])


@pytest.mark.parametrize("count", [0, 1, 184, 10_000])
def test_a_batch_header_read_from_its_layout_is_the_general_decoders(count):
    from autograder.sandbox import protocol

    header = wire.body_of(protocol.Batch((b"",) * count).frame())
    assert protocol.decode_request(header) == wire.decode(header) == {"op": "batch", "count": count}
    load = wire.body_of(protocol.Load(("linear",)).frame())
    assert protocol.decode_request(load) == wire.decode(load)
