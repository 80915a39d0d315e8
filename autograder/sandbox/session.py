"""The trusted side of the sandbox: a zygote per worker, a child per submission, calls by value.

`Sandbox` owns one zygote. `Sandbox.open(sources, modules)` gives a `StudentProcess`,
one submission's child: it imports the student's modules first (`Load`), then runs
calls (`call`, or `send_batch` + `response` for planned calls) and returns each
call's value, or raises `StudentError` for a timeout, a crash, an exception or a
value it may not keep. After a timeout or crash the next call starts a fresh child,
so one bad function costs only its own cases.

Everything the grader believes is decided here, on the trusted side: which call a
response answers (its id), how large a response may be (refused before its body is
read), whether a call changed its inputs (the arguments live in shared memory the
grader compares), and what the child printed (read from a pipe, capped here).
"""

from __future__ import annotations

import contextlib
import fcntl
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
from typing import Any, Protocol

import numpy as np

from autograder.i18n import gettext
from autograder.sandbox import cgroups, protocol, wire
from autograder.sandbox.confine import MB, Limits, missing
from autograder.sandbox.protocol import (
    Answer,
    CasePlan,
    Failure,
    HelpRequest,
    Loaded,
    Outgoing,
    PlannedCall,
    Process,
    Raised,
    Ready,
    Returned,
    StudentError,
)

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
ZYGOTE = "autograder.sandbox.zygote"  # the module the zygote process runs (started by name, not imported)
PASSED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
UID_BASE = 200_000  # above the ids of real users and of Debian's dynamic range
OUTPUT_CAP = 64 * 1024       # bytes of printed output kept per phase (the rest is counted, not kept)
PIPE_SIZE = 1 << 20          # the output pipe's buffer: a chatty call rarely waits for the grader
ARENA_SIZE = 16 << 20        # shared memory for one submission's call arguments (pages used lazily)
MAX_RESPAWNS = 40
START_TIMEOUT = 20.0
IMPORT_TIMEOUT = 5.0         # seconds one module may take to import
LIVE_IDS = 1 << 40           # ids of live calls start here; planned calls use their plan index
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


