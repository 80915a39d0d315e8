"""The zygote: a torch-free interpreter with NumPy loaded that forks one confined child per request.

Started by the trusted grader with a scrubbed environment. It never imports
torch, the hidden cases or the solutions, so nothing a child inherits from it is
secret. Requests arrive on a SOCK_SEQPACKET control socket, each carrying four
SCM_RIGHTS file descriptors for the child (`ChildFds`): its end of a fresh channel,
the write end of the pipe the grader reads its output from, the arena holding
its calls' arguments, and the submission's sources (written into the child's run folder).

As root, per request (`_spawn_here`): the zygote itself enters new PID, IPC, UTS
and mount namespaces, mounts the child's tmpfs, forks the child (PID 1 of the new
PID namespace: it confines itself and serves calls), then returns to its own
namespaces with setns and checks that it did; its network namespace, made once
and apart from the host's, is every child's (see `_home`). Otherwise (no root), a
disposable middle process does the namespace part and exits:
    zygote -> middle (enters the namespaces, mounts the tmpfs) -> child
Either way, killing the child, PID 1 of its namespace, kills everything it
started. Where no namespace can be had (a container without CAP_SYS_ADMIN, whose
seccomp profile refuses unshare and mount), the first spawn finds out why and
every child is then forked directly, with its folder on disk; the child's own
seccomp filter refuses to create processes, so nothing outlives it even so.
Where the sandbox made a cgroup for a scratch slot, the child is born in it: the
zygote forks a keeper for the slot once, moves it into the cgroup, and hands it
that slot's requests; the keeper spawns as above, from inside the cgroup. Moving a
process into a cgroup waits for an RCU grace period (about 10 ms on cgroup v1,
idle time for the grader), once per slot instead of once per child; a keeper
that died (its cgroup removed) is replaced. Everything every child needs (paths
to allow, Landlock's path descriptors, the seccomp program) is prepared once here.

Each spawn reports the layers it set up, held or missing (see `confine.missing`).
"""

from __future__ import annotations

import fcntl
import gc
import json
import os
import signal
import socket
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, NoReturn

import numpy  # noqa: F401 - loaded once here so that every child starts warm

from autograder.sandbox import cgroups, child, namespaces
from autograder.sandbox.confine import (
    MISSING,
    Limits,
    confine,
    hidden_python,
    landlock_base,
    missing,
    prepare,
)

CHANNEL_FD, ARENA_FD = 3, 4


class ChildFds(NamedTuple):
    """What the grader hands over for one child: channel, output pipe, argument arena, and the
    submission's sources (`wire.source_bundle`)."""

    channel: int
    output: int
    arena: int
    sources: int

    def close(self) -> None:
        for fd in self:
            os.close(fd)


#: Files and folders a scratch tmpfs may hold (student code needs a handful).
TMPFS_INODES = 10_000


def _expose_python(scratch: Path, hidden: tuple[tuple[Path, Path], ...]) -> None:
    """Let an unprivileged child reach the Python installation inside private homes.

    Only in the child's private mount namespace: each home (e.g. /root, mode 0700)
    is covered by an empty tmpfs and only the folders leading to Python are moved
    back beneath it, so the rest of the home stays out of sight.
    """
    holder = scratch / "python"
    holder.mkdir(exist_ok=True)
    for home in sorted({home for home, _ in hidden}):
        namespaces.cover_keeping(home, [keep for h, keep in hidden if h == home], holder)


def _readable_uid(request: dict, isolated: bool) -> tuple[dict, list[str]]:
    """The request with a uid that can run Python, and the layer missing if none can.

    When Python lives in a folder other users may not enter (/root), a per-run uid
    could not even import the standard library: inside the child's mount namespace
    the folder is exposed; without one, the child keeps the grader's uid.
    """
    hidden = hidden_python()
    uid = request.get("uid")
    if not (hidden and uid is not None and os.geteuid() == 0):
        return request, []
    if isolated:
        _expose_python(Path(request["scratch"]), hidden)
        return request, []
    homes = ", ".join(sorted({str(home) for home, _ in hidden}))
    why = (f"{homes} is not readable by other users and holds the Python installation, which uid "
           f"{uid} could then not run; with no mount namespace to expose it, the child keeps the "
           "grader's uid")
    return {**request, "uid": None}, [missing("uid", why)]


def _mount_scratch(run: Path, request: dict, isolated: bool) -> str:
    """Mount the size- and inode-bounded tmpfs on the run folder; the layer, held or missing."""
    size_mb = request.get("tmpfs_mb")
    if not size_mb:
        return missing("tmpfs", "switched off (tmpfs_mb = 0)")
    if not isolated:
        return missing("tmpfs", "no private mount namespace: the scratch folder is on disk")
    try:
        namespaces.mount_tmpfs(str(run), size_mb << 20, TMPFS_INODES)
    except OSError as exc:
        return missing("tmpfs", str(exc))
    return f"tmpfs {size_mb} MB, {TMPFS_INODES} files"


