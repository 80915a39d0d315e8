"""Seccomp filters built by hand: a list of refused system calls compiled to classic BPF.

The student process gets `STUDENT`:
- no `socket(2)`: Landlock (up to ABI 7) leaves `connect()` to a *pathname* Unix
  socket unchecked, and student code needs no socket (its channel to the grader is
  inherited already open); io_uring could open sockets without that syscall;
- no kernel keyrings: the per-uid keyring outlives the process (a channel to the
  next submission graded under the same uid);
- no new process: `fork`, `vfork` and `clone` without CLONE_THREAD are refused (threads
  stay allowed), `clone3` answers ENOSYS so that libc falls back to `clone`. A function
  that forks gets an exception and loses only itself; no fork bomb, daemon or forked
  copy of the child can exist, so nothing but the child ever writes to its channel;
- no memory outside the process's own address space and its bounded folder: SysV
  shared memory, message queues and semaphores, POSIX message queues, memfd;
- no inotify or fanotify (Landlock does not cover them: watching OUT would show
  classmates' ids as their reports are written);
- no namespaces and no mounts (`unshare`, `setns`, the old and new mount calls).
Refused calls fail with EACCES; a syscall from another ABI (x32, i386 compat) kills
the process, as the filter cannot vet it.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_LD_ABS_W, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _ERRNO, _KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
_X32_BIT = 0x40000000
_NR, _ARCH, _ARG0 = 0, 4, 16  # offsets in struct seccomp_data (arg0's low word: little-endian)
CLONE_THREAD = 0x00010000

#: arch -> (AUDIT_ARCH value, syscall numbers by name); a name absent there does not exist on it
_TABLE: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, {
        "socket": 41, "add_key": 248, "request_key": 249, "keyctl": 250, "io_uring_setup": 425,
        "shmget": 29, "shmat": 30, "semget": 64, "msgget": 68, "mq_open": 240,
        "memfd_create": 319, "memfd_secret": 447, "inotify_init": 253, "inotify_init1": 294,
        "fanotify_init": 300, "fork": 57, "vfork": 58, "clone": 56, "clone3": 435,
        "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
        "fspick": 433, "mount_setattr": 442, "bpf": 321, "perf_event_open": 298,
    }),
    "aarch64": (0xC00000B7, {
        "socket": 198, "add_key": 217, "request_key": 218, "keyctl": 219, "io_uring_setup": 425,
        "shmget": 194, "shmat": 196, "semget": 190, "msgget": 186, "mq_open": 180,
        "memfd_create": 279, "memfd_secret": 447, "inotify_init1": 26,
        "fanotify_init": 262, "clone": 220, "clone3": 435,
        "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
        "fspick": 433, "mount_setattr": 442, "bpf": 280, "perf_event_open": 241,
    }),
}


@dataclass(frozen=True)
class Refuse:
    """One refused system call and the errno it fails with.

    `if_arg0`: refused only when its first argument has one of these bits (clone with
    namespace flags); `unless_arg0`: allowed when its first argument has one of these
    bits (clone with CLONE_THREAD, a thread). Both zero: always refused.
    """

    name: str
    errno: int = errno.EACCES
    if_arg0: int = 0
    unless_arg0: int = 0


MOUNTS = ("mount", "umount2", "pivot_root", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount",
          "fspick", "mount_setattr")
STUDENT: tuple[Refuse, ...] = (
    *(Refuse(name) for name in ("socket", "io_uring_setup", "add_key", "request_key", "keyctl",
                                "shmget", "shmat", "msgget", "semget", "mq_open", "memfd_create",
                                "memfd_secret", "inotify_init", "inotify_init1", "fanotify_init",
                                "fork", "vfork", "unshare", "setns", *MOUNTS)),
    Refuse("clone", unless_arg0=CLONE_THREAD),
    Refuse("clone3", errno.ENOSYS),
)
STUDENT_DESCRIPTION = ("seccomp: no sockets, new processes, shared memory, message queues, memfd, "
                       "io_uring, keyrings, inotify, fanotify, namespaces or mounts")


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


Instruction = tuple[int, int, int, int]


def _rule_code(nr: int, rule: Refuse) -> list[Instruction]:
    """The instructions for one rule; they leave the syscall number in the accumulator."""
    refuse = (_RET, 0, 0, _ERRNO | rule.errno)
    if not (rule.if_arg0 or rule.unless_arg0):
        return [(_JEQ, 0, 1, nr), refuse]
    mask, to_refusal = (rule.if_arg0, (0, 1)) if rule.if_arg0 else (rule.unless_arg0, (1, 0))
    return [(_JEQ, 0, 4, nr),                           # another syscall: the next rule
            (_LD_ABS_W, 0, 0, _ARG0),
            (_JSET, *to_refusal, mask),
            refuse,
            (_LD_ABS_W, 0, 0, _NR)]                     # allowed: on to the next rule


def _program(audit_arch: int, numbers: dict[str, int], rules: Iterable[Refuse]) -> list[Instruction]:
    """The BPF instructions: check the ABI, refuse what the rules say, allow the rest."""
    code = [(_LD_ABS_W, 0, 0, _ARCH),
            (_JEQ, 1, 0, audit_arch),
            (_RET, 0, 0, _KILL_PROCESS),                # another ABI: kill
            (_LD_ABS_W, 0, 0, _NR),
            (_JGE, 0, 1, _X32_BIT),
            (_RET, 0, 0, _KILL_PROCESS)]                # an x32 syscall: kill
    for rule in rules:
        if rule.name in numbers:
            code += _rule_code(numbers[rule.name], rule)
    return code + [(_RET, 0, 0, _ALLOW)]


@functools.cache
def program(rules: tuple[Refuse, ...] = STUDENT) -> tuple[_Program, Any]:
    """The filter as the kernel takes it, and the array it points into (built once, then inherited).

    Raises OSError when the architecture has no syscall table here.
    """
    arch = platform.machine()
    if arch not in _TABLE:
        raise OSError(errno.ENOSYS, f"no seccomp syscall table for {arch}")
    code = _program(*_TABLE[arch], rules)
    filters = (_Filter * len(code))(*[_Filter(*instruction) for instruction in code])
    return _Program(len(code), filters), filters


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def install(rules: tuple[Refuse, ...], no_new_privs: bool = True) -> None:
    """Install a filter refusing `rules` on the calling process (inherited by its children);
    irrevocable. Without `no_new_privs` the caller needs CAP_SYS_ADMIN (as a container
    runtime does it). Raises OSError when the architecture is unknown or the kernel refuses."""
    filter_program, _ = program(rules)
    libc = _libc()
    ulong = ctypes.c_ulong
    if no_new_privs and libc.prctl(_PR_SET_NO_NEW_PRIVS, ulong(1), ulong(0), ulong(0), ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(_PR_SET_SECCOMP, ulong(_SECCOMP_MODE_FILTER), ctypes.byref(filter_program),
                  ulong(0), ulong(0)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp filter refused: {os.strerror(err)}")


def restrict() -> str:
    """Install the student filter on the calling process; return its description.

    Raises OSError when the architecture is unknown or the kernel refuses the filter.
    """
    install(STUDENT)
    return STUDENT_DESCRIPTION
