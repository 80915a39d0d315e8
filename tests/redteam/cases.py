"""Hostile and broken submissions, as code strings, with the verdict each must get.

Each case starts from the reference solutions and changes one thing: code
appended to one module (a later `def` overrides the honest one, which stays
reachable as `_honest_<name>`), a whole module replaced or removed, extra files
shipped beside the modules, or the whole submission packed as a hostile zip.

Tokens replaced when the batch is built (see `render`):
    @MARKER@     a unique string that every hostile process, thread and file name carries
    @PORT@       a TCP port on 127.0.0.1 where the test listens
    @UNIXSOCK@   a Unix socket path (world-connectable) where the test listens
    @CLASSMATE@  the absolute path of the honest submission's linear.py in the batch
    @REPO@       the repository (solutions/, course/ with the hidden cases)
    @OUT@        the grader's OUT folder

Every escape attempt prints "DENIED <what>: <error>" or "ESCAPED <what>", so
the captured output says which layer stopped it; the test fails on "ESCAPED".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"

PRELUDE = '''
import os as _os
import sys as _sys

_MARKER = "@MARKER@"


def _mark():
    """Name the calling thread after the marker, so that the test finds it in /proc."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(15, _MARKER.encode(), 0, 0, 0)  # PR_SET_NAME
    except Exception:
        pass


def _try(what, action):
    """Attempt one escape; print how it went; return the error, or None when it worked."""
    try:
        action()
    except BaseException as exc:
        print(f"DENIED {what}: {type(exc).__name__}: {exc}", flush=True)
        return exc
    print(f"ESCAPED {what}", flush=True)
    return None


def _write(path, text="hostile"):
    def action():
        with open(path, "w") as handle:
            handle.write(text)
    return action


def _read(path):
    def action():
        with open(path) as handle:
            print("LEAKED", path, handle.read()[:200])
    return action


def _raise_first(errors):
    errors = [e for e in errors if e is not None]
    if errors:
        raise errors[0]
'''


@dataclass(frozen=True)
class Hostile:
    """One submission of the red-team batch and the verdict it must get.

    `lost` maps each function that must lose points to (kind or kinds, regex on the
    message); every other function must keep full marks. `lost_without_tmpfs` replaces
    it where the scratch folder cannot be a bounded tmpfs.
    """

    name: str
    what: str
    append: dict[str, str] = field(default_factory=dict)
    replace: dict[str, str | bytes | None] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    zip: str = ""
    lost: dict[str, tuple[str | tuple[str, ...], str]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    lost_without_tmpfs: dict[str, tuple[str, str]] | None = None

    def verdict(self, tmpfs: bool) -> dict[str, tuple[str, str]]:
        """What it must lose: where the scratch folder is a plain folder on disk (no mount
        namespace, as in a container without privileges) some cases lose differently."""
        return self.lost if tmpfs or self.lost_without_tmpfs is None else self.lost_without_tmpfs


def _all(module_functions: tuple[str, ...], kind: str | tuple[str, ...],
         pattern: str) -> dict[str, tuple[str | tuple[str, ...], str]]:
    return {f: (kind, pattern) for f in module_functions}


NETWORK = ("network.classifier_loss", "network.classifier_gradients")
XOR = ("xor.forward", "xor.gradients", "xor.sgd_step", "xor.train")
EVERY = (
    "linear.linear", "linear.linear_backward", "activations.relu", "activations.relu_prime",
    "activations.sigmoid", "activations.sigmoid_prime", "activations.softmax",
    "activations.softmax_prime", "losses.mse", "losses.mse_prime", "losses.cross_entropy",
    "losses.cross_entropy_prime", "losses.softmax_cross_entropy_prime", *NETWORK, *XOR,
)
TIMEOUT = ("timeout", r"did not return within|used up its|already timed out")
PERMISSION = ("exception", r"^PermissionError: \[Errno 13\]")

CASES: list[Hostile] = [
    Hostile("honest", "the reference solutions, unchanged"),
    Hostile("infinite_loop", "an endless loop", append={"xor": '''
def train(X, y, params, lr, epochs):
    while True:
        pass
'''}, lost={"xor.train": TIMEOUT}),
    Hostile("sleep", "a sleep of 11 days", append={"xor": '''
