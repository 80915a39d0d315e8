"""Red team: a batch of hostile and broken submissions, graded in one `autograder grade` run.

Every case of tests/redteam/cases.py must get exactly its verdict (which functions
lose points, with which kind of failure), the honest submission in the same batch
keeps full marks, and nothing gets out: no process, file, connection or secret.
Needs the full sandbox (root, Landlock, namespaces): skipped elsewhere.
"""

from __future__ import annotations

import html
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import MODULES
from redteam import build
from redteam.cases import CASES, SOLUTIONS, Hostile
from support import container

from autograder.sandbox import landlock
from autograder.sandbox.confine import Limits
from autograder.sandbox.session import OUTPUT_CAP, Policy, Sandbox, StudentError

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or landlock.abi_version() < 4,
    reason="the red-team batch needs the full sandbox: root and Landlock ABI >= 4",
)
SCRUBBED_ENV = {"HOME", "TMPDIR", "PATH", "LANG", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                "MKL_NUM_THREADS"}
OUT_FILES = {"feedback.html", "feedback.md", "summary.txt", "result.full.json", "results.json"}


@dataclass
class Run:
    """One grading run of the whole red-team batch, and what it left behind."""

    root: Path
    batch: Path
    out: Path
    marker: str
    secret: str
    seconds: float
    returncode: int
    stderr: str
    heard: list[str]

    def full(self, name: str) -> dict:
        return json.loads((self.out / name / "result.full.json").read_text())

    def gradescope(self, name: str) -> dict:
        return json.loads((self.out / name / "results.json").read_text())


def _grade_batch(root: Path, cases: list[Hostile], in_container: bool = False) -> Run:
    """Build `cases` as a batch under `root` and grade it once with two workers (in the
    simulated container without privileges if asked), then close the listeners."""
    batch, out = root / "batch", root / "out"
    batch.mkdir()
    marker = build.new_marker()
    listeners = build.Listeners(Path(f"/tmp/{marker}.sock"))
    values = build.tokens(marker, batch, out, listeners)
    for case in cases:
        build.write_case(case, batch, values)
    config = build.write_config(root / "grading.toml")
    secret = f"s3cr3t-{marker}-{os.getpid()}"
    started = time.monotonic()
    try:
        done = build.run_grade(batch, out, config, secret,
                               wrap=container.command if in_container else None)
        heard = listeners.heard()
    finally:
        listeners.close()
    return Run(root, batch, out, marker, secret, time.monotonic() - started, done.returncode,
               done.stderr, heard)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The whole batch, graded on this machine with every layer."""
    return _grade_batch(tmp_path_factory.mktemp("redteam"), CASES)


#: The cases graded again in the simulated container: every escape that a layer missing
#: there (namespaces, tmpfs, cgroups) could let through, and the memory and process bounds.
IN_CONTAINER = [c for c in CASES if c.name in {
    "honest", "fork_bomb", "setsid_daemon", "spinning_threads", "memory_bomb", "results_everywhere",
    "import_torch", "read_classmate", "read_solutions", "socket_loopback", "env_secret", "inherited_fds",
    "big_file", "sysv_shm", "memfd", "forks_of_900mb", "many_files", "fork_and_carry_on", "inotify_out",
    "exec_program"}]


@pytest.fixture(scope="module")
def container_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Those cases graded as root with Docker's default privileges (tests/support/container.py)."""
    if reason := container.available():
        pytest.skip(reason)
    return _grade_batch(tmp_path_factory.mktemp("redteam-container"), IN_CONTAINER, in_container=True)


@pytest.fixture(params=["machine", "container"])
def either(request: pytest.FixtureRequest) -> tuple[Run, list[Hostile]]:
    """Each run of the red team, with the cases it graded."""
    if request.param == "machine":
        return request.getfixturevalue("run"), CASES
    return request.getfixturevalue("container_run"), IN_CONTAINER


def test_the_whole_batch_is_graded_in_one_quick_run(run: Run) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    assert {p.name for p in run.out.iterdir() if p.is_dir()} == {c.name for c in CASES}
    assert all(run.full(c.name)["status"] == "graded" for c in CASES)
    assert run.seconds < 90, f"the red-team batch took {run.seconds:.0f} s"


def _lost(result: dict) -> dict[str, list[dict]]:
    lost: dict[str, list[dict]] = {}
    for case in result["cases"]:
        if not case["passed"]:
            lost.setdefault(case["function"], []).append(case)
    return lost


