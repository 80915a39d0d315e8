"""Namespace, mount and prctl primitives for the grading child (ctypes, libc).

These are the process-lifetime half of the sandbox: they make sure that whatever the
student code spawns (daemons, fork loops, sockets) is contained and dies with the run.
The filesystem half lives in :mod:`autograder.sandbox.landlock`.

Intended use, in a child forked from the zygote::

    enter_isolated_namespaces()      # this process: new net/ipc/uts/mount ns
    mount_tmpfs(scratch, 64 << 20, 10_000)  # invisible outside, freed with the namespace
    pid = os.fork()                  # child is PID 1 of the new PID namespace
    ...
    os.kill(pid, signal.SIGKILL)     # kills *every* process of that namespace
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "CLONE_NEWIPC",
    "CLONE_NEWNET",
    "CLONE_NEWNS",
    "CLONE_NEWPID",
    "CLONE_NEWUSER",
    "CLONE_NEWUTS",
    "cover_keeping",
    "enter_isolated_namespaces",
    "mount",
    "mount_tmpfs",
    "set_child_subreaper",
    "set_pdeathsig",
    "unshare",
]

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_PRIVATE = 0x40000

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

_ISOLATION_FLAGS = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS
_FLAG_NAMES = (
    (CLONE_NEWUSER, "user"),
    (CLONE_NEWPID, "pid"),
    (CLONE_NEWNET, "net"),
    (CLONE_NEWIPC, "ipc"),
    (CLONE_NEWUTS, "uts"),
    (CLONE_NEWNS, "mount"),
)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                        ctypes.c_ulong, ctypes.c_char_p]
_libc.prctl.restype = ctypes.c_int


def _check(res: int, what: str) -> None:
    """Turn a libc ``-1`` return into an ``OSError`` carrying errno."""
    if res != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _enc(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def _prctl(option: int, arg: int, what: str) -> None:
    ulong = ctypes.c_ulong
    _check(_libc.prctl(option, ulong(arg), ulong(0), ulong(0), ulong(0)), what)


def unshare(flags: int) -> None:
    """unshare(2): move the caller into new namespaces; raise ``OSError`` on failure.

    All namespaces except PID apply to the caller immediately; a new PID namespace
    only applies to the caller's *next* children.
    """
    _check(_libc.unshare(flags), f"unshare({flags:#x})")


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None) -> None:
    """mount(2); raise ``OSError`` on failure."""
    res = _libc.mount(_enc(source), _enc(target), _enc(fstype), flags, _enc(data))
    _check(res, f"mount({target!r})")


def _describe(flags: int) -> str:
    names = [name for bit, name in _FLAG_NAMES if flags & bit]
    return "+".join(names) + " namespaces"


def _write_id_maps(uid: int, gid: int) -> None:
    """Map our own uid/gid 1:1 in a fresh user namespace (what an unprivileged
    process is allowed to do); setgroups must be denied before gid_map."""
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")


def _unshare_as_user() -> int:
    """Unprivileged path: a user namespace grants the rights for the other ones."""
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWUSER | _ISOLATION_FLAGS
    unshare(flags)
    _write_id_maps(uid, gid)
    return flags


def enter_isolated_namespaces() -> str:
    """Put the caller in new pid/net/ipc/uts/mount namespaces, mounts made private.

    Call it in a freshly forked child, *before* forking the process that will run
    untrusted code.  Guarantees on success:

    * the caller's NEXT ``fork()`` child is PID 1 of a new PID namespace; every
      process it (transitively) creates lives in that namespace, and SIGKILLing that
      PID 1 from outside makes the kernel SIGKILL all of them (setsid/double-fork
      daemons included).  Once that PID 1 has exited, further ``fork()`` calls in the
      caller fail with ENOMEM: there is one PID namespace per call;
    * the caller (and descendants) have a network namespace with only a loopback
      interface that is down: no TCP/UDP/raw traffic at all, even to 127.0.0.1;
    * SysV IPC / POSIX mqueues and the hostname are private;
    * all mounts are recursively MS_PRIVATE, so mounts made afterwards (see
      :func:`mount_tmpfs`) never propagate to the host and vanish with the namespace.

    As root, plain ``unshare`` is used; otherwise (or if root lacks CAP_SYS_ADMIN) a
    user namespace mapping the caller's own uid/gid is created alongside (the process
    must be dumpable for that: one that dropped root via setuid must first call
    ``prctl(PR_SET_DUMPABLE, 1)``, otherwise writing ``/proc/self/uid_map`` gets EACCES).
    Returns a description such as ``"pid+net+ipc+uts+mount namespaces"``.
    Raises ``OSError`` if no namespace could be created (e.g. user namespaces disabled
    for unprivileged users) or if mounts could not be made private.
    """
    flags = 0
    if os.geteuid() == 0:
        with contextlib.suppress(OSError):  # e.g. root without CAP_SYS_ADMIN
            unshare(_ISOLATION_FLAGS)
            flags = _ISOLATION_FLAGS
    if not flags:
        flags = _unshare_as_user()
    mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    return _describe(flags)


#: The namespaces `Home` leaves and re-enters, as /proc/self/ns names ("pid": its children's).
_RETURNABLE = ((CLONE_NEWNS, "mnt"), (CLONE_NEWNET, "net"), (CLONE_NEWIPC, "ipc"),
               (CLONE_NEWUTS, "uts"), (CLONE_NEWPID, "pid"))


class Home:
    """A root process's own namespaces, so that it can prepare a child's and come back.

    `leave()` moves the caller itself into new pid (for its next child), net, ipc,
    uts and mount namespaces, exactly as `enter_isolated_namespaces` does but without
    the unprivileged fallback, which could not be undone; `come_back()` returns it
    with setns(2) and checks that every namespace is its own again. A zygote that
    does both around one fork saves forking a disposable middle process per child.
    Needs CAP_SYS_ADMIN and a single-threaded caller; OSError otherwise.
    """

    def __init__(self, shared: int = 0) -> None:
        """`shared`: namespaces (CLONE_NEW* flags) that `leave` keeps, the caller's own being
        already apart from the host's and shared by every child it prepares."""
        self.fds = {flag: os.open(f"/proc/self/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)
                    for flag, name in _RETURNABLE}
        self.ids = self._ids()
        self.fresh = _ISOLATION_FLAGS & ~shared

    @staticmethod
    def _ids() -> dict[int, str]:
        """Which namespace each one is now (for pid: the one the next child gets)."""
        return {flag: os.readlink(f"/proc/self/ns/{'pid_for_children' if name == 'pid' else name}")
                for flag, name in _RETURNABLE}

    def leave(self) -> str:
        """Enter new namespaces (the shared ones stay), mounts made private; return their
        description: every one apart from the host's."""
        unshare(self.fresh)
        try:
            mount(None, "/", None, MS_REC | MS_PRIVATE, None)
        except OSError:
            self.come_back()
            raise
        return _describe(_ISOLATION_FLAGS)

    def come_back(self) -> None:
        """Re-enter every saved namespace; OSError if any is not ours again afterwards."""
        for flag, fd in self.fds.items():
            _check(_libc.setns(fd, flag), f"setns({flag:#x})")
        if self._ids() != self.ids:
            raise OSError(errno.EPERM, "setns did not bring the process back to its namespaces")


def mount_tmpfs(path: str, size_bytes: int, inodes: int) -> None:
    """Mount a tmpfs of at most ``size_bytes`` and ``inodes`` files and folders on ``path``
    (nosuid, nodev, mode 0777). Without an inode bound, empty files would hold kernel
    memory far beyond the size (3 million of them: 2.4 GB).

    Only call it after :func:`enter_isolated_namespaces`: in a private mount namespace
    the mount is invisible to the host and is torn down automatically when the last
    process of the namespace exits, so a runaway writer gets ENOSPC instead of
    filling the grader's disk, and there is nothing to unmount on cleanup.
    """
    if size_bytes <= 0 or inodes <= 0:
        raise ValueError("size_bytes and inodes must be positive")
    mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_bytes},nr_inodes={inodes},mode=0777")


