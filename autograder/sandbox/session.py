"""The trusted side of the sandbox: a zygote per worker, a child per submission, calls by value.

`Sandbox` owns one zygote. `Sandbox.open(sources)` gives a `StudentProcess`
whose `call(function, args, timeout)` runs one student function in the confined
child and returns its decoded response, or raises `StudentError` for a timeout,
a crash or an exit. After such a failure the next call starts a fresh child, so
one bad function costs only its own cases.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from autograder.sandbox import cgroups, wire
from autograder.sandbox.confine import MB, Limits, missing
from autograder.spec import MODULES

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
PASSED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
UID_BASE = 200_000  # above the ids of real users and of Debian's dynamic range
OUTPUT_CAP = 64 * 1024
MAX_RESPAWNS = 40
START_TIMEOUT = 20.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class StudentError(Exception):
    """A call that produced no value: kind is timeout, crash, exception, import, missing, return."""

    def __init__(self, kind: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail


def checked(function: str, response: object) -> dict[str, Any]:
    """The response of a call that returned a value; StudentError for anything else."""
    if not isinstance(response, dict) or "ok" not in response:
        raise StudentError("return", f"{function}: malformed response")
    if not response["ok"]:
        raise StudentError(str(response.get("kind", "return")), str(response.get("message", "")),
                           str(response.get("detail", "")))
    return response


class SandboxUnavailable(RuntimeError):
    """The required isolation cannot be had on this machine."""


@dataclass
class Policy:
    """How strictly to isolate. `require` refuses to grade without the full sandbox."""

    limits: Limits = field(default_factory=Limits)
    require: bool = False
    tmpfs_mb: int = 64
    isolate: bool = True


def _zygote_env() -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.update({k: os.environ[k] for k in PASSED_ENV if k in os.environ})
    return env


class Sandbox:
    """A torch-free zygote process that forks a confined child per submission."""

    def __init__(self, policy: Policy | None = None, slot: int = 0, run_id: int | None = None) -> None:
        """`slot` numbers the concurrent sandboxes of one run, `run_id` (default: this pid) the run:
        together they pick a uid no other concurrent sandbox uses, so process limits stay separate."""
        self.policy = policy or Policy()
        run = os.getpid() if run_id is None else run_id
        self.uid = UID_BASE + (run % 4096) * 64 + slot % 64 if os.geteuid() == 0 else None
        self.scratch_root = Path(tempfile.mkdtemp(prefix="autograder-"))
        self.scratch_root.chmod(0o711)
        self._free: list[Path] = []  # scratch folders of closed submissions, emptied
        self._cgroups: dict[Path, cgroups.Cgroup] = {}  # scratch folder -> its cgroup
        self._cgroup_place = cgroups.Place.find()  # where to make them, or why nowhere
        self._cgroup_numbers = itertools.count()
        if isinstance(self._cgroup_place, cgroups.Place):
            self._cgroup_place.remove_stale()
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        code = ("import sys; sys.path.insert(0, sys.argv[1]); "
                "from autograder.sandbox.zygote import main; main(int(sys.argv[2]))")
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", code, PACKAGE_PARENT, str(theirs.fileno())],
            pass_fds=[theirs.fileno()], env=_zygote_env(), stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()

    def spawn(self, scratch: Path, limits: Limits | None = None) -> tuple[int, socket.socket, dict]:
        """Fork a child for `scratch`; return its pid, our end of its channel, its report."""
        group = self._cgroups.get(scratch)
        request = {
            "scratch": str(scratch), "uid": self.uid, "limits": asdict(limits or self.policy.limits),
            "namespaces": self.policy.isolate, "require_namespaces": self.policy.require,
            "require_landlock": self.policy.require, "tmpfs_mb": self.policy.tmpfs_mb,
            "cgroup": group and {"folders": list(map(str, group.folders)), "description": group.description},
        }
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(self._control, [json.dumps(request).encode()], [theirs.fileno()])
        finally:
            theirs.close()
        self._control.settimeout(START_TIMEOUT)
        reply = json.loads(self._control.recv(1 << 16) or b'{"error": "the zygote died"}')
        if "error" in reply:
            ours.close()
            raise SandboxUnavailable(reply["error"])
        if group is None:  # then no cgroup could be made: the place says why
            reply["isolation"].append(missing("cgroup", str(self._cgroup_place)))
        return reply["pid"], ours, reply

    def probe(self) -> list[str]:
        """Start one child as for a submission, have it import from the standard library, and
        return its isolation layers, held and missing. SandboxUnavailable when no child can
        start, confine itself or import what student code may import."""
        module = next(iter(MODULES))  # any name the child imports student code under
        process = self.open({module: "import decimal\nimport fractions\n\n\ndef probe():\n    return 1\n"})
        try:
            process.call(f"{module}.probe", (), START_TIMEOUT)
        except StudentError as exc:
            raise SandboxUnavailable(f"the sandboxed child cannot run Python: {exc.message}") from None
        finally:
            process.close()
        return process.isolation

    def open(self, sources: dict[str, str]) -> StudentProcess:
        """A StudentProcess for one submission's module sources."""
        scratch = self._free.pop() if self._free else self._new_scratch()
        for module, text in sources.items():
            (scratch / "src" / f"{module}.py").write_text(text)
        return StudentProcess(self, scratch)

    def _new_scratch(self) -> Path:
        scratch = Path(tempfile.mkdtemp(dir=self.scratch_root))
        scratch.chmod(0o711)
        (scratch / "src").mkdir()
        self._add_cgroup(scratch)
        return scratch

    def _add_cgroup(self, scratch: Path) -> None:
        """Give a new scratch slot its cgroup: the memory of the process and of its tmpfs, and
        its threads, bounded together. Where cgroups cannot be made, remember why."""
        place = self._cgroup_place
        if isinstance(place, str):
            return
        limits = self.policy.limits
        name = f"{cgroups.PREFIX}{os.getpid()}-{next(self._cgroup_numbers)}"
        try:
            self._cgroups[scratch] = place.create(name, (limits.memory_mb + self.policy.tmpfs_mb) * MB,
                                                  limits.processes)
        except OSError as exc:
            self._cgroup_place = f"could not be made in {place.parents[0]}: {exc.strerror}"

    def release(self, scratch: Path, reusable: bool) -> None:
        """Take back a closed submission's scratch folder: emptied for the next one when all
        its processes are gone, else removed. Reusing it saves a removal per submission, which
        costs milliseconds when the folder was a mount point of a namespace being torn down.
        A child's files live in its tmpfs and go with it; without namespaces (no tmpfs) they
        are in `run` itself, and a folder that cannot be emptied completely is not reused."""
        if reusable:
            try:
                for entry in [*(scratch / "src").iterdir(), *_entries(scratch / "run")]:
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry)
                    else:
                        entry.unlink()
                (scratch / "output").unlink(missing_ok=True)
            except OSError:
                reusable = False
        if reusable:
            self._free.append(scratch)
            return
        shutil.rmtree(scratch, ignore_errors=True)
        if scratch in self._cgroups:
            cgroups.remove(self._cgroups.pop(scratch))

    def close(self) -> None:
        """Stop the zygote (it kills its children) and remove every scratch folder."""
        self._control.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self.scratch_root, ignore_errors=True)
        for group in self._cgroups.values():
            cgroups.remove(group)
        self._cgroups.clear()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _entries(folder: Path) -> list[Path]:
    """What `folder` holds (nothing if it does not exist)."""
    return list(folder.iterdir()) if folder.is_dir() else []