def train(X, y, params, lr, epochs):
    import time
    time.sleep(10**6)
'''}, lost={"xor.train": TIMEOUT}),
    Hostile("ignore_sigterm", "a loop that ignores SIGTERM, SIGINT, SIGHUP and SIGXCPU", append={"xor": '''
def train(X, y, params, lr, epochs):
    import signal
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):
        signal.signal(sig, signal.SIG_IGN)
    _mark()
    while True:
        pass
'''}, lost={"xor.train": TIMEOUT}),
    Hostile("memory_bomb", "allocate 8 GB with NumPy", append={"network": '''
def classifier_loss(x, y, W, b):
    hog = np.ones(1 << 30)  # 8 GB of float64
    return float(hog.sum())
'''}, lost={"network.classifier_loss": ("exception", r"^MemoryError")}),
    Hostile("fork_bomb", "fork until refused, every child a new session forking too", append={"xor": '''
def train(X, y, params, lr, epochs):
    while True:
        try:
            if _os.fork() == 0:
                _mark()
                try:
                    _os.setsid()
                except OSError:
                    pass
        except OSError:
            pass
'''}, lost={"xor.train": TIMEOUT}),
    Hostile("setsid_daemon", "a double-forked setsid daemon that would outlive its call (fork is refused)",
            append={"network": '''
def _daemon():
    import time
    _mark()
    _try("exec with the marker in argv", lambda: _os.execv("/bin/sh", ["sh", "-c", "sleep 600", _MARKER]))
    while True:
        _try("write /tmp/@MARKER@-daemon", _write("/tmp/@MARKER@-daemon"))
        time.sleep(0.5)


def classifier_gradients(x, y, W, b):
    if _os.fork() == 0:
        try:
            _os.setsid()
            if _os.fork() == 0:
                _daemon()
        finally:
            _os._exit(0)
    _os.wait()
    return _honest_classifier_gradients(x, y, W, b)
'''}, lost={"network.classifier_gradients": ("exception", r"^PermissionError: \[Errno 13\]")}),
    Hostile("spinning_threads", "busy threads left running after the call returns", append={"network": '''
def classifier_gradients(x, y, W, b):
    import threading
    import time

    def spin():
        _mark()
        while True:
            time.sleep(0)

    if threading.active_count() < 4:
        for _ in range(4):
            threading.Thread(target=spin, daemon=True).start()
    return _honest_classifier_gradients(x, y, W, b)
'''}),
    Hostile("exit_in_function", "os._exit(0) inside one function", append={"activations": '''
def relu(z):
    _os._exit(0)
'''}, lost={"activations.relu": ("crash", r"ended during the call|ended the process twice")}),
    Hostile("sys_exit_on_import", "sys.exit while being imported", append={"xor": '''
_sys.exit(3)
'''}, lost=_all(XOR, "import", r"xor\.py called sys\.exit\(3\) while being imported")),
    Hostile("fake_results", "prints a fake score and a fake results JSON, and is wrong",
            append={"activations": '''
def relu(z):
    import json
    fake = {"score": 100, "max_score": 100, "tests": [], "output": "all passed"}
    print("score: 100")
    print("100/100; every function passes")
    print(json.dumps(fake))
    print(json.dumps(fake), file=_sys.stderr)
    return z
'''}, lost={"activations.relu": ("value", r"largest error")}),
    Hostile("results_everywhere", "writes results.json wherever a grader might look", append={"linear": '''
def _plant():
    fake = '{"score": 100, "tests": []}'
    with open("results.json", "w") as handle:  # its own scratch folder: allowed
        handle.write(fake)
    targets = [
        "/autograder/results/results.json", "../results.json", "../../results.json",
        "../../../results.json", "/tmp/results.json", "/tmp/@MARKER@-results.json",
        "@OUT@/results.json", "@OUT@/results_everywhere/results.json", "@OUT@/@MARKER@.json",
        "@OUT@/grades.csv", "@REPO@/autograder/@MARKER@.json", "@REPO@/@MARKER@.json",
        "/root/@MARKER@.json", _os.path.expanduser("~/../@MARKER@.json"), "/dev/shm/@MARKER@.json",
    ]
    for target in targets:
        _try(f"write {target}", _write(target, fake))
    _try("mkdir /autograder", lambda: _os.makedirs("/autograder/results", exist_ok=True))


