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
import sysconfig
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autograder.sandbox import landlock, namespaces

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
    assert not (tmp_path / "new.txt").exists()
    if report["abi"] >= 4:
        assert report["tcp_connect"] == "PermissionError"


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


def test_tmpfs_is_bounded_and_private(tmp_path: Path) -> None:
    needs_namespaces()
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def probe(send: Send) -> None:
        namespaces.enter_isolated_namespaces()
        namespaces.mount_tmpfs(str(scratch), 1 << 20)
        big = os.urandom(2 << 20)
        send({
            "small": attempt(lambda: (scratch / "inside.txt").write_text("x")),
            "big": attempt(lambda: (scratch / "big.bin").write_bytes(big)),
        })

    with forked(probe) as child:
        report = child.recv()
    assert report == {"small": "ok", "big": "ENOSPC"}
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
            namespaces.mount_tmpfs(str(scratch), 1 << 20)
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
    (scratch / "src").mkdir(parents=True)
    (scratch / "src" / "activations.py").write_text("import numpy as np\n\ndef relu(z):\n"
                                                    "    return np.maximum(z, 0)\n")
    # the "zygote" here is a fork of pytest, whose address space (torch, once loaded by an earlier
    # test) can exceed the usual 1 GB: the memory limit is not what this test is about
    request = {"scratch": str(scratch), "uid": None, "limits": {"memory_mb": 1 << 16}, "namespaces": True,
               "require_namespaces": True, "require_landlock": True, "tmpfs_mb": 16}

    def probe(send: Send) -> None:
        ours, theirs = socket.socketpair()
        output, arena = os.pipe(), wire.Arena(1 << 16)
        fds = zygote.ChildFds(os.dup(theirs.fileno()), os.dup(output[1]), os.dup(arena.fd))
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
    assert report["isolation"].endswith("namespaces")
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


# --- pids cgroup --------------------------------------------------------------------


@pytest.fixture
def pids_group() -> Iterator[Path]:
    group = namespaces.pids_cgroup(f"ag-test-{uuid.uuid4().hex[:12]}", 8)
    if group is None:
        pytest.skip("no writable pids cgroup controller")
    try:
        yield group
    finally:
        namespaces.remove_cgroup(group)
        assert not group.exists()


def test_pids_cgroup_bounds_fork_loop(pids_group: Path) -> None:
    assert (pids_group / "pids.max").read_text().strip() == "8"

    def bomb(send: Send) -> None:
        namespaces.join_cgroup(pids_group, os.getpid())
        hold_r, hold_w = os.pipe()
        children: list[int] = []
        error = None
        for _ in range(50):
            try:
                pid = os.fork()
            except OSError as exc:
                error = type(exc).__name__
                break
            if pid == 0:
                os.close(hold_w)
                os.read(hold_r, 1)  # blocks until the bomb releases its children
                os._exit(0)
            children.append(pid)
        os.close(hold_w)
        for pid in children:
            os.waitpid(pid, 0)
        send({"forks": len(children), "fork_error": error})

    with forked(bomb) as child:
        report = child.recv()
    assert report == {"forks": 7, "fork_error": "BlockingIOError"}


def test_remove_cgroup_kills_leftovers(pids_group: Path) -> None:
    def leave_sleepers(send: Send) -> None:
        namespaces.join_cgroup(pids_group, os.getpid())
        sleepers = []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                time.sleep(10)
                os._exit(0)
            sleepers.append(pid)
        send({"sleepers": sleepers})
        time.sleep(10)

    with forked(leave_sleepers) as child:
        sleepers = child.recv()["sleepers"]
        assert len((pids_group / "cgroup.procs").read_text().split()) == 4
        namespaces.remove_cgroup(pids_group)
        assert not pids_group.exists()
    assert wait_until(lambda: all(is_dead(pid) for pid in sleepers))


def test_pids_cgroup_rejects_bad_names() -> None:
    for bad in ("", "a/b", ".."):
        with pytest.raises(ValueError):
            namespaces.pids_cgroup(bad, 4)



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
