"""Where the kit gets installed: the setup.sh of the Gradescope zip on stand-ins for Gradescope's
Ubuntu 22.04 and 24.04 images, the PrairieLearn image's recipe and entrypoint, and tools/install.sh.

The stand-ins are commands on PATH (python3.X, a venv's python, apt-get) that log their command
line and act as the real ones would on that image; nothing is installed and no network is used.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

from autograder.cli import main

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CPU_TORCH = "torch==2.13.0+cpu"
MIRROR = "https://mirror.example/whl/cpu"
#: The real commands on a stand-in machine besides its Pythons and apt-get: bash and coreutils.
TOOLS = ("bash", "basename", "cat", "chmod", "cp", "dirname", "id", "ln", "ls", "mkdir", "mktemp", "mv",
         "rm", "sed", "touch")
BASH = shutil.which("bash")

FAKE = '''#!{python}
"""A stand-in for python3.X, a venv's python and apt-get: logs its command line, acts from the state."""
import json
import sys
from pathlib import Path

STATE = Path({state!r})
state = json.loads((STATE / "state.json").read_text())
command, args = Path(sys.argv[0]), sys.argv[1:]
with open(STATE / "log", "a") as log:
    log.write(json.dumps([str(command), *args]) + "\\n")


def save():
    (STATE / "state.json").write_text(json.dumps(state))


def apt_get():
    if args[:1] == ["update"]:
        state["lists"] = True
        save()
        return 0
    packages = [a for a in args[1:] if not a.startswith("-")]
    for package in packages:
        if not state["lists"] or package not in state["archive"]:
            print("E: Unable to locate package", package, file=sys.stderr)
            return 100
    for package in packages:
        version = package[len("python"):].removesuffix("-venv")
        if package.endswith("-venv"):
            state["venv"].append(version)
        elif package.startswith("python"):
            (command.parent / package).symlink_to(__file__)
            state["pythons"][package] = version
    save()
    return 0


def python():
    version = state["pythons"].get(str(command)) or state["pythons"][command.name]
    if args == ["--version"]:
        print("Python", version + ".4")
        return 0
    if args[:2] == ["-m", "venv"]:
        if version not in state["venv"]:
            print("The virtual environment was not created: ensurepip is not available", file=sys.stderr)
            return 1
        target = Path(args[-1]) / "bin" / "python"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.symlink_to(__file__)
        state["pythons"][str(target)] = version
        save()
        return 0
    if args[:3] == ["-m", "pip", "install"] and "--no-index" in args:
        return 0 if state["local_wheel"] else 1
    if args[:1] == ["-c"] and command.name != "python":  # a system Python's own code: its version
        major, minor = map(int, version.split("."))
        sys.version_info = (major, minor, 4, "final", 0)
        exec(args[1], {{"__name__": "__main__"}})
    return 0  # pip from an index, a venv's -c, -m ipykernel: done


