"""Run a command where Gradescope and PrairieLearn run an autograder: a Docker container
with the default privileges.

`command(argv)` gives the command line; the launcher (this file, run as a program by
root) then, in order:
1. enters a private mount namespace and remounts every mount under /sys/fs/cgroup
   read-only (Docker mounts the cgroup tree read-only);
2. optionally covers /root with a tmpfs that anyone may traverse, with only the Python
   installation brought back, since this machine's Python lives under /root (mode 0700)
   where a real image has it in world-readable /usr/lib or /autograder/venv; the host's
   /root is untouched;
3. installs a seccomp filter like Docker's default profile for a container without
   CAP_SYS_ADMIN: unshare, setns, the mount calls, keyrings, fanotify, bpf and
   perf_event_open fail with EPERM, clone with a namespace flag too, and clone3 with
   ENOSYS so that libc falls back to clone (moby's profiles/seccomp/default.json);
   installed while the launcher still holds CAP_SYS_ADMIN, without no_new_privs, as a
   container runtime does;
4. execs `setpriv` to keep only Docker's default capabilities in the bounding set
   (root then has exactly those) with no inheritable ones, and, for the unprivileged
   variant, to become `user` with no supplementary groups.
With `docker=False` only steps 2 and 4's change of user are taken: an ordinary user on
an ordinary machine (user namespaces allowed, no seccomp profile).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from autograder.sandbox import namespaces, seccomp  # noqa: E402 - after the path is set

#: Docker's default capability set (moby's oci/caps/defaults.go).
DOCKER_CAPS = ("chown", "dac_override", "fsetid", "fowner", "mknod", "net_raw", "setgid", "setuid",
               "setfcap", "setpcap", "net_bind_service", "sys_chroot", "kill", "audit_write")
#: CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET: what Docker's clone rule masks.
NAMESPACE_FLAGS = 0x7E020000
DOCKER_REFUSES: tuple[seccomp.Refuse, ...] = (
    *(seccomp.Refuse(name, errno.EPERM) for name in (
        "unshare", "setns", *seccomp.MOUNTS, "add_key", "request_key", "keyctl", "fanotify_init",
        "bpf", "perf_event_open")),
    seccomp.Refuse("clone", errno.EPERM, if_arg0=NAMESPACE_FLAGS),
    seccomp.Refuse("clone3", errno.ENOSYS),
)
CGROUP_ROOT = "/sys/fs/cgroup"


def available() -> str:
    """Empty when this machine can simulate the container, else why not."""
    if os.geteuid() != 0:
        return "simulating a container needs root"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    return ""


def command(argv: list[str], *, user: int | None = None, expose_python: bool = True,
            docker: bool = True) -> list[str]:
    """The command line that runs `argv` in the simulated container (as root, or as `user`)."""
    options = ["--user", str(user)] if user is not None else []
    options += [] if expose_python else ["--private-home"]
    options += [] if docker else ["--no-docker"]
    return [sys.executable, __file__, *options, "--", *argv]


def environment(home: Path, **extra: str) -> dict[str, str]:
    """An environment for the containerised command: this repository's code first on the path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update({"PYTHONPATH": str(REPO), "HOME": str(home), **extra})
    return env


def run(argv: list[str], home: Path, *, user: int | None = None, expose_python: bool = True,
        docker: bool = True, timeout: float = 300, **extra_env: str) -> subprocess.CompletedProcess:
    """Run `argv` in the simulated container; capture its output as text."""
    return subprocess.run(command(argv, user=user, expose_python=expose_python, docker=docker),
                          env=environment(home, **extra_env), capture_output=True, text=True,
                          timeout=timeout, check=False)


def shared_folder(prefix: str, user: int | None) -> Path:
    """A new temporary folder that `user` (or root) owns: outside pytest's root-only tree."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if user is not None:
        os.chown(folder, user, user)
    return folder


def _mount_points(under: str) -> list[str]:
    """Every mount point at or beneath `under`, from /proc/self/mountinfo."""
    points = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return [p for p in points if p == under or p.startswith(under + "/")]


def _read_only_cgroups() -> None:
    for point in _mount_points(CGROUP_ROOT):
        namespaces.mount(None, point, None,
                         namespaces.MS_REMOUNT | namespaces.MS_BIND | namespaces.MS_RDONLY, None)


def _expose_python() -> None:
    """Make the Python installation reachable by any user, as it is in a real image."""
    prefix = Path(sysconfig.get_paths()["stdlib"]).resolve()
    home = Path("/root")
    if home not in prefix.parents:
        return
    keep = home / prefix.relative_to(home).parts[0]
    with tempfile.TemporaryDirectory(prefix="container-holder-") as holder:
        namespaces.cover_keeping(home, [keep], Path(holder))


def _setpriv(user: int | None, docker: bool, argv: list[str]) -> list[str]:
    caps = ",".join(["-all", *(f"+{cap}" for cap in DOCKER_CAPS)])
    bounds = ["--bounding-set", caps, "--inh-caps", "-all"] if docker else []
    identity = ["--reuid", str(user), "--regid", str(user), "--clear-groups"] if user is not None else []
    return ["setpriv", *bounds, *identity, "--", *argv]


def main(args: list[str]) -> None:
    """The launcher: `container.py [--user UID] [--private-home] [--no-docker] -- COMMAND...`."""
    split = args.index("--")
    options, argv = args[:split], args[split + 1:]
    user = int(options[options.index("--user") + 1]) if "--user" in options else None
    docker = "--no-docker" not in options
    namespaces.unshare(namespaces.CLONE_NEWNS)
    namespaces.mount(None, "/", None, namespaces.MS_REC | namespaces.MS_PRIVATE, None)
    if docker:
        _read_only_cgroups()
    if "--private-home" not in options:
        _expose_python()
    if docker:
        seccomp.install(DOCKER_REFUSES, no_new_privs=False)
    os.execvp("setpriv", _setpriv(user, docker, argv))


if __name__ == "__main__":
    main(sys.argv[1:])