def _prepare_run_folder(request: dict, isolated: bool, sources: int) -> tuple[str, str]:
    """Create the child's writable folder (a bounded tmpfs where possible) with the sources
    of the bundle `sources`; return it and the tmpfs layer."""
    run = Path(request["scratch"]) / "run"
    run.mkdir(mode=0o700, exist_ok=True)
    tmpfs = _mount_scratch(run, request, isolated)
    for module, text in child.wire.read_source_bundle(sources).items():
        if module.isidentifier():  # the grader names modules; a name is never a path
            (run / f"{module}.py").write_text(text, encoding="utf-8")
    uid = request.get("uid")
    if uid is not None and os.geteuid() == 0:
        for path in [run, *run.iterdir()]:
            os.chown(path, uid, uid)
    return str(run), tmpfs


def _join_cgroup(request: dict, pid: int) -> list[str]:
    """Move the new child into its slot's cgroup, if the sandbox made one; the layer."""
    spec = request.get("cgroup")
    if not spec:
        return []
    group = cgroups.Cgroup(tuple(Path(f) for f in spec["folders"]), spec["description"])
    try:
        cgroups.join(group, pid)
    except OSError as exc:
        return [missing("cgroup", f"could not join {group.folders[0]}: {exc.strerror}")]
    return [group.description]


def _wire_fds(fds: ChildFds) -> None:
    """stdin from /dev/null, stdout and stderr to the output pipe, the channel on fd 3 and
    the arena on fd 4 (moved out of the way first: the received fds may sit on 0 to 4)."""
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in fds]  # closed after confinement
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(high[1], 1)
    os.dup2(high[1], 2)
    os.dup2(high[0], CHANNEL_FD)
    os.dup2(high[2], ARENA_FD)


def _become_child(request: dict, fds: ChildFds, run: str, base: int | None) -> None:
    """In the grandchild: wire up file descriptors, confine (from the slot's Landlock `base`,
    if there is one), say ready, and serve."""
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _wire_fds(fds)
    limits = Limits(**request.get("limits", {}))
    held = confine(run, limits, request.get("uid"), bool(request.get("require_landlock")), base)
    os.closerange(ARENA_FD + 1, 1 << 16)  # after confine, which uses the zygote's open paths
    channel = socket.socket(fileno=CHANNEL_FD)
    channel.sendall(child.wire.encode(child.protocol.ready(held)))
    child.serve(channel, run, ARENA_FD)


def _run_child(request: dict, fds: ChildFds, run: str, base: int | None) -> NoReturn:
    """In the freshly forked child: become the confined student process; never returns."""
    try:
        _become_child(request, fds, run, base)
    except BaseException:  # noqa: BLE001 - report why confinement failed, then die
        os.write(2, traceback.format_exc().encode()[-4000:])
    finally:
        os._exit(0)


def _fork_child(request: dict, fds: ChildFds, isolated: bool,
                report_fd: int = -1) -> tuple[int, list[str]]:
    """Inside the child's namespaces (if `isolated`): bring Python into view for its uid,
    prepare its run folder, fork it, move it into its cgroup; return its pid and the layers
    set up here. `report_fd` is closed in the child (the zygote reads that pipe to its end)."""
    request, layers = _readable_uid(request, isolated)
    run, tmpfs = _prepare_run_folder(request, isolated, fds.sources)
    base = landlock_base(request["scratch"])
    pid = os.fork()
    if pid == 0:
        if report_fd >= 0:
            os.close(report_fd)
        _run_child(request, fds, run, base)
    return pid, [tmpfs, *_join_cgroup(request, pid), *layers]


def _middle(request: dict, fds: ChildFds, report_fd: int) -> None:
    """Enter namespaces, prepare the folder, fork the child and report its pid and layers."""
    try:
        isolation = namespaces.enter_isolated_namespaces()
    except OSError as exc:
        if request.get("require_namespaces"):
            raise
        isolation = missing("namespaces", str(exc))
    pid, layers = _fork_child(request, fds, not isolation.startswith(MISSING), report_fd)
    os.write(report_fd, json.dumps({"pid": pid, "isolation": [isolation, *layers]}).encode())


