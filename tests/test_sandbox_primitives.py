"""Behavioural tests of the sandbox primitives, each probed in a forked child.

Landlock, namespaces and prctl settings are irreversible for the process that applies
them, so every check runs in ``os.fork()`` children that report JSON lines through a
pipe and always leave with ``os._exit``.  Nothing here needs torch.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import json
import os
import select
import signal
import socket
import stat
import sysconfig
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autograder.sandbox import cgroups, landlock, namespaces

PR_SET_DUMPABLE = 4


class Send:
    """Child side of the report pipe: ``send(obj)`` writes one JSON line."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __call__(self, obj: dict) -> None:
        os.write(self.fd, json.dumps(obj).encode() + b"\n")  # < PIPE_BUF: atomic

    def run(self, target: Callable[[Send], None]) -> None:
        """Run ``target(self)`` in this (forked) process, report any error, ``_exit``.

        Also used by grandchildren, which share the same pipe.
        """
        try:
            target(self)
        except BaseException as exc:  # noqa: B036 - nothing may escape the child
            with contextlib.suppress(BaseException):
                self({"error": f"{type(exc).__name__}: {exc}"})
        finally:
            os._exit(0)


class Forked:
    """A forked child running ``target(send)``; ``recv`` reads what it sends."""

    def __init__(self, target: Callable[[Send], None]) -> None:
        read_fd, write_fd = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - runs in the child
            os.close(read_fd)
            Send(write_fd).run(target)
        os.close(write_fd)
        self._fd = read_fd
        self._buf = b""
        self._pending: list[dict] = []

    def recv(self, key: str | None = None, timeout: float = 3.0) -> dict:
        """Next message (containing ``key`` if given: a grandchild sharing the pipe may
        interleave); fail on EOF, timeout or a reported error."""
        for msg in self._pending:
            if key is None or key in msg:
                self._pending.remove(msg)
                return msg
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read_one(deadline)
            if key is None or key in msg:
                return msg
            self._pending.append(msg)

    def _read_one(self, deadline: float) -> dict:
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._fd], [], [], left)[0]:
                pytest.fail("timed out waiting for the forked child")
            chunk = os.read(self._fd, 65536)
            if not chunk:
                pytest.fail("forked child exited without reporting")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        msg = json.loads(line)
        if "error" in msg:
            pytest.fail(f"forked child failed: {msg['error']}")
        return msg

    def close(self) -> int:
        """Kill the child if still running, reap it and return its wait status."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        _, status = os.waitpid(self.pid, 0)
        os.close(self._fd)
        return status


@contextlib.contextmanager
def forked(target: Callable[[Send], None]) -> Iterator[Forked]:
    child = Forked(target)
    try:
        yield child
    finally:
        child.close()


def attempt(action: Callable[[], object]) -> str:
    """``"ok"`` or the name of the exception ``action`` raised (for JSON reports)."""
    try:
        action()
    except OSError as exc:
        return type(exc).__name__ if type(exc) is not OSError else errno.errorcode[exc.errno]
    return "ok"


def tcp_connect(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        sock.connect(("127.0.0.1", port))


def is_dead(pid: int) -> bool:
    """True if ``pid`` no longer exists (or is only an unreaped zombie)."""
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_until(predicate: Callable[[], object], timeout: float = 2.0) -> object:
    deadline = time.monotonic() + timeout
    while not (result := predicate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return result


def pids_with_marker(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP listener on 127.0.0.1 in the test's own network namespace."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@functools.cache
def namespaces_unavailable() -> str:
    """Empty string if enter_isolated_namespaces works here, else the reason."""

    def probe(send: Send) -> None:
        try:
            send({"desc": namespaces.enter_isolated_namespaces()})
        except OSError as exc:
            send({"unavailable": str(exc)})

    with forked(probe) as child:
        return child.recv().get("unavailable", "")


needs_landlock = pytest.mark.skipif(landlock.abi_version() < 1, reason="Landlock unavailable")
needs_landlock_net = pytest.mark.skipif(
    landlock.abi_version() < 4, reason="Landlock ABI < 4: no TCP rules"
)


def needs_namespaces() -> None:
    if reason := namespaces_unavailable():
        pytest.skip(f"namespaces unavailable: {reason}")


# --- Landlock -----------------------------------------------------------------------


def test_abi_version_is_an_int() -> None:
    assert isinstance(landlock.abi_version(), int)
    assert landlock.abi_version() >= 0


@needs_landlock
def test_restrict_confines_filesystem_and_tcp(tmp_path: Path, listener: int) -> None:
    rw_dir = tmp_path / "rw"
    rw_dir.mkdir()
    ro_file = tmp_path / "ro_file.txt"
    ro_file.write_text("readable")
    (tmp_path / "secret.txt").write_text("secret")
    stdlib = sorted({sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]})

    def probe(send: Send) -> None:
        ro = [*stdlib, str(ro_file), str(tmp_path / "does-not-exist")]
        abi = landlock.restrict(ro, [str(rw_dir)])
        send({
            "abi": abi,
            "read_outside": attempt((tmp_path / "secret.txt").read_text),
            "read_stdlib": attempt(Path(os.__file__).read_text),
            "read_ro_file": attempt(ro_file.read_text),
            "write_ro_file": attempt(lambda: ro_file.write_text("x")),
            "write_inside": attempt(lambda: (rw_dir / "new.txt").write_text("x")),
            "mkdir_inside": attempt(lambda: (rw_dir / "sub").mkdir()),
            "write_outside": attempt(lambda: (tmp_path / "new.txt").write_text("x")),
            "tcp_connect": attempt(lambda: tcp_connect(listener)),
            "device_inside": attempt(lambda: os.mknod(rw_dir / "null", stat.S_IFCHR | 0o666,
                                                      os.makedev(1, 3))),
            "signal_outside": attempt(lambda: os.kill(os.getppid(), 0)),
        })

    with forked(probe) as child:
        report = child.recv()
    assert report["abi"] == landlock.abi_version()
    assert report["read_outside"] == "PermissionError"
    assert report["read_stdlib"] == "ok"
    assert report["read_ro_file"] == "ok"
    assert report["write_ro_file"] == "PermissionError"
    assert report["write_inside"] == "ok"
    assert report["mkdir_inside"] == "ok"
    assert report["write_outside"] == "PermissionError"
    assert report["device_inside"] == "PermissionError"  # as root too: no device node, even writable
    assert not (tmp_path / "new.txt").exists()
    if report["abi"] >= 4:
        assert report["tcp_connect"] == "PermissionError"
    if report["abi"] >= 6:  # signals scoped to the sandbox's own domain
        assert report["signal_outside"] == "PermissionError"


@needs_landlock
def test_a_slots_base_ruleset_confines_as_a_whole_one_does(tmp_path: Path, listener: int) -> None:
    """The zygote makes a slot's base ruleset once (read the standard library, change files
    beneath the slot's folder); each child enforces it under a layer of its own that narrows
    writing to its run folder. Nothing but reading the slot's folder itself is allowed beyond
    what a whole ruleset allows."""
    slot = tmp_path / "slot"
    run = slot / "run"
    run.mkdir(parents=True)
    (slot / "beside.txt").write_text("the slot's")
    (tmp_path / "secret.txt").write_text("secret")
    stdlib = sorted({sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]})
    base = landlock.base_ruleset(stdlib, str(slot))

    def probe(send: Send) -> None:
        abi = landlock.restrict([], [str(run)], base=base)
        send({
            "abi": abi,
            "read_stdlib": attempt(Path(os.__file__).read_text),
            "read_outside": attempt((tmp_path / "secret.txt").read_text),
            "read_in_slot": attempt((slot / "beside.txt").read_text),
            "write_in_slot": attempt(lambda: (slot / "beside.txt").write_text("x")),
            "create_in_slot": attempt(lambda: (slot / "new.txt").write_text("x")),
            "write_inside": attempt(lambda: (run / "new.txt").write_text("x")),
            "mkdir_inside": attempt(lambda: (run / "sub").mkdir()),
            "move_out": attempt(lambda: os.rename(run / "new.txt", slot / "moved.txt")),
            "device_inside": attempt(lambda: os.mknod(run / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))),
            "tcp_connect": attempt(lambda: tcp_connect(listener)),
            "signal_outside": attempt(lambda: os.kill(os.getppid(), 0)),
        })

    with forked(probe) as child:
        report = child.recv()
    os.close(base)
    assert report["abi"] == landlock.abi_version()
    assert report["read_stdlib"] == report["read_in_slot"] == "ok"
    assert report["write_inside"] == report["mkdir_inside"] == "ok"
    for refused in ("read_outside", "write_in_slot", "create_in_slot", "move_out", "device_inside"):
        assert report[refused] == "PermissionError", refused
    assert (slot / "beside.txt").read_text() == "the slot's" and not (slot / "new.txt").exists()
    if report["abi"] >= 4:
        assert report["tcp_connect"] == "PermissionError"
    if report["abi"] >= 6:
        assert report["signal_outside"] == "PermissionError"


@needs_landlock_net
def test_restrict_allow_tcp_keeps_connect(tmp_path: Path, listener: int) -> None:
    def probe(send: Send) -> None:
        landlock.restrict([], [str(tmp_path)], allow_tcp=True)
        send({"tcp_connect": attempt(lambda: tcp_connect(listener))})

    with forked(probe) as child:
        assert child.recv()["tcp_connect"] == "ok"


# --- namespaces ---------------------------------------------------------------------


def test_pid1_kill_takes_down_setsid_daemon(listener: int) -> None:
    needs_namespaces()
    marker = f"ag-sandbox-marker-{uuid.uuid4().hex}"

    def pid1(send: Send) -> None:
        send({"pid": os.getpid(), "tcp": attempt(lambda: tcp_connect(listener))})
        middle = os.fork()
        if middle == 0:  # classic daemonisation: setsid + double fork + exec
            try:
                os.setsid()
                if os.fork() == 0:
                    os.execv("/bin/sleep", [marker, "30"])
            finally:
                os._exit(0)
        os.waitpid(middle, 0)
        send({"daemon": "started"})
        time.sleep(10)  # safety net: exiting as PID 1 also kills the daemon

    def outer(send: Send) -> None:
        desc = namespaces.enter_isolated_namespaces()
        grandchild = os.fork()
        if grandchild == 0:
            send.run(pid1)
        send({"desc": desc, "grandchild": grandchild})
        os.waitpid(grandchild, 0)

    with forked(outer) as child:
        first = child.recv("grandchild")
        assert "pid" in first["desc"] and "net" in first["desc"]
        grandchild = first["grandchild"]
        try:
            inside = child.recv("pid")
            assert inside["pid"] == 1
            assert inside["tcp"] != "ok"
            assert child.recv("daemon")["daemon"] == "started"
            daemons = wait_until(lambda: pids_with_marker(marker))
            assert daemons, "daemon not found in /proc"
            (daemon,) = daemons
            os.kill(daemon, 0)  # alive before the kill
            stat = Path(f"/proc/{daemon}/stat").read_text()
            assert int(stat.rsplit(")", 1)[1].split()[1]) == grandchild  # orphan of PID 1
        finally:
            os.kill(grandchild, signal.SIGKILL)
        assert wait_until(lambda: is_dead(daemon)), "daemon survived its PID 1"
        assert not pids_with_marker(marker)


def _create_files(folder: Path, count: int) -> int:
    """Create up to `count` empty files in `folder`; how many could be created."""
    for made in range(count):
        try:
            (folder / f"f{made}").touch()
        except OSError:
            return made
    return count


def test_tmpfs_is_bounded_and_private(tmp_path: Path) -> None:
    """Bounded in bytes and in files (empty files cost kernel memory, not bytes)."""
    needs_namespaces()
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def probe(send: Send) -> None:
        namespaces.enter_isolated_namespaces()
        namespaces.mount_tmpfs(str(scratch), 1 << 20, 100)
        big = os.urandom(2 << 20)
        send({
            "small": attempt(lambda: (scratch / "inside.txt").write_text("x")),
            "big": attempt(lambda: (scratch / "big.bin").write_bytes(big)),
            "files": _create_files(scratch, 1000),
        })

    with forked(probe) as child:
        report = child.recv()
    assert report["small"] == "ok" and report["big"] == "ENOSPC"
    assert 90 <= report["files"] < 100  # the root folder and the two files count too
    assert list(scratch.iterdir()) == []  # the mount never reached our namespace


def test_home_leaves_its_namespaces_and_comes_back(tmp_path: Path) -> None:
    """What a root zygote does around each fork: the child stays in the new namespaces,
    the zygote is back in its own, and a mount made meanwhile never reached it."""
    needs_namespaces()
    if os.geteuid() != 0:
        pytest.skip("Home is the root path")
    names = ("mnt", "net", "ipc", "uts", "pid_for_children")
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def probe(send: Send) -> None:
        home = namespaces.Home()
        before = {n: os.readlink(f"/proc/self/ns/{n}") for n in names}
        for round_ in range(3):  # again and again, as for every child
            home.leave()
            namespaces.mount_tmpfs(str(scratch), 1 << 20, 100)
            (scratch / "child.txt").write_text("x")
            inside = {n: os.readlink(f"/proc/self/ns/{n}") for n in names[:-1]}
            if os.fork() == 0:  # the child: PID 1 of a new PID namespace, every round
                send.run(lambda s, r=round_: s({f"pid {r}": os.getpid()}))
            os.wait()
            home.come_back()
        after = {n: os.readlink(f"/proc/self/ns/{n}") for n in names}
        send({"changed": sorted(n for n in inside if inside[n] != before[n]), "back": after == before,
              "files": sorted(p.name for p in scratch.iterdir())})

    with forked(probe) as child:
        pids = [child.recv(f"pid {r}")[f"pid {r}"] for r in range(3)]
        report = child.recv("back")
    assert pids == [1, 1, 1]
    assert report == {"changed": sorted(names[:-1]), "back": True, "files": []}


def test_the_middle_process_path_starts_a_confined_child(tmp_path: Path) -> None:
    """Without root's namespace round trip (`Home`), the zygote forks a middle process that
    enters the namespaces; the child it starts must be just as confined and answer calls."""
    needs_namespaces()
    from autograder.sandbox import protocol, session, wire, zygote

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    sources = wire.source_bundle({"activations": "import numpy as np\n\ndef relu(z):\n"
                                                "    return np.maximum(z, 0)\n"})
    # the "zygote" here is a fork of pytest, whose address space (torch, once loaded by an earlier
    # test) can exceed the usual 1 GB: the memory limit is not what this test is about
    request = {"scratch": str(scratch), "uid": None, "limits": {"memory_mb": 1 << 16}, "namespaces": True,
               "require_namespaces": True, "require_landlock": True, "tmpfs_mb": 16}

    def probe(send: Send) -> None:
        ours, theirs = socket.socketpair()
        output, arena = os.pipe(), wire.Arena(1 << 16)
        fds = zygote.ChildFds(os.dup(theirs.fileno()), os.dup(output[1]), os.dup(arena.fd), os.dup(sources))
        reply = zygote.spawn(request, fds, home=None)
        theirs.close()
        os.close(output[1])
        reader = wire.Reader(ours)
        ready = reader.receive(10)
        ours.sendall(protocol.Load(("activations",)).frame())
        loaded = reader.receive(10)
        call, _ = protocol.Call(1, "activations.relu", ([-1.0, 2.0],)).frame()
        ours.sendall(protocol.Batch((call,)).frame())
        value = reader.receive(10).get("value").tolist()
        session.kill_tree(reply["pid"])
        send({"isolation": reply.get("isolation"), "ready": ready["layers"], "loaded": loaded,
              "value": value})

    with forked(probe) as child:
        report = child.recv("isolation", timeout=20)
    assert report["isolation"][0].endswith("namespaces")
    assert any(layer.startswith("landlock") for layer in report["ready"])
    assert report["loaded"] == {"op": "loaded", "module": "activations"}
    assert report["value"] == [0.0, 2.0]


def test_unprivileged_user_namespace_path() -> None:
    needs_namespaces()

    def probe(send: Send) -> None:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        # Dropping root made us non-dumpable, which makes /proc/self/*_map root-owned;
        # a grader that never was root is dumpable already.
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        try:
            desc = namespaces.enter_isolated_namespaces()
        except OSError as exc:
            send({"unavailable": str(exc)})
            return
        send({"desc": desc})  # before forking: the grandchild shares the pipe
        pid = os.fork()
        if pid == 0:
            send.run(lambda s: s({"pid": os.getpid(), "uid": os.geteuid()}))
        os.waitpid(pid, 0)

    with forked(probe) as child:
        report = child.recv()
        if "unavailable" in report:
            pytest.skip(f"unprivileged user namespaces unavailable: {report['unavailable']}")
        assert report["desc"].startswith("user+pid")
        assert child.recv() == {"pid": 1, "uid": 65534}


def test_pdeathsig_and_subreaper() -> None:
    def reaper(send: Send) -> None:
        namespaces.set_child_subreaper()
        ready_r, ready_w = os.pipe()
        parent = os.fork()
        if parent == 0:  # dies once its child is armed, orphaning it
            victim = os.fork()
            if victim == 0:
                namespaces.set_pdeathsig(signal.SIGKILL)
                os.write(ready_w, b"1")
                time.sleep(10)
                os._exit(3)
            os.read(ready_r, 1)
            os.write(ready_w, str(victim).encode())
            os._exit(0)
        os.waitpid(parent, 0)
        victim = int(os.read(ready_r, 32))
        reaped, status = os.waitpid(-1, 0)  # the orphan came to us, the subreaper
        send({"reaped_victim": reaped == victim, "signal": os.WTERMSIG(status)})

    with forked(reaper) as child:
        assert child.recv(timeout=5) == {"reaped_victim": True, "signal": signal.SIGKILL}


# --- seccomp ------------------------------------------------------------------------


def test_the_student_filter_refuses_its_list_and_keeps_threads() -> None:
    """Every syscall of the student filter fails (EACCES; clone3 ENOSYS, so that libc falls
    back to clone), threads still start, and an ordinary syscall still works."""
    from autograder.sandbox import seccomp

    def probe(send: Send) -> None:
        import threading

        libc = ctypes.CDLL(None, use_errno=True)
        _, numbers = seccomp._TABLE[os.uname().machine]
        seccomp.restrict()
        refused = {}
        for rule in seccomp.STUDENT:
            if rule.name in numbers:
                flags = 0x11 if rule.name == "clone" else 0  # SIGCHLD: a fork, not a thread
                result = libc.syscall(numbers[rule.name], flags, 0, 0, 0, 0)
                refused[rule.name] = ctypes.get_errno() if result == -1 else f"returned {result}"
        thread = threading.Thread(target=lambda: None)
        thread.start()
        thread.join()
        send({"refused": refused, "fork": attempt(os.fork), "pid": os.getpid() > 0})

    with forked(probe) as child:
        report = child.recv()
    expected = {rule.name: rule.errno for rule in seccomp.STUDENT if rule.name in report["refused"]}
    assert report["refused"] == expected
    assert expected["clone3"] == errno.ENOSYS and expected["socket"] == errno.EACCES
    assert {"shmget", "memfd_create", "inotify_init1", "clone", "unshare", "mount"} <= set(expected)
    assert report["fork"] == "PermissionError" and report["pid"]


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x32 is an x86_64 ABI")
def test_the_student_filter_kills_a_syscall_of_another_abi() -> None:
    """An x32 syscall (the filter cannot vet it by number) ends the process with SIGSYS."""
    from autograder.sandbox import seccomp

    def probe(send: Send) -> None:
        seccomp.restrict()
        send({"filtered": True})
        ctypes.CDLL(None).syscall(0x40000000 | 39)  # x32 getpid
        send({"survived": True})

    child = Forked(probe)
    assert child.recv() == {"filtered": True}
    assert wait_until(lambda: is_dead(child.pid))
    status = child.close()
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS


def _effective_capabilities() -> int:
    """This process's effective capability set, from capget(2) (readable even where /proc is not)."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    assert ctypes.CDLL(None).capget(header, data) == 0
    return data[0] | data[3] << 32


