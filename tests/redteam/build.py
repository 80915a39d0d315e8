"""Build the red-team batch on disk, run `autograder grade` on it, and look for escapes.

Shared by tests/test_redteam.py and tests/test_resume.py.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import sysconfig
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder import course
from redteam.cases import SOLUTIONS, Hostile, module_text

REPO = SOLUTIONS.parent
SECRET_NAME = "AUTOGRADER_SECRET"

# Runs the real CLI. Until autograder/report.py exists (the feedback renderer is
# written separately), a minimal stand-in renders the reports, so that the sandbox
# and the batch machinery can be tested end to end meanwhile.
LAUNCHER = """
import html, importlib.util, sys, types
if importlib.util.find_spec("autograder.report") is None:
    stub = types.ModuleType("autograder.report")
    stub.render_feedback_html = lambda r, s, plots=None: "<pre>" + html.escape(r.summary()) + "</pre>"
    stub.render_feedback_md = lambda r, s: r.summary() + "\\n"
    stub.render_summary_html = lambda results, s: "<p>%d submissions</p>" % len(results)
    sys.modules["autograder.report"] = stub
from autograder.cli import main
sys.exit(main(sys.argv[1:]))
"""

TEST_CONFIG = """
seed = 20261122

[limits]
call_timeout = {call_timeout}
submission_timeout = {submission_timeout}
memory_mb = 1024
file_mb = 16
processes = 32
tmpfs_mb = 64

[tolerance.float64]
rtol = 1e-7
atol = 1e-9

[tolerance.float32]
rtol = 1e-4
atol = 1e-6

[visibility]
public = "visible"
hidden = "after_published"
reveal_hidden_details = false

[points]
{points}

[call_timeout]
"xor.train" = {train_timeout}
"""


def write_config(path: Path, call_timeout: float = 1.0, train_timeout: float = 1.5,
                 submission_timeout: float = 12.0) -> Path:
    """Settings with short time limits (same points and tolerances as the course's own);
    xor.train, the only call that takes a while, keeps room for a loaded machine."""
    from autograder.config import load

    points = "\n".join(f'"{f}" = {p:g}' for f, p in load().points.items())
    path.write_text(TEST_CONFIG.format(call_timeout=call_timeout, train_timeout=train_timeout,
                                       submission_timeout=submission_timeout, points=points))
    return path


def new_marker() -> str:
    """A unique marker that fits in a thread name (15 bytes)."""
    return "rt" + uuid.uuid4().hex[:10]


@dataclass
class Listeners:
    """A TCP and a UDP socket on 127.0.0.1 and a Unix socket that must never hear from students."""

    unix_path: Path
    tcp: socket.socket = field(init=False)
    udp: socket.socket = field(init=False)
    unix: socket.socket = field(init=False)

    def __post_init__(self) -> None:
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.tcp.setblocking(False)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.tcp.getsockname()[1]))
        self.udp.setblocking(False)
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(str(self.unix_path))
        self.unix_path.chmod(0o777)
        self.unix.listen()
        self.unix.setblocking(False)

    @property
    def port(self) -> int:
        return self.tcp.getsockname()[1]

    def heard(self) -> list[str]:
        """Whatever reached any of the three sockets."""
        heard = []
        for name, sock in (("tcp", self.tcp), ("unix", self.unix)):
            try:
                sock.accept()
                heard.append(f"{name} connection")
            except BlockingIOError:
                pass
        try:
            heard.append(f"udp datagram {self.udp.recv(100)!r}")
        except BlockingIOError:
            pass
        return heard

    def close(self) -> None:
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()
        self.unix_path.unlink(missing_ok=True)


def tokens(marker: str, batch: Path, out: Path, listeners: Listeners) -> dict[str, str]:
    return {
        "MARKER": marker, "PORT": str(listeners.port), "UNIXSOCK": str(listeners.unix_path),
        "CLASSMATE": str(batch / "honest" / "linear.py"), "REPO": str(REPO), "OUT": str(out),
        "SITE_PACKAGES": sysconfig.get_paths()["purelib"],
    }


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _honest_files() -> dict[str, bytes]:
    return {f"{m}.py": (SOLUTIONS / f"{m}.py").read_bytes() for m in course.load(REPO).names}


def hostile_zip(kind: str, marker: str) -> bytes:
    """A zip bomb (60 MB of padding that deflates to ~60 kB) or a path-traversal zip."""
    files = _honest_files()
    if kind == "bomb":
        files["linear.py"] += b"#" * (60 << 20)
    else:
        files[f"../../../tmp/{marker}-traversal/linear.py"] = b"print('planted')\n"
    return _zip_bytes(files)


def write_case(case: Hostile, batch: Path, values: dict[str, str]) -> None:
    """Write one submission of the batch: a folder, or a zip for the zip cases."""
    if case.zip:
        (batch / f"{case.name}.zip").write_bytes(hostile_zip(case.zip, values["MARKER"]))
        return
    folder = batch / case.name
    folder.mkdir(parents=True)
    for module in course.load(REPO).names:
        text = module_text(case, module, values)
        if text is not None:
            (folder / f"{module}.py").write_bytes(text.encode() if isinstance(text, str) else text)
    for name, text in case.extra.items():
        (folder / name).write_text(text.replace("@MARKER@", values["MARKER"]))


def grade_command(batch: Path, out: Path, config: Path, jobs: int = 2, sandbox: str = "require") -> list[str]:
    return [sys.executable, "-c", LAUNCHER, "grade", str(batch), "--out", str(out), "--jobs", str(jobs),
            "--config", str(config), "--sandbox", sandbox]


def grader_env(secret: str) -> dict[str, str]:
    """The grader's environment, with a secret that student code must never see."""
    env = dict(os.environ)
    env[SECRET_NAME] = secret
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def run_grade(batch: Path, out: Path, config: Path, secret: str, timeout: float = 170,
              wrap: Callable[[list[str]], list[str]] | None = None) -> subprocess.CompletedProcess:
    """Grade the batch (`--sandbox require`, or `warn` when `wrap` turns the command into
    another: one run in a simulated container, where layers are missing)."""
    command = grade_command(batch, out, config, sandbox="warn" if wrap else "require")
    return subprocess.run(wrap(command) if wrap else command, env=grader_env(secret), capture_output=True,
                          text=True, timeout=timeout, check=False)


def processes_with(marker: str) -> list[str]:
    """Every process or thread whose command line or name contains `marker`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            texts = [(proc / "cmdline").read_bytes().decode(errors="replace")]
            texts += [(task / "comm").read_text() for task in (proc / "task").iterdir()]
        except OSError:
            continue
        if any(marker in text for text in texts):
            found.append(f"{proc.name}: {texts[0][:100]!r} {texts[1:3]}")
    return found


def files_with(marker: str, roots: list[Path]) -> list[str]:
    """Every path under `roots` whose name contains `marker` (not following symlinks)."""
    found = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            found += [os.path.join(folder, n) for n in dirs + files if marker in n]
    return found