def _spawn_through_middle(request: dict, fds: ChildFds) -> dict:
    """Fork a middle process that enters the namespaces and forks the child (any user)."""
    read_end, write_end = os.pipe()
    if os.fork() == 0:
        try:
            os.close(read_end)
            _middle(request, fds, write_end)
        except BaseException as exc:  # noqa: BLE001 - the zygote must survive any failure
            os.write(write_end, json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    fds.close()
    with os.fdopen(read_end, "rb") as report:
        data = report.read()
    try:
        return json.loads(data)
    except ValueError:
        return {"error": "the sandbox could not start a child"}


def _spawn_direct(request: dict, fds: ChildFds, why: str) -> dict:
    """Fork the child from the zygote itself, in the zygote's namespaces (`why`: none here)."""
    try:
        if request.get("require_namespaces"):
            return {"error": f"namespaces are required but unavailable: {why}"}
        pid, layers = _fork_child(request, fds, isolated=False)
        return {"pid": pid, "isolation": [missing("namespaces", why), *layers]}
    except Exception as exc:  # noqa: BLE001 - the zygote must survive any failure
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        fds.close()


def _spawn_here(home: namespaces.Home, request: dict, fds: ChildFds) -> dict:
    """As root: enter the child's namespaces in the zygote itself, fork the child, come back.

    One fork and one exit fewer than through a middle process. If coming back fails,
    the zygote must not serve another request from a student's namespaces: the
    OSError ends it, and its Sandbox reports that it died.
    """
    try:
        isolation = home.leave()
    except OSError:
        return _spawn_through_middle(request, fds)
    try:
        pid, layers = _fork_child(request, fds, isolated=True)
        return {"pid": pid, "isolation": [isolation, *layers]}
    except Exception as exc:  # noqa: BLE001 - the zygote must survive any failure
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        fds.close()
        home.come_back()


def spawn(request: dict, fds: ChildFds, home: namespaces.Home | None = None, unavailable: str = "") -> dict:
    """Fork a confined child for one submission; return {"pid": ..., "isolation": [layers]}.

    `unavailable`: why namespaces cannot be had here, once an earlier spawn found out.
    """
    if not request.get("namespaces"):
        return _spawn_direct(request, fds, "switched off")
    if unavailable:
        return _spawn_direct(request, fds, unavailable)
    if home is not None:
        return _spawn_here(home, request, fds)
    return _spawn_through_middle(request, fds)


def _why_no_namespaces(reply: dict) -> str:
    """Why the child of `reply` got no namespaces ("" if it got them, or did not start)."""
    first = (reply.get("isolation") or [""])[0]
    return first.split(": ", 1)[1] if first.startswith(missing("namespaces", "")) else ""


def _home() -> namespaces.Home | None:
    """The zygote's own namespaces when it may leave and re-enter them (root), else None.

    The zygote first moves into a network namespace of its own, which every child it prepares
    this way then shares: empty, its loopback down, and inert for student code, which can make
    no socket (seccomp) and configure nothing (no capability), so a child leaves nothing in it
    for the next. Each child saves making one and tearing it down (about 0.7 ms)."""
    if os.geteuid() != 0:
        return None
    try:
        namespaces.unshare(namespaces.CLONE_NEWNET)
        return namespaces.Home(shared=namespaces.CLONE_NEWNET)
    except OSError:
        return None


class Keeper(NamedTuple):
    """A process of the zygote's that lives in one slot's cgroup and forks its children there."""

    pid: int
    channel: socket.socket
    layer: str  # the cgroup, as the isolation record names it


class Keepers:
    """Who forks each child: the keeper of the request's cgroup (started on the first request
    for it), or the zygote itself where there is no cgroup or no keeper could join it."""

    def __init__(self, home: namespaces.Home | None, control: socket.socket) -> None:
        self.home, self.control = home, control
        self.by_cgroup: dict[tuple[str, ...], Keeper] = {}
        self.unjoinable: set[tuple[str, ...]] = set()  # cgroups a keeper could not join
        self.forked: set[int] = set()  # children the zygote forked itself (a keeper kills its own)

    def spawn(self, request: dict, fds: ChildFds, unavailable: str) -> dict:
        """`spawn`, by the keeper of the request's cgroup when it has one (started, or restarted
        once if it died); by the zygote itself when there is none or it cannot join the cgroup
        (the child then tries to join itself, and its record says why it could not)."""
        spec = request.get("cgroup")
        key = tuple(spec["folders"]) if spec else ()
        if not spec or key in self.unjoinable:
            return self._here(request, fds, unavailable)
        for _ in range(2):
            keeper = self.by_cgroup.get(key) or self._start(request, key, fds)
            if keeper is None:
                return self._here(request, fds, unavailable)
            reply = _ask(keeper, {**request, "cgroup": None}, fds, unavailable)
            if reply is not None:
                fds.close()
                if "isolation" in reply:
                    reply["isolation"].append(keeper.layer)
                return reply
            self._drop(key)
        fds.close()
        return {"error": "the sandbox's keeper of this cgroup died twice"}

    def _here(self, request: dict, fds: ChildFds, unavailable: str) -> dict:
        reply = spawn(request, fds, self.home, unavailable)
        self.forked.update([reply["pid"]] if "pid" in reply else [])
        return reply

    def _start(self, request: dict, key: tuple[str, ...], fds: ChildFds) -> Keeper | None:
        """Fork a keeper and move it into the request's cgroup (before it forks anything);
        None if it cannot join. The keeper keeps nothing of the zygote's open channels: a copy
        of a child's channel would hide that child's death (no end of file for the grader).
        Keepers of cgroups the sandbox removed since (it killed them) are forgotten first."""
        for gone in [k for k, keeper in self.by_cgroup.items() if _parent_of(keeper.pid) != os.getpid()]:
            self._drop(gone)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                fds.close()
                self.control.close()
                for keeper in self.by_cgroup.values():
                    keeper.channel.close()
                _keep(theirs, self.home)
            finally:
                os._exit(0)
        theirs.close()
        layers = _join_cgroup(request, pid)
        if not layers or layers[0].startswith(MISSING):
            ours.close()
            os.kill(pid, signal.SIGKILL)
            self.unjoinable.add(key)
            return None
        self.by_cgroup[key] = Keeper(pid, ours, layers[0])
        return self.by_cgroup[key]

    def _drop(self, key: tuple[str, ...]) -> None:
        keeper = self.by_cgroup.pop(key)
        keeper.channel.close()
        if _parent_of(keeper.pid) == os.getpid():
            os.kill(keeper.pid, signal.SIGKILL)

    def close(self) -> None:
        """Close every keeper's channel: each kills its children and exits."""
        for keeper in self.by_cgroup.values():
            keeper.channel.close()
        self.by_cgroup.clear()


def _ask(keeper: Keeper, request: dict, fds: ChildFds, unavailable: str) -> dict | None:
    """The keeper's reply to a spawn request, or None if it is gone."""
    job = json.dumps({"request": request, "unavailable": unavailable}).encode()
    try:
        socket.send_fds(keeper.channel, [job], list(fds))
        reply = keeper.channel.recv(1 << 16)
    except OSError:
        return None
    return json.loads(reply) if reply else None


def _keep(channel: socket.socket, home: namespaces.Home | None) -> None:
    """In a keeper: spawn the children of its cgroup until the zygote closes the channel
    (or dies), then kill them."""
    children: set[int] = set()
    for job, fds in _requests(channel):
        reply = spawn(job["request"], ChildFds(*fds), home, job["unavailable"])
        children.update([reply["pid"]] if "pid" in reply else [])
        channel.send(json.dumps(reply).encode())
    _kill_own(children)


def _requests(channel: socket.socket) -> Iterator[tuple[dict, list[int]]]:
    """Each spawn request on `channel` with the descriptors it carried, until the channel closes."""
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(channel, 1 << 16, len(ChildFds._fields))
        except OSError:
            return
        if not message:
            return
        yield json.loads(message), fds


def _kill_own(children: set[int]) -> None:
    for pid in children:
        if _parent_of(pid) == os.getpid():  # still ours: the pid was not reused
            os.kill(pid, signal.SIGKILL)


def main(control_fd: int) -> None:
    """Serve spawn requests until the control socket closes, then kill every child."""
    namespaces.set_child_subreaper()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children and orphans are reaped at once
    prepare()  # paths listed and opened once here, inherited by every child
    # What every child inherits (NumPy, the standard library) out of the collector's sight: a
    # child's collections then neither walk it nor copy its pages (each touch of a shared page
    # by the collector costs a page fault and a copy)
    gc.freeze()
    home = _home()
    unavailable = ""  # why namespaces fail here, once a spawn found out: not tried again
    control = socket.socket(fileno=control_fd)
    keepers = Keepers(home, control)
    for request, fds in _requests(control):
        if len(fds) == len(ChildFds._fields):
            reply = keepers.spawn(request, ChildFds(*fds), unavailable)
        else:
            for fd in fds:
                os.close(fd)
            reply = {"error": "the request did not carry a channel, an output pipe, an arena and sources"}
        if request.get("namespaces") and not unavailable:
            unavailable = _why_no_namespaces(reply)
        control.send(json.dumps(reply).encode())
    keepers.close()
    _kill_own(keepers.forked)


def _parent_of(pid: int) -> int | None:
    """The parent pid of `pid`, or None when it no longer exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


if __name__ == "__main__":
    main(int(sys.argv[1]))