_plant()
'''}),
    Hostile("conftest_rewrite", "ships a conftest.py and a sitecustomize.py that rewrite reports",
            append={"activations": '''
def relu(z):
    return z
'''}, extra={"conftest.py": '''
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"


def pytest_sessionfinish(session, exitstatus):
    session.exitstatus = 0
    open("results.json", "w").write('{"score": 100}')
''', "sitecustomize.py": "open('/tmp/@MARKER@-site', 'w').write('hi')\n"},
            lost={"activations.relu": ("value", r"largest error")},
            notes=("ignored conftest.py: submissions cannot configure the grader",
                   "ignored sitecustomize.py: submissions cannot configure the grader")),
    Hostile("eq_override", "returns an object whose __eq__, __array__ and __array_function__ lie",
            append={"network": '''
class _Liar:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__

    def __array__(self, dtype=None, copy=None):
        return np.zeros(0)

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return True

    def __float__(self):
        return 0.0


def classifier_loss(x, y, W, b):
    return _Liar()
'''}, lost={"network.classifier_loss": ("return", r"returned a network\._Liar, which is not a plain numpy")}),
    Hostile("ndarray_subclass", "returns an ndarray subclass that claims equality", append={"activations": '''
class _Sneaky(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def __array_finalize__(self, obj):
        pass


def relu_prime(z):
    return _honest_relu_prime(z).view(_Sneaky)
'''}, lost={"activations.relu_prime": ("return", r"returned a \S*_Sneaky, which is not a plain numpy")}),
    Hostile("import_torch", "import torch, removing the grader's import blocker first", append={"network": '''
for _finder in list(_sys.meta_path):
    if type(_finder).__name__ == "TorchBlocker":
        _sys.meta_path.remove(_finder)
_sys.path.append("@SITE_PACKAGES@")
import torch  # noqa: E402
'''}, lost=_all(NETWORK, "import", r"importing network\.py raised (ModuleNotFoundError|PermissionError)")),
    Hostile("read_classmate", "reads another submission of the batch by absolute path", append={"losses": '''
def cross_entropy_prime(p, y):
    _raise_first([_try("read a classmate's file", _read("@CLASSMATE@"))])
'''}, lost={"losses.cross_entropy_prime": PERMISSION}),
    Hostile("read_solutions", "reads solutions/ and the hidden cases in course/", append={"activations": '''
def softmax_prime(z):
    _raise_first([
        _try("read solutions/", _read("@REPO@/solutions/activations.py")),
        _try("read the hidden cases", _read("@REPO@/course/activations/hidden.py")),
        _try("read the settings", _read("@REPO@/course/course.toml")),
        _try("list the repository", lambda: print(_os.listdir("@REPO@"))),
    ])
'''}, lost={"activations.softmax_prime": PERMISSION}),
    Hostile("socket_loopback", "connects to 127.0.0.1 over TCP, UDP and a Unix socket", append={"network": '''
def classifier_gradients(x, y, W, b):
    import socket

    def tcp():
        with socket.create_connection(("127.0.0.1", @PORT@), timeout=0.5) as conn:
            conn.sendall(b"@MARKER@")

    def udp():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as conn:
            conn.sendto(b"@MARKER@", ("127.0.0.1", @PORT@))

    def unix():
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect("@UNIXSOCK@")
            conn.sendall(b"@MARKER@")

    _raise_first([_try("tcp", tcp), _try("udp", udp), _try("unix", unix)])
'''}, lost={"network.classifier_gradients": ("exception", r"^PermissionError")}),
    Hostile("env_secret", "looks for the grader's secrets in the environment and /proc", append={"xor": '''
def train(X, y, params, lr, epochs):
    found = [f"{k}={v}" for k, v in _os.environ.items()]
    for path in ["/proc/self/environ", "/proc/1/environ", f"/proc/{_os.getppid()}/environ"]:
        _try(f"read {path}", _read(path))
    _try("list /proc", lambda: found.extend(_os.listdir("/proc")))
    raise RuntimeError("environment: " + " ".join(found))
'''}, lost={"xor.train": ("exception", r"^RuntimeError: environment: ")}),
    Hostile("inherited_fds", "looks for descriptors the zygote left open", append={"network": '''
def classifier_loss(x, y, W, b):
    extra = []
    for fd in range(6, 1024):  # expected: 0-2, the channel (3), the arena (4) and its mapping's copy (5)
        try:
            extra.append(f"{fd}: {_os.fstat(fd)}")
        except OSError:
            pass
    for item in extra:
        print(f"ESCAPED inherited descriptor {item}", flush=True)
    raise RuntimeError(f"{len(extra)} extra descriptors")
'''}, lost={"network.classifier_loss": ("exception", r"^RuntimeError: 0 extra descriptors")}),
    Hostile("big_output", "prints 200 MB (and returns nothing)", append={"activations": '''
def relu_prime(z):
    chunk = "@MARKER@ " * 100_000 + "\\n"
    for _ in range(200):
        print(chunk, end="")
'''}, lost={"activations.relu_prime": ("type", r"got None")}),
    Hostile("big_file", "writes a multi-GB file, sparse and dense, inside and outside scratch",
            append={"activations": '''
def softmax_prime(z):
    _try("a sparse 4 GB file in /tmp", lambda: open("/tmp/@MARKER@-big", "wb").truncate(4 << 30))
    with open("@MARKER@-sparse", "wb") as handle:
        _try("a sparse 4 GB file in scratch", lambda: handle.truncate(4 << 30))
    block = b"\\0" * (1 << 20)
    with open("@MARKER@-dense", "wb") as handle:
        for _ in range(4096):
            handle.write(block)
'''}, lost={"activations.softmax_prime": ("exception", r"^OSError: \[Errno 27\] File too large")}),
    Hostile("zip_bomb", "a zip whose linear.py inflates to 60 MB", zip="bomb",
            lost=_all(EVERY, "import", r"zip rejected: declared uncompressed size above 50 MB")),
    Hostile("zip_traversal", "a zip with an entry ../../../tmp/<marker>/linear.py", zip="traversal",
            lost=_all(EVERY, "import", r"zip rejected: path .* leaves the zip")),
    Hostile("syntax_error", "a module that does not parse", replace={"network": "def classifier_loss(:\n"},
            lost=_all(NETWORK, "import", r"network\.py does not parse")),
    Hostile("non_utf8", "a Latin-1 file", replace={"xor": "# r\xe9seau\n".encode("latin-1")},
            lost=_all(XOR, "import", r"xor\.py is unusable: not UTF-8 text")),
    Hostile("exception", "a function that raises", append={"losses": '''
def cross_entropy_prime(p, y):
    raise ValueError("shapes do not match")
'''}, lost={"losses.cross_entropy_prime": ("exception", r"^ValueError: shapes do not match")}),
    Hostile("missing_file", "no network.py", replace={"network": None},
            lost=_all(NETWORK, "import", r"network\.py is unusable: missing: no network\.py")),
    Hostile("huge_response", "returns 80 MB", append={"activations": '''
def relu(z):
    return np.zeros(10_000_000)
'''}, lost={"activations.relu": ("return", r"too large")}),
    Hostile("chatty_correct", "correct, but linear prints 2,000 lines per call", append={"linear": '''
def linear(x, W, b):
    for step in range(2000):
        print("step", step)
    return _honest_linear(x, W, b)
'''}),
    Hostile("print_hidden_inputs", "prints every input it is given, hidden ones included",
            append={"activations": '''
def softmax_prime(z):
    print("@MARKER@-INPUT", repr(z.tolist()), flush=True)
    return _honest_softmax_prime(z)
'''}),
    Hostile("raise_hidden_inputs", "raises its inputs as the exception's message", append={"losses": '''
def mse(y_hat, y):
    raise ValueError("@MARKER@-RAISED " + repr(np.asarray(y_hat).tolist()))
'''}, lost={"losses.mse": ("exception", r"-RAISED \[")}),  # xor.train is right given a right mse
    Hostile("patch_inplace_check", "changes its input in place and switches off the child's check of it",
            append={"activations": '''
def relu(z):
    import autograder.sandbox.child as _child
    _child._changed = lambda before, after: [False] * len(before)
    _child._snapshot = lambda value: value
    z[z < 0] = 0
    return z
'''}, lost={"activations.relu": ("modified", r"modified its input z in place")}),
    Hostile("namedtuple_return", "returns linear_backward's gradients as a namedtuple", append={"linear": '''
def linear_backward(x, W, b, grad_z):
    from collections import namedtuple
    Grads = namedtuple("Grads", "grad_x grad_W grad_b")
    return Grads(*_honest_linear_backward(x, W, b, grad_z))
'''}),
    Hostile("str_raises", "raises an exception whose __str__ raises", append={"activations": '''
class _Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


def relu_prime(z):
    raise _Unprintable()
'''}, lost={"activations.relu_prime": ("exception", r"_Unprintable: \(its message could not be shown\)")}),
    Hostile("huge_int", "returns an int of 4,500 digits", append={"activations": '''
def sigmoid(z):
    return 10 ** 4500
'''}, lost={"activations.sigmoid": ("return", r"an int too large to send")}),
    # its users (sigmoid_prime, xor.*) are right given a right sigmoid: they keep their points
    Hostile("helper_abuse", "breaks sigmoid to be re-run, then asks the grader's answers to its helpers for "
            "huge inputs, for a function that is not a helper, and from a thread", append={"activations": '''
def sigmoid(z):
    return z * 0.5  # wrong: its users are re-run with sigmoid answered by the grader
''', "xor": '''
def forward(X, params):
    import threading
    if not sigmoid.__code__.co_filename.endswith("child.py"):  # its own sigmoid: not a re-run
        return _honest_forward(X, params)
    for attempt in (lambda: sigmoid(np.zeros((3000, 3000))),     # far larger than the case's inputs
                    lambda: sigmoid(np.zeros((1, 5000)))):
        try:
            attempt()
            print("ESCAPED a helper answer for a huge input", flush=True)
        except Exception as exc:
            print("DENIED huge helper input:", type(exc).__name__, flush=True)
    answers = []
    worker = threading.Thread(target=lambda: answers.append(sigmoid(np.zeros(3))))
    worker.start()
    worker.join()
    return _honest_forward(X, params)
'''}, lost={"activations.sigmoid": ("value", r"largest error")}),
    Hostile("huge_losses", "xor.train returns 62 million int8 losses", append={"xor": '''
def train(X, y, params, lr, epochs):
    return params, np.zeros(62_000_000, dtype=np.int8)
'''}, lost={"xor.train": ("return", r"far larger than expected")}),  # and never decoded
    Hostile("plot_breaker", "xor.train returns weights that are ints too large for floats",
            append={"xor": '''
def train(X, y, params, lr, epochs):
    final, losses = _honest_train(X, y, params, lr, epochs)
    return {key: 10 ** 400 for key in final}, losses
'''}, lost={"xor.train": ("type", r"expected an array")}),
    Hostile("sysv_shm", "holds 4 GB of SysV shared memory, outside its address space", append={"network": '''
def classifier_loss(x, y, W, b):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    segment = libc.shmget(0, ctypes.c_size_t(4 << 30), 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
    if segment < 0:
        raise OSError(ctypes.get_errno(), "shmget refused")
    address = libc.shmat(segment, None, 0)
    ctypes.memset(address, 1, 64 << 20)  # enough to show the pages are real; the rest would follow
    print("ESCAPED 4 GB of SysV shared memory", flush=True)
    return _honest_classifier_loss(x, y, W, b)
'''}, lost={"network.classifier_loss": ("exception", r"^PermissionError: \[Errno 13\] shmget refused")}),
    Hostile("memfd", "holds 896 MB in a memfd, outside its address space", append={"activations": '''
def softmax_prime(z):
    fd = _os.memfd_create("@MARKER@")
    _os.ftruncate(fd, 896 << 20)
    _os.pwrite(fd, b"x" * (64 << 20), 0)
    print("ESCAPED a memfd of 896 MB", flush=True)
    return _honest_softmax_prime(z)
'''}, lost={"activations.softmax_prime": ("exception", r"^PermissionError: \[Errno 13\]")}),
    Hostile("forks_of_900mb", "31 forked processes holding 900 MB each", append={"losses": '''
def cross_entropy_prime(p, y):
    import time
    for _ in range(31):
        if _os.fork() == 0:
            _mark()
            hog = np.ones(900 << 17)  # 900 MB of float64
            time.sleep(600)
            _os._exit(int(hog[0]))
    print("ESCAPED 31 forks of 900 MB", flush=True)
    return _honest_cross_entropy_prime(p, y)
'''}, lost={"losses.cross_entropy_prime": ("exception", r"^PermissionError: \[Errno 13\]")}),
    Hostile("many_files", "3 million empty files in its scratch folder (kernel memory, not bytes)",
            append={"activations": '''
def relu(z):
    for i in range(3_000_000):
        open(f"@MARKER@-{i}", "w").close()
    print("ESCAPED 3 million files", flush=True)
    return _honest_relu(z)
'''}, lost={"activations.relu": ("exception", r"^OSError: \[Errno 28\] No space left on device")},
            lost_without_tmpfs={"activations.relu": TIMEOUT}),
    Hostile("fork_and_carry_on", "forks and carries on: two processes answering the same channel",
            append={"activations": '''
def relu_prime(z):
    _os.fork()
    return _honest_relu_prime(z)
'''}, lost={"activations.relu_prime": ("exception", r"^PermissionError: \[Errno 13\]")}),
    Hostile("inotify_out", "watches OUT with inotify (and fanotify) to see classmates' reports appear",
            append={"network": '''
def classifier_gradients(x, y, W, b):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify refused")
    watch = libc.inotify_add_watch(fd, b"@OUT@", 0x100 | 0x8)  # IN_CREATE | IN_CLOSE_WRITE
    print(f"ESCAPED an inotify instance (its watch on OUT: {watch})", flush=True)
    if libc.fanotify_init(0, 0) >= 0:
        print("ESCAPED fanotify", flush=True)
    return _honest_classifier_gradients(x, y, W, b)
'''}, lost={"network.classifier_gradients": ("exception",
                                             r"^PermissionError: \[Errno 13\] inotify refused")}),
    Hostile("exec_program", "replaces itself with /bin/sh, then with the Python binary",
            append={"activations": '''
def softmax_prime(z):
    _raise_first([
        _try("exec /bin/sh", lambda: _os.execv("/bin/sh", ["sh", "-c", "echo ESCAPED exec"])),
        _try("exec python", lambda: _os.execv(_sys.executable, [_sys.executable, "-c", "print('ESCAPED')"])),
    ])
'''}, lost={"activations.softmax_prime": PERMISSION}),
    Hostile("forged_frame", "writes a forged, deeply nested frame on the grader's channel",
            append={"activations": '''
def relu(z):
    import struct
    import time
    header = b'{"tree": ' + b"[" * 200_000 + b"]" * 200_000 + b', "offsets": []}'
    _os.write(3, b"NNW1" + struct.pack("<IQ", len(header), 0) + header)
    time.sleep(600)
'''}, lost={"activations.relu": ("crash", r"ended during the call|ended the process twice")}),
]


def render(text: str, tokens: dict[str, str]) -> str:
    """`text` with every @TOKEN@ replaced."""
    for key, value in tokens.items():
        text = text.replace(f"@{key}@", value)
    return text


def _honest_aliases(code: str, module: str) -> str:
    """`_honest_<name> = <name>` for each function of `module` that `code` overrides."""
    names = [line[4:].split("(")[0] for line in code.splitlines() if line.startswith("def ")]
    source = (SOLUTIONS / f"{module}.py").read_text()
    return "".join(f"_honest_{n} = {n}\n" for n in names if f"\ndef {n}(" in source)


def module_text(case: Hostile, module: str, tokens: dict[str, str]) -> str | bytes | None:
    """The file `module`.py of `case` (None: left out)."""
    if module in case.replace:
        value = case.replace[module]
        return render(value, tokens) if isinstance(value, str) else value
    text = (SOLUTIONS / f"{module}.py").read_text()
    if module in case.append:
        code = case.append[module]
        text += "\n" + render(PRELUDE, tokens) + "\n" + _honest_aliases(code, module) + render(code, tokens)
    return text