def test_a_child_that_keeps_uid_0_keeps_no_capability(tmp_path: Path) -> None:
    """Where the per-run uid could not run Python, the child stays root: with no capability
    (no device nodes, no bypassing file permissions, no setuid), though still uid 0."""
    if os.geteuid() != 0:
        pytest.skip("only a root grader keeps uid 0")
    import autograder.sandbox.child  # noqa: F401 - imported before confinement, as in the zygote
    from autograder.sandbox.confine import Limits, confine

    def probe(send: Send) -> None:
        held = confine(str(tmp_path), Limits(), None, require_landlock=False)
        send({"uid": os.getuid(), "capabilities": _effective_capabilities(), "held": held})

    with forked(probe) as child:
        report = child.recv()
    assert report["uid"] == 0 and report["capabilities"] == 0
    assert "capabilities dropped (uid 0 kept)" in report["held"]


# --- cgroups -----------------------------------------------------------------------


@pytest.fixture
def place() -> cgroups.Place:
    found = cgroups.Place.find()
    if isinstance(found, str):
        pytest.skip(f"no writable cgroups here: {found}")
    return found


@pytest.fixture
def group(place: cgroups.Place) -> Iterator[cgroups.Cgroup]:
    made = place.create(f"{cgroups.PREFIX}{os.getpid()}-test{uuid.uuid4().hex[:8]}", 64 << 20, 8)
    try:
        yield made
    finally:
        cgroups.remove(made)
        assert not any(folder.exists() for folder in made.folders)


