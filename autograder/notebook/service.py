"""The grading service of nbgrader's hidden tests: one process per kit and user.

It collects the hidden cases once (torch, every expected value) and runs them for
the notebooks' hidden tests. The student's calls travel back to the notebook's
kernel over a Unix socket, by value, in the kit's protocol: the service sends a
call with its id and time limit, the kernel answers with a Returned or Raised
message naming that id. Kernels never load torch, and a class costs one
collection, not one per notebook.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from pathlib import Path
from typing import Any

from autograder.i18n import gettext
from autograder.notebook.kernel import SERVICE_WAIT
from autograder.sandbox import protocol, wire
from autograder.sandbox.protocol import Answer, CasePlan, Process, StudentError


class RemoteProcess(Process):
    """The service's view of a notebook kernel: calls go over the connection, by value."""

    isolation = ["none: the notebook's kernel"]

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.next_id = 0

    def open(self, *_: Any, **__: Any) -> RemoteProcess:
        """This process, for any submission: it acts as its own sandbox (runner.grade_submission)."""
        return self

    def unusable(self, module: str) -> str | None:
        return None

    def begin_case(self, case: CasePlan) -> None:
        pass

    def enter_hidden(self) -> None:
        pass

    def ask(self, function: str, args: tuple, timeout: float) -> Answer:
        from autograder.notebook.kernel import answer_of

        self.next_id += 1
        try:
            wire.send(self.conn, {"op": "call", "id": self.next_id, "function": function, "args": tuple(args),
                                  "timeout": timeout})
            message = wire.receive(self.conn, timeout + 30)
        except (OSError, wire.WireError) as exc:
            text = gettext("the notebook's kernel stopped answering during {function}")
            raise StudentError("crash", text.format(function=function), str(exc)) from None
        try:
            return answer_of(message, self.next_id, function)
        except protocol.ProtocolError as exc:
            text = gettext("the notebook's kernel sent a malformed answer ({error})")
            raise StudentError("crash", text.format(error=exc)) from None

    def output(self, phase: str = "visible") -> str:
        return ""


def service_path() -> Path:
    """The grading service's socket: one per user, kit and settings (a changed case, a new one).

    It lives in a folder only this user can enter, so that nobody else can stand
    in for the service and hand out points.
    """
    import hashlib
    import stat
    import tempfile

    import autograder
    from autograder import course as courses

    package = Path(autograder.__file__).resolve().parent
    course = courses.load()
    config = Path(os.environ.get("AUTOGRADER_CONFIG") or course.settings_file).resolve()
    digest = hashlib.sha256(str(package).encode() + str(course.root).encode())
    for path in [*sorted(package.rglob("*.py")), *sorted(course.folder.rglob("*.py")), config]:
        digest.update(path.name.encode() + path.read_bytes())
    folder = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"autograder-nb-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise RuntimeError(f"{folder} must be a folder that only this user can use")
    return folder / f"{digest.hexdigest()[:16]}.sock"


def connect() -> socket.socket:
    """A connection to the grading service, started here if none is running."""
    import subprocess
    import time

    import autograder

    path, started = service_path(), False
    deadline = time.monotonic() + SERVICE_WAIT
    while True:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(str(path))
            return conn
        except (FileNotFoundError, ConnectionRefusedError):
            conn.close()
        if time.monotonic() > deadline:
            raise RuntimeError(f"the grading service did not start: see {path.with_suffix('.log')}")
        if not started:
            kit = str(Path(autograder.__file__).resolve().parents[1])
            with open(path.with_suffix(".log"), "ab") as log:
                subprocess.Popen([sys.executable, "-m", "autograder.notebook.service", "--serve", str(path)],
                                 cwd="/", env={**os.environ, "PYTHONPATH": kit}, stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=log, start_new_session=True)
            started = True
        time.sleep(0.05)


def stop_service() -> bool:
    """Ask the grading service of this kit to exit; False if none was running."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.closing(conn):
        try:
            conn.connect(str(service_path()))
        except (FileNotFoundError, ConnectionRefusedError):
            return False
        wire.send(conn, {"op": "stop"})
        with contextlib.suppress(OSError, wire.WireError):
            wire.receive(conn, 10)
    return True


def serve(path: Path, idle: float) -> None:
    """Collect the hidden cases, then grade requests on `path` until idle for `idle` seconds."""
    from autograder import runner
    from autograder.config import load

    listener = _bind(path)
    if listener is None:
        return  # another service already answers there
    try:
        settings = load()
        suite = runner.Suite.prepare(("hidden",), settings)
        listener.settimeout(idle)
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                return
            with conn:
                if not _answer(conn, suite, settings):
                    return
    finally:
        listener.close()
        path.unlink(missing_ok=True)
        log = path.with_suffix(".log")
        if log.exists() and not log.stat().st_size:
            log.unlink()


def _bind(path: Path) -> socket.socket | None:
    """A listening socket at `path`, or None when a live service holds it (a stale one is replaced)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
    except OSError:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.closing(probe):
            try:
                probe.connect(str(path))
                listener.close()
                return None
            except ConnectionRefusedError:
                path.unlink(missing_ok=True)
        listener.bind(str(path))
    path.chmod(0o600)
    listener.listen(16)
    return listener


def _answer(conn: socket.socket, suite: Any, settings: Any) -> bool:
    """Serve one request; False when it asks the service to stop."""
    from autograder import runner
    from autograder.intake import Submission
    from autograder.results import dump_json

    try:
        request = wire.receive(conn, 30)
        if not isinstance(request, dict) or request.get("op") != "grade":
            with contextlib.suppress(OSError):
                wire.send(conn, {"op": "stopped"})
            return not (isinstance(request, dict) and request.get("op") == "stop")
        result = runner.grade_submission(Submission("notebook"), suite.of(str(request.get("function"))),
                                         RemoteProcess(conn), settings)
        wire.send(conn, {"op": "done", "cases": dump_json([c.to_dict() for c in result.cases])})
    except (OSError, wire.WireError):
        pass  # the kernel went away: wait for the next one
    return True


def main(argv: list[str]) -> int:
    """`python -m autograder.notebook.service --serve SOCKET`: the grading service."""
    import argparse

    parser = argparse.ArgumentParser(prog="autograder-nbgrader-service")
    parser.add_argument("--serve", type=Path, required=True, metavar="SOCKET")
    parser.add_argument("--idle", type=float, default=float(os.environ.get("AUTOGRADER_NBGRADER_IDLE", 300)))
    args = parser.parse_args(argv)
    serve(args.serve, args.idle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