def _assert_verdict(result: dict, case: Hostile, tmpfs: bool) -> None:
    """Exactly the expected functions lose points, each case for the expected reason."""
    lost, expected = _lost(result), case.verdict(tmpfs)
    assert set(lost) == set(expected), {f: [c["message"][:120] for c in cs] for f, cs in lost.items()}
    for function, (kind, pattern) in expected.items():
        for failed in lost[function]:
            kinds = kind if isinstance(kind, tuple) else (kind,)
            assert failed["kind"] in kinds and re.search(pattern, failed["message"]), (function, failed)
    for note in case.notes:
        assert note in result["notes"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_verdict(run: Run, case: Hostile) -> None:
    _assert_verdict(run.full(case.name), case, tmpfs=True)


@pytest.mark.parametrize("case", IN_CONTAINER, ids=lambda c: c.name)
def test_verdict_in_a_container_without_privileges(container_run: Run, case: Hostile) -> None:
    """The same verdicts, except where a missing layer changes how a case fails (`lost_without_tmpfs`)."""
    assert container_run.returncode == 0, container_run.stderr[-3000:]
    _assert_verdict(container_run.full(case.name), case, tmpfs=False)


def test_the_honest_submission_in_a_container_keeps_full_marks_and_says_what_is_missing(
        container_run: Run) -> None:
    result = container_run.full("honest")
    assert result["cases"] and all(c["passed"] for c in result["cases"])
    missing = {entry.split(":")[0] for entry in result["isolation"] if entry.startswith("missing ")}
    assert missing == {"missing namespaces", "missing tmpfs", "missing cgroup"}, result["isolation"]
    layers = " ".join(result["isolation"])
    for layer in ("rlimits", "landlock ABI", "seccomp"):
        assert layer in layers


def test_the_honest_submission_keeps_full_marks_and_every_layer(run: Run) -> None:
    result = run.full("honest")
    assert result["cases"] and all(c["passed"] for c in result["cases"])
    assert run.gradescope("honest")["score"] == pytest.approx(sum(c["max_score"] for c in result["cases"]))
    layers = " ".join(result["isolation"])
    for layer in ("pid+net+ipc+uts+mount namespaces", "rlimits", "landlock ABI", "seccomp"):
        assert layer in layers
    uid = re.search(r"\buid (\d+)", layers)
    assert uid and int(uid.group(1)) >= 200_000  # an unprivileged uid of the sandbox's own range


def test_no_student_process_is_left(either: tuple[Run, list[Hostile]]) -> None:
    run, _ = either
    assert build.processes_with(run.marker) == []


def test_no_file_is_written_outside_scratch(either: tuple[Run, list[Hostile]]) -> None:
    run, _ = either
    roots = [Path("/tmp"), Path("/root"), Path("/dev/shm"), Path("/var/tmp"), build.REPO,
             build.REPO / "autograder", run.root, run.batch]
    planted = [str(p) for r in roots if r.is_dir() for p in r.iterdir() if run.marker in p.name]
    assert planted == [f"/tmp/{run.marker}.sock"] or planted == []  # the test's own listener
    assert build.files_with(run.marker, [run.out]) == []
    for path in ("/autograder", "/tmp/results.json", run.out / "results.json", run.root / "results.json",
                 build.REPO / "results.json"):
        assert not Path(path).exists(), path
    for folder in (p for p in run.out.iterdir() if p.is_dir()):
        assert {f.name for f in folder.iterdir()} == OUT_FILES, folder


def test_no_connection_is_made(either: tuple[Run, list[Hostile]]) -> None:
    run, _ = either
    assert run.heard == []


def test_no_escape_attempt_succeeded(either: tuple[Run, list[Hostile]]) -> None:
    run, cases = either
    for case in cases:
        output = run.full(case.name)["output"] + run.full(case.name)["private_output"]
        assert "ESCAPED" not in output and "LEAKED" not in output, (case.name, output[:2000])
    assert "DENIED tcp: PermissionError" in run.full("socket_loopback")["output"]
    assert "DENIED unix: PermissionError" in run.full("socket_loopback")["output"]
    # re-runs with the grader's answers happened, and the grader refused what it had to
    if any(case.name == "helper_abuse" for case in cases):
        assert "DENIED huge helper input: ValueError" in run.full("helper_abuse")["private_output"]


def test_the_graders_secrets_never_reach_student_code(either: tuple[Run, list[Hostile]]) -> None:
    run, _ = either
    for path in run.out.rglob("*"):
        if path.is_file():
            assert run.secret not in path.read_text(errors="replace"), path
    message = _lost(run.full("env_secret"))["xor.train"][0]["message"]
    seen = {item.split("=", 1)[0] for item in message.split(": ", 2)[-1].split()}
    assert seen <= SCRUBBED_ENV


def test_printed_results_do_not_count(run: Run) -> None:
    result, gradescope = run.full("fake_results"), run.gradescope("fake_results")
    assert "score: 100" in result["output"]
    assert gradescope["score"] == pytest.approx(sum(c["score"] for c in result["cases"]))
    assert gradescope["score"] < sum(c["max_score"] for c in result["cases"])


def test_output_is_capped(run: Run) -> None:
    output = run.full("big_output")["output"]
    assert len(output) <= OUTPUT_CAP + 100 and output.endswith("more bytes of output were dropped]")
    assert max(p.stat().st_size for p in run.out.rglob("*") if p.is_file()) < 4 << 20


def test_printing_costs_nothing(run: Run) -> None:
    """A correct submission that prints a lot keeps full marks; what was dropped is said once."""
    result = run.full("chatty_correct")
    assert all(c["passed"] for c in result["cases"])
    assert result["output"].count("more bytes of output were dropped") == 1


STUDENT_FILES = ("feedback.html", "feedback.md", "summary.txt", "results.json")


@pytest.mark.parametrize(("name", "tag"), [("print_hidden_inputs", "INPUT"),
                                          ("raise_hidden_inputs", "RAISED")])
def test_hidden_inputs_never_reach_the_student(run: Run, name: str, tag: str) -> None:
    """What student code prints or raises while running hidden cases is the instructor's only: no
    input that only a hidden case gave appears in a file the student sees."""
    token = f"{run.marker}-{tag} "
    full = run.full(name)
    public = full["output"] + json.dumps([c for c in full["cases"] if not c["hidden"]])
    private = full["private_output"] + json.dumps([c for c in full["cases"] if c["hidden"]])
    secrets = set(_payloads(private, token)) - set(_payloads(public, token))
    assert len(secrets) > 2  # the instructor does see every hidden one
    for file in STUDENT_FILES:
        text = html.unescape((run.out / name / file).read_text())
        assert not [s for s in secrets if s in text], file


def _payloads(text: str, token: str) -> list[str]:
    """The printed or raised input after each `token`: up to the end of its nested list."""
    return [re.match(r"\[[-0-9.e, \[\]]*\]", text[i + len(token):]).group() for i in _find_all(text, token)
            if re.match(r"\[", text[i + len(token):])]


def _find_all(text: str, token: str) -> list[int]:
    found, start = [], text.find(token)
    while start >= 0:
        found.append(start)
        start = text.find(token, start + 1)
    return found


# --- the CPU budget of a submission holds across respawned children ----------------------------

HOGS = ("relu", "relu_prime", "sigmoid", "sigmoid_prime", "softmax", "softmax_prime")
SPIN = "\n\ndef hog(z):\n    while True:\n        pass\n"
THREADED_SPIN = """

def hog(z):
    import threading
    import time

    def spin():
        while True:
            pass

    for _ in range(2):
        threading.Thread(target=spin, daemon=True).start()
    time.sleep(600)
"""


def _hogging(code: str) -> str:
    """`code` defining hog(z), then every activation bound to it: a function that timed out
    is not called again, so each respawn needs another hogging function."""
    return code + "".join(f"\n{name} = hog" for name in HOGS) + "\n"


def _until_out_of_cpu(process, timeout: float) -> StudentError | None:
    """Call the hogs until the sandbox refuses for lack of CPU seconds; that error, or None."""
    for name in HOGS:
        try:
            process.call(f"activations.{name}", (np.zeros(3),), timeout)
        except StudentError as exc:
            if "CPU seconds" in exc.message:
                return exc
    return None


@pytest.mark.parametrize(("code", "cpu_seconds", "timeout"), [
    pytest.param(SPIN, 2, 30.0, id="child-killed-by-RLIMIT_CPU"),
    pytest.param(THREADED_SPIN, 1, 1.5, id="threads-burn-while-the-main-thread-sleeps"),
])
def test_cpu_budget_holds_across_respawns(code: str, cpu_seconds: int, timeout: float) -> None:
    """Once the children of a submission used its CPU seconds, no new child is started.

    RLIMIT_CPU binds each process (all its threads); the budget of the whole submission is
    kept by charging every stopped child before the next starts.
    """
    sources = {m: (SOLUTIONS / f"{m}.py").read_text() for m in MODULES}
    sources["activations"] += _hogging(code)
    with Sandbox(Policy(limits=Limits(cpu_seconds=cpu_seconds), require=True)) as sandbox:
        process = sandbox.open(sources)
        try:
            refused = _until_out_of_cpu(process, timeout)
            assert refused is not None and refused.kind == "timeout", process.cpu_used
            assert process.cpu_used >= cpu_seconds - 0.5
            with pytest.raises(StudentError, match="CPU seconds"):
                process.call("losses.mse", (np.zeros(3), np.zeros(3)), timeout)
        finally:
            process.close()


# --- the two-submission lookup cheat: hidden inputs are drawn afresh in every run --------------

LEAK = '''

def softmax_prime(z):
    import json
    print("LEAK", json.dumps([z.dtype.str, z.shape, z.tobytes().hex()]), flush=True)
    return _honest_softmax_prime(z)
'''

LOOKUP = '''

_TABLE = {table!r}


def softmax_prime(z):
    """No Jacobian here: only the answers to the inputs seen in an earlier run."""
    answer = _TABLE.get(f"{{z.dtype.str}}{{z.shape}}{{z.tobytes().hex()}}")  # keyed by shape too
    if answer is None:
        return np.zeros((z.shape[0], z.shape[-1], z.shape[-1]), dtype=z.dtype)
    return np.frombuffer(bytes.fromhex(answer[1]), dtype=answer[0]).reshape(answer[2])
'''


def _with(activations_tail: str, folder: Path) -> Path:
    from conftest import reference_copy

    reference_copy(folder)
    path = folder / "activations.py"
    path.write_text(path.read_text() + activations_tail.replace("_honest_softmax_prime", "_jacobian")
                    .replace("def softmax_prime", "_jacobian = softmax_prime\n\n\ndef softmax_prime", 1))
    return folder


def _lookup_table(leaked: str) -> dict[str, tuple[str, str, tuple]]:
    """What a student could compute offline (with torch) from the inputs a submission printed."""
    from course.activations import oracle

    table = {}
    for line in leaked.splitlines():
        if line.startswith("LEAK "):
            dtype, shape, data = json.loads(line[5:])
            z = np.frombuffer(bytes.fromhex(data), dtype=dtype).reshape(shape)
            answer = oracle.softmax_prime(z).astype(z.dtype)  # course.activations.oracle
            table[f"{z.dtype.str}{z.shape}{data}"] = (answer.dtype.str, answer.tobytes().hex(), answer.shape)
    return table


def test_a_lookup_table_of_one_runs_hidden_inputs_is_useless_in_the_next(tmp_path):
    from autograder.cli import main

    def softmax_prime_score(out: Path, sid: str) -> tuple[float, float]:
        cases = json.loads((out / sid / "result.full.json").read_text())["cases"]
        mine = [c for c in cases if c["function"] == "activations.softmax_prime"]
        return sum(c["score"] for c in mine), sum(c["max_score"] for c in mine)

    first, again, same = (tmp_path / name for name in ("first", "again", "same"))
    _with(LEAK, tmp_path / "a" / "leaker")
    assert main(["grade", str(tmp_path / "a"), "--out", str(first), "--jobs", "1", "--no-plots"]) == 0
    leaked = json.loads((first / "leaker" / "result.full.json").read_text())
    table = _lookup_table(leaked["output"] + leaked["private_output"])  # the instructor's view: all
    assert len(table) > 5
    _with(LOOKUP.format(table=table), tmp_path / "b" / "cheat")
    assert main(["grade", str(tmp_path / "b"), "--out", str(again), "--jobs", "1", "--no-plots"]) == 0
    score, top = softmax_prime_score(again, "cheat")
    assert score < top / 2  # fresh inputs: the table answers the public case at most
    assert json.loads((again / "cheat" / "result.full.json").read_text())["seed"] != leaked["seed"]
    # the same inputs again (`--seed` repeats a run): the table would have worked
    assert main(["grade", str(tmp_path / "b"), "--out", str(same), "--jobs", "1", "--no-plots",
                 "--seed", str(leaked["seed"])]) == 0
    assert softmax_prime_score(same, "cheat") == (top, top)