def _in_group(group: cgroups.Cgroup, target: Callable[[Send], None]) -> Forked:
    """A forked child moved into `group` right after the fork, as the zygote moves each child;
    it waits for the move before running `target`."""
    go_r, go_w = os.pipe()

    def wait_then(send: Send) -> None:
        os.close(go_w)
        os.read(go_r, 1)
        target(send)

    child = Forked(wait_then)
    os.close(go_r)
    cgroups.join(group, child.pid)
    os.write(go_w, b"1")
    os.close(go_w)
    return child


def test_a_cgroup_bounds_the_threads_of_what_joined_it(group: cgroups.Cgroup) -> None:
    def threads(send: Send) -> None:
        import threading

        hold = threading.Event()
        started = 0
        try:
            for _ in range(50):
                threading.Thread(target=hold.wait, daemon=True).start()
                started += 1
        except RuntimeError as exc:  # "can't start new thread"
            send({"started": started, "refused": str(exc)})
        hold.set()

    child = _in_group(group, threads)
    try:
        report = child.recv(timeout=10)
    finally:
        child.close()
    # 8 tasks: the main thread and 7 more, and the room kept for the keeper (none here)
    assert report["started"] == 7 + cgroups.KEEPER


def test_a_cgroup_bounds_memory_the_address_space_limit_does_not_see(group: cgroups.Cgroup) -> None:
    """Pages of a tmpfs (shared memory) count against the cgroup: past 64 MB the child is killed
    (or its writes fail), though its own address space stays small."""
    needs_namespaces()

    def fill(send: Send) -> None:
        namespaces.enter_isolated_namespaces()
        folder = Path("/tmp")
        namespaces.mount_tmpfs(str(folder), 1 << 30, 100)
        block = b"x" * (1 << 20)
        written = 0
        with contextlib.suppress(OSError), open(folder / "fill", "wb") as handle:
            for _ in range(256):
                handle.write(block)
                handle.flush()
                written += 1
        send({"written_mb": written})

    child = _in_group(group, fill)
    try:
        with contextlib.suppress(BaseException):
            report = child.recv(timeout=20)
    finally:
        status = child.close()
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert killed or report["written_mb"] < 64


