"""A seccomp filter for the student process: no sockets, no io_uring, no kernel keyrings.

Landlock (up to ABI 7) leaves `connect()` to a *pathname* Unix socket unchecked,
so a confined process could still talk to any world-writable socket on the host
(`/tmp/...`, `/run/...`, `/dev/log`); the network namespace only isolates IP and
abstract sockets. Student code needs no socket at all (its channel to the grader
is inherited already open), so `socket(2)` is refused outright. io_uring could
open and connect sockets without that syscall, and the per-uid kernel keyring
outlives the process (a channel to the next submission graded under the same
uid), so both are refused too. Refused calls fail with EACCES; a syscall from
another ABI (x32, i386 compat) kills the process, as the filter cannot vet it.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
from typing import Any

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_LD_ABS_W, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_ALLOW, _ERRNO, _KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
_X32_BIT = 0x40000000

#: arch -> (AUDIT_ARCH value, refused syscalls: socket, add_key, request_key, keyctl, io_uring_setup)
_TABLE = {
    "x86_64": (0xC000003E, (41, 248, 249, 250, 425)),
    "aarch64": (0xC00000B7, (198, 217, 218, 219, 425)),
}


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def _program(audit_arch: int, refused: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
    """The BPF instructions: check the ABI, refuse the listed syscalls, allow the rest."""
    n = len(refused)
    code = [(_LD_ABS_W, 0, 0, 4),                       # seccomp_data.arch
            (_JEQ, 0, n + 4, audit_arch),               # other ABI: kill
            (_LD_ABS_W, 0, 0, 0),                       # seccomp_data.nr
            (_JGE, n + 2, 0, _X32_BIT)]                 # x32 syscall: kill
    code += [(_JEQ, n - i, 0, nr) for i, nr in enumerate(refused)]  # -> refuse
    code += [(_RET, 0, 0, _ALLOW), (_RET, 0, 0, _ERRNO | errno.EACCES), (_RET, 0, 0, _KILL_PROCESS)]
    return code


@functools.cache
def program() -> tuple[_Program, Any]:
    """The filter as the kernel takes it, and the array it points into (built once, then inherited).

    Raises OSError when the architecture has no syscall table here.
    """
    arch = platform.machine()
    if arch not in _TABLE:
        raise OSError(errno.ENOSYS, f"no seccomp syscall table for {arch}")
    code = _program(*_TABLE[arch])
    filters = (_Filter * len(code))(*[_Filter(*instruction) for instruction in code])
    return _Program(len(code), filters), filters


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def restrict() -> str:
    """Install the filter on the calling process (inherited by its children); irrevocable.

    Returns a description; raises OSError when the architecture is unknown or the
    kernel refuses the filter.
    """
    filter_program, _ = program()
    libc = _libc()
    ulong = ctypes.c_ulong
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, ulong(1), ulong(0), ulong(0), ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(_PR_SET_SECCOMP, ulong(_SECCOMP_MODE_FILTER), ctypes.byref(filter_program),
                  ulong(0), ulong(0)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp filter refused: {os.strerror(err)}")
    return "seccomp: no sockets, io_uring or keyrings"
