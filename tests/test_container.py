"""Grading where Gradescope and PrairieLearn grade: a container with Docker's default privileges.

Root without CAP_SYS_ADMIN, a seccomp filter refusing namespaces and mounts, a read-only
cgroup tree (tests/support/container.py builds it), and the same as an unprivileged
user. The bundled examples must score there exactly what they score on this machine,
every result must say which isolation layers held and which are missing, the run must
say once on stderr what is missing, and `--sandbox require` must refuse.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import container

from autograder.sandbox.confine import layer_name, missing_layers

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"
NOBODY = 65534
DOCKER_CAP_MASK = 0xA80425FB  # the 14 capabilities of container.DOCKER_CAPS

pytestmark = pytest.mark.skipif(bool(container.available()), reason=container.available() or "-")


@dataclass
class Graded:
    """One `grade` run of the bundled examples: exit code, stderr, and per submission its results."""

    returncode: int
    stderr: str
    results: dict[str, dict]

    def outcome(self) -> dict[str, tuple[float, list[bool]]]:
        """Per submission: its score and which cases passed."""
        return {name: (sum(c["score"] for c in r["cases"]), [c["passed"] for c in r["cases"]])
                for name, r in self.results.items()}

    def isolation(self, name: str) -> list[str]:
        return self.results[name]["isolation"]

    def warnings(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if "sandbox" in line.lower()]


#: The ways the examples are graded: on this machine as it is, and in the simulated container
#: as root, as root with Python in a private home, as an unprivileged user, as an ordinary
#: user on an ordinary machine, and as root refusing a weaker sandbox.
VARIANTS: dict[str, dict] = {
    "plain": {"plain": True},
    "root": {},
    "private_home": {"expose_python": False},
    "user": {"user": NOBODY},
    "user_no_docker": {"user": NOBODY, "docker": False},
    "require": {"extra": ("--sandbox", "require")},
}


def _start(folder: Path, *, user: int | None = None, expose_python: bool = True, plain: bool = False,
           docker: bool = True, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, Path]:
    """Start grading the examples into `folder`/out, in the simulated container unless `plain`."""
    out = folder / "out"
    argv = [sys.executable, "-m", "autograder", "grade", str(EXAMPLES), "--out", str(out), "--jobs", "1",
            *extra]
    if not plain:
        argv = container.command(argv, user=user, expose_python=expose_python, docker=docker)
    process = subprocess.Popen(argv, env=container.environment(folder), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    return process, out


def _finish(process: subprocess.Popen, out: Path) -> Graded:
    _, stderr = process.communicate(timeout=300)
    results = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/result.full.json")}
    return Graded(process.returncode, stderr, results)


@pytest.fixture(scope="module")
def folders() -> list[Path]:
    """Temporary folders outside pytest's root-only tree, removed at the end."""
    made: list[Path] = []
    yield made
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


def _folder(folders: list[Path], user: int | None = None) -> Path:
    folders.append(container.shared_folder("container-test-", user))
    return folders[-1]


@pytest.fixture(scope="module")
def graded(folders: list[Path]) -> dict[str, Graded]:
    """Every variant, graded at the same time (each run is mostly one import of torch)."""
    started = {name: _start(_folder(folders, options.get("user")), **options)
               for name, options in VARIANTS.items()}
    return {name: _finish(*run) for name, run in started.items()}


@pytest.fixture(scope="module")
def plain(graded: dict[str, Graded]) -> Graded:
    """The examples graded on this machine as it is: the scores every container must reproduce."""
    return graded["plain"]


def _probe(folder: Path, user: int | None) -> dict:
    code = """
import ctypes, json, os, threading
libc = ctypes.CDLL(None, use_errno=True)
def errno_of(result):
    return 0 if result >= 0 else ctypes.get_errno()
status = dict(line.split(":\\t") for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
thread = threading.Thread(target=lambda: None)
thread.start()
thread.join()
try:
    os.mkdir("/sys/fs/cgroup/pids/container-probe")
    os.rmdir("/sys/fs/cgroup/pids/container-probe")
    cgroup = "writable"
except OSError as exc:
    cgroup = exc.strerror
print(json.dumps({
    "uid": os.geteuid(), "cap_eff": int(status["CapEff"], 16), "cap_bnd": int(status["CapBnd"], 16),
    "unshare": errno_of(libc.unshare(0x00020000)), "clone3": errno_of(libc.syscall(435, None, 0)),
    "cgroup": cgroup, "root": sorted(os.listdir("/root")),
}))
"""
    done = container.run([sys.executable, "-c", code], folder, user=user)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_harness_stands_where_docker_default_privileges_stand(folders: list[Path]) -> None:
    """Docker's 14 capabilities and no more, unshare EPERM, clone3 ENOSYS, cgroups read-only,
    and the host untouched; the unprivileged variant has no capability at all."""
    host_root = (os.stat("/root").st_mode, sorted(os.listdir("/root")))
    as_root, as_user = _probe(_folder(folders), None), _probe(_folder(folders, NOBODY), NOBODY)
    assert as_root["uid"] == 0 and as_root["cap_eff"] == as_root["cap_bnd"] == DOCKER_CAP_MASK
    assert as_user["uid"] == NOBODY and as_user["cap_eff"] == 0 and as_user["cap_bnd"] == DOCKER_CAP_MASK
    for probe in (as_root, as_user):
        assert probe["unshare"] == 1 and probe["clone3"] == 38  # EPERM, ENOSYS
        assert probe["cgroup"] == "Read-only file system"
        assert probe["root"] == [".pyenv"] or not Path("/root/.pyenv").is_dir()
    assert (os.stat("/root").st_mode, sorted(os.listdir("/root"))) == host_root