def test_removing_a_cgroup_kills_what_is_left_in_it(group: cgroups.Cgroup) -> None:
    def sleep(send: Send) -> None:
        send({"pid": os.getpid()})
        time.sleep(30)

    child = _in_group(group, sleep)
    pid = child.recv()["pid"]
    cgroups.remove(group)
    assert not any(folder.exists() for folder in group.folders)
    assert wait_until(lambda: is_dead(pid))
    child.close()


def test_empty_cgroups_left_by_graders_no_longer_running_are_removed(place: cgroups.Place) -> None:
    gone = os.fork()
    if gone == 0:
        os._exit(0)
    os.waitpid(gone, 0)
    stale = place.create(f"{cgroups.PREFIX}{gone}-0", 64 << 20, 8)
    occupied = place.create(f"{cgroups.PREFIX}{gone}-1", 64 << 20, 8)  # as if alive elsewhere
    ours = place.create(f"{cgroups.PREFIX}{os.getpid()}-{uuid.uuid4().int % 10**6}", 64 << 20, 8)
    sleeper = _in_group(occupied, lambda send: (send({"in": True}), time.sleep(30)))
    try:
        sleeper.recv()
        place.remove_stale()
        assert not any(folder.exists() for folder in stale.folders)
        assert all(folder.exists() for folder in ours.folders + occupied.folders)
        assert not is_dead(sleeper.pid)  # nothing is killed on a guess
    finally:
        sleeper.close()
        for group in (stale, occupied, ours):
            cgroups.remove(group)


