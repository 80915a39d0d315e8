"""Landlock self-restriction for the process that is about to run untrusted code.

Landlock is an unprivileged Linux LSM: a process builds a *ruleset* (which access
rights it wants to control and which paths/ports are exempt), then enforces it on
itself with ``landlock_restrict_self``.  The restriction is irrevocable, inherited by
every descendant, and survives ``execve``.  No root, no external dependency: only
three syscalls, reached here through ``ctypes``.

Why these choices:

* Every filesystem right the *running* kernel knows is handled, so anything not
  explicitly allowed is denied.  Rights from a newer ABI are masked off, otherwise
  ``landlock_create_ruleset`` fails with EINVAL on older kernels.
* TCP bind/connect are handled (ABI >= 4) without any port rule, which denies all of
  them.  Landlock does not cover UDP or raw sockets: combine with a network namespace
  (see :mod:`autograder.sandbox.namespaces`) for real network isolation.
* ABI >= 6 scopes abstract UNIX sockets and signals to the sandbox's own domain, so
  the student process cannot signal the grader or talk to an abstract socket outside.

Syscall numbers 444/445/446 are shared by every architecture using the generic
syscall table (x86_64 and aarch64 included).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import stat
from collections.abc import Iterable

__all__ = [
    "LandlockUnavailable",
    "abi_version",
    "restrict",
    "FS_RIGHTS_BY_ABI",
]

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446

_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1
_RULE_NET_PORT = 2
_PR_SET_NO_NEW_PRIVS = 38

# Filesystem access rights (include/uapi/linux/landlock.h).
ACCESS_FS_EXECUTE = 1 << 0
ACCESS_FS_WRITE_FILE = 1 << 1
ACCESS_FS_READ_FILE = 1 << 2
ACCESS_FS_READ_DIR = 1 << 3
ACCESS_FS_REMOVE_DIR = 1 << 4
ACCESS_FS_REMOVE_FILE = 1 << 5
ACCESS_FS_MAKE_CHAR = 1 << 6
ACCESS_FS_MAKE_DIR = 1 << 7
ACCESS_FS_MAKE_REG = 1 << 8
ACCESS_FS_MAKE_SOCK = 1 << 9
ACCESS_FS_MAKE_FIFO = 1 << 10
ACCESS_FS_MAKE_BLOCK = 1 << 11
ACCESS_FS_MAKE_SYM = 1 << 12
ACCESS_FS_REFER = 1 << 13  # ABI 2
ACCESS_FS_TRUNCATE = 1 << 14  # ABI 3
ACCESS_FS_IOCTL_DEV = 1 << 15  # ABI 5

ACCESS_NET_BIND_TCP = 1 << 0  # ABI 4
ACCESS_NET_CONNECT_TCP = 1 << 1  # ABI 4

SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

_FS_ABI1 = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
#: Filesystem rights understood by each ABI (cumulative).  ABI 7 only adds audit flags.
FS_RIGHTS_BY_ABI: dict[int, int] = {
    1: _FS_ABI1,
    2: _FS_ABI1 | ACCESS_FS_REFER,
    3: _FS_ABI1 | ACCESS_FS_REFER | ACCESS_FS_TRUNCATE,
    4: _FS_ABI1 | ACCESS_FS_REFER | ACCESS_FS_TRUNCATE,
    5: _FS_ABI1 | ACCESS_FS_REFER | ACCESS_FS_TRUNCATE | ACCESS_FS_IOCTL_DEV,
}

#: The only rights the kernel accepts on a rule whose path is not a directory.
_FILE_RIGHTS = (
    ACCESS_FS_EXECUTE
    | ACCESS_FS_WRITE_FILE
    | ACCESS_FS_READ_FILE
    | ACCESS_FS_TRUNCATE
    | ACCESS_FS_IOCTL_DEV
)
_READ_ONLY_RIGHTS = ACCESS_FS_READ_FILE | ACCESS_FS_READ_DIR | ACCESS_FS_EXECUTE
#: Never granted, even beneath writable paths: a device node made there (by a process that
#: kept CAP_MKNOD) would open the disk or memory behind every other rule.
_DEVICE_RIGHTS = ACCESS_FS_MAKE_CHAR | ACCESS_FS_MAKE_BLOCK


class LandlockUnavailable(OSError):
    """Landlock is missing/disabled, or one of its syscalls failed."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel declares it __attribute__((packed)): 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPortAttr(ctypes.Structure):
    """Layout for LANDLOCK_RULE_NET_PORT rules (16 bytes); unused while no port is allowed."""

    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int


