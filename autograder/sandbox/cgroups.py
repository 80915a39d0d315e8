"""Memory and process bounds for a submission as a whole: one cgroup per scratch slot.

RLIMIT_AS bounds one process's address space, not what a submission can hold
elsewhere: tmpfs pages, kernel objects (inodes, page tables), page cache. A cgroup
bounds all of it together (the OOM killer ends the child when it is exceeded) and
its pids limit bounds threads. The sandbox makes one cgroup per scratch folder,
reused by each child that runs in that folder (never two at once), joined by the
zygote right after the fork, before any student code runs, and removed with the
folder.

cgroup v1 (a `memory` and a `pids` hierarchy, as on this machine) and v2 (one
unified tree, with `memory` and `pids` enabled for the children of our own cgroup)
are both handled; where neither is writable (a container: /sys/fs/cgroup is
mounted read-only; not root) `Place.find` says why, and the sandbox records it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MB = 1 << 20
PREFIX = "autograder-"
_STALE = re.compile(rf"{PREFIX}(\d+)-\d+")
_NUMBERS = itertools.count()


def name() -> str:
    """A cgroup name that no other cgroup of this process has, whichever Sandbox asks: the
    prefix, our pid (which `remove_stale` reads to tell whether its grader still runs), a number."""
    return f"{PREFIX}{os.getpid()}-{next(_NUMBERS)}"


#: Processes of a cgroup that are not the student's: the zygote's keeper of its slot.
KEEPER = 1


@dataclass(frozen=True)
class Cgroup:
    """One cgroup: a folder per v1 hierarchy (memory, pids) or a single v2 folder."""

    folders: tuple[Path, ...]
    description: str


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(root, mount point, file system type, super options) of every mount, from mountinfo."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        tail = fields[fields.index("-") + 1:]
        found.append((fields[3], fields[4], tail[0], set(tail[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """Our cgroup path per v1 controller, and under "" the v2 one (from /proc/self/cgroup)."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _beneath(mount_root: str, point: str, own: str) -> Path:
    """Our cgroup's folder in a mount of the hierarchy whose root is `mount_root`."""
    relative = os.path.relpath(own, mount_root) if own.startswith(mount_root) else "."
    return (Path(point) / relative).resolve()


@dataclass(frozen=True)
class Place:
    """Where this process can make cgroups: the parent folders and the cgroup version."""

    version: int
    parents: tuple[Path, ...]

    @staticmethod
    def find() -> Place | str:
        """The place (v1 memory + pids hierarchies first, else v2), or why there is none."""
        try:
            mounts, own = _mounts(), _own_paths()
        except OSError as exc:
            return f"cannot read the cgroup mounts: {exc}"
        v1 = {c: (root, point) for root, point, fs, options in mounts if fs == "cgroup"
              for c in ("memory", "pids") if c in options}
        if len(v1) == 2:
            return Place(1, tuple(_beneath(*v1[c], own.get(c, "/")) for c in ("memory", "pids")))
        v2 = [(root, point) for root, point, fs, _ in mounts if fs == "cgroup2"]
        if not v2:
            return "no cgroup v1 memory and pids hierarchies and no cgroup v2 tree are mounted"
        parent = _beneath(*v2[0], own.get("", "/"))
        return _enable_v2(parent) or Place(2, (parent,))

    def create(self, name: str, memory_bytes: int, pids: int) -> Cgroup:
        """A new cgroup `name` with these limits (and room for the zygote's keeper, which forks
        the children inside it); OSError when it cannot be made or limited."""
        folders = tuple(parent / name for parent in self.parents)
        made: list[Path] = []
        try:
            for folder in folders:
                folder.mkdir()
                made.append(folder)
            if self.version == 1:
                swap = _limit_v1(folders[0], memory_bytes)
                (folders[1] / "pids.max").write_text(str(pids + KEEPER))
            else:
                swap = _limit_v2(folders[0], memory_bytes, pids + KEEPER)
        except OSError:
            remove(Cgroup(tuple(made), ""))  # only ours: an existing folder with this name is not
            raise
        description = (f"cgroup v{self.version}: memory {memory_bytes // MB} MB"
                       f"{' (swap included)' if swap else ''}, {pids} processes and threads")
        return Cgroup(folders, description)

    def remove_stale(self) -> None:
        """Remove the empty cgroups that graders no longer running left behind (SIGKILLed ones).
        Only empty ones: a pid that looks dead may be alive in another PID namespace, and
        nothing of another grader's may be killed on that guess."""
        for parent in self.parents:
            for folder in parent.glob(f"{PREFIX}*"):
                match = _STALE.fullmatch(folder.name)
                if match and not _alive(int(match.group(1))):
                    with contextlib.suppress(OSError):
                        folder.rmdir()


def _enable_v2(parent: Path) -> str:
    """Enable memory and pids for `parent`'s children; "" on success, else why not."""
    try:
        enabled = set((parent / "cgroup.subtree_control").read_text().split())
        if not {"memory", "pids"} <= enabled:
            (parent / "cgroup.subtree_control").write_text("+memory +pids")
    except OSError as exc:
        return f"cannot enable the memory and pids controllers in {parent}: {exc.strerror}"
    return ""


def _limit_v1(memory: Path, memory_bytes: int) -> bool:
    """Set the v1 memory limit (and memory + swap, where the kernel accounts swap); True if swap is."""
    (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
    memsw = memory / "memory.memsw.limit_in_bytes"
    if memsw.exists():
        memsw.write_text(str(memory_bytes))
    return memsw.exists()


def _limit_v2(folder: Path, memory_bytes: int, pids: int) -> bool:
    """Set the v2 limits: memory.max, no swap, pids.max; True (swap is bounded, at zero)."""
    (folder / "memory.max").write_text(str(memory_bytes))
    with contextlib.suppress(FileNotFoundError):  # a kernel without swap accounting
        (folder / "memory.swap.max").write_text("0")
    (folder / "pids.max").write_text(str(pids))
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and another user's
        pass
    return True


def join(cgroup: Cgroup, pid: int) -> None:
    """Move process `pid` into `cgroup` (every hierarchy); OSError on failure."""
    for folder in cgroup.folders:
        (folder / "cgroup.procs").write_text(str(pid))


def _members(folder: Path) -> list[int]:
    try:
        return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def remove(cgroup: Cgroup, timeout: float = 2.0) -> None:
    """SIGKILL whatever is still in `cgroup` and remove its folders; never raises."""
    deadline = time.monotonic() + timeout
    for folder in cgroup.folders:
        while folder.exists():
            with contextlib.suppress(OSError):
                (folder / "cgroup.kill").write_text("1")  # v2, Linux 5.14+
            for pid in _members(folder):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            try:
                folder.rmdir()
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