def test_each_child_runs_in_its_slots_cgroup_which_goes_with_the_sandbox() -> None:
    import numpy as np

    from autograder.sandbox.session import Sandbox

    if isinstance(cgroups.Place.find(), str):
        pytest.skip("no writable cgroups here")
    sources = {"activations": "import numpy as np\n\n\ndef relu(z):\n    return np.maximum(z, 0)\n"}
    with Sandbox() as sandbox:
        process = sandbox.open(sources)
        process.call("activations.relu", (np.ones(2),), 5)
        (group,) = sandbox._cgroups.values()
        membership = Path(f"/proc/{process.pid}/cgroup").read_text()
        assert all(folder.name in membership for folder in group.folders)
        assert any(entry.startswith("cgroup v") for entry in process.isolation), process.isolation
        process.close()
    assert not any(folder.exists() for folder in group.folders)


def test_children_are_born_in_their_cgroup_by_its_keeper_which_is_replaced_when_it_dies() -> None:
    """The zygote stays out of every slot's cgroup; a keeper inside it forks each child there.
    A keeper killed (here by hand; an OOM kill or a removed cgroup alike) is replaced at the
    next spawn, whose child is in the cgroup again."""
    import numpy as np

    from autograder.sandbox.session import Sandbox

    if isinstance(cgroups.Place.find(), str):
        pytest.skip("no writable cgroups here")
    sources = {"activations": "import numpy as np\n\n\ndef relu(z):\n    return np.maximum(z, 0)\n"}

    def members(group: cgroups.Cgroup) -> set[int]:
        return {int(p) for p in (group.folders[-1] / "cgroup.procs").read_text().split()}

    with Sandbox() as sandbox:
        for round_ in range(2):
            process = sandbox.open(sources)
            assert process.call("activations.relu", (-np.ones(2),), 5).value.tolist() == [0.0, 0.0]
            (group,) = sandbox._cgroups.values()
            inside = members(group)
            assert process.pid in inside and sandbox._process.pid not in inside
            keepers = {pid for pid in inside if _parent(pid) == sandbox._process.pid}
            assert len(keepers) == 1, (inside, round_)
            assert any(entry.startswith("cgroup v") for entry in process.isolation), process.isolation
            process.close()
            os.kill(keepers.pop(), signal.SIGKILL)