def kill_tree(pid: int, timeout: float = 2.0) -> bool:
    """SIGKILL `pid` (PID 1 of its namespace, so all it started dies too); True once it is gone.

    Through a pidfd: the signal cannot hit a reused pid, and the wait ends the moment the
    process has exited (when PID 1 of a namespace exits, the rest are already dead).
    """
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except OSError:  # a kernel without pidfds (before 5.3)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return False
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        return bool(select.select([pidfd], [], [], timeout)[0])
    except ProcessLookupError:
        return True
    finally:
        os.close(pidfd)


def namespace_cpu_seconds(pid: int) -> float | None:
    """CPU seconds used so far by `pid` and, if it is PID 1 of its own PID namespace, by
    every process of that namespace (user + system time, waited-for children included).
    None when `pid` is gone (the zygote reaps at once: its usage is lost)."""
    try:
        namespace = os.readlink(f"/proc/{pid}/ns/pid")
        shared = namespace == os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    ticks = 0
    for entry in [str(pid)] if shared else os.listdir("/proc"):
        try:
            if not shared and (not entry.isdigit() or os.readlink(f"/proc/{entry}/ns/pid") != namespace):
                continue
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / CLOCK_TICKS


class StudentProcess:
    """One submission's child; restarted after a crash or timeout, up to MAX_RESPAWNS times."""

    def __init__(self, sandbox: Sandbox, scratch: Path) -> None:
        self.sandbox = sandbox
        self.scratch = scratch
        self.pid: int | None = None
        self.channel: socket.socket | None = None
        self.reader: wire.Reader | None = None  # reads self.channel, buffered
        self.isolation: list[str] = []
        self.starts = 0
        self.failures: dict[str, list[str]] = {}  # function -> kinds of its timeouts and crashes
        self.cpu_used = 0.0  # CPU seconds of the children already stopped
        self.child_cpu_limit, self.started_at = 0, 0.0

    def _cpu_left(self) -> Limits:
        """The limits for the next child: RLIMIT_CPU is per process, so a respawned child
        only gets what the submission's earlier children left of the CPU budget."""
        limits = self.sandbox.policy.limits
        left = limits.cpu_seconds - self.cpu_used
        if left < 0.5:
            raise StudentError("timeout",
                               f"skipped: the submission used up its {limits.cpu_seconds} CPU seconds")
        return replace(limits, cpu_seconds=max(1, math.ceil(left)))

    def _charge_cpu(self) -> None:
        """Add the stopping child's CPU time to the submission's; a child that already died
        (a crash, or killed by RLIMIT_CPU) is charged what it could have used at most."""
        used = namespace_cpu_seconds(self.pid)
        if used is None:
            cores = len(os.sched_getaffinity(0))
            used = min(self.child_cpu_limit, (time.monotonic() - self.started_at) * cores)
        self.cpu_used += used

    def _start(self) -> None:
        if self.starts > MAX_RESPAWNS:
            raise StudentError("crash", "gave up: the submission's process died too many times")
        limits = self._cpu_left()
        self.starts += 1
        self.child_cpu_limit, self.started_at = limits.cpu_seconds, time.monotonic()
        pid, channel, reply = self.sandbox.spawn(self.scratch, limits)
        self.pid, self.channel, self.reader = pid, channel, wire.Reader(channel)
        try:
            ready = self.reader.receive(START_TIMEOUT)
        except (wire.ChannelClosed, wire.ChannelTimeout, wire.WireError):
            self._stop()
            raise SandboxUnavailable(
                f"the sandboxed child did not start: {self.output()[-500:]}"
            ) from None
        held = ready.get("ready", []) if isinstance(ready, dict) else []
        self.isolation = [*reply["isolation"], *(str(h) for h in held)]

    def _stop(self, charge: bool = True) -> bool:
        """Kill the child (charging its CPU time to the submission); True once it is gone."""
        gone = True
        if self.pid is not None:
            if charge:
                self._charge_cpu()
            gone = kill_tree(self.pid)
            self.pid = None
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        return gone

    def _refusal(self, function: str) -> StudentError | None:
        """Why calls of `function` are no longer made, if they are not: it timed out (an
        endless loop loops again: one wait is enough) or crashed twice (a crash may depend on
        the input, so it gets a second chance)."""
        kinds = self.failures.get(function, [])
        if "timeout" in kinds:
            return StudentError("timeout", f"skipped: {function} already timed out")
        if len(kinds) >= 2:
            return StudentError("crash", f"skipped: {function} ended the process twice already")
        return None

    def has_failed(self, function: str) -> bool:
        """Whether calls of `function` are no longer made."""
        return self._refusal(function) is not None

    def refuse_if_failed(self, function: str) -> None:
        """StudentError instead of calling a function that timed out or crashed twice already."""
        refusal = self._refusal(function)
        if refusal is not None:
            raise refusal

    def _running(self) -> socket.socket:
        """The current child's channel, starting a child if none runs."""
        if self.channel is None:
            self._start()
        assert self.channel is not None
        return self.channel

    def call(self, function: str, args: tuple, timeout: float) -> dict[str, Any]:
        """Run `function` ("module.name") on `args`; return {"ok", "value"} with "modified"
        (per argument: changed in place?) and "warnings" when there are any."""
        self.refuse_if_failed(function)
        channel = self._running()
        try:
            wire.send(channel, {"op": "call", "function": function, "args": tuple(args)})
        except (BrokenPipeError, ConnectionError) as exc:
            self._failed(function, "crash", counted=True)
            raise self._crash_error(function, str(exc)) from None
        return checked(function, self.await_response(function, timeout, counted=True))

    def stream(self, requests: list[bytes]) -> None:
        """Send encoded call requests as one plan: the child answers each, in order, unasked."""
        channel = self._running()
        header = wire.encode({"op": "plan", "count": len(requests)})
        try:
            channel.sendall(header + b"".join(requests))
        except (BrokenPipeError, ConnectionError):
            self._stop()  # the next read reports the crash against the call that caused it

    def await_response(self, function: str, timeout: float, *, counted: bool) -> Any:
        """The child's next response (to a call of `function`). A timeout or crash stops the
        child and raises StudentError; `counted` says whether it counts against `function`."""
        if self.channel is None:
            raise self._crash_error(function, "the process had already stopped")
        try:
            return self.reader.receive(timeout)
        except wire.ChannelTimeout:
            self._failed(function, "timeout", counted)
            raise StudentError(
                "timeout", f"{function} did not return within {timeout:g} s (an endless loop?)"
            ) from None
        except (wire.ChannelClosed, BrokenPipeError, wire.WireError) as exc:
            self._failed(function, "crash", counted)
            raise self._crash_error(function, str(exc)) from None

    def _failed(self, function: str, kind: str, counted: bool) -> None:
        self._stop()
        if counted:
            self.failures.setdefault(function, []).append(kind)

    @staticmethod
    def _crash_error(function: str, detail: str) -> StudentError:
        return StudentError(
            "crash",
            f"the process running {function} ended during the call: os._exit(), a crash, "
            f"or a CPU or memory limit",
            detail,
        )

    def output(self) -> str:
        """The first OUTPUT_CAP bytes of what student code printed (stdout and stderr)."""
        try:
            with open(self.scratch / "output", "rb") as handle:
                data = handle.read(OUTPUT_CAP + 1)
        except OSError:
            return ""
        text = data[:OUTPUT_CAP].decode("utf-8", "replace")
        return text + ("\n[output truncated]" if len(data) > OUTPUT_CAP else "")

    def close(self) -> None:
        """Kill the child and give its scratch folder back (emptied) to the sandbox."""
        self.sandbox.release(self.scratch, reusable=self._stop(charge=False))