def _syscall(number: int, *args: object) -> int:
    """Raw syscall returning the result, or -errno (never raises)."""
    ctypes.set_errno(0)
    res = _libc.syscall(ctypes.c_long(number), *args)
    return res if res >= 0 else -ctypes.get_errno()


def _fail(what: str, err: int) -> LandlockUnavailable:
    return LandlockUnavailable(err, f"{what}: {os.strerror(err)}")


def abi_version() -> int:
    """Return the Landlock ABI version of the running kernel.

    Guarantees: never raises; returns 0 when the syscall is unknown (ENOSYS), when
    Landlock is compiled in but not enabled at boot (EOPNOTSUPP), or on any error.
    """
    try:
        res = _syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0),
                       ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except Exception:  # "never raises" is the contract
        return 0
    return res if res > 0 else 0


def _ruleset_attr(abi: int, allow_tcp: bool) -> tuple[_RulesetAttr, int]:
    """Build the ruleset attribute and the size to pass for this ABI.

    The size only covers the fields we fill: kernels older than a field reject a
    larger struct unless its tail is zero, and a smaller one is always accepted.
    """
    attr = _RulesetAttr(FS_RIGHTS_BY_ABI[min(abi, 5)], 0, 0)
    size = _RulesetAttr.handled_access_net.offset
    if abi >= 4:
        if not allow_tcp:
            attr.handled_access_net = ACCESS_NET_BIND_TCP | ACCESS_NET_CONNECT_TCP
        size = _RulesetAttr.scoped.offset
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = ctypes.sizeof(_RulesetAttr)
    return attr, size


#: Lowest descriptor number `preopen` uses.
PREOPEN_FLOOR = 100
#: path -> (O_PATH descriptor, is a directory), opened ahead by `preopen` and inherited
_PREOPENED: dict[str, tuple[int, bool]] = {}


def preopen(paths: Iterable[str]) -> None:
    """Open `paths` once (O_PATH) so that every process forked afterwards adds its rules
    without resolving each path again: in a zygote, before forking children. A child that
    runs untrusted code must close these descriptors (e.g. closerange) after `restrict`."""
    for path in paths:
        if path in _PREOPENED:
            continue
        try:
            opened = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue  # missing or unreadable now: `restrict` will try again and report it
        try:  # far above the low descriptors a child rewires (stdio, its channel)
            fd = fcntl.fcntl(opened, fcntl.F_DUPFD_CLOEXEC, PREOPEN_FLOOR)
        except OSError:
            continue  # out of descriptors: `restrict` opens this path itself
        finally:
            os.close(opened)
        _PREOPENED[path] = (fd, stat.S_ISDIR(os.fstat(fd).st_mode))


def _add_path_rule(ruleset_fd: int, path: str, access: int) -> None:
    """Allow ``access`` beneath ``path``; silently skip paths that do not exist."""
    if path in _PREOPENED:
        _add_rule(ruleset_fd, path, *_PREOPENED[path], access)
        return
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _fail(f"open {path!r}", exc.errno or errno.EIO) from exc
    try:
        _add_rule(ruleset_fd, path, fd, stat.S_ISDIR(os.fstat(fd).st_mode), access)
    finally:
        os.close(fd)


def _add_rule(ruleset_fd: int, path: str, fd: int, is_dir: bool, access: int) -> None:
    """Allow ``access`` beneath the opened ``fd`` (a file only gets the file rights)."""
    if not is_dir:
        access &= _FILE_RIGHTS
    if not access:
        return
    rule = _PathBeneathAttr(access, fd)
    res = _syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset_fd),
                   ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0))
    if res < 0:
        raise _fail(f"landlock_add_rule({path!r})", -res)


def _no_new_privs() -> None:
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0),
                   ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        raise _fail("prctl(PR_SET_NO_NEW_PRIVS)", ctypes.get_errno())


def _create(attr: _RulesetAttr, size: int) -> int:
    fd = _syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        raise _fail("landlock_create_ruleset", -fd)
    return fd