def test_two_sandboxes_of_one_process_each_keep_their_own_cgroups() -> None:
    """Cgroup names are unique in the process, not per Sandbox: a second Sandbox (the mutation
    benchmark makes several, tests make one beside the session's) neither takes the first one's
    cgroup name nor, failing to, removes that cgroup and kills what runs in it."""
    import numpy as np

    from autograder.sandbox.session import Sandbox

    if isinstance(cgroups.Place.find(), str):
        pytest.skip("no writable cgroups here")
    sources = {"activations": "import numpy as np\n\n\ndef relu(z):\n    return np.maximum(z, 0)\n"}
    with Sandbox() as first, Sandbox() as second:
        one = first.open(sources)
        assert one.call("activations.relu", (-np.ones(2),), 5).value.tolist() == [0.0, 0.0]
        two = second.open(sources)
        assert two.call("activations.relu", (np.ones(2),), 5).value.tolist() == [1.0, 1.0]
        assert one.call("activations.relu", (np.ones(2),), 5).value.tolist() == [1.0, 1.0]
        (mine,), (theirs,) = first._cgroups.values(), second._cgroups.values()
        assert mine.folders != theirs.folders and all(f.exists() for f in mine.folders + theirs.folders)
        one.close()
        two.close()


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


@pytest.mark.parametrize("isolate", [True, False], ids=["namespaces", "no namespaces"])
def test_a_reused_scratch_folder_keeps_nothing_of_the_previous_submission(isolate: bool) -> None:
    """Scratch folders are reused; a file one submission wrote must not reach the next,
    with a tmpfs per child or (no namespaces) without."""
    import numpy as np

    from autograder.sandbox.session import Policy, Sandbox

    def sources(body: str) -> dict[str, str]:
        return {"activations": f"import os\nimport numpy as np\n\n\ndef relu(z):\n{body}"}

    write = sources("    open('left_behind.txt', 'w').write('secret')\n    return np.maximum(z, 0)\n")
    look = sources("    return np.array([float(os.path.exists('left_behind.txt'))])\n")
    with Sandbox(Policy(isolate=isolate)) as sandbox:
        first = sandbox.open(write)
        first.ask("activations.relu", (np.ones(2),), 5)
        first.close()
        second = sandbox.open(look)
        assert second.scratch == first.scratch  # reused
        assert second.ask("activations.relu", (np.ones(2),), 5).value.tolist() == [0.0]
        second.close()