class OutputLog:
    """What student code printed, read by the grader from the child's pipe and capped here.

    Two phases: `visible` until the first hidden case is sent, then `private` (shown to
    the instructor only), so nothing printed once hidden inputs were in the child's
    memory reaches the student.
    """

    def __init__(self, cap: int = OUTPUT_CAP) -> None:
        self.cap = cap
        self.phase = "visible"
        self.kept = {"visible": bytearray(), "private": bytearray()}
        self.dropped = {"visible": 0, "private": 0}
        self.muted = False  # while a respawned child re-imports: its prints were seen once already

    def add(self, data: bytes) -> None:
        if self.muted:
            return
        kept = self.kept[self.phase]
        room = max(0, self.cap - len(kept))
        kept += data[:room]
        self.dropped[self.phase] += max(0, len(data) - room)

    def text(self, phase: str) -> str:
        text = self.kept[phase].decode("utf-8", "replace")
        if self.dropped[phase]:
            text += f"\n[{self.dropped[phase]} more bytes of output were dropped]"
        return text


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
        self.scratch_root = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
        self._owner = _hold(self.scratch_root)
        self.scratch_root.chmod(0o711)
        self._free: list[Path] = []  # scratch folders of closed submissions, emptied
        self._cgroups: dict[Path, cgroups.Cgroup] = {}  # scratch folder -> its cgroup
        self._cgroup_place = cgroups.Place.find()  # where to make them, or why nowhere
        if isinstance(self._cgroup_place, cgroups.Place):
            self._cgroup_place.remove_stale()
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        code = ("import sys; sys.path.insert(0, sys.argv[1]); "
                f"from {ZYGOTE} import main; main(int(sys.argv[2]))")
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", code, PACKAGE_PARENT, str(theirs.fileno())],
            pass_fds=[theirs.fileno()], env=_zygote_env(), stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()

    def spawn(self, scratch: Path, limits: Limits, output: int, arena: int,
              sources: int) -> tuple[int, socket.socket, dict]:
        """Fork a child for `scratch` with the sources of the bundle `sources`, printing into the
        pipe `output`, its arguments in the arena `arena`; return its pid, our end of its channel,
        and the zygote's report."""
        group = self._cgroups.get(scratch)
        request = {
            "scratch": str(scratch), "uid": self.uid, "limits": asdict(limits),
            "namespaces": self.policy.isolate, "require_namespaces": self.policy.require,
            "require_landlock": self.policy.require, "tmpfs_mb": self.policy.tmpfs_mb,
            "cgroup": group and {"folders": list(map(str, group.folders)), "description": group.description},
        }
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(self._control, [json.dumps(request).encode()],
                            [theirs.fileno(), output, arena, sources])
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
        process = self.open({"probe": "import decimal\nimport fractions\n\n\ndef probe():\n    return 1\n"})
        try:
            process.ask("probe.probe", (), START_TIMEOUT)
        except (StudentError, SandboxUnavailable) as exc:
            raise SandboxUnavailable(f"the sandboxed child cannot run Python: {exc}") from None
        finally:
            process.close()
        return process.isolation

    def open(self, sources: dict[str, str], modules: tuple[str, ...] | None = None,
             unusable: dict[str, str] | None = None,
             functions: dict[str, tuple[str, ...]] | None = None) -> StudentProcess:
        """A StudentProcess for one submission: `sources` by module, `modules` to import in
        order (dependencies first; default: those of `sources`), `unusable` those known broken
        already (intake), with why; `functions`, each module's exercise functions (one the
        student left out still imports elsewhere, as a stand-in that fails when called)."""
        scratch = self._free.pop() if self._free else self._new_scratch()
        return StudentProcess(self, scratch, tuple(sources) if modules is None else modules, unusable or {},
                              functions or {}, wire.source_bundle(sources))

    def _new_scratch(self) -> Path:
        scratch = Path(tempfile.mkdtemp(dir=self.scratch_root))
        scratch.chmod(0o711)
        self._add_cgroup(scratch)
        return scratch

    def _add_cgroup(self, scratch: Path) -> None:
        """Give a new scratch slot its cgroup: the memory of the process and of its tmpfs, and
        its threads, bounded together. Where cgroups cannot be made, remember why."""
        place = self._cgroup_place
        if isinstance(place, str):
            return
        limits = self.policy.limits
        try:
            memory = (limits.memory_mb + self.policy.tmpfs_mb) * MB
            self._cgroups[scratch] = place.create(cgroups.name(), memory, limits.processes)
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
                for entry in _entries(scratch / "run"):
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry)
                    else:
                        entry.unlink()
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
        os.close(self._owner)
        for group in self._cgroups.values():
            cgroups.remove(group)
        self._cgroups.clear()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


SCRATCH_PREFIX = "autograder-"
OWNER = "owner.lock"  # in a scratch root: locked for as long as the Sandbox that made it lives