sys.exit(apt_get() if command.name == "apt-get" else python())
'''


class Machine:
    """A stand-in machine in a folder: bin/ holds its Pythons (and apt-get if it has one), state/ what
    its package archive offers and what is installed, and the log of every command they ran."""

    def __init__(self, folder: Path, pythons: dict[str, str], archive: tuple[str, ...] = (),
                 venv: tuple[str, ...] = (), apt: bool = True, local_wheel: bool = False) -> None:
        self.bin, self.state = folder / "bin", folder / "state"
        self.bin.mkdir(parents=True)
        self.state.mkdir()
        fake = self.state / "fake.py"
        fake.write_text(FAKE.format(python=sys.executable, state=str(self.state)))
        fake.chmod(0o755)
        state = {"pythons": pythons, "archive": list(archive), "venv": list(venv), "lists": False,
                 "local_wheel": local_wheel}
        (self.state / "state.json").write_text(json.dumps(state))
        for name in [*pythons, *(["apt-get"] if apt else [])]:
            (self.bin / name).symlink_to(fake)
        for tool in TOOLS:
            (self.bin / tool).symlink_to(shutil.which(tool))

    def run(self, args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
        """Run `args` on this machine: its bin/ is all there is on PATH."""
        environ = {"PATH": str(self.bin), "HOME": str(self.state), **env}
        return subprocess.run(args, cwd=cwd, env=environ, capture_output=True, text=True, timeout=60)

    def log(self) -> list[list[str]]:
        """Every stand-in command run so far: [command path, *arguments]."""
        path = self.state / "log"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def apt(self) -> list[list[str]]:
        """The apt-get command lines, options left out."""
        return [[a for a in cmd[1:] if not a.startswith("-")] for cmd in self.log()
                if Path(cmd[0]).name == "apt-get"]

    def venv_makers(self) -> list[str]:
        """The Pythons that were asked to make a venv, in order."""
        return [Path(cmd[0]).name for cmd in self.log() if cmd[1:3] == ["-m", "venv"]]

    def pip_installs(self) -> list[list[str]]:
        """The arguments of every `pip install`, after `install`."""
        return [cmd[4:] for cmd in self.log() if cmd[1:4] == ["-m", "pip", "install"]]


def _torch_lines(machine: Machine) -> tuple[list[str], ...]:
    """Check that no pip line could resolve torch to anything but the CPU build; return the lines
    that name torch."""
    lines = machine.pip_installs()
    for line in lines:
        torches = [a for a in line if re.match(r"torch\b", a)]
        assert torches in ([], [CPU_TORCH]), line
    return tuple(line for line in lines if CPU_TORCH in line)


def _assert_cpu_torch(machine: Machine, index: str = CPU_INDEX, local_wheel: bool = False) -> None:
    """torch: the local wheel first, then (unless it was there) the index, then the rest with the pin."""
    local, *rest = _torch_lines(machine)
    assert "--no-index" in local and "--no-deps" in local
    if not local_wheel:
        from_index, *rest = rest
        assert from_index[from_index.index("--index-url") + 1] == index
        assert "--no-deps" in from_index
    assert len(rest) == 1 and "--index-url" not in rest[0] and "--no-index" not in rest[0]
    assert not [line for line in machine.pip_installs() if "--extra-index-url" in line]


# ---------------------------------------------------------------- Gradescope's setup.sh


@pytest.fixture(scope="module")
def gradescope_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    assert main(["gradescope", str(out)]) == 0
    return out


def _source(autograder_zip: Path, folder: Path) -> Path:
    """ROOT/source as Gradescope lays it out: the zip, unpacked."""
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(folder / "source")
    return folder / "source"


def _setup(tmp_path: Path, autograder_zip: Path, machine: Machine, **env: str):
    source = _source(autograder_zip, tmp_path)
    done = machine.run([BASH, str(source / "setup.sh")], cwd=tmp_path,
                       AUTOGRADER_ROOT=str(tmp_path / "root"), **env)
    return done, tmp_path / "root" / "venv" / "bin" / "python"


def test_setup_on_ubuntu_22_04_installs_python3_11_after_apt_get_update(tmp_path, gradescope_zip):
    machine = Machine(tmp_path / "m", {"python3": "3.10"},
                      archive=("python3.11", "python3.11-venv", "python3.10-venv"))
    done, venv_python = _setup(tmp_path, gradescope_zip, machine)
    assert done.returncode == 0, done.stdout + done.stderr
    assert machine.apt() == [["update"], ["install", "python3.11", "python3.11-venv"]]
    assert machine.venv_makers() == ["python3.11"]
    assert venv_python.exists()
    _assert_cpu_torch(machine)


def test_setup_on_ubuntu_24_04_uses_python3_12_and_installs_its_venv(tmp_path, gradescope_zip):
    machine = Machine(tmp_path / "m", {"python3": "3.12"}, archive=("python3.12-venv",))
    done, venv_python = _setup(tmp_path, gradescope_zip, machine)
    assert done.returncode == 0, done.stdout + done.stderr
    assert machine.apt() == [["update"], ["install", "python3.12-venv"]]
    assert machine.venv_makers() == ["python3", "python3"]  # without its venv module, then with
    assert venv_python.exists()
    _assert_cpu_torch(machine)


def test_setup_with_a_ready_python_needs_no_apt_get(tmp_path, gradescope_zip):
    machine = Machine(tmp_path / "m", {"python3": "3.10", "python3.11": "3.11"}, venv=("3.11",))
    done, _ = _setup(tmp_path, gradescope_zip, machine)
    assert done.returncode == 0, done.stdout + done.stderr
    assert machine.apt() == [] and machine.venv_makers() == ["python3.11"]
    _assert_cpu_torch(machine)


@pytest.mark.parametrize("apt", [True, False], ids=["ubuntu-20.04", "no-apt-get"])
def test_setup_without_a_python_to_be_had_says_so(tmp_path, gradescope_zip, apt):
    machine = Machine(tmp_path / "m", {"python3": "3.8"}, archive=("python3.8-venv",), apt=apt)
    done, _ = _setup(tmp_path, gradescope_zip, machine)
    assert done.returncode != 0
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("setup.sh: ") and "3.11 or newer" in error and "24.04" in error, done.stderr
    assert "Traceback" not in done.stderr
    assert machine.pip_installs() == [] and machine.venv_makers() == []
    if apt:
        assert machine.apt()[0] == ["update"]


def test_setup_takes_torch_from_the_index_it_was_given(tmp_path, gradescope_zip):
    out = tmp_path / "mirror.zip"
    assert main(["gradescope", str(out), "--torch-index", MIRROR]) == 0
    machine = Machine(tmp_path / "m", {"python3": "3.12"}, venv=("3.12",))
    done, _ = _setup(tmp_path / "a", out, machine)
    assert done.returncode == 0, done.stdout + done.stderr
    _assert_cpu_torch(machine, index=MIRROR)
    # TORCH_INDEX_URL, set where setup.sh runs, has the last word
    machine = Machine(tmp_path / "m2", {"python3": "3.12"}, venv=("3.12",))
    done, _ = _setup(tmp_path / "b", gradescope_zip, machine, TORCH_INDEX_URL=MIRROR)
    assert done.returncode == 0, done.stdout + done.stderr
    _assert_cpu_torch(machine, index=MIRROR)


def test_setup_takes_a_local_cpu_wheel_without_asking_the_index(tmp_path, gradescope_zip):
    machine = Machine(tmp_path / "m", {"python3": "3.12"}, venv=("3.12",), local_wheel=True)
    done, _ = _setup(tmp_path, gradescope_zip, machine)
    assert done.returncode == 0, done.stdout + done.stderr
    _assert_cpu_torch(machine, local_wheel=True)


@pytest.mark.parametrize("url", ["", "download.pytorch.org/whl/cpu", 'https://x/"; rm -rf /', "https://x/$(id)"])
def test_torch_index_must_be_a_plain_url(tmp_path, capsys, url):
    assert main(["gradescope", str(tmp_path / "ag.zip"), "--torch-index", url]) == 2
    assert main(["prairielearn", str(tmp_path / "image"), "--torch-index", url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("--torch-index" in line for line in err)
    assert not (tmp_path / "ag.zip").exists() and not (tmp_path / "image").exists()


# ---------------------------------------------------------------- PrairieLearn's image


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("prairielearn") / "image"
    assert main(["prairielearn", str(out)]) == 0
    return out


def _docker_build(context: Path, root: Path, machine: Machine, **build_args: str) -> str:
    """Carry out the Dockerfile's ARG, COPY and RUN lines as `docker build` would, with the image's
    / at `root` and `machine` as its commands; return the base image of the FROM line."""
    base, env = "", {}
    absolute = re.compile(r"(?<=[\s=])/(?=\w)")
    for line in (context / "Dockerfile").read_text().splitlines():
        word, _, rest = line.partition(" ")
        if word == "FROM":
            base = rest
        elif word == "ARG":
            name, _, default = rest.partition("=")
            env[name] = build_args.get(name, default.strip('"'))
        elif word == "COPY":
            source, target = rest.split()
            shutil.copytree(context / source, root / target.lstrip("/"), symlinks=True)
        elif word == "RUN":
            done = machine.run(["/bin/sh", "-c", absolute.sub(f"{root}/", rest)], cwd=root, **env)
            assert done.returncode == 0, done.stdout + done.stderr
        else:
            assert word in ("", "CMD") or word.startswith("#"), line
    return base


def test_prairielearn_image_installs_the_cpu_torch(tmp_path, image_folder):
    machine = Machine(tmp_path / "m", {"python3": "3.11"}, venv=("3.11",))
    base = _docker_build(image_folder, tmp_path / "image", machine)
    assert re.fullmatch(r"python:3\.(1[1-9])-slim-\w+", base), base
    assert machine.apt() == [] and machine.venv_makers() == ["python3"]
    assert (tmp_path / "image/grader/venv/bin/python").exists()
    assert os.access(tmp_path / "image/grader/grade.sh", os.X_OK)
    _assert_cpu_torch(machine)
    assert 'CMD ["/grader/grade.sh"]' in (image_folder / "Dockerfile").read_text()
    assert not list(image_folder.glob("solutions")) and (image_folder / "course/xor/hidden.py").is_file()


def test_prairielearn_image_takes_torch_from_a_build_arg_index(tmp_path, image_folder):
    machine = Machine(tmp_path / "m", {"python3": "3.11"}, venv=("3.11",))
    _docker_build(image_folder, tmp_path / "image", machine, TORCH_INDEX_URL=MIRROR)
    _assert_cpu_torch(machine, index=MIRROR)


def test_prairielearn_refuses_a_folder_in_use(tmp_path, capsys):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    (tmp_path / "file").write_text("")
    assert main(["prairielearn", str(tmp_path / "used")]) == 2
    assert main(["prairielearn", str(tmp_path / "file")]) == 2
    assert [p.name for p in (tmp_path / "used").iterdir()] == ["notes.txt"]
    (tmp_path / "empty").mkdir()
    assert main(["prairielearn", str(tmp_path / "empty")]) == 0
    assert (tmp_path / "empty" / "grade.sh").is_file()


@pytest.fixture(scope="module")
def plain_scores(tmp_path_factory) -> dict[str, float]:
    """score / max_score of each bundled example, graded with `autograder grade` on this machine."""
    out = tmp_path_factory.mktemp("plain") / "out"
    assert main(["grade", str(ROOT / "examples" / "submissions"), "--out", str(out), "--no-plots"]) == 0
    with (out / "grades.csv").open() as fh:
        return {row["id"]: float(row["score"]) / float(row["max_score"]) for row in csv.DictReader(fh)}


@pytest.mark.parametrize("example", ["alice_correct", "bob_buggy", "carol_untouched"])
def test_prairielearn_entrypoint_grades_like_a_plain_run(tmp_path, image_folder, plain_scores, example):
    grade = tmp_path / "grade"
    shutil.copytree(ROOT / "examples" / "submissions" / example, grade / "student")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(image_folder / "grade.sh")], cwd=grade / "student", capture_output=True,
                          text=True, timeout=300,
                          env={**env, "GRADE_DIR": str(grade), "PYTHON": sys.executable})
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((grade / "results" / "results.json").read_text())
    assert results["gradable"] is True
    assert results["score"] == pytest.approx(plain_scores[example], abs=1e-4)
    assert results["tests"] and all({"name", "points", "max_points"} <= set(t) for t in results["tests"])
    assert sorted(p.name for p in (grade / "student").iterdir()) == sorted(
        p.name for p in (ROOT / "examples" / "submissions" / example).iterdir())


# ---------------------------------------------------------------- tools/install.sh


def _install(machine: Machine, *args: str, **env: str) -> subprocess.CompletedProcess:
    return machine.run([BASH, str(ROOT / "tools" / "install.sh"), *args], cwd=ROOT, **env)


@pytest.mark.parametrize("local_wheel", [False, True], ids=["no-find-links", "wheel-in-find-links"])
def test_install_sh_takes_the_cpu_torch(tmp_path, local_wheel):
    machine = Machine(tmp_path / "m", {"python3": "3.11"}, local_wheel=local_wheel)
    done = _install(machine)
    assert done.returncode == 0, done.stdout + done.stderr
    _assert_cpu_torch(machine, local_wheel=local_wheel)
    assert machine.pip_installs()[-1] == ["-q", CPU_TORCH, "-e", "."]


def test_install_sh_test_extra_and_another_index(tmp_path):
    machine = Machine(tmp_path / "m", {"python3": "3.12"})
    done = _install(machine, "--test", "--torch-index", MIRROR)
    assert done.returncode == 0, done.stdout + done.stderr
    _assert_cpu_torch(machine, index=MIRROR)
    assert machine.pip_installs()[-1] == ["-q", CPU_TORCH, "-e", ".[test]"]
    machine = Machine(tmp_path / "m2", {"python3": "3.11"})
    assert _install(machine, TORCH_INDEX_URL=MIRROR).returncode == 0
    _assert_cpu_torch(machine, index=MIRROR)


@pytest.mark.parametrize("args, pythons, message", [
    (["--fast"], {"python3": "3.11"}, "unknown option '--fast'"),
    (["--torch-index"], {"python3": "3.11"}, "--torch-index needs a URL"),
    ([], {"python3": "3.10"}, "needs Python 3.11 or newer; python3 is 3.10"),
    ([], {}, "python3 not found"),
])
def test_install_sh_refuses_in_one_line(tmp_path, args, pythons, message):
    machine = Machine(tmp_path / "m", pythons)
    done = _install(machine, *args)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("install.sh: ") and message in lines[0], done.stderr
    assert machine.pip_installs() == []