def _sandbox_uid(isolation: list[str]) -> int:
    """The uid a result says its child ran as (0 when it records none)."""
    uids = [int(entry.split()[1]) for entry in isolation if re.fullmatch(r"uid \d+", entry)]
    return uids[0] if uids else 0


def _missing(isolation: list[str]) -> set[str]:
    """The names of the layers a result records as missing ("missing <layer>: <why>")."""
    return {layer_name(entry) for entry in missing_layers(isolation)}


def test_the_full_machine_holds_every_layer_and_warns_of_nothing(plain: Graded) -> None:
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert plain.outcome()["alice_correct"][0] == pytest.approx(100)
    assert plain.outcome()["carol_untouched"][0] == 0
    assert plain.warnings() == []
    for name in plain.results:
        layers = " ".join(plain.isolation(name))
        assert _missing(plain.isolation(name)) == set(), plain.isolation(name)
        for held in ("namespaces", "tmpfs", "cgroup", "landlock ABI", "seccomp", "rlimits"):
            assert held in layers, (held, plain.isolation(name))
        assert _sandbox_uid(plain.isolation(name)) >= 200_000


def _assert_like_plain(run: Graded, plain: Graded, missing: set[str]) -> None:
    """Same scores and verdicts as the plain run; `missing` said once on stderr and in every result."""
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.outcome() == plain.outcome()
    (warning,) = run.warnings()
    for layer in missing:
        assert layer in warning, (layer, warning)
    for name in run.results:
        assert _missing(run.isolation(name)) == missing, run.isolation(name)
        layers = " ".join(run.isolation(name))
        for held in ("landlock ABI", "seccomp", "rlimits"):
            assert held in layers, (held, run.isolation(name))


def test_root_without_cap_sys_admin_grades_like_the_full_machine(graded: dict[str, Graded],
                                                                 plain: Graded) -> None:
    run = graded["root"]
    _assert_like_plain(run, plain, {"namespaces", "tmpfs", "cgroup"})
    assert all(_sandbox_uid(run.isolation(name)) >= 200_000 for name in run.results)


def test_python_unreadable_to_the_per_run_uid_is_detected_not_fatal(graded: dict[str, Graded],
                                                                     plain: Graded) -> None:
    """Python under /root (0700), no mount namespace to expose it: the child keeps uid 0 with no
    capability, and the results say why the uid layer is missing."""
    run = graded["private_home"]
    _assert_like_plain(run, plain, {"namespaces", "tmpfs", "cgroup", "uid"})
    for name in run.results:
        (why,) = [entry for entry in run.isolation(name) if entry.startswith("missing uid")]
        assert "/root" in why and "not readable" in why, why
        assert "capabilities dropped (uid 0 kept)" in run.isolation(name)


def test_an_unprivileged_user_grades_like_the_full_machine(graded: dict[str, Graded], plain: Graded) -> None:
    run = graded["user"]
    _assert_like_plain(run, plain, {"namespaces", "tmpfs", "cgroup", "uid"})


def test_an_unprivileged_user_on_a_full_machine_gets_namespaces_and_tmpfs(graded: dict[str, Graded],
                                                                          plain: Graded) -> None:
    """No container: an ordinary user's grader still isolates each child in user namespaces with
    its bounded tmpfs; only the per-run uid and the cgroup (not writable) are missing."""
    run = graded["user_no_docker"]
    _assert_like_plain(run, plain, {"cgroup", "uid"})
    assert all(run.isolation(name)[0].startswith("user+pid+net") for name in run.results)


def test_sandbox_require_refuses_in_one_line(graded: dict[str, Graded]) -> None:
    run = graded["require"]
    assert run.returncode == 2
    (line,) = run.stderr.strip().splitlines()
    assert "--sandbox require" in line and "namespaces" in line and "Traceback" not in line
    assert run.results == {}


def test_a_child_the_sandbox_cannot_start_is_its_failure_not_the_students(folders: list[Path]) -> None:
    """Namespaces required where they cannot be had: the call raises SandboxUnavailable (the
    grader's failure: "could not be graded"), never a StudentError (the student's crash)."""
    code = """
import numpy as np
from autograder.sandbox.session import Policy, Sandbox, SandboxUnavailable, StudentError
with Sandbox(Policy(require=True)) as sandbox:
    relu = "import numpy as np\\n\\ndef relu(z):\\n    return np.maximum(z, 0)\\n"
    process = sandbox.open({"activations": relu})
    try:
        process.call("activations.relu", (np.ones(2),), 5)
        print("called")
    except SandboxUnavailable as exc:
        print("unavailable:", exc)
    except StudentError as exc:
        print("student:", exc.kind)
    process.close()
"""
    done = container.run([sys.executable, "-c", code], _folder(folders))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("unavailable:") and "unshare" in done.stdout, done.stdout