def test_the_probe_reports_every_layer_and_refuses_a_child_that_cannot_import() -> None:
    """`grade` probes one child before grading: its layers, held or missing, come back; a child
    that cannot import (here: no file descriptor left to open a module) is SandboxUnavailable."""
    from autograder.sandbox.confine import Limits
    from autograder.sandbox.session import Policy, Sandbox, SandboxUnavailable

    with Sandbox() as sandbox:
        layers = sandbox.probe()
    assert any(entry.startswith("landlock ABI") for entry in layers) or "missing landlock" in " ".join(layers)
    assert any(entry.startswith("seccomp") for entry in layers) and "rlimits" in layers
    with Sandbox(Policy(limits=Limits(open_files=4))) as sandbox, pytest.raises(SandboxUnavailable,
                                                                               match="cannot run Python"):
        sandbox.probe()


def test_a_root_zygotes_children_share_one_network_namespace_apart_from_the_hosts() -> None:
    """A root zygote moves into a network namespace of its own once; each child it forks
    shares it (nothing to make or tear down per child) and gets new pid, mount, IPC and UTS
    namespaces of its own. Student code can make no socket there (seccomp)."""
    needs_namespaces()
    if os.geteuid() != 0:
        pytest.skip("the zygote's namespace round trip is the root path")
    from autograder.sandbox.session import Sandbox

    source = "import socket\n\ndef probe():\n    try:\n        socket.socket()\n    except OSError:\n" \
             "        return 'refused'\n    return 'made'\n"
    seen = []
    with Sandbox() as box:
        processes = [box.open({"m": source}) for _ in range(2)]  # both alive: namespace ids differ
        for process in processes:
            made = process.ask("m.probe", (), 5.0).value
            spaces = {n: os.readlink(f"/proc/{process.pid}/ns/{n}") for n in ("net", "pid", "mnt", "ipc")}
            seen.append((spaces, made))
        for process in processes:
            process.close()
    (first, made_first), (second, made_second) = seen
    assert made_first == made_second == "refused"
    assert first["net"] == second["net"] != os.readlink("/proc/self/ns/net")
    for name in ("pid", "mnt", "ipc"):
        assert first[name] != second[name] and first[name] != os.readlink(f"/proc/self/ns/{name}"), name