def _restrict_self(ruleset_fd: int) -> None:
    res = _syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset_fd), ctypes.c_uint32(0))
    if res < 0:
        raise _fail("landlock_restrict_self", -res)


def _abi() -> int:
    """The running kernel's Landlock ABI; LandlockUnavailable when it has none."""
    abi = abi_version()
    if abi <= 0:
        raise LandlockUnavailable(errno.EOPNOTSUPP, "Landlock is not supported or disabled")
    return abi


def _ruleset(attr: _RulesetAttr, size: int, read_only: Iterable[str], read_write: Iterable[str]) -> int:
    """A new ruleset handling `attr`'s rights: the read rights beneath `read_only`, every handled
    right but making device nodes beneath `read_write`."""
    ruleset_fd = _create(attr, size)
    try:
        for path in read_only:
            _add_path_rule(ruleset_fd, path, _READ_ONLY_RIGHTS & attr.handled_access_fs)
        for path in read_write:
            _add_path_rule(ruleset_fd, path, attr.handled_access_fs & ~_DEVICE_RIGHTS)
    except BaseException:
        os.close(ruleset_fd)
        raise
    return ruleset_fd


def _enforce(ruleset_fd: int) -> None:
    """Enforce a ruleset on this process and close it."""
    try:
        _restrict_self(ruleset_fd)
    finally:
        os.close(ruleset_fd)


def base_ruleset(read_only: Iterable[str], folder: str) -> int:
    """The ruleset of `restrict(read_only, [beneath folder])` made once, for every child whose
    writable paths lie beneath `folder`: read rights on `read_only`, every handled right but
    device nodes beneath `folder`. Not enforced here: `restrict(..., base=fd)` enforces it in
    the child, under a second layer that narrows writing to the child's own paths. An fd at
    PREOPEN_FLOOR or above (a child rewires the low ones); OSError on failure."""
    attr, size = _ruleset_attr(_abi(), allow_tcp=False)
    ruleset_fd = _ruleset(attr, size, read_only, [folder])
    try:
        return fcntl.fcntl(ruleset_fd, fcntl.F_DUPFD_CLOEXEC, PREOPEN_FLOOR)
    finally:
        os.close(ruleset_fd)


def restrict(
    read_only: Iterable[str],
    read_write: Iterable[str],
    *,
    allow_tcp: bool = False,
    base: int | None = None,
) -> int:
    """Irrevocably confine the calling process (and all its future children).

    After a successful return:

    * files/dirs beneath ``read_only`` paths can be read, listed and executed only;
    * beneath ``read_write`` paths every handled right is allowed (create, write,
      delete, rename within/between allowed trees, truncate, device ioctl) except
      making device nodes;
    * every other filesystem access handled by the running ABI is denied (EACCES);
      paths opened *before* the call stay usable through their descriptors;
    * if ABI >= 4 and not ``allow_tcp``: every TCP bind and connect fails (EACCES);
    * if ABI >= 6: no signal to, and no abstract UNIX socket connect towards,
      processes outside this Landlock domain;
    * no_new_privs is set, so setuid binaries cannot regain privileges.

    A path that is not a directory receives only the file-applicable subset of its
    rights.  Nonexistent paths are skipped.  Returns the ABI version used.

    With `base` (`base_ruleset(read_only, folder)`, a folder that holds every `read_write`
    path), the same holds, except that `folder` itself may be read too; `read_only` and
    `allow_tcp` are then the base's.

    Raises :class:`LandlockUnavailable` (an ``OSError``) if Landlock is unavailable
    or any syscall fails; in that case the process may already have no_new_privs set
    but is not yet confined, so the caller should refuse to run untrusted code.
    """
    abi = _abi()
    _no_new_privs()
    if base is None:
        attr, size = _ruleset_attr(abi, allow_tcp)
        _enforce(_ruleset(attr, size, read_only, read_write))
        return abi
    # the base, then a layer that handles only the rights of changing files: Landlock grants an
    # access only where every layer that handles it allows it, so reading is as the base says
    # and writing as both say
    _restrict_self(base)
    attr, size = _ruleset_attr(abi, allow_tcp=True)  # the base already refuses TCP
    attr.handled_access_fs &= ~_READ_ONLY_RIGHTS
    _enforce(_ruleset(attr, size, (), read_write))
    return abi
