"""Confine the current (freshly forked) process before it runs student code.

Layers, each independent of the others:
- resource limits: address space, CPU seconds, file size, open files, no core
  dumps, and a process count that holds because the child is not root;
- an unprivileged uid of its own when the grader runs as root;
- Landlock: read access to the standard library and NumPy only, write access to
  the scratch folder only, no TCP, no abstract Unix sockets or signals outside;
- seccomp: no socket(2) at all (Landlock leaves pathname Unix sockets open),
  no io_uring and no kernel keyrings (see `seccomp`);
- a scrubbed environment and an import path without site-packages, with a
  finder that refuses torch.
The namespaces (PID, network, mount), the tmpfs and the cgroup are set up earlier,
by the zygote and the sandbox.

Every layer is recorded in the submission's result: held, by a description, or
missing, as "missing <layer>: <why>" (`missing`), so that a weaker sandbox shows.
"""

from __future__ import annotations

import ctypes
import functools
import os
import resource
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox import landlock, seccomp

MB = 1 << 20
MISSING = "missing "
#: The layers that `--sandbox require` refuses to grade without.
REQUIRED = ("namespaces", "tmpfs", "uid", "landlock", "seccomp")


def missing(layer: str, why: str) -> str:
    """How a result records a layer that did not hold."""
    return f"{MISSING}{layer}: {why}"


def missing_layers(isolation: Iterable[str]) -> list[str]:
    """The entries of an isolation record that name a missing layer."""
    return [entry for entry in isolation if entry.startswith(MISSING)]


def layer_name(entry: str) -> str:
    """The layer a missing entry names ("missing uid: ..." -> "uid")."""
    return entry.removeprefix(MISSING).split(":", 1)[0]


@dataclass(frozen=True)
class Limits:
    """Resource bounds for one student child."""

    memory_mb: int = 1024
    cpu_seconds: int = 120
    file_mb: int = 16
    open_files: int = 64
    processes: int = 32


@functools.cache
def python_read_paths() -> list[str]:
    """What student code may read: the standard library and the installed NumPy."""
    import numpy

    numpy_dir = Path(numpy.__file__).resolve().parent
    paths: set[str] = set()
    for key in ("stdlib", "platstdlib"):
        # every entry of the standard library except site-packages, where torch lives
        stdlib = Path(sysconfig.get_paths()[key])
        paths |= {str(p) for p in stdlib.iterdir() if p.name not in ("site-packages", "dist-packages")}
    paths |= {str(Path(p).resolve()) for p in sys.path if p.endswith("lib-dynload")}
    paths.add(str(numpy_dir))
    paths |= {str(p) for p in numpy_dir.parent.glob("numpy.libs")}
    paths |= {str(p) for p in numpy_dir.parent.glob("numpy-*.dist-info")}
    paths |= {"/dev/null", "/dev/urandom"}
    return sorted(paths)


def private_ancestor(path: Path) -> Path | None:
    """The highest ancestor of `path` that other users may not traverse (like /root), if any."""
    for parent in reversed(path.parents):
        if parent != Path("/") and not parent.stat().st_mode & 0o001:
            return parent
    return None


@functools.cache
def hidden_python() -> tuple[tuple[Path, Path], ...]:
    """Where the Python installation is out of other users' reach: per private folder (a
    home such as /root, mode 0700), the folder beneath it that leads to what student code
    reads (/root/.pyenv). Empty when a per-run uid can read everything it needs."""
    pairs = set()
    for path in map(Path, python_read_paths()):
        home = private_ancestor(path)
        if home is not None:
            pairs.add((home, home / path.relative_to(home).parts[0]))
    return tuple(sorted(pairs))