def cover_keeping(home: Path, keep: Iterable[Path], holder: Path) -> None:
    """Cover the folder `home` with an empty tmpfs that anyone may traverse, then bring
    back each folder of `keep` (folders directly beneath `home`) through `holder`, an
    empty folder outside `home`.

    Only in a private mount namespace: the rest of the home stays out of sight, and
    nothing changes outside the namespace.
    """
    keep = list(keep)
    for folder in keep:
        (holder / folder.name).mkdir(exist_ok=True)
        mount(str(folder), str(holder / folder.name), None, MS_BIND | MS_REC, None)
    mount("tmpfs", str(home), "tmpfs", 0, "size=1m,mode=0755")
    for folder in keep:
        folder.mkdir()
        mount(str(holder / folder.name), str(folder), None, MS_MOVE, None)


def set_pdeathsig(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` to the caller when its parent *thread* exits.

    Cleared in children by fork and by exec of set-uid/-gid binaries.  Race: if the
    parent already died, nothing is sent, so callers should compare ``os.getppid()``
    with the expected parent pid right after this call.
    """
    _prctl(PR_SET_PDEATHSIG, int(sig), "prctl(PR_SET_PDEATHSIG)")


def set_child_subreaper() -> None:
    """Make orphaned descendants reparent to the caller instead of to init.

    Lets the caller ``waitpid(-1)`` on double-forked daemons and kill what is left
    without scanning the whole process table.
    """
    _prctl(PR_SET_CHILD_SUBREAPER, 1, "prctl(PR_SET_CHILD_SUBREAPER)")