def _hold(root: Path) -> int:
    """Lock `root` as in use by this process (released when the process ends, however)."""
    fd = os.open(root / OWNER, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def remove_stale_scratch(older_than: float = 60.0) -> list[Path]:
    """Remove the scratch folders that graders killed before they could clean up left in the
    system's temporary folder (student sources among them); return what was removed.

    A folder is stale when nobody holds its owner lock; one without a lock is left alone
    until it is `older_than` seconds old (it may be a Sandbox being made right now)."""
    removed = []
    for root in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        try:
            if not root.is_dir() or root.is_symlink() or root.stat().st_uid != os.geteuid():
                continue
            fd = os.open(root / OWNER, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            if root.is_dir() and time.time() - root.stat().st_mtime > older_than:
                shutil.rmtree(root, ignore_errors=True)
                removed.append(root)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live Sandbox's
        finally:
            os.close(fd)
        shutil.rmtree(root, ignore_errors=True)
        removed.append(root)
    return removed


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


def same(planned: Any, given: Any) -> bool:
    """Bit-for-bit the same value (dtype, shape, -0.0 and NaN payloads included)."""
    if planned is given:
        return True
    if type(planned) is not type(given):
        return False
    if isinstance(planned, np.ndarray):
        return (planned.dtype == given.dtype and planned.shape == given.shape
                and planned.tobytes() == given.tobytes())
    if isinstance(planned, (tuple, list)):
        return len(planned) == len(given) and all(same(a, b) for a, b in zip(planned, given, strict=True))
    if isinstance(planned, dict):
        return list(planned) == list(given) and all(same(planned[k], given[k]) for k in planned)
    if isinstance(planned, float):
        return planned.hex() == given.hex()
    return bool(planned == given)


class HelperAnswer(Protocol):
    """Answers the helper calls of student code on the trusted side (see `chain.Reference`)."""

    def reply(self, request: HelpRequest) -> bytes:
        """The encoded Helped frame answering `request`; never raises."""


class StudentProcess(Process):
    """One submission's child; restarted after a crash or timeout, up to MAX_RESPAWNS times.

    Calls are answered from the current case's planned calls where they match bit for bit:
    when a case first asks for one, that call and every later one of the case is sent as
    one batch, and the answers stream back while the case checks them (see `callplan`).
    A call the plan did not foresee is made live. A planned call that no case asks for
    and that hangs or crashes stops the child without counting, is never sent again
    (`lost`), and answers nobody asked for are read and dropped at once.
    """

    answers_helpers = True

    def __init__(self, sandbox: Sandbox, scratch: Path, modules: tuple[str, ...],
                 unusable: dict[str, str], functions: dict[str, tuple[str, ...]], sources: int) -> None:
        self.sandbox, self.scratch = sandbox, scratch
        self.sources = sources  # the bundle (`wire.source_bundle`) each child's files are written from
        self.modules = tuple(modules)
        self.functions = dict(functions or {})
        self.helper: HelperAnswer | None = None  # answers the helpers of the call being awaited
        self.broken = dict(unusable)           # module -> why it cannot be used (intake, or import)
        self.loaded: dict[str, Failure | None] = {}  # the first import of each module: ok, or why not
        self.pid: int | None = None
        self.channel: socket.socket | None = None
        self.reader: wire.Reader | None = None  # reads self.channel, buffered
        self.poller: select.poll | None = None  # waits for the channel and the output pipe
        self.output_fd: int | None = None       # our end of the current child's output pipe
        self.log = OutputLog()
        self.arena = wire.Arena(ARENA_SIZE)
        self.case, self.cursor = CasePlan(), 0  # the current case's planned calls, the next to match
        self.live_base = 0                      # where a live call's arguments go in the arena
        self.next_live_id = LIVE_IDS
        self.pending: list[Outgoing] = []       # sent to the current child, not answered yet
        self.lost: set[int] = set()             # ids of calls that hung or crashed while nobody asked
        self.isolation: list[str] = []
        self.starts = 0
        self.failures: dict[str, list[str]] = {}  # function -> kinds of its timeouts and crashes
        self.cpu_used = 0.0  # CPU seconds of the children already stopped
        self.child_cpu_limit, self.started_at = 0, 0.0

    # --- starting and stopping -----------------------------------------------------------------

    def _cpu_left(self) -> Limits:
        """The limits for the next child: RLIMIT_CPU is per process, so a respawned child
        only gets what the submission's earlier children left of the CPU budget."""
        limits = self.sandbox.policy.limits
        left = limits.cpu_seconds - self.cpu_used
        if left < 0.5:
            text = gettext("skipped: the submission used up its {seconds} CPU seconds")
            raise StudentError("timeout", text.format(seconds=limits.cpu_seconds))
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
        """Start a child, wait until it is confined, and import the student's modules.

        A module that hangs or ends the process while being imported is unusable from
        then on (it would do the same again); the child is restarted without it."""
        while True:
            self._spawn()
            if self._load():
                return

    def _spawn(self) -> None:
        if self.starts > MAX_RESPAWNS:
            raise StudentError("crash", gettext("gave up: the submission's process died too many times"))
        limits = self._cpu_left()
        self.starts += 1
        self.child_cpu_limit, self.started_at = limits.cpu_seconds, time.monotonic()
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(read_end, False)  # ours only: the child's end blocks while the pipe is full
        with contextlib.suppress(OSError):
            fcntl.fcntl(write_end, F_SETPIPE_SZ, PIPE_SIZE)
        try:
            pid, channel, reply = self.sandbox.spawn(self.scratch, limits, write_end, self.arena.fd,
                                                     self.sources)
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        self.pid, self.channel, self.output_fd = pid, channel, read_end
        channel.setblocking(False)
        self.reader = wire.Reader(channel)
        self.poller = select.poll()
        self.poller.register(channel, select.POLLIN)
        self.poller.register(read_end, select.POLLIN)
        try:
            ready = self._receive(START_TIMEOUT, 1 << 16)
        except (wire.ChannelClosed, wire.ChannelTimeout, wire.WireError, protocol.ProtocolError):
            ready = None
        if not isinstance(ready, Ready):
            why = self._drain_text()
            self._stop()
            raise SandboxUnavailable(f"the sandboxed child did not start: {why[-500:]}")
        self.isolation = [*reply["isolation"], *ready.layers]

    def _load(self) -> bool:
        """Send Load and read one Loaded per module; False if the child had to be stopped."""
        first = not self.loaded
        self.log.muted = not first
        try:
            try:
                self._send(protocol.Load(self.modules, self.broken, self.functions).frame())
            except (BrokenPipeError, ConnectionError):  # no student code has run yet: not theirs
                why = self._drain_text()
                self._stop()
                raise SandboxUnavailable(f"the sandboxed child stopped before importing: "
                                         f"{why[-500:]}") from None
            for module in self.modules:
                try:
                    message = self._receive(IMPORT_TIMEOUT, 1 << 20)
                except wire.ChannelTimeout:
                    text = gettext("importing {module}.py did not finish within {seconds} s (an endless "
                                   "loop at import time?)")
                    return self._unusable(module, text.format(module=module, seconds=f"{IMPORT_TIMEOUT:g}"))
                except (wire.ChannelClosed, wire.WireError, protocol.ProtocolError):
                    text = gettext("importing {module}.py ended the process (os._exit(), a crash, or a CPU "
                                   "or memory limit)")
                    return self._unusable(module, text.format(module=module))
                if not isinstance(message, Loaded) or message.module != module:
                    text = gettext("importing {module}.py disturbed the grader's channel")
                    return self._unusable(module, text.format(module=module))
                self.loaded.setdefault(module, message.failure)
                if message.failure is not None:
                    self.broken.setdefault(module, message.failure.said())
            return True
        finally:
            self.log.muted = False

    def _unusable(self, module: str, why: str) -> bool:
        self._stop()
        self.broken[module] = why
        self.loaded[module] = Failure("import", why)
        return False

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
        if self.output_fd is not None:
            self._drain_output()
            os.close(self.output_fd)
            self.output_fd = None
        self.pending = []
        return gone

    def _running(self) -> socket.socket:
        """The current child's channel, starting a child if none runs."""
        if self.channel is None:
            self._start()
        assert self.channel is not None
        return self.channel

    # --- which functions are still called ----------------------------------------------------

    def _refusal(self, function: str) -> StudentError | None:
        """Why calls of `function` are no longer made, if they are not: it timed out (an
        endless loop loops again: one wait is enough) or crashed twice (a crash may depend on
        the input, so it gets a second chance)."""
        kinds = self.failures.get(function)
        if not kinds:
            return None
        if "timeout" in kinds:
            text = gettext("skipped: {function} already timed out")
            return StudentError("timeout", text.format(function=function))
        if len(kinds) >= 2 and kinds[-1] == "too large":
            text = gettext("skipped: {function} returned values far larger than expected twice already")
            return StudentError("return", text.format(function=function))
        if len(kinds) >= 2:
            text = gettext("skipped: {function} ended the process twice already")
            return StudentError("crash", text.format(function=function))
        return None

    def has_failed(self, function: str) -> bool:
        """Whether calls of `function` are no longer made."""
        return self._refusal(function) is not None

    def refuse_if_failed(self, function: str) -> None:
        """StudentError instead of calling a function that timed out or crashed twice already."""
        refusal = self._refusal(function)
        if refusal is not None:
            raise refusal

    def unusable(self, module: str) -> str | None:
        """Why `module` cannot be used (intake or import), if it cannot."""
        return self.broken.get(module)

    def problems(self) -> dict[str, str]:
        return {module: failure.said() for module, failure in self.loaded.items() if failure is not None}

    # --- cases and calls ---------------------------------------------------------------------

    def begin_case(self, case: CasePlan) -> None:
        """Answers still pending from the last case are read and dropped; `case`'s planned
        arguments are written to the arena when they are sent."""
        self.drain()
        self.case, self.cursor = case, 0
        self.live_base = wire.aligned(len(case.image))

    def ask(self, function: str, args: tuple, timeout: float) -> Answer:
        """The answer to `function(*args)`: from the case's streamed batch if it is a planned
        call, else live; StudentError when it produced no value."""
        index = self._match(function, args)
        if index is None or self.case.calls[index].outgoing.id in self.lost:
            return self.call(function, args, timeout)
        self.refuse_if_failed(function)
        planned = self.case.calls[index].outgoing
        if not any(pending is planned for pending in self.pending):
            self._stream_from(index)
        return self.response(planned, timeout, counted=True)

    def _match(self, function: str, args: tuple) -> int | None:
        """The next planned call of the current case that this call is, if any."""
        for index in range(self.cursor, len(self.case.calls)):
            planned = self.case.calls[index]
            if planned.function == function and same(planned.args, args):
                self.cursor = index + 1
                return index
        return None

    def _stream_from(self, first: int) -> None:
        """Send the wanted call `first` and every later call of the case that may still be asked,
        their arguments written afresh to the arena."""
        self.drain()
        calls = self.case.calls
        wanted = [calls[first]] + [c for c in calls[first + 1:] if self._callable(c)]
        starts = [c.outgoing.regions[0][0] for c in wanted if c.outgoing.regions]
        if starts:
            self.arena.write(starts[0], memoryview(self.case.image)[starts[0]:])
        whole = len(wanted) == len(calls) and self.case.batch
        self.send_batch([c.outgoing for c in wanted], self.case.batch if whole else None)

    def _callable(self, call: PlannedCall) -> bool:
        return (self.unusable(call.function.partition(".")[0]) is None
                and not self.has_failed(call.function) and call.outgoing.id not in self.lost)

    def send_batch(self, calls: list[Outgoing], frame: bytes | None = None) -> None:
        """Send calls as one batch (`frame`, if it is already made): the child answers each, in
        order, unasked."""
        self._running()
        self.pending.extend(calls)
        try:
            self._send(frame or protocol.Batch(tuple(c.frame for c in calls)).frame())
        except (BrokenPipeError, ConnectionError):
            self._stop()  # the next read reports the crash against the call that caused it

    def call(self, function: str, args: tuple, timeout: float) -> Answer:
        """Run `function` ("module.name") on `args` now (a call the plan did not foresee)."""
        self.refuse_if_failed(function)
        return self.response(self._send_live(function, args), timeout, counted=True)

    def ask_given(self, function: str, args: tuple, timeout: float, helpers: tuple[str, ...],
                  answer: HelperAnswer) -> Answer:
        """Run `function` on `args` now with every call student code makes to one of `helpers`
        answered by `answer` here, on the trusted side (no reference code enters the child).
        Made even for a function that timed out before (the helper may have been why) and never
        counted against it: its timeout or crash only ends this call."""
        outgoing = self._send_live(function, args, helpers)
        self.helper = answer
        try:
            return self.response(outgoing, timeout, counted=False)
        finally:
            self.helper = None

    def _send_live(self, function: str, args: tuple, helpers: tuple[str, ...] = ()) -> Outgoing:
        self._running()
        self.drain()
        layout = wire.Layout(self.live_base, self.arena.size)
        call_id, self.next_live_id = self.next_live_id, self.next_live_id + 1
        frame, regions = protocol.Call(call_id, function, tuple(args), helpers).frame(layout)
        self.arena.write(self.live_base, bytes(layout.image))
        outgoing = Outgoing(call_id, function, frame, regions, bytes(layout.image))
        self.send_batch([outgoing])
        return outgoing

    def response(self, call: Outgoing, timeout: float, *, counted: bool) -> Answer:
        """The answer to `call`, reading (and dropping) the answers to the pending calls sent
        before it. A timeout or crash stops the child and raises StudentError; `counted` says
        whether it counts against the function (a case asked for it)."""
        while self.pending and self.pending[0] is not call:
            self._skip(self.pending[0])
        if not self.pending or self.channel is None:
            raise self._crash_error(call.function, "the process had already stopped")
        self.pending.pop(0)
        message = self._await(call, timeout, counted)
        if isinstance(message, Raised):
            raise StudentError.of(message.failure, call.function)
        seen = call.changed(self.arena)
        if not message.modified:
            return Answer(message.value, seen, message.warnings)
        said = tuple(message.modified) + (False,) * (len(seen) - len(message.modified))
        # the child's own report can only add changes (a dict whose key was rebound): it costs
        # the student, so it is believed; its silence proves nothing, the arena does
        return Answer(message.value, tuple(a or b for a, b in zip(seen, said, strict=False)) or said,
                      message.warnings)

    def drain(self) -> None:
        """Read (and drop) the answers to every pending call, so that the child is idle."""
        while self.pending and self.channel is not None:
            self._skip(self.pending[0])

    def _skip(self, call: Outgoing) -> None:
        """Read the answer to a call nobody asks for any more, and drop it at once."""
        try:
            self._await(call, self.timeout_of(call.function), counted=False)
        except StudentError:
            self.lost.add(call.id)  # never streamed again: it would stop the child again
        if self.pending and self.pending[0] is call:
            self.pending.pop(0)

    def _await(self, call: Outgoing, timeout: float, counted: bool) -> Returned | Raised:
        """The child's response to `call`, answering the helper calls it makes meanwhile (within
        the same `timeout`); StudentError for anything else."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(call, deadline, timeout, counted)
            if not isinstance(message, HelpRequest):
                break
            self._answer_help(message)
        if not isinstance(message, (Returned, Raised)) or message.id != call.id:
            self._failed(call.function, "crash", counted)
            text = gettext("{function}: the process answered out of turn (did student code write to the "
                           "grader's channel?)")
            raise StudentError("crash", text.format(function=call.function))
        return message

    def _answer_help(self, request: HelpRequest) -> None:
        """Send the trusted answer to one helper call of student code."""
        assert self.helper is not None
        try:
            self._send(self.helper.reply(request))
        except (BrokenPipeError, ConnectionError):
            pass  # the child is gone: the next read says so

    def _next(self, call: Outgoing, deadline: float, timeout: float, counted: bool) -> Any:
        """The child's next message while `call` runs (given `timeout` s in all, until
        `deadline`); StudentError on a timeout, a frame too large, a closed channel or a
        malformed message."""
        function = call.function
        try:
            return self._receive(deadline - time.monotonic(), call.max_size)
        except wire.ChannelTimeout:
            self._failed(function, "timeout", counted)
            text = gettext("{function} did not return within {seconds} s (an endless loop?)")
            raise StudentError("timeout", text.format(function=function, seconds=f"{timeout:g}")) from None
        except wire.FrameTooLarge as exc:
            self._failed(function, "too large", counted)
            text = gettext("{function} returned a value far larger than expected ({size} bytes)")
            raise StudentError("return", text.format(function=function, size=exc.size)) from None
        except (wire.ChannelClosed, BrokenPipeError, wire.WireError) as exc:
            self._failed(function, "crash", counted)
            raise self._crash_error(function, str(exc)) from None
        except protocol.ProtocolError as exc:
            self._failed(function, "crash", counted)
            text = gettext("{function}: the process broke the grader's protocol ({error})")
            raise StudentError("crash", text.format(function=function, error=exc)) from None

    def _failed(self, function: str, kind: str, counted: bool) -> None:
        self._stop()
        if counted:
            self.failures.setdefault(function, []).append(kind)

    @staticmethod
    def _crash_error(function: str, detail: str) -> StudentError:
        text = gettext("the process running {function} ended during the call: os._exit(), a crash, or a CPU "
                       "or memory limit")
        return StudentError("crash", text.format(function=function), detail)

    # --- the channel and the output pipe -----------------------------------------------------

    def _send(self, frame: bytes) -> None:
        """Send a frame without blocking on a child that is blocked itself: while the channel
        is full, read the child's output (it may be waiting for room in its pipe)."""
        assert self.channel is not None
        view = memoryview(frame)
        while view:
            try:  # a frame of up to 1 MB (most of them) goes as it is, without a slice
                view = view[self.channel.send(view if len(view) <= 1 << 20 else view[:1 << 20]):]
                continue
            except BlockingIOError:
                pass
            readable, writable, _ = select.select([self.output_fd], [self.channel], [], START_TIMEOUT)
            if readable:
                self._drain_output()
            elif not writable:
                raise BrokenPipeError("the child stopped reading")

    def _receive(self, timeout: float, max_size: int) -> Any:
        """The child's next message as a protocol type, within `timeout` seconds, reading its
        output meanwhile; a frame larger than `max_size` is refused before its body is read."""
        assert self.reader is not None and self.poller is not None
        deadline = time.monotonic() + timeout
        while True:
            body = self.reader.take_body(max_size)
            if body is not wire.NOTHING:
                if self.helper is not None and body.startswith(protocol.HELP_HEAD):
                    return protocol.HelpRequest(body)  # answered from its bytes if already known
                return protocol.decode_body(body)
            left = deadline - time.monotonic()
            if left <= 0:
                raise wire.ChannelTimeout()
            for fd, _ in self.poller.poll(left * 1000):
                if fd == self.output_fd:
                    self._drain_output()
                else:
                    self.reader.fill()

    def _drain_output(self, budget: int = 4 << 20) -> None:
        """Read what the child printed so far (at most `budget` bytes now) into the log."""
        while budget > 0 and self.output_fd is not None:
            try:
                data = os.read(self.output_fd, 1 << 16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if not data:
                return
            self.log.add(data)
            budget -= len(data)

    def _drain_text(self) -> str:
        """What the child printed (used when it failed to start: its traceback)."""
        self._drain_output()
        return self.log.text(self.log.phase)

    def enter_hidden(self) -> None:
        """From now on, what student code prints is for the instructor only (hidden cases)."""
        self.drain()
        self._drain_output()
        self.log.phase = "private"

    def output(self, phase: str = "visible") -> str:
        """What student code printed in `phase` ("visible" or "private"), capped by the grader."""
        return self.log.text(phase)

    def close(self) -> None:
        """Kill the child and give its scratch folder back (emptied) to the sandbox."""
        reusable = self._stop(charge=False)
        self.arena.close()
        os.close(self.sources)
        self.sandbox.release(self.scratch, reusable=reusable)