@functools.cache
def stdlib_paths() -> frozenset[str]:
    """The standard library's folders (sysconfig computes them slowly: ~1 ms a call)."""
    return frozenset(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib"))


def prepare() -> None:
    """Work out once, in the zygote, what every child's confinement needs (children inherit it)."""
    readable = python_read_paths()
    stdlib_paths()
    hidden_python()
    landlock.preopen(readable)
    seccomp.program(seccomp.STUDENT)  # the key install() asks with: built once, in the zygote


def set_limits(limits: Limits) -> None:
    """Apply the resource limits (RLIMIT_NPROC only binds a non-root uid)."""
    soft_hard = {
        resource.RLIMIT_AS: limits.memory_mb * MB,
        resource.RLIMIT_CPU: limits.cpu_seconds,
        resource.RLIMIT_FSIZE: limits.file_mb * MB,
        resource.RLIMIT_NOFILE: limits.open_files,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_NPROC: limits.processes,
    }
    for which, value in soft_hard.items():
        resource.setrlimit(which, (value, value))


_CAPABILITY_VERSION_3 = 0x20080522


def drop_capabilities() -> None:
    """Give up every capability for good (effective, permitted, inheritable; ambient follows):
    for a root process that has to keep uid 0. OSError if the kernel refuses."""
    header = (ctypes.c_uint32 * 2)(_CAPABILITY_VERSION_3, 0)  # this process
    empty = (ctypes.c_uint32 * 6)()  # two 32-bit halves of three empty sets
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.capset(header, empty) != 0:
        raise OSError(ctypes.get_errno(), "capset: cannot drop the capabilities")


def drop_privileges(uid: int) -> None:
    """Become `uid` (and gid = uid) with no supplementary groups; only possible as root."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def scrub_environment(home: str) -> None:
    """Replace the whole environment: nothing of the grader's reaches student code."""
    os.environ.clear()
    os.environ.update({
        "HOME": home, "TMPDIR": home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    })


def restrict_imports(folder: str, stdlib: frozenset[str]) -> None:
    """Student modules import from `folder` and the standard library; torch is refused."""
    from autograder.sandbox.child import TorchBlocker

    sys.path[:] = [folder] + [p for p in sys.path if p in stdlib or p.endswith("lib-dynload")]
    sys.meta_path.insert(0, TorchBlocker())
    sys.dont_write_bytecode = True
    for name in [m for m in sys.modules if m.split(".")[0] in TorchBlocker.BLOCKED]:
        del sys.modules[name]


_LANDLOCK_BASES: dict[str, int] = {}  # a scratch slot's folder -> its base ruleset (`landlock_base`)


def landlock_base(scratch: str) -> int | None:
    """The Landlock ruleset every child of the scratch slot `scratch` starts from: read the
    standard library and NumPy, change files beneath `scratch` (`landlock.base_ruleset`). Made
    once per slot by the process that forks the children (about 1 ms of 210 rules a child saves);
    None where it cannot be made: the child then makes its ruleset whole (and says why not)."""
    if scratch not in _LANDLOCK_BASES:
        try:
            _LANDLOCK_BASES[scratch] = landlock.base_ruleset(python_read_paths(), scratch)
        except OSError:
            return None
    return _LANDLOCK_BASES[scratch]


def confine(folder: str, limits: Limits, uid: int | None, require_landlock: bool,
            landlock_base: int | None = None) -> list[str]:
    """Apply every layer to this process; return what holds and what is missing (`missing`).
    `landlock_base`: the slot's base ruleset (see `landlock_base`), where the forking process
    made one; `folder` lies beneath that slot.

    Raises OSError when Landlock or seccomp is required and unavailable.
    """
    held = []
    readable = python_read_paths()  # computed before any restriction takes hold
    stdlib = stdlib_paths()
    if os.getuid() != 0:
        held.append(missing("uid", "the grader does not run as root: student code runs as its user"))
    elif uid is not None:
        drop_privileges(uid)
        held.append(f"uid {uid}")
    try:
        abi = landlock.restrict(readable, [folder], base=landlock_base)
        held.append(f"landlock ABI {abi}")
    except OSError as exc:
        if require_landlock:
            raise
        held.append(missing("landlock", str(exc)))
    try:
        held.append(seccomp.restrict())
    except OSError as exc:
        if require_landlock:
            raise
        held.append(missing("seccomp", str(exc)))
    set_limits(limits)  # last: Landlock needs a descriptor while the zygote's are still open
    held.append("rlimits")
    if os.getuid() == 0:  # the uid could not be changed: at least no capability is left
        drop_capabilities()
        held.append("capabilities dropped (uid 0 kept)")
    scrub_environment(folder)
    restrict_imports(folder, stdlib)
    os.chdir(folder)
    return held
